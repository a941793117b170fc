/**
 * Image sharing through the API (docs/api.md#members): the sharing walk of the issue, tempest's
 * member tests replayed request by request, every refusal, and races on the member quota.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#shared/runtime';
import { membersKey } from '#shared/table';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';
import { download, type Json, uploadDirect, waitForImage } from '#test/integration/uploads/helpers';

const QUOTA = 6;

let stack: TestStack;
/** Tokens: `a` owns the images; `b` and `c` are consumers; `*Reader` hold only the reader role. */
let a: string;
let aReader: string;
let b: string;
let bReader: string;
let c: string;
let stranger: string;
let admin: string;

beforeAll(async () => {
  process.env.IMAGE_MEMBER_QUOTA = String(QUOTA);
  stack = await startTestStack();
  a = await stack.tokenFor({ project: 'p-a', roles: ['member', 'reader'] });
  aReader = await stack.tokenFor({ project: 'p-a', roles: ['reader'] });
  b = await stack.tokenFor({ project: 'p-b', roles: ['member', 'reader'] });
  bReader = await stack.tokenFor({ project: 'p-b', roles: ['reader'] });
  c = await stack.tokenFor({ project: 'p-c', roles: ['member', 'reader'] });
  stranger = await stack.tokenFor({ project: 'p-stranger', roles: ['member', 'reader'] });
  admin = await stack.tokenFor({ project: 'p-admin', roles: ['admin', 'member', 'reader'] });
});
afterAll(async () => {
  delete process.env.IMAGE_MEMBER_QUOTA;
  await stack.stop();
});

const create = async (token = a, body: Record<string, unknown> = {}): Promise<string> => {
  const response = await stack.api('POST', '/v2/images', {
    token,
    body: { name: 'shared', disk_format: 'raw', container_format: 'bare', ...body },
  });
  expect(response.status).toBe(201);
  return response.json.id;
};

const addMember = (id: string, member: unknown, token = a) =>
  stack.api('POST', `/v2/images/${id}/members`, { token, body: { member } });
const setStatus = (id: string, member: string, status: unknown, token: string) =>
  stack.api('PUT', `/v2/images/${id}/members/${member}`, { token, body: { status } });
const showMember = (id: string, member: string, token: string) =>
  stack.api('GET', `/v2/images/${id}/members/${member}`, { token });
const listMembers = (id: string, token: string) => stack.api('GET', `/v2/images/${id}/members`, { token });
const removeMember = (id: string, member: string, token = a) =>
  stack.api('DELETE', `/v2/images/${id}/members/${member}`, { token });
const listIds = async (token: string, query = ''): Promise<string[]> => {
  const response = await stack.api('GET', `/v2/images${query}`, { token });
  expect(response.status).toBe(200);
  return response.json.images.map((image: Json) => image.id);
};
/** The member item as stored: the answer to "was anything written?". */
const stored = async (id: string) =>
  (
    await documentClient().send(
      new QueryCommand({
        TableName: process.env.TABLE_NAME,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': membersKey(id).pk },
        ConsistentRead: true,
      }),
    )
  ).Items ?? [];
const expectError = (response: { status: number; json: Json }, status: number, message?: RegExp) => {
  expect(response.status).toBe(status);
  expect(response.json).toMatchObject({ error: { code: status, message: expect.any(String) } });
  if (message) expect(response.json.error.message).toMatch(message);
};

describe('sharing an image with another project', () => {
  it('walks the issue: B sees it by id only until it accepts, then lists and downloads it, and cannot change it', async () => {
    const id = await create();
    const data = Buffer.from('shared image bytes');
    expect((await uploadDirect(stack, a, id, data)).status).toBe(204);
    await waitForImage(stack, a, id, (image) => image.status === 'active');

    expectError(await stack.api('GET', `/v2/images/${id}`, { token: b }), 404);
    const added = await addMember(id, 'p-b');
    expect(added.status).toBe(200);
    expect(added.json).toEqual({
      member_id: 'p-b',
      image_id: id,
      status: 'pending',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      schema: '/v2/schemas/member',
    });

    // Pending: visible by id, not in the default list.
    expect((await stack.api('GET', `/v2/images/${id}`, { token: b })).status).toBe(200);
    expect(await listIds(b)).not.toContain(id);
    expect(await listIds(b, '?member_status=pending&visibility=shared')).toContain(id);

    const accepted = await setStatus(id, 'p-b', 'accepted', b);
    expect(accepted.status).toBe(200);
    expect(accepted.json).toMatchObject({ member_id: 'p-b', image_id: id, status: 'accepted' });
    expect(await listIds(b)).toContain(id);
    expect(await listIds(b, '?visibility=shared')).toContain(id);
    expect(await listIds(b, '?member_status=pending&visibility=shared')).not.toContain(id);

    const fetched = await download(stack, b, id);
    expect(fetched.status).toBe(302);
    expect(fetched.bytes).toEqual(data);

    // A consumer can neither change nor delete the image: it sees it, so 403.
    const patched = await stack.api('PATCH', `/v2/images/${id}`, {
      token: b,
      body: JSON.stringify([{ op: 'replace', path: '/name', value: 'mine' }]),
      headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
    });
    expectError(patched, 403);
    expectError(await stack.api('DELETE', `/v2/images/${id}`, { token: b }), 403);
    expectError(await stack.api('PUT', `/v2/images/${id}/tags/mine`, { token: b }), 403);
    expectError(await stack.api('POST', `/v2/images/${id}/actions/deactivate`, { token: b }), 403);
    expectError(await stack.api('GET', `/v2/images/${id}/history`, { token: b }), 403);
    expectError(await addMember(id, 'p-c', b), 403);
    expectError(await removeMember(id, 'p-b', b), 403);
    expect((await stack.api('GET', `/v2/images/${id}`, { token: a })).json.name).toBe('shared');

    // Rejected: still visible by id, out of the default list again.
    expect((await setStatus(id, 'p-b', 'rejected', b)).status).toBe(200);
    expect((await stack.api('GET', `/v2/images/${id}`, { token: b })).status).toBe(200);
    expect(await listIds(b)).not.toContain(id);
    expect(await listIds(b, '?member_status=rejected')).toContain(id);
    expect(await listIds(b, '?member_status=all')).toContain(id);

    // Removed: gone for B.
    expect((await removeMember(id, 'p-b')).status).toBe(204);
    expectError(await stack.api('GET', `/v2/images/${id}`, { token: b }), 404);
    expect(await listIds(b, '?member_status=all')).not.toContain(id);
  });

  it('lets a reader change nothing', async () => {
    const id = await create();
    expectError(await addMember(id, 'p-b', aReader), 403);
    expect((await addMember(id, 'p-b')).status).toBe(200);
    // Readers read: the owner's readers list, the member's readers see their entry and the image.
    expect((await listMembers(id, aReader)).json.members).toHaveLength(1);
    expect((await showMember(id, 'p-b', bReader)).status).toBe(200);
    expect((await stack.api('GET', `/v2/images/${id}`, { token: bReader })).status).toBe(200);
    // ...and change nothing.
    expectError(await setStatus(id, 'p-b', 'accepted', bReader), 403);
    expectError(await removeMember(id, 'p-b', aReader), 403);
    expectError(await stack.api('DELETE', `/v2/images/${id}`, { token: aReader }), 403);
    expectError(await stack.api('GET', `/v2/images/${id}/file`, { token: bReader }), 403);
    expect((await showMember(id, 'p-b', a)).json.status).toBe('pending');
  });

  it('shows the owner every member and a member only its own entry; others get 404', async () => {
    const id = await create();
    for (const member of ['p-b', 'p-c']) expect((await addMember(id, member)).status).toBe(200);
    const owners = await listMembers(id, a);
    expect(owners.status).toBe(200);
    expect(owners.json.schema).toBe('/v2/schemas/members');
    expect(owners.json.members.map((m: Json) => m.member_id)).toEqual(['p-b', 'p-c']);
    expect((await listMembers(id, b)).json.members.map((m: Json) => m.member_id)).toEqual(['p-b']);
    expect((await listMembers(id, admin)).json.members).toHaveLength(2);
    expectError(await listMembers(id, stranger), 404);

    expect((await showMember(id, 'p-c', a)).status).toBe(200);
    expectError(await showMember(id, 'p-c', b), 404, /p-c not found in the member list/);
    expectError(await showMember(id, 'p-nobody', a), 404);
    expectError(await showMember(id, 'p-b', stranger), 404);
  });

  it('lets only the member project set its status: the owner cannot accept for it, nor B for C', async () => {
    const id = await create();
    await addMember(id, 'p-b');
    await addMember(id, 'p-c');
    expectError(
      await setStatus(id, 'p-b', 'accepted', a),
      403,
      /^Not allowed to update members for image .*: only project p-b itself or an admin .*not the image's owner\.$/,
    );
    expectError(
      await setStatus(id, 'p-b', 'accepted', bReader),
      403,
      /needs the member role in that project/,
    );
    expectError(await setStatus(id, 'p-c', 'accepted', b), 404);
    expect((await setStatus(id, 'p-c', 'accepted', admin)).json.status).toBe('accepted');
    expect((await showMember(id, 'p-b', a)).json.status).toBe('pending');
    // Back and forth, and to pending again.
    for (const status of ['accepted', 'rejected', 'pending', 'accepted']) {
      expect((await setStatus(id, 'p-b', status, b)).json.status).toBe(status);
    }
  });

  it('refuses malformed bodies and statuses with 400, writing nothing', async () => {
    const id = await create();
    const post = (body: unknown) => stack.api('POST', `/v2/images/${id}/members`, { token: a, body });
    expectError(await post({}), 400, /Member to be added not specified/);
    expectError(await post({ member: '' }), 400, /Member can't be empty/);
    expectError(await post({ member: null }), 400, /Member can't be empty/);
    expectError(await post(['p-b']), 400, /Expected a member/);
    expectError(await post({ member: 42 }), 400, /project id/);
    expectError(await post({ member: 'a/b' }), 400, /project id/);
    expectError(await post({ member: 'has space' }), 400, /project id/);
    expectError(await post({ member: 'x'.repeat(256) }), 400, /project id/);
    expectError(await stack.api('POST', `/v2/images/${id}/members`, { token: a, body: '{' }), 400);
    expect((await listMembers(id, a)).json.members).toEqual([]);

    await addMember(id, 'p-b');
    expectError(await setStatus(id, 'p-b', 'notavalidstatus', b), 400, /Status must be/);
    expectError(await setStatus(id, 'p-b', 7, b), 400, /Status must be/);
    expectError(
      await stack.api('PUT', `/v2/images/${id}/members/p-b`, { token: b, body: { state: 'accepted' } }),
      400,
      /Status not specified/,
    );
    expect((await showMember(id, 'p-b', a)).json.status).toBe('pending');
  });

  it('keeps prototype-like project ids apart', async () => {
    const id = await create();
    for (const member of ['__proto__', 'constructor', 'toString']) {
      expect((await addMember(id, member)).status).toBe(200);
      expect((await showMember(id, member, a)).json.member_id).toBe(member);
    }
    expect((await listMembers(id, a)).json.members.map((m: Json) => m.member_id).sort()).toEqual([
      '__proto__',
      'constructor',
      'toString',
    ]);
    expect((await removeMember(id, '__proto__')).status).toBe(204);
    expectError(await showMember(id, '__proto__', a), 404);
  });

  it('answers 409 for a member added twice and 404 for removing a non-member', async () => {
    const id = await create();
    expect((await addMember(id, 'p-b')).status).toBe(200);
    expectError(await addMember(id, 'p-b'), 409, /Member p-b is duplicated/);
    expectError(await removeMember(id, 'p-c'), 404);
    expect((await removeMember(id, 'p-b')).status).toBe(204);
    expectError(await removeMember(id, 'p-b'), 404);
    // A removed member can be added again, pending afresh.
    expect((await addMember(id, 'p-b')).json.status).toBe('pending');
  });
});

describe("bad input on the member routes: Glance's codes and error shape, nothing written", () => {
  it.each([
    ['an array', ['accepted']],
    ['a string', 'accepted'],
    ['null', null],
    ['malformed JSON', '{"status": '],
    ['an empty body', ''],
  ])('refuses %s as a status body with 400', async (_, body) => {
    const id = await create();
    await addMember(id, 'p-b');
    const before = await stored(id);
    const answer = await stack.api('PUT', `/v2/images/${id}/members/p-b`, {
      token: b,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expectError(answer, 400);
    expect(await stored(id)).toEqual(before);
  });

  it.each([
    'ACCEPTED',
    'Accepted',
    ' accepted',
    'all',
    'deleted',
    '',
    null,
    true,
    ['accepted'],
    { status: 'accepted' },
  ])('refuses the status %j with 400, the member stays pending', async (status) => {
    const id = await create();
    await addMember(id, 'p-b');
    const before = await stored(id);
    expectError(
      await setStatus(id, 'p-b', status, b),
      400,
      /^Incorrect request: Status must be "pending", "accepted" or "rejected"\.$/,
    );
    expect(await stored(id)).toEqual(before);
    expect((await showMember(id, 'p-b', a)).json.status).toBe('pending');
  });

  it('checks the body first, the status value last, as Glance', async () => {
    const id = await create();
    await addMember(id, 'p-b');
    const unknownImage = crypto.randomUUID();
    // No status at all: 400 before the image is even looked up.
    expectError(
      await stack.api('PUT', `/v2/images/${unknownImage}/members/p-b`, { token: b, body: {} }),
      400,
      /Status not specified/,
    );
    // A status, however bad: the image, the member and the policy come first.
    expectError(await setStatus(unknownImage, 'p-b', 'bogus', b), 404);
    expectError(
      await setStatus(id, 'p-nobody', 'bogus', admin),
      404,
      /p-nobody not found in the member list/,
    );
    expectError(await setStatus(id, 'p-b', 'bogus', a), 403);
    expectError(await setStatus(id, 'p-b', 'bogus', bReader), 403);
    const privateId = await create(a, { visibility: 'private' });
    expectError(await setStatus(privateId, 'p-b', 'bogus', a), 403, /Only shared images have members/);
  });

  it.each([
    ['an unknown member', 'p-nobody'],
    ['a member id past 255 characters', 'x'.repeat(256)],
    ['a member id with a space', 'p%20b'],
    ['a member id with a slash', 'p%2Fb'],
  ])('answers 404 for %s on show, status and remove', async (_, member) => {
    const id = await create();
    await addMember(id, 'p-b');
    const before = await stored(id);
    for (const token of [a, admin]) {
      expectError(await showMember(id, member, token), 404);
      expectError(await setStatus(id, member, 'accepted', token === a ? admin : token), 404);
      expectError(await removeMember(id, member, token), 404);
    }
    expect(await stored(id)).toEqual(before);
  });

  it.each([
    ['an unknown image', () => crypto.randomUUID()],
    ['a malformed image id', () => 'not-an-image-id'],
    [
      'a deleted image',
      async () => {
        const id = await create();
        expect((await stack.api('DELETE', `/v2/images/${id}`, { token: a })).status).toBe(204);
        return id;
      },
    ],
    ["another project's shared image", () => create(c)],
  ])('answers 404 on every member route for %s', async (_, image) => {
    const id = await image();
    expectError(await addMember(id, 'p-b'), 404, /No image found/);
    expectError(await listMembers(id, a), 404, /No image found/);
    expectError(await showMember(id, 'p-b', a), 404, /No image found/);
    expectError(await setStatus(id, 'p-b', 'accepted', a), 404, /No image found/);
    expectError(await removeMember(id, 'p-b'), 404, /No image found/);
    expect(await stored(id)).toEqual([]);
  });

  it('writes nothing for a refused add: bad bodies, non-shared images, readers, strangers', async () => {
    const shared = await create();
    const privateId = await create(a, { visibility: 'private' });
    expectError(await addMember(shared, ''), 400);
    expectError(await addMember(shared, 'p-b', aReader), 403);
    expectError(await addMember(shared, 'p-b', stranger), 404);
    expectError(await addMember(privateId, 'p-b'), 403, /Only shared images have members/);
    expect(await stored(shared)).toEqual([]);
    expect(await stored(privateId)).toEqual([]);
    expect(await listIds(b, '?member_status=all&visibility=all&limit=1000')).not.toContain(shared);
  });
});

describe('members exist only on shared images', () => {
  it.each(['private', 'public', 'community'])('refuses the member API on a %s image', async (visibility) => {
    const id = await create(visibility === 'public' ? admin : a, { visibility, owner: 'p-a' });
    expectError(await addMember(id, 'p-b'), 403, /Only shared images have members/);
    expectError(await listMembers(id, a), 403, /Only shared images have members/);
    expectError(await setStatus(id, 'p-b', 'accepted', a), 403);
    expectError(await removeMember(id, 'p-b'), 403);
    expectError(await showMember(id, 'p-b', a), 404, /Only shared images have members/);
  });

  it('keeps members when the image stops being shared, granting nothing until it is shared again', async () => {
    const id = await create();
    await addMember(id, 'p-b');
    await setStatus(id, 'p-b', 'accepted', b);
    const setVisibility = (visibility: string) =>
      stack.api('PATCH', `/v2/images/${id}`, {
        token: a,
        body: JSON.stringify([{ op: 'replace', path: '/visibility', value: visibility }]),
        headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
      });
    expect((await setVisibility('private')).status).toBe(200);
    expectError(await stack.api('GET', `/v2/images/${id}`, { token: b }), 404);
    expect(await listIds(b, '?member_status=all&visibility=all')).not.toContain(id);
    expectError(await listMembers(id, a), 403);

    expect((await setVisibility('shared')).status).toBe(200);
    expect((await stack.api('GET', `/v2/images/${id}`, { token: b })).status).toBe(200);
    expect(await listIds(b)).toContain(id);
    expect((await showMember(id, 'p-b', a)).json.status).toBe('accepted');
  });

  it('removes the members with the image', async () => {
    const id = await create();
    await addMember(id, 'p-b');
    await addMember(id, 'p-c');
    await setStatus(id, 'p-b', 'accepted', b);
    expect((await stack.api('DELETE', `/v2/images/${id}`, { token: a })).status).toBe(204);
    expect(await stored(id)).toEqual([]);
    expectError(await listMembers(id, a), 404);
    expect(await listIds(b, '?member_status=all')).not.toContain(id);
  });
});

describe('tempest member tests, request by request', () => {
  // tempest.api.image.v2.test_images_member.ImagesMemberTest and its negative twin: the owner
  // (primary) creates an image with name, container and disk format; alt is the other project.
  const tempestImage = () => create(a, { name: 'ImagesMemberTest-image' });

  it('test_image_share_accept', async () => {
    const id = await tempestImage();
    const member = (await addMember(id, 'p-b')).json;
    expect([member.member_id, member.image_id, member.status]).toEqual(['p-b', id, 'pending']);
    expect(await listIds(b)).not.toContain(id);
    expect((await setStatus(id, 'p-b', 'accepted', b)).status).toBe(200);
    expect(await listIds(b)).toContain(id);
    const members = (await listMembers(id, a)).json.members;
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ member_id: 'p-b', image_id: id, status: 'accepted' });
    expect((await removeMember(id, 'p-b')).status).toBe(204);
    expect((await stack.api('DELETE', `/v2/images/${id}`, { token: a })).status).toBe(204);
  });

  it('test_image_share_reject', async () => {
    const id = await tempestImage();
    expect((await addMember(id, 'p-b')).json.status).toBe('pending');
    expect(await listIds(b)).not.toContain(id);
    expect((await setStatus(id, 'p-b', 'rejected', b)).status).toBe(200);
    expect(await listIds(b)).not.toContain(id);
  });

  it('test_get_image_member', async () => {
    const id = await tempestImage();
    await addMember(id, 'p-b');
    await setStatus(id, 'p-b', 'accepted', b);
    expect(await listIds(b)).toContain(id);
    const member = await showMember(id, 'p-b', a);
    expect(member.status).toBe(200);
    expect(member.json).toMatchObject({ member_id: 'p-b', image_id: id, status: 'accepted' });
  });

  it('test_remove_image_member', async () => {
    const id = await tempestImage();
    await addMember(id, 'p-b');
    await setStatus(id, 'p-b', 'accepted', b);
    expect(await listIds(b)).toContain(id);
    expect((await removeMember(id, 'p-b')).status).toBe(204);
    expect(await listIds(b)).not.toContain(id);
  });

  it.each(['member', 'members'])('test_get_image_member%s_schema', async (name) => {
    const schema = await stack.api('GET', `/v2/schemas/${name}`, { token: a });
    expect(schema.status).toBe(200);
    expect(schema.json.name).toBe(name);
  });

  it('test_image_share_invalid_status', async () => {
    const id = await tempestImage();
    expect((await addMember(id, 'p-b')).json.status).toBe('pending');
    expectError(await setStatus(id, 'p-b', 'notavalidstatus', b), 400);
  });

  it('test_image_share_owner_cannot_accept', async () => {
    const id = await tempestImage();
    expect((await addMember(id, 'p-b')).json.status).toBe('pending');
    expect(await listIds(b)).not.toContain(id);
    expectError(await setStatus(id, 'p-b', 'accepted', a), 403);
    expect(await listIds(b)).not.toContain(id);
  });

  it('ListSharedImagesTest.test_list_images_param_member_status', async () => {
    // A fresh consumer, so that "exactly one" holds whatever the other tests shared.
    const alt = await stack.tokenFor({ project: 'p-tempest-alt', roles: ['member', 'reader'] });
    const id = await tempestImage();
    expect((await uploadDirect(stack, a, id, Buffer.alloc(2048, 7))).status).toBe(204);
    await addMember(id, 'p-tempest-alt');
    const images = (
      await stack.api('GET', '/v2/images?member_status=pending&visibility=shared', { token: alt })
    ).json.images;
    expect(images).toHaveLength(1);
    expect(images[0].id).toBe(id);
  });
});

describe('the member quota holds under races', () => {
  it(`lets exactly ${QUOTA} of 20 concurrent adds in (413 for the others), and frees a place on removal`, async () => {
    const id = await create();
    const projects = Array.from({ length: 20 }, (_, i) => `p-race-${i}`);
    const answers = await Promise.all(projects.map((project) => addMember(id, project)));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(QUOTA);
    expect(statuses.filter((status) => status === 413)).toHaveLength(20 - QUOTA);
    expect(answers.find((answer) => answer.status === 413)?.json.error.message).toMatch(
      new RegExp(`Attempted: ${QUOTA + 1}, Maximum: ${QUOTA}`),
    );
    const members = (await listMembers(id, a)).json.members.map((m: Json) => m.member_id).sort();
    expect(members).toEqual(projects.filter((_, i) => answers[i]?.status === 200).sort());
    expectError(await addMember(id, 'p-late'), 413);
    expect((await removeMember(id, members[0])).status).toBe(204);
    expect((await addMember(id, 'p-late')).status).toBe(200);
  });

  it('adds one member once when the same add races itself (one 200, the rest 409)', async () => {
    const id = await create();
    const answers = await Promise.all(Array.from({ length: 8 }, () => addMember(id, 'p-b')));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(7);
    expect((await listMembers(id, a)).json.members).toHaveLength(1);
  });

  it('keeps the consumer listing the image when removing and re-adding race', async () => {
    const id = await create();
    for (let round = 0; round < 5; round++) {
      await addMember(id, 'p-c');
      await Promise.all([removeMember(id, 'p-c'), addMember(id, 'p-c')]);
      const member = await showMember(id, 'p-c', a);
      if (member.status === 200) {
        await setStatus(id, 'p-c', 'accepted', c);
        expect(await listIds(c, '?limit=1000')).toContain(id);
      } else {
        expect(await listIds(c, '?member_status=all&limit=1000')).not.toContain(id);
      }
      await removeMember(id, 'p-c');
    }
  });
});
