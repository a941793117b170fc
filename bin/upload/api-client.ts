/** The Glance API calls the uploader makes: presign (new upload or fresh URLs), complete, show the image. */
import type { UploadOptions } from './options.ts';

/** A refusal from the API, with Glance's error message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The presign answer (shared/uploads/presign.ts on the server). */
export interface Part {
  readonly part_number: number;
  readonly size: number;
  readonly url: string;
}

export type Plan =
  | {
      readonly upload_id: string;
      readonly method: 'PUT';
      readonly url: string;
      readonly headers: Record<string, string>;
      readonly expires_at: string;
    }
  | {
      readonly upload_id: string;
      readonly method: 'multipart';
      readonly size: number;
      readonly part_size: number;
      readonly part_count: number;
      readonly parts: Part[];
      readonly expires_at: string;
    };

/** One call; a refusal throws `ApiError` with Glance's message. */
export const api = async (options: UploadOptions, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${options.url.replace(/\/$/, '')}${path}`, {
    method,
    headers: {
      'X-Auth-Token': options.token,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: options.signal,
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = json?.error as { message?: string } | undefined;
    throw new ApiError(response.status, error?.message ?? `${method} ${path}: HTTP ${response.status}`);
  }
  return json ?? {};
};

/** `POST .../presign`: a new upload (`{size}`) or fresh URLs (`{upload_id[, part_numbers]}`). */
export const presign = (options: UploadOptions, body: unknown) =>
  api(options, 'POST', `/v2/images/${options.imageId}/${options.kind}/presign`, body) as Promise<Plan>;
