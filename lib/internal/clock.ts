/**
 * The CLOCK_MONOTONIC reading that jiffies (and, later, the timer wheel) count
 * from, behind one replaceable source.
 *
 * By default it is the real clock (`clock_gettime(CLOCK_MONOTONIC)` through the
 * addon). `setMonotonicSource(fn)` substitutes another source — the hook a
 * virtual clock will use, and the one tests use to pin `jiffies` to a chosen
 * value; `setMonotonicSource(null)` restores the real clock.
 *
 * A source returns a ktime_t: a bigint in the s64 range. It may be negative (a
 * virtual clock is free to start anywhere; pinning jiffies below
 * INITIAL_JIFFIES needs a negative reading). Anything else it returns is
 * rejected on read, so a broken source cannot turn jiffies into garbage.
 * @internal
 */
import { native } from '../binding.js';
import { describe, rangeError, typeError } from '../errors.js';
import { S64_MAX, S64_MIN } from './validate.js';

/** A replacement for the CLOCK_MONOTONIC reading: returns s64 nanoseconds. */
export type MonotonicSource = () => bigint;


let source: MonotonicSource | null = null;

/**
 * CLOCK_MONOTONIC now, in nanoseconds (or the installed source's reading).
 * Return: a bigint in the s64 range.
 */
export function monotonicNs(): bigint {
  if (source === null) return native.now(0);
  const v: unknown = source();
  if (typeof v !== 'bigint') {
    throw typeError('ERR_INVALID_RETURN_VALUE', `monotonic source must return a bigint (ns), got ${describe(v)}`);
  }
  if (v < S64_MIN || v > S64_MAX) {
    throw rangeError('ERR_OUT_OF_RANGE', `monotonic source must return an s64 (ktime_t), got ${v}n`);
  }
  return v;
}

/**
 * Replace the monotonic clock source (`null` restores the real clock).
 * Takes effect at the next read; the `jiffies` snapshot is not refreshed here.
 */
export function setMonotonicSource(fn: MonotonicSource | null): void {
  if (fn !== null && typeof fn !== 'function') {
    throw typeError('ERR_INVALID_ARG_TYPE', `source must be a function or null, got ${describe(fn)}`);
  }
  source = fn;
}
