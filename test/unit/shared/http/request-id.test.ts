import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NotFound } from '#shared/errors';
import { type ApiEvent, apiHandler, REQUEST_ID_FORM, reply } from '#shared/http/handler';

const ok = apiHandler(async () => reply(200, { ok: true }), { auth: false });
const missing = apiHandler(
  async () => {
    throw new NotFound('nothing here');
  },
  { auth: false },
);
const broken = apiHandler(
  async () => {
    throw new Error('boom');
  },
  { auth: false },
);

const event = (headers: Record<string, string> = {}) =>
  ({
    rawPath: '/v2/x',
    headers,
    requestContext: { http: { method: 'GET' } },
  }) as unknown as ApiEvent;
const context = (awsRequestId: string = randomUUID()) => ({ awsRequestId, functionName: 'f' }) as Context;

/** The JSON log lines written while `run` runs. */
const logLines = async (run: () => Promise<unknown>) => {
  const lines: Record<string, unknown>[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    return true;
  });
  try {
    await run();
  } finally {
    write.mockRestore();
  }
  return lines;
};

afterEach(() => vi.restoreAllMocks());

describe('x-openstack-request-id', () => {
  it('is req-<Lambda request id> on a success, an error and an unexpected failure', async () => {
    for (const handler of [ok, missing, broken]) {
      const id = randomUUID();
      const result = await handler(event(), context(id));
      expect(result.headers?.['x-openstack-request-id']).toBe(`req-${id}`);
    }
  });

  it('is a fresh req-<uuid> when the Lambda request id is no UUID', async () => {
    const result = await ok(event(), context('local-1'));
    expect(result.headers?.['x-openstack-request-id']).toMatch(REQUEST_ID_FORM);
  });

  it('is logged with the request, and a caller id only in the req-<uuid> form', async () => {
    const global = `req-${randomUUID()}`;
    const id = randomUUID();
    const [line] = await logLines(() => ok(event({ 'X-OpenStack-Request-ID': global }), context(id)));
    expect(line).toMatchObject({
      message: 'request',
      method: 'GET',
      path: '/v2/x',
      status: 200,
      request_id: `req-${id}`,
      global_request_id: global,
    });

    for (const forged of [
      'req-not-a-uuid',
      `${global}\nlevel=ERROR`,
      global.toUpperCase(),
      'x'.repeat(300),
    ]) {
      const [other] = await logLines(() => ok(event({ 'x-openstack-request-id': forged }), context()));
      expect(other).not.toHaveProperty('global_request_id');
    }
  });

  it('does not leak one request id into the next request', async () => {
    const global = `req-${randomUUID()}`;
    await logLines(() => ok(event({ 'x-openstack-request-id': global }), context()));
    const [next] = await logLines(() => ok(event(), context()));
    expect(next).not.toHaveProperty('global_request_id');
  });
});
