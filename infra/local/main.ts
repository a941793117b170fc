/**
 * `npm start`: the API on http://127.0.0.1:9292 (`PORT`, `HOST` override) backed by dynalite and
 * s3rver, with data kept under `.data/` (`GLANCE_DATA_DIR` overrides) so images survive a restart.
 */
import { defaultDataDir } from './keys.ts';
import { startLocalStack } from './stack.ts';

const dataDir = defaultDataDir();
const stack = await startLocalStack({
  port: Number(process.env.PORT || 9292),
  host: process.env.HOST ?? '127.0.0.1',
  dataDir,
  persist: true,
  metadefsStarterCatalog: true,
});
const seeded = stack.metadefsStarterCatalog?.created ?? [];

console.log(`serverless-glance local
  API       ${stack.url}
  DynamoDB  ${stack.dynamoEndpoint}  table ${stack.tableName}
  S3        ${stack.s3Endpoint}  bucket ${stack.bucketName}
  data      ${dataDir}${seeded.length ? `\n  metadefs  starter catalog loaded: ${seeded.join(', ')}` : ''}

Get a token:
  export OS_AUTH_TOKEN=$(npm run --silent token -- --project demo --roles member)
  curl -H "X-Auth-Token: $OS_AUTH_TOKEN" ${stack.url}/v2/images
  glance --os-image-url ${stack.url} --os-auth-token "$OS_AUTH_TOKEN" image-list

Upload a big image:   npx serverless-glance upload <image-id> <file> --url ${stack.url}
Re-drive an import:   npm run sfn -- start --input '{"task_id":"<task id>"}'
Load metadefs files:  npx serverless-glance metadefs load <dir> --endpoint ${stack.dynamoEndpoint} --table ${stack.tableName}`);

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
