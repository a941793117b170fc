/**
 * Many admins writing to one namespace at once: every write is a conditional write of the one
 * namespace item, and a loser retries on the fresh namespace, so concurrent writes all land (or
 * fail exactly as they would one after the other), and nothing is lost.
 */
import { describe, expect, it } from 'vitest';
import { NAMESPACE_WRITE_ATTEMPTS } from '#shared/metadefs/service';
import { createNamespace, metadefsSuite, uniqueName } from './helpers.ts';

const { stack, admin } = metadefsSuite({ seed: false });

/** Simultaneous writers to one namespace the retries are sized for. */
const WRITERS = NAMESPACE_WRITE_ATTEMPTS;

describe('concurrent writes to one namespace', () => {
  it('keeps every property, object and tag written at once', async () => {
    const ns = await createNamespace(stack());
    const base = `/v2/metadefs/namespaces/${ns}`;
    const writes = Array.from({ length: WRITERS }, (_, i) => {
      if (i % 3 === 0)
        return admin('POST', `${base}/properties`, { name: `p${i}`, title: 'P', type: 'string' });
      if (i % 3 === 1) return admin('POST', `${base}/objects`, { name: `o${i}` });
      return admin('POST', `${base}/tags/t${i}`);
    });
    const responses = await Promise.all(writes);
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 201));
    const shown = (await admin('GET', base)).json;
    const written = [
      ...Object.keys(shown.properties),
      ...shown.objects.map((o: { name: string }) => o.name),
      ...shown.tags.map((t: { name: string }) => t.name),
    ];
    expect(written.sort()).toEqual(
      Array.from({ length: WRITERS }, (_, i) => `${['p', 'o', 't'][i % 3]}${i}`).sort(),
    );
  });

  it('lets exactly one of many identical creates win; the others get the 409 of a duplicate', async () => {
    const ns = await createNamespace(stack());
    const responses = await Promise.all(
      Array.from({ length: WRITERS }, () =>
        admin('POST', `/v2/metadefs/namespaces/${ns}/properties`, {
          name: 'same',
          title: 'S',
          type: 'string',
        }),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([201, ...Array(WRITERS - 1).fill(409)]);
    for (const response of responses.filter((r) => r.status === 409)) {
      expect(response.json.error.message).toContain(
        'A metadata definition property with name=same already exists',
      );
    }
  });

  it('creates a namespace once when many try at once', async () => {
    const name = uniqueName('race');
    const responses = await Promise.all(
      Array.from({ length: WRITERS }, () => admin('POST', '/v2/metadefs/namespaces', { namespace: name })),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([
      201,
      ...Array(WRITERS - 1).fill(409),
    ]);
  });

  it('never loses a write racing a rename: it lands under the new name or answers 404', async () => {
    const ns = await createNamespace(stack());
    const renamed = `${ns}-renamed`;
    const [rename, ...adds] = await Promise.all([
      admin('PUT', `/v2/metadefs/namespaces/${ns}`, { namespace: renamed, visibility: 'public' }),
      ...Array.from({ length: WRITERS }, (_, i) => admin('POST', `/v2/metadefs/namespaces/${ns}/tags/t${i}`)),
    ]);
    expect(rename?.status).toBe(200);
    const landed = adds.filter((response) => response.status === 201).length;
    expect(adds.every((response) => response.status === 201 || response.status === 404)).toBe(true);
    expect((await admin('GET', `/v2/metadefs/namespaces/${ns}`)).status).toBe(404);
    expect((await admin('GET', `/v2/metadefs/namespaces/${renamed}/tags`)).json.tags).toHaveLength(landed);
  });

  it('does not delete a namespace protected a moment before', async () => {
    const ns = await createNamespace(stack());
    const [protect, remove] = await Promise.all([
      admin('PUT', `/v2/metadefs/namespaces/${ns}`, { namespace: ns, visibility: 'public', protected: true }),
      admin('DELETE', `/v2/metadefs/namespaces/${ns}`),
    ]);
    const exists = (await admin('GET', `/v2/metadefs/namespaces/${ns}`)).status === 200;
    // Either order is valid, but never both a successful protect and a successful delete.
    if (remove?.status === 204) expect([protect?.status, exists]).toEqual([404, false]);
    else expect([protect?.status, remove?.status, exists]).toEqual([200, 403, true]);
  });
});
