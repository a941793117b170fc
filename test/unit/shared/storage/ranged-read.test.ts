/**
 * The ranged reader (shared/storage/ranged-read.ts) over a fake source whose ranges answer after
 * random delays, so they complete out of order: the bytes come out in order, whole, with never
 * more than the window in flight or held; failures, retries and early stops.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FetchRange, rangedChunks, ShortRange } from '#shared/storage/ranged-read';

const bytesOf = (size: number) => {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
  return bytes;
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** A source over `data` answering each range after `delay(start)` ms; counts what is in flight. */
const source = (data: Uint8Array, delay: (start: number) => number = () => 0) => {
  const stats = { inFlight: 0, maxInFlight: 0, requests: [] as Array<[number, number]>, aborted: 0 };
  const fetchRange: FetchRange = async (start, end, signal) => {
    stats.requests.push([start, end]);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      await sleep(delay(start), signal);
      return data.slice(start, end);
    } catch (error) {
      stats.aborted++;
      throw error;
    } finally {
      stats.inFlight--;
    }
  };
  return { fetchRange, stats };
};

const collect = async (chunks: AsyncIterable<Uint8Array>) => {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
};

describe('rangedChunks', () => {
  it('reassembles ranges answered out of order, with at most `window` requests in flight', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 40, max: 700 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
        async (size, rangeBytes, window, delays) => {
          const data = bytesOf(size);
          const { fetchRange, stats } = source(
            data,
            (start) => delays[(start / rangeBytes) % delays.length] ?? 0,
          );
          const read = await collect(rangedChunks(size, fetchRange, { rangeBytes, window }));
          expect(Buffer.compare(read, Buffer.from(data))).toBe(0);
          expect(stats.requests).toHaveLength(Math.ceil(size / rangeBytes));
          expect(stats.maxInFlight).toBeLessThanOrEqual(window);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('asks nothing for an empty object', async () => {
    const { fetchRange, stats } = source(new Uint8Array(0));
    expect((await collect(rangedChunks(0, fetchRange))).byteLength).toBe(0);
    expect(stats.requests).toEqual([]);
  });

  it('requests the next range only when the consumer takes one (memory stays within the window)', async () => {
    const data = bytesOf(100);
    const { fetchRange, stats } = source(data);
    const reader = rangedChunks(100, fetchRange, { rangeBytes: 10, window: 3 });
    await reader.next();
    await sleep(5);
    // Three in flight or waiting, plus the one handed out.
    expect(stats.requests).toHaveLength(4);
    await reader.return(undefined);
  });

  it('tries a range again on a retryable error or a short body, up to `attempts`', async () => {
    const data = bytesOf(30);
    const failures = new Map<number, number>([
      [0, 1],
      [10, 2],
    ]);
    const fetchRange: FetchRange = async (start, end) => {
      const left = failures.get(start) ?? 0;
      if (left > 0) {
        failures.set(start, left - 1);
        if (start === 0) throw new Error('ECONNRESET');
        return data.slice(start, end - 1);
      }
      return data.slice(start, end);
    };
    const read = await collect(
      rangedChunks(30, fetchRange, {
        rangeBytes: 10,
        attempts: 3,
        retryable: (e) => /ECONNRESET/.test(String(e)),
      }),
    );
    expect(Buffer.compare(read, Buffer.from(data))).toBe(0);

    failures.set(20, 3);
    await expect(collect(rangedChunks(30, fetchRange, { rangeBytes: 10, attempts: 3 }))).rejects.toThrow(
      ShortRange,
    );
  });

  it('fails on an error that is not retryable, and aborts the ranges in flight', async () => {
    const data = bytesOf(100);
    const { fetchRange: slow, stats } = source(data, () => 50);
    const fetchRange: FetchRange = (start, end, signal) =>
      start === 0 ? Promise.reject(new Error('PreconditionFailed')) : slow(start, end, signal);
    await expect(collect(rangedChunks(100, fetchRange, { rangeBytes: 10, window: 4 }))).rejects.toThrow(
      'PreconditionFailed',
    );
    await sleep(5);
    expect(stats.aborted).toBe(3);
    expect(stats.inFlight).toBe(0);
  });

  it('aborts the requests in flight when the consumer stops early', async () => {
    const { fetchRange, stats } = source(bytesOf(1000), (start) => (start === 0 ? 0 : 1000));
    for await (const chunk of rangedChunks(1000, fetchRange, { rangeBytes: 100, window: 4 })) {
      expect(chunk.byteLength).toBe(100);
      break;
    }
    await sleep(5);
    expect(stats.inFlight).toBe(0);
    expect(stats.aborted).toBe(4);
  });

  it('stops with the reason of the caller signal, even while a range is slow to come', async () => {
    const controller = new AbortController();
    // A source that ignores the signal: the reader must not wait for it.
    const fetchRange: FetchRange = () => new Promise(() => {});
    const reading = collect(rangedChunks(100, fetchRange, { rangeBytes: 10, signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('out of time')), 10);
    await expect(reading).rejects.toThrow('out of time');
  });

  it('keeps no range once the consumer has moved on (memory is the window, not the object)', async () => {
    const MiB = 1024 ** 2;
    const fetchRange: FetchRange = async (start, end) => Buffer.alloc(end - start, start / MiB);
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for await (const chunk of rangedChunks(256 * MiB, fetchRange, { rangeBytes: MiB, window: 4 })) {
      expect(chunk[0]).toBeDefined();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }
    // 256 MiB went through; what stays reachable is a few ranges (the collector may lag a little).
    expect(peak).toBeLessThan(96 * MiB);
  });

  it('hands each chunk back to `recycle` once the consumer asks for the next, and a short range too', async () => {
    const data = bytesOf(95);
    const { fetchRange } = source(data, (start) => (start % 20) / 10);
    const recycled: Uint8Array[] = [];
    const held: Uint8Array[] = [];
    for await (const chunk of rangedChunks(95, fetchRange, {
      rangeBytes: 10,
      window: 3,
      recycle: (chunk) => recycled.push(chunk),
    })) {
      // The chunk in hand has not been taken back; every one before it has, in order.
      expect(recycled).not.toContain(chunk);
      expect(recycled).toEqual(held);
      held.push(chunk);
    }
    expect(recycled).toEqual(held);
    expect(Buffer.concat(held).equals(Buffer.from(data))).toBe(true);

    const short: Uint8Array[] = [];
    let first = true;
    const shortOnce: FetchRange = async (start, end) => {
      if (start === 10 && first) {
        first = false;
        return data.slice(start, end - 1);
      }
      return data.slice(start, end);
    };
    await collect(rangedChunks(30, shortOnce, { rangeBytes: 10, recycle: (chunk) => short.push(chunk) }));
    expect(short[0]?.byteLength).toBe(9);
  });

  it('refuses a size or options that make no sense', async () => {
    const { fetchRange } = source(new Uint8Array(0));
    await expect(collect(rangedChunks(-1, fetchRange))).rejects.toThrow(RangeError);
    await expect(collect(rangedChunks(10, fetchRange, { window: 0 }))).rejects.toThrow(RangeError);
  });
});
