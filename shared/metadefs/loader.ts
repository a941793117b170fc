/**
 * Loading catalog files into the table and exporting it back (`npx serverless-glance metadefs
 * load|export`, and the starter catalog on the local stack's first start), straight to the table
 * as Glance's `glance-manage db_load_metadefs` goes straight to its database
 * (docs/metadefs.md#loading-and-exporting-catalog-files). Every file is checked before anything is
 * written, and loading again changes nothing.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { isGlanceError } from '#shared/errors';
import { fileNameFor, namespaceFromFile, namespaceToFile } from './files.ts';
import type { NamespaceRecord } from './model.ts';
import type { MetadefRepository } from './repository.ts';

/** Our own small starter catalog (hypervisor, operating system, architecture and firmware). */
export const STARTER_CATALOG = fileURLToPath(new URL('./starter/', import.meta.url));

/** Files that cannot be loaded, each with its reason; nothing was written. */
export class CatalogFileError extends Error {
  constructor(readonly problems: readonly { file: string; reason: string }[]) {
    super(problems.map(({ file, reason }) => `${file}: ${reason}`).join('\n'));
    this.name = 'CatalogFileError';
  }
}

export interface CatalogFile {
  readonly file: string;
  readonly record: NamespaceRecord;
}

/** `*.json` of a directory (by name), or one file. */
const jsonFiles = async (source: string): Promise<string[]> => {
  if (!(await stat(source)).isDirectory()) return [source];
  const names = (await readdir(source)).filter((name) => name.endsWith('.json')).sort();
  return names.map((name) => join(source, name));
};

/** Reads and checks every file; `CatalogFileError` lists all problems at once. */
export const readCatalog = async (source: string, now = new Date()): Promise<CatalogFile[]> => {
  const files: CatalogFile[] = [];
  const problems: { file: string; reason: string }[] = [];
  for (const file of await jsonFiles(source)) {
    try {
      files.push({ file, record: namespaceFromFile(JSON.parse(await readFile(file, 'utf8')), now) });
    } catch (error) {
      if (!(error instanceof SyntaxError) && !isGlanceError(error)) throw error;
      problems.push({ file, reason: error.message });
    }
  }
  const seen = new Map<string, string>();
  for (const { file, record } of files) {
    const first = seen.get(record.namespace);
    if (first) problems.push({ file, reason: `namespace ${record.namespace} is also defined in ${first}` });
    seen.set(record.namespace, file);
  }
  if (problems.length) throw new CatalogFileError(problems);
  return files;
};

export interface LoadReport {
  readonly created: string[];
  readonly replaced: string[];
  /** Already there: kept as they are (without `overwrite`), or identical to the file. */
  readonly kept: string[];
}

/** Whether a stored namespace already says what a file says. */
const sameAsFile = (stored: NamespaceRecord, file: NamespaceRecord): boolean =>
  isDeepStrictEqual(namespaceToFile(stored), namespaceToFile(file));

export const loadCatalog = async (
  repository: MetadefRepository,
  files: readonly CatalogFile[],
  options: { overwrite?: boolean; now?: Date } = {},
): Promise<LoadReport> => {
  const report: LoadReport = { created: [], replaced: [], kept: [] };
  for (const { record } of files) {
    const stored = await repository.getNamespace(record.namespace);
    if (!stored) {
      await repository.createNamespace(record);
      report.created.push(record.namespace);
    } else if (options.overwrite && !sameAsFile(stored, record)) {
      await repository.saveNamespace(stored, { ...record, id: stored.id, created_at: stored.created_at });
      report.replaced.push(record.namespace);
    } else {
      report.kept.push(record.namespace);
    }
  }
  // Types named in catalog files are Glance's "seeded" ones: protected.
  const types = files.flatMap(({ record }) =>
    record.resource_type_associations.map((association) => association.name),
  );
  await repository.ensureResourceTypes(types, { protected: true, now: options.now ?? new Date() });
  return report;
};

/** Writes one file per namespace into `directory` (created if needed); returns the file paths. */
export const exportCatalog = async (repository: MetadefRepository, directory: string): Promise<string[]> => {
  await mkdir(directory, { recursive: true });
  const taken = new Set<string>();
  const written: string[] = [];
  for (const record of await repository.listNamespaces()) {
    const name = fileNameFor(record.namespace, taken);
    taken.add(name.toLowerCase());
    const path = join(directory, name);
    await writeFile(path, `${JSON.stringify(namespaceToFile(record), null, 2)}\n`);
    written.push(path);
  }
  return written;
};

/**
 * Loads the starter catalog into a table that never had it, and remembers that it did, so a
 * developer who deletes the starter namespaces does not get them back on the next start.
 */
export const seedStarterCatalog = async (repository: MetadefRepository): Promise<LoadReport | undefined> => {
  if (await repository.isCatalogSeeded()) return undefined;
  const report = await loadCatalog(repository, await readCatalog(STARTER_CATALOG));
  await repository.markCatalogSeeded(new Date());
  return report;
};
