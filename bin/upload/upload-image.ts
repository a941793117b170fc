/**
 * `serverless-glance upload`: large image data straight to S3 through presigned URLs (decision D5).
 *
 *   1. `POST /v2/images/{id}/file/presign {"size"}` (or `/stage/presign`): a single PUT, or a
 *      multipart plan whose part URLs come in batches.
 *   2. Parts go up in parallel, each streamed from the file (memory stays flat), with a progress bar.
 *      An expired part URL is re-signed (`{"upload_id", "part_numbers"}`) and the part retried.
 *   3. `POST .../complete {"upload_id", "parts"}`, then the image is polled until the S3 trigger has
 *      finalised it: active (file) or uploading with its size (stage), or killed with its reason.
 *
 * The plan and the ETags of finished parts are kept in a small state file next to the source file
 * (or in the temp dir when that directory is not writable). Running the same command again after an
 * interruption asks for fresh URLs of the same upload and sends only the parts still missing.
 *
 * Self-contained (Node built-ins only), so it can run anywhere Node 22 runs.
 */
import { rm, stat } from 'node:fs/promises';
import { ApiError, api, type Plan, presign } from './api-client.ts';
import { uploadMultipart } from './multipart.ts';
import { type Output, UploadFailed, type UploadOptions } from './options.ts';
import { formatBytes, Progress } from './progress.ts';
import { loadState, type State, saveState, stateFileFor } from './state-file.ts';
import { putRange, sleep } from './transfer.ts';

export interface UploadResult {
  readonly image: Record<string, unknown> | undefined;
  readonly resumed: boolean;
  /** Parts (or 1 for a single PUT) sent by this run. */
  readonly partsSent: number;
  readonly bytesSent: number;
  readonly stateFile: string;
}

/** Starts a new upload, or picks up the one in the state file (fresh URLs for the same upload). */
const begin = async (
  options: UploadOptions,
  size: number,
  mtimeMs: number,
  out: Output,
): Promise<{ plan: Plan; state: State; statePath: string; resumed: boolean }> => {
  const statePath = stateFileFor(options);
  const saved = await loadState(statePath);
  const matches =
    saved &&
    saved.state.version === 1 &&
    saved.state.imageId === options.imageId &&
    saved.state.kind === options.kind &&
    saved.state.size === size &&
    saved.state.mtimeMs === mtimeMs &&
    saved.state.api === options.url;
  if (saved && matches) {
    try {
      const plan = await presign(options, { upload_id: saved.state.uploadId });
      const done = Object.keys(saved.state.etags).length;
      out.write(
        `Resuming upload ${saved.state.uploadId}: ${done} of ${saved.state.partCount ?? 1} part(s) already sent.\n`,
      );
      return { plan, state: saved.state, statePath: saved.path, resumed: true };
    } catch (error) {
      if (!(error instanceof ApiError) || ![400, 409].includes(error.status)) throw error;
      out.write(`The previous upload can no longer be resumed (${error.message}); starting over.\n`);
    }
  }
  if (saved) await rm(saved.path, { force: true });
  const plan = await presign(options, { size });
  const state: State = {
    version: 1,
    api: options.url,
    imageId: options.imageId,
    kind: options.kind,
    file: options.file,
    size,
    mtimeMs,
    uploadId: plan.upload_id,
    method: plan.method,
    ...(plan.method === 'multipart' ? { partSize: plan.part_size, partCount: plan.part_count } : {}),
    etags: {},
  };
  return { plan, state, statePath: await saveState(statePath, state), resumed: false };
};

const uploadSingle = async (
  options: UploadOptions,
  plan: Extract<Plan, { method: 'PUT' }>,
  size: number,
  progress: Progress,
): Promise<void> => {
  let current = plan;
  for (let attempt = 1; ; attempt++) {
    let sent = 0;
    const result = await putRange(
      current.url,
      current.headers,
      options.file,
      0,
      size,
      (n) => {
        sent += n;
        progress.add(n);
      },
      options.signal,
    );
    if (result.status === 200) return;
    progress.add(-sent);
    if (attempt >= 3)
      throw new UploadFailed(`S3 refused the upload: HTTP ${result.status} ${result.body.slice(0, 300)}`);
    // An expired URL (or a transient error): same upload, fresh URL.
    current = (await presign(options, { upload_id: plan.upload_id })) as typeof plan;
  }
};

/** Polls the image until the S3 trigger has decided. */
export const waitForVerdict = async (
  options: Pick<UploadOptions, 'url' | 'token' | 'imageId' | 'kind' | 'waitTimeoutMs' | 'signal'>,
): Promise<Record<string, unknown>> => {
  const end = Date.now() + options.waitTimeoutMs;
  for (let delay = 200; ; delay = Math.min(delay * 1.5, 2000)) {
    const image = (await api(options as UploadOptions, 'GET', `/v2/images/${options.imageId}`)) as Record<
      string,
      unknown
    >;
    const status = image.status;
    if (status === 'killed') {
      throw new UploadFailed(
        `Image ${options.imageId} was killed: ${image.os_glance_failure_reason ?? 'no reason recorded'}`,
        image,
      );
    }
    if (options.kind === 'file' && status === 'active') return image;
    if (options.kind === 'stage' && status === 'uploading' && image.size !== null) return image;
    if (status === 'queued') {
      throw new UploadFailed(
        `Image ${options.imageId} went back to queued: the upload expired before its data arrived.`,
        image,
      );
    }
    if (Date.now() > end)
      throw new UploadFailed(`Gave up waiting: image ${options.imageId} is still ${String(status)}.`, image);
    await sleep(delay);
  }
};

export const uploadImage = async (options: UploadOptions, out: Output): Promise<UploadResult> => {
  const info = await stat(options.file);
  if (!info.isFile()) throw new UploadFailed(`${options.file} is not a file.`);
  const { plan, state, statePath, resumed } = await begin(options, info.size, info.mtimeMs, out);
  // Saves run one after the other, so the file always holds the latest complete state.
  let saving: Promise<void> = Promise.resolve();
  const holder = {
    current: state,
    path: statePath,
    save: (): Promise<void> => {
      saving = saving.then(async () => {
        holder.path = await saveState(holder.path, holder.current);
      });
      return saving;
    },
  };

  let partsSent = 0;
  let bytesBefore = 0;
  if (plan.method === 'multipart') {
    bytesBefore = Object.keys(state.etags).reduce(
      (sum, number) => sum + Math.min(plan.part_size, plan.size - (Number(number) - 1) * plan.part_size),
      0,
    );
  }
  const progress = new Progress(out, info.size, bytesBefore);
  out.write(
    plan.method === 'PUT'
      ? `Uploading ${formatBytes(info.size)} with one presigned PUT (upload ${plan.upload_id}).\n`
      : `Uploading ${formatBytes(info.size)} in ${plan.part_count} parts of ${formatBytes(plan.part_size)}, ${options.concurrency} at a time (upload ${plan.upload_id}).\n`,
  );
  try {
    if (plan.method === 'PUT') {
      await uploadSingle(options, plan, info.size, progress);
      progress.draw(true);
      partsSent = 1;
    } else {
      partsSent = await uploadMultipart(options, plan, holder, progress);
    }
  } finally {
    // Interrupted or failed: what finished is on disk before we return.
    await saving.catch(() => {});
  }
  await rm(holder.path, { force: true });

  let image: Record<string, unknown> | undefined;
  if (options.wait) {
    out.write('Waiting for the data to be verified...\n');
    image = await waitForVerdict(options);
  }
  return { image, resumed, partsSent, bytesSent: info.size - bytesBefore, stateFile: holder.path };
};
