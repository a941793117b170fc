/**
 * One streaming pass over image data computing size, md5 (`checksum`) and sha512
 * (`os_hash_value`) together (docs/lifecycle.md#hashes, decision D7). Memory stays flat whatever the size:
 * chunks are hashed and dropped.
 */
import { createHash } from 'node:crypto';

export const HASH_ALGO = 'sha512';

export interface Digest {
  readonly size: number;
  readonly checksum: string;
  readonly os_hash_algo: typeof HASH_ALGO;
  readonly os_hash_value: string;
}

/** The data went past a limit; `size` is how far the pass got before stopping. */
export class DataTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly size: number,
  ) {
    super(`image data exceeds the limit of ${limit} bytes`);
    this.name = 'DataTooLarge';
  }
}

/**
 * Hashes a byte stream. With `maxBytes`, stops reading as soon as the data passes it and throws
 * `DataTooLarge`, so an oversized object is never read to the end.
 */
export const digestStream = async (
  chunks: AsyncIterable<Uint8Array>,
  options: { maxBytes?: number } = {},
): Promise<Digest> => {
  const md5 = createHash('md5');
  const sha512 = createHash(HASH_ALGO);
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.byteLength;
    if (options.maxBytes !== undefined && size > options.maxBytes)
      throw new DataTooLarge(options.maxBytes, size);
    md5.update(chunk);
    sha512.update(chunk);
  }
  return { size, checksum: md5.digest('hex'), os_hash_algo: HASH_ALGO, os_hash_value: sha512.digest('hex') };
};

/** The same digest for bytes already in memory (direct uploads up to 6 MB). */
export const digestBytes = (bytes: Uint8Array): Digest => ({
  size: bytes.byteLength,
  checksum: createHash('md5').update(bytes).digest('hex'),
  os_hash_algo: HASH_ALGO,
  os_hash_value: createHash(HASH_ALGO).update(bytes).digest('hex'),
});
