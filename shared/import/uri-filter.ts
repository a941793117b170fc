/**
 * The web-download URI filter: Glance's `[import_filtering_opts]` (docs/import-workflow.md#import-api, step 12) plus a
 * network rule Glance leaves to the operator.
 *
 * Glance's rule, reproduced as is: the scheme must be in the allowed list (default `http`,
 * `https`) or, with no allowed list, not in the disallowed one; the same for the host name
 * (compared as written in the URL, lower-cased) and for an explicit port (default allowed ports
 * 80 and 443; a URL without a port passes). When both lists of a kind are set, only the allowed
 * one counts.
 *
 * Our addition (SSRF guard for a service running inside a VPC / next to the instance metadata
 * endpoint): every address the host resolves to must be a public unicast address. Loopback,
 * private (RFC 1918, ULA), link-local (169.254/16, which holds the metadata endpoint, and
 * fe80::/10), CGNAT, multicast, documentation and reserved ranges are refused unless listed in
 * `IMPORT_ALLOWED_NETWORKS`. The check runs when the import is requested (400) and again inside
 * the download's own DNS lookup, on the very addresses the socket connects to, for the first
 * request and for every redirect (no DNS-rebinding window).
 *
 * Configuration (environment, read by shared/config.ts at cold start; a list is comma-separated; a
 * variable set to the empty string means an empty list, i.e. no restriction of that kind):
 *
 * | variable                   | default   |
 * |----------------------------|-----------|
 * | IMPORT_ALLOWED_SCHEMES     | http,https |
 * | IMPORT_DISALLOWED_SCHEMES  | (none)    |
 * | IMPORT_ALLOWED_HOSTS       | (none)    |
 * | IMPORT_DISALLOWED_HOSTS    | (none)    |
 * | IMPORT_ALLOWED_PORTS       | 80,443    |
 * | IMPORT_DISALLOWED_PORTS    | (none)    |
 * | IMPORT_ALLOWED_NETWORKS    | (none): CIDRs exempt from the address rule, e.g. `127.0.0.0/8,::1/128` |
 *
 * The local stack (`npm start`, tests) sets `IMPORT_ALLOWED_PORTS=` and
 * `IMPORT_ALLOWED_NETWORKS=127.0.0.0/8,::1/128`, so imports from a file server on 127.0.0.1 work.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export interface UriFilter {
  readonly allowedSchemes: readonly string[];
  readonly disallowedSchemes: readonly string[];
  readonly allowedHosts: readonly string[];
  readonly disallowedHosts: readonly string[];
  readonly allowedPorts: readonly number[];
  readonly disallowedPorts: readonly number[];
  /** CIDRs exempt from the public-address rule. */
  readonly allowedNetworks: readonly string[];
}

export const DEFAULT_URI_FILTER: UriFilter = {
  allowedSchemes: ['http', 'https'],
  disallowedSchemes: [],
  allowedHosts: [],
  disallowedHosts: [],
  allowedPorts: [80, 443],
  disallowedPorts: [],
  allowedNetworks: [],
};

/** The URI (or an address it resolves to) was refused; the message says why. */
export class UriRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UriRefused';
  }
}

/** Ranges that are never a public image server (IANA special-purpose registries). */
const REFUSED_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const;
const REFUSED_V6 = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const;

let refusedList: BlockList | undefined;
/** Built on first use, so a function that only reads the filter's settings does not build it. */
const refused = (): BlockList => {
  if (!refusedList) {
    refusedList = new BlockList();
    for (const [network, prefix] of REFUSED_V4) refusedList.addSubnet(network, prefix, 'ipv4');
    for (const [network, prefix] of REFUSED_V6) refusedList.addSubnet(network, prefix, 'ipv6');
  }
  return refusedList;
};

/** A CIDR (`10.0.0.0/8`, `::1/128`; a bare address is a host route), or undefined when malformed. */
export const parseCidr = (
  cidr: string,
): { network: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined => {
  const [network = '', bits] = cidr.split('/');
  const family = isIP(network);
  const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
  if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
    return undefined;
  }
  return { network, prefix, family: family === 6 ? 'ipv6' : 'ipv4' };
};

const networkLists = new WeakMap<UriFilter, BlockList>();
const allowedNetworkList = (filter: UriFilter): BlockList => {
  let blockList = networkLists.get(filter);
  if (blockList) return blockList;
  blockList = new BlockList();
  for (const cidr of filter.allowedNetworks) {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new UriRefused(`IMPORT_ALLOWED_NETWORKS: '${cidr}' is not a CIDR`);
    blockList.addSubnet(parsed.network, parsed.prefix, parsed.family);
  }
  networkLists.set(filter, blockList);
  return blockList;
};

/** IPv4-mapped and NAT64-embedded IPv6 addresses are judged by the IPv4 address they carry. */
const embeddedV4 = (address: string): string | undefined => {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = Number.parseInt(hex[1] ?? '0', 16);
  const low = Number.parseInt(hex[2] ?? '0', 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
};

/** Throws `UriRefused` unless the address is public or in an allowed network. */
export const checkAddress = (filter: UriFilter, address: string, host = address): void => {
  const v4 = embeddedV4(address);
  const candidates: [string, 'ipv4' | 'ipv6'][] = [[address, isIP(address) === 6 ? 'ipv6' : 'ipv4']];
  if (v4) candidates.push([v4, 'ipv4']);
  const allowed = allowedNetworkList(filter);
  for (const [candidate, family] of candidates) {
    if (allowed.check(candidate, family)) return;
  }
  for (const [candidate, family] of candidates) {
    if (refused().check(candidate, family)) {
      throw new UriRefused(
        `${host} resolves to ${address}, a loopback, private, link-local or reserved address; ` +
          'such hosts are refused (IMPORT_ALLOWED_NETWORKS lists exceptions).',
      );
    }
  }
};

const defaultPort = (scheme: string): number | undefined =>
  scheme === 'http' ? 80 : scheme === 'https' ? 443 : undefined;

/** The URL's host without IPv6 brackets, lower-cased. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '').toLowerCase();

/**
 * Glance's `validate_import_uri` plus the literal-address check (no DNS): throws `UriRefused`
 * with the reason. Returns the parsed URL.
 */
export const checkUri = (filter: UriFilter, uri: unknown): URL => {
  if (typeof uri !== 'string' || uri === '') throw new UriRefused('A URI is required for web-download.');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UriRefused(`'${uri}' is not a valid URI.`);
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const host = hostOf(url);
  const explicitPort = url.port === '' ? undefined : Number(url.port);
  const pick = <T>(allowed: readonly T[], disallowed: readonly T[], value: T): boolean =>
    allowed.length > 0 ? allowed.includes(value) : !disallowed.includes(value);
  if (!pick(filter.allowedSchemes, filter.disallowedSchemes, scheme)) {
    throw new UriRefused(`URI scheme '${scheme}' is not allowed for web-download.`);
  }
  if (defaultPort(scheme) === undefined) {
    throw new UriRefused(`URI scheme '${scheme}' is not supported by web-download (http and https are).`);
  }
  if (host === '' || !pick(filter.allowedHosts, filter.disallowedHosts, host)) {
    throw new UriRefused(`URI host '${host}' is not allowed for web-download.`);
  }
  if (explicitPort !== undefined && !pick(filter.allowedPorts, filter.disallowedPorts, explicitPort)) {
    throw new UriRefused(`URI port ${explicitPort} is not allowed for web-download.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UriRefused('URIs with credentials are not accepted for web-download.');
  }
  if (isIP(host) !== 0) checkAddress(filter, host, host);
  else if (host === 'localhost' || host.endsWith('.localhost')) checkAddress(filter, '127.0.0.1', host);
  return url;
};

/**
 * A `dns.lookup` replacement for `http.request({ lookup })`: resolves, then refuses the whole
 * host if any of its addresses is refused, so the socket can only connect to a checked address.
 */
export const filteringLookup =
  (filter: UriFilter) =>
  (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    dnsLookup(hostname, { all: true, family: Number(options.family ?? 0) || 0 }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      try {
        if (addresses.length === 0) throw new UriRefused(`${hostname} has no address.`);
        for (const { address } of addresses) checkAddress(filter, address, hostname);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };

/**
 * The full check of a URI when an import is requested: the filter, then the addresses its host
 * resolves to now. A name that does not resolve right now passes: the download resolves again,
 * checks again, and fails the task with the DNS error if it still does not resolve.
 */
export const checkUriWithDns = async (filter: UriFilter, uri: unknown): Promise<URL> => {
  const url = checkUri(filter, uri);
  const host = hostOf(url);
  if (isIP(host) !== 0) return url;
  const addresses = await new Promise<LookupAddress[]>((resolve) =>
    dnsLookup(host, { all: true }, (error, found) => resolve(error ? [] : found)),
  );
  for (const { address } of addresses) checkAddress(filter, address, host);
  return url;
};
