/**
 * The import in the local stack: the local Step Functions (step-functions/) running the synthesized
 * state machine, the environment that points the functions at it, and the execution-ended rule.
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXECUTION_ENDED_ENTRY } from '#shared/import/state-machine';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, lambdaRuntime } from './lambda-runtime.ts';
import type { ExecutionStatusChangeDetail, RecoveryReport } from './step-functions/runner.ts';
import { type LocalStepFunctions, startLocalStepFunctions } from './step-functions/server.ts';
import { ExecutionStore } from './step-functions/store.ts';

/** Where `npm start` tells `npm run sfn` how to reach its Step Functions endpoint. */
export const endpointsFile = (dataDir: string): string => join(dataDir, 'step-functions.json');

export interface EndpointsFile {
  readonly endpoint: string;
  readonly stateMachineArn: string;
  readonly pid: number;
}

/**
 * Networks the local stack lets web-download reach although they are not public: loopback, so
 * imports from a file server on 127.0.0.1 work. The deployed stack has no exception.
 */
export const LOCAL_ALLOWED_NETWORKS = '127.0.0.0/8,::1/128';

export interface LocalImport extends LocalStepFunctions {
  /** What the restart found in the data directory's executions (docs/local-development.md#durable-executions). */
  readonly recovery: RecoveryReport;
}

/** The EventBridge event the execution-ended rule delivers, built from the local detail. */
const executionEndedEvent = (detail: ExecutionStatusChangeDetail) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: LOCAL_ACCOUNT_ID,
  time: new Date(detail.stopDate * 1000).toISOString(),
  region: LOCAL_REGION,
  resources: [detail.executionArn],
  detail,
});

/**
 * Starts the local Step Functions for the local stack and points the functions at it:
 * `AWS_ENDPOINT_URL_SFN`, `STATE_MACHINE_ARN`, and (unless already set) the web-download filter
 * exceptions for a local file server (`IMPORT_ALLOWED_PORTS=` any port,
 * `IMPORT_ALLOWED_NETWORKS=127.0.0.0/8,::1/128`). Failed, timed-out and aborted executions go to
 * functions/import/execution-ended.ts, as the EventBridge rule sends them on AWS. With a data
 * directory, executions are kept in it and taken back on the next start (executions that were
 * running are failed through the failure branch), and the endpoint is written to
 * `<dataDir>/step-functions.json` for `npm run sfn`.
 */
export const startLocalImport = async (
  options: { dataDir?: string; root?: string } = {},
): Promise<LocalImport> => {
  const runtime = lambdaRuntime(options.root);
  const stepFunctions = await startLocalStepFunctions({
    root: options.root,
    ...(options.dataDir ? { store: ExecutionStore.in(options.dataDir) } : {}),
    onExecutionEnded: (detail) =>
      runtime.invoke({ name: 'ExecutionEnded', entry: EXECUTION_ENDED_ENTRY }, executionEndedEvent(detail)),
  });
  process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;
  process.env.STATE_MACHINE_ARN = stepFunctions.stateMachineArn;
  process.env.IMPORT_ALLOWED_PORTS ??= '';
  process.env.IMPORT_ALLOWED_NETWORKS ??= LOCAL_ALLOWED_NETWORKS;
  const file = options.dataDir ? endpointsFile(options.dataDir) : undefined;
  if (file) {
    const endpoints: EndpointsFile = {
      endpoint: stepFunctions.endpoint,
      stateMachineArn: stepFunctions.stateMachineArn,
      pid: process.pid,
    };
    await writeFile(file, `${JSON.stringify(endpoints, null, 2)}\n`);
  }
  // After the environment is set: the failure branch and the cleanup reach the emulators.
  const recovery = await stepFunctions.recover();
  return {
    ...stepFunctions,
    recovery,
    async close() {
      if (file) await rm(file, { force: true });
      await stepFunctions.close();
    },
  };
};
