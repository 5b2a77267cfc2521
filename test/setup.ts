// Loaded by vitest before every test file (vitest.config.ts: setupFiles).
//
// A turn of the event loop after each test. vitest awaits a test's promise,
// which for a synchronous test settles without the loop turning, so a file of
// synchronous tests (spawnSync children, long model or fuzz loops) kept its
// fork from reading anything for as long as the whole file ran. The fork's
// calls to vitest's main process (test results: "onTaskUpdate") have a fixed
// limit of 60 s for the answer, and on a loaded machine under ASan a file took
// longer than that: the run failed with "Timeout calling onTaskUpdate" though
// every test passed. With this turn, what keeps the loop from turning is one
// test at a time, never a file.
import { afterEach } from 'vitest';

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
