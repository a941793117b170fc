/** One printed benchmark row; ratios carry their target so the table says pass or miss. */
export interface BenchRow {
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** e.g. `>= 0.5`, `<= 1.3` */
  readonly target?: string;
}

const meets = (value: number, target: string | undefined): string => {
  if (!target) return '';
  const match = /^(>=|<=)\s*([\d.]+)$/.exec(target.trim());
  if (!match) return '?';
  const bound = Number(match[2]);
  return (match[1] === '>=' ? value >= bound : value <= bound) ? 'pass' : 'MISS';
};

export const printTable = (title: string, rows: readonly BenchRow[]): void => {
  const lines = rows.map((row) => [
    row.metric,
    row.value >= 100 ? row.value.toFixed(0) : row.value.toFixed(3),
    row.unit,
    row.target ?? '',
    meets(row.value, row.target),
  ]);
  const header = ['metric', 'value', 'unit', 'target', ''];
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...lines.map((line) => (line[column] ?? '').length)),
  );
  const format = (cells: string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  console.log(`\n${title}`);
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const line of lines) console.log(format(line));
};
