import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTAINER_FORMATS, DISK_FORMATS, VISIBILITIES } from '#shared/images/model';
import { imageView } from '#shared/images/view';
import {
  IMAGE_SCHEMA,
  IMAGES_SCHEMA,
  type JsonObject,
  MEMBER_SCHEMA,
  MEMBERS_SCHEMA,
  SCHEMA_NAMES,
  schemaDocument,
  TASK_SCHEMA,
  TASKS_SCHEMA,
} from '#shared/schemas/documents';
import { IMAGE_STATUS_ENUM, VISIBILITY_ENUM } from '#shared/schemas/enums';
import { IMAGE_STATUSES, TASK_STATUSES } from '#shared/status-rules';
import { queuedImage } from '#test/helpers/images';
import { check } from './json-schema-lite.ts';

const props = (doc: JsonObject): JsonObject => doc.properties as JsonObject;
const prop = (doc: JsonObject, name: string): JsonObject => props(doc)[name] as JsonObject;

describe('schemaDocument', () => {
  it.each([
    ['image', IMAGE_SCHEMA],
    ['images', IMAGES_SCHEMA],
    ['member', MEMBER_SCHEMA],
    ['members', MEMBERS_SCHEMA],
    ['task', TASK_SCHEMA],
    ['tasks', TASKS_SCHEMA],
  ])('serves %s', (name, doc) => {
    expect(schemaDocument(name)).toEqual(doc);
    expect((schemaDocument(name) as JsonObject).name).toBe(name);
  });

  it('knows exactly the six documents', () => {
    expect(SCHEMA_NAMES).toEqual(['image', 'images', 'member', 'members', 'task', 'tasks']);
  });

  it.each([
    '',
    'Image',
    'images/',
    'metadefs/namespace',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
  ])('returns undefined for %j', (name) => {
    expect(schemaDocument(name)).toBeUndefined();
  });

  it('returns a fresh copy each time (handlers cannot corrupt the constant)', () => {
    const doc = schemaDocument('image') as { name: string; properties: Record<string, unknown> };
    doc.name = 'mutated';
    delete doc.properties.id;
    expect(schemaDocument('image')).toEqual(IMAGE_SCHEMA);
    expect(prop(IMAGE_SCHEMA, 'id')).toBeDefined();
  });

  it('is plain JSON (survives a JSON round trip unchanged)', () => {
    for (const name of SCHEMA_NAMES) {
      const doc = schemaDocument(name);
      expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    }
  });
});

describe('image schema (Glance PermissiveSchema.raw)', () => {
  it('has the raw top-level shape', () => {
    expect(Object.keys(IMAGE_SCHEMA)).toEqual(['name', 'properties', 'additionalProperties', 'links']);
    expect(IMAGE_SCHEMA.additionalProperties).toEqual({ type: 'string' });
    expect(IMAGE_SCHEMA.links).toEqual([
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ]);
  });

  it('declares every base property in Glance order, with locations and direct_url but without stores', () => {
    expect(Object.keys(props(IMAGE_SCHEMA))).toEqual([
      'id',
      'name',
      'status',
      'visibility',
      'protected',
      'os_hidden',
      'checksum',
      'os_hash_algo',
      'os_hash_value',
      'owner',
      'size',
      'virtual_size',
      'container_format',
      'disk_format',
      'created_at',
      'updated_at',
      'tags',
      'direct_url',
      'min_ram',
      'min_disk',
      'self',
      'file',
      'schema',
      'locations',
    ]);
    // python-glanceclient registers a CLI option per schema property; `stores` collides with
    // image-create-via-import's own --stores option and argparse aborts.
    expect(props(IMAGE_SCHEMA)).not.toHaveProperty('stores');
  });

  it.each([
    ['id', { type: 'string' }],
    ['name', { type: ['null', 'string'], maxLength: 255 }],
    ['status', { type: 'string', readOnly: true }],
    ['visibility', { type: 'string', enum: ['community', 'public', 'private', 'shared'] }],
    ['protected', { type: 'boolean' }],
    ['os_hidden', { type: 'boolean' }],
    ['checksum', { type: ['null', 'string'], readOnly: true, maxLength: 32 }],
    ['os_hash_algo', { type: ['null', 'string'], readOnly: true, maxLength: 64 }],
    ['os_hash_value', { type: ['null', 'string'], readOnly: true, maxLength: 128 }],
    ['owner', { type: ['null', 'string'], maxLength: 255 }],
    ['size', { type: ['null', 'integer'], readOnly: true }],
    ['virtual_size', { type: ['null', 'integer'], readOnly: true }],
    ['container_format', { type: ['null', 'string'] }],
    ['disk_format', { type: ['null', 'string'] }],
    ['created_at', { type: 'string', readOnly: true }],
    ['updated_at', { type: 'string', readOnly: true }],
    ['tags', { type: 'array', items: { type: 'string', maxLength: 255 } }],
    ['direct_url', { type: 'string', readOnly: true }],
    ['min_ram', { type: 'integer' }],
    ['min_disk', { type: 'integer' }],
    ['self', { type: 'string', readOnly: true }],
    ['file', { type: 'string', readOnly: true }],
    ['schema', { type: 'string', readOnly: true }],
    ['locations', { type: 'array' }],
  ])('%s is declared as %j', (name, shape) => {
    expect(prop(IMAGE_SCHEMA, name)).toMatchObject(shape);
    expect(typeof prop(IMAGE_SCHEMA, name).description === 'string' || name === 'tags').toBe(true);
  });

  it('uses Glance id pattern', () => {
    expect(prop(IMAGE_SCHEMA, 'id').pattern).toBe(
      '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
    );
  });

  it('enumerates the same vocabularies as the record model', () => {
    expect(prop(IMAGE_SCHEMA, 'container_format').enum).toEqual([null, ...CONTAINER_FORMATS]);
    expect(prop(IMAGE_SCHEMA, 'disk_format').enum).toEqual([null, ...DISK_FORMATS]);
    expect([...VISIBILITY_ENUM].sort()).toEqual([...VISIBILITIES].sort());
    expect(prop(IMAGE_SCHEMA, 'status').enum).toEqual([
      'queued',
      'saving',
      'active',
      'killed',
      'deleted',
      'uploading',
      'importing',
      'pending_delete',
      'deactivated',
    ]);
    expect([...IMAGE_STATUS_ENUM].sort()).toEqual([...IMAGE_STATUSES].sort());
  });

  it('declares locations with url/metadata required and write-only validation_data', () => {
    const items = prop(IMAGE_SCHEMA, 'locations').items as JsonObject;
    expect(items.required).toEqual(['url', 'metadata']);
    const validation = (items.properties as JsonObject).validation_data as JsonObject;
    expect(validation).toMatchObject({
      type: 'object',
      writeOnly: true,
      additionalProperties: false,
      required: ['os_hash_algo', 'os_hash_value'],
    });
  });

  it('accepts the image views we render (python-glanceclient validates them before every update)', () => {
    const views = [
      imageView(queuedImage()),
      imageView(
        queuedImage({
          status: 'active',
          size: 1024,
          virtual_size: 4096,
          checksum: 'd41d8cd98f00b204e9800998ecf8427e',
          os_hash_algo: 'sha512',
          os_hash_value: 'a'.repeat(128),
          tags: ['x86', 'prod'],
          properties: { os_distro: 'ubuntu', os_glance_failed_import: '' },
        }),
      ),
      imageView(queuedImage({ name: null, container_format: null, disk_format: null, owner: null })),
    ];
    for (const view of views) expect(check(IMAGE_SCHEMA, view)).toEqual([]);
  });

  it('rejects what Glance rejects (sanity check of the test validator)', () => {
    expect(check(IMAGE_SCHEMA, { visibility: 'secret' })).not.toEqual([]);
    expect(check(IMAGE_SCHEMA, { os_distro: 5 })).not.toEqual([]);
    expect(check(IMAGE_SCHEMA, { id: 'nope' })).not.toEqual([]);
    expect(check(IMAGE_SCHEMA, { tags: ['a', 1] })).not.toEqual([]);
  });

  it('accepts any string-valued additional property (property test)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => !Object.hasOwn(props(IMAGE_SCHEMA), k)),
          fc.string(),
        ),
        (extra) => check(IMAGE_SCHEMA, extra).length === 0,
      ),
    );
  });
});

describe('images collection schema (Glance CollectionSchema.raw)', () => {
  it('wraps the raw image schema and declares first/next/schema with their links', () => {
    expect(IMAGES_SCHEMA).toEqual({
      name: 'images',
      properties: {
        images: { type: 'array', items: IMAGE_SCHEMA },
        first: { type: 'string' },
        next: { type: 'string' },
        schema: { type: 'string' },
      },
      links: [
        { rel: 'first', href: '{first}' },
        { rel: 'next', href: '{next}' },
        { rel: 'describedby', href: '{schema}' },
      ],
    });
  });

  it('accepts a list body', () => {
    const body = {
      images: [imageView(queuedImage())],
      first: '/v2/images',
      next: '/v2/images?marker=x',
      schema: '/v2/schemas/images',
    };
    expect(check(IMAGES_SCHEMA, body)).toEqual([]);
  });
});

describe('member schemas (minimal form)', () => {
  it('member has only name and properties', () => {
    expect(Object.keys(MEMBER_SCHEMA)).toEqual(['name', 'properties']);
    expect(Object.keys(props(MEMBER_SCHEMA))).toEqual([
      'member_id',
      'image_id',
      'created_at',
      'updated_at',
      'status',
      'schema',
    ]);
    expect(prop(MEMBER_SCHEMA, 'status').enum).toEqual(['pending', 'accepted', 'rejected']);
  });

  it('members wraps the minimal member with schema and a describedby link', () => {
    expect(MEMBERS_SCHEMA).toEqual({
      name: 'members',
      properties: { members: { type: 'array', items: MEMBER_SCHEMA }, schema: { type: 'string' } },
      links: [{ rel: 'describedby', href: '{schema}' }],
    });
  });

  it('accepts a member view', () => {
    const member = {
      member_id: 'p-beta',
      image_id: '9f1c0a8e-7f0e-4d7e-9a51-4c2b2f0e6a11',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      status: 'pending',
      schema: '/v2/schemas/member',
    };
    expect(check(MEMBER_SCHEMA, member)).toEqual([]);
    expect(check(MEMBERS_SCHEMA, { members: [member], schema: '/v2/schemas/members' })).toEqual([]);
  });
});

describe('task schemas (minimal form)', () => {
  it('task declares every task field of docs/lifecycle.md#task-record', () => {
    expect(Object.keys(TASK_SCHEMA)).toEqual(['name', 'properties']);
    expect(Object.keys(props(TASK_SCHEMA))).toEqual([
      'id',
      'type',
      'status',
      'input',
      'result',
      'owner',
      'message',
      'image_id',
      'request_id',
      'user_id',
      'expires_at',
      'created_at',
      'updated_at',
      'self',
      'schema',
    ]);
    expect(prop(TASK_SCHEMA, 'type').enum).toEqual(['import', 'api_image_import', 'location_import']);
    expect([...(prop(TASK_SCHEMA, 'status').enum as string[])].sort()).toEqual([...TASK_STATUSES].sort());
    expect(prop(TASK_SCHEMA, 'input').type).toEqual(['null', 'object']);
    expect(prop(TASK_SCHEMA, 'expires_at').type).toEqual(['null', 'string']);
  });

  it('tasks items are the stub schema: no input, result or message', () => {
    const items = (prop(TASKS_SCHEMA, 'tasks') as JsonObject).items as JsonObject;
    expect(items.name).toBe('task');
    expect(Object.keys(items.properties as JsonObject)).toEqual(
      Object.keys(props(TASK_SCHEMA)).filter((k) => !['input', 'result', 'message'].includes(k)),
    );
    expect(TASKS_SCHEMA.links).toEqual([{ rel: 'describedby', href: '{schema}' }]);
    expect(Object.keys(props(TASKS_SCHEMA))).toEqual(['tasks', 'schema']);
  });

  it('accepts a task view', () => {
    const task = {
      id: '9f1c0a8e-7f0e-4d7e-9a51-4c2b2f0e6a11',
      type: 'api_image_import',
      status: 'failure',
      input: { image_id: 'x', import_req: {}, backend: null },
      result: null,
      owner: 'p-alpha',
      message: 'boom',
      expires_at: null,
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      self: '/v2/tasks/9f1c0a8e-7f0e-4d7e-9a51-4c2b2f0e6a11',
      schema: '/v2/schemas/task',
    };
    expect(check(TASK_SCHEMA, task)).toEqual([]);
  });
});
