/**
 * `npm run --silent token -- --project <id> --roles <r1,r2> [--user <id>] [--expires 12h]`
 * prints a token the local API accepts, signed with the key in the data directory
 * (`GLANCE_DATA_DIR`, else `.data/`). Only the token goes to stdout, so
 * `TOKEN=$(npm run --silent token -- ...)` works.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultDataDir, loadOrCreateKeys, signToken } from './keys.ts';

const USAGE = `usage: npm run --silent token -- --project <id> --roles <r1,r2> [--user <id>] [--expires 12h]

  --project   project id (the token's project_id claim)
  --roles     comma-separated roles, e.g. member or admin,member (may be empty: --roles '')
  --user      user id (sub); default local-user
  --expires   lifetime: 30m, 12h, 7d ...; default 12h

Keys are read from (or created in) $GLANCE_DATA_DIR, else .data/ at the repository root.
`;

/** Parses the arguments, prints the token and returns the exit code (2 for bad arguments). */
export const main = async (args: string[]): Promise<number> => {
  let values: { project?: string; roles?: string; user?: string; expires?: string };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        project: { type: 'string' },
        roles: { type: 'string' },
        user: { type: 'string' },
        expires: { type: 'string' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { project, roles, user, expires } = values;
  if (
    !project ||
    roles === undefined ||
    user === '' ||
    (expires !== undefined && !/^\d+[smhdw]$/.test(expires))
  ) {
    process.stderr.write(USAGE);
    return 2;
  }
  const keys = await loadOrCreateKeys(defaultDataDir());
  const token = await signToken(keys, {
    project,
    roles: roles
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean),
    user,
    expiresIn: expires,
  });
  process.stdout.write(`${token}\n`);
  return 0;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = await main(process.argv.slice(2));
