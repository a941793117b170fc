/**
 * The CDK context template tests synthesize with: JWT identity mode with a real-looking issuer (a
 * placeholder fails the synth) and no bundling (they check the template, not the code).
 */
export const jwtSynthContext = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  'aws:cdk:bundling-stacks': [],
  'serverless-glance:identityMode': 'jwt',
  'serverless-glance:jwtIssuer': 'https://idp.corp.net/',
  'serverless-glance:jwtAudience': 'glance',
  ...extra,
});
