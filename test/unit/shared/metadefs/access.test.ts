import { describe, expect, it } from 'vitest';
import type { Caller } from '#shared/auth';
import { Forbidden, NotFound } from '#shared/errors';
import { canReadNamespace, type MetadefAction, requireAction } from '#shared/metadefs/access';
import type { NamespaceVisibility } from '#shared/metadefs/model';

const caller = (projectId: string, roles: string[]): Caller => ({
  userId: `u-${projectId}`,
  projectId,
  roles,
  isAdmin: roles.includes('admin'),
});
const ADMIN = caller('p-admin', ['admin']);
const MEMBER = caller('p1', ['member']);
const READER = caller('p1', ['reader']);
const OTHER = caller('p2', ['member']);
const ROLELESS = caller('p1', []);

type Target = { owner: string; visibility: NamespaceVisibility };
const PUBLIC: Target = { owner: 'p1', visibility: 'public' };
const PRIVATE: Target = { owner: 'p1', visibility: 'private' };

describe('canReadNamespace (get_metadef_namespace)', () => {
  it.each<[string, Caller, Target, boolean]>([
    ['admin, a private namespace of another project', ADMIN, PRIVATE, true],
    ['a reader of the owner project, private', READER, PRIVATE, true],
    ['a member (implies reader) of the owner project', MEMBER, PRIVATE, true],
    ['another project, private', OTHER, PRIVATE, false],
    ['another project, public', OTHER, PUBLIC, true],
    ['no role at all, public', ROLELESS, PUBLIC, false],
  ])('%s: %s', (_, who, namespace, expected) => {
    expect(canReadNamespace(who, namespace)).toBe(expected);
  });
});

const outcome = (who: Caller, action: MetadefAction, namespace?: Target) => {
  try {
    requireAction(who, action, namespace);
    return 'allowed';
  } catch (error) {
    if (error instanceof NotFound) return 404;
    if (error instanceof Forbidden) return `403 ${error.message}`;
    throw error;
  }
};

describe('requireAction', () => {
  it('lets only admins write, answering 403 to those who can read the namespace', () => {
    expect(outcome(ADMIN, 'add_metadef_object', PRIVATE)).toBe('allowed');
    expect(outcome(MEMBER, 'add_metadef_object', PRIVATE)).toBe(
      '403 You are not authorized to complete add_metadef_object action.',
    );
    expect(outcome(OTHER, 'add_metadef_object', PUBLIC)).toMatch(/^403/);
  });

  it('masks as 404 what the caller cannot read', () => {
    expect(outcome(OTHER, 'add_metadef_object', PRIVATE)).toBe(404);
    expect(outcome(OTHER, 'get_metadef_objects', PRIVATE)).toBe(404);
    expect(outcome(ROLELESS, 'get_metadef_namespace', PUBLIC)).toBe(404);
  });

  it('checks collection actions against the caller own project, as Glance does', () => {
    expect(outcome(READER, 'get_metadef_namespaces')).toBe('allowed');
    expect(outcome(READER, 'add_metadef_namespace')).toMatch(/^403/);
    expect(outcome(ROLELESS, 'get_metadef_namespaces')).toBe(404);
    expect(outcome(ROLELESS, 'list_metadef_resource_types')).toBe(404);
  });
});
