import { describe, expect, it } from 'vitest';
import { callerFromClaims, parseRoles, tokenFromHeaders } from '#shared/auth';

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
