/**
 * Fuzzing the four handlers that take a JSON body from a tenant (create, PATCH, import, tasks):
 * each handler with its real middleware, invoked with the payload-v2 events an HTTP client could
 * make API Gateway send (any bytes, any content type, any nesting, any member names, valid bodies
 * with one field mutated), against the emulators. Whatever comes in, the answer is never a 5xx,
 * and a 4xx always carries Glance's error body.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '#infra/local/lambda-runtime';
import { CLAIMS } from '#shared/auth';
import { deepArray, deepObject, objectOf, PROTOTYPE_NAMES } from '#test/helpers/hostile';
import {
  createImage,
  type FileServer,
  type ImportStack,
  randomBytesOf,
  serveBytes,
  startFileServer,
  startImportStack,
} from '#test/integration/import/helpers';

type Handler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyStructuredResultV2>;

let stack: ImportStack;
let files: FileServer;
let imageIds: string[];
const handlers: Record<string, Handler> = {};

beforeAll(async () => {
  stack = await startImportStack();
  files = await startFileServer({ '/ok.img': serveBytes(randomBytesOf(1024)) });
  imageIds = [(await createImage(stack)).id, (await createImage(stack, { name: 'second' })).id];
  // Loaded after the stack set the environment, as the local runtime loads them.
  for (const [name, entry] of Object.entries({
    CreateImage: 'create-image',
    PatchImage: 'patch-image',
    ImportImage: 'import-image',
  })) {
    handlers[name] = (await import(`#functions/images/${entry}`)).handler as Handler;
  }
  handlers.CreateTask = (await import('#functions/tasks/create-task')).handler as Handler;
});
afterAll(async () => {
  await stack?.stepFunctions.idle();
  await files?.close();
  await stack?.stop();
});

interface Attempt {
  readonly body: string | Uint8Array;
  readonly contentType: string | undefined;
  readonly roles: readonly string[];
  readonly imageId: string;
}

/** The payload-v2 event API Gateway builds for one request (shape of infra/local/api-gateway.ts). */
const eventOf = (
  routeKey: string,
  path: string,
  attempt: Attempt,
): APIGatewayProxyEventV2WithJWTAuthorizer => {
  const binary = typeof attempt.body !== 'string';
  const body = binary ? Buffer.from(attempt.body).toString('base64') : (attempt.body as string);
  const headers: Record<string, string> = { host: 'localhost', 'x-forwarded-proto': 'http' };
  if (attempt.contentType !== undefined) headers['content-type'] = attempt.contentType;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'fuzz',
      authorizer: {
        jwt: {
          claims: {
            [CLAIMS.user]: 'u-fuzz',
            [CLAIMS.project]: 'p-own',
            [CLAIMS.roles]: `[${attempt.roles.join(' ')}]`,
          },
          scopes: null,
        },
      },
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: routeKey.split(' ')[0] ?? 'POST',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'fuzz',
      },
      requestId: 'fuzz',
      routeKey,
      stage: '$default',
      time: '01/Jan/2030:00:00:00 +0000',
      timeEpoch: 0,
    },
    pathParameters: { image_id: attempt.imageId },
    ...(body.length > 0 && { body }),
    isBase64Encoded: binary && body.length > 0,
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
};

/** JSON values whose member names include every name special to JavaScript objects. */
const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .uniqueArray(
        fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 12 })), tie('value')),
        { selector: ([name]) => name, maxLength: 5 },
      )
      .map(objectOf),
  ),
})).value;

/** A valid body of each kind, so mutations land near the interesting checks. */
const validBodies = () => ({
  create: { name: 'fuzz', disk_format: 'raw', container_format: 'bare', os_distro: 'x', tags: ['a'] },
  patch: [{ op: 'replace', path: '/name', value: 'renamed' }],
  import: { method: { name: 'web-download', uri: files.url('/ok.img') } },
  task: {
    type: 'import',
    input: {
      import_from: files.url('/ok.img'),
      import_from_format: 'raw',
      image_properties: { name: 'fuzz', disk_format: 'raw', container_format: 'bare' },
    },
  },
});

/** A valid body with one member replaced by anything (or added under any name). */
const mutated = (kind: keyof ReturnType<typeof validBodies>) =>
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom('name', 'method', 'input', 'value', 'path', 'op', 'type', 'tags'),
        fc.constantFrom(...PROTOTYPE_NAMES),
      ),
      hostileJson,
    )
    .map(([member, value]) => {
      const body = structuredClone(validBodies()[kind]) as unknown;
      const target = (Array.isArray(body) ? body[0] : body) as Record<string, unknown>;
      Object.defineProperty(target, member, { value, enumerable: true, configurable: true, writable: true });
      return JSON.stringify(body);
    });

/** Names a tenant may give properties: every prototype-ish one, and anything else. */
const propertyNames = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES),
  fc.string({ minLength: 1, maxLength: 20 }),
);

/**
 * A valid body carrying extra string members under any names: image properties (create, and the
 * task's `image_properties`), extra members of an import request, a PATCH adding properties.
 */
const withProperties = (kind: keyof ReturnType<typeof validBodies>) =>
  fc
    .uniqueArray(fc.tuple(propertyNames, fc.string({ maxLength: 20 })), {
      selector: ([name]) => name,
      minLength: 1,
      maxLength: 6,
    })
    .map((entries) => {
      const body = structuredClone(validBodies()[kind]) as Record<string, unknown>;
      if (kind === 'patch') {
        return JSON.stringify(entries.map(([name, value]) => ({ op: 'add', path: `/${name}`, value })));
      }
      const target =
        kind === 'task'
          ? ((body.input as Record<string, unknown>).image_properties as Record<string, unknown>)
          : body;
      for (const [name, value] of entries) {
        Object.defineProperty(target, name, { value, enumerable: true, configurable: true, writable: true });
      }
      return JSON.stringify(body);
    });

/** A valid body with one extra member nested anywhere from 1 to 20,000 levels deep. */
const withDeepMember = (kind: keyof ReturnType<typeof validBodies>) =>
  fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean()).map(([levels, arrays]) => {
    const deep = arrays ? deepArray(levels) : deepObject(levels);
    const text = JSON.stringify(validBodies()[kind]);
    if (kind === 'patch') return `[{"op": "add", "path": "/deep", "value": ${deep}}]`;
    // The task's member goes into `input`, which is what a task keeps.
    return kind === 'task'
      ? `${text.slice(0, -2)}, "deep": ${deep}}}`
      : `${text.slice(0, -1)}, "deep": ${deep}}`;
  });

const bodies = (kind: keyof ReturnType<typeof validBodies>) =>
  fc.oneof(
    withProperties(kind),
    withProperties(kind),
    withDeepMember(kind),
    hostileJson.map((value) => JSON.stringify(value)),
    mutated(kind),
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 64 }),
    fc.integer({ min: 1, max: 12 }).map((levels) => `{"a": ${deepObject(levels)}}`),
    fc.constantFrom(
      deepArray(10_000),
      deepObject(5_000),
      `{"a": ${deepArray(100_000)}}`,
      '[',
      '{"a":',
      '""',
      'null',
      '',
    ),
    fc.constant(JSON.stringify({ pad: 'x'.repeat(70_000) })),
  );

const attempts = (
  kind: keyof ReturnType<typeof validBodies>,
  contentTypes: readonly (string | undefined)[],
) =>
  fc.record({
    body: bodies(kind),
    contentType: fc.constantFrom(...contentTypes),
    // Mostly callers allowed to go on (tasks are admin-only), so bodies reach the deeper checks.
    roles: fc.constantFrom(['member', 'reader'], ['admin'], ['admin'], ['reader'], []),
    // `fresh`: a new queued image, so an import body can get past the status checks to storage.
    imageId: fc.oneof(fc.constantFrom('0', '1', 'fresh', 'fresh'), fc.string({ maxLength: 40 })),
  });

const JSON_TYPES = ['application/json', 'application/json; charset=UTF-8', 'text/plain', undefined] as const;
const PATCH_TYPES = [
  'application/openstack-images-v2.1-json-patch',
  'application/openstack-images-v2.0-json-patch',
  'application/json-patch+json',
  undefined,
] as const;

const invoke = async (handler: string, routeKey: string, path: string, attempt: Attempt) => {
  const imageId =
    attempt.imageId === 'fresh'
      ? (await createImage(stack)).id
      : /^[01]$/.test(attempt.imageId)
        ? (imageIds[Number(attempt.imageId)] ?? '')
        : attempt.imageId;
  const fn = handlers[handler] as Handler;
  const result = await fn(
    eventOf(routeKey, path.replace('{image_id}', encodeURIComponent(imageId)), { ...attempt, imageId }),
    lambdaContext({ name: handler, timeoutSeconds: 60 }),
  );
  expect(result.statusCode, result.body).toBeLessThan(500);
  if ((result.statusCode ?? 0) >= 400) {
    expect(JSON.parse(result.body ?? '')).toEqual({
      error: { code: result.statusCode, title: expect.any(String), message: expect.any(String) },
    });
  }
  return result;
};

// 150 bodies per route through the real middleware and emulators: seconds when idle, past a
// minute on a busy machine.
describe('never a 5xx, whatever the body', { timeout: 240_000 }, () => {
  const runs = { numRuns: 150 };

  it('POST /v2/images', async () => {
    await fc.assert(
      fc.asyncProperty(attempts('create', JSON_TYPES), (attempt) =>
        invoke('CreateImage', 'POST /v2/images', '/v2/images', attempt).then(() => undefined),
      ),
      runs,
    );
  });

  it('PATCH /v2/images/{image_id}', async () => {
    await fc.assert(
      fc.asyncProperty(attempts('patch', PATCH_TYPES), (attempt) =>
        invoke('PatchImage', 'PATCH /v2/images/{image_id}', '/v2/images/{image_id}', attempt).then(
          () => undefined,
        ),
      ),
      runs,
    );
  });

  it('POST /v2/images/{image_id}/import', async () => {
    await fc.assert(
      fc.asyncProperty(attempts('import', JSON_TYPES), (attempt) =>
        invoke(
          'ImportImage',
          'POST /v2/images/{image_id}/import',
          '/v2/images/{image_id}/import',
          attempt,
        ).then(() => undefined),
      ),
      runs,
    );
  });

  it('POST /v2/tasks', async () => {
    await fc.assert(
      fc.asyncProperty(attempts('task', JSON_TYPES), (attempt) =>
        invoke('CreateTask', 'POST /v2/tasks', '/v2/tasks', attempt).then(() => undefined),
      ),
      runs,
    );
  });
});
