import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MissingConfigError, readLocationSettings } from '#shared/config';
import { DEFAULT_URI_FILTER, type UriFilter } from '#shared/import/uri-filter';
import {
  checkLocation,
  LocationRefused,
  type LocationSettings,
  parseS3Prefix,
  parseS3Url,
  s3PrefixUrl,
} from '#shared/locations/url';

const settings: LocationSettings = {
  serviceBucket: 'glance-data',
  s3Allowed: [
    { bucket: 'glance-data', prefix: 'locations/' },
    { bucket: 'pipeline-images', prefix: 'golden/' },
    { bucket: 'whole-bucket', prefix: '' },
  ],
  showMultipleLocations: false,
};
const filter: UriFilter = DEFAULT_URI_FILTER;
const refusal = (
  url: unknown,
  with_: LocationSettings = settings,
  uriFilter = filter,
): string | undefined => {
  try {
    checkLocation(url, with_, uriFilter);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(LocationRefused);
    return (error as Error).message;
  }
};

describe('checkLocation', () => {
  it.each([
    [
      's3://glance-data/locations/ubuntu.raw',
      { kind: 's3', bucket: 'glance-data', key: 'locations/ubuntu.raw' },
    ],
    [
      's3://pipeline-images/golden/2024/a b.qcow2',
      { kind: 's3', bucket: 'pipeline-images', key: 'golden/2024/a b.qcow2' },
    ],
    ['s3://whole-bucket/anything', { kind: 's3', bucket: 'whole-bucket', key: 'anything' }],
  ])('accepts %s', (url, target) => {
    expect(checkLocation(url, settings, filter)).toEqual(target);
  });

  it('accepts https and http URLs that pass the URI filter', () => {
    expect(checkLocation('https://images.example.com/x.img', settings, filter)).toMatchObject({
      kind: 'http',
    });
    expect(checkLocation('http://images.example.com/x.img', settings, filter)).toMatchObject({
      kind: 'http',
    });
  });

  it.each([
    [42, 'url string'],
    ['', 'url string'],
    ['gopher://info.cern.ch', "scheme 'gopher'"],
    ['file:///etc/passwd', "scheme 'file'"],
    ['swift://container/object', "scheme 'swift'"],
    ['no scheme at all', 'not supported'],
    ['s3://glance-data/images/6a3f/123', 'manages'],
    ['s3://glance-data/staging/6a3f/123', 'manages'],
    ['s3://glance-data/elsewhere/x', 'outside'],
    ['s3://pipeline-images/golden', 'outside'],
    ['s3://someone-else/golden/x', 'outside'],
    ['s3://glance-data/locations/', 'names no object'],
    ['s3://glance-data', 'names no object'],
    ['s3://Bad_Bucket/x', 'not an s3://bucket/key'],
    ['s3://user:secret@glance-data/locations/x', 'not an s3://bucket/key'],
    ['s3://glance-data/locations/a\nb', 'control characters'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['https://10.0.0.1/x', '10.0.0.1'],
    ['https://[::1]/x', '::1'],
    ['https://user:pw@example.com/x', 'credentials'],
    ['https://example.com:8080/x', 'port 8080'],
    [`https://example.com/${'a'.repeat(250)}`, '255'],
  ])('refuses %j (%s)', (url, reason) => {
    expect(refusal(url)).toContain(reason);
  });

  it('refuses http when the import URI filter allows only https', () => {
    const httpsOnly = { ...filter, allowedSchemes: ['https'] };
    expect(refusal('http://images.example.com/x.img', settings, httpsOnly)).toContain("'http'");
    expect(refusal('https://images.example.com/x.img', settings, httpsOnly)).toBeUndefined();
  });

  it('never accepts the service’s own data prefixes, whatever the allow-list says', () => {
    const everything = { ...settings, s3Allowed: [{ bucket: 'glance-data', prefix: '' }] };
    fc.assert(
      fc.property(fc.constantFrom('images/', 'staging/'), fc.string({ minLength: 1 }), (prefix, rest) => {
        expect(refusal(`s3://glance-data/${prefix}${rest}`, everything)).toBeDefined();
      }),
    );
  });

  it('accepts exactly the keys under an allowed prefix of an allowed bucket', () => {
    const key = fc.stringMatching(/^[a-zA-Z0-9/._ -]{1,40}$/).filter((k) => !k.endsWith('/'));
    fc.assert(
      fc.property(fc.constantFrom('glance-data', 'pipeline-images', 'other-bucket'), key, (bucket, k) => {
        const inside = settings.s3Allowed.some(
          (entry) => entry.bucket === bucket && k.startsWith(entry.prefix),
        );
        const managed = bucket === 'glance-data' && (k.startsWith('images/') || k.startsWith('staging/'));
        expect(refusal(`s3://${bucket}/${k}`) === undefined).toBe(inside && !managed);
      }),
    );
  });
});

describe('S3 URLs and allow-list entries', () => {
  it('parses and prints allow-list entries', () => {
    expect(parseS3Prefix('s3://bucket-a/some/prefix/')).toEqual({
      bucket: 'bucket-a',
      prefix: 'some/prefix/',
    });
    expect(parseS3Prefix('s3://bucket-a')).toEqual({ bucket: 'bucket-a', prefix: '' });
    expect(parseS3Prefix('https://bucket-a/x')).toBeUndefined();
    expect(s3PrefixUrl({ bucket: 'b-1', prefix: 'p/' })).toBe('s3://b-1/p/');
    expect(parseS3Url('s3://b-1/k/x')).toEqual({ bucket: 'b-1', key: 'k/x' });
    expect(parseS3Url('s3://b-1/')).toBeUndefined();
    expect(parseS3Url('https://b-1/k')).toBeUndefined();
  });
});

describe('readLocationSettings', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['BUCKET_NAME', 'LOCATION_S3_ALLOWED', 'SHOW_MULTIPLE_LOCATIONS']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('defaults to the locations/ prefix of the service bucket, legacy patch off', () => {
    process.env.BUCKET_NAME = 'glance-data';
    delete process.env.LOCATION_S3_ALLOWED;
    delete process.env.SHOW_MULTIPLE_LOCATIONS;
    expect(readLocationSettings()).toEqual({
      serviceBucket: 'glance-data',
      s3Allowed: [{ bucket: 'glance-data', prefix: 'locations/' }],
      showMultipleLocations: false,
    });
  });

  it('reads an explicit list (case kept), the empty list, and the legacy switch', () => {
    process.env.BUCKET_NAME = 'glance-data';
    process.env.LOCATION_S3_ALLOWED = 's3://pipeline/Golden/, s3://other';
    process.env.SHOW_MULTIPLE_LOCATIONS = 'true';
    expect(readLocationSettings()).toMatchObject({
      s3Allowed: [
        { bucket: 'pipeline', prefix: 'Golden/' },
        { bucket: 'other', prefix: '' },
      ],
      showMultipleLocations: true,
    });
    process.env.LOCATION_S3_ALLOWED = '';
    expect(readLocationSettings().s3Allowed).toEqual([]);
  });

  it('fails fast on a malformed entry, naming the variable', () => {
    process.env.BUCKET_NAME = 'glance-data';
    process.env.LOCATION_S3_ALLOWED = 'https://not-s3/x';
    expect(() => readLocationSettings()).toThrow(MissingConfigError);
    expect(() => readLocationSettings()).toThrow(/LOCATION_S3_ALLOWED/);
  });
});
