import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { heldAmounts, parseToken, type UsageOwner, usageChange } from '#shared/quotas/change';
import { addUsage, NO_USAGE, QUOTA_NAMES, type Usage } from '#shared/quotas/usage';
import { IMAGE_STATUSES, type ImageStatus } from '#shared/status-rules';

const size = fc.option(fc.nat({ max: 2 ** 40 }), { nil: null });
const state = fc.record({
  status: fc.constantFrom(...IMAGE_STATUSES),
  size,
  upload: fc.option(fc.record({ declared_size: size }), { nil: null }),
  owner: fc.option(fc.constantFrom('p1', 'p2', 'p3'), { nil: null }),
});
type State = {
  status: ImageStatus;
  size: number | null;
  upload: { declared_size: number | null } | null;
  owner: string | null;
};

/** Applies a sequence of writes as the repository does, summing what each project's item receives. */
const replay = (states: readonly State[]) => {
  const ledger = new Map<string, Usage>();
  let image: UsageOwner | undefined;
  states.forEach((next, index) => {
    const change = usageChange(image, { ...next, id: 'img' });
    for (const { project, delta } of change?.deltas ?? []) {
      ledger.set(project, addUsage(ledger.get(project) ?? NO_USAGE, delta));
    }
    image = {
      id: 'img',
      version: index + 1,
      owner: next.owner,
      held: change ? change.held : (image?.held ?? null),
    };
  });
  return { ledger, image };
};

describe('usageChange', () => {
  it('moves exactly what the image holds: every project item ends with what its images hold', () => {
    fc.assert(
      fc.property(fc.array(state, { minLength: 1, maxLength: 12 }), (states) => {
        const { ledger } = replay(states);
        const last = states.at(-1) as State;
        for (const project of ['p1', 'p2', 'p3']) {
          const expected = last.owner === project ? heldAmounts(last) : NO_USAGE;
          expect(ledger.get(project) ?? NO_USAGE).toEqual(expected);
        }
      }),
    );
  });

  it('names the image and the version its write is conditioned on, and records it on the image', () => {
    const change = usageChange(
      { id: 'img', version: 7, owner: 'p1', held: null },
      { id: 'img', status: 'saving', size: null, upload: { declared_size: 10 }, owner: 'p1' },
    );
    expect(parseToken(change?.token ?? '')).toEqual({ imageId: 'img', baseVersion: 7 });
    expect(change?.held).toMatchObject({
      image_size_total: 10,
      image_count_uploading: 1,
      token: change?.token,
      projects: ['p1'],
    });
  });

  it('changes nothing when the image keeps holding the same (deactivate, an edit)', () => {
    const held = {
      ...heldAmounts({ status: 'active', size: 5, upload: null, owner: 'p1' }),
      token: 't',
      projects: ['p1'],
    };
    const before: UsageOwner = { id: 'img', version: 3, owner: 'p1', held };
    expect(
      usageChange(before, { id: 'img', status: 'deactivated', size: 5, upload: null, owner: 'p1' }),
    ).toBeUndefined();
  });

  it('gives the new owner everything first and takes it from the old one, superseding the old token', () => {
    const held = {
      ...heldAmounts({ status: 'active', size: 5, upload: null, owner: 'p1' }),
      token: 'old',
      projects: ['p1'],
    };
    const change = usageChange(
      { id: 'img', version: 3, owner: 'p1', held },
      { id: 'img', status: 'active', size: 5, upload: null, owner: 'p2' },
    );
    expect(change?.deltas.map((entry) => [entry.project, entry.delta.image_size_total])).toEqual([
      ['p2', 5],
      ['p1', -5],
    ]);
    expect(change?.previous).toEqual({ token: 'old', projects: ['p1'] });
    expect(change?.held.projects).toEqual(['p2', 'p1']);
  });

  it('holds nothing without an owner', () => {
    fc.assert(
      fc.property(state, (image) => {
        const amounts = heldAmounts({ ...image, owner: null });
        for (const name of QUOTA_NAMES) expect(amounts[name]).toBe(0);
      }),
    );
  });
});
