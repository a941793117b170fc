/**
 * `npx serverless-glance metadefs load|export`: the metadata definitions catalog in and out of the
 * table, in Glance's file format (shared/metadefs/loader.ts). Exit codes: 0 done, 1 failed
 * (files refused, table unreachable), 2 usage.
 */
import { parseArgs } from 'node:util';
import { CatalogFileError, exportCatalog, loadCatalog, readCatalog } from '#shared/metadefs/loader';
import { MetadefRepository } from '#shared/metadefs/repository';
import { type CliOutput, STD_OUTPUT, TABLE_OPTIONS, TABLE_OPTIONS_HELP, tableFrom } from './table-cli.ts';

export const METADEFS_USAGE = `Usage: serverless-glance metadefs load <dir or file> [--overwrite] [table options]
       serverless-glance metadefs export <dir> [table options]

load    Reads namespace files in Glance's format (etc/metadefs/*.json: one namespace per
        file, with its properties, objects, tags and resource type associations) into the
        table. Every file is checked first; if one is invalid, nothing is written. A namespace
        that already exists is kept, or replaced with --overwrite when the file differs.
        Running it again changes nothing.
export  Writes one file per namespace into <dir>, in the same format.

${TABLE_OPTIONS_HELP}`;

export const runMetadefsCli = async (
  args: readonly string[],
  io: CliOutput = STD_OUTPUT,
): Promise<number> => {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${METADEFS_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(METADEFS_USAGE);
    return 0;
  }
  const [command, path, ...extra] = positionals;
  if ((command !== 'load' && command !== 'export') || !path || extra.length) {
    io.err(METADEFS_USAGE);
    return 2;
  }
  const table = tableFrom(values, io);
  if (!table) return 2;
  const repository = new MetadefRepository(table.doc, table.tableName);
  try {
    if (command === 'export') {
      const files = await exportCatalog(repository, path);
      io.out(`exported ${files.length} namespace(s) to ${path}\n`);
      return 0;
    }
    const report = await loadCatalog(repository, await readCatalog(path), { overwrite: values.overwrite });
    const line = (label: string, names: readonly string[]) =>
      names.length ? `${label} ${names.join(', ')}\n` : '';
    io.out(
      `${line('created ', report.created)}${line('replaced', report.replaced)}${line('kept    ', report.kept)}` +
        `${report.created.length + report.replaced.length + report.kept.length} namespace(s) in ${path}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof CatalogFileError) {
      io.err(`Nothing was loaded; fix these files first:\n${error.message}\n`);
      return 1;
    }
    io.err(`metadefs ${command} failed: ${(error as Error).message}\n`);
    return 1;
  }
};

const parse = (args: readonly string[]) =>
  parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      overwrite: { type: 'boolean', default: false },
      ...TABLE_OPTIONS,
    },
  });
