/**
 * Configuration read once, at cold start. A missing required variable throws while the module
 * loads, so a misconfigured function fails its first invocation loudly instead of half-working.
 */

export class MissingConfigError extends Error {}

/** The value of a variable that must be set. */
export const requiredEnv = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new MissingConfigError(`environment variable ${name} is required`);
  }
  return value;
};

/** The value of an optional variable, or its default. */
export const optionalEnv = (name: string, fallback: string): string => {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
};

/** An integer variable; a non-integer value is a configuration error. */
export const integerEnv = (name: string, fallback: number): number => {
  const raw = optionalEnv(name, String(fallback));
  const value = Number(raw);
  if (!Number.isSafeInteger(value))
    throw new MissingConfigError(`environment variable ${name} must be an integer`);
  return value;
};

export const booleanEnv = (name: string, fallback: boolean): boolean =>
  optionalEnv(name, String(fallback)).toLowerCase() === 'true';
