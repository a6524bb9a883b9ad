import { defineConfig } from 'vitest/config';

const common = {
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: 'forks',
} as const;

export default defineConfig({
  test: {
    // Two cores here: integration tests start servers and LevelDB stores.
    maxWorkers: 2,
    // The JSON report gives .ci/run its `N passed, N failed` line.
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    projects: [
      { test: { ...common, name: 'tlogwatch', include: ['test/**/*.test.ts'] } },
      // The Merkle unit tests once more with the native addon switched off, so the vectors and properties
      // hold on both hashing paths (src/merkle/native.ts).
      { test: { ...common, name: 'merkle-node-crypto', include: ['test/unit/merkle/**/*.test.ts'], env: { TLOGWATCH_NATIVE: '0' } } },
    ],
  },
});
