/**
 * ktime: nanosecond time values, as the kernel's `ktime_t` (an s64).
 *
 * Every ktime_t is a `bigint`. Arithmetic is the kernel's exactly: results wrap
 * modulo 2^64 as the kernel's (built with -fno-strict-overflow) do, divisions
 * truncate toward zero, `ktime_set` clamps at KTIME_SEC_MAX and `ktime_add_safe`
 * saturates at KTIME_MAX (with its negative-operand quirk). Parameters the
 * kernel declares u64/s64 (microseconds, milliseconds, divisors) accept a bigint
 * or a safe-integer number; ktime_t parameters accept only bigints.
 *
 * Unit constants are bigints so they mix with ktime_t values:
 * `ktime_add(ktime_get(), 5n * NSEC_PER_MSEC)`.
 */
import { kwarn, rangeError } from './errors.js';
import { addSafe } from './internal/arith.js';
import { clockNs } from './internal/virtual.js';
import { ktimeArg, s64Arg, u64Arg } from './internal/validate.js';

/** A `ktime_t`: signed 64-bit nanoseconds, as a bigint. */
export type ktime_t = bigint;

export const MSEC_PER_SEC = 1000n;
export const USEC_PER_MSEC = 1000n;
export const NSEC_PER_USEC = 1000n;
export const NSEC_PER_MSEC = 1000000n;
export const USEC_PER_SEC = 1000000n;
export const NSEC_PER_SEC = 1000000000n;
export const PSEC_PER_SEC = 1000000000000n;
export const FSEC_PER_SEC = 1000000000000000n;
export const PSEC_PER_NSEC = 1000n;

/** 2^63 − 1 */
export const KTIME_MAX: ktime_t = (1n << 63n) - 1n;
/** −2^63 */
export const KTIME_MIN: ktime_t = -(1n << 63n);
/** KTIME_MAX / NSEC_PER_SEC = 9,223,372,036 */
export const KTIME_SEC_MAX = KTIME_MAX / NSEC_PER_SEC;

/** Linux clock ids (`include/uapi/linux/time.h`). hrtimers accept REALTIME, MONOTONIC, BOOTTIME and TAI. */
export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const CLOCK_MONOTONIC_RAW = 4;
export const CLOCK_REALTIME_COARSE = 5;
export const CLOCK_MONOTONIC_COARSE = 6;
export const CLOCK_BOOTTIME = 7;
export const CLOCK_REALTIME_ALARM = 8;
export const CLOCK_BOOTTIME_ALARM = 9;
export const CLOCK_TAI = 11;

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/**
 * `ktime_set(secs, nsecs)`: `secs * NSEC_PER_SEC + nsecs`, or KTIME_MAX when
 * `secs >= KTIME_SEC_MAX`. nsecs is not normalised.
 * Return: the ktime_t.
 */
export function ktime_set(secs: bigint | number, nsecs: bigint | number): ktime_t {
  const s = s64Arg(secs, 'secs');
  const ns = u64Arg(nsecs, 'nsecs');
  if (s >= KTIME_SEC_MAX) return KTIME_MAX;
  return s64(s * NSEC_PER_SEC + ns);
}

/** `ns_to_ktime(u64 ns)`: the u64 reinterpreted as a ktime_t. */
export function ns_to_ktime(ns: bigint | number): ktime_t {
  return s64(u64Arg(ns, 'ns'));
}
/** `us_to_ktime(u64 us)`: us * 1000 (u64 arithmetic). */
export function us_to_ktime(us: bigint | number): ktime_t {
  return s64(u64(u64Arg(us, 'us') * NSEC_PER_USEC));
}
/** `ms_to_ktime(u64 ms)`: ms * 1,000,000 (u64 arithmetic). */
export function ms_to_ktime(ms: bigint | number): ktime_t {
  return s64(u64(u64Arg(ms, 'ms') * NSEC_PER_MSEC));
}

/** `ktime_add(a, b)`: a + b, wrapping. */
export function ktime_add(a: ktime_t, b: ktime_t): ktime_t {
  return s64(ktimeArg(a, 'lhs') + ktimeArg(b, 'rhs'));
}
/** `ktime_sub(a, b)`: a − b, wrapping. */
export function ktime_sub(a: ktime_t, b: ktime_t): ktime_t {
  return s64(ktimeArg(a, 'lhs') - ktimeArg(b, 'rhs'));
}
/** `ktime_add_ns(kt, u64 ns)` */
export function ktime_add_ns(kt: ktime_t, ns: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') + u64Arg(ns, 'nsval'));
}
/** `ktime_sub_ns(kt, u64 ns)` */
export function ktime_sub_ns(kt: ktime_t, ns: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') - u64Arg(ns, 'nsval'));
}
/** `ktime_add_us(kt, u64 us)`: kt + us * 1000 (the product in u64). */
export function ktime_add_us(kt: ktime_t, us: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') + u64(u64Arg(us, 'usec') * NSEC_PER_USEC));
}
/** `ktime_add_ms(kt, u64 ms)` */
export function ktime_add_ms(kt: ktime_t, ms: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') + u64(u64Arg(ms, 'msec') * NSEC_PER_MSEC));
}
/** `ktime_sub_us(kt, u64 us)` */
export function ktime_sub_us(kt: ktime_t, us: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') - u64(u64Arg(us, 'usec') * NSEC_PER_USEC));
}
/** `ktime_sub_ms(kt, u64 ms)` */
export function ktime_sub_ms(kt: ktime_t, ms: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') - u64(u64Arg(ms, 'msec') * NSEC_PER_MSEC));
}

/**
 * `ktime_add_safe(lhs, rhs)`: the wrapping sum, or KTIME_MAX if that is negative
 * or smaller than either operand. Quirk kept from the kernel: a negative operand
 * also yields KTIME_MAX (`ktime_add_safe(5n, -3n) === KTIME_MAX`).
 */
export function ktime_add_safe(lhs: ktime_t, rhs: ktime_t): ktime_t {
  return addSafe(ktimeArg(lhs, 'lhs'), ktimeArg(rhs, 'rhs'));
}

/** `ktime_to_ns(kt)` */
export function ktime_to_ns(kt: ktime_t): bigint {
  return ktimeArg(kt, 'kt');
}

/**
 * `ktime_divns(kt, div)`: quotient truncated toward zero.
 * A negative divisor WARNs on every call (the 64-bit kernel's `WARN_ON(div < 0)`,
 * not WARN_ON_ONCE) and divides anyway; a zero divisor is a RangeError (the
 * kernel would trap). `ktime_divns(KTIME_MIN, -1)` wraps to KTIME_MIN (the C
 * division would trap on x86).
 */
export function ktime_divns(kt: ktime_t, div: bigint | number): bigint {
  const k = ktimeArg(kt, 'kt');
  const d = s64Arg(div, 'div');
  if (d === 0n) throw rangeError('ERR_OUT_OF_RANGE', 'ktime_divns: division by zero');
  if (d < 0n) kwarn('KTIMERS_WARN_NEGATIVE_DIVISOR', `ktime_divns() called with a negative divisor (${d})`);
  return s64(k / d);
}

/** `ktime_to_us(kt)` = ktime_divns(kt, NSEC_PER_USEC) */
export function ktime_to_us(kt: ktime_t): bigint {
  return ktimeArg(kt, 'kt') / NSEC_PER_USEC;
}
/** `ktime_to_ms(kt)` = ktime_divns(kt, NSEC_PER_MSEC) */
export function ktime_to_ms(kt: ktime_t): bigint {
  return ktimeArg(kt, 'kt') / NSEC_PER_MSEC;
}
/** `ktime_us_delta(later, earlier)` = ktime_to_us(ktime_sub(later, earlier)) */
export function ktime_us_delta(later: ktime_t, earlier: ktime_t): bigint {
  return ktime_sub(later, earlier) / NSEC_PER_USEC;
}
/** `ktime_ms_delta(later, earlier)` = ktime_to_ms(ktime_sub(later, earlier)) */
export function ktime_ms_delta(later: ktime_t, earlier: ktime_t): bigint {
  return ktime_sub(later, earlier) / NSEC_PER_MSEC;
}

/** `ktime_compare(a, b)`: exactly −1, 0 or 1. */
export function ktime_compare(a: ktime_t, b: ktime_t): -1 | 0 | 1 {
  const x = ktimeArg(a, 'cmp1');
  const y = ktimeArg(b, 'cmp2');
  return x < y ? -1 : x > y ? 1 : 0;
}
/** `ktime_after(a, b)`: a > b */
export function ktime_after(a: ktime_t, b: ktime_t): boolean {
  return ktimeArg(a, 'cmp1') > ktimeArg(b, 'cmp2');
}
/** `ktime_before(a, b)`: a < b */
export function ktime_before(a: ktime_t, b: ktime_t): boolean {
  return ktimeArg(a, 'cmp1') < ktimeArg(b, 'cmp2');
}

// Clock reads (clock_gettime through the vDSO, or the virtual timeline of
// ktimers/testing while it is installed). Indices are the native ones.
/** CLOCK_MONOTONIC now. Context: any. */
export const ktime_get = (): ktime_t => clockNs(0);
/** CLOCK_REALTIME now. */
export const ktime_get_real = (): ktime_t => clockNs(1);
/** CLOCK_BOOTTIME now (monotonic + time spent in suspend). */
export const ktime_get_boottime = (): ktime_t => clockNs(2);
/** CLOCK_TAI now. */
export const ktime_get_clocktai = (): ktime_t => clockNs(3);
/** CLOCK_MONOTONIC_RAW now (not slewed by NTP). */
export const ktime_get_raw = (): ktime_t => clockNs(4);
/** `ktime_get_ns()`: u64 ns (always non-negative on these clocks). */
export const ktime_get_ns = (): bigint => clockNs(0);
export const ktime_get_real_ns = (): bigint => clockNs(1);
export const ktime_get_boottime_ns = (): bigint => clockNs(2);
export const ktime_get_clocktai_ns = (): bigint => clockNs(3);
export const ktime_get_raw_ns = (): bigint => clockNs(4);
