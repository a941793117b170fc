import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { GlanceFunction } from '#infra/constructs/glance-function';
import { locationConfigOf } from '#infra/locations';
import { contextKey, readSettings, settingsEnvironment } from '#infra/settings';
import { ServerlessGlanceStack } from '#infra/stack';
import { locationS3Allowed, showMultipleLocations } from '#shared/settings';
import { jwtSynthContext } from '#test/helpers/synth-context';

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

describe('read grants on other allowed buckets', () => {
  interface Statement {
    readonly Effect: string;
    readonly Action: string | string[];
    readonly Resource: unknown;
    readonly Condition?: unknown;
  }
  const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${rest}`]] });

  it('gives the location readers GetObject on the allowed prefixes, ListBucket on their buckets without conditions', () => {
    const app = new App({
      context: jwtSynthContext({
        [contextKey(locationS3Allowed)]: ['s3://pipeline/golden/', 's3://pipeline/silver/', 's3://other/'],
      }),
    });
    const stack = new ServerlessGlanceStack(app, 'Locations');
    const resources = Object.values(
      Template.fromStack(stack).toJSON().Resources as Record<
        string,
        { Type: string; Properties: { Roles?: unknown; PolicyDocument?: { Statement: Statement[] } } }
      >,
    );
    const statementsOf = (fn: GlanceFunction | undefined) => {
      const role = stack.getLogicalId(fn?.role?.node.defaultChild as CfnElement);
      return resources
        .filter(
          (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${role}"`),
        )
        .flatMap((r) => r.Properties.PolicyDocument?.Statement ?? [])
        .filter((statement) => /:s3:::(pipeline|other)/.test(JSON.stringify(statement.Resource)));
    };
    for (const reader of [
      stack.importWorkflow.functions.get('Verify'),
      stack.api.functions.get('DownloadImageData'),
    ]) {
      // Without ListBucket on the bucket, S3 answers a missing key with 403 and the import could not say "no object";
      // an s3:prefix condition would not help, a HeadObject carries no prefix.
      expect(statementsOf(reader)).toEqual([
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: [arn('pipeline/golden/*'), arn('pipeline/silver/*'), arn('other/*')],
        },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: [arn('pipeline'), arn('other')] },
      ]);
    }
    // No other function touches those buckets.
    const others = [...stack.api.functions.entries(), ...stack.importWorkflow.functions.entries()].filter(
      ([name]) => name !== 'Verify' && name !== 'DownloadImageData',
    );
    expect(others.length).toBeGreaterThan(10);
    for (const [, fn] of others) expect(statementsOf(fn)).toEqual([]);
  }, 120_000);
});
