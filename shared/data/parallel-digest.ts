/**
 * The one-pass digest of `digest.ts` on three threads: the thread reading the stream only counts
 * the bytes and copies them into a small pool of 1 MiB blocks of shared memory; one worker updates
 * md5 and another sha512 over each block, and the block is free again once both are done. Both
 * hashes still see every byte once, in order, and the reading thread (the S3 read: HTTP, copies)
 * never waits for a hash. md5 alone takes as long as sha512 on the development machine, so with
 * md5 on the reading thread that thread was the bound
 * (docs/benchmarks.md#data-path-with-ranged-reads). Memory stays bounded by the pool (8 MiB): the
 * reader waits for a free block, which pauses the stream (TCP backpressure towards S3).
 *
 * Worth it only with a second CPU (Lambda at 1769 MB has the share of one; 3008 MB about 1.7,
 * 3538 MB two) and for data larger than a few MiB (a worker costs some tens of milliseconds to
 * start): `digestStreamFast` picks this or the single-thread `digestStream` accordingly.
 */

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { singleDigestThread } from '#shared/config';
import { DataTooLarge, type Digest, digestStream, HASH_ALGO } from './digest.ts';

const BLOCK = 1024 * 1024;
const POOL = 8;
/** Below this the workers' start-up costs more than they save. */
export const PARALLEL_MIN_BYTES = 16 * BLOCK;

// A script, not a file: it survives bundling into one Lambda file. The blocks are shared, so a
// message names a block and a length; nothing is copied or transferred.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hash = createHash(workerData.algorithm);
const blocks = workerData.blocks.map((block) => new Uint8Array(block));
parentPort.on('message', (message) => {
  if (message.end) {
    parentPort.postMessage({ digest: hash.digest('hex') });
    return;
  }
  hash.update(blocks[message.block].subarray(0, message.length));
  parentPort.postMessage({ block: message.block });
});
`;

interface Reply {
  readonly block?: number;
  readonly digest?: string;
}

/** `digestStream` with md5 and sha512 on two workers; same results, same `maxBytes` behaviour. */
export const digestStreamParallel = async (
  chunks: AsyncIterable<Uint8Array>,
  options: { maxBytes?: number } = {},
): Promise<Digest> => {
  const blocks = Array.from({ length: POOL }, () => new SharedArrayBuffer(BLOCK));
  const views = blocks.map((block) => new Uint8Array(block));
  const free = blocks.map((_, index) => index);
  /** How many workers still read each block. */
  const readers = blocks.map(() => 0);
  let waiting: ((block: number) => void) | undefined;
  let failed: ((error: Error) => void) | undefined;
  const failure = new Promise<never>((_, reject) => {
    failed = reject;
  });
  failure.catch(() => {});

  const release = (block: number) => {
    readers[block] = (readers[block] ?? 1) - 1;
    if ((readers[block] ?? 0) > 0) return;
    const resume = waiting;
    waiting = undefined;
    if (resume) resume(block);
    else free.push(block);
  };
  const threads = ['md5', HASH_ALGO].map((algorithm) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { algorithm, blocks } });
    let finished: ((digest: string) => void) | undefined;
    const digest = new Promise<string>((resolve) => {
      finished = resolve;
    });
    worker.on('message', (reply: Reply) => {
      if (reply.digest !== undefined) finished?.(reply.digest);
      else if (reply.block !== undefined) release(reply.block);
    });
    worker.on('error', (error) => failed?.(error));
    return { worker, digest };
  });

  const takeBlock = (): Promise<number> => {
    const block = free.pop();
    if (block !== undefined) return Promise.resolve(block);
    return Promise.race([new Promise<number>((resolve) => (waiting = resolve)), failure]);
  };
  const send = (block: number, length: number) => {
    readers[block] = threads.length;
    for (const { worker } of threads) worker.postMessage({ block, length });
  };

  try {
    let size = 0;
    let block = await takeBlock();
    let filled = 0;
    for await (const chunk of chunks) {
      size += chunk.byteLength;
      if (options.maxBytes !== undefined && size > options.maxBytes)
        throw new DataTooLarge(options.maxBytes, size);
      let offset = 0;
      while (offset < chunk.byteLength) {
        const n = Math.min(BLOCK - filled, chunk.byteLength - offset);
        (views[block] as Uint8Array).set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === BLOCK) {
          send(block, BLOCK);
          block = await takeBlock();
          filled = 0;
        }
      }
    }
    if (filled > 0) send(block, filled);
    for (const { worker } of threads) worker.postMessage({ end: true });
    const [checksum = '', os_hash_value = ''] = await Promise.race([
      Promise.all(threads.map(({ digest }) => digest)),
      failure,
    ]);
    return { size, checksum, os_hash_algo: HASH_ALGO, os_hash_value };
  } finally {
    await Promise.all(threads.map(({ worker }) => worker.terminate()));
  }
};

/**
 * The fastest correct pass for this machine: the hashes on two workers when there is a second CPU and the data
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
