/**
 * The resume state of an upload: the plan and the ETags of finished parts, kept next to the source
 * file (or in the temp dir when that directory is not writable), written atomically.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { UploadKind, UploadOptions } from './options.ts';

/** What survives an interruption. */
export interface State {
  readonly version: 1;
  readonly api: string;
  readonly imageId: string;
  readonly kind: UploadKind;
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly uploadId: string;
  readonly method: 'PUT' | 'multipart';
  readonly partSize?: number;
  readonly partCount?: number;
  /** part number → ETag */
  readonly etags: Record<string, string>;
}

export const stateFileFor = (options: UploadOptions): string => {
  const dir = options.stateDir ?? dirname(options.file);
  return join(dir, `.${basename(options.file)}.${options.imageId}.glance-upload.json`);
};

export const saveState = async (path: string, state: State): Promise<string> => {
  const write = async (target: string) => {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(`${target}.${process.pid}.tmp`, JSON.stringify(state, null, 2));
    await rename(`${target}.${process.pid}.tmp`, target);
    return target;
  };
  try {
    return await write(path);
  } catch {
    // The source file's directory is read-only: keep the state in the temp dir instead.
    return write(join(tmpdir(), 'serverless-glance', basename(path)));
  }
};

export const loadState = async (path: string): Promise<{ state: State; path: string } | undefined> => {
  for (const candidate of [path, join(tmpdir(), 'serverless-glance', basename(path))]) {
    try {
      return { state: JSON.parse(await readFile(candidate, 'utf8')) as State, path: candidate };
    } catch {
      // absent or unreadable: try the next place
    }
  }
  return undefined;
};
