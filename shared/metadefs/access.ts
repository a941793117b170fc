/**
 * Glance's default metadefs policy (its new RBAC defaults) as pure rules, with its 404 masking
 * (docs/metadefs.md#policy). Without a namespace (listing, creating) the check is made against
 * the caller's own project, which is why a caller without even the reader role gets 404 there too.
 */
import type { Caller } from '#shared/auth';
import { Forbidden, NotFound } from '#shared/errors';
import { hasRole } from '#shared/policy';
import type { NamespaceRecord } from './model.ts';

/** Glance's policy names, which its 403 messages quote. */
export type MetadefAction =
  | 'get_metadef_namespace'
  | 'get_metadef_namespaces'
  | 'add_metadef_namespace'
  | 'modify_metadef_namespace'
  | 'delete_metadef_namespace'
  | 'get_metadef_object'
  | 'get_metadef_objects'
  | 'add_metadef_object'
  | 'modify_metadef_object'
  | 'delete_metadef_object'
  | 'list_metadef_resource_types'
  | 'get_metadef_resource_type'
  | 'add_metadef_resource_type_association'
  | 'remove_metadef_resource_type_association'
  | 'get_metadef_property'
  | 'get_metadef_properties'
  | 'add_metadef_property'
  | 'modify_metadef_property'
  | 'remove_metadef_property'
  | 'get_metadef_tag'
  | 'get_metadef_tags'
  | 'add_metadef_tag'
  | 'add_metadef_tags'
  | 'modify_metadef_tag'
  | 'delete_metadef_tag'
  | 'delete_metadef_tags';

const READ_ACTIONS: ReadonlySet<MetadefAction> = new Set([
  'get_metadef_namespace',
  'get_metadef_namespaces',
  'get_metadef_object',
  'get_metadef_objects',
  'list_metadef_resource_types',
  'get_metadef_resource_type',
  'get_metadef_property',
  'get_metadef_properties',
  'get_metadef_tag',
  'get_metadef_tags',
]);

/** `get_metadef_namespace`: may the caller read this namespace (and what it holds)? */
export const canReadNamespace = (
  caller: Caller,
  namespace: Pick<NamespaceRecord, 'owner' | 'visibility'>,
): boolean =>
  caller.isAdmin ||
  (hasRole(caller, 'reader') && (namespace.visibility === 'public' || namespace.owner === caller.projectId));

/** Whether the caller passes `action`, on a namespace or (without one) on its own project. */
export const isAllowed = (
  caller: Caller,
  action: MetadefAction,
  namespace?: Pick<NamespaceRecord, 'owner' | 'visibility'>,
): boolean => {
  if (caller.isAdmin) return true;
  if (!READ_ACTIONS.has(action)) return false;
  return namespace ? canReadNamespace(caller, namespace) : hasRole(caller, 'reader');
};

/** Glance's message when its webob 404 carries no explanation. */
export const UNSEEN = 'The resource could not be found.';

/**
 * Enforces `action` with Glance's masking: 404 (with `notFound`, the route's own message) when the
 * caller cannot read the namespace, 403 when it can but may not do this.
 */
export const requireAction = (
  caller: Caller,
  action: MetadefAction,
  namespace?: Pick<NamespaceRecord, 'owner' | 'visibility'>,
  notFound = UNSEEN,
): void => {
  if (isAllowed(caller, action, namespace)) return;
  const canSee = namespace ? canReadNamespace(caller, namespace) : hasRole(caller, 'reader');
  if (!canSee) throw new NotFound(notFound);
  throw new Forbidden(`You are not authorized to complete ${action} action.`);
};
