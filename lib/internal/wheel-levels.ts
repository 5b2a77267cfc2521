/**
 * The wheel's level arithmetic, defined once, as kernel/time/timer.c defines
 * it: the LVL_* macros, LVL_DEPTH per HZ, the capacity cap, calc_index() and
 * calc_wheel_index(). Everything else (the Wheel in wheel.ts, the public
 * LVL_* exports of the timer area) derives from these.
 *
 * Why pure functions apart from the Wheel: the placement of a timer is the
 * one rule of the non-cascading wheel a user can observe (how late a timer
 * may fire), and it depends only on (expires, clk, depth). Kept here it can
 * be checked against tables worked out from the kernel's formulas
 * (test/wheel-levels.test.ts) without a wheel, a clock or a timer.
 *
 * Numbers, not bigints: every jiffy the wheel holds is below 2^53 (see
 * wheel.ts), so `x & LVL_MASK` is exact (ToInt32 keeps the low 32 bits of an
 * integer below 2^53) and a right shift by LVL_SHIFT(n) is a floor division by
 * LVL_GRAN(n) (`>>` itself would truncate to 32 bits).
 *
 * Not part of the package's API: the public LVL_* of lib/timer/ derive from it.
 */

/** Each level is LVL_CLK_DIV times coarser than the one below. */
export const LVL_CLK_SHIFT = 3;
export const LVL_CLK_DIV = 1 << LVL_CLK_SHIFT;
export const LVL_CLK_MASK = LVL_CLK_DIV - 1;

/** Buckets per level: 2^LVL_BITS. */
export const LVL_BITS = 6;
export const LVL_SIZE = 1 << LVL_BITS;
export const LVL_MASK = LVL_SIZE - 1;

/** The deepest wheel of any HZ (LVL_DEPTH at HZ > 100). */
const MAX_DEPTH = 9;

/** `LVL_SHIFT(n)`: the bits of clk that level n's buckets ignore. */
export const LVL_SHIFT = (n: number): number => n * LVL_CLK_SHIFT;

/** `LVL_GRAN(n)`: the granularity of level n in jiffies, 2^LVL_SHIFT(n). */
export const LVL_GRAN = (n: number): number => 2 ** LVL_SHIFT(n);

/** `LVL_OFFS(n)`: the index of level n's first bucket. */
export const LVL_OFFS = (n: number): number => n * LVL_SIZE;

/**
 * `LVL_START(n)`: the smallest timeout (expires − clk) level n holds,
 * `(LVL_SIZE − 1) << LVL_SHIFT(n − 1)`. Level 0 starts at 0 (the kernel's
 * macro is never evaluated for n = 0).
 */
export const LVL_START = (n: number): number => (n === 0 ? 0 : LVL_MASK * LVL_GRAN(n - 1));

/** `LVL_DEPTH`: the number of levels, 9 when HZ > 100, else 8 (a coarser tick already reaches far). */
export const LVL_DEPTH = (hz: number): 8 | 9 => (hz > 100 ? 9 : 8);

/** `WHEEL_TIMEOUT_CUTOFF`: timeouts of this many jiffies or more are capped. */
export const WHEEL_TIMEOUT_CUTOFF = (depth: number): number => LVL_START(depth);

/** `WHEEL_TIMEOUT_MAX`: what a capped timeout becomes, the largest timeout the last level holds. */
export const WHEEL_TIMEOUT_MAX = (depth: number): number => WHEEL_TIMEOUT_CUTOFF(depth) - LVL_GRAN(depth - 1);

// Tables of the two macros the hot path needs: `**` in calc_index() would cost
// more than the rest of the placement.
const GRAN = Float64Array.from({ length: MAX_DEPTH }, (_, n) => LVL_GRAN(n));
const START = Float64Array.from({ length: MAX_DEPTH + 1 }, (_, n) => LVL_START(n));

/** Where calc_wheel_index() writes the bucket's expiry (the kernel's `*bucket_expiry`). */
export interface BucketExpiry {
  bucketExpiry: number;
}

/**
 * `calc_index()`: the bucket of expiry `expires` on level `lvl`, the first
 * multiple of LVL_GRAN(lvl) strictly after `expires` (rounded up, so a timer
 * never fires early: not at the edge of a tick, not after the truncation of
 * the coarser levels). Writes that multiple to `out.bucketExpiry`.
 */
export function calc_index(expires: number, lvl: number, out: BucketExpiry): number {
  const gran = GRAN[lvl]!;
  const q = Math.floor(expires / gran) + 1;
  out.bucketExpiry = q * gran;
  return LVL_OFFS(lvl) + (q & LVL_MASK);
}

/**
 * `calc_wheel_index()`: the bucket of expiry `expires` at the wheel's `clk`,
 * on a wheel of `depth` levels; writes the bucket's expiry to
 * `out.bucketExpiry`. A timer already due goes to the current level-0 bucket
 * (expiry clk); a timeout of WHEEL_TIMEOUT_CUTOFF or more is placed as
 * WHEEL_TIMEOUT_MAX.
 */
export function calc_wheel_index(expires: number, clk: number, depth: number, out: BucketExpiry): number {
  const delta = expires - clk;
  if (delta < 0) {
    // The kernel's `(long)delta < 0`: its unsigned delta passed every level.
    out.bucketExpiry = clk;
    return clk & LVL_MASK;
  }
  const last = depth - 1;
  let lvl = 0;
  while (lvl < last && delta >= START[lvl + 1]!) lvl++;
  // Force obscenely large timeouts to expire at the wheel's capacity limit.
  if (lvl === last && delta >= START[depth]!) expires = clk + WHEEL_TIMEOUT_MAX(depth);
  return calc_index(expires, lvl, out);
}
