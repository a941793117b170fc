import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { LOCATION_CONTEXT_KEYS, locationConfigOf, locationEnvironment } from '#infra/locations';

const appWith = (context: Record<string, unknown>) => new App({ context });

describe('location settings from CDK context', () => {
  it('defaults: the service bucket’s locations/ prefix (no variable set), legacy patch off', () => {
    const config = locationConfigOf(appWith({}));
    expect(config).toEqual({ s3Allowed: undefined, showMultipleLocations: false });
    expect(locationEnvironment(config)).toEqual({});
  });

  it('takes a list or a comma-separated string, and the legacy switch', () => {
    for (const value of [['s3://pipeline/golden/', 's3://other'], 's3://pipeline/golden/, s3://other']) {
      const config = locationConfigOf(
        appWith({
          [LOCATION_CONTEXT_KEYS.s3Allowed]: value,
          [LOCATION_CONTEXT_KEYS.showMultipleLocations]: true,
        }),
      );
      expect(locationEnvironment(config)).toEqual({
        LOCATION_S3_ALLOWED: 's3://pipeline/golden/,s3://other/',
        SHOW_MULTIPLE_LOCATIONS: 'true',
      });
    }
  });

  it('an empty list allows no s3:// location at all', () => {
    const config = locationConfigOf(appWith({ [LOCATION_CONTEXT_KEYS.s3Allowed]: [] }));
    expect(locationEnvironment(config)).toEqual({ LOCATION_S3_ALLOWED: '' });
  });

  it('fails the synth on a malformed entry, naming the context key', () => {
    expect(() => locationConfigOf(appWith({ [LOCATION_CONTEXT_KEYS.s3Allowed]: 'https://x/y' }))).toThrow(
      /serverless-glance:locationS3Allowed/,
    );
  });
});
