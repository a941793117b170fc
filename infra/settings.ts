/**
 * The deploy-time settings as the stack reads them: from CDK context (`cdk.json`,
 * `cdk.context.json`, or `-c serverless-glance:<key>=<value>`), with the definitions of
 * shared/settings.ts, before anything is built. A value of the wrong type or out of range, a
 * required value missing or still a placeholder, or a `serverless-glance:` key that names no
 * setting fails `cdk synth` with the key (docs/deploying.md#settings); nothing deploys
 * half-configured.
 */
import type { Node } from 'constructs';
import { IDENTITY_CONTEXT } from '#infra/identity';
import {
  parseSetting,
  SETTINGS,
  type Setting,
  SettingError,
  type SettingKey,
  type Settings,
  settingToEnv,
  sizeCapFor,
} from '#shared/settings';

/** Every context key of the service starts with this. */
export const CONTEXT_PREFIX = 'serverless-glance:';

export const contextKey = (setting: Setting): string => `${CONTEXT_PREFIX}${setting.key}`;

export class SettingsError extends Error {}

const fail = (key: string, problem: string): never => {
  throw new SettingsError(
    `CDK context "${key}" ${problem} (set it in cdk.context.json or with -c ${key}=...; docs/deploying.md#settings).`,
  );
};

/** Reads and checks every setting; the first problem fails with its key. */
export const readSettings = (node: Node): Settings => {
  // The identity settings are read by infra/identity.ts.
  const known = new Set([...Object.values(SETTINGS).map(contextKey), ...Object.values(IDENTITY_CONTEXT)]);
  for (const key of Object.keys(node.getAllContext())) {
    if (key.startsWith(CONTEXT_PREFIX) && !known.has(key)) fail(key, 'is not a setting of serverless-glance');
  }
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingKey, Setting][]) {
    try {
      values[name] = parseSetting(setting, node.tryGetContext(contextKey(setting)), true);
    } catch (error) {
      if (error instanceof SettingError) fail(contextKey(setting), error.message);
      throw error;
    }
  }
  // The size cap follows from the verification rate unless it is given, and may not pass it.
  const cap = SETTINGS.imageSizeCap;
  try {
    values.imageSizeCap = sizeCapFor(
      node.tryGetContext(contextKey(cap)) === undefined ? undefined : (values.imageSizeCap as number),
      values.verifyBytesPerSecond as number,
    );
  } catch (error) {
    if (error instanceof SettingError) fail(contextKey(cap), error.message);
    throw error;
  }
  return values as unknown as Settings;
};

/**
 * The environment variables of the settings the functions read (every setting with a variable and a value),
 * as the functions' configuration reads them back (shared/config.ts).
 */
export const settingsEnvironment = (settings: Settings): Record<string, string> =>
  Object.fromEntries(
    (Object.entries(SETTINGS) as [SettingKey, Setting][]).flatMap(([name, setting]) =>
      // A null value (an unset quota, the default location list) sets no variable: the reader's default.
      setting.env && settings[name] !== null ? [[setting.env, settingToEnv(settings[name])]] : [],
    ),
  );

/** Per-function values of a `perFunction` setting, with a check that every name given was used. */
export class PerFunction {
  private readonly unused: Set<string>;

  constructor(
    private readonly setting: Setting,
    private readonly values: Readonly<Record<string, number>>,
  ) {
    this.unused = new Set(Object.keys(values));
  }

  /** The value for a function, or its default. */
  of(name: string, fallback: number): number;
  of(name: string, fallback?: number): number | undefined;
  of(name: string, fallback?: number): number | undefined {
    this.unused.delete(name);
    return this.values[name] ?? fallback;
  }

  /** Fails on a name that matched no function (a typo must not silently keep the default). */
  checkAllUsed(): void {
    const [name] = this.unused;
    if (name !== undefined) fail(contextKey(this.setting), `names no function of the stack: "${name}"`);
  }

  /** Fails unless the value given for `name` (if any) is at most `max`, saying why. */
  checkMax(name: string, max: number, why: string): void {
    const value = this.values[name];
    if (value !== undefined && value > max) fail(contextKey(this.setting), `gives ${name} ${value}: ${why}`);
  }

  get entries(): [string, number][] {
    return Object.entries(this.values);
  }
}

export { fail as settingsFailure };
