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

/** `npm start`'s program on a free port and the test's data directory; resolves once it listens. */
const startService = (): Promise<Running> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: '0',
        GLANCE_DATA_DIR: dataDir,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        SWEEP_INTERVAL_SECONDS: '0',
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
