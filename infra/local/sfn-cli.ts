/**
 * `npm run sfn`: Step Functions console runs against the running local stack (`npm start`).
 *
 *   npm run sfn -- start --input '{"task_id":"<task id>"}' [--name <execution name>]
 *   npm run sfn -- history <execution name or ARN>
 *   npm run sfn -- list
 *   npm run sfn -- definition            (the synthesized ASL; needs no running stack)
 *
 * `start` calls StartExecution on the local stack's Step Functions endpoint (found in
 * `<data dir>/step-functions.json`, written by `npm start`; `GLANCE_DATA_DIR` or `--data-dir`
 * override the directory), so the execution runs inside `npm start` against its DynamoDB and S3,
 * exactly as an import would; then it prints the history state by state as it happens and exits
 * 0 when the execution succeeded, 1 otherwise. A new execution name is generated per run, like the
 * console does, so re-driving a task is always possible (a replay is a no-op or a clean failure).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type EndpointsFile, endpointsFile } from './import.ts';
import { defaultDataDir } from './keys.ts';
import { synthesizeImportDefinition } from './step-functions/definition.ts';

const USAGE = `usage:
  npm run sfn -- start --input '{"task_id":"<task id>"}' [--name <execution name>] [--data-dir <dir>]
  npm run sfn -- history <execution name or ARN> [--data-dir <dir>]
  npm run sfn -- list [--data-dir <dir>]
  npm run sfn -- definition`;

const TERMINAL = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};

const connect = (dataDir: string) => {
  const file = endpointsFile(dataDir);
  if (!existsSync(file)) fail(`No local stack found (${file} is missing). Start it with npm start first.`);
  const endpoints = JSON.parse(readFileSync(file, 'utf8')) as EndpointsFile;
  try {
    process.kill(endpoints.pid, 0);
  } catch {
    fail(
      `The local stack that wrote ${file} (pid ${endpoints.pid}) is not running. Start it with npm start.`,
    );
  }
  const client = new SFNClient({
    endpoint: endpoints.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { client, stateMachineArn: endpoints.stateMachineArn };
};

const executionArnOf = (stateMachineArn: string, nameOrArn: string) =>
  nameOrArn.startsWith('arn:')
    ? nameOrArn
    : `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${nameOrArn}`;

const compact = (value: string | undefined, width = 90): string => {
  if (value === undefined) return '';
  const text = value.replace(/\s+/g, ' ');
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
};

/** One line per history event; Lambda events are named after the state they belong to. */
const printer = () => {
  let start: number | undefined;
  let state = '';
  let attempt = 0;
  return (event: HistoryEvent) => {
    const at = event.timestamp?.getTime() ?? Date.now();
    start ??= at;
    const details = event as unknown as Record<string, Record<string, string> | undefined>;
    let detail = '';
    if (event.stateEnteredEventDetails) {
      state = event.stateEnteredEventDetails.name ?? '';
      attempt = 0;
    }
    if (event.type === 'LambdaFunctionScheduled') {
      attempt++;
      detail = attempt > 1 ? `attempt ${attempt}` : '';
    }
    const d =
      details.lambdaFunctionFailedEventDetails ??
      details.lambdaFunctionTimedOutEventDetails ??
      details.executionFailedEventDetails ??
      details.executionAbortedEventDetails ??
      details.executionTimedOutEventDetails;
    if (d) detail = [d.error, d.cause].filter(Boolean).join(': ');
    if (event.lambdaFunctionSucceededEventDetails)
      detail = compact(event.lambdaFunctionSucceededEventDetails.output);
    if (event.executionStartedEventDetails) detail = compact(event.executionStartedEventDetails.input);
    if (event.executionSucceededEventDetails) detail = compact(event.executionSucceededEventDetails.output);
    const named = event.type?.startsWith('Execution') ? '' : state;
    console.log(
      `${String(event.id).padStart(3)}  +${((at - start) / 1000).toFixed(3).padStart(8)}s  ${String(event.type).padEnd(26)}${named.padEnd(14)}${detail}`,
    );
  };
};

/** Prints the history as it grows, until the execution ends; returns its status. */
const follow = async (client: SFNClient, executionArn: string, pollMs = 250): Promise<string> => {
  const print = printer();
  let printed = 0;
  for (;;) {
    const { events = [] } = await client.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
    );
    for (const event of events.slice(printed)) print(event);
    printed = events.length;
    if (events.some((event) => TERMINAL.has(String(event.type)))) break;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const described = await client.send(new DescribeExecutionCommand({ executionArn }));
  const took = (described.stopDate?.getTime() ?? Date.now()) - (described.startDate?.getTime() ?? Date.now());
  console.log(`\n${described.status} in ${(took / 1000).toFixed(3)} s`);
  if (described.output) console.log(`output: ${described.output}`);
  if (described.error)
    console.log(`error:  ${described.error}${described.cause ? `\ncause:  ${described.cause}` : ''}`);
  return String(described.status);
};

const main = async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      name: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, argument] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return 0;
  }
  if (command === 'definition') {
    console.log(JSON.stringify(await synthesizeImportDefinition(), null, 2));
    return 0;
  }
  const dataDir = values['data-dir'] ?? defaultDataDir();
  if (command === 'start') {
    if (!values.input) fail(`start needs --input '{"task_id":"<task id>"}'\n\n${USAGE}`);
    try {
      JSON.parse(values.input ?? '');
    } catch {
      fail('--input must be JSON, e.g. {"task_id":"<task id>"}');
    }
    const { client, stateMachineArn } = connect(dataDir);
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn,
        input: values.input,
        ...(values.name ? { name: values.name } : {}),
      }),
    );
    console.log(`Execution ${started.executionArn}\n`);
    return (await follow(client, started.executionArn ?? '')) === 'SUCCEEDED' ? 0 : 1;
  }
  if (command === 'history') {
    if (!argument) fail(`history needs an execution name or ARN\n\n${USAGE}`);
    const { client, stateMachineArn } = connect(dataDir);
    return (await follow(client, executionArnOf(stateMachineArn, argument ?? ''))) === 'SUCCEEDED' ? 0 : 1;
  }
  if (command === 'list') {
    const { client, stateMachineArn } = connect(dataDir);
    const { executions = [] } = await client.send(new ListExecutionsCommand({ stateMachineArn }));
    for (const execution of executions) {
      console.log(
        `${execution.startDate?.toISOString()}  ${String(execution.status).padEnd(9)}  ${execution.name}`,
      );
    }
    return 0;
  }
  return fail(`unknown command '${command}'\n\n${USAGE}`);
};

process.exitCode = await main().catch((error: Error) => {
  console.error(error.name === 'ExecutionDoesNotExist' ? error.message : error);
  return 1;
});
