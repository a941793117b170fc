import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/infra/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration files each start their own emulators on port 0.
    maxWorkers: 2,
    reporters: ['default'],
    // Metrics are log lines; a test that checks them turns them on (test/unit/shared/metrics.test.ts).
    env: { POWERTOOLS_METRICS_DISABLED: 'true' },
  },
});
