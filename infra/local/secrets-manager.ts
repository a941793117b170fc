/**
 * A local Secrets Manager endpoint answering `GetSecretValue` over the service's JSON 1.1
 * protocol, so a function reads its secret with the real SDK (through Powertools) exactly as on
 * AWS: `AWS_ENDPOINT_URL_SECRETS_MANAGER` points the SDK here. Like the other emulators it checks
 * no signatures and no IAM. Other operations answer `UnknownOperationException`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './lambda-runtime.ts';
import { listen } from './listen.ts';

export interface LocalSecretsManager {
  readonly endpoint: string;
  /** Creates or replaces a secret (a new version each time). */
  put(name: string, value: string): void;
  close(): Promise<void>;
}

interface Secret {
  readonly arn: string;
  readonly value: string;
  readonly versionId: string;
  readonly created: number;
}

export const startLocalSecretsManager = async (host = '127.0.0.1'): Promise<LocalSecretsManager> => {
  const secrets = new Map<string, Secret>();

  const find = (id: string) => secrets.get(id) ?? [...secrets.values()].find((secret) => secret.arn === id);

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    let input: { SecretId?: unknown } = {};
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return fail(res, 'SerializationException', 'The request body is not JSON.');
    }
    if (target !== 'secretsmanager.GetSecretValue') {
      return fail(res, 'UnknownOperationException', `${target} is not served locally.`);
    }
    const secret = typeof input.SecretId === 'string' ? find(input.SecretId) : undefined;
    if (!secret)
      return fail(res, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    const name = [...secrets.entries()].find(([, value]) => value === secret)?.[0];
    send(res, 200, {
      ARN: secret.arn,
      Name: name,
      VersionId: secret.versionId,
      SecretString: secret.value,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.created,
    });
  };

  const server = createServer((req, res) => {
    serve(req, res).catch(() => fail(res, 'InternalServiceError', 'The local Secrets Manager failed.', 500));
  });
  const listening = await listen(server, { host });

  return {
    endpoint: listening.endpoint,
    put(name, value) {
      const suffix = randomUUID().slice(0, 6);
      secrets.set(name, {
        arn: `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:secret:${name}-${suffix}`,
        value,
        versionId: randomUUID(),
        created: Date.now() / 1000,
      });
    },
    close: listening.close,
  };
};

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/x-amz-json-1.1');
  res.setHeader('x-amzn-RequestId', randomUUID());
  res.end(JSON.stringify(body));
};

const fail = (res: ServerResponse, type: string, message: string, status = 400) => {
  res.setHeader('x-amzn-ErrorType', type);
  send(res, status, { __type: type, message });
};
