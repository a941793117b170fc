/**
 * Data-path settings (decisions D2, D5, D6), read once at cold start like `shared/services.ts`.
 * Every value has a safe default; a value outside its bounds fails the cold start loudly.
 */
import { integerEnv, MissingConfigError } from '#shared/config';
import { S3_LIMITS } from '#shared/storage/bucket';
import { MAX_MULTIPART_SECONDS } from './lifetime.ts';

const MiB = 1024 ** 2;

/**
 * Largest body `PUT /file` and `PUT /stage` accept. Lambda takes at most 6 MB (6,291,456 bytes)
 * per invocation, and API Gateway hands binary bodies over base64-encoded (4/3 of their size), so
 * binary data must stay under 4.5 MiB; 64 KiB are left for the rest of the event (headers...).
 */
export const MAX_DIRECT_UPLOAD_BYTES = Math.floor(((6_291_456 - 64 * 1024) * 3) / 4);

export interface UploadSettings {
  /** Lifetime of presigned upload URLs (PUT and UploadPart), at most 15 minutes. */
  readonly uploadUrlSeconds: number;
  /** Added to a single PUT's URL expiry to make its deadline (the upload may still be running). */
  readonly uploadGraceSeconds: number;
  /**
   * Added to a multipart upload's latest URL expiry to make its deadline: long enough for an
   * interrupted upload to be resumed, after which the sweeper aborts it.
   */
  readonly multipartGraceSeconds: number;
  /** Declared sizes above this get a multipart plan; at most the 5 GiB single-PUT limit. */
  readonly multipartThreshold: number;
  /** Preferred part size (raised when the object would need more than 10,000 parts). */
  readonly partSize: number;
  /** Most part URLs one response carries; the rest are asked for by `upload_id` (re-sign). */
  readonly maxPartUrls: number;
  /** Lifetime of the presigned download URL, at most 5 minutes. */
  readonly downloadUrlSeconds: number;
  /**
   * The sweeper re-drives finalisation of an object that arrived but was not finalised only once it
   * is this old: until then the S3 trigger may still be at work (its timeout is 15 minutes).
   */
  readonly refinaliseAfterSeconds: number;
}

const bounded = (name: string, fallback: number, min: number, max: number): number => {
  const value = integerEnv(name, fallback);
  if (value < min || value > max) {
    throw new MissingConfigError(`environment variable ${name} must be between ${min} and ${max}`);
  }
  return value;
};

/** Reads the settings from the environment (exported for tests). */
export const readUploadSettings = (): UploadSettings => ({
  uploadUrlSeconds: bounded('UPLOAD_URL_SECONDS', 900, 1, 900),
  uploadGraceSeconds: bounded('UPLOAD_GRACE_SECONDS', 900, 0, 7 * 24 * 3600),
  // Within the lifetime the bucket's lifecycle rule leaves a multipart upload (lifetime.ts).
  multipartGraceSeconds: bounded('MULTIPART_GRACE_SECONDS', 24 * 3600, 0, MAX_MULTIPART_SECONDS),
  multipartThreshold: bounded('MULTIPART_THRESHOLD_BYTES', 100 * MiB, 1, S3_LIMITS.maxSinglePut),
  // Below S3's 5 MiB minimum only makes sense against the local s3rver (tests).
  partSize: bounded('MULTIPART_PART_SIZE_BYTES', 64 * MiB, 1, S3_LIMITS.maxPartSize),
  maxPartUrls: bounded('PRESIGN_MAX_PART_URLS', 1000, 1, S3_LIMITS.maxParts),
  downloadUrlSeconds: bounded('DOWNLOAD_URL_SECONDS', 300, 1, 300),
  refinaliseAfterSeconds: bounded('SWEEP_REFINALISE_AFTER_SECONDS', 900, 0, 24 * 3600),
});

export const uploadSettings: UploadSettings = readUploadSettings();
