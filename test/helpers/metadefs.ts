import { type NamespaceInput, newNamespace } from '#shared/metadefs/changes';
import type { NamespaceRecord } from '#shared/metadefs/model';

/** A namespace record as `POST /v2/metadefs/namespaces` would create it. */
export const namespaceRecord = (
  input: Partial<NamespaceInput> & { namespace?: string } = {},
  at = new Date('2026-03-01T10:00:00Z'),
): NamespaceRecord =>
  newNamespace(
    {
      namespace: 'OS::Test',
      properties: {},
      objects: [],
      tags: [],
      resource_type_associations: [],
      ...input,
    },
    'p-owner',
    at,
  );
