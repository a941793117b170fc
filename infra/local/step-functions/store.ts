/**
 * Local executions on disk (docs/local-development.md#durable-executions): one append-only JSON
 * Lines file per execution under `<data dir>/step-functions/executions/`, written synchronously as
 * the execution goes (its start, every history event, its end, and when its end was reported to
 * the execution-ended cleanup), so a `kill -9` loses at most the line being written. A torn last
 * line is skipped when the files are read back at the next start.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryEvent } from './history.ts';

/** How an execution ended, as DescribeExecution reports it. */
export interface ExecutionEndRecord {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly stopDate: number;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** An execution as read back from its file. */
export interface PersistedExecution {
  readonly name: string;
  readonly input: string;
  readonly startDate: number;
  readonly events: HistoryEvent[];
  /** Absent: the execution was still running when the process stopped. */
  readonly end?: ExecutionEndRecord;
  /** True once the execution-ended cleanup ran for it (or it needs none: SUCCEEDED). */
  readonly reported: boolean;
}

type Line =
  | { readonly kind: 'start'; readonly name: string; readonly input: string; readonly startDate: number }
  | { readonly kind: 'event'; readonly event: HistoryEvent }
  | ({ readonly kind: 'end' } & ExecutionEndRecord)
  | { readonly kind: 'reported' };

/** Step Functions keeps a closed execution's history for 90 days; so does the local store. */
export const RETENTION_SECONDS = 90 * 24 * 3600;

export class ExecutionStore {
  constructor(readonly directory: string) {
    mkdirSync(directory, { recursive: true });
  }

  /** The folder of a data directory's executions. */
  static in(dataDir: string): ExecutionStore {
    return new ExecutionStore(join(dataDir, 'step-functions', 'executions'));
  }

  private file(name: string): string {
    // Execution names are [A-Za-z0-9_-]{1,80} (checked before anything is written).
    return join(this.directory, `${name}.jsonl`);
  }

  private write(name: string, line: Line): void {
    appendFileSync(this.file(name), `${JSON.stringify(line)}\n`);
  }

  started(name: string, input: string, startDate: number): void {
    this.write(name, { kind: 'start', name, input, startDate });
  }

  event(name: string, event: HistoryEvent): void {
    this.write(name, { kind: 'event', event });
  }

  ended(name: string, end: ExecutionEndRecord): void {
    this.write(name, { kind: 'end', ...end });
  }

  reported(name: string): void {
    this.write(name, { kind: 'reported' });
  }

  /**
   * Every execution on disk, oldest first. Files of executions closed more than 90 days before
   * `now` are removed; unreadable lines (a write torn by a crash) are skipped.
   */
  load(now = Date.now() / 1000): PersistedExecution[] {
    const executions: PersistedExecution[] = [];
    for (const entry of readdirSync(this.directory)) {
      if (!entry.endsWith('.jsonl')) continue;
      const path = join(this.directory, entry);
      const execution = parse(readFileSync(path, 'utf8'));
      if (!execution) continue;
      if (execution.end && execution.end.stopDate < now - RETENTION_SECONDS) {
        rmSync(path, { force: true });
        continue;
      }
      executions.push(execution);
    }
    return executions.sort((a, b) => a.startDate - b.startDate);
  }
}

const parse = (text: string): PersistedExecution | undefined => {
  let start: Extract<Line, { kind: 'start' }> | undefined;
  const events: HistoryEvent[] = [];
  let end: ExecutionEndRecord | undefined;
  let reported = false;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue;
    }
    if (line.kind === 'start') start = line;
    else if (line.kind === 'event') events.push(line.event);
    else if (line.kind === 'end') {
      const { kind: _kind, ...record } = line;
      end = record;
    } else if (line.kind === 'reported') reported = true;
  }
  if (!start) return undefined;
  return {
    name: start.name,
    input: start.input,
    startDate: start.startDate,
    events,
    ...(end ? { end } : {}),
    reported: reported || end?.status === 'SUCCEEDED',
  };
};
