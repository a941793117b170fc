import { describe, expect, it } from 'vitest';
import { failureOfReason, UNVERIFIED } from '#shared/uploads/finalise';
import { inspectImageData } from '#shared/uploads/inspect';
import { queuedImage } from '#test/helpers/images';

describe('failureOfReason (the HTTP error a recorded kill implies)', () => {
  it('reads back the kind of each reason the finaliser writes', () => {
    expect(failureOfReason('Size mismatch: 10 bytes declared, 12 bytes received.')).toBe('size-mismatch');
    expect(failureOfReason('Image data (at least 11 bytes) exceeds the image size cap of 10 bytes.')).toBe(
      'too-large',
    );
    expect(failureOfReason('Image data too large.')).toBe('too-large');
    expect(
      failureOfReason('Image data (1000 bytes) exceeds the storage quota of project p: 0 bytes left.'),
    ).toBe('quota');
    const inspection = inspectImageData(queuedImage({ disk_format: 'qcow2' }), new Uint8Array(512), 512);
    expect(inspection.ok).toBe(false);
    if (!inspection.ok) expect(failureOfReason(inspection.reason)).toBe('format');
  });

  it('knows no data failure for the sweeper time-limit kill', () => {
    expect(failureOfReason(`${UNVERIFIED}: 5000 bytes.`)).toBeUndefined();
  });
});
