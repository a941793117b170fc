/**
 * The bucket's multipart lifecycle rule outlives every multipart upload the service allows
 * (shared/uploads/lifetime.ts): it never aborts an upload an image still waits for.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { expect, it } from 'vitest';
import { Data } from '#infra/constructs/data';
import { MAX_MULTIPART_SECONDS, MULTIPART_LIFECYCLE_DAYS } from '#shared/uploads/lifetime';

it('aborts incomplete multipart uploads only after the longest multipart upload lifetime', () => {
  const stack = new Stack(new App(), 'Lifecycle');
  new Data(stack, 'Data');
  Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: {
      Rules: Match.arrayWith([
        Match.objectLike({
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: MULTIPART_LIFECYCLE_DAYS },
        }),
      ]),
    },
  });
  expect(MULTIPART_LIFECYCLE_DAYS * 24 * 3600).toBeGreaterThan(MAX_MULTIPART_SECONDS);
});

it('refuses a lifecycle shorter than a multipart upload may last', () => {
  const stack = new Stack(new App(), 'ShortLifecycle');
  expect(() => new Data(stack, 'Data', { abortIncompleteUploadsDays: 1 })).toThrow(
    /abortIncompleteUploadsDays/,
  );
});
