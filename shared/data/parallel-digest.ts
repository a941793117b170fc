/**
 * The one-pass digest of `digest.ts`, with sha512 computed on a second thread: the thread reading
 * the stream updates size and md5 and copies the bytes into a small pool of 1 MiB buffers, which
 * are transferred (not copied) to a worker that updates sha512 and hands them back. Both hashes
 * still see every byte once, in order; memory stays bounded by the pool (4 MiB) because the reader
 * waits for a free buffer, which pauses the stream (TCP backpressure towards S3).
 *
 * Worth it only with a second CPU (Lambda at 1769 MB has one; 3538 MB has two) and for data
 * larger than a few MiB (a worker costs some tens of milliseconds to start): `digestStreamFast`
 * picks this or the single-thread `digestStream` accordingly.
 */

import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { singleDigestThread } from '#shared/config';
import { DataTooLarge, type Digest, digestStream, HASH_ALGO } from './digest.ts';

const BLOCK = 1024 * 1024;
const POOL = 4;
/** Below this the worker's start-up costs more than it saves. */
export const PARALLEL_MIN_BYTES = 16 * BLOCK;

// A script, not a file: it survives bundling into one Lambda file.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hash = createHash(workerData.algorithm);
parentPort.on('message', (message) => {
  if (message.end) {
    parentPort.postMessage({ digest: hash.digest('hex') });
    return;
  }
  hash.update(new Uint8Array(message.buffer, 0, message.length));
  parentPort.postMessage({ buffer: message.buffer }, [message.buffer]);
});
`;

interface Reply {
  readonly buffer?: ArrayBuffer;
  readonly digest?: string;
}

/** `digestStream` with sha512 on a worker thread; same results, same `maxBytes` behaviour. */
export const digestStreamParallel = async (
  chunks: AsyncIterable<Uint8Array>,
  options: { maxBytes?: number } = {},
): Promise<Digest> => {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { algorithm: HASH_ALGO } });
  const free: ArrayBuffer[] = Array.from({ length: POOL }, () => new ArrayBuffer(BLOCK));
  let waiting: ((buffer: ArrayBuffer) => void) | undefined;
  let finished: ((digest: string) => void) | undefined;
  let failed: ((error: Error) => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    failed = reject;
  });
  failure.catch(() => {});
  worker.on('message', (reply: Reply) => {
    if (reply.digest !== undefined) finished?.(reply.digest);
    else if (reply.buffer) {
      const resume = waiting;
      waiting = undefined;
      if (resume) resume(reply.buffer);
      else free.push(reply.buffer);
    }
  });
  worker.on('error', (error) => failed?.(error));

  const takeBuffer = (): Promise<ArrayBuffer> => {
    const buffer = free.pop();
    if (buffer) return Promise.resolve(buffer);
    return Promise.race([new Promise<ArrayBuffer>((resolve) => (waiting = resolve)), failure]);
  };

  try {
    const md5 = createHash('md5');
    let size = 0;
    let block = new Uint8Array(await takeBuffer());
    let filled = 0;
    const send = (length: number) => {
      const buffer = block.buffer as ArrayBuffer;
      worker.postMessage({ buffer, length }, [buffer]);
    };
    for await (const chunk of chunks) {
      size += chunk.byteLength;
      if (options.maxBytes !== undefined && size > options.maxBytes)
        throw new DataTooLarge(options.maxBytes, size);
      let offset = 0;
      while (offset < chunk.byteLength) {
        const n = Math.min(BLOCK - filled, chunk.byteLength - offset);
        const slice = chunk.subarray(offset, offset + n);
        // md5 block by block, so the worker gets each block as soon as it is ready: with large
        // chunks (a ranged read hands out whole ranges) the two hashes then overlap.
        md5.update(slice);
        block.set(slice, filled);
        filled += n;
        offset += n;
        if (filled === BLOCK) {
          send(BLOCK);
          block = new Uint8Array(await takeBuffer());
          filled = 0;
        }
      }
    }
    if (filled > 0) send(filled);
    const digest = new Promise<string>((resolve) => (finished = resolve));
    worker.postMessage({ end: true });
    const os_hash_value = await Promise.race([digest, failure]);
    return { size, checksum: md5.digest('hex'), os_hash_algo: HASH_ALGO, os_hash_value };
  } finally {
    await worker.terminate();
  }
};

/**
 * The fastest correct pass for this machine: two threads when there is a second CPU and the data
 * is known to be large enough, else the plain single-thread pass. `DIGEST_THREADS=1` forces the
 * single-thread pass.
 */
export const digestStreamFast = (
  chunks: AsyncIterable<Uint8Array>,
  options: { maxBytes?: number; expectedBytes?: number } = {},
): Promise<Digest> =>
  !singleDigestThread() && availableParallelism() > 1 && (options.expectedBytes ?? 0) >= PARALLEL_MIN_BYTES
    ? digestStreamParallel(chunks, options)
    : digestStream(chunks, options);
