/**
 * The `glance` CLI (Debian's python3-glanceclient) against a local stack: the tests that prove an
 * existing Glance client works unchanged. Suites skip themselves, with the reason, where it is not
 * installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

export const GLANCE = '/usr/bin/glance';
export const glanceAvailable = existsSync(GLANCE);

const run = promisify(execFile);

/**
 * Runs the CLI against `url` with `token`, stdin closed (`<&-`), so it never mistakes an empty
 * stdin for image data; resolves to its stdout, rejects with its exit code and stderr.
 */
export const runGlance = async (url: string, token: string, args: readonly string[]): Promise<string> => {
  const quoted = args.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  const { stdout } = await run(
    'bash',
    ['-c', `${GLANCE} --os-image-url ${url} --os-auth-token "$TOKEN" ${quoted} <&-`],
    { env: { ...process.env, TOKEN: token, HOME: process.env.HOME ?? '/tmp' }, timeout: 30_000 },
  );
  return stdout;
};

/** The `| key | value |` rows of the CLI's table output. */
export const cliTable = (output: string): Record<string, string> =>
  Object.fromEntries(
    output
      .split('\n')
      .map((line) => /^\|\s*(\S+)\s*\|\s*(.*?)\s*\|$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1] ?? '', match[2] ?? '']),
  );
