// Shared test helpers.

/** mulberry32: a small seeded PRNG (uniform in [0, 1)), so random tests replay from their seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves once `pred()` holds, polling every 2 ms on the event loop; rejects after `timeoutMs`. */
export function until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (pred()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error('timed out waiting'));
      setTimeout(poll, 2);
    };
    poll();
  });
}

/**
 * Scale for the time limits of tests that wait on child processes or workers:
 * KTIMERS_TEST_SLOWDOWN (default 1). `npm run test:valgrind` sets it, as memcheck
 * runs Node 20-50x slower. Only limits scale, never the bounds being asserted.
 */
export const SLOWDOWN = Math.max(1, Number(process.env.KTIMERS_TEST_SLOWDOWN ?? 1) || 1);
