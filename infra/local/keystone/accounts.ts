/**
 * The local Keystone's users and projects: `<data dir>/keystone-accounts.json`, created on first
 * start with an `admin`, a `demo` and a `glance` service user under random passwords
 * (docs/identity.md#the-accounts-file documents the format). Edit it and restart to add users,
 * projects or roles.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

export const ACCOUNTS_FILE = 'keystone-accounts.json';
export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

const Domain = z.object({ id: z.string().min(1), name: z.string().min(1) });
const Project = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  domain_id: z.string().min(1).default(DEFAULT_DOMAIN.id),
});
const User = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  domain_id: z.string().min(1).default(DEFAULT_DOMAIN.id),
  password: z.string().min(1),
  /** Role names by project name, e.g. `{"demo": ["member", "reader"]}`. */
  roles: z.record(z.string(), z.array(z.string().min(1))).default({}),
});

export const Accounts = z
  .object({
    /** The catalog's region. */
    region: z.string().min(1).default('RegionOne'),
    /** Lifetime of issued tokens (Keystone's `[token] expiration`). */
    token_lifetime_seconds: z.number().int().positive().default(3600),
    domains: z.array(Domain).default([DEFAULT_DOMAIN]),
    projects: z.array(Project),
    users: z.array(User),
    /** The user (and project) the API's authorizer validates tokens as; it needs the `service` or `admin` role there. */
    service_user: z.object({ name: z.string().min(1), project: z.string().min(1) }),
  })
  .superRefine((accounts, ctx) => {
    const projects = new Set(accounts.projects.map((project) => project.name));
    for (const user of accounts.users) {
      for (const project of Object.keys(user.roles)) {
        if (!projects.has(project))
          ctx.addIssue({ code: 'custom', message: `user ${user.name}: no project ${project}` });
      }
    }
    const service = accounts.users.find((user) => user.name === accounts.service_user.name);
    if (!service?.roles[accounts.service_user.project]?.length) {
      ctx.addIssue({ code: 'custom', message: 'service_user must name a user with a role on its project' });
    }
  });
export type Accounts = z.infer<typeof Accounts>;
export type AccountProject = Accounts['projects'][number];
export type AccountUser = Accounts['users'][number];

/** Keystone-style ids: 32 hex digits. */
export const newId = (): string => randomBytes(16).toString('hex');
const newPassword = (): string => randomBytes(12).toString('base64url');

/** What a first start writes. */
export const defaultAccounts = (): Accounts => ({
  region: 'RegionOne',
  token_lifetime_seconds: 3600,
  domains: [DEFAULT_DOMAIN],
  projects: ['admin', 'demo', 'service'].map((name) => ({ id: newId(), name, domain_id: DEFAULT_DOMAIN.id })),
  users: (
    [
      { name: 'admin', roles: { admin: ['admin', 'member', 'reader'] } },
      { name: 'demo', roles: { demo: ['member', 'reader'] } },
      { name: 'glance', roles: { service: ['service'] } },
    ] as { name: string; roles: Record<string, string[]> }[]
  ).map((user) => ({ id: newId(), domain_id: DEFAULT_DOMAIN.id, password: newPassword(), ...user })),
  service_user: { name: 'glance', project: 'service' },
});

/** Parses an accounts document; a bad one fails with every problem and the file named. */
export const parseAccounts = (value: unknown, source: string): Accounts => {
  const parsed = Accounts.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`,
    );
    throw new Error(`${source} is not a valid accounts file:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
};

/** Reads `<dataDir>/keystone-accounts.json`, creating it on first use (mode 0600: it holds passwords). */
export const loadOrCreateAccounts = async (
  dataDir: string,
): Promise<{ accounts: Accounts; file: string }> => {
  const file = join(dataDir, ACCOUNTS_FILE);
  try {
    return { accounts: parseAccounts(JSON.parse(await readFile(file, 'utf8')), file), file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(file), { recursive: true });
  const accounts = defaultAccounts();
  try {
    await writeFile(file, `${JSON.stringify(accounts, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    return { accounts, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { accounts: parseAccounts(JSON.parse(await readFile(file, 'utf8')), file), file };
  }
};
