/**
 * Tempest against the local stack: the pre-provisioned accounts for the local Keystone and for
 * tempest, a workspace with the rendered tempest.conf, `tempest run` of the image API tests, and
 * the results read back from the workspace's stestr repository.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Accounts, DEFAULT_DOMAIN, defaultAccounts, newId } from '#infra/local/keystone/accounts';

export const CONFORMANCE_DIR = new URL('.', import.meta.url).pathname;
/** Debian's tempest lives here; `.stestr.conf` points stestr at its tests. */
const TEMPEST_TOP = '/usr/lib/python3/dist-packages/tempest';
export const TEMPEST_REGEX = '^tempest\\.api\\.image\\.v2';
/**
 * The locations pass (`--locations`, docs/conformance.md#the-locations-pass): tempest's ImageLocationsTest, which needs
 * Glance's `show_multiple_locations` (here `SHOW_MULTIPLE_LOCATIONS=true`) and `manage_locations = True`.
 */
export const LOCATIONS_REGEX = '^tempest\\.api\\.image\\.v2\\.test_images\\.ImageLocationsTest';

export interface TempestUser {
  readonly name: string;
  readonly password: string;
  readonly project: string;
  readonly projectId: string;
  readonly roles: readonly string[];
}

/**
 * The local Keystone's accounts for a run: the default ones (admin, demo, the glance service
 * user) plus the users of conformance/accounts.json, each in its own project, with fresh passwords.
 */
export const conformanceAccounts = async (): Promise<{ accounts: Accounts; users: TempestUser[] }> => {
  const listed = JSON.parse(await readFile(join(CONFORMANCE_DIR, 'accounts.json'), 'utf8')) as {
    users: { name: string; roles: string[] }[];
  };
  const accounts = defaultAccounts();
  const users = listed.users.map((user): TempestUser => {
    const projectId = newId();
    accounts.projects.push({ id: projectId, name: user.name, domain_id: DEFAULT_DOMAIN.id });
    const password = randomBytes(12).toString('base64url');
    accounts.users.push({
      id: newId(),
      name: user.name,
      domain_id: DEFAULT_DOMAIN.id,
      password,
      roles: { [user.name]: user.roles },
    });
    return { name: user.name, password, project: user.name, projectId, roles: user.roles };
  });
  return { accounts, users };
};

/** tempest's accounts.yaml (YAML written by hand: plain scalars only, each quoted). */
const accountsYaml = (users: readonly TempestUser[]) =>
  users
    .map(
      (user) =>
        `- username: '${user.name}'\n  project_name: '${user.project}'\n  password: '${user.password}'\n` +
        `  domain_name: Default\n  roles: [${user.roles.map((role) => `'${role}'`).join(', ')}]\n`,
    )
    .join('');

export interface Workspace {
  readonly dir: string;
  readonly config: string;
}

/** A tempest workspace in `dir`: etc/tempest.conf, etc/accounts.yaml, .stestr.conf. */
export const createWorkspace = async (
  dir: string,
  settings: {
    keystoneUrl: string;
    httpImage: string;
    users: readonly TempestUser[];
    /** `[image-feature-enabled] manage_locations`: on only for the locations pass. */
    manageLocations?: boolean;
  },
): Promise<Workspace> => {
  await mkdir(join(dir, 'etc'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  await mkdir(join(dir, 'lock'), { recursive: true });
  const accountsFile = join(dir, 'etc', 'accounts.yaml');
  await writeFile(accountsFile, accountsYaml(settings.users));
  const values: Record<string, string> = {
    LOG_DIR: join(dir, 'logs'),
    ACCOUNTS_FILE: accountsFile,
    KEYSTONE_URL: settings.keystoneUrl,
    HTTP_IMAGE: settings.httpImage,
    LOCK_DIR: join(dir, 'lock'),
    MANAGE_LOCATIONS: settings.manageLocations ? 'True' : 'False',
  };
  const template = await readFile(join(CONFORMANCE_DIR, 'tempest.conf.template'), 'utf8');
  const config = template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`tempest.conf.template: no value for {{${key}}}`);
    return value;
  });
  const configFile = join(dir, 'etc', 'tempest.conf');
  await writeFile(configFile, config);
  await writeFile(
    join(dir, '.stestr.conf'),
    // One worker per test class, as tempest's own config: class-level resources stay together.
    `[DEFAULT]\ntest_path=${TEMPEST_TOP}/test_discover\ntop_dir=${TEMPEST_TOP}\ngroup_regex=([^\\.]*\\.)*\n`,
  );
  return { dir, config: configFile };
};

/** Runs a command, streaming its output through `onLine`; resolves with the exit code. */
export const run = (
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // No stdin unless some is given: a child that exits at once would make writing to it fail.
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stdout += text;
      if (!options.onLine) return;
      pending += text;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) options.onLine(line);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (pending && options.onLine) options.onLine(pending);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    if (options.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin);
    }
  });

/** `tempest run` of the tests matching `regex`, concurrency 2; the per-test lines go to `onLine`. */
export const runTempest = (workspace: Workspace, regex: string, onLine: (line: string) => void) =>
  run('tempest', ['run', '--config-file', workspace.config, '--regex', regex, '--concurrency', '2'], {
    cwd: workspace.dir,
    onLine,
  });

/** The last run's results as `subunit2csv` reads them from the workspace's stestr repository. */
export const lastResultsCsv = async (workspace: Workspace): Promise<string> => {
  const subunit = await run('bash', ['-c', 'stestr last --subunit | subunit2csv'], {
    cwd: workspace.dir,
  });
  // `stestr last` exits 1 when the run had failures; the CSV is what counts.
  if (!subunit.stdout.startsWith('test,status'))
    throw new Error(`reading tempest's results failed: ${subunit.stderr}`);
  return subunit.stdout;
};
