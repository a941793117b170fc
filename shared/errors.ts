/**
 * One error hierarchy for the whole service. Each error knows its HTTP status and renders
 * Glance's error body; the HTTP error middleware is the only place that turns them into
 * responses. `cause` is kept for logs and never serialized.
 *
 * Body shape: `{"error": {"code": 409, "title": "Conflict", "message": "..."}}`.
 * python-glanceclient reads the `message` of every object in a JSON error body, so the body
 * must be an object of objects.
 */

export interface GlanceErrorBody {
  error: { code: number; title: string; message: string };
}

export class GlanceError extends Error {
  readonly status: number;
  readonly title: string;
  /** Extra response headers (`Allow`, `Accept-Patch`). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    title: string,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.title = title;
    this.headers = options?.headers ?? {};
  }

  toBody(): GlanceErrorBody {
    return { error: { code: this.status, title: this.title, message: this.message } };
  }
}

type Options = { cause?: unknown; headers?: Record<string, string> };

export class BadRequest extends GlanceError {
  constructor(message: string, options?: Options) {
    super(400, 'Bad Request', message, options);
  }
}
export class Unauthorized extends GlanceError {
  constructor(
    message = 'This server could not verify that you are authorized to access the resource.',
    options?: Options,
  ) {
    super(401, 'Unauthorized', message, options);
  }
}
export class Forbidden extends GlanceError {
  constructor(message: string, options?: Options) {
    super(403, 'Forbidden', message, options);
  }
}
export class NotFound extends GlanceError {
  constructor(message: string, options?: Options) {
    super(404, 'Not Found', message, options);
  }
}
export class MethodNotAllowed extends GlanceError {
  constructor(allowed: readonly string[], options?: Options) {
    super(405, 'Method Not Allowed', 'The method is not allowed for this resource.', {
      ...options,
      headers: { Allow: allowed.join(', '), ...options?.headers },
    });
  }
}
export class Conflict extends GlanceError {
  constructor(message: string, options?: Options) {
    super(409, 'Conflict', message, options);
  }
}
/**
 * A conditional write lost to a concurrent writer: the record changed (or vanished) between the
 * read and the write. Carries the record as it is now, so the caller can decide again on it
 * (shared/retry.ts). Answers 409 when it reaches a client.
 */
export class RecordConflict<T = unknown> extends Conflict {
  constructor(
    message: string,
    readonly current: T | undefined,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

export class Gone extends GlanceError {
  constructor(message: string, options?: Options) {
    super(410, 'Gone', message, options);
  }
}
export class PayloadTooLarge extends GlanceError {
  constructor(message: string, options?: Options) {
    super(413, 'Request Entity Too Large', message, options);
  }
}
export class UnsupportedMediaType extends GlanceError {
  constructor(message: string, options?: Options) {
    super(415, 'Unsupported Media Type', message, options);
  }
}
export class RangeNotSatisfiable extends GlanceError {
  constructor(message: string, options?: Options) {
    super(416, 'Requested Range Not Satisfiable', message, options);
  }
}
/** The identity service (or another dependency) cannot be reached: try again later. */
export class ServiceUnavailable extends GlanceError {
  constructor(message: string, options?: Options) {
    super(503, 'Service Unavailable', message, options);
  }
}
export class InternalError extends GlanceError {
  constructor(options?: Options) {
    super(
      500,
      'Internal Server Error',
      'The server has either erred or is incapable of performing the requested operation.',
      options,
    );
  }
}

/** True for our own errors, which are safe to render. */
export const isGlanceError = (error: unknown): error is GlanceError => error instanceof GlanceError;
