/**
 * Catalog files in Glance's format (its `etc/metadefs/*.json`): one namespace per file, with its
 * properties, objects, tags and resource-type associations. Loading goes through the same
 * validation as `POST /v2/metadefs/namespaces`, so a file loads exactly when the API would accept
 * it (docs/metadefs.md#loading-and-exporting-catalog-files). Pure: no files, no table.
 */
import { BadRequest } from '#shared/errors';
import { newNamespace } from './changes.ts';
import { namespaceCreateInput } from './inputs.ts';
import type { NamespaceRecord } from './model.ts';
import { associationFields, namespaceFields, propertiesView, tagNameView } from './views.ts';

/** Glance's loader gives namespaces without an owner to `admin`. */
export const DEFAULT_FILE_OWNER = 'admin';

/** A file's namespace as a new record; a 4xx `GlanceError` says what is wrong with it. */
export const namespaceFromFile = (json: unknown, now: Date): NamespaceRecord => {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new BadRequest('A catalog file holds one JSON object: a namespace.');
  }
  const { owner, ...rest } = json as Record<string, unknown>;
  const input = namespaceCreateInput({
    ...rest,
    ...(owner === undefined || owner === null ? {} : { owner }),
  });
  return newNamespace(input, DEFAULT_FILE_OWNER, now);
};

/** The file for a namespace: Glance's export format, plus the owner and objects' `required` (which Glance drops). */
export const namespaceToFile = (record: NamespaceRecord): Record<string, unknown> => ({
  ...namespaceFields(record),
  resource_type_associations: record.resource_type_associations.map(associationFields),
  properties: propertiesView(record.properties),
  objects: record.objects.map((object) => ({
    name: object.name,
    ...(object.description === undefined ? {} : { description: object.description }),
    ...(object.required.length ? { required: [...object.required] } : {}),
    properties: propertiesView(object.properties),
  })),
  tags: record.tags.map(tagNameView),
});

/**
 * A file name for a namespace: its name without the characters a file name should not have
 * (`OS::Compute::Libvirt` → `OS-Compute-Libvirt.json`), made unique among `taken`.
 */
export const fileNameFor = (namespace: string, taken: ReadonlySet<string>): string => {
  const base =
    namespace
      .replace(/[^\w.-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 100) || 'namespace';
  let name = `${base}.json`;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}-${n}.json`;
  return name;
};
