/**
 * A TCP proxy that holds every connection's downstream direction (server → client) to a fixed
 * rate, standing in front of s3rver so that one GetObject stream behaves like one S3 connection
 * from Lambda (tens of MB/s) instead of a local disk. Each connection is paced on its own, so N
 * ranged GETs in flight get N times the rate, as they would from S3.
 *
 * Pacing: every chunk is released at the time the connection's budget allows (a schedule that
 * accumulates, so timer granularity does not lower the rate), with a small burst allowance.
 *
 * `startThrottleProxyProcess` runs it in a child process of its own: it stands for the network, and
 * sharing the event loop of the process that serves S3 made that one thread the bound.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Paces the bytes passing through to `bytesPerSecond`. */
class Pace extends Transform {
  private next = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burstMs = 20,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _: BufferEncoding, done: TransformCallback): void {
    const now = performance.now();
    // Idle time earns at most a short burst, not an unlimited one.
    this.next = Math.max(this.next, now - this.burstMs);
    this.next += (chunk.byteLength / this.bytesPerSecond) * 1000;
    const wait = this.next - now;
    if (wait <= 1) done(null, chunk);
    else setTimeout(() => done(null, chunk), wait);
  }
}

export interface ThrottleProxy {
  /** `http://127.0.0.1:<port>`: use it as the S3 endpoint. */
  readonly endpoint: string;
  /** Connections accepted so far. */
  readonly connections: () => number;
  close(): Promise<void>;
}

export const startThrottleProxy = async (target: string, bytesPerSecond: number): Promise<ThrottleProxy> => {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(new Pace(bytesPerSecond)).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** The same proxy in a child process (`node --import tsx`); `close` ends the process. */
export const startThrottleProxyProcess = async (
  target: string,
  bytesPerSecond: number,
): Promise<ThrottleProxy> => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', target, String(bytesPerSecond)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const endpoint = line.toString().trim();
  if (!endpoint.startsWith('http://')) throw new Error(`throttle proxy did not start: ${endpoint}`);
  return {
    endpoint,
    connections: () => Number.NaN,
    close: async () => {
      child.kill();
      await once(child, 'exit');
    },
  };
};

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv[2] === '--serve') {
  const proxy = await startThrottleProxy(process.argv[3] ?? '', Number(process.argv[4]));
  process.stdout.write(`${proxy.endpoint}\n`);
}
