/**
 * A scripted walk of the `openstack` CLI through an image's life, as a user with only OS_*
 * variables set would do it, sharing with a second project included. A step that waits for an open
 * issue (`waitsFor`) is expected to fail; one that passes is reported so its expectation can go.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, type TempestUser } from './tempest.ts';

export interface WalkStep {
  readonly name: string;
  /** The open issue this step waits for; it is expected to fail until then. */
  readonly waitsFor?: string;
  readonly ok: boolean;
  readonly detail: string;
}

interface Context {
  readonly dir: string;
  readonly keystoneUrl: string;
  readonly owner: TempestUser;
  readonly other: TempestUser;
  imageId: string;
}

const osEnv = (context: Context, user: TempestUser): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('OS_')) env[name] = value;
  return {
    ...env,
    OS_AUTH_URL: `${context.keystoneUrl}/v3`,
    OS_USERNAME: user.name,
    OS_PASSWORD: user.password,
    OS_PROJECT_NAME: user.project,
  };
};

const openstack = async (context: Context, user: TempestUser, args: string[]) => {
  const result = await run('openstack', args, { env: osEnv(context, user), cwd: context.dir });
  if (result.code !== 0)
    throw new Error(`openstack ${args.join(' ')}: ${result.stderr.trim().split('\n').pop()}`);
  return result.stdout;
};
const openstackJson = async (context: Context, user: TempestUser, args: string[]) =>
  JSON.parse(await openstack(context, user, [...args, '-f', 'json']));

const check = (condition: boolean, message: string) => {
  if (!condition) throw new Error(message);
};
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const waitFor = async (context: Context, status: string) => {
  for (let attempt = 0; attempt < 60; attempt++) {
    const image = await openstackJson(context, context.owner, ['image', 'show', context.imageId]);
    if (image.status === status) return;
    if (image.status === 'killed') throw new Error('image killed');
    await sleep(500);
  }
  throw new Error(`image never became ${status}`);
};

/** `openstack image create` of `file` as raw/bare under a fresh name; waits for it to be active. */
const createActive = async (context: Context, file: string, options: string[], prefix: string) => {
  const image = await openstackJson(context, context.owner, [
    'image',
    'create',
    ...options,
    '--file',
    file,
    '--disk-format',
    'raw',
    '--container-format',
    'bare',
    `${prefix}-${randomBytes(3).toString('hex')}`,
  ]);
  await waitFor({ ...context, imageId: image.id }, 'active');
  return image.id as string;
};

type Script = { name: string; waitsFor?: string; run: (context: Context) => Promise<string | undefined> };

const script = (file: string, data: Buffer): Script[] => [
  {
    name: 'image create --file',
    run: async (context) => {
      context.imageId = await createActive(context, file, [], 'walk');
      return context.imageId;
    },
  },
  {
    name: 'image list',
    run: async (context) => {
      const images: { ID: string }[] = await openstackJson(context, context.owner, ['image', 'list']);
      check(
        images.some((image) => image.ID === context.imageId),
        'the new image is not listed',
      );
      return `${images.length} images`;
    },
  },
  {
    name: 'image show',
    run: async (context) => {
      const image = await openstackJson(context, context.owner, ['image', 'show', context.imageId]);
      check(image.size === data.length, `size ${image.size}, not ${data.length}`);
      check(image.checksum === md5(data), 'checksum differs from the file');
      return `${image.status}, ${image.size} bytes`;
    },
  },
  {
    name: 'image set --name --property',
    run: async (context) => {
      await openstack(context, context.owner, [
        'image',
        'set',
        '--name',
        'walk-renamed',
        '--property',
        'walk=yes',
        context.imageId,
      ]);
      const image = await openstackJson(context, context.owner, ['image', 'show', context.imageId]);
      check(image.name === 'walk-renamed', 'name not changed');
      check(image.properties?.walk === 'yes', 'property not set');
      return undefined;
    },
  },
  {
    name: 'image set --tag',
    run: async (context) => {
      await openstack(context, context.owner, ['image', 'set', '--tag', 'walk-tag', context.imageId]);
      const image = await openstackJson(context, context.owner, ['image', 'show', context.imageId]);
      check(image.tags.includes('walk-tag'), 'tag not set');
      return undefined;
    },
  },
  {
    name: 'image unset --property --tag',
    run: async (context) => {
      await openstack(context, context.owner, [
        'image',
        'unset',
        '--property',
        'walk',
        '--tag',
        'walk-tag',
        context.imageId,
      ]);
      const image = await openstackJson(context, context.owner, ['image', 'show', context.imageId]);
      check(image.properties?.walk === undefined && !image.tags.includes('walk-tag'), 'not unset');
      return undefined;
    },
  },
  {
    name: 'image save (md5 of the download)',
    run: async (context) => {
      const out = join(context.dir, 'saved.img');
      await openstack(context, context.owner, ['image', 'save', '--file', out, context.imageId]);
      const saved = await readFile(out);
      check(md5(saved) === md5(data), 'the download differs from the upload');
      return md5(saved);
    },
  },
  {
    name: 'image set --protected / --unprotected',
    run: async (context) => {
      await openstack(context, context.owner, ['image', 'set', '--protected', context.imageId]);
      const refused = await run('openstack', ['image', 'delete', context.imageId], {
        env: osEnv(context, context.owner),
      });
      check(refused.code !== 0, 'a protected image was deleted');
      await openstack(context, context.owner, ['image', 'set', '--unprotected', context.imageId]);
      return undefined;
    },
  },
  {
    name: 'image list --tag / --property filters',
    run: async (context) => {
      await openstack(context, context.owner, ['image', 'set', '--tag', 'walk-filter', context.imageId]);
      const images: { ID: string }[] = await openstackJson(context, context.owner, [
        'image',
        'list',
        '--tag',
        'walk-filter',
      ]);
      check(images.length === 1 && images[0]?.ID === context.imageId, 'tag filter');
      return undefined;
    },
  },
  {
    name: 'image create --import (glance-direct)',
    run: async (context) => {
      const imageId = await createActive(context, file, ['--import'], 'walk-import');
      await openstack(context, context.owner, ['image', 'delete', imageId]);
      return imageId;
    },
  },
  {
    name: 'image add project',
    run: async (context) => {
      await openstack(context, context.owner, ['image', 'set', '--shared', context.imageId]);
      await openstack(context, context.owner, [
        'image',
        'add',
        'project',
        context.imageId,
        context.other.projectId,
      ]);
      return undefined;
    },
  },
  {
    name: 'image member list',
    run: async (context) => {
      const members: unknown[] = await openstackJson(context, context.owner, [
        'image',
        'member',
        'list',
        context.imageId,
      ]);
      check(members.length === 1, `${members.length} members`);
      return undefined;
    },
  },
  {
    name: 'image set --accept (as the member)',
    run: async (context) => {
      await openstack(context, context.other, ['image', 'set', '--accept', context.imageId]);
      const images: { ID: string }[] = await openstackJson(context, context.other, ['image', 'list']);
      check(
        images.some((image) => image.ID === context.imageId),
        'the accepted image is not listed for the member',
      );
      return undefined;
    },
  },
  {
    name: 'image remove project',
    run: async (context) => {
      await openstack(context, context.owner, [
        'image',
        'remove',
        'project',
        context.imageId,
        context.other.projectId,
      ]);
      // The SDK ignores a 404 here: the membership must be seen gone, not just not refused.
      const members: unknown[] = await openstackJson(context, context.owner, [
        'image',
        'member',
        'list',
        context.imageId,
      ]);
      check(members.length === 0, `${members.length} members left`);
      return undefined;
    },
  },
  {
    name: 'image delete',
    run: async (context) => {
      await openstack(context, context.owner, ['image', 'delete', context.imageId]);
      const gone = await run('openstack', ['image', 'show', context.imageId], {
        env: osEnv(context, context.owner),
      });
      check(gone.code !== 0, 'the deleted image is still shown');
      return undefined;
    },
  },
];

/** Runs every step (a failed one does not stop the walk) and reports each. */
export const cliWalk = async (settings: {
  dir: string;
  keystoneUrl: string;
  owner: TempestUser;
  other: TempestUser;
  onStep: (step: WalkStep) => void;
}): Promise<WalkStep[]> => {
  const data = randomBytes(256 * 1024 + 17);
  const file = join(settings.dir, 'walk.img');
  await writeFile(file, data);
  const context: Context = { ...settings, imageId: '' };
  const steps: WalkStep[] = [];
  for (const step of script(file, data)) {
    let result: WalkStep;
    try {
      const detail = await step.run(context);
      result = { name: step.name, waitsFor: step.waitsFor, ok: true, detail: detail ?? '' };
    } catch (error) {
      result = { name: step.name, waitsFor: step.waitsFor, ok: false, detail: (error as Error).message };
    }
    steps.push(result);
    settings.onStep(result);
  }
  return steps;
};
