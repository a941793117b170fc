/**
 * `npx serverless-glance upload <image-id> <file> [options]`: see bin/upload/upload-image.ts.
 * Exit codes: 0 done, 1 failed (killed, refused, expired), 2 usage, 130 interrupted (resumable).
 * `npx serverless-glance metadefs ...`: see bin/metadefs.ts.
 * `npx serverless-glance quota ...`: see bin/quota.ts.
 */
import { parseArgs } from 'node:util';
import { runMetadefsCli } from './metadefs.ts';
import { runQuotaCli } from './quota.ts';
import { ApiError } from './upload/api-client.ts';
import { UploadFailed, type UploadKind } from './upload/options.ts';
import { formatBytes } from './upload/progress.ts';
import { uploadImage } from './upload/upload-image.ts';

const USAGE = `Usage: serverless-glance upload <image-id> <file> [options]

Uploads image data straight to S3 through presigned URLs (multipart above the server's threshold,
parts in parallel), then waits until the image is active (or staged with --stage) and prints its
checksum and hash. Run the same command again to resume an interrupted upload.

The metadata definitions catalog: serverless-glance metadefs --help
A project's quota limits: serverless-glance quota --help

Options:
  --url <url>          API endpoint (default: $OS_IMAGE_URL or http://127.0.0.1:9292)
  --token <token>      Token (default: $OS_AUTH_TOKEN)
  --stage              Stage the data for a glance-direct import instead (PUT /stage)
  --concurrency <n>    Parts in flight at once (default: 4)
  --no-wait            Do not wait for the data to be verified
  --timeout <seconds>  How long to wait for verification (default: 3600)
  --state-dir <dir>    Where to keep the resume state (default: next to the file)
  -h, --help           Show this help
`;

const fail = (message: string, code: number): never => {
  process.stderr.write(`${message}\n`);
  process.exit(code);
};

const main = async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    allowNegative: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      stage: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '4' },
      wait: { type: 'boolean', default: true },
      timeout: { type: 'string', default: '3600' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [command, imageId, file, ...extra] = positionals;
  if (command !== 'upload' || !imageId || !file || extra.length) fail(USAGE, 2);
  const token = values.token ?? process.env.OS_AUTH_TOKEN;
  if (!token) fail('A token is needed: --token or OS_AUTH_TOKEN.', 2);
  const concurrency = Number(values.concurrency);
  const timeout = Number(values.timeout);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    fail('--concurrency: 1 to 64.', 2);
  if (!Number.isFinite(timeout) || timeout <= 0) fail('--timeout: a number of seconds.', 2);

  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  const kind: UploadKind = values.stage ? 'stage' : 'file';
  try {
    const result = await uploadImage(
      {
        imageId: imageId as string,
        file: file as string,
        url: values.url ?? process.env.OS_IMAGE_URL ?? 'http://127.0.0.1:9292',
        token: token as string,
        kind,
        concurrency,
        wait: values.wait,
        waitTimeoutMs: timeout * 1000,
        stateDir: values['state-dir'],
        signal: controller.signal,
      },
      { write: (text) => process.stderr.write(text), isTTY: Boolean(process.stderr.isTTY) },
    );
    const image = result.image;
    if (!image) {
      process.stdout.write(`uploaded ${formatBytes(result.bytesSent)}; not waiting for verification\n`);
      return;
    }
    const lines = [
      `id             ${image.id}`,
      `status         ${image.status}`,
      `size           ${image.size}`,
      ...(kind === 'file'
        ? [
            `checksum       ${image.checksum}`,
            `os_hash_algo   ${image.os_hash_algo}`,
            `os_hash_value  ${image.os_hash_value}`,
          ]
        : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    if (controller.signal.aborted) {
      fail('\nInterrupted. Run the same command again to resume the upload.', 130);
    }
    if (error instanceof ApiError && error.status === 409 && /'(saving|uploading)'/.test(error.message)) {
      fail(
        `\nHTTP 409: ${error.message}\nAn upload is already in flight for this image. Only the machine holding its ` +
          'state file can resume it; otherwise it expires and the image goes back to queued (or delete the image).',
        1,
      );
    }
    if (error instanceof UploadFailed || error instanceof ApiError) {
      fail(`\n${error instanceof ApiError ? `HTTP ${error.status}: ` : ''}${error.message}`, 1);
    }
    throw error;
  }
};

if (process.argv[2] === 'metadefs') process.exitCode = await runMetadefsCli(process.argv.slice(3));
else if (process.argv[2] === 'quota') process.exitCode = await runQuotaCli(process.argv.slice(3));
else await main();
