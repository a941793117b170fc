import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { locationConfigOf } from '#infra/locations';
import { contextKey, readSettings, settingsEnvironment } from '#infra/settings';
import { locationS3Allowed, showMultipleLocations } from '#shared/settings';

const settingsWith = (context: Record<string, unknown>) => readSettings(new App({ context }).node);
/** The location variables the functions get. */
const locationVariables = (context: Record<string, unknown>) => {
  const { LOCATION_S3_ALLOWED, SHOW_MULTIPLE_LOCATIONS } = settingsEnvironment(settingsWith(context));
  return { LOCATION_S3_ALLOWED, SHOW_MULTIPLE_LOCATIONS };
};

describe('location settings from CDK context', () => {
  it('defaults: the service bucket’s locations/ prefix (no variable set), legacy patch off', () => {
    expect(locationConfigOf(settingsWith({}))).toEqual({ s3Allowed: undefined });
    expect(locationVariables({})).toEqual({
      LOCATION_S3_ALLOWED: undefined,
      SHOW_MULTIPLE_LOCATIONS: 'false',
    });
  });

  it('takes a list or a comma-separated string, and the legacy switch', () => {
    for (const value of [['s3://pipeline/golden/', 's3://other/'], 's3://pipeline/golden/, s3://other/']) {
      const context = { [contextKey(locationS3Allowed)]: value, [contextKey(showMultipleLocations)]: true };
      expect(locationConfigOf(settingsWith(context)).s3Allowed).toEqual([
        { bucket: 'pipeline', prefix: 'golden/' },
        { bucket: 'other', prefix: '' },
      ]);
      expect(locationVariables(context)).toEqual({
        LOCATION_S3_ALLOWED: 's3://pipeline/golden/,s3://other/',
        SHOW_MULTIPLE_LOCATIONS: 'true',
      });
    }
  });

  it('an empty list allows no s3:// location at all', () => {
    const context = { [contextKey(locationS3Allowed)]: [] };
    expect(locationConfigOf(settingsWith(context)).s3Allowed).toEqual([]);
    expect(locationVariables(context).LOCATION_S3_ALLOWED).toBe('');
  });

  it('fails the synth on a malformed entry, naming the context key', () => {
    expect(() => settingsWith({ [contextKey(locationS3Allowed)]: 'https://x/y' })).toThrow(
      /serverless-glance:locationS3Allowed" must list only s3:\/\/bucket\/prefix items, not "https:\/\/x\/y"/,
    );
  });
});
