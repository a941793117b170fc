import { afterEach, describe, expect, it } from 'vitest';
import { uriFilterFromEnv } from '#shared/config';
import {
  checkAddress,
  checkUri,
  DEFAULT_URI_FILTER,
  filteringLookup,
  type UriFilter,
  UriRefused,
} from '#shared/import/uri-filter';

const filter = (overrides: Partial<UriFilter> = {}): UriFilter => ({ ...DEFAULT_URI_FILTER, ...overrides });
const VARIABLES = [
  'IMPORT_ALLOWED_SCHEMES',
  'IMPORT_DISALLOWED_SCHEMES',
  'IMPORT_ALLOWED_HOSTS',
  'IMPORT_DISALLOWED_HOSTS',
  'IMPORT_ALLOWED_PORTS',
  'IMPORT_DISALLOWED_PORTS',
  'IMPORT_ALLOWED_NETWORKS',
];
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('the deployed defaults (Glance import_filtering_opts + public addresses only)', () => {
  it.each([
    'http://images.example.com/cirros.img',
    'https://images.example.com/cirros.img',
    'http://images.example.com:80/x',
    'https://93.184.216.34:443/x',
    'http://[2606:4700::1111]/x',
  ])('accepts %s', (uri) => {
    expect(checkUri(filter(), uri).href).toBe(new URL(uri).href);
  });

  it.each([
    ['ftp://images.example.com/x', /scheme 'ftp' is not allowed/],
    ['file:///etc/passwd', /scheme 'file' is not allowed/],
    ['http://images.example.com:8080/x', /port 8080 is not allowed/],
    ['http://127.0.0.1/x', /loopback, private/],
    ['http://localhost/x', /localhost resolves to 127\.0\.0\.1/],
    ['http://10.1.2.3/x', /private/],
    ['http://172.16.0.1/x', /private/],
    ['http://192.168.1.1/x', /private/],
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://100.64.0.1/x', /reserved/],
    ['http://0.0.0.0/x', /reserved/],
    ['http://224.0.0.1/x', /reserved/],
    ['http://[::1]/x', /loopback/],
    ['http://[fe80::1]/x', /link-local/],
    ['http://[fd00:ec2::254]/x', /private/],
    ['http://[::ffff:127.0.0.1]/x', /loopback/],
    ['http://[::ffff:a9fe:a9fe]/x', /link-local/],
    ['http://user:secret@images.example.com/x', /credentials/],
    ['not a uri', /not a valid URI/],
    ['', /required/],
  ])('refuses %s', (uri, reason) => {
    expect(() => checkUri(filter(), uri)).toThrow(UriRefused);
    expect(() => checkUri(filter(), uri)).toThrow(reason);
  });

  it('refuses anything but a string', () => {
    expect(() => checkUri(filter(), 42)).toThrow(UriRefused);
    expect(() => checkUri(filter(), undefined)).toThrow(UriRefused);
  });
});

describe('Glance list semantics', () => {
  it('checks hosts against the allowed list, else the disallowed one; the allowed list wins', () => {
    expect(() => checkUri(filter({ allowedHosts: ['a.example'] }), 'http://b.example/x')).toThrow(
      /host 'b.example'/,
    );
    expect(checkUri(filter({ allowedHosts: ['a.example'] }), 'http://A.example/x').hostname).toBe(
      'a.example',
    );
    expect(() => checkUri(filter({ disallowedHosts: ['b.example'] }), 'http://b.example/x')).toThrow(/host/);
    expect(
      checkUri(filter({ allowedHosts: ['b.example'], disallowedHosts: ['b.example'] }), 'http://b.example/x'),
    ).toBeTruthy();
  });

  it('checks a port only when the URI names one; an empty allowed list allows all but the disallowed', () => {
    expect(checkUri(filter(), 'http://a.example/x')).toBeTruthy();
    const any = filter({ allowedPorts: [], disallowedPorts: [25] });
    expect(checkUri(any, 'http://a.example:8080/x')).toBeTruthy();
    expect(() => checkUri(any, 'http://a.example:25/x')).toThrow(/port 25/);
  });

  it('only fetches over http and https, whatever the scheme lists say', () => {
    expect(() => checkUri(filter({ allowedSchemes: [] }), 'ftp://a.example/x')).toThrow(/not supported/);
  });
});

describe('allowed networks (the local stack allows loopback)', () => {
  const local = filter({ allowedPorts: [], allowedNetworks: ['127.0.0.0/8', '::1/128'] });

  it('lets loopback through and still refuses other private ranges', () => {
    expect(checkUri(local, 'http://127.0.0.1:39999/x')).toBeTruthy();
    expect(checkUri(local, 'http://[::1]:39999/x')).toBeTruthy();
    expect(checkUri(local, 'http://localhost:39999/x')).toBeTruthy();
    expect(() => checkUri(local, 'http://10.0.0.1/x')).toThrow(UriRefused);
    expect(() => checkAddress(local, '169.254.169.254')).toThrow(UriRefused);
  });
});

describe('environment', () => {
  it('has the deployed defaults when nothing is set', () => {
    for (const name of VARIABLES) delete process.env[name];
    expect(uriFilterFromEnv()).toEqual(DEFAULT_URI_FILTER);
  });

  it('reads comma lists, lower-cased; an empty variable is an empty list', () => {
    process.env.IMPORT_ALLOWED_PORTS = '';
    process.env.IMPORT_DISALLOWED_HOSTS = 'Evil.Example, other.example';
    process.env.IMPORT_ALLOWED_NETWORKS = '127.0.0.0/8,::1';
    expect(uriFilterFromEnv()).toMatchObject({
      allowedPorts: [],
      disallowedHosts: ['evil.example', 'other.example'],
      allowedNetworks: ['127.0.0.0/8', '::1'],
    });
  });

  it('fails the cold start on a bad port or CIDR', () => {
    process.env.IMPORT_ALLOWED_PORTS = '80,http';
    expect(() => uriFilterFromEnv()).toThrow(/IMPORT_ALLOWED_PORTS/);
    process.env.IMPORT_ALLOWED_PORTS = '80';
    process.env.IMPORT_ALLOWED_NETWORKS = '10.0.0.0/33';
    expect(() => uriFilterFromEnv()).toThrow(/IMPORT_ALLOWED_NETWORKS/);
  });
});

describe('the download lookup', () => {
  const lookup = (f: UriFilter, host: string) =>
    new Promise<unknown>((resolve, reject) =>
      filteringLookup(f)(host, { all: true }, (error, addresses) =>
        error ? reject(error) : resolve(addresses),
      ),
    );

  it('refuses a name that resolves to a refused address (checked on what the socket will use)', async () => {
    await expect(lookup(filter(), 'localhost')).rejects.toThrow(/localhost resolves to/);
  });

  it('passes the addresses on when they are allowed', async () => {
    const addresses = await lookup(filter({ allowedNetworks: ['127.0.0.0/8', '::1/128'] }), 'localhost');
    expect(addresses).toEqual(
      expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]),
    );
  });
});
