/**
 * The cold-start budget of the API functions (docs/benchmarks.md#cold-start), shared by its test
 * (test/infra/bundle-budget.test.ts) and `npm run bench -- bundles`: a control-plane function (one
 * that never touches image data) may bundle at most 1.15 × what a function creating only the
 * clients it must have bundles, with the same esbuild settings (infra/bundles.ts).
 */
import { grantsFor } from '#infra/grants';
import { IMPORT_STARTING_ROUTES, type Route, routes } from '#infra/routes';

export const BUNDLE_BUDGET = 1.15;

/** What a function must load at least: a DynamoDB document client, and for some a Step Functions client. */
export const BASELINES = {
  DynamoDbOnly: 'test/helpers/fixtures/dynamodb-client-only.ts',
  DynamoDbAndStepFunctions: 'test/helpers/fixtures/dynamodb-and-sfn-clients-only.ts',
} as const;
export type Baseline = keyof typeof BASELINES;

/** The API functions with no access to the bucket. */
export const controlPlaneRoutes: readonly Route[] = routes.filter(
  (route) => !grantsFor(route).bucket?.length,
);

/** The functions that start the import workflow create a Step Functions client too. */
export const baselineOf = (route: Route): Baseline =>
  IMPORT_STARTING_ROUTES.has(route.name) ? 'DynamoDbAndStepFunctions' : 'DynamoDbOnly';

/** Image writes with nothing else over the budget (their reason says what every image write bundles). */
const IMAGE_WRITE_ROUTES: ReadonlySet<string> = new Set([
  'AddImageTag',
  'DeleteImageTag',
  'DeactivateImage',
  'ReactivateImage',
  'DeleteImageMember',
]);

/**
 * Functions known to be over the budget, and why. The test fails for any other function over it,
 * and for one of these once it is back under (so this list cannot go stale).
 */
export const overBudgetReason = (route: Route): string | undefined => {
  // Validated by code compiled from the served schemas (no JSON-schema compiler bundled): the
  // namespace, object and property checks, with the property model, are up to 33 KiB of it.
  if (/^(Create|Update)Metadef(Namespace|Object|Property)$/.test(route.name)) {
    return 'the compiled checks of the namespace, object or property schema and the property model';
  }
  // Over since the member API (measured with the esbuild metafile): what they add is what the
  // request does on every call, not a library to drop.
  if (route.name === 'PatchImage') {
    return "the JSON-patch engine and the image-value checks on top of the policy's member reads";
  }
  if (route.name === 'AddImageMember') {
    return 'member writes with the conflict retry, and the quota read with every service setting';
  }
  // Over since the hostile-input checks (each within 0.4 % of the budget): the raw-text JSON
  // nesting check every JSON body goes through, and properties stored as [name, value] pairs.
  if (route.name === 'CreateImage') {
    return 'the JSON nesting check and the property codecs on top of the image-value checks';
  }
  if (route.name === 'UpdateImageMember') {
    return "the JSON nesting check and the property codecs on top of the policy's member reads";
  }
  // Over since the quotas and the item budget (1.18–1.19 ×, measured with the esbuild metafile):
  // every image write reserves through the quota ledger and is held to the item budget, which the
  // reads no longer bundle (ImageReads); these routes only write images.
  if (IMAGE_WRITE_ROUTES.has(route.name)) {
    return 'the quota ledger and the item budget every image write goes through (docs/quotas.md)';
  }
  if (route.name === 'AddImageLocation') {
    return "the location checks, the import lock and the workflow's task launch on top of the image writes";
  }
  if (route.name === 'CreateTask') {
    return "an image's create-body checks and the import URI filter on top of the workflow client";
  }
  return undefined;
};

/** Every control-plane entry and both baselines, by name, for one `bundles()` run. */
export const budgetEntries = (): Record<string, string> => ({
  ...BASELINES,
  ...Object.fromEntries(controlPlaneRoutes.map((route) => [route.name, route.entry])),
});
