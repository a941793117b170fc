/** What one run of `serverless-glance upload` is told, where it reports, and how it stops for good. */

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

/** Where progress and messages go. */
export interface Output {
  /** Progress and messages (stderr). */
  write(text: string): void;
  readonly isTTY: boolean;
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
