import { defineConfig } from 'vitest/config';

// Tests run against the compiled package (dist/), the code users get;
// `npm test` rebuilds it first (pretest). Forks, not threads: the suite loads a
// native addon and checks process-level behaviour (exit, fds, ref/unref).
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
