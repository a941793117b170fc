/**
 * Hostile inputs shared by the tests: names special to JavaScript objects, and JSON nested
 * deeper than anything may recurse over.
 */

/** Names that are members of Object.prototype or otherwise special to JavaScript objects. */
export const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'prototype',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
] as const;

/** An object with `entries` as own data properties, whatever their names (`__proto__` included). */
export const objectOf = <T>(entries: readonly (readonly [string, T])[]): Record<string, T> =>
  Object.fromEntries(entries);

/** JSON text of `levels` nested arrays: `[[...]]`. */
export const deepArray = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;

/** JSON text of `levels` nested objects: `{"a":{"a":{}}}`. */
export const deepObject = (levels: number): string =>
  `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
