/**
 * The multipart upload: parts in parallel, each streamed from the file, URLs asked for in batches
 * and re-signed when they expire, failed parts retried; finished parts are saved in the state file
 * as they land, then the upload is completed.
 */
import { api, type Part, type Plan, presign } from './api-client.ts';
import { UploadFailed, type UploadOptions } from './options.ts';
import type { Progress } from './progress.ts';
import type { State } from './state-file.ts';
import { isExpired, type PutResult, putRange, sleep } from './transfer.ts';

/** Fresh URLs for some parts of the upload in flight. */
const resignParts = async (options: UploadOptions, uploadId: string, numbers: number[]) => {
  const plan = await presign(options, { upload_id: uploadId, part_numbers: numbers });
  if (plan.method !== 'multipart')
    throw new UploadFailed(`Upload ${uploadId} is no longer a multipart upload.`);
  return plan.parts;
};

/** Sends the parts still missing, then completes the upload; returns how many parts this run sent. */
export const uploadMultipart = async (
  options: UploadOptions,
  plan: Extract<Plan, { method: 'multipart' }>,
  state: { current: State; save: () => Promise<void> },
  progress: Progress,
): Promise<number> => {
  const batch = Math.max(1, plan.parts.length);
  const urls = new Map<number, { url: string; expires: number }>();
  const addUrls = (parts: Part[], expiresAt: string) => {
    for (const part of parts) urls.set(part.part_number, { url: part.url, expires: Date.parse(expiresAt) });
  };
  addUrls(plan.parts, plan.expires_at);
  const todo = Array.from({ length: plan.part_count }, (_, i) => i + 1).filter(
    (n) => !state.current.etags[n],
  );
  let sentParts = 0;
  let refreshing: Promise<void> | undefined;

  /** A usable URL for `number`, asking for the next batch of missing parts when needed. */
  const urlFor = async (number: number, force = false): Promise<string> => {
    const known = urls.get(number);
    if (!force && known && known.expires - Date.now() > 60_000) return known.url;
    if (!refreshing) {
      const wanted = [number, ...todo.filter((n) => n !== number && !state.current.etags[n])].slice(0, batch);
      refreshing = (async () => {
        const more = await presign(options, { upload_id: plan.upload_id, part_numbers: wanted });
        if (more.method !== 'multipart') throw new UploadFailed('The upload is no longer multipart.');
        addUrls(more.parts, more.expires_at);
      })().finally(() => {
        refreshing = undefined;
      });
    }
    await refreshing;
    const fresh = urls.get(number);
    if (fresh && fresh.expires - Date.now() > 0) return fresh.url;
    return (await resignParts(options, plan.upload_id, [number]))[0]?.url ?? '';
  };

  const sendPart = async (number: number) => {
    const start = (number - 1) * plan.part_size;
    const length = Math.min(plan.part_size, plan.size - start);
    for (let attempt = 1; ; attempt++) {
      const url = await urlFor(number, attempt > 1);
      let sent = 0;
      let result: PutResult;
      try {
        result = await putRange(
          url,
          {},
          options.file,
          start,
          length,
          (n) => {
            sent += n;
            progress.add(n);
          },
          options.signal,
        );
      } catch (error) {
        progress.add(-sent);
        if (options.signal?.aborted || attempt >= 4) throw error;
        await sleep(500 * attempt);
        continue;
      }
      if (result.status === 200 && result.etag) {
        state.current = { ...state.current, etags: { ...state.current.etags, [number]: result.etag } };
        await state.save();
        sentParts++;
        options.onPart?.(number);
        return;
      }
      progress.add(-sent);
      if (attempt >= 4) {
        throw new UploadFailed(
          `S3 refused part ${number}: HTTP ${result.status} ${result.body.slice(0, 300)}`,
        );
      }
      if (!isExpired(result)) await sleep(500 * attempt);
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const number = todo[next++];
      if (number !== undefined) await sendPart(number);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, todo.length) }, worker));
  progress.draw(true);

  const parts = Object.entries(state.current.etags)
    .map(([number, etag]) => ({ part_number: Number(number), etag }))
    .sort((a, b) => a.part_number - b.part_number);
  await api(options, 'POST', `/v2/images/${options.imageId}/${options.kind}/complete`, {
    upload_id: plan.upload_id,
    parts,
  });
  return sentParts;
};
