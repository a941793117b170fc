/**
 * The streaming disk-format inspector (docs/image-formats.md). Pure: no I/O, no clock, no AWS.
 *
 * The data passes through `update(chunk)` once, in order, in chunks of any size (the verification
 * pass that hashes it feeds the same chunks). Every format's probe (formats/*.ts) runs side by
 * side; the inspector copies out only the regions a probe asks for, and the last bytes of the data
 * for the probes that need the end (VMDK streamOptimized footer, fixed VHD footer) in a small
 * rolling buffer, so the caller need not know the size up front. `finish()` ends the data and
 * returns what was found: the formats whose signature matched, each with its virtual size and the
 * safety checks it failed. The decision (decision.ts) is a separate pure function.
 *
 * Never throws, never loops without bound, and never holds more than `INSPECTION_BUDGET` bytes of
 * the data, whatever the input: hostile headers can only make a probe report a failure.
 */
import { gptProbe } from './formats/gpt.ts';
import { isoProbe } from './formats/iso.ts';
import { luksProbe } from './formats/luks.ts';
import { qcow2Probe } from './formats/qcow2.ts';
import { qedProbe } from './formats/qed.ts';
import { vdiProbe } from './formats/vdi.ts';
import { vhdProbe } from './formats/vhd.ts';
import { vhdxProbe } from './formats/vhdx.ts';
import { vmdkProbe } from './formats/vmdk.ts';
import {
  type Got,
  type Probe,
  type ProbeVerdict,
  REGION_LIMIT,
  type SafetyFailure,
  TAIL_LIMIT,
  type Want,
} from './probe.ts';

/** The formats the inspector tells apart, as Glance names them (oslo.utils' ALL_FORMATS). */
export const INSPECTED_FORMATS = [
  'raw',
  'qcow2',
  'vhd',
  'vhdx',
  'vmdk',
  'vdi',
  'qed',
  'iso',
  'gpt',
  'luks',
] as const;
export type InspectedFormat = (typeof INSPECTED_FORMATS)[number];
export type SignatureFormat = Exclude<InspectedFormat, 'raw'>;

/**
 * The most bytes of the data the inspector holds at once: the largest region (a VMDK descriptor,
 * 1 MiB - 1) plus everything the other probes may hold at the same time (sector-sized headers,
 * the ISO volume descriptor, the two tails), with room to spare. A region that would pass it is
 * refused, which the probe reports as a failure.
 */
export const INSPECTION_BUDGET = REGION_LIMIT + 256 * 1024;

/** Steps (regions served) one probe may take; each probe needs at most 7. */
const MAX_STEPS = 32;

export interface FormatMatch {
  readonly format: SignatureFormat;
  /** Bytes, as `qemu-img info` reports; null when unknown. */
  readonly virtualSize: number | null;
  /** The safety checks the data failed for this format (the VMDK create-type allow-list is applied later). */
  readonly failures: readonly SafetyFailure[];
  /** VMDK: the descriptor's `createType`. */
  readonly createType?: string;
}

export interface Inspection {
  /** Bytes seen. */
  readonly size: number;
  /** Formats whose signature the data carries, in `INSPECTED_FORMATS` order; none means raw. */
  readonly matches: readonly FormatMatch[];
}

const PROBES: Record<SignatureFormat, () => Probe> = {
  qcow2: qcow2Probe,
  vhd: vhdProbe,
  vhdx: vhdxProbe,
  vmdk: vmdkProbe,
  vdi: vdiProbe,
  qed: qedProbe,
  iso: isoProbe,
  gpt: gptProbe,
  luks: luksProbe,
};

/** A region being filled from the chunks that pass. */
interface Region {
  readonly offset: number;
  readonly buffer: Uint8Array;
  filled: number;
}

/** The last `buffer.length` bytes at or after `from`, kept while the data passes. */
interface Tail {
  readonly from: number;
  readonly buffer: Uint8Array;
  filled: number;
}

interface Reader {
  readonly format: SignatureFormat;
  readonly probe: Probe;
  /** End of the last region served: reads may not go back before it. */
  cursor: number;
  steps: number;
  region?: Region;
  tail?: Tail;
  verdict?: ProbeVerdict;
}

/** The chunk being processed, so a region asked for mid-chunk can take its bytes from it. */
interface Chunk {
  readonly bytes: Uint8Array;
  readonly start: number;
}

export class FormatInspector {
  private readonly readers: Reader[];
  private position = 0;
  private ended = false;
  private retained = 0;
  private peak = 0;
  private result?: Inspection;

  constructor() {
    this.readers = (Object.keys(PROBES) as SignatureFormat[]).map((format) => ({
      format,
      probe: PROBES[format](),
      cursor: 0,
      steps: 0,
    }));
    for (const reader of this.readers) this.resume(reader, undefined, undefined, true);
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.position;
  }

  /** Bytes of the data held now, and the most held at once so far (both within `INSPECTION_BUDGET`). */
  get retainedBytes(): number {
    return this.retained;
  }
  get peakRetainedBytes(): number {
    return this.peak;
  }

  /** The next chunk of the data. Chunks after `finish()` are ignored. */
  update(bytes: Uint8Array): void {
    if (this.ended || bytes.length === 0) return;
    const chunk: Chunk = { bytes, start: this.position };
    this.position += bytes.length;
    for (const reader of this.readers) {
      if (reader.tail) keepTail(reader.tail, bytes);
      else if (reader.region) this.fill(reader, chunk);
    }
  }

  /** The data has ended: settles every probe and returns the inspection (the same one on every call). */
  finish(): Inspection {
    if (this.result) return this.result;
    this.ended = true;
    for (const reader of this.readers) {
      while (!reader.verdict) {
        if (reader.region) {
          const { buffer, filled, offset } = reader.region;
          this.release(reader);
          reader.cursor = offset + filled;
          this.resume(reader, buffer.subarray(0, filled));
        } else if (reader.tail) {
          const { buffer, filled, from } = reader.tail;
          this.release(reader);
          const complete = filled === buffer.length && this.position - buffer.length >= from;
          if (complete) reader.cursor = this.position;
          this.resume(reader, complete ? buffer : undefined);
        } else {
          // Cannot happen: a reader without a verdict always waits for a region or a tail.
          reader.verdict = broken();
        }
      }
    }
    const matches: FormatMatch[] = [];
    for (const reader of this.readers) {
      const verdict = reader.verdict;
      if (verdict?.match) matches.push(this.matchOf(reader.format, verdict));
    }
    this.result = { size: this.position, matches };
    return this.result;
  }

  private matchOf(format: SignatureFormat, verdict: Extract<ProbeVerdict, { match: true }>): FormatMatch {
    const failures = [...verdict.failures];
    let virtualSize: number | null = null;
    const source = verdict.virtualSize;
    if (source) {
      const bytes = 'header' in source ? source.header : BigInt(this.position) - source.dataSizeMinus;
      if (bytes < 0n) {
        failures.push({
          check: 'virtual_size',
          reason: 'its header places the disk data beyond the end of the data',
        });
      } else if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
        failures.push({
          check: 'virtual_size',
          reason: `its virtual size (${bytes} bytes) is beyond any real disk`,
        });
      } else {
        virtualSize = Number(bytes);
      }
    }
    return verdict.createType === undefined
      ? { format, virtualSize, failures }
      : { format, virtualSize, failures, createType: verdict.createType };
  }

  /** Copies what `reader`'s region needs from the chunk; serves it (and the next ones) when complete. */
  private fill(reader: Reader, chunk: Chunk): void {
    const end = chunk.start + chunk.bytes.length;
    while (reader.region) {
      const region = reader.region;
      const from = region.offset + region.filled;
      if (from >= end) return;
      if (from < chunk.start) {
        // Cannot happen (regions start at or after the cursor, which is inside this chunk).
        this.release(reader);
        this.resume(reader, undefined, chunk);
        continue;
      }
      const n = Math.min(region.buffer.length - region.filled, end - from);
      region.buffer.set(chunk.bytes.subarray(from - chunk.start, from - chunk.start + n), region.filled);
      region.filled += n;
      if (region.filled < region.buffer.length) return;
      this.release(reader);
      reader.cursor = region.offset + region.buffer.length;
      this.resume(reader, region.buffer, chunk);
    }
  }

  /**
   * Resumes the probe with what it asked for and sets up its next request. Requests that cannot be
   * served are answered `undefined` at once; zero-length ones with no bytes.
   */
  private resume(reader: Reader, got: Got, chunk?: Chunk, first = false): void {
    let answer = got;
    for (;;) {
      let next: IteratorResult<Want, ProbeVerdict>;
      if (++reader.steps > MAX_STEPS) {
        reader.verdict = broken();
        return;
      }
      try {
        next = first ? reader.probe.next() : reader.probe.next(answer);
      } catch {
        reader.verdict = broken();
        return;
      }
      first = false;
      if (next.done) {
        reader.verdict = next.value;
        return;
      }
      const want = next.value;
      if (want.kind === 'tail') {
        // Asked once the data has ended, the tail was not kept: it would start before the cursor.
        const valid = Number.isInteger(want.length) && want.length >= 1 && want.length <= TAIL_LIMIT;
        if (this.ended || !valid || !this.reserve(want.length)) {
          answer = undefined;
          continue;
        }
        reader.tail = { from: reader.cursor, buffer: new Uint8Array(want.length), filled: 0 };
        if (chunk) keepTail(reader.tail, chunk.bytes.subarray(Math.max(reader.cursor - chunk.start, 0)));
        return;
      }
      const { offset, length } = want;
      const valid =
        Number.isSafeInteger(offset) &&
        Number.isSafeInteger(length) &&
        offset >= reader.cursor &&
        length >= 0 &&
        length <= REGION_LIMIT &&
        offset + length <= Number.MAX_SAFE_INTEGER;
      if (!valid) {
        answer = undefined;
        continue;
      }
      if (length === 0 || (this.ended && offset >= this.position)) {
        reader.cursor = offset;
        answer = new Uint8Array(0);
        continue;
      }
      if (this.ended || !this.reserve(length)) {
        // Once ended, a region before the end has passed without being kept.
        answer = undefined;
        continue;
      }
      // Mid-chunk, the caller's fill loop goes on with this region.
      reader.region = { offset, buffer: new Uint8Array(length), filled: 0 };
      return;
    }
  }

  private reserve(bytes: number): boolean {
    if (this.retained + bytes > INSPECTION_BUDGET) return false;
    this.retained += bytes;
    this.peak = Math.max(this.peak, this.retained);
    return true;
  }

  private release(reader: Reader): void {
    if (reader.region) this.retained -= reader.region.buffer.length;
    if (reader.tail) this.retained -= reader.tail.buffer.length;
    reader.region = undefined;
    reader.tail = undefined;
  }
}

/** The inspection of data already in memory (a direct upload). */
export const inspectBytes = (bytes: Uint8Array): Inspection => {
  const inspector = new FormatInspector();
  inspector.update(bytes);
  return inspector.finish();
};

/**
 * Passes a chunk stream through unchanged, feeding each chunk to `inspector` on the way; call
 * `inspector.finish()` once the stream is consumed.
 */
export async function* inspecting(
  chunks: AsyncIterable<Uint8Array>,
  inspector: FormatInspector,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    inspector.update(chunk);
    yield chunk;
  }
}

/** What a probe that misbehaved (threw, looped) yields: its format is assumed and refused. */
const broken = (): ProbeVerdict => ({
  match: true,
  virtualSize: null,
  failures: [{ check: 'inspection', reason: 'its headers could not be inspected' }],
});

const keepTail = (tail: Tail, bytes: Uint8Array): void => {
  const size = tail.buffer.length;
  if (bytes.length >= size) {
    tail.buffer.set(bytes.subarray(bytes.length - size));
    tail.filled = size;
    return;
  }
  if (tail.filled + bytes.length <= size) {
    tail.buffer.set(bytes, tail.filled);
    tail.filled += bytes.length;
    return;
  }
  const drop = tail.filled + bytes.length - size;
  tail.buffer.copyWithin(0, drop, tail.filled);
  tail.buffer.set(bytes, tail.filled - drop);
  tail.filled = size;
};
