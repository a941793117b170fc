/** Whether a glance-direct import has data to import. */
import type { ImageRecord } from '#shared/images/model';
import { isStagingKeyOf } from '#shared/storage/bucket';

/**
 * Whether a glance-direct import can start: the staged data has arrived. `uploading` also means
 * "stage presigned, data not arrived yet" (`upload` set, `data_key` null); only an image with no
 * upload in flight and a `data_key` naming a staged object of its own has data to import.
 */
export const hasStagedData = (image: Pick<ImageRecord, 'id' | 'upload' | 'data_key'>): boolean =>
  image.upload === null && isStagingKeyOf(image.id, image.data_key);

export const noStagedDataMessage = (imageId: string): string =>
  `Image ${imageId} has no staged data yet; finish the upload first.`;
