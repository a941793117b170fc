/**
 * Helpers for the import workflow tests: a local stack with fault injection enabled and short
 * retry waits, staged images made directly (S3 PutObject + the repository's stage transitions,
 * the data path's contract), a file server on 127.0.0.1 for web-download, and checks that
 * nothing was left processing or importing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { S3AccessModel } from '#infra/local/s3-access';
import type { ImageRecord } from '#shared/images/model';
import { ImageRepository } from '#shared/images/repository';
import { withLock } from '#shared/import/lock';
import { newTaskRecord } from '#shared/import/records';
import { MemberRepository } from '#shared/members/repository';
import { decideImage } from '#shared/status-rules';
import { TaskRepository } from '#shared/tasks/repository';
import { type ApiResponse, startTestStack, type TestStack } from '#test/helpers/local-stack';
import { eventually, putTo } from '#test/integration/uploads/helpers';

export interface ImportStack extends TestStack {
  readonly images: ImageRepository<MemberRepository>;
  readonly tasks: TaskRepository;
  readonly s3: S3Client;
  readonly owner: string;
  readonly admin: string;
  readonly other: string;
}

/**
 * The test stack with `LOCAL_FAULTS=1` and retry waits of a few milliseconds. `env` is set before
 * any handler starts (settings are read at cold start) and restored by `stop`; `s3Access` is what
 * S3 tells the functions about missing keys (infra/local/s3-access.ts).
 */
export const startImportStack = async (
  env: Record<string, string> = {},
  s3Access?: S3AccessModel,
): Promise<ImportStack> => {
  const saved: Record<string, string | undefined> = {
    LOCAL_FAULTS: process.env.LOCAL_FAULTS,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL,
  };
  for (const name of Object.keys(env)) saved[name] = process.env[name];
  Object.assign(process.env, env);
  process.env.LOCAL_FAULTS = '1';
  // These tests fail imports on purpose; keep the handlers' step logs out of the output.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const stack = await startTestStack(s3Access ? { s3Access } : {});
  const stop = async () => {
    await stack.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  stack.stepFunctions.configure({ retryIntervalMs: 5 });
  // The first StartExecution synthesizes the state machine (CDK: seconds of CPU, tens on a busy
  // machine). Done here, so no test's import request waits on it past the function's timeout.
  await stack.stepFunctions.definition();
  // Loaded only now, after the log level is set: the runtime loads the domain and its logger.
  const { createDocumentClient, createS3Client } = await import('#shared/runtime');
  const doc = createDocumentClient(stack.dynamoEndpoint);
  return {
    ...stack,
    stop,
    images: new ImageRepository(doc, stack.tableName, new MemberRepository(doc, stack.tableName)),
    tasks: new TaskRepository(doc, stack.tableName),
    s3: createS3Client(stack.s3Endpoint),
    owner: await stack.tokenFor({ project: 'p-own', roles: ['member', 'reader'] }),
    admin: await stack.tokenFor({ project: 'p-admin', roles: ['admin'] }),
    other: await stack.tokenFor({ project: 'p-other', roles: ['member', 'reader'] }),
  };
};

export type FileServer = Awaited<ReturnType<typeof startFileServer>>;

/**
 * The set-up every import test file shares: an import stack (with `env`) and a file server with
 * `routes` for the whole file, and after each test `afterEach` (if any) and then the check that
 * nothing was left stuck. Call it at the top level of a test file.
 */
export const useImportStack = (options: {
  routes: Record<string, Serve>;
  env?: Record<string, string>;
  s3Access?: S3AccessModel;
  afterEach?: () => void;
}): { readonly stack: ImportStack; readonly files: FileServer } => {
  // Filled in by beforeAll: the test bodies hold these objects from the start.
  const stack = {} as ImportStack;
  const files = {} as FileServer;
  beforeAll(async () => {
    Object.assign(stack, await startImportStack(options.env, options.s3Access));
    Object.assign(files, await startFileServer(options.routes));
  });
  afterAll(async () => {
    await files.close?.();
    await stack.stop?.();
  });
  afterEach(async () => {
    options.afterEach?.();
    await expectNothingStuck(stack);
  });
  return { stack, files };
};

export const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
export const sha512 = (bytes: Uint8Array) => createHash('sha512').update(bytes).digest('hex');
export const randomBytesOf = (size: number) => {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 251;
  return bytes;
};

export const createImage = async (
  stack: ImportStack,
  body: Record<string, unknown> = {},
  token = stack.owner,
) => {
  const response = await stack.api('POST', '/v2/images', {
    token,
    body: { name: 'import-test', disk_format: 'raw', container_format: 'bare', ...body },
  });
  expect(response.status).toBe(201);
  return response.json as { id: string } & Record<string, unknown>;
};

/**
 * Stages data the way the data path leaves it (their contract): the object at
 * `staging/<image_id>/<upload_id>`, the image `uploading` with `size` and `data_key` set.
 */
export const stageDirect = async (
  stack: ImportStack,
  imageId: string,
  bytes: Uint8Array,
): Promise<string> => {
  const key = `staging/${imageId}/${randomUUID()}`;
  let image = await stack.images.get(imageId);
  if (!image) throw new Error(`no image ${imageId}`);
  image = await stack.images.transition(image, decideImage(image, 'stageStart'), { actor: 'test:stage' });
  await stack.images.transition(image, decideImage(image, 'stageFinish'), {
    actor: 'test:stage',
    set: { size: bytes.byteLength, data_key: key },
  });
  // Written after the record names it, so the data path's S3 trigger sees the image's own data
  // (and leaves it alone) rather than an orphan.
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucketName, Key: key, Body: bytes }));
  return key;
};

/**
 * What an import leaves behind when the API dies right before StartExecution: the image locked
 * by a pending glance-direct task that no execution runs. Returns the task id.
 */
export const plantPendingImport = async (stack: ImportStack, image: ImageRecord): Promise<string> => {
  const taskId = randomUUID();
  await stack.images.update(image, { properties: withLock(image, taskId) });
  await stack.tasks.create(
    newTaskRecord({
      id: taskId,
      type: 'api_image_import',
      input: { image_id: image.id, import_req: { method: { name: 'glance-direct' } }, backend: null },
      owner: 'p-own',
      imageId: image.id,
      userId: 'user-p-own',
      requestId: undefined,
      now: new Date(),
    }),
  );
  return taskId;
};

export const importImage = (stack: ImportStack, imageId: string, body: unknown, token = stack.owner) =>
  stack.api('POST', `/v2/images/${imageId}/import`, { token, body });

/** The tasks of an image, oldest first (raw records). */
export const imageTasks = async (stack: ImportStack, imageId: string, token = stack.owner) => {
  const response = await stack.api('GET', `/v2/images/${imageId}/tasks`, { token });
  expect(response.status).toBe(200);
  return response.json.tasks as Array<
    Record<string, unknown> & { id: string; status: string; message: string }
  >;
};

/** Waits for the latest task of an image to finish its execution; returns the task view. */
export const waitForImport = async (stack: ImportStack, imageId: string) => {
  const tasks = await imageTasks(stack, imageId, stack.admin);
  const task = tasks.at(-1);
  if (!task) throw new Error(`image ${imageId} has no task`);
  const execution = await stack.stepFunctions.waitFor(task.id, 45_000);
  const shown = await stack.api('GET', `/v2/tasks/${task.id}`, { token: stack.admin });
  return { task: shown.json, execution };
};

export const showImage = async (stack: ImportStack, imageId: string, token = stack.admin) =>
  (await stack.api('GET', `/v2/images/${imageId}`, { token })).json;

export const historyOf = async (stack: ImportStack, imageId: string) =>
  (
    (await stack.api('GET', `/v2/images/${imageId}/history`, { token: stack.admin })).json.history as Array<{
      from: string | null;
      to: string;
      trigger: string;
      reason?: string;
    }>
  ).map((entry) => entry.to);

export const objectExists = async (stack: ImportStack, key: string): Promise<boolean> => {
  try {
    await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucketName, Key: key }));
    return true;
  } catch {
    return false;
  }
};

export const keysUnder = async (stack: ImportStack, prefix: string): Promise<string[]> => {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.bucketName, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '');
};

/** No execution running, no task pending/processing, no image importing (issue: nothing stuck). */
export const expectNothingStuck = async (stack: ImportStack) => {
  await stack.stepFunctions.idle();
  const all: Array<{ status: string }> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await stack.tasks.queryAll({ descending: true, limit: 500, startKey });
    all.push(...page.tasks);
    startKey = page.lastKey;
  } while (startKey);
  expect(all.filter((task) => task.status === 'processing')).toEqual([]);
  for (const execution of stack.stepFunctions.executions()) expect(execution.status).not.toBe('RUNNING');
  // Every listed image of every project is in one visibility partition.
  for (const visibility of ['public', 'community', 'shared', 'private']) {
    let next: Record<string, unknown> | undefined;
    do {
      const page = await stack.images.queryIndex({
        index: 'gsi2',
        partition: `VIS#${visibility}`,
        descending: true,
        limit: 1000,
        startKey: next,
      });
      expect(page.images.filter((image) => image.status === 'importing').map((image) => image.id)).toEqual(
        [],
      );
      next = page.lastKey;
    } while (next);
  }
};

export type Serve = (req: IncomingMessage, res: ServerResponse, hits: number) => void;

/** An HTTP file server on 127.0.0.1, port 0; `routes` map paths to behaviours. */
export const startFileServer = async (routes: Record<string, Serve>) => {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const count = (hits.get(path) ?? 0) + 1;
    hits.set(path, count);
    const route = routes[path];
    if (!route) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    route(req, res, count);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((ready) => server.once('listening', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    hits: (path: string) => hits.get(path) ?? 0,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
};

/** Serves bytes in two writes without a Content-Length (chunked). */
export const serveChunked =
  (bytes: Uint8Array): Serve =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.write(bytes.subarray(0, 1000));
    res.end(bytes.subarray(1000));
  };

/** Serves bytes with a Content-Length. */
export const serveBytes =
  (bytes: Uint8Array): Serve =>
  (_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.byteLength),
    });
    res.end(bytes);
  };

export const expectStatus = (response: ApiResponse, status: number) => {
  expect({ status: response.status, body: response.text }).toMatchObject({ status });
};

/**
 * `images` whose first `update` (the lock write) lets `edit` land first, and counts the updates:
 * the request read the image before `edit`, and writes after it.
 */
export const racingImages = (images: ImageRepository, edit: () => Promise<unknown>) => {
  const seen = { updates: 0 };
  const proxy = new Proxy(images, {
    get(target, property) {
      if (property === 'update') {
        return async (...args: Parameters<ImageRepository['update']>) => {
          if (seen.updates++ === 0) await edit();
          return target.update(...args);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { images: proxy, seen };
};

/**
 * Stage uploads whose S3 trigger runs only when the test says (the stack runs with
 * `LOCAL_FINALISER=off`): `stage` presigns and PUTs the bytes, waiting for S3's event but not
 * delivering it; `trigger` delivers the events of a key to the finaliser, late.
 */
export const lateStageTrigger = (stack: ImportStack) => {
  const records: S3EventRecord[] = [];
  let listening = false;
  return {
    async stage(
      imageId: string,
      bytes: Uint8Array,
      { token = stack.owner, size = bytes.byteLength }: { token?: string; size?: number | null } = {},
    ): Promise<string> {
      // The stack starts after this module's top level runs: listen from the first upload on.
      if (!listening) stack.onObjectCreated((event) => void records.push(...event.Records));
      listening = true;
      const response = await stack.api('POST', `/v2/images/${imageId}/stage/presign`, {
        token,
        body: size === null ? {} : { size },
      });
      expect(response.status).toBe(200);
      const plan = response.json;
      // s3rver does not enforce the signed Content-Length that S3 would: a short body can arrive.
      const headers = Object.fromEntries(
        Object.entries((plan.headers ?? {}) as Record<string, string>).filter(
          ([name]) => name.toLowerCase() !== 'content-length',
        ),
      );
      expect((await putTo(plan.url, bytes, headers)).status).toBe(200);
      const key = `staging/${imageId}/${plan.upload_id}`;
      await eventually(async () => records.some((record) => record.s3.object.key === key));
      return key;
    },
    async trigger(key: string) {
      const { handler } = await import('#functions/uploads/finalise');
      return handler(
        { Records: records.filter((record) => record.s3.object.key === key) } as S3Event,
        { functionName: 'Finalise', awsRequestId: 'late', getRemainingTimeInMillis: () => 60_000 } as Context,
      );
    },
  };
};
