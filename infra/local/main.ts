/**
 * `npm start`: the API on http://127.0.0.1:9292 (`PORT`, `HOST` override) backed by dynalite and
 * s3rver, with data kept under `.data/` (`GLANCE_DATA_DIR` overrides) so images survive a restart.
 * Identity mode `keystone` (the default; `IDENTITY_MODE=jwt` switches) also serves the local
 * Keystone on port 5000 (`KEYSTONE_PORT`), for the users in `<data dir>/keystone-accounts.json`.
 */
import { defaultDataDir } from './keys.ts';
import { type IdentityMode, startLocalStack } from './stack.ts';

const identity = (process.env.IDENTITY_MODE || 'keystone') as IdentityMode;
if (identity !== 'keystone' && identity !== 'jwt') {
  console.error(`IDENTITY_MODE must be keystone or jwt, not ${identity}`);
  process.exit(2);
}
const dataDir = defaultDataDir();
const stack = await startLocalStack({
  port: Number(process.env.PORT || 9292),
  host: process.env.HOST ?? '127.0.0.1',
  dataDir,
  persist: true,
  metadefsStarterCatalog: true,
  identity,
  keystonePort: Number(process.env.KEYSTONE_PORT || 5000),
});
const seeded = stack.metadefsStarterCatalog?.created ?? [];
// The state machine is synthesized now (CDK: seconds of CPU), not by the first StartExecution,
// whose import request would otherwise wait on it, past its function's timeout on a busy machine.
await stack.stepFunctions.definition();

const keystoneBanner = () => {
  const { keystone } = stack;
  if (!keystone) return '';
  const demo = keystone.accounts.users.find((user) => user.name === 'demo') ?? keystone.accounts.users[0];
  const project = Object.keys(demo?.roles ?? {})[0] ?? '';
  return `  Keystone  ${keystone.url}/v3  accounts ${keystone.accountsFile ?? '(in memory)'}

Use it with the openstack CLI (users, projects and passwords are in the accounts file):
  export OS_AUTH_URL=${keystone.url}/v3 OS_USERNAME=${demo?.name} OS_PASSWORD='${demo?.password}' OS_PROJECT_NAME=${project}
  openstack image list
`;
};

console.log(`serverless-glance local (identity mode ${identity})
  API       ${stack.url}
  DynamoDB  ${stack.dynamoEndpoint}  table ${stack.tableName}
  S3        ${stack.s3Endpoint}  bucket ${stack.bucketName}
  data      ${dataDir}${seeded.length ? `\n  metadefs  starter catalog loaded: ${seeded.join(', ')}` : ''}
${keystoneBanner()}
Or get a token directly (accepted in both identity modes):
  export OS_AUTH_TOKEN=$(npm run --silent token -- --project demo --roles member)
  curl -H "X-Auth-Token: $OS_AUTH_TOKEN" ${stack.url}/v2/images
  glance --os-image-url ${stack.url} --os-auth-token "$OS_AUTH_TOKEN" image-list

Upload a big image:   npx serverless-glance upload <image-id> <file> --url ${stack.url}
Re-drive an import:   npm run sfn -- start --input '{"task_id":"<task id>"}'
Load metadefs files:  npx serverless-glance metadefs load <dir> --endpoint ${stack.dynamoEndpoint} --table ${stack.tableName}`);

const { failed, reported } = stack.stepFunctions.recovery;
if (failed.length > 0 || reported.length > 0) {
  console.log(`
Import executions left by the last run (docs/local-development.md#durable-executions):
  ${failed.length} were running and are being failed through the failure branch
  ${reported.length} ended without their cleanup and are being cleaned up`);
}

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping`);
  try {
    await stack.stop();
    process.exit(0);
  } catch (error) {
    console.error('clean shutdown failed', error);
    process.exit(1);
  }
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
