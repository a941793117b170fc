/**
 * Every route of the route table, fed bad bodies and malformed ids: never a 5xx, and every error
 * in Glance's shape. (Some of these bodies are valid for some routes, e.g. octet-stream data for
 * `PUT /file`; those may succeed, which is why only 5xx is ruled out.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '#infra/routes';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';

let stack: TestStack;
let member: string;
let imageId: string;

beforeAll(async () => {
  stack = await startTestStack();
  member = await stack.tokenFor({ project: 'p-fuzz', roles: ['member', 'reader'] });
  const created = await stack.api('POST', '/v2/images', {
    token: member,
    body: { name: 'target', disk_format: 'raw', container_format: 'bare' },
  });
  imageId = created.json.id;
});
afterAll(() => stack.stop());

const BODIES: [string, string, string][] = [
  ['malformed JSON', '{"a": ', 'application/json'],
  ['a JSON array', '[1, 2]', 'application/json'],
  ['a JSON scalar', '"text"', 'application/json'],
  ['null', 'null', 'application/json'],
  ['a deeply nested object', `${'{"a":'.repeat(200)}1${'}'.repeat(200)}`, 'application/json'],
  ['binary garbage as JSON', '\u0000\u0001\u0002', 'application/json'],
  ['a JSON patch of garbage', '[{"op": 1, "path": {}}]', 'application/openstack-images-v2.1-json-patch'],
  ['an empty body', '', 'application/json'],
  ['an octet-stream body', 'data', 'application/octet-stream'],
  ['a form body', 'a=b', 'application/x-www-form-urlencoded'],
];

const PATH_VALUES: Record<string, () => string> = {
  image_id: () => imageId,
  task_id: () => '00000000-0000-4000-8000-000000000000',
  tag: () => `${'t'.repeat(300)}`,
  schema_name: () => 'nope',
};

const concretePath = (path: string, garbageIds: boolean) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) =>
    garbageIds && name.endsWith('_id') ? '..%2F..%2Fetc' : (PATH_VALUES[name]?.() ?? 'x'),
  );

const writeRoutes = routes.filter((route) => route.method !== 'GET');

describe('bad input on every route', () => {
  it.each(
    writeRoutes.flatMap((route) =>
      BODIES.map(([label, body, type]) => [route.name, label, route, body, type] as const),
    ),
  )('%s with %s answers 4xx', async (_, __, route, body, type) => {
    const response = await stack.api(route.method, concretePath(route.path, false), {
      token: member,
      body,
      headers: { 'content-type': type },
    });
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(500);
    if (response.status >= 400) expect(response.json).toMatchObject({ error: { code: response.status } });
  });

  it.each(routes.filter((route) => route.path.includes('_id}')).map((route) => [route.name, route] as const))(
    '%s with a malformed id answers 4xx',
    async (_, route) => {
      const response = await stack.api(route.method, concretePath(route.path, true), {
        token: member,
        body: route.method === 'GET' ? undefined : '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.json).toMatchObject({ error: { code: response.status } });
    },
  );
});
