/**
 * Argument validation shared by every export. Errors are thrown before any
 * native call, with Node-style codes; the native layer checks again.
 * @internal
 */
import { describe, rangeError, typeError } from '../errors.js';

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const U64_MAX = (1n << 64n) - 1n;

/** A ktime_t: a bigint in the s64 range. */
export function ktimeArg(v: unknown, name: string): bigint {
  if (typeof v !== 'bigint') {
    throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a bigint (ktime_t nanoseconds), got ${describe(v)}`);
  }
  if (v < S64_MIN || v > S64_MAX) {
    throw rangeError('ERR_OUT_OF_RANGE', `${name} must fit in a ktime_t (s64), got ${v}n`);
  }
  return v;
}

/**
 * An integer (u64, s64, a jiffies value or a count, as the kernel's parameter): a bigint, or a
 * safe-integer number, in [min, max]. Returned as a bigint.
 */
export function intArg(v: unknown, name: string, min: bigint, max: bigint, what: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') {
    b = v;
  } else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      // NaN, ±Infinity, fractions, and integers past 2^53 (which a number cannot
      // hold exactly: pass a bigint) are all out of range, as in Node's validators.
      throw rangeError(
        'ERR_OUT_OF_RANGE',
        `${name} must be a safe integer number or a bigint (${what}), got ${describe(v)}`,
      );
    }
    b = BigInt(v);
  } else {
    throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a bigint or an integer number (${what}), got ${describe(v)}`);
  }
  if (b < min || b > max) throw rangeError('ERR_OUT_OF_RANGE', `${name} must be in [${min}, ${max}] (${what}), got ${b}`);
  return b;
}

export function u64Arg(v: unknown, name: string): bigint {
  return intArg(v, name, 0n, U64_MAX, 'u64');
}

export function s64Arg(v: unknown, name: string): bigint {
  return intArg(v, name, S64_MIN, S64_MAX, 's64');
}

/** An `unsigned long` on a 64-bit kernel. */
export const ulongArg = u64Arg;

export function functionArg<F>(v: unknown, name: string): F {
  if (typeof v !== 'function') throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a function, got ${describe(v)}`);
  return v as F;
}

/**
 * A duration argument of the idiomatic layer: a bigint in [min, KTIME_MAX].
 * A number is refused with a hint, since its unit would be a guess.
 */
export function durationArg(v: unknown, name: string, min = 0n): bigint {
  if (typeof v !== 'bigint') {
    const hint = typeof v === 'number' ? ` (a number has no unit here: write ms(${v}), us(${v}) or ns(${v}))` : '';
    throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a bigint of nanoseconds, got ${describe(v)}${hint}`);
  }
  if (v < min || v > S64_MAX) {
    throw rangeError('ERR_OUT_OF_RANGE', `${name} must be in [${min}, ${S64_MAX}] ns, got ${v}n`);
  }
  return v;
}

/** An optional boolean of an options object: `dflt` when undefined, else a boolean or a TypeError. */
export function booleanOption(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a boolean, got ${describe(v)}`);
  return v;
}

/**
 * Writes a timer's public field, or throws a coded TypeError when the write is
 * refused (a frozen timer, or the field made read-only: strict mode throws).
 * Callers write before any other effect, so a refused call changes nothing.
 * @internal (timer_list's function and flags, hrtimer's function)
 */
export function writeTimerField(t: object, key: string, v: unknown): void {
  try {
    (t as Record<string, unknown>)[key] = v;
  } catch {
    throw typeError('ERR_INVALID_ARG_TYPE', `timer.${key} cannot be written (a frozen timer, or a read-only field): this call sets it`);
  }
}
