/**
 * The port through which `.../complete` queues the assembly of a multipart upload
 * (shared/uploads/complete.ts). One production adapter: a Lambda `Invoke` of the completion
 * function with `InvocationType: Event`, which Lambda acknowledges (202) once the event is queued;
 * its retries and its on-failure queue take over from there (infra/constructs/uploads.ts).
 *
 * Locally nothing changes in this code: `AWS_ENDPOINT_URL_LAMBDA` points the SDK at the local
 * stack's Lambda endpoint (infra/local/lambda-service.ts), which runs the same function in process.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { CompletionRequest, Completions } from './complete.ts';

export const lambdaCompletions = (client: LambdaClient, functionName: string): Completions => ({
  async start(request: CompletionRequest) {
    const answer = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
    );
    // Lambda answers 202 to a queued event; anything else means it was not queued.
    if (answer.StatusCode !== 202) {
      throw new Error(`Lambda did not queue the completion of ${request.upload_id}: ${answer.StatusCode}`);
    }
  },
});
