/**
 * Lifecycle-core benchmark: API creates/s and shows/s through the local API Gateway adapter
 * next to raw dynalite PutItem/s and GetItem/s with the same SDK client, in the same process
 * and run; list latency with 100 vs 10,000 images, and for a project that 100 vs 2,000 images
 * are shared with; and a CPU profile of the create path.
 */
import { Agent, request } from 'node:http';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalStack } from '#infra/local/stack';
import type { BenchRow } from './table.ts';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 2) * 1000;
const ROUNDS = 3;

/** Runs `op` from `concurrency` loops for the duration; returns operations per second. */
const throughput = async (concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> => {
  let done = 0;
  const end = performance.now() + DURATION_MS;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await op(done++);
    }),
  );
  return done / ((performance.now() - start) / 1000);
};

/**
 * The API is called with node:http and a keep-alive agent: the same HTTP stack the SDK uses for
 * the raw DynamoDB calls, so both sides pay for the same kind of client.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const call = (url: string, method: string, headers: Record<string, string>, body?: string) =>
  new Promise<{ status: number; text: string }>((done, fail) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export const runApiBench = async (): Promise<{ rows: BenchRow[]; profile: string[] }> => {
  // The local sweeper's timer is background work, not part of the measured paths.
  process.env.SWEEP_INTERVAL_SECONDS ??= '0';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const stack = await startLocalStack({ port: 0, persist: false });
  try {
    // The runtime reads the environment the stack just set: import it only now.
    const runtime = await import('#shared/runtime');
    const documentClient = runtime.documentClient();
    const images = runtime.imagesAndMembers();
    const config = runtime.serviceConfig();
    const { newImage } = await import('#shared/images/create');
    const token = await stack.signToken({ project: 'bench', roles: ['member', 'reader'] });
    const headers = { 'x-auth-token': token, 'content-type': 'application/json' };
    const body = JSON.stringify({ name: 'bench', disk_format: 'raw', container_format: 'bare' });
    const caller = { userId: 'u', projectId: 'raw', roles: ['member'], isAdmin: false };

    const apiCreate = async () => {
      const response = await call(`${stack.url}/v2/images`, 'POST', headers, body);
      if (response.status !== 201) throw new Error(`create answered ${response.status}`);
      return (JSON.parse(response.text) as { id: string }).id;
    };
    const seed = await apiCreate();
    const apiShow = async () => {
      const response = await call(`${stack.url}/v2/images/${seed}`, 'GET', headers);
      if (response.status !== 200) throw new Error(`show answered ${response.status}`);
    };
    const rawPut = async () => {
      const image = newImage({ name: 'bench' }, caller);
      await documentClient.send(
        new PutCommand({
          TableName: config.tableName,
          Item: { pk: `IMAGE#${image.id}`, sk: 'IMAGE', ...image },
        }),
      );
    };
    const rawGet = () =>
      documentClient.send(
        new GetCommand({
          TableName: config.tableName,
          Key: { pk: `IMAGE#${seed}`, sk: 'IMAGE' },
          ConsistentRead: true,
        }),
      );

    // Warm up the handlers (lazy import, JIT) before measuring.
    await throughput(4, () => Promise.all([apiCreate(), apiShow(), rawPut(), rawGet()]));

    // Rounds alternate raw and API windows, and each figure is the median of its rounds, so a
    // GC pause or a burst of other load cannot decide a ratio on its own.
    const rows: BenchRow[] = [];
    const measured: Record<string, number> = {};
    const operations = { rawPut, apiCreate, rawGet, apiShow } as const;
    for (const concurrency of [1, 8]) {
      const rounds: Record<string, number[]> = {};
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, op] of Object.entries(operations)) {
          rounds[name] = [...(rounds[name] ?? []), await throughput(concurrency, op)];
        }
      }
      for (const name of Object.keys(operations))
        measured[`${name}${concurrency}`] = median(rounds[name] ?? []);
      rows.push(
        {
          metric: `raw PutItem/s (c=${concurrency})`,
          value: measured[`rawPut${concurrency}`] ?? 0,
          unit: 'ops/s',
        },
        {
          metric: `API creates/s (c=${concurrency})`,
          value: measured[`apiCreate${concurrency}`] ?? 0,
          unit: 'ops/s',
        },
        {
          metric: `raw GetItem/s (c=${concurrency})`,
          value: measured[`rawGet${concurrency}`] ?? 0,
          unit: 'ops/s',
        },
        {
          metric: `API shows/s (c=${concurrency})`,
          value: measured[`apiShow${concurrency}`] ?? 0,
          unit: 'ops/s',
        },
      );
    }
    rows.push(
      {
        metric: 'API creates / raw PutItem (c=8)',
        value: (measured.apiCreate8 ?? 0) / (measured.rawPut8 ?? 1),
        unit: 'ratio',
        target: '>= 0.5',
      },
      {
        metric: 'API shows / raw GetItem (c=8)',
        value: (measured.apiShow8 ?? 0) / (measured.rawGet8 ?? 1),
        unit: 'ratio',
        target: '>= 0.5',
      },
    );

    // List latency: one project with 100 images, one with 10,000 (written straight to the table).
    const seedProject = async (project: string, count: number) => {
      const owner = { ...caller, projectId: project };
      for (let i = 0; i < count; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, count - i) }, () =>
            images.create(newImage({ name: 'seed' }, owner)),
          ),
        );
      }
    };
    await seedProject('small', 100);
    await seedProject('large', 10_000);
    const listOnce = async (token: string) => {
      const start = performance.now();
      const response = await call(`${stack.url}/v2/images?limit=25`, 'GET', { 'x-auth-token': token });
      const page = JSON.parse(response.text) as { images: unknown[] };
      if (page.images.length !== 25) throw new Error(`list returned ${page.images.length} images`);
      return performance.now() - start;
    };
    // Alternate the two projects so both see the same machine state (GC, JIT, other load).
    const smallToken = await stack.signToken({ project: 'small', roles: ['reader'] });
    const largeToken = await stack.signToken({ project: 'large', roles: ['reader'] });
    const smallSamples: number[] = [];
    const largeSamples: number[] = [];
    for (let i = 0; i < 210; i++) {
      const smallMs = await listOnce(smallToken);
      const largeMs = await listOnce(largeToken);
      if (i >= 10) {
        smallSamples.push(smallMs);
        largeSamples.push(largeMs);
      }
    }
    const small = median(smallSamples);
    const large = median(largeSamples);
    rows.push(
      { metric: 'list latency, 100 images (limit 25)', value: small, unit: 'ms' },
      { metric: 'list latency, 10,000 images (limit 25)', value: large, unit: 'ms' },
      { metric: 'list latency 10,000 / 100', value: large / small, unit: 'ratio', target: '<= 1.3' },
    );

    // The same for images shared with a project (accepted members): its default list merges its
    // member entries with the owner and public indexes, and must not grow with their number.
    const shareWith = async (consumer: string, count: number) => {
      const owner = { ...caller, projectId: `sharer-${consumer}` };
      for (let i = 0; i < count; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, count - i) }, async () => {
            const image = newImage({ name: 'shared' }, owner);
            await images.create(image);
            await images.members.add(image, consumer, 128);
            await images.members.setStatus(image.id, consumer, 'accepted');
          }),
        );
      }
    };
    await shareWith('consumer-small', 100);
    await shareWith('consumer-large', 2_000);
    const sharedSmallToken = await stack.signToken({ project: 'consumer-small', roles: ['reader'] });
    const sharedLargeToken = await stack.signToken({ project: 'consumer-large', roles: ['reader'] });
    const sharedSmall: number[] = [];
    const sharedLarge: number[] = [];
    for (let i = 0; i < 210; i++) {
      const smallMs = await listOnce(sharedSmallToken);
      const largeMs = await listOnce(sharedLargeToken);
      if (i >= 10) {
        sharedSmall.push(smallMs);
        sharedLarge.push(largeMs);
      }
    }
    rows.push(
      { metric: 'list latency, 100 images shared with the project', value: median(sharedSmall), unit: 'ms' },
      {
        metric: 'list latency, 2,000 images shared with the project',
        value: median(sharedLarge),
        unit: 'ms',
      },
      {
        metric: 'shared list latency 2,000 / 100',
        value: median(sharedLarge) / median(sharedSmall),
        unit: 'ratio',
        target: '<= 1.3',
      },
    );

    // Where the time goes on the create path: a CPU profile, self time grouped by package/file.
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await throughput(8, apiCreate);
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return { rows, profile: summariseProfile(profile) };
  } finally {
    agent.destroy();
    await stack.stop();
  }
};

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/** Self-time share per area (our code, dynalite, SDK, jose, node internals...). */
const summariseProfile = (profile: { nodes: ProfileNode[]; samples?: number[] }): string[] => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  const samples = profile.samples ?? [];
  for (const id of samples) {
    const url = byId.get(id)?.callFrame.url ?? '';
    const area = areaOf(url, byId.get(id)?.callFrame.functionName ?? '');
    totals.set(area, (totals.get(area) ?? 0) + 1);
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(
      ([area, count]) => `${((100 * count) / Math.max(1, samples.length)).toFixed(1).padStart(5)}%  ${area}`,
    );
};

const areaOf = (url: string, fn: string): string => {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.includes('/infra/local/')) return 'local API Gateway adapter';
  if (url.includes('/shared/') || url.includes('/functions/')) return 'serverless-glance handlers';
  if (url.startsWith('node:'))
    return `node ${url.slice(5).split('/').slice(0, 2).join('/')}${process.env.BENCH_PROFILE_DETAIL ? ` ${fn}` : ''}`;
  if (url === '') return fn ? `(${fn})` : '(native)';
  return url;
};
