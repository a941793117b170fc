/**
 * Fault injection for the workflow tests: a test registers "make step X of the import of image Y
 * fail N times, transiently or for good", and the step's handler throws accordingly.
 *
 * Not reachable in production, twice over: the hook does nothing unless `LOCAL_FAULTS=1` is set
 * in the environment (only test files set it; the CDK stack never does, and a stack test checks
 * that), and the faults live in an in-process registry that only code running in the same process
 * as the test can fill (the local Step Functions runner runs the handlers in the test's process).
 */
import { localFaultsEnabled } from '#shared/config';
import { ImportError, TransientError } from './errors.ts';

export interface Fault {
  /** The state name (`Mark` ... `Complete`, `FailImport`). */
  readonly step: string;
  /** `delay` holds the step for `delayMs` (to stop an execution mid-step) and then lets it run. */
  readonly kind: 'transient' | 'permanent' | 'delay';
  readonly delayMs?: number;
  /** Whose import fails: the image id (tasks are created by the API, so tests know the image). */
  readonly imageId: string;
  /** How many invocations fail; the next ones run normally. Default 1. */
  readonly times?: number;
  /**
   * `end` (default): after the step did its work, so a retry replays a step whose effects already
   * happened and a permanent failure leaves them behind for the failure branch to clean.
   * `start`: before the step does anything.
   */
  readonly at?: 'start' | 'end';
}

interface Armed extends Fault {
  remaining: number;
}

const REGISTRY = Symbol.for('serverless-glance.import-faults');
type Registry = { faults: Armed[] };

const registry = (): Registry => {
  const slot = globalThis as unknown as Record<symbol, Registry | undefined>;
  slot[REGISTRY] ??= { faults: [] };
  return slot[REGISTRY];
};

export const faultsEnabled = localFaultsEnabled;

/** Registers a fault (tests only). */
export const injectFault = (fault: Fault): void => {
  registry().faults.push({ ...fault, remaining: fault.times ?? 1 });
};

export const clearFaults = (): void => {
  registry().faults = [];
};

/** Called by every workflow handler at its start and end; throws (or waits) when a fault is due. */
export const checkFault = async (
  step: string,
  phase: 'start' | 'end',
  imageId: string | undefined,
): Promise<void> => {
  if (!faultsEnabled() || imageId === undefined) return;
  const fault = registry().faults.find(
    (candidate) =>
      candidate.step === step &&
      candidate.imageId === imageId &&
      (candidate.at ?? 'end') === phase &&
      candidate.remaining > 0,
  );
  if (!fault) return;
  fault.remaining--;
  if (fault.kind === 'delay') {
    await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 1000));
    return;
  }
  const message = `Injected ${fault.kind} fault in ${step} (${phase}).`;
  throw fault.kind === 'transient' ? new TransientError(message) : new ImportError(message);
};
