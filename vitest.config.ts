import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores here: integration tests start servers and LevelDB stores.
    maxWorkers: 2,
    // The JSON report gives .ci/run its `N passed, N failed` line.
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
