/**
 * The cold-start budget (docs/benchmarks.md#cold-start): every control-plane API function's bundle
 * against a bundle that creates only the clients the function must have, both built with the
 * settings CDK bundles the functions with (infra/bundles.ts). Sizes, not timings: timings are
 * `npm run bench -- bundles`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bundles, codeOf } from '#infra/bundles';
import { REPO_ROOT } from '#infra/constructs/glance-function';
import {
  BUNDLE_BUDGET,
  baselineOf,
  budgetEntries,
  controlPlaneRoutes,
  overBudgetReason,
} from '#test/helpers/bundle-budget';

let sizes: Map<string, number>;
beforeAll(async () => {
  const code = await bundles(REPO_ROOT, budgetEntries());
  sizes = new Map([...code].map(([name, bundle]) => [name, Buffer.byteLength(codeOf(bundle))]));
}, 180_000);

const ratio = (name: string, baseline: string): number =>
  (sizes.get(name) ?? Number.NaN) / (sizes.get(baseline) ?? Number.NaN);

describe('bundle budget', () => {
  it('measures the image, task and discovery functions and the metadefs catalog, and no data function', () => {
    const names = controlPlaneRoutes.map((route) => route.name);
    expect(names).toEqual(expect.arrayContaining(['CreateImage', 'PatchImage', 'ListImages', 'CreateTask']));
    expect(names).not.toContain('UploadImageData');
    expect(names).not.toContain('DeleteImage');
  });

  it('a Step Functions client is on top of the DynamoDB one, not instead of it', () => {
    expect(ratio('DynamoDbAndStepFunctions', 'DynamoDbOnly')).toBeGreaterThan(1);
  });

  it.each(controlPlaneRoutes.filter((route) => !overBudgetReason(route)).map((route) => [route.name, route]))(
    `%s bundles at most ${BUNDLE_BUDGET} × its baseline`,
    (name, route) => {
      expect(ratio(name, baselineOf(route))).toBeLessThanOrEqual(BUNDLE_BUDGET);
    },
  );

  it.each(
    controlPlaneRoutes.flatMap((route) => {
      const reason = overBudgetReason(route);
      return reason ? [[route.name, reason, route] as const] : [];
    }),
  )('%s is still over the budget (%s): take it off the list once it is not', (name, _reason, route) => {
    expect(ratio(name, baselineOf(route))).toBeGreaterThan(BUNDLE_BUDGET);
  });
});
