/**
 * `npx serverless-glance quota set|unset|show`: a project's quota limits, written straight into
 * the table with the operator's AWS credentials (docs/quotas.md#setting-limits). Exit codes: 0
 * done, 1 failed (table unreachable), 2 usage (unknown quota, a value that is not a non-negative
 * integer: nothing is written).
 */
import { parseArgs } from 'node:util';
import { MissingConfigError, quotaVariable, readQuotaDefaults } from '#shared/config';
import { UsageLedger } from '#shared/quotas/ledger';
import {
  InvalidQuota,
  type Limits,
  parseLimit,
  parseQuotaName,
  QUOTA_NAMES,
  QUOTA_UNIT,
  UNLIMITED,
  usageInUnits,
} from '#shared/quotas/usage';
import { type CliOutput, STD_OUTPUT, TABLE_OPTIONS, TABLE_OPTIONS_HELP, tableFrom } from './table-cli.ts';

export const QUOTA_USAGE = `Usage: serverless-glance quota set <project> <quota> <limit> [table options]
       serverless-glance quota unset <project> <quota> [table options]
       serverless-glance quota show <project> [table options]

set     Sets a project's limit of one quota, overriding the deployment's (GLANCE_QUOTA_*).
        <limit> is a non-negative integer: MiB for the sizes, a number of images for the counts.
unset   Removes the project's override: the deployment's limit applies again.
show    The project's limits (its own, or the deployment's when this environment sets them)
        and usage, as GET /v2/info/usage reports them.

Quotas (Glance's unified limits):
  image_size_total        MiB of image data (active images, and uploads by their declared size)
  image_stage_total       MiB of staged data (glance-direct)
  image_count_total       images (every image that is not deleted)
  image_count_uploading   images being uploaded, staged or imported at once

${TABLE_OPTIONS_HELP}`;

const parse = (args: readonly string[]) =>
  parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...TABLE_OPTIONS,
    },
  });

/** What the command asks for, checked whole before anything is read or written. */
type Command =
  | {
      readonly kind: 'set';
      readonly project: string;
      readonly name: (typeof QUOTA_NAMES)[number];
      readonly limit: number;
    }
  | { readonly kind: 'unset'; readonly project: string; readonly name: (typeof QUOTA_NAMES)[number] }
  | { readonly kind: 'show'; readonly project: string };

const commandOf = (positionals: readonly string[]): Command | undefined => {
  const [kind, project, name, limit, ...extra] = positionals;
  if (!project || extra.length) return undefined;
  if (kind === 'set' && name !== undefined && limit !== undefined) {
    const quota = parseQuotaName(name);
    return { kind, project, name: quota, limit: parseLimit(quota, limit) };
  }
  if (kind === 'unset' && name !== undefined && limit === undefined) {
    return { kind, project, name: parseQuotaName(name) };
  }
  if (kind === 'show' && name === undefined) return { kind, project };
  return undefined;
};

const unitOf = (name: (typeof QUOTA_NAMES)[number]) => (QUOTA_UNIT[name] === 1 ? 'images' : 'MiB');

export const runQuotaCli = async (args: readonly string[], io: CliOutput = STD_OUTPUT): Promise<number> => {
  let parsed: ReturnType<typeof parse>;
  let command: Command | undefined;
  try {
    // `-1` would read as an option: say what is wrong with it instead.
    const negative = args.find((arg) => /^-\d/.test(arg));
    if (negative !== undefined) {
      throw new InvalidQuota(`A limit must be a non-negative integer; got '${negative}'.`);
    }
    parsed = parse(args);
    command = commandOf(parsed.positionals);
  } catch (error) {
    const usage = error instanceof InvalidQuota ? '' : `\n\n${QUOTA_USAGE}`;
    io.err(`${(error as Error).message}${usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(QUOTA_USAGE);
    return 0;
  }
  if (!command) {
    io.err(QUOTA_USAGE);
    return 2;
  }
  const table = tableFrom(parsed.values, io);
  if (!table) return 2;
  let defaults: Limits = UNLIMITED;
  try {
    defaults = readQuotaDefaults();
  } catch (error) {
    if (!(error instanceof MissingConfigError)) throw error;
    io.err(`${error.message}\n`);
    return 2;
  }
  const ledger = new UsageLedger(table, defaults);
  try {
    if (command.kind === 'set') {
      await ledger.setLimit(command.project, command.name, command.limit);
      io.out(`${command.project}: ${command.name} = ${command.limit} ${unitOf(command.name)}\n`);
      return 0;
    }
    if (command.kind === 'unset') {
      await ledger.setLimit(command.project, command.name, null);
      io.out(`${command.project}: ${command.name} back to the deployment's limit\n`);
      return 0;
    }
    const quota = await ledger.read(command.project);
    const limits = ledger.limitsOf(quota);
    const rows = QUOTA_NAMES.map((name) => {
      const limit = limits[name];
      const own = quota.overrides[name] !== undefined;
      // Without an override the functions' GLANCE_QUOTA_* applies, which only this shell may know.
      const fromEnvironment = defaults[name] !== null;
      const shown =
        own || fromEnvironment
          ? `${limit === null ? 'unlimited' : `${limit} ${unitOf(name)}`} (${own ? 'project' : quotaVariable(name)})`
          : `the deployment's (${quotaVariable(name)})`;
      const used =
        QUOTA_UNIT[name] === 1
          ? `${quota.usage[name]} images`
          : `${usageInUnits(name, quota.usage[name])} MiB (${quota.usage[name]} bytes)`;
      return `${name.padEnd(22)} limit ${shown.padEnd(46)} usage ${used}`;
    });
    io.out(
      `project ${command.project}\n${rows.join('\n')}\n` +
        (quota.pending.length ? `${quota.pending.length} reservation(s) pending\n` : ''),
    );
    return 0;
  } catch (error) {
    io.err(`quota ${command.kind} failed: ${(error as Error).message}\n`);
    return 1;
  }
};
