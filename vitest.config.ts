import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Tests run against the compiled package (dist/), the code users get;
// `npm test` rebuilds it first (pretest). Forks, not threads: the suite loads a
// native addon and checks process-level behaviour (exit, fds, ref/unref).
//
// One fork per CPU. vitest's default keeps a CPU for itself (CPUs − 1), which
// on CI's 2 cores runs the files one after the other, though most of the
// suite's time is spent waiting on real clocks and child processes. A second
// test file running beside a real-clock test is load like any other, and the
// real-clock tests are built to hold under load (docs/testing.md).
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: availableParallelism(),
    minWorkers: 1,
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
