/**
 * python-glanceclient (the `glance` CLI from Debian's python3-glanceclient) against the local
 * stack: the proof that an existing Glance client works unchanged. `.ci/run` installs the
 * package; on a machine without it the suite is reported as skipped, with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glanceAvailable, runGlance, cliTable as table } from '#test/helpers/glanceclient';
import { startTestStack, type TestStack } from '#test/helpers/local-stack';

let stack: TestStack;
let token: string;

const glance = (...args: string[]) => runGlance(stack.url, token, args);
const glanceAs = (as: string, ...args: string[]) => runGlance(stack.url, as, args);

/** Reads the rows of a table with columns (`| a | b | c |`), header left out. */
const rows = (output: string): string[][] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(1)
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );

describe.runIf(glanceAvailable)('python-glanceclient against the local stack', () => {
  beforeAll(async () => {
    stack = await startTestStack();
    token = await stack.tokenFor({ project: 'p-cli', roles: ['member', 'reader'] });
  });
  afterAll(() => stack.stop());

  // Twelve calls, each starting a Python interpreter (about a second of CPU): on a busy machine
  // they outlast the default 60 s.
  const SLOW = 240_000;

  it(
    'creates, lists, shows, updates, tags, deactivates, reactivates and deletes',
    async () => {
      const created = table(
        await glance(
          'image-create',
          '--name',
          'cli-image',
          '--disk-format',
          'raw',
          '--container-format',
          'bare',
        ),
      );
      expect(created).toMatchObject({ name: 'cli-image', status: 'queued', owner: 'p-cli' });
      const id = created.id ?? '';

      expect(await glance('image-list')).toContain(id);
      expect(table(await glance('image-show', id))).toMatchObject({ id, name: 'cli-image' });

      const updated = table(
        await glance('image-update', '--name', 'renamed', '--property', 'os_distro=cirros', id),
      );
      expect(updated).toMatchObject({ name: 'renamed', os_distro: 'cirros' });

      await glance('image-tag-update', id, 'gold');
      expect(table(await glance('image-show', id)).tags).toContain('gold');

      // Make the image active through the status rules, as a finished upload does.
      const images = (await import('#shared/runtime')).images();
      const { applyTrigger } = await import('#shared/images/actions');
      const queued = await images.get(id);
      if (!queued) throw new Error('image vanished');
      const saving = await applyTrigger(images, queued, 'uploadStart', { actor: 'test' });
      await applyTrigger(images, saving, 'uploadFinish', { actor: 'test', set: { size: 0 } });

      await glance('image-deactivate', id);
      expect(table(await glance('image-show', id)).status).toBe('deactivated');
      await glance('image-reactivate', id);
      expect(table(await glance('image-show', id)).status).toBe('active');

      await glance('image-delete', id);
      await expect(glance('image-show', id)).rejects.toMatchObject({
        stderr: expect.stringContaining('No image found'),
      });
    },
    SLOW,
  );

  it(
    'shares an image: member-create, member-list, member-update by the member, member-delete',
    async () => {
      const consumer = await stack.tokenFor({ project: 'p-cli-consumer', roles: ['member', 'reader'] });
      const id =
        table(
          await glance(
            'image-create',
            '--name',
            'cli-shared',
            '--disk-format',
            'raw',
            '--container-format',
            'bare',
          ),
        ).id ?? '';
      expect(rows(await glance('member-create', id, 'p-cli-consumer'))).toEqual([
        [id, 'p-cli-consumer', 'pending'],
      ]);
      expect(rows(await glance('member-list', '--image-id', id))).toEqual([
        [id, 'p-cli-consumer', 'pending'],
      ]);
      expect(await glanceAs(consumer, 'image-list')).not.toContain(id);
      expect(
        await glanceAs(consumer, 'image-list', '--member-status', 'pending', '--visibility', 'shared'),
      ).toContain(id);

      await expect(glance('member-update', id, 'p-cli-consumer', 'accepted')).rejects.toMatchObject({
        stderr: expect.stringContaining('only project p-cli-consumer itself or an admin can accept'),
      });
      expect(rows(await glanceAs(consumer, 'member-update', id, 'p-cli-consumer', 'accepted'))).toEqual([
        [id, 'p-cli-consumer', 'accepted'],
      ]);
      expect(await glanceAs(consumer, 'image-list')).toContain(id);

      await glance('member-delete', id, 'p-cli-consumer');
      expect(rows(await glance('member-list', '--image-id', id))).toEqual([]);
      await expect(glanceAs(consumer, 'image-show', id)).rejects.toMatchObject({
        stderr: expect.stringContaining('No image found'),
      });
    },
    SLOW,
  );

  it('shows Glance error messages from our error bodies', async () => {
    const error = await glance('image-show', '00000000-0000-4000-8000-000000000000').catch(
      (caught) => caught,
    );
    expect(error.stderr).toMatch(/No image found with ID 00000000-0000-4000-8000-000000000000/);
  });
});

describe.skipIf(glanceAvailable)('python-glanceclient', () => {
  it('is not installed here (apt-get install python3-glanceclient); the CLI checks did not run', () => {
    expect(glanceAvailable).toBe(false);
  });
});
