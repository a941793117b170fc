import { Forbidden } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { loadImageAccess } from '#shared/images/access';
import { canDownloadImage, requireImagePolicy } from '#shared/policy';
import { images, objectStore, uploadSettings } from '#shared/runtime';
import { hasUsableData, isDeactivated } from '#shared/status-rules';
import { presignGet } from '#shared/storage/presign';

/**
 * `GET /v2/images/{image_id}/file` (docs/uploads.md#downloads, decision D6): 403 for non-admins on a deactivated
 * image (before the policy check), then `download_image` with 404 masking, 204 without data, else
 * a 302 to a presigned S3 GET (≤ 5 minutes; S3 serves ranges) with the md5 in `Content-MD5` as
 * Glance sends it (hex). Glance clients follow the redirect and verify the data against the
 * image's `os_hash_value`/`checksum`.
 */
export const handler = apiHandler(async ({ caller, path }) => {
  const { image, membership } = await loadImageAccess(images(), caller, path.image_id ?? '');
  if (!caller.isAdmin && isDeactivated(image.status)) {
    throw new Forbidden(`Image ${image.id} has been deactivated; only administrators may download it.`);
  }
  requireImagePolicy(caller, image, canDownloadImage, 'download', membership);
  if (!hasUsableData(image.status) || !image.data_key) return reply(204);
  const location = await presignGet(objectStore(), image.data_key, uploadSettings().downloadUrlSeconds);
  return reply(302, undefined, {
    Location: location,
    'Cache-Control': 'no-store',
    ...(image.checksum ? { 'Content-MD5': image.checksum } : {}),
  });
});
