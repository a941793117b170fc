/**
 * Location settings of a deployment (docs/locations.md#configuration), from CDK context: where `s3://` locations may
 * point, and whether the legacy `show_multiple_locations` behaviour is on. The same allow-list becomes the
 * `LOCATION_S3_ALLOWED` the functions check and the read grants of the two functions that read locations (the
 * workflow's `Verify` and the download redirect's presigner), so a location the service accepts is one it may read,
 * and nothing else.
 */
import { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { defaultS3Allowed, parseS3Prefix, type S3Prefix, s3PrefixUrl } from '#shared/locations/url';
import type { GlanceFunction } from './constructs/glance-function.ts';

export const LOCATION_CONTEXT_KEYS = {
  s3Allowed: 'serverless-glance:locationS3Allowed',
  showMultipleLocations: 'serverless-glance:showMultipleLocations',
} as const;

export interface LocationConfig {
  /** Explicit `s3://bucket/prefix` entries; undefined: the service bucket's `locations/` prefix. */
  readonly s3Allowed: readonly S3Prefix[] | undefined;
  readonly showMultipleLocations: boolean;
}

/** Reads the context; a malformed entry fails the synth, naming it. */
export const locationConfigOf = (scope: Construct): LocationConfig => {
  const raw: unknown = scope.node.tryGetContext(LOCATION_CONTEXT_KEYS.s3Allowed);
  const show: unknown = scope.node.tryGetContext(LOCATION_CONTEXT_KEYS.showMultipleLocations);
  const entries =
    raw === undefined
      ? undefined
      : (Array.isArray(raw) ? raw : String(raw).split(','))
          .map((entry) => String(entry).trim())
          .filter(Boolean);
  return {
    s3Allowed: entries?.map((entry) => {
      const parsed = parseS3Prefix(entry);
      if (!parsed)
        throw new Error(
          `CDK context "${LOCATION_CONTEXT_KEYS.s3Allowed}": '${entry}' is not s3://bucket/prefix`,
        );
      return parsed;
    }),
    showMultipleLocations: show === true || show === 'true',
  };
};

/** The functions' environment: only what differs from the defaults. */
export const locationEnvironment = (config: LocationConfig): Record<string, string> => ({
  ...(config.s3Allowed ? { LOCATION_S3_ALLOWED: config.s3Allowed.map(s3PrefixUrl).join(',') } : {}),
  ...(config.showMultipleLocations ? { SHOW_MULTIPLE_LOCATIONS: 'true' } : {}),
});

/**
 * GetObject on the allowed prefixes, and ListBucket limited to them (without it S3 answers a missing key with 403,
 * and the workflow must tell "no such object" apart).
 */
export const grantLocationRead = (
  fn: GlanceFunction,
  config: LocationConfig,
  serviceBucket: IBucket,
): void => {
  const partition = Stack.of(fn).partition;
  const entries = config.s3Allowed ?? defaultS3Allowed('');
  const bucketArn = (entry: S3Prefix) =>
    config.s3Allowed ? `arn:${partition}:s3:::${entry.bucket}` : serviceBucket.bucketArn;
  if (entries.length === 0) return;
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['s3:GetObject'],
      resources: entries.map((entry) => `${bucketArn(entry)}/${entry.prefix}*`),
    }),
  );
  for (const entry of entries) {
    fn.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['s3:ListBucket'],
        resources: [bucketArn(entry)],
        conditions: { StringLike: { 's3:prefix': [`${entry.prefix}*`] } },
      }),
    );
  }
};
