/**
 * What every namespace-scoped handler does: read the namespace, enforce the policy with Glance's
 * 404 masking, apply a pure change (changes.ts) and write it conditionally on the version read.
 * A lost race is retried on the fresh namespace by the one conflict-retry policy (shared/retry.ts),
 * every check made again, which is what running the requests one after the other would give; one
 * that keeps losing answers 409.
 */
import type { Caller } from '#shared/auth';
import { NotFound } from '#shared/errors';
import { retryOnConflict } from '#shared/retry';
import { type MetadefAction, requireAction } from './access.ts';
import type { NamespaceRecord } from './model.ts';
import type { MetadefRepository } from './repository.ts';

/**
 * Runs of one namespace write. Everything in a namespace is one item, so every write to it
 * contends with every other (several admins, or a catalog tool adding properties one by one); a
 * write only loses to another that succeeded in between, so up to this many simultaneous writers
 * to one namespace all land (docs/metadefs.md#storage); beyond that one may answer 409.
 */
export const NAMESPACE_WRITE_ATTEMPTS = 8;

/**
 * How a route says "namespace not found": Glance words it differently per route, for unknown and
 * invisible namespaces alike (here always the same, so a private name is never confirmed).
 */
export const NOT_FOUND = {
  /** Show, and every object route. */
  detailed: (namespace: string) => `Metadata definition namespace=${namespace} was not found.`,
  /** Update, delete, properties, tags, resource types. */
  short: (namespace: string) => `Namespace ${namespace} not found`,
} as const;

export interface NamespaceAccess {
  readonly action: MetadefAction;
  readonly notFound: (namespace: string) => string;
}

/** The namespace if the caller may do `action` on it: 404 when it cannot read it, 403 otherwise. */
export const loadNamespace = async (
  repository: MetadefRepository,
  caller: Caller,
  name: string,
  access: NamespaceAccess,
): Promise<NamespaceRecord> => {
  const record = await repository.getNamespace(name);
  if (!record) throw new NotFound(access.notFound(name));
  requireAction(caller, access.action, record, access.notFound(name));
  return record;
};

/**
 * Reads, checks and rewrites a namespace. `change` returns the record to write (the one it got
 * means no write) and what the handler answers with.
 */
export const editNamespace = async <T>(
  repository: MetadefRepository,
  caller: Caller,
  name: string,
  access: NamespaceAccess,
  change: (record: NamespaceRecord, now: Date) => { record: NamespaceRecord; result: T },
): Promise<{ record: NamespaceRecord; result: T }> =>
  retryOnConflict(
    async () => {
      const read = await loadNamespace(repository, caller, name, access);
      const { record, result } = change(read, new Date());
      if (record === read) return { record, result };
      return { record: await repository.saveNamespace(read, record), result };
    },
    { attempts: NAMESPACE_WRITE_ATTEMPTS },
  );

/** Deletes a namespace and all it holds, with the same checks and retries. */
export const deleteNamespace = async (
  repository: MetadefRepository,
  caller: Caller,
  name: string,
  access: NamespaceAccess,
  check: (record: NamespaceRecord) => void,
): Promise<void> =>
  retryOnConflict(
    async () => {
      const read = await loadNamespace(repository, caller, name, access);
      check(read);
      await repository.deleteNamespace(read);
    },
    { attempts: NAMESPACE_WRITE_ATTEMPTS },
  );
