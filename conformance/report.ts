/**
 * Reading tempest's results and comparing them with the list of tests Glance 25.1 passes
 * (glance-25.1-passing.txt) and the exclusions (excluded.txt). Pure: the conformance run
 * (run.ts) does the I/O. docs/conformance.md#the-files explains the files.
 */

export type Outcome = 'pass' | 'fail' | 'skip';
/** What happened here to a test Glance passes. */
export type Here = Outcome | 'not run';
export type Verdict = 'ok' | 'excluded' | 'regression';

export interface Exclusion {
  /** A test id, or a prefix ending in `.` (a module or class) or `*`. */
  readonly prefix: string;
  readonly issue: number;
  readonly reason: string;
}

export interface Row {
  readonly id: string;
  readonly here: Here;
  readonly verdict: Verdict;
  readonly exclusion?: Exclusion;
}

export interface Comparison {
  readonly rows: readonly Row[];
  /** Tests passing here that Glance does not pass (skipped there, or not in its list). */
  readonly extraPasses: readonly string[];
  /** Excluded tests that pass now: their exclusion can go. */
  readonly stale: readonly Row[];
}

/** Tempest ids carry attributes (`test_x[id-...,smoke]`); the lists compare without them. */
export const normalizeId = (id: string): string => id.replace(/\[[^\]]*\]$/, '').trim();

/** Non-empty lines without `#` comments. */
const lines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);

export const parseTestList = (text: string): string[] => lines(text).map(normalizeId);

/** `subunit2csv` output (`test,status,start_time,stop_time`) to one outcome per test id. */
export const parseSubunitCsv = (csv: string): Map<string, Outcome> => {
  const results = new Map<string, Outcome>();
  for (const line of csv.split('\n').slice(1)) {
    if (line.trim() === '') continue;
    const fields = splitCsvLine(line);
    const id = fields[0];
    const status = fields[1];
    if (!id || !status) continue;
    results.set(normalizeId(id), status === 'success' ? 'pass' : status === 'skip' ? 'skip' : 'fail');
  }
  return results;
};

const splitCsvLine = (line: string): string[] => {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
};

/**
 * `excluded.txt`: `<test id, or prefix ending in . or *>  # issue <n>: <why>`. An entry that names no issue is an
 * error: every exclusion must point at the open issue that will remove it.
 */
export const parseExclusions = (text: string): Exclusion[] =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\S+)\s+#\s*issue\s+(\d+)\s*:?\s*(.*)$/.exec(line);
      if (!match)
        throw new Error(`excluded.txt: "${line}" must read "<test id or prefix>  # issue <n>: <why>"`);
      return { prefix: match[1] ?? '', issue: Number(match[2]), reason: match[3] ?? '' };
    });

const matches = (id: string, { prefix }: Exclusion) => {
  if (prefix.endsWith('*')) return id.startsWith(prefix.slice(0, -1));
  return prefix.endsWith('.') ? id.startsWith(prefix) : id === prefix;
};

/** The class a test belongs to: `setUpClass (<class>)` results stand for all its tests. */
const classOf = (id: string) => id.slice(0, id.lastIndexOf('.'));

/** What happened here to one test, taking class-level set-up results into account. */
export const outcomeHere = (id: string, results: ReadonlyMap<string, Outcome>): Here => {
  const own = results.get(id);
  if (own) return own;
  const setUp = results.get(`setUpClass (${classOf(id)})`);
  if (setUp === 'skip') return 'skip';
  if (setUp === 'fail') return 'fail';
  return 'not run';
};

export const compare = (
  expected: readonly string[],
  results: ReadonlyMap<string, Outcome>,
  exclusions: readonly Exclusion[],
): Comparison => {
  const rows = expected.map((id): Row => {
    const here = outcomeHere(id, results);
    const exclusion = exclusions.find((candidate) => matches(id, candidate));
    const verdict: Verdict = here === 'pass' ? 'ok' : exclusion ? 'excluded' : 'regression';
    return { id, here, verdict, exclusion };
  });
  const wanted = new Set(expected);
  const extraPasses = [...results]
    .filter(([id, outcome]) => outcome === 'pass' && !wanted.has(id))
    .map(([id]) => id)
    .sort();
  const stale = rows.filter((row) => row.here === 'pass' && row.exclusion);
  return { rows, extraPasses, stale };
};
