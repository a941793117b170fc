/**
 * Secrets stay with their owner (docs/lifecycle.md#reserved-properties): a failed web-download's
 * reason on the image, which every project that can see the image reads, names the step and the
 * cause with URLs stripped of query string, fragment and userinfo; the owner's history and the
 * task keep the whole reason.
 */
import { describe, expect, it } from 'vitest';
import {
  createImage,
  expectStatus,
  imageTasks,
  importImage,
  useImportStack,
  waitForImport,
} from './helpers.ts';

const { stack, files } = useImportStack({
  routes: {
    '/redirect': (_req, res) => {
      res.writeHead(302, { location: '/gone.img?token=SECRET-REDIRECT#frag' });
      res.end();
    },
  },
});

const REASON = 'os_glance_failure_reason';

const failedImport = async (uri: string) => {
  const image = await createImage(stack, { visibility: 'community' });
  expectStatus(await importImage(stack, image.id, { method: { name: 'web-download', uri } }), 202);
  const { task } = await waitForImport(stack, image.id);
  expect(task.status).toBe('failure');
  return image.id;
};

const seenBy = async (imageId: string, token: string) => {
  const response = await stack.api('GET', `/v2/images/${imageId}`, { token });
  expect(response.status).toBe(200);
  return response.json as Record<string, string>;
};

describe('failure reasons shown on the image', () => {
  it('carry the URL without its query string or fragment; history and task keep them', async () => {
    const uri = `${files.url('/missing.img')}?X-Amz-Signature=SECRET-QUERY&X-Amz-Credential=AKIA#SECRET-FRAGMENT`;
    const imageId = await failedImport(uri);

    const shown = await seenBy(imageId, stack.other);
    expect(shown.status).toBe('killed');
    expect(shown[REASON]).toBe(
      `Import failed at step Fetch: ${files.url('/missing.img')} answered HTTP 404 Not Found.`,
    );
    expect(JSON.stringify(shown)).not.toMatch(/SECRET|AKIA/);
    expect((await seenBy(imageId, stack.owner))[REASON]).toBe(shown[REASON]);

    const history = await stack.api('GET', `/v2/images/${imageId}/history`, { token: stack.owner });
    expect(history.json.history.at(-1).reason).toContain('X-Amz-Signature=SECRET-QUERY');
    expect((await stack.api('GET', `/v2/images/${imageId}/history`, { token: stack.other })).status).toBe(
      403,
    );

    const [task] = await imageTasks(stack, imageId);
    expect(task?.message).toContain('X-Amz-Signature=SECRET-QUERY');
    expect(JSON.stringify(task?.input)).toContain('SECRET-FRAGMENT');
    // Another project sees the image but none of its tasks.
    expect(await imageTasks(stack, imageId, stack.other)).toEqual([]);
  });

  it('redact a redirect target too', async () => {
    const imageId = await failedImport(files.url('/redirect'));
    const shown = await seenBy(imageId, stack.other);
    expect(shown[REASON]).toBe(
      `Import failed at step Fetch: ${files.url('/gone.img')} answered HTTP 404 Not Found.`,
    );
    const [task] = await imageTasks(stack, imageId);
    expect(task?.message).toContain('token=SECRET-REDIRECT');
  });

  it('redact the legacy task too, whose message stays whole for the admin', async () => {
    const uri = `${files.url('/missing.img')}?sig=SECRET-TASK`;
    const created = await stack.api('POST', '/v2/tasks', {
      token: stack.admin,
      body: {
        type: 'import',
        input: {
          import_from: uri,
          image_properties: {
            name: 'legacy',
            disk_format: 'raw',
            container_format: 'bare',
            visibility: 'public',
          },
        },
      },
    });
    expectStatus(created, 201);
    await stack.stepFunctions.waitFor(created.json.id, 45_000);
    const task = (await stack.api('GET', `/v2/tasks/${created.json.id}`, { token: stack.admin })).json;
    expect(task.message).toContain('sig=SECRET-TASK');
    const shown = await seenBy(task.image_id, stack.other);
    expect(shown.status).toBe('killed');
    expect(shown[REASON]).toContain(`${files.url('/missing.img')} answered HTTP 404`);
    expect(shown[REASON]).not.toContain('SECRET');
  });
});
