import { Forbidden } from '#shared/errors';
import { apiHandler, reply } from '#shared/http/handler';
import { loadImageAccess } from '#shared/images/access';
import { downloadUrl } from '#shared/locations/download';
import { canDownloadImage, requireImagePolicy } from '#shared/policy';
import { images, objectStore, uploadSettings } from '#shared/runtime';
import { hasUsableData, isDeactivated } from '#shared/status-rules';

/**
 * `GET /v2/images/{image_id}/file` (docs/uploads.md#downloads, decision D6): 403 for non-admins on a deactivated
 * image (before the policy check), then `download_image` with 404 masking, 204 without data, else
 * a 302 to a presigned S3 GET (≤ 5 minutes; S3 serves ranges) with the md5 in `Content-MD5` as
 * Glance sends it (hex); a location-backed image redirects to its location (docs/locations.md#downloads). Glance
 * clients follow the redirect and verify the data against the image's `os_hash_value`/`checksum`.
 */
export const handler = apiHandler(async ({ caller, path }) => {
  const { image, membership } = await loadImageAccess(images(), caller, path.image_id ?? '');
  if (!caller.isAdmin && isDeactivated(image.status)) {
    throw new Forbidden(`Image ${image.id} has been deactivated; only administrators may download it.`);
  }
  requireImagePolicy(caller, image, canDownloadImage, 'download', membership);
  const location = hasUsableData(image.status)
    ? await downloadUrl(image, objectStore(), uploadSettings().downloadUrlSeconds)
    : undefined;
  if (location === undefined) return reply(204);
  return reply(302, undefined, {
    Location: location,
    'Cache-Control': 'no-store',
    ...(image.checksum ? { 'Content-MD5': image.checksum } : {}),
  });
});
