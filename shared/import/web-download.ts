/**
 * The web-download GET: node's http/https with the filtering DNS lookup (uri-filter.ts), so the
 * socket only ever connects to a checked address; redirects followed by hand (at most 5), each
 * target re-checked against the filter. The body is handed out as a stream that enforces the
 * byte limit and the announced Content-Length while it flows.
 *
 * Failures, as the workflow classifies them: HTTP 4xx, a refused URI, a body over the limit or
 * shorter/longer than its Content-Length → `ImportError` (retrying gives the same answer);
 * HTTP 5xx/429, timeouts and connection errors before any byte of the body → `TransientError`.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { ImportError, TransientError } from './errors.ts';
import { checkUri, filteringLookup, type UriFilter, UriRefused } from './uri-filter.ts';

export interface DownloadOptions {
  readonly filter: UriFilter;
  /** The most bytes the image may have (size cap, quota). */
  readonly maxBytes: number;
  /** What sets `maxBytes`, for the refusal's reason; by default the size cap or image_size_total. */
  readonly limitedBy?: string;
  readonly maxRedirects?: number;
  /** Socket inactivity timeout. */
  readonly idleTimeoutMs?: number;
}

export interface Download {
  /** The final URL, after redirects. */
  readonly url: string;
  readonly contentLength: number | undefined;
  readonly body: AsyncIterable<Uint8Array>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const get = (url: URL, options: DownloadOptions): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(
      url,
      {
        method: 'GET',
        lookup: filteringLookup(options.filter) as unknown as typeof import('node:dns').lookup,
        headers: { 'user-agent': 'serverless-glance web-download', 'accept-encoding': 'identity' },
        timeout: options.idleTimeoutMs ?? 30_000,
      },
      resolve,
    );
    request.on('timeout', () =>
      request.destroy(
        new TransientError(`No answer from ${url.host} within ${options.idleTimeoutMs ?? 30_000} ms.`),
      ),
    );
    request.on('error', (error) => {
      if (error instanceof UriRefused) reject(new ImportError(error.message, { cause: error }));
      else if (error instanceof TransientError) reject(error);
      else if ((error as NodeJS.ErrnoException).code === 'ENOTFOUND') {
        reject(new ImportError(`The host ${url.hostname} could not be resolved.`, { cause: error }));
      } else reject(new TransientError(`Could not fetch ${url.href}: ${error.message}`, { cause: error }));
    });
    request.end();
  });

const parseLength = (value: string | undefined): number | undefined => {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
};

/** The byte limit and Content-Length, enforced while the body flows. */
async function* checkedBody(
  response: IncomingMessage,
  url: string,
  contentLength: number | undefined,
  maxBytes: number,
  limitedBy: string,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  let finished = false;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      received += chunk.byteLength;
      if (received > maxBytes) {
        throw new ImportError(
          `The data at ${url} is larger than the ${maxBytes} bytes this image may hold (${limitedBy}).`,
        );
      }
      if (contentLength !== undefined && received > contentLength) {
        throw new ImportError(`The server sent more than the ${contentLength} bytes of its Content-Length.`);
      }
      yield chunk;
    }
    finished = true;
  } catch (error) {
    if (error instanceof ImportError) throw error;
    if (contentLength !== undefined) {
      throw new ImportError(
        `The connection closed after ${received} of the ${contentLength} bytes announced by Content-Length.`,
        { cause: error },
      );
    }
    throw new TransientError(`The download of ${url} broke off after ${received} bytes.`, { cause: error });
  } finally {
    if (!finished) response.destroy();
  }
  if (contentLength !== undefined && received !== contentLength) {
    throw new ImportError(`Received ${received} bytes, but Content-Length announced ${contentLength}.`);
  }
  if (!response.complete)
    throw new TransientError(`The download of ${url} broke off after ${received} bytes.`);
}

const limitedBy = (options: DownloadOptions): string =>
  options.limitedBy ?? 'size cap, or what the project has left of image_size_total';

/** Opens the download: status and size checked, redirects followed; the body is not read yet. */
export const openDownload = async (uri: string, options: DownloadOptions): Promise<Download> => {
  let url: URL;
  try {
    url = checkUri(options.filter, uri);
  } catch (error) {
    throw new ImportError((error as Error).message, { cause: error });
  }
  for (let hop = 0; ; hop++) {
    const response = await get(url, options);
    const status = response.statusCode ?? 0;
    if (REDIRECTS.has(status) && response.headers.location) {
      response.resume();
      if (hop >= (options.maxRedirects ?? 5)) throw new ImportError(`Too many redirects from ${uri}.`);
      try {
        url = checkUri(options.filter, new URL(response.headers.location, url).href);
      } catch (error) {
        throw new ImportError(`Redirect refused: ${(error as Error).message}`, { cause: error });
      }
      continue;
    }
    if (status !== 200) {
      response.resume();
      const text = `HTTP ${status} ${response.statusMessage ?? ''}`.trim();
      if (status >= 500 || status === 429 || status === 408) {
        throw new TransientError(`${url.href} answered ${text}.`);
      }
      throw new ImportError(`${url.href} answered ${text}.`);
    }
    const contentLength = parseLength(response.headers['content-length']);
    if (contentLength !== undefined && contentLength > options.maxBytes) {
      response.destroy();
      throw new ImportError(
        `${url.href} announces ${contentLength} bytes, more than the ${options.maxBytes} bytes this image may hold (${limitedBy(options)}).`,
      );
    }
    return {
      url: url.href,
      contentLength,
      body: checkedBody(response, url.href, contentLength, options.maxBytes, limitedBy(options)),
    };
  }
};
