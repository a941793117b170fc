/**
 * The policy table (docs/api.md#policy): every visibility × caller relation × role × operation,
 * run through the same checks the handlers make (the real loaders, edit and member functions over
 * in-memory storage), and compared with an oracle that evaluates Glance's own check strings
 * (glance/policies/base.py, image.py, tasks.py; new RBAC defaults) with Glance's policy targets and
 * its controllers' order of checks (glance/api/v2/images.py, image_data.py, image_members.py with
 * `enforce_secure_rbac`).
 */
import { describe, expect, it } from 'vitest';
import type { Caller } from '#shared/auth';
import { GlanceError } from '#shared/errors';
import { loadImageAccess } from '#shared/images/access';
import { toggleActivation } from '#shared/images/actions';
import { editImage, withFreshImage } from '#shared/images/edit';
import type { ImageRecord, Visibility } from '#shared/images/model';
import type { ImageRepository } from '#shared/images/repository';
import type { MemberRecord, MemberStatus } from '#shared/members/model';
import type { MemberRepository } from '#shared/members/repository';
import { addMember, listMembers, removeMember, setMemberStatus, showMember } from '#shared/members/sharing';
import {
  canCreateImage,
  canDownloadImage,
  canModifyImage,
  canReadImageHistory,
  canSeeImage,
  canUseTasksApi,
  requireImagePolicy,
} from '#shared/policy';
import { isDeactivated } from '#shared/status-rules';
import { loadImageForUpload } from '#shared/uploads/load';
import { admin, member, queuedImage, reader } from '#test/helpers/images';

// ---------------------------------------------------------------------------------------------
// The oracle: a small oslo.policy evaluator and Glance's rules, verbatim.

const PROJECT_MEMBER = 'role:member and project_id:%(project_id)s';
const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
const IMAGE_MEMBER_CHECK = 'project_id:%(member_id)s';
const COMMUNITY = "'community':%(visibility)s";
const PUBLIC = "'public':%(visibility)s";
const SHARED = "'shared':%(visibility)s";
const GLANCE_RULES: Record<string, string> = {
  add_image: `role:admin or (${PROJECT_MEMBER} and project_id:%(owner)s)`,
  get_image: `role:admin or (role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK} or ${COMMUNITY} or ${PUBLIC} or ${SHARED}))`,
  modify_image: `role:admin or (${PROJECT_MEMBER})`,
  upload_image: `role:admin or (${PROJECT_MEMBER})`,
  delete_image: `role:admin or (${PROJECT_MEMBER})`,
  deactivate: `role:admin or (${PROJECT_MEMBER})`,
  reactivate: `role:admin or (${PROJECT_MEMBER})`,
  download_image: `role:admin or (role:member and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK} or ${COMMUNITY} or ${PUBLIC} or ${SHARED}))`,
  add_member: `role:admin or (${PROJECT_MEMBER})`,
  delete_member: `role:admin or (${PROJECT_MEMBER})`,
  get_member: `role:admin or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK})`,
  get_members: `role:admin or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK})`,
  modify_member: `role:admin or (role:member and ${IMAGE_MEMBER_CHECK})`,
  tasks_api_access: 'role:admin',
  // Not Glance's: the transition history (decision B1), owner project readers and admins.
  history: `role:admin or (${PROJECT_READER})`,
};

type Credentials = { readonly roles: readonly string[]; readonly project_id: string };
type Target = Record<string, string | null>;

/** oslo.policy's grammar: `not` binds tighter than `and`, which binds tighter than `or`. */
const evaluate = (rule: string, creds: Credentials, target: Target): boolean => {
  // `%(key)s` substitutions are part of a check, not parentheses.
  const tokens = rule.match(/\(|\)|(?:%\(\w+\)s|[^\s()%])+/g) ?? [];
  let at = 0;
  const check = (token: string): boolean => {
    const colon = token.indexOf(':');
    const kind = token.slice(0, colon);
    const match = token
      .slice(colon + 1)
      .replace(/%\((\w+)\)s/g, (_, key: string) => String(target[key] ?? 'None'));
    if (kind === 'role') return creds.roles.includes(match.toLowerCase());
    if (kind.startsWith("'")) return kind.slice(1, -1) === match;
    return String(creds[kind as keyof Credentials]) === match;
  };
  const primary = (): boolean => {
    const token = tokens[at++] as string;
    if (token === 'not') return !primary();
    if (token === '(') {
      const value = or();
      at++; // ')'
      return value;
    }
    return check(token);
  };
  const and = (): boolean => {
    let value = primary();
    while (tokens[at] === 'and') {
      at++;
      value = primary() && value;
    }
    return value;
  };
  const or = (): boolean => {
    let value = and();
    while (tokens[at] === 'or') {
      at++;
      value = and() || value;
    }
    return value;
  };
  return or();
};

type Outcome = 'ok' | 403 | 404;

class Refused extends Error {
  constructor(readonly status: 403 | 404) {
    super(String(status));
  }
}

interface Case {
  readonly visibility: Visibility;
  readonly relation: Relation;
  readonly role: Role;
  readonly operation: Operation;
}

const OWNER = 'p-owner';
const THIRD = 'p-third';
/** The image's member entries, kept whatever its visibility (Glance keeps them too). */
const ROWS: Record<string, MemberStatus> = {
  'p-pending': 'pending',
  'p-accepted': 'accepted',
  'p-rejected': 'rejected',
  [THIRD]: 'accepted',
};

const RELATIONS = ['owner', 'pending', 'accepted', 'rejected', 'other'] as const;
type Relation = (typeof RELATIONS)[number];
const ROLES = ['reader', 'member', 'admin'] as const;
type Role = (typeof ROLES)[number];
const VISIBILITY_CASES: readonly Visibility[] = ['public', 'community', 'shared', 'private'];

const projectOf = (relation: Relation) => (relation === 'owner' ? OWNER : `p-${relation}`);

const callerOf = (relation: Relation, role: Role): Caller => {
  const project = projectOf(relation);
  if (role === 'admin') return admin(project, 'u');
  return role === 'member' ? member(project, 'u') : reader(project, 'u');
};

/** What Glance answers, following its controllers step by step. */
const glance = ({ visibility, relation, role, operation }: Case): Outcome => {
  const project = projectOf(relation);
  const roles =
    role === 'admin' ? ['admin', 'member', 'reader'] : role === 'member' ? ['member', 'reader'] : ['reader'];
  const creds: Credentials = { roles, project_id: project };
  const isAdmin = roles.includes('admin');
  const target: Target = {
    project_id: OWNER,
    owner: OWNER,
    visibility,
    // ImageRepo sets `member` to the caller's project on a shared image it does not own.
    member_id: visibility === 'shared' && project !== OWNER ? project : null,
  };
  const enforce = (rule: string, on: Target = target) => evaluate(GLANCE_RULES[rule] as string, creds, on);
  /** ImageAPIPolicy: Forbidden becomes NotFound when the caller cannot get_image. */
  const imagePolicy = (rule: string) => {
    if (enforce(rule)) return;
    throw new Refused(rule === 'get_image' || !enforce('get_image') ? 404 : 403);
  };
  /** MemberAPIPolicy: get_image first (masked), then the member rule (Forbidden). */
  const memberPolicy = (rule: string) => {
    imagePolicy('get_image');
    if (!enforce(rule)) throw new Refused(403);
  };
  /** The DB layer: is_image_visible, and the member rows a non-admin may read. */
  const dbVisible =
    isAdmin ||
    visibility === 'public' ||
    visibility === 'community' ||
    project === OWNER ||
    (visibility === 'shared' && Object.hasOwn(ROWS, project));
  const rowVisible = (memberId: string) =>
    Object.hasOwn(ROWS, memberId) && (isAdmin || project === OWNER || memberId === project);
  const requireImage = () => {
    if (!dbVisible) throw new Refused(404);
  };
  const requireShared = () => {
    if (visibility !== 'shared') throw new Refused(403);
  };
  const lookupMember = (memberId: string) => {
    memberPolicy('get_member');
    if (!rowVisible(memberId)) throw new Refused(404);
  };
  const own = project;

  const image = (rule: string) => [requireImage, () => imagePolicy(rule)];
  const member = (memberId: string, rule: string) => [
    requireImage,
    requireShared,
    () => lookupMember(memberId),
    () => memberPolicy(rule),
  ];
  const tasksApi = [
    () => {
      if (!enforce('tasks_api_access')) throw new Refused(403);
    },
  ];
  /** Every refusal of the member show becomes 404. */
  const masked = (memberId: string) => [
    () => {
      try {
        for (const step of [requireImage, requireShared, () => lookupMember(memberId)]) step();
      } catch {
        throw new Refused(404);
      }
    },
  ];
  const steps: Record<Operation, (() => void)[]> = {
    show: image('get_image'),
    listImageTasks: [
      requireImage,
      () => {
        if (!enforce('get_image')) throw new Refused(404);
      },
    ],
    patch: image('modify_image'),
    addTag: image('modify_image'),
    deleteTag: image('modify_image'),
    stage: image('modify_image'),
    import: image('modify_image'),
    upload: image('upload_image'),
    delete: image('delete_image'),
    deactivate: image('deactivate'),
    reactivate: image('reactivate'),
    download: image('download_image'),
    downloadDeactivated: [
      requireImage,
      () => {
        if (!isAdmin) throw new Refused(403);
      },
      () => imagePolicy('download_image'),
    ],
    history: image('history'),
    listMembers: [requireImage, requireShared, () => memberPolicy('get_members')],
    showOwnMember: masked(own),
    showThirdMember: masked(THIRD),
    addMember: [requireImage, requireShared, () => memberPolicy('add_member')],
    updateOwnMember: member(own, 'modify_member'),
    updateThirdMember: member(THIRD, 'modify_member'),
    removeOwnMember: member(own, 'delete_member'),
    removeThirdMember: member(THIRD, 'delete_member'),
    listTasks: tasksApi,
    showTask: tasksApi,
    createTask: tasksApi,
    createImage: [
      () => {
        const own = { project_id: project, owner: project, visibility: 'shared', member_id: null };
        if (!enforce('add_image', own)) throw new Refused(403);
      },
    ],
  };
  try {
    for (const step of steps[operation]) step();
    return 'ok';
  } catch (error) {
    if (error instanceof Refused) return error.status;
    throw error;
  }
};

// ---------------------------------------------------------------------------------------------
// Ours: the handlers' checks over in-memory storage.

const memoryMembers = (image: ImageRecord): MemberRepository => {
  const rows = new Map<string, MemberRecord>(
    Object.entries(ROWS).map(([member_id, status]) => [
      member_id,
      { image_id: image.id, member_id, status, created_at: image.created_at, updated_at: image.created_at },
    ]),
  );
  return {
    list: async () => [...rows.values()],
    get: async (_: string, memberId: string) => rows.get(memberId),
    statusOf: async (_: string, memberId: string) => rows.get(memberId)?.status ?? null,
    add: async (_: unknown, memberId: string) => ({
      kind: 'added',
      member: { ...(rows.get(THIRD) as MemberRecord), member_id: memberId, status: 'pending' },
    }),
    setStatus: async () => true,
    remove: async () => true,
    removeAll: async () => {},
  } as unknown as MemberRepository;
};

const memoryImages = (image: ImageRecord): ImageRepository<MemberRepository> =>
  ({
    get: async (id: string) => (id === image.id ? image : undefined),
    members: memoryMembers(image),
    update: async (current: ImageRecord) => current,
    transition: async (current: ImageRecord) => current,
  }) as unknown as ImageRepository<MemberRepository>;

const ours = async ({ visibility, relation, role, operation }: Case): Promise<Outcome> => {
  const caller = callerOf(relation, role);
  const status = operation === 'downloadDeactivated' || operation === 'reactivate' ? 'deactivated' : 'active';
  const image = queuedImage({ owner: OWNER, visibility, status });
  const images = memoryImages(image);
  const id = image.id;
  /** Each as its handler (functions/...) composes the checks. */
  const run: Record<Operation, () => Promise<unknown>> = {
    show: () => loadImageAccess(images, caller, id),
    listImageTasks: () => loadImageAccess(images, caller, id),
    patch: () => editImage(images, caller, id, () => undefined),
    addTag: () => editImage(images, caller, id, () => undefined),
    deleteTag: () => editImage(images, caller, id, () => undefined),
    stage: () => loadImageForUpload(images, caller, id, 'stage'),
    upload: () => loadImageForUpload(images, caller, id, 'file'),
    import: async () => {
      const { image: found, membership } = await loadImageAccess(images, caller, id);
      requireImagePolicy(caller, found, canModifyImage, 'import data into', membership);
    },
    delete: () =>
      withFreshImage(images, caller, id, async (found, membership) =>
        requireImagePolicy(caller, found, canModifyImage, 'delete', membership),
      ),
    deactivate: () => toggleActivation(images, caller, id, 'deactivate'),
    reactivate: () => toggleActivation(images, caller, id, 'reactivate'),
    download: async () => {
      const { image: found, membership } = await loadImageAccess(images, caller, id);
      if (!caller.isAdmin && isDeactivated(found.status)) throw new Refused(403);
      requireImagePolicy(caller, found, canDownloadImage, 'download', membership);
    },
    downloadDeactivated: () => run.download(),
    history: async () => {
      const { image: found, membership } = await loadImageAccess(images, caller, id);
      requireImagePolicy(caller, found, canReadImageHistory, 'read the history of', membership);
    },
    listMembers: () => listMembers(images, caller, id),
    showOwnMember: () => showMember(images, caller, id, caller.projectId),
    showThirdMember: () => showMember(images, caller, id, THIRD),
    addMember: () => addMember(images, caller, id, 'p-new', 128),
    updateOwnMember: () => setMemberStatus(images, caller, id, caller.projectId, 'accepted'),
    updateThirdMember: () => setMemberStatus(images, caller, id, THIRD, 'accepted'),
    removeOwnMember: () => removeMember(images, caller, id, caller.projectId),
    removeThirdMember: () => removeMember(images, caller, id, THIRD),
    listTasks: async () => {
      if (!canUseTasksApi(caller)) throw new Refused(403);
    },
    showTask: () => run.listTasks(),
    createTask: () => run.listTasks(),
    createImage: async () => {
      if (!canCreateImage(caller, caller.projectId)) throw new Refused(403);
    },
  };
  try {
    await run[operation]();
    return 'ok';
  } catch (error) {
    if (error instanceof Refused) return error.status;
    if (error instanceof GlanceError && (error.status === 403 || error.status === 404)) return error.status;
    throw error;
  }
};

const OPERATIONS = [
  'show',
  'listImageTasks',
  'patch',
  'addTag',
  'deleteTag',
  'upload',
  'stage',
  'import',
  'delete',
  'deactivate',
  'reactivate',
  'download',
  'downloadDeactivated',
  'history',
  'listMembers',
  'showOwnMember',
  'showThirdMember',
  'addMember',
  'updateOwnMember',
  'updateThirdMember',
  'removeOwnMember',
  'removeThirdMember',
  'listTasks',
  'showTask',
  'createTask',
  'createImage',
] as const;
type Operation = (typeof OPERATIONS)[number];

const TABLE: Case[] = VISIBILITY_CASES.flatMap((visibility) =>
  RELATIONS.flatMap((relation) =>
    ROLES.flatMap((role) => OPERATIONS.map((operation) => ({ visibility, relation, role, operation }))),
  ),
);

describe('the policy table: visibility × relation × role × operation', () => {
  it('covers every combination', () => {
    expect(TABLE).toHaveLength(4 * 5 * 3 * 26);
  });

  it.each(TABLE.map((c) => [c.visibility, c.relation, c.role, c.operation, glance(c), c] as const))(
    '%s image, %s project, %s role: %s → %s',
    async (_v, _r, _role, _op, expected, c) => {
      expect(await ours(c)).toBe(expected);
    },
  );
});

describe('the oracle itself, on cases Glance documents', () => {
  it.each<[Case, Outcome]>([
    // A member project sees a shared image whatever its member status; downloads need the member role.
    [{ visibility: 'shared', relation: 'pending', role: 'reader', operation: 'show' }, 'ok'],
    [{ visibility: 'shared', relation: 'rejected', role: 'member', operation: 'download' }, 'ok'],
    [{ visibility: 'shared', relation: 'accepted', role: 'reader', operation: 'download' }, 403],
    // Another project's private image does not exist for it; a public one is visible, not deletable.
    [{ visibility: 'private', relation: 'other', role: 'member', operation: 'delete' }, 404],
    [{ visibility: 'public', relation: 'other', role: 'member', operation: 'delete' }, 403],
    // The owner cannot accept for its consumer; a member cannot remove itself or touch another entry.
    [{ visibility: 'shared', relation: 'owner', role: 'member', operation: 'updateThirdMember' }, 403],
    [{ visibility: 'shared', relation: 'accepted', role: 'member', operation: 'removeOwnMember' }, 403],
    [{ visibility: 'shared', relation: 'accepted', role: 'member', operation: 'updateThirdMember' }, 404],
    // Only shared images have members; show turns that into 404.
    [{ visibility: 'private', relation: 'owner', role: 'member', operation: 'addMember' }, 403],
    [{ visibility: 'public', relation: 'owner', role: 'member', operation: 'showThirdMember' }, 404],
    // Deactivated: 403 for everyone but admins, the owner included.
    [{ visibility: 'private', relation: 'owner', role: 'member', operation: 'downloadDeactivated' }, 403],
    [{ visibility: 'private', relation: 'other', role: 'admin', operation: 'downloadDeactivated' }, 'ok'],
  ])('%o → %s', (c, expected) => {
    expect(glance(c)).toBe(expected);
  });
});

describe('requireImagePolicy', () => {
  it('masks invisible images as 404 and refuses visible ones with 403', () => {
    const stranger = member('p-stranger', 'u-stranger');
    const privateImage = queuedImage({ visibility: 'private' });
    const publicImage = queuedImage({ visibility: 'public' });
    const sharedImage = queuedImage({ visibility: 'shared' });
    expect(() => requireImagePolicy(stranger, privateImage, canModifyImage, 'delete')).toThrow(
      expect.objectContaining({ status: 404 }),
    );
    expect(() => requireImagePolicy(stranger, publicImage, canModifyImage, 'delete')).toThrow(
      expect.objectContaining({ status: 403 }),
    );
    expect(() => requireImagePolicy(stranger, sharedImage, canModifyImage, 'delete', 'pending')).toThrow(
      expect.objectContaining({ status: 403 }),
    );
    expect(() => requireImagePolicy(member(), privateImage, canModifyImage, 'delete')).not.toThrow();
  });

  it('grants nothing to a membership of an image that is not shared, or to the owner as a member', () => {
    const consumer = member('p-consumer', 'u');
    expect(canSeeImage(consumer, queuedImage({ visibility: 'private' }), 'accepted')).toBe(false);
    expect(canSeeImage(consumer, queuedImage({ visibility: 'shared' }), 'rejected')).toBe(true);
    expect(canSeeImage({ ...consumer, roles: [] }, queuedImage({ visibility: 'shared' }), 'accepted')).toBe(
      false,
    );
  });
});
