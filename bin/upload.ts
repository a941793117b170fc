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
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export type UploadKind = 'file' | 'stage';

export interface UploadOptions {
  readonly imageId: string;
  readonly file: string;
  /** API base URL, e.g. http://127.0.0.1:9292. */
  readonly url: string;
  readonly token: string;
  readonly kind: UploadKind;
  /** Parts in flight at once. */
  readonly concurrency: number;
  /** Wait for the S3 trigger's verdict. */
  readonly wait: boolean;
  readonly waitTimeoutMs: number;
  /** Where the resume state goes; defaults to next to the file. */
  readonly stateDir?: string;
  /** Stops the upload (parts in flight are dropped; finished ones stay recorded). */
  readonly signal?: AbortSignal;
  /** Called after each finished part (tests interrupt here). */
  readonly onPart?: (partNumber: number) => void;
}

export interface Output {
  /** Progress and messages (stderr). */
  write(text: string): void;
  readonly isTTY: boolean;
}

export interface UploadResult {
  readonly image: Record<string, unknown> | undefined;
  readonly resumed: boolean;
  /** Parts (or 1 for a single PUT) sent by this run. */
  readonly partsSent: number;
  readonly bytesSent: number;
  readonly stateFile: string;
}

/** A refusal from the API, with Glance's error message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The upload stopped for good: the image is killed, swept, or in the wrong status. */
export class UploadFailed extends Error {
  constructor(
    message: string,
    readonly image?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'UploadFailed';
  }
}

interface Part {
  readonly part_number: number;
  readonly size: number;
  readonly url: string;
}

type Plan =
  | {
      readonly upload_id: string;
      readonly method: 'PUT';
      readonly url: string;
      readonly headers: Record<string, string>;
      readonly expires_at: string;
    }
  | {
      readonly upload_id: string;
      readonly method: 'multipart';
      readonly size: number;
      readonly part_size: number;
      readonly part_count: number;
      readonly parts: Part[];
      readonly expires_at: string;
    };

/** What survives an interruption. */
interface State {
  readonly version: 1;
  readonly api: string;
  readonly imageId: string;
  readonly kind: UploadKind;
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly uploadId: string;
  readonly method: 'PUT' | 'multipart';
  readonly partSize?: number;
  readonly partCount?: number;
  /** part number → ETag */
  readonly etags: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// API

const api = async (options: UploadOptions, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${options.url.replace(/\/$/, '')}${path}`, {
    method,
    headers: {
      'X-Auth-Token': options.token,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: options.signal,
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = json?.error as { message?: string } | undefined;
    throw new ApiError(response.status, error?.message ?? `${method} ${path}: HTTP ${response.status}`);
  }
  return json ?? {};
};

const presign = (options: UploadOptions, body: unknown) =>
  api(options, 'POST', `/v2/images/${options.imageId}/${options.kind}/presign`, body) as Promise<Plan>;

// ---------------------------------------------------------------------------------------------
// State file

const stateFileFor = (options: UploadOptions): string => {
  const dir = options.stateDir ?? dirname(options.file);
  return join(dir, `.${basename(options.file)}.${options.imageId}.glance-upload.json`);
};

const saveState = async (path: string, state: State): Promise<string> => {
  const write = async (target: string) => {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(`${target}.${process.pid}.tmp`, JSON.stringify(state, null, 2));
    await rename(`${target}.${process.pid}.tmp`, target);
    return target;
  };
  try {
    return await write(path);
  } catch {
    // The source file's directory is read-only: keep the state in the temp dir instead.
    return write(join(tmpdir(), 'serverless-glance', basename(path)));
  }
};

const loadState = async (path: string): Promise<{ state: State; path: string } | undefined> => {
  for (const candidate of [path, join(tmpdir(), 'serverless-glance', basename(path))]) {
    try {
      return { state: JSON.parse(await readFile(candidate, 'utf8')) as State, path: candidate };
    } catch {
      // absent or unreadable: try the next place
    }
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// Progress

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
export const formatBytes = (bytes: number): string => {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
};

const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
};

/** A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise. */
export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastDecile = -1;

  constructor(
    private readonly out: Output,
    private readonly total: number,
    already = 0,
  ) {
    this.done = already;
  }

  add(bytes: number): void {
    this.done += bytes;
    this.draw(false);
  }

  line(): string {
    const fraction = this.total === 0 ? 1 : Math.min(1, this.done / this.total);
    const width = 30;
    const filled = Math.round(fraction * width);
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : Number.POSITIVE_INFINITY;
    return (
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}% ` +
      `${formatBytes(this.done)} / ${formatBytes(this.total)}  ${formatBytes(rate)}/s  ETA ${formatDuration(eta)}`
    );
  }

  draw(final: boolean): void {
    const now = Date.now();
    if (this.out.isTTY) {
      if (!final && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line()}${final ? '\n' : ''}`);
      return;
    }
    const decile = this.total === 0 ? 10 : Math.floor((this.done / this.total) * 10);
    if (decile > this.lastDecile || final) {
      this.lastDecile = decile;
      this.out.write(`${this.line()}\n`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// S3 PUTs

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

interface PutResult {
  readonly status: number;
  readonly etag: string | undefined;
  readonly body: string;
}

/** Streams `length` bytes of the file from `start` to a presigned URL. */
const putRange = (
  url: string,
  headers: Record<string, string>,
  file: string,
  start: number,
  length: number,
  onBytes: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<PutResult> =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const request = (secure ? https : http).request(
      target,
      {
        method: 'PUT',
        agent: secure ? agents.https : agents.http,
        headers: { ...headers, 'Content-Length': String(length) },
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            etag: response.headers.etag,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    if (length === 0) {
      request.end();
      return;
    }
    const source = createReadStream(file, { start, end: start + length - 1, highWaterMark: 1024 * 1024 });
    source.on('data', (chunk) => onBytes(chunk.length));
    source.on('error', (error) => request.destroy(error));
    source.pipe(request);
  });

const isExpired = (result: PutResult) =>
  result.status === 403 && /expired|AccessDenied|SignatureDoesNotMatch/i.test(result.body);

// ---------------------------------------------------------------------------------------------
// The upload

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fresh URLs for some parts of the upload in flight. */
const resignParts = async (options: UploadOptions, uploadId: string, numbers: number[]) => {
  const plan = await presign(options, { upload_id: uploadId, part_numbers: numbers });
  if (plan.method !== 'multipart')
    throw new UploadFailed(`Upload ${uploadId} is no longer a multipart upload.`);
  return plan.parts;
};

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

const uploadMultipart = async (
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
