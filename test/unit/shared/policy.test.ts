import { describe, expect, it } from 'vitest';
import type { Caller } from '#shared/auth';
import type { Visibility } from '#shared/images/model';
import { canCreateImage, canModifyImage, canSeeImage, requireImagePolicy } from '#shared/policy';
import { admin, member, queuedImage, reader } from '#test/helpers/images';

const stranger = member('p-stranger', 'u-stranger');
const roleless: Caller = { userId: 'u', projectId: 'p-alpha', roles: [], isAdmin: false };

describe('canSeeImage (get_image)', () => {
  it.each<[string, Caller, Visibility, boolean]>([
    ['owner member', member(), 'private', true],
    ['owner reader', reader(), 'private', true],
    ['owner without roles', roleless, 'private', false],
    ['stranger, private', stranger, 'private', false],
    ['stranger, shared (no membership)', stranger, 'shared', false],
    ['stranger, public', stranger, 'public', true],
    ['stranger, community', stranger, 'community', true],
    ['admin, private', admin(), 'private', true],
  ])('%s → %s', (_, caller, visibility, expected) => {
    expect(canSeeImage(caller, queuedImage({ visibility }))).toBe(expected);
  });
});

describe('canModifyImage (modify_image)', () => {
  it.each<[string, Caller, boolean]>([
    ['owner member', member(), true],
    ['owner reader', reader(), false],
    ['stranger member', stranger, false],
    ['admin', admin(), true],
  ])('%s → %s', (_, caller, expected) => {
    expect(canModifyImage(caller, queuedImage())).toBe(expected);
  });
});

describe('canCreateImage (add_image)', () => {
  it.each<[string, Caller, string | null, boolean]>([
    ['member for its project', member(), 'p-alpha', true],
    ['member for another project', member(), 'p-beta', false],
    ['reader for its project', reader(), 'p-alpha', false],
    ['admin for anyone', admin(), 'p-beta', true],
  ])('%s → %s', (_, caller, owner, expected) => {
    expect(canCreateImage(caller, owner)).toBe(expected);
  });
});

describe('requireImagePolicy', () => {
  it('masks invisible images as 404 and refuses visible ones with 403', () => {
    const privateImage = queuedImage({ visibility: 'private' });
    const publicImage = queuedImage({ visibility: 'public' });
    expect(() => requireImagePolicy(stranger, privateImage, canModifyImage, 'delete')).toThrow(
      expect.objectContaining({ status: 404 }),
    );
    expect(() => requireImagePolicy(stranger, publicImage, canModifyImage, 'delete')).toThrow(
      expect.objectContaining({ status: 403 }),
    );
    expect(() => requireImagePolicy(member(), privateImage, canModifyImage, 'delete')).not.toThrow();
  });
});
