import { App } from 'aws-cdk-lib';
import { ServerlessGlanceStack } from './stack.ts';

/** CDK app entry, run by `cdk.json` (`npx tsx infra/app.ts`). */
const app = new App();
new ServerlessGlanceStack(app, 'ServerlessGlanceStack', {
  description: 'serverless-glance: OpenStack Glance Image API v2 on AWS Lambda, API Gateway and DynamoDB',
});
