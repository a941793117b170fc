/**
 * Pure pieces of the presigned-upload protocol: which plan a declared size gets, how parts are
 * cut, and validation of the presign and complete bodies (400 for anything malformed, before any
 * status change or S3 call).
 */

import type { UploadSettings } from '#shared/config';
import { BadRequest } from '#shared/errors';
import { S3_LIMITS } from '#shared/storage/bucket';

const MiB = 1024 ** 2;

export type UploadPlan =
  | { readonly method: 'single' }
  | { readonly method: 'multipart'; readonly partSize: number; readonly partCount: number };

/**
 * A single PUT unless the declared size is above the multipart threshold (or S3's 5 GiB PUT
 * limit). Parts have the configured size, raised (to whole MiB) when the object would otherwise
 * need more than S3's 10,000 parts. Without a declared size only a single PUT can be planned.
 */
export const planUpload = (
  size: number | null,
  settings: Pick<UploadSettings, 'multipartThreshold' | 'partSize'>,
): UploadPlan => {
  if (size === null || (size <= settings.multipartThreshold && size <= S3_LIMITS.maxSinglePut)) {
    return { method: 'single' };
  }
  const minimum = Math.ceil(size / S3_LIMITS.maxParts);
  const partSize = minimum <= settings.partSize ? settings.partSize : Math.ceil(minimum / MiB) * MiB;
  return { method: 'multipart', partSize, partCount: partCountOf(size, partSize) };
};

export const partCountOf = (size: number, partSize: number): number =>
  Math.max(1, Math.ceil(size / partSize));

/** Bytes of part `number` (1-based): `partSize` for all but the last. */
export const partLength = (number: number, size: number, partSize: number): number =>
  number < partCountOf(size, partSize) ? partSize : size - partSize * (partCountOf(size, partSize) - 1);

/** What `POST .../presign` asked for: a new upload (optional size) or fresh URLs for one in flight. */
export type PresignBody =
  | { readonly kind: 'new'; readonly size: number | null }
  | { readonly kind: 'resign'; readonly uploadId: string; readonly partNumbers: readonly number[] | null };

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const parseJson = (body: Buffer): unknown => {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new BadRequest('Malformed JSON in request body.', { cause });
  }
};

const refuseUnknownKeys = (body: Record<string, unknown>, allowed: readonly string[]) => {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length) {
    throw new BadRequest(`Unknown field(s) ${unknown.join(', ')}; expected ${allowed.join(', ')}.`);
  }
};

const requireUploadId = (value: unknown): string => {
  if (typeof value !== 'string' || !/^[0-9a-f-]{36}$/i.test(value)) {
    throw new BadRequest("'upload_id' must be the upload id a presign answer gave.");
  }
  return value.toLowerCase();
};

const isPartNumber = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= S3_LIMITS.maxParts;

/** `{}` / no body, `{"size": n}`, or `{"upload_id": "...", "part_numbers": [...]}`. */
export const parsePresignBody = (raw: Buffer, maxPartUrls: number): PresignBody => {
  if (raw.toString('utf8').trim() === '') return { kind: 'new', size: null };
  const body = parseJson(raw);
  if (!isObject(body)) throw new BadRequest('The request body must be a JSON object.');
  if (body.upload_id !== undefined) {
    refuseUnknownKeys(body, ['upload_id', 'part_numbers']);
    const uploadId = requireUploadId(body.upload_id);
    if (body.part_numbers === undefined) return { kind: 'resign', uploadId, partNumbers: null };
    const numbers = body.part_numbers;
    if (!Array.isArray(numbers) || numbers.length === 0 || !numbers.every(isPartNumber)) {
      throw new BadRequest("'part_numbers' must be a non-empty list of part numbers (1 to 10000).");
    }
    if (numbers.length > maxPartUrls) {
      throw new BadRequest(`At most ${maxPartUrls} part URLs can be asked for at once.`);
    }
    return { kind: 'resign', uploadId, partNumbers: [...new Set(numbers)].sort((a, b) => a - b) };
  }
  refuseUnknownKeys(body, ['size']);
  if (body.size === undefined || body.size === null) return { kind: 'new', size: null };
  if (!Number.isSafeInteger(body.size) || (body.size as number) < 0) {
    throw new BadRequest("'size' must be a non-negative integer number of bytes.");
  }
  return { kind: 'new', size: body.size as number };
};

export interface CompletedPart {
  readonly part_number: number;
  /** Without quotes, lower case. */
  readonly etag: string;
}

export interface CompleteBody {
  readonly uploadId: string;
  readonly parts: readonly CompletedPart[];
}

/** An ETag as S3 compares them: quotes dropped, case folded. */
export const normaliseEtag = (etag: string): string => etag.replace(/"/g, '').trim().toLowerCase();

/** `{"upload_id": "...", "parts": [{"part_number": 1, "etag": "..."}, ...]}`, parts sorted. */
export const parseCompleteBody = (raw: Buffer): CompleteBody => {
  const body = parseJson(raw);
  if (!isObject(body)) throw new BadRequest('The request body must be a JSON object.');
  refuseUnknownKeys(body, ['upload_id', 'parts']);
  const uploadId = requireUploadId(body.upload_id);
  if (!Array.isArray(body.parts) || body.parts.length === 0) {
    throw new BadRequest("'parts' must be a non-empty list of {part_number, etag}.");
  }
  const seen = new Set<number>();
  const parts = body.parts.map((part: unknown, index: number): CompletedPart => {
    if (!isObject(part) || !isPartNumber(part.part_number)) {
      throw new BadRequest(`parts[${index}]: 'part_number' must be an integer from 1 to 10000.`);
    }
    if (typeof part.etag !== 'string' || normaliseEtag(part.etag) === '' || part.etag.length > 1024) {
      throw new BadRequest(
        `parts[${index}]: 'etag' must be the ETag S3 returned for part ${part.part_number}.`,
      );
    }
    if (seen.has(part.part_number)) throw new BadRequest(`Part ${part.part_number} is listed twice.`);
    seen.add(part.part_number);
    return { part_number: part.part_number, etag: normaliseEtag(part.etag) };
  });
  return { uploadId, parts: parts.sort((a, b) => a.part_number - b.part_number) };
};
