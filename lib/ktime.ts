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

/** Milliseconds per second (`include/vdso/time64.h`): 1000n. */
export const MSEC_PER_SEC = 1000n;
/** Microseconds per millisecond: 1000n. */
export const USEC_PER_MSEC = 1000n;
/** Nanoseconds per microsecond: 1000n. */
export const NSEC_PER_USEC = 1000n;
/** Nanoseconds per millisecond: 1,000,000n. */
export const NSEC_PER_MSEC = 1000000n;
/** Microseconds per second: 1,000,000n. */
export const USEC_PER_SEC = 1000000n;
/** Nanoseconds per second: 10^9 (bigint, to mix with ktime_t values). */
export const NSEC_PER_SEC = 1000000000n;
/** Picoseconds per second: 10^12. */
export const PSEC_PER_SEC = 1000000000000n;
/** Femtoseconds per second: 10^15. */
export const FSEC_PER_SEC = 1000000000000000n;
/** Picoseconds per nanosecond: 1000n. */
export const PSEC_PER_NSEC = 1000n;

/** 2^63 − 1 */
export const KTIME_MAX: ktime_t = (1n << 63n) - 1n;
/** −2^63 */
export const KTIME_MIN: ktime_t = -(1n << 63n);
/** KTIME_MAX / NSEC_PER_SEC = 9,223,372,036 */
export const KTIME_SEC_MAX = KTIME_MAX / NSEC_PER_SEC;

/**
 * Wall-clock time (`include/uapi/linux/time.h`, id 0): settable, jumps when the
 * time is set. hrtimers accept REALTIME, MONOTONIC, BOOTTIME and TAI.
 */
export const CLOCK_REALTIME = 0;
/** Monotonic time since boot, not counting suspend (id 1): the default clock of timers. */
export const CLOCK_MONOTONIC = 1;
/** Per-process CPU time (id 2). Listed for completeness; timers do not accept it. */
export const CLOCK_PROCESS_CPUTIME_ID = 2;
/** Per-thread CPU time (id 3). Listed for completeness; timers do not accept it. */
export const CLOCK_THREAD_CPUTIME_ID = 3;
/** Monotonic time not slewed by NTP (id 4); read with {@link ktime_get_raw}. Timers do not accept it. */
export const CLOCK_MONOTONIC_RAW = 4;
/** Tick-resolution CLOCK_REALTIME (id 5). Listed for completeness; timers do not accept it. */
export const CLOCK_REALTIME_COARSE = 5;
/** Tick-resolution CLOCK_MONOTONIC (id 6). Listed for completeness; timers do not accept it. */
export const CLOCK_MONOTONIC_COARSE = 6;
/** Monotonic time including suspend (id 7). */
export const CLOCK_BOOTTIME = 7;
/** CLOCK_REALTIME that wakes the system from suspend (id 8). Timers here do not accept it. */
export const CLOCK_REALTIME_ALARM = 8;
/** CLOCK_BOOTTIME that wakes the system from suspend (id 9). Timers here do not accept it. */
export const CLOCK_BOOTTIME_ALARM = 9;
/** International Atomic Time (id 11): CLOCK_REALTIME plus the TAI offset, no leap seconds. */
export const CLOCK_TAI = 11;

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/**
 * `ktime_set(secs, nsecs)` — a ktime_t from seconds and nanoseconds:
 * `secs * NSEC_PER_SEC + nsecs`, clamped to KTIME_MAX when `secs >= KTIME_SEC_MAX`.
 * `nsecs` is not normalised (2 s + 1.5e9 ns is 3.5 s).
 *
 * Context: any.
 * Return: the ktime_t (wrapping as the kernel's s64 arithmetic does below the clamp).
 *
 * @param secs - seconds (s64: bigint or safe-integer number).
 * @param nsecs - nanoseconds to add (u64).
 */
export function ktime_set(secs: bigint | number, nsecs: bigint | number): ktime_t {
  const s = s64Arg(secs, 'secs');
  const ns = u64Arg(nsecs, 'nsecs');
  if (s >= KTIME_SEC_MAX) return KTIME_MAX;
  return s64(s * NSEC_PER_SEC + ns);
}

/**
 * `ns_to_ktime(ns)` — nanoseconds as a ktime_t.
 *
 * Context: any.
 * Return: `ns` reinterpreted as an s64 (values past KTIME_MAX wrap negative, as in C).
 *
 * @param ns - nanoseconds (u64).
 */
export function ns_to_ktime(ns: bigint | number): ktime_t {
  return s64(u64Arg(ns, 'ns'));
}
/**
 * `us_to_ktime(us)` — microseconds as a ktime_t.
 *
 * Context: any.
 * Return: `us * 1000` computed in u64 and reinterpreted as an s64.
 *
 * @param us - microseconds (u64).
 */
export function us_to_ktime(us: bigint | number): ktime_t {
  return s64(u64(u64Arg(us, 'us') * NSEC_PER_USEC));
}
/**
 * `ms_to_ktime(ms)` — milliseconds as a ktime_t.
 *
 * Context: any.
 * Return: `ms * 1,000,000` computed in u64 and reinterpreted as an s64.
 *
 * @param ms - milliseconds (u64).
 */
export function ms_to_ktime(ms: bigint | number): ktime_t {
  return s64(u64(u64Arg(ms, 'ms') * NSEC_PER_MSEC));
}

/**
 * `ktime_add(lhs, rhs)` — sum of two ktime_t.
 *
 * Context: any.
 * Return: `a + b`, wrapping at 64 bits (use {@link ktime_add_safe} to saturate).
 *
 * @param a - first operand.
 * @param b - second operand.
 */
export function ktime_add(a: ktime_t, b: ktime_t): ktime_t {
  return s64(ktimeArg(a, 'lhs') + ktimeArg(b, 'rhs'));
}
/**
 * `ktime_sub(lhs, rhs)` — difference of two ktime_t.
 *
 * Context: any.
 * Return: `a - b`, wrapping at 64 bits.
 *
 * @param a - minuend.
 * @param b - subtrahend.
 */
export function ktime_sub(a: ktime_t, b: ktime_t): ktime_t {
  return s64(ktimeArg(a, 'lhs') - ktimeArg(b, 'rhs'));
}
/**
 * `ktime_add_ns(kt, nsval)` — add nanoseconds.
 *
 * Context: any.
 * Return: `kt + ns`, wrapping at 64 bits.
 *
 * @param kt - the ktime_t.
 * @param ns - nanoseconds to add (u64).
 */
export function ktime_add_ns(kt: ktime_t, ns: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') + u64Arg(ns, 'nsval'));
}
/**
 * `ktime_sub_ns(kt, nsval)` — subtract nanoseconds.
 *
 * Context: any.
 * Return: `kt - ns`, wrapping at 64 bits.
 *
 * @param kt - the ktime_t.
 * @param ns - nanoseconds to subtract (u64).
 */
export function ktime_sub_ns(kt: ktime_t, ns: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') - u64Arg(ns, 'nsval'));
}
/**
 * `ktime_add_us(kt, usec)` — add microseconds.
 *
 * Context: any.
 * Return: `kt + us * 1000`, wrapping at 64 bits.
 *
 * @param kt - the ktime_t.
 * @param us - microseconds to add (u64; the product `us * 1000` is computed in u64).
 */
export function ktime_add_us(kt: ktime_t, us: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') + u64(u64Arg(us, 'usec') * NSEC_PER_USEC));
}
/**
 * `ktime_add_ms(kt, msec)` — add milliseconds.
 *
 * Context: any.
 * Return: `kt + ms * 1,000,000`, wrapping at 64 bits.
 *
 * @param kt - the ktime_t.
 * @param ms - milliseconds to add (u64; the product is computed in u64).
 */
export function ktime_add_ms(kt: ktime_t, ms: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') + u64(u64Arg(ms, 'msec') * NSEC_PER_MSEC));
}
/**
 * `ktime_sub_us(kt, usec)` — subtract microseconds.
 *
 * Context: any.
 * Return: `kt - us * 1000`, wrapping at 64 bits.
 *
 * @param kt - the ktime_t.
 * @param us - microseconds to subtract (u64; the product is computed in u64).
 */
export function ktime_sub_us(kt: ktime_t, us: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') - u64(u64Arg(us, 'usec') * NSEC_PER_USEC));
}
/**
 * `ktime_sub_ms(kt, msec)` — subtract milliseconds.
 *
 * Context: any.
 * Return: `kt - ms * 1,000,000`, wrapping at 64 bits.
 *
 * @param kt - the ktime_t.
 * @param ms - milliseconds to subtract (u64; the product is computed in u64).
 */
export function ktime_sub_ms(kt: ktime_t, ms: bigint | number): ktime_t {
  return s64(ktimeArg(kt, 'kt') - u64(u64Arg(ms, 'msec') * NSEC_PER_MSEC));
}

/**
 * `ktime_add_safe(lhs, rhs)` — add two ktime_t, saturating instead of wrapping.
 * Quirk kept from the kernel: a negative operand also yields KTIME_MAX
 * (`ktime_add_safe(5n, -3n) === KTIME_MAX`), because the result is smaller than `lhs`.
 *
 * Context: any.
 * Return: the wrapping sum, or KTIME_MAX if that is negative or smaller than either operand.
 *
 * @param lhs - first operand.
 * @param rhs - second operand.
 */
export function ktime_add_safe(lhs: ktime_t, rhs: ktime_t): ktime_t {
  return addSafe(ktimeArg(lhs, 'lhs'), ktimeArg(rhs, 'rhs'));
}

/**
 * `ktime_to_ns(kt)` — a ktime_t in nanoseconds.
 *
 * Context: any.
 * Return: `kt` itself (a ktime_t already counts nanoseconds).
 *
 * @param kt - the ktime_t.
 */
export function ktime_to_ns(kt: ktime_t): bigint {
  return ktimeArg(kt, 'kt');
}

/**
 * `ktime_divns(kt, div)` — divide a ktime_t by an integer.
 * A negative divisor WARNs on every call (the 64-bit kernel's `WARN_ON(div < 0)`,
 * not WARN_ON_ONCE) and divides anyway; a zero divisor is a RangeError (the
 * kernel would trap). `ktime_divns(KTIME_MIN, -1)` wraps to KTIME_MIN (the C
 * division would trap on x86).
 *
 * Context: any.
 * Return: the quotient, truncated toward zero.
 *
 * @param kt - the dividend.
 * @param div - the divisor (s64, non-zero).
 */
export function ktime_divns(kt: ktime_t, div: bigint | number): bigint {
  const k = ktimeArg(kt, 'kt');
  const d = s64Arg(div, 'div');
  if (d === 0n) throw rangeError('ERR_OUT_OF_RANGE', 'ktime_divns: division by zero');
  if (d < 0n) kwarn('KTIMERS_WARN_NEGATIVE_DIVISOR', `ktime_divns() called with a negative divisor (${d})`);
  return s64(k / d);
}

/**
 * `ktime_to_us(kt)` — a ktime_t in whole microseconds.
 *
 * Context: any.
 * Return: `ktime_divns(kt, NSEC_PER_USEC)`: truncated toward zero.
 *
 * @param kt - the ktime_t.
 */
export function ktime_to_us(kt: ktime_t): bigint {
  return ktimeArg(kt, 'kt') / NSEC_PER_USEC;
}
/**
 * `ktime_to_ms(kt)` — a ktime_t in whole milliseconds.
 *
 * Context: any.
 * Return: `ktime_divns(kt, NSEC_PER_MSEC)`: truncated toward zero.
 *
 * @param kt - the ktime_t.
 */
export function ktime_to_ms(kt: ktime_t): bigint {
  return ktimeArg(kt, 'kt') / NSEC_PER_MSEC;
}
/**
 * `ktime_us_delta(later, earlier)` — the time between two ktime_t, in microseconds.
 *
 * Context: any.
 * Return: `ktime_to_us(ktime_sub(later, earlier))` (negative if `later` is earlier).
 *
 * @param later - the later time.
 * @param earlier - the earlier time.
 */
export function ktime_us_delta(later: ktime_t, earlier: ktime_t): bigint {
  return ktime_sub(later, earlier) / NSEC_PER_USEC;
}
/**
 * `ktime_ms_delta(later, earlier)` — the time between two ktime_t, in milliseconds.
 *
 * Context: any.
 * Return: `ktime_to_ms(ktime_sub(later, earlier))` (negative if `later` is earlier).
 *
 * @param later - the later time.
 * @param earlier - the earlier time.
 */
export function ktime_ms_delta(later: ktime_t, earlier: ktime_t): bigint {
  return ktime_sub(later, earlier) / NSEC_PER_MSEC;
}

/**
 * `ktime_compare(cmp1, cmp2)` — three-way comparison.
 *
 * Context: any.
 * Return: -1 if `a < b`, 0 if equal, 1 if `a > b` (exactly these values).
 *
 * @param a - first value.
 * @param b - second value.
 */
export function ktime_compare(a: ktime_t, b: ktime_t): -1 | 0 | 1 {
  const x = ktimeArg(a, 'cmp1');
  const y = ktimeArg(b, 'cmp2');
  return x < y ? -1 : x > y ? 1 : 0;
}
/**
 * `ktime_after(cmp1, cmp2)` — is `a` later than `b`?
 *
 * Context: any.
 * Return: `a > b`.
 *
 * @param a - first value.
 * @param b - second value.
 */
export function ktime_after(a: ktime_t, b: ktime_t): boolean {
  return ktimeArg(a, 'cmp1') > ktimeArg(b, 'cmp2');
}
/**
 * `ktime_before(cmp1, cmp2)` — is `a` earlier than `b`?
 *
 * Context: any.
 * Return: `a < b`.
 *
 * @param a - first value.
 * @param b - second value.
 */
export function ktime_before(a: ktime_t, b: ktime_t): boolean {
  return ktimeArg(a, 'cmp1') < ktimeArg(b, 'cmp2');
}

// Clock reads (clock_gettime through the vDSO, or the virtual timeline of
// ktimers/testing while it is installed). Indices are the native ones.
/**
 * `ktime_get()` — CLOCK_MONOTONIC now (the virtual clock's while one is installed).
 *
 * Context: any.
 * Return: nanoseconds since boot, not counting suspend.
 */
export const ktime_get = (): ktime_t => clockNs(0);
/**
 * `ktime_get_real()` — CLOCK_REALTIME now.
 *
 * Context: any.
 * Return: nanoseconds since the Unix epoch.
 */
export const ktime_get_real = (): ktime_t => clockNs(1);
/**
 * `ktime_get_boottime()` — CLOCK_BOOTTIME now.
 *
 * Context: any.
 * Return: monotonic time plus the time spent in suspend, in ns.
 */
export const ktime_get_boottime = (): ktime_t => clockNs(2);
/**
 * `ktime_get_clocktai()` — CLOCK_TAI now.
 *
 * Context: any.
 * Return: International Atomic Time in ns since the epoch (REALTIME + the TAI offset).
 */
export const ktime_get_clocktai = (): ktime_t => clockNs(3);
/**
 * `ktime_get_raw()` — CLOCK_MONOTONIC_RAW now.
 *
 * Context: any.
 * Return: monotonic ns not slewed by NTP.
 */
export const ktime_get_raw = (): ktime_t => clockNs(4);
/**
 * `ktime_get_ns()` — {@link ktime_get} as u64 nanoseconds.
 *
 * Context: any.
 * Return: CLOCK_MONOTONIC in ns (non-negative on a real clock).
 */
export const ktime_get_ns = (): bigint => clockNs(0);
/**
 * `ktime_get_real_ns()` — {@link ktime_get_real} as u64 nanoseconds.
 *
 * Context: any.
 * Return: CLOCK_REALTIME in ns.
 */
export const ktime_get_real_ns = (): bigint => clockNs(1);
/**
 * `ktime_get_boottime_ns()` — {@link ktime_get_boottime} as u64 nanoseconds.
 *
 * Context: any.
 * Return: CLOCK_BOOTTIME in ns.
 */
export const ktime_get_boottime_ns = (): bigint => clockNs(2);
/**
 * `ktime_get_clocktai_ns()` — {@link ktime_get_clocktai} as u64 nanoseconds.
 *
 * Context: any.
 * Return: CLOCK_TAI in ns.
 */
export const ktime_get_clocktai_ns = (): bigint => clockNs(3);
/**
 * `ktime_get_raw_ns()` — {@link ktime_get_raw} as u64 nanoseconds.
 *
 * Context: any.
 * Return: CLOCK_MONOTONIC_RAW in ns.
 */
export const ktime_get_raw_ns = (): bigint => clockNs(4);
