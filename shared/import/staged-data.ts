/** Whether a glance-direct import has data to import, and which. */
import type { ImageRecord } from '#shared/images/model';
import { isStagingKeyOf } from '#shared/storage/bucket';
import type { ObjectStore } from '#shared/storage/object-store';

/**
 * Whether a glance-direct import can start: the staged data has arrived. `uploading` also means
 * "stage presigned, data not arrived yet" (`upload` set, `data_key` null); only an image with no
 * upload in flight and a `data_key` naming a staged object of its own has data to import.
 */
export const hasStagedData = (image: Pick<ImageRecord, 'id' | 'upload' | 'data_key'>): boolean =>
  image.upload === null && isStagingKeyOf(image.id, image.data_key);

export type StagedData =
  /** Recorded by the S3 trigger, with its size. */
  | { readonly key: string; readonly fromUpload: false }
  /** The object of the stage upload in flight, not recorded yet. */
  | { readonly key: string; readonly fromUpload: true; readonly size: number };

/**
 * The staged object a glance-direct import takes, as soon as it exists: the data the S3 trigger
 * already recorded (`data_key`), or else the object of the stage upload in flight once S3 has it.
 * S3 is strongly consistent, so once the client's PUT (or CompleteMultipartUpload) returned,
 * HeadObject sees the object, whether the trigger has run or not; the client cannot see that
 * race, the image is `uploading` before and after. An object whose size is not the upload's
 * declared size is not taken (the trigger will reject it). `fromUpload` tells the taker to record
 * the key and its `size` itself, in the same write that ends the upload: the size is what the
 * image then holds of `image_stage_total` (docs/quotas.md#held-usage), which the upload's
 * declared size held until then.
 */
export const stagedData = async (
  image: Pick<ImageRecord, 'id' | 'upload' | 'data_key'>,
  store: Pick<ObjectStore, 'size'>,
): Promise<StagedData | undefined> => {
  if (hasStagedData(image) && image.data_key) return { key: image.data_key, fromUpload: false };
  const { upload } = image;
  if (upload?.kind !== 'stage' || !isStagingKeyOf(image.id, upload.key)) return undefined;
  const size = await store.size(upload.key);
  if (size === undefined || (upload.declared_size !== null && size !== upload.declared_size))
    return undefined;
  return { key: upload.key, fromUpload: true, size };
};

export const noStagedDataMessage = (imageId: string): string =>
  `Image ${imageId} has no staged data yet; finish the upload first.`;
