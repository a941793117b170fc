/** One PUT of a file slice to a presigned URL, streamed from disk (memory stays flat). */
import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export interface PutResult {
  readonly status: number;
  readonly etag: string | undefined;
  readonly body: string;
}

/** Streams `length` bytes of the file from `start` to a presigned URL. */
export const putRange = (
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

/** S3's answer to a PUT whose presigned URL expired. */
export const isExpired = (result: PutResult) =>
  result.status === 403 && /expired|AccessDenied|SignatureDoesNotMatch/i.test(result.body);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
