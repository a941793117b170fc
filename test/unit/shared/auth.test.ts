import { describe, expect, it } from 'vitest';
import {
  callerFromAuthorizer,
  callerFromClaims,
  parseRoles,
  refusalOf,
  tokenFromHeaders,
} from '#shared/auth';

describe('tokenFromHeaders', () => {
  it.each<[Record<string, string>, string | undefined]>([
    [{ 'x-auth-token': 'abc' }, 'abc'],
    [{ authorization: 'Bearer abc' }, 'abc'],
    [{ authorization: 'bearer   abc' }, 'abc'],
    [{ 'x-auth-token': 'first', authorization: 'Bearer second' }, 'first'],
    [{ authorization: 'Basic abc' }, undefined],
    [{}, undefined],
  ])('%j → %s', (headers, expected) => {
    expect(tokenFromHeaders(headers)).toBe(expected);
  });
});

describe('parseRoles', () => {
  it.each<[unknown, string[]]>([
    [
      ['admin', 'member'],
      ['admin', 'member'],
    ],
    ['[admin member]', ['admin', 'member']],
    ['admin,member', ['admin', 'member']],
    ['reader', ['reader']],
    ['["image admin","a,b"]', ['image admin', 'a,b']],
    [undefined, []],
    [42, []],
  ])('%j → %j (API Gateway flattens array claims into "[a b]")', (value, expected) => {
    expect(parseRoles(value)).toEqual(expected);
  });
});

describe('callerFromClaims', () => {
  it('builds the caller and recognises admins', () => {
    expect(callerFromClaims({ sub: 'u', project_id: 'p', roles: '[admin]' })).toEqual({
      userId: 'u',
      projectId: 'p',
      roles: ['admin'],
      isAdmin: true,
    });
  });

  it.each([undefined, {}, { sub: 'u' }, { project_id: 'p' }, { sub: '', project_id: 'p' }])(
    'refuses %j with 401',
    (claims) => {
      expect(() => callerFromClaims(claims)).toThrow(expect.objectContaining({ status: 401 }));
    },
  );
});

describe('callerFromAuthorizer (Keystone authorizer context)', () => {
  const NOW = Date.parse('2026-01-01T12:00:00Z');
  const authenticated = {
    outcome: 'authenticated',
    user_id: 'u',
    project_id: 'p',
    roles: '["image admin","a,b","admin"]',
    expires_at: '2026-01-01T13:00:00.000Z',
  };

  it('builds the caller with the exact role names', () => {
    expect(callerFromAuthorizer({ lambda: authenticated }, NOW)).toEqual({
      userId: 'u',
      projectId: 'p',
      roles: ['image admin', 'a,b', 'admin'],
      isAdmin: true,
    });
  });

  it.each<[string, Record<string, unknown>, number, RegExp]>([
    [
      'unauthenticated',
      { outcome: 'unauthenticated', message: 'The token has been revoked.' },
      401,
      /revoked/,
    ],
    ['unavailable', { outcome: 'unavailable', message: 'Keystone is down.' }, 503, /Keystone is down/],
    ['without outcome', { user_id: 'u' }, 401, /authorized/],
    ['expired since', { ...authenticated, expires_at: '2026-01-01T11:59:59Z' }, 401, /expired/],
    ['roles that are no JSON array', { ...authenticated, roles: 'admin member' }, 401, /user and a project/],
    ['without a project', { ...authenticated, project_id: '' }, 401, /user and a project/],
  ])('refuses a context %s', (_, lambda, status, message) => {
    expect(() => callerFromAuthorizer({ lambda }, NOW)).toThrow(
      expect.objectContaining({ status, message: expect.stringMatching(message) }),
    );
  });

  it('falls back to the JWT claims', () => {
    expect(
      callerFromAuthorizer({ jwt: { claims: { sub: 'u', project_id: 'p', roles: '[member]' } } }),
    ).toMatchObject({
      roles: ['member'],
    });
    expect(() => callerFromAuthorizer(undefined)).toThrow(expect.objectContaining({ status: 401 }));
  });

  it('tells the fallback routes what to refuse', () => {
    expect(refusalOf({ lambda: authenticated })).toBeUndefined();
    expect(refusalOf(undefined)).toBeUndefined();
    expect(refusalOf({ lambda: { outcome: 'unavailable', message: 'm' } })?.status).toBe(503);
    expect(refusalOf({ lambda: { outcome: 'unauthenticated', message: 'm' } })?.status).toBe(401);
  });
});
