/**
 * Where `s3://` locations may point (docs/locations.md#configuration), from the `locationS3Allowed` setting: the same
 * allow-list is the `LOCATION_S3_ALLOWED` the functions check (shared/settings.ts) and the read grants of the two
 * functions that read locations (the workflow's `Verify` and the download redirect's presigner), so a location the
 * service accepts is one it may read, and nothing else.
 */
import { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { defaultS3Allowed, parseS3Prefix, type S3Prefix } from '#shared/locations/url';
import type { Settings } from '#shared/settings';
import type { GlanceFunction } from './constructs/glance-function.ts';

export interface LocationConfig {
  /** Explicit `s3://bucket/prefix` entries; undefined: the service bucket's `locations/` prefix. */
  readonly s3Allowed: readonly S3Prefix[] | undefined;
}

/** The allow-list of the settings (`locationS3Allowed`, checked at synth by infra/settings.ts). */
export const locationConfigOf = (settings: Pick<Settings, 'locationS3Allowed'>): LocationConfig => ({
  s3Allowed: settings.locationS3Allowed?.map((entry) => parseS3Prefix(entry) as S3Prefix),
});

/**
 * GetObject on the allowed prefixes, and ListBucket on their buckets without conditions, as infra/grants.ts gives
 * readers of the service bucket: without it S3 answers a read of a missing key with 403, and the workflow must tell
 * "no such object" apart. A `s3:prefix` condition would not do: a HeadObject or GetObject carries no prefix, so S3
 * would still answer 403. ListBucket only names keys; reading them stays limited to the allowed prefixes.
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
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['s3:ListBucket'],
      resources: [...new Set(entries.map(bucketArn))],
    }),
  );
};
