/**
 * `npm start` killed with SIGKILL while imports run, then started again on the same data
 * directory (docs/local-development.md#durable-executions): the executions that were running are
 * failed through the workflow's failure branch, so no task stays pending or processing and no
 * image stays importing or locked. A real child process, the real `infra/local/main.ts`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadOrCreateKeys, signToken } from '#infra/local/keys';
import { REPO_ROOT } from '#infra/local/lambda-runtime';

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  output(): string;
}

let dataDir: string;
let stalling: Server;
let stallingUrl: string;
let hits = 0;
const children: ChildProcessWithoutNullStreams[] = [];

/**
 * `npm start`'s program on a free port and the test's data directory; resolves once it listens.
 * `stallImage`: that image's import stops between its pending task and StartExecution.
 */
const startService = (stallImage?: string): Promise<Running> =>
  new Promise((resolve, reject) => {
    const preload = stallImage ? ['--import', './test/helpers/fixtures/stall-start-execution.ts'] : [];
    const child = spawn(process.execPath, ['--import', 'tsx', ...preload, 'infra/local/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: '0',
        GLANCE_DATA_DIR: dataDir,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        SWEEP_INTERVAL_SECONDS: '0',
        ...(stallImage ? { LOCAL_FAULTS: '1', STALL_START_EXECUTION_IMAGE: stallImage } : {}),
      },
    });
    children.push(child);
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /API\s+(http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve({ child, url: match[1], output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`exited (${code ?? signal}) before listening:\n${output}`)),
    );
  });

const killed = (child: ChildProcessWithoutNullStreams) =>
  new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'glance-restart-'));
  // Sends the headers and a first chunk, then nothing: the import's Fetch is mid-download.
  stalling = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1048576' });
    res.write(Buffer.alloc(1024));
  });
  stalling.listen(0, '127.0.0.1');
  await new Promise<void>((ready) => stalling.once('listening', ready));
  stallingUrl = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}/stalls.img`;
});
afterAll(async () => {
  for (const child of children) await killed(child);
  stalling?.closeAllConnections();
  stalling?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('fails every import that a kill -9 interrupted when the service starts again', {
  timeout: 240_000,
}, async () => {
  const first = await startService();
  const token = await signToken(await loadOrCreateKeys(dataDir), {
    project: 'p-restart',
    roles: ['member', 'reader'],
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${current.url}${path}`, {
      method,
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  let current = first;
  const createImage = async (name: string) => {
    const created = await api('POST', '/v2/images', { name, disk_format: 'raw', container_format: 'bare' });
    expect(created.status).toBe(201);
    return created.json.id as string;
  };
  const startImport = async (id: string) =>
    expect(
      (await api('POST', `/v2/images/${id}/import`, { method: { name: 'web-download', uri: stallingUrl } }))
        .status,
    ).toBe(202);

  // One import mid-download, one killed right after its 202.
  const downloading = await createImage('downloading');
  await startImport(downloading);
  for (let i = 0; i < 600 && hits === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(hits).toBe(1);
  const justStarted = await createImage('just-started');
  await startImport(justStarted);
  await killed(first.child);

  current = await startService();
  for (let i = 0; i < 100 && !/were running/.test(current.output()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(current.output()).toMatch(/2 were running and are being failed through the failure branch/);

  const settled = async (id: string) => {
    for (let i = 0; i < 300; i++) {
      const tasks = (await api('GET', `/v2/images/${id}/tasks`)).json.tasks as { status: string }[];
      if (tasks.length > 0 && tasks.every((task) => task.status === 'failure')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const image = (await api('GET', `/v2/images/${id}`)).json;
    const tasks = (await api('GET', `/v2/images/${id}/tasks`)).json.tasks;
    return { image, tasks };
  };

  const mid = await settled(downloading);
  expect(mid.tasks).toMatchObject([
    { status: 'failure', message: expect.stringMatching(/^Import failed at step Fetch: Local.Restarted: /) },
  ]);
  expect(mid.image.status).toBe('killed');
  expect(mid.image.os_glance_import_task).toBeUndefined();

  const early = await settled(justStarted);
  expect(early.tasks).toMatchObject([
    { status: 'failure', message: expect.stringMatching(/Local.Restarted/) },
  ]);
  // Killed if Mark had made it importing; back as it was (queued, lock released) if not.
  expect(['killed', 'queued']).toContain(early.image.status);
  expect(early.image.os_glance_import_task).toBeUndefined();

  // Nothing of this project is left pending, processing, importing or locked.
  const images = (await api('GET', '/v2/images')).json.images as {
    status: string;
    os_glance_import_task?: string;
  }[];
  expect(images.filter((image) => ['importing', 'uploading', 'saving'].includes(image.status))).toEqual([]);
  expect(images.filter((image) => image.os_glance_import_task)).toEqual([]);
  await killed(current.child);
});

it('fails an import whose execution a kill -9 stopped from starting, once its deadline passed', {
  timeout: 240_000,
}, async () => {
  // A service the previous test left running (it failed half-way) would hold the data directory.
  for (const child of children) await killed(child);
  const token = await signToken(await loadOrCreateKeys(dataDir), {
    project: 'p-unstarted',
    roles: ['member', 'reader'],
  });
  const call = async (base: string, method: string, path: string, body?: unknown, signal?: AbortSignal) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };

  // The image exists before the service that will crash starts: the stall is keyed by its id.
  const setup = await startService();
  const created = await call(setup.url, 'POST', '/v2/images', {
    name: 'never-started',
    disk_format: 'raw',
    container_format: 'bare',
  });
  expect(created.status).toBe(201);
  const imageId = created.json.id as string;
  await killed(setup.child);

  const crashing = await startService(imageId);
  const request = call(crashing.url, 'POST', `/v2/images/${imageId}/import`, {
    method: { name: 'web-download', uri: stallingUrl },
  }).catch((error: unknown) => error);
  // The lock is taken and the task written; StartExecution is what the API is doing when it dies.
  let tasks: { id: string; status: string }[] = [];
  for (let i = 0; i < 300 && tasks.length === 0; i++) {
    tasks = (await call(crashing.url, 'GET', `/v2/images/${imageId}/tasks`)).json.tasks;
    if (tasks.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(tasks).toMatchObject([{ status: 'pending' }]);
  const taskId = tasks[0]?.id as string;
  await killed(crashing.child);
  expect(await request).toBeInstanceOf(Error);

  // What `npm start` runs, in this process so the test can run the sweeper at a later time.
  process.env.SWEEP_INTERVAL_SECONDS = '0';
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const { startLocalStack } = await import('#infra/local/stack');
  const stack = await startLocalStack({ port: 0, persist: true, dataDir });
  try {
    expect(stack.stepFunctions.recovery.failed).toEqual([]);
    const task = async () =>
      (
        (await call(stack.url, 'GET', `/v2/images/${imageId}/tasks`)).json.tasks as {
          id: string;
          status: string;
        }[]
      ).find((one) => one.id === taskId);
    const image = async () => (await call(stack.url, 'GET', `/v2/images/${imageId}`)).json;
    // No execution exists for it: nothing but the sweeper will ever end it.
    expect((await task())?.status).toBe('pending');
    expect((await image()).os_glance_import_task).toBe(taskId);

    const { UNSTARTED_TASK_SECONDS } = await import('#shared/import/state-machine');
    const { handler: sweep } = await import('#functions/uploads/sweep');
    const at = (seconds: number) => ({ time: new Date(Date.now() + seconds * 1000).toISOString() });
    expect((await sweep(at(UNSTARTED_TASK_SECONDS - 60))).unstarted).toEqual([]);
    expect((await sweep(at(UNSTARTED_TASK_SECONDS + 60))).unstarted).toEqual([taskId]);

    expect(await task()).toMatchObject({
      status: 'failure',
      message: expect.stringMatching(/never started/),
    });
    expect(await image()).toMatchObject({ status: 'queued' });
    expect((await image()).os_glance_import_task).toBeUndefined();
    // Nothing of this project is left pending, processing, uploading, importing or locked.
    const all = (await call(stack.url, 'GET', '/v2/images')).json.images as {
      status: string;
      os_glance_import_task?: string;
    }[];
    expect(all.filter((one) => ['importing', 'uploading', 'saving'].includes(one.status))).toEqual([]);
    expect(all.filter((one) => one.os_glance_import_task)).toEqual([]);
    const listed = (await call(stack.url, 'GET', `/v2/images/${imageId}/tasks`)).json.tasks as {
      status: string;
    }[];
    expect(listed.filter((one) => ['pending', 'processing'].includes(one.status))).toEqual([]);
  } finally {
    await stack.stop();
  }
});
