/**
 * Request bodies as JSON, within limits checked on the raw text before it is parsed
 * (docs/api.md#request-body-limits): a body nested thousands of levels deep must be refused
 * before anything recurses over it (`JSON.stringify`, the DynamoDB marshaller, a validator), and
 * an oversized import or task body before any work is done. Pure: text in, value or `BadRequest` out.
 */
import { BadRequest } from '#shared/errors';

export interface JsonLimits {
  /** Deepest nesting of arrays and objects: `{}` is 1, `{"a": []}` is 2. */
  readonly maxDepth: number;
  /** Largest body in bytes (UTF-8), if the body has its own size limit. */
  readonly maxBytes?: number;
}

/** Every JSON body the API reads: far deeper than any Glance client sends (3 levels at most). */
export const BODY_LIMITS: JsonLimits = { maxDepth: 20 };

/**
 * `POST /v2/images/{id}/import` bodies and `POST /v2/tasks` bodies: kept in the task's `input`,
 * so small and shallow. Glance's clients send 2 (import) and 3 (task) levels and a few hundred bytes.
 */
export const IMPORT_BODY_LIMITS: JsonLimits = { maxDepth: 10, maxBytes: 64 * 1024 };

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * The deepest nesting of arrays and objects in JSON text, counted without parsing or recursion
 * (brackets inside strings do not count). Stops counting once `stopAbove` is passed. Text that is
 * not JSON gets a meaningless number; parsing it fails afterwards anyway.
 */
export const nestingDepth = (text: string, stopAbove = Number.POSITIVE_INFINITY): number => {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) depth--;
  }
  return deepest;
};

/**
 * Parses JSON text within `limits`: over the size or the depth, or malformed, is a 400 in
 * Glance's shape. `JSON.parse` keeps every member as an own data property, `__proto__` included,
 * so any property name a client sends survives as data.
 */
export const parseJsonWithin = (body: Buffer | string, limits: JsonLimits = BODY_LIMITS): unknown => {
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (limits.maxBytes !== undefined && bytes > limits.maxBytes) {
    throw new BadRequest(`The request body is ${bytes} bytes; at most ${limits.maxBytes} are accepted.`);
  }
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') throw new BadRequest('The request body is empty; JSON was expected.');
  if (nestingDepth(text, limits.maxDepth) > limits.maxDepth) {
    throw new BadRequest(
      `The request body nests arrays and objects more than ${limits.maxDepth} levels deep.`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BadRequest('Malformed JSON in request body.', { cause });
  }
};
