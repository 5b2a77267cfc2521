/**
 * Durations for the idiomatic layer: bigint nanoseconds, built with `ns()`,
 * `us()`, `ms()` and `s()`.
 *
 * Why no numbers and no unit strings at the call sites: `sleep(100)` would be
 * read as 100 ms by anyone coming from `setTimeout` and as 100 ns by anyone
 * coming from the kernel; `'100ms'` can be mistyped into something that parses.
 * So `sleep`, `interval` and `HighResTimer` take a bigint of nanoseconds only,
 * and a number there is a TypeError that names these helpers. The helpers are
 * where numbers are welcome: `ms(2.5)` is 2_500_000n.
 *
 * A duration is a ktime_t that is not negative: [0, KTIME_MAX] ns (about 292
 * years). Anything else is a RangeError with code ERR_OUT_OF_RANGE; a value of
 * another type is a TypeError with code ERR_INVALID_ARG_TYPE.
 */
import { describe, rangeError, typeError } from '../errors.js';
import { S64_MAX } from '../internal/validate.js';

/** A duration or a deadline: a bigint of nanoseconds. */
export type Duration = bigint;

function scaled(v: unknown, unit: bigint, name: string): bigint {
  let r: bigint;
  if (typeof v === 'bigint') {
    if (v < 0n) throw rangeError('ERR_OUT_OF_RANGE', `${name}() duration must not be negative, got ${v}n`);
    r = v * unit;
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) {
      throw rangeError('ERR_OUT_OF_RANGE', `${name}() duration must be a finite number >= 0, got ${describe(v)}`);
    }
    if (Number.isInteger(v)) {
      if (!Number.isSafeInteger(v)) {
        throw rangeError('ERR_OUT_OF_RANGE', `${name}() duration ${v} is past 2^53 and not exact as a number: pass a bigint`);
      }
      r = BigInt(v) * unit;
    } else {
      if (unit === 1n) {
        throw rangeError('ERR_OUT_OF_RANGE', `ns() takes whole nanoseconds, got ${describe(v)}`);
      }
      // Fractions of a unit: rounded to the nearest nanosecond. Past 2^53 ns a
      // double no longer holds whole nanoseconds, so the result would be made up.
      const x = Math.round(v * Number(unit));
      if (!Number.isSafeInteger(x)) {
        throw rangeError('ERR_OUT_OF_RANGE', `${name}(${v}) is past 2^53 ns with a fraction: pass a whole number or a bigint`);
      }
      r = BigInt(x);
    }
  } else {
    throw typeError('ERR_INVALID_ARG_TYPE', `${name}() takes a number or a bigint, got ${describe(v)}`);
  }
  if (r > S64_MAX) throw rangeError('ERR_OUT_OF_RANGE', `${name}(${String(v)}) is past KTIME_MAX (${S64_MAX} ns)`);
  return r;
}

/**
 * A duration of `n` nanoseconds.
 * @param n - whole nanoseconds: a bigint, or a safe-integer number, >= 0.
 * @returns `n` as a bigint.
 * @throws RangeError ERR_OUT_OF_RANGE for a negative, fractional or unsafe value, or past KTIME_MAX.
 * @example ns(250) === 250n
 */
export function ns(n: number | bigint): Duration {
  return scaled(n, 1n, 'ns');
}

/**
 * A duration of `n` microseconds, in nanoseconds.
 * @param n - microseconds: a bigint or a finite number >= 0; fractions round to the nearest ns.
 * @returns the duration as bigint nanoseconds.
 * @throws RangeError ERR_OUT_OF_RANGE for a negative or non-finite value, or past KTIME_MAX.
 * @example us(20.5) === 20_500n
 */
export function us(n: number | bigint): Duration {
  return scaled(n, 1_000n, 'us');
}

/**
 * A duration of `n` milliseconds, in nanoseconds.
 * @param n - milliseconds: a bigint or a finite number >= 0; fractions round to the nearest ns.
 * @returns the duration as bigint nanoseconds.
 * @throws RangeError ERR_OUT_OF_RANGE for a negative or non-finite value, or past KTIME_MAX.
 * @example ms(1.5) === 1_500_000n
 */
export function ms(n: number | bigint): Duration {
  return scaled(n, 1_000_000n, 'ms');
}

/**
 * A duration of `n` seconds, in nanoseconds.
 * @param n - seconds: a bigint or a finite number >= 0; fractions round to the nearest ns.
 * @returns the duration as bigint nanoseconds.
 * @throws RangeError ERR_OUT_OF_RANGE for a negative or non-finite value, or past KTIME_MAX.
 * @example s(2) === 2_000_000_000n
 */
export function s(n: number | bigint): Duration {
  return scaled(n, 1_000_000_000n, 's');
}
