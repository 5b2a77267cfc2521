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
//
// The per-test time limit is an outer backstop only, so that a hang fails
// instead of hanging: every wait inside a test has its own backstop, scaled by
// KTIMERS_TEST_SLOWDOWN (test/helpers.ts), and tests that run a child process
// give it up to 120 s. The limit must stay above those, or it is not a backstop
// but a bound that a busy machine crosses (as 30 s was under the sanitizer
// beside CPU burners, for tests that pass in a few seconds on a quiet machine).
const SLOWDOWN = Math.max(1, Number(process.env.KTIMERS_TEST_SLOWDOWN ?? 1) || 1);
const LIMIT = 150_000 * SLOWDOWN;

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: availableParallelism(),
    minWorkers: 1,
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: LIMIT,
    hookTimeout: LIMIT,
  },
});
