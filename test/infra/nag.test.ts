/**
 * cdk-nag's AWS Solutions and Serverless packs on the stack as the example context builds it, in
 * both identity modes (jwt: the HTTP API's JWT authorizer; keystone, the example's own: the
 * Keystone Lambda authorizer and its function): zero findings left, and each one the stack keeps is acknowledged on the resource it concerns,
 * with a reason (infra/nag.ts). Every acknowledgment answers a finding the packs really report
 * without it, so none can silently widen what is let through.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type PolicyViolation } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '#infra/constructs/glance-function';
import { acknowledgmentsOf } from '#infra/nag';
import { ServerlessGlanceStack } from '#infra/stack';

type IdentityMode = 'jwt' | 'keystone';

/** The example context in each identity mode (the example itself is keystone). */
const IDENTITY: Record<IdentityMode, Record<string, unknown>> = {
  jwt: {
    'serverless-glance:identityMode': 'jwt',
    'serverless-glance:jwtIssuer': 'https://idp.corp.net/',
    'serverless-glance:jwtAudience': 'glance',
  },
  keystone: {
    'serverless-glance:identityMode': 'keystone',
    'serverless-glance:keystoneUrl': 'https://keystone.corp.net/v3',
  },
};

const build = (mode: IdentityMode, acknowledgeNagFindings: boolean) => {
  const example = JSON.parse(readFileSync(join(REPO_ROOT, 'infra/cdk.context.example.json'), 'utf8'));
  const app = new App({
    context: { ...example, 'aws:cdk:bundling-stacks': [], ...IDENTITY[mode] },
  });
  const stack = new ServerlessGlanceStack(app, 'NagTest', { acknowledgeNagFindings });
  const violations = [new AwsSolutionsChecks(app), new ServerlessChecks(app)].flatMap(
    (pack) => pack.validateScope(stack).violations as PolicyViolation[],
  );
  return { stack, violations };
};

/** `rule at path` for each violating resource. */
/** Ours: CDK acknowledges a few template checks of its own (`CloudFormation-Validate::...`). */
const nagAcknowledgments = (stack: ServerlessGlanceStack) =>
  acknowledgmentsOf(stack)
    .map((a) => ({ ...a, id: a.id.replace(/^annotation::/i, '') }))
    .filter((a) => /^(AwsSolutions|Serverless)-/.test(a.id));

const findings = (violations: PolicyViolation[]) =>
  violations.flatMap((v) =>
    v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath ?? '' })),
  );

describe.each<IdentityMode>(['jwt', 'keystone'])('cdk-nag, identity mode %s', (mode) => {
  let kept: ReturnType<typeof build>;
  let bare: ReturnType<typeof build>;
  beforeAll(() => {
    kept = build(mode, true);
    bare = build(mode, false);
  }, 180_000);

  it('checks the identity mode it names', () => {
    expect(kept.stack.api.keystoneAuthorizer === undefined).toBe(mode === 'jwt');
  });

  it('leaves no finding, error or warning, unacknowledged', () => {
    expect(findings(kept.violations).map(({ id, path }) => `${id} at ${path}`)).toEqual([]);
  });

  it('acknowledges only findings the packs report, on the resource or the construct that owns it', () => {
    const reported = findings(bare.violations);
    const ours = nagAcknowledgments(kept.stack);
    expect(ours.length).toBeGreaterThan(0);
    for (const { path, id: rule } of ours) {
      const answered = reported.some(
        (finding) => finding.id === rule && (finding.path === path || finding.path.startsWith(`${path}/`)),
      );
      expect(answered, `${rule} acknowledged at ${path} answers no finding`).toBe(true);
    }
  });

  it('gives every acknowledgment a one-line reason', () => {
    for (const { reason } of nagAcknowledgments(kept.stack)) {
      expect(reason.trim().length).toBeGreaterThan(20);
      expect(reason).not.toContain('\n');
    }
  });

  it('reports what it acknowledges (docs/operations.md#cdk-nag)', () => {
    const byRule = new Map<string, number>();
    for (const { id } of nagAcknowledgments(kept.stack)) {
      const rule = id.replace(/\[.*$/, '');
      byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
    }
    console.info(
      `cdk-nag acknowledgments (${mode}): ${[...byRule.values()].reduce((a, b) => a + b, 0)} (${[...byRule]
        .map(([rule, count]) => `${rule} ${count}`)
        .join(', ')})`,
    );
    expect(findings(bare.violations).length).toBeGreaterThan(0);
  });
});
