/**
 * jiffies: the kernel's tick counter, its wrap-safe comparisons, its unit
 * conversions and the round_jiffies family (`include/linux/jiffies.h`,
 * `include/linux/time.h`, `kernel/time/time.c`, `kernel/time/timer.c`), with the
 * kernel's exact integer arithmetic for each HZ (a 64-bit kernel's).
 *
 * **HZ** is fixed per process: read once at load from the environment variable
 * `KTIMERS_HZ`, one of the kernel's CONFIG_HZ choices 100, 250, 300 or 1000
 * (default 1000). Any other value makes loading ktimers throw a RangeError with
 * code `ERR_KTIMERS_INVALID_HZ`.
 *
 * **The clock.** jiffies counts ticks of CLOCK_MONOTONIC:
 * `jiffies = INITIAL_JIFFIES + floor(monotonic_ns / TICK_NSEC)`, so every process
 * with the same HZ reads the same value at the same instant. `get_jiffies_64()`
 * reads the clock on every call and is exact. The exported `jiffies` is a live
 * binding holding a *snapshot*: it is refreshed by every function here that
 * reads the clock (`get_jiffies_64`, `time_is_*_jiffies*`, `round_jiffies*`) and
 * by the timer wheel at each expiry pass, so it is current inside timer callbacks
 * and right after any of those calls, and possibly stale otherwise (nothing
 * ticks it in the background). Use `get_jiffies_64()` when it matters.
 *
 * **Types.** A jiffies value is a `bigint` holding the kernel's 64-bit
 * `unsigned long`: wrap-safe comparisons, MAX_JIFFY_OFFSET and the 2^63
 * half-range ambiguity are exact only at that width. Parameters the kernel
 * declares `unsigned long`/`u64` jiffies take only a bigint in [0, 2^64−1];
 * `long` deltas a bigint in the s64 range. Counts the kernel declares
 * `unsigned int` (msecs, usecs) take a bigint or a safe-integer number in
 * [0, 2^32−1] — out-of-range values are rejected, not truncated as C would, but
 * the kernel's own rules inside that range are kept: `(int)m < 0`, i.e. m in
 * [2^31, 2^32−1], gives MAX_JIFFY_OFFSET. `u64` counts (nsecs, secs) take a
 * bigint or a safe-integer number in [0, 2^64−1]. Results the kernel returns as
 * `unsigned long`/`u64` are bigints; `unsigned int` results (`jiffies_to_msecs`,
 * `jiffies_to_usecs`) are numbers, truncated to 32 bits as the kernel's are.
 * Bad input throws TypeError `ERR_INVALID_ARG_TYPE` or RangeError
 * `ERR_OUT_OF_RANGE`.
 *
 * **CPU.** ktimers runs timer callbacks on one CPU (the JS thread), so the
 * current CPU of `round_jiffies*` is 0 (no skew); `__round_jiffies_relative` and
 * `__round_jiffies_up_relative` take an explicit one (skew 3·cpu jiffies).
 */
import { HZ, jiffiesArg, refreshJiffies } from './internal/jiffies-clock.js';
import { intArg, S64_MAX, S64_MIN, U64_MAX, u64Arg } from './internal/validate.js';

const U32_MAX = 0xffff_ffffn;
/** Largest cpu for which the kernel's `int` product `cpu * 3` does not overflow. */
const CPU_MAX = 0x7fff_ffffn / 3n; // 715,827,882

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);

// --- HZ and the constants derived from it ------------------------------------

// HZ, TICK_NSEC, INITIAL_JIFFIES and the clock are lib/internal/jiffies-clock.ts
// (the engine and the wheel's driver read them from beneath this module).
export { HZ, INITIAL_JIFFIES, jiffies, TICK_NSEC } from './internal/jiffies-clock.js';
/** The tick rate of the user-visible `clock_t` (100 on x86 and arm64). */
export const USER_HZ = 100;
const hz = BigInt(HZ);
/** Microseconds per tick: `(USEC_PER_SEC + HZ/2) / HZ`. */
export const TICK_USEC: bigint = (1_000_000n + hz / 2n) / hz;
/** The "infinite timeout": `(LONG_MAX >> 1) − 1` = 0x3FFFFFFFFFFFFFFE. */
export const MAX_JIFFY_OFFSET: bigint = (S64_MAX >> 1n) - 1n;

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
// kernel/time/timeconst.bc: the reduced ratios of each unit to HZ.
const HZ_TO_MSEC_NUM = 1000n / gcd(hz, 1000n);
const HZ_TO_MSEC_DEN = hz / gcd(hz, 1000n);
const HZ_TO_USEC_NUM = 1_000_000n / gcd(hz, 1_000_000n);
const HZ_TO_USEC_DEN = hz / gcd(hz, 1_000_000n);
// timeconst.bc's multiply-shift constants, used only when HZ does not divide the
// unit (of the HZ choices: 300 alone). fmuls picks the shift s that brings
// mul = ceil(2^s·HZ/unit) into [2^31, 2^32); adj = floor(2^s·(d−1)/d), d = unit/gcd.
const MSEC_TO_HZ_MUL32 = 0x9999999an; // ceil(2^33·300/1000)
const MSEC_TO_HZ_ADJ32 = 0x1ccccccccn; // floor(2^33·9/10)
const MSEC_TO_HZ_SHR32 = 33n;
const USEC_TO_HZ_MUL32 = 0x9d495183n; // ceil(2^43·300/10^6)
const USEC_TO_HZ_ADJ32 = 0x7ffcb923a29n; // floor(2^43·9999/10000)
const USEC_TO_HZ_SHR32 = 43n;

// --- argument checks (never coerce) -----------------------------------------

/** An unsigned count: a bigint, or a safe-integer number, in [0, max]. */
function countArg(v: unknown, name: string, max = U32_MAX, what = 'unsigned int'): bigint {
  return intArg(v, name, 0n, max, what);
}

// --- the counter --------------------------------------------------------------

/**
 * `get_jiffies_64()`: the 64-bit jiffies value, read from the clock now (also
 * refreshes the `jiffies` snapshot).
 * Context: any.
 * Return: current 64-bit jiffies value.
 */
export function get_jiffies_64(): bigint {
  return refreshJiffies();
}

// --- wrap-safe comparisons (include/linux/jiffies.h, include/linux/time.h) --

/** An `unsigned long` jiffies argument. */
const ul = (v: unknown, name: string): bigint => jiffiesArg(v, name);
/** A `u64` (jiffies_64) argument. */
const u64j = (v: unknown, name: string): bigint => jiffiesArg(v, name, 0n, U64_MAX, 'u64');
/** A `u32` argument of the 32-bit helpers: bigint or number in [0, 2^32−1]. */
const u32a = (v: unknown, name: string): bigint => countArg(v, name, U32_MAX, 'u32');
// The kernel's tests on validated values (`long` and `s64` are the same width
// here): after(a, b) ⇔ (long)(b − a) < 0, after_eq(a, b) ⇔ (long)(a − b) >= 0.
// Arguments are checked left to right before anything else happens.
const after = (a: bigint, b: bigint): boolean => s64(b - a) < 0n;
const before = (a: bigint, b: bigint): boolean => s64(a - b) < 0n;
const afterEq = (a: bigint, b: bigint): boolean => s64(a - b) >= 0n;
const beforeEq = (a: bigint, b: bigint): boolean => s64(b - a) >= 0n;
const inRange = (a: bigint, b: bigint, c: bigint, open: boolean): boolean =>
  afterEq(a, b) && (open ? before(a, c) : beforeEq(a, c));

/** `time_after(a, b)`: `(long)(b − a) < 0`. Return: true if time a is after time b. */
export const time_after = (a: bigint | number, b: bigint | number): boolean => after(ul(a, 'a'), ul(b, 'b'));
/** `time_before(a, b)` = `time_after(b, a)`. Return: true if time a is before time b. */
export const time_before = (a: bigint | number, b: bigint | number): boolean => before(ul(a, 'a'), ul(b, 'b'));
/** `time_after_eq(a, b)`: `(long)(a − b) >= 0`. Return: true if a is after or the same as b. */
export const time_after_eq = (a: bigint | number, b: bigint | number): boolean => afterEq(ul(a, 'a'), ul(b, 'b'));
/** `time_before_eq(a, b)` = `time_after_eq(b, a)`. Return: true if a is before or the same as b. */
export const time_before_eq = (a: bigint | number, b: bigint | number): boolean => beforeEq(ul(a, 'a'), ul(b, 'b'));
/** `time_in_range(a, b, c)`: after_eq(a, b) && before_eq(a, c). Return: true if a is in [b, c]. */
export const time_in_range = (a: bigint | number, b: bigint | number, c: bigint | number): boolean =>
  inRange(ul(a, 'a'), ul(b, 'b'), ul(c, 'c'), false);
/** `time_in_range_open(a, b, c)`: after_eq(a, b) && before(a, c). Return: true if a is in [b, c). */
export const time_in_range_open = (a: bigint | number, b: bigint | number, c: bigint | number): boolean =>
  inRange(ul(a, 'a'), ul(b, 'b'), ul(c, 'c'), true);

/** `time_after64(a, b)`: `(s64)(b − a) < 0` on u64 values. Return: true if a is after b. */
export const time_after64 = (a: bigint | number, b: bigint | number): boolean => after(u64j(a, 'a'), u64j(b, 'b'));
/** `time_before64(a, b)` = `time_after64(b, a)`. Return: true if a is before b. */
export const time_before64 = (a: bigint | number, b: bigint | number): boolean => before(u64j(a, 'a'), u64j(b, 'b'));
/** `time_after_eq64(a, b)`: `(s64)(a − b) >= 0`. Return: true if a is after or the same as b. */
export const time_after_eq64 = (a: bigint | number, b: bigint | number): boolean => afterEq(u64j(a, 'a'), u64j(b, 'b'));
/** `time_before_eq64(a, b)` = `time_after_eq64(b, a)`. Return: true if a is before or the same as b. */
export const time_before_eq64 = (a: bigint | number, b: bigint | number): boolean => beforeEq(u64j(a, 'a'), u64j(b, 'b'));
/** `time_in_range64(a, b, c)`. Return: true if a is in [b, c]. */
export const time_in_range64 = (a: bigint | number, b: bigint | number, c: bigint | number): boolean =>
  inRange(u64j(a, 'a'), u64j(b, 'b'), u64j(c, 'c'), false);

/**
 * `time_after32(a, b)`: `(s32)((u32)b − (u32)a) < 0`, for 32-bit timestamps (a
 * 32-bit kernel's jiffies, `(u32)jiffies`, on-disk seconds). Takes u32 values
 * (bigint or number in [0, 2^32−1]); pass `BigInt.asUintN(32, j)` to truncate
 * a 64-bit value as the kernel's cast does.
 * Return: true if a is after b.
 */
export const time_after32 = (a: bigint | number, b: bigint | number): boolean => {
  const x = u32a(a, 'a');
  return s32(u32a(b, 'b') - x) < 0n;
};
/** `time_before32(a, b)` = `time_after32(b, a)`. Return: true if a is before b. */
export const time_before32 = (a: bigint | number, b: bigint | number): boolean => s32(u32a(a, 'a') - u32a(b, 'b')) < 0n;
/** `time_between32(t, l, h)`: `(u32)(h − l) >= (u32)(t − l)`. Return: true if l <= t <= h (32-bit wrap). */
export const time_between32 = (t: bigint | number, l: bigint | number, h: bigint | number): boolean => {
  const [x, lo, hi] = [u32a(t, 't'), u32a(l, 'l'), u32a(h, 'h')];
  return u32(hi - lo) >= u32(x - lo);
};

// Against the clock: each checks a, then reads the clock now (refreshing `jiffies`).
/** `time_is_before_jiffies(a)` = `time_after(jiffies, a)`. Context: any. Return: true if a is before jiffies. */
export const time_is_before_jiffies = (a: bigint | number): boolean => before(ul(a, 'a'), refreshJiffies());
/** `time_is_after_jiffies(a)` = `time_before(jiffies, a)`. Context: any. Return: true if a is after jiffies. */
export const time_is_after_jiffies = (a: bigint | number): boolean => after(ul(a, 'a'), refreshJiffies());
/** `time_is_before_eq_jiffies(a)` = `time_after_eq(jiffies, a)`. Context: any. Return: true if a <= jiffies. */
export const time_is_before_eq_jiffies = (a: bigint | number): boolean => beforeEq(ul(a, 'a'), refreshJiffies());
/** `time_is_after_eq_jiffies(a)` = `time_before_eq(jiffies, a)`. Context: any. Return: true if a >= jiffies. */
export const time_is_after_eq_jiffies = (a: bigint | number): boolean => afterEq(ul(a, 'a'), refreshJiffies());
/** `time_is_before_jiffies64(a)` = `time_after64(get_jiffies_64(), a)`. Context: any. Return: true if a is before jiffies_64. */
export const time_is_before_jiffies64 = (a: bigint | number): boolean => before(u64j(a, 'a'), refreshJiffies());
/** `time_is_after_jiffies64(a)` = `time_before64(get_jiffies_64(), a)`. Context: any. Return: true if a is after jiffies_64. */
export const time_is_after_jiffies64 = (a: bigint | number): boolean => after(u64j(a, 'a'), refreshJiffies());
/** `time_is_before_eq_jiffies64(a)`. Context: any. Return: true if a is before or the same as jiffies_64. */
export const time_is_before_eq_jiffies64 = (a: bigint | number): boolean => beforeEq(u64j(a, 'a'), refreshJiffies());
/** `time_is_after_eq_jiffies64(a)`. Context: any. Return: true if a is after or the same as jiffies_64. */
export const time_is_after_eq_jiffies64 = (a: bigint | number): boolean => afterEq(u64j(a, 'a'), refreshJiffies());

// --- conversions (kernel/time/time.c, include/linux/jiffies.h) ----------------

function toMsecs(j: bigint): number {
  const r = 1000n % hz === 0n
    ? u64((1000n / hz) * j) // HZ divides 1000: exact
    : u64(u64(j * HZ_TO_MSEC_NUM) + HZ_TO_MSEC_DEN - 1n) / HZ_TO_MSEC_DEN; // DIV_ROUND_UP, unsigned long
  return Number(u32(r));
}
function toUsecs(j: bigint): number {
  const r = 1_000_000n % hz === 0n ? u64((1_000_000n / hz) * j) : u64(j * HZ_TO_USEC_NUM) / HZ_TO_USEC_DEN;
  return Number(u32(r));
}
/** `jiffies_to_usecs(MAX_JIFFY_OFFSET)` as the kernel computes it (truncated to 32 bits). */
const USECS_LIMIT = BigInt(toUsecs(MAX_JIFFY_OFFSET));

/**
 * `jiffies_to_msecs(j)` — jiffies to milliseconds: HZ dividing 1000 →
 * `(1000/HZ)·j`; HZ=300 → `DIV_ROUND_UP(10·j, 3)` (rounds up). Products wrap at 64 bits.
 *
 * Context: any.
 * Return: milliseconds as an `unsigned int` (truncated to 32 bits), a number.
 * @param j - jiffies (unsigned long, a bigint).
 */
export function jiffies_to_msecs(j: bigint | number): number {
  return toMsecs(ul(j, 'j'));
}
/**
 * `jiffies_to_usecs(j)` — jiffies to microseconds: HZ dividing 10^6 →
 * `(10^6/HZ)·j`; HZ=300 → `10000·j / 3` (rounds down). Products wrap at 64 bits.
 *
 * Context: any.
 * Return: microseconds as an `unsigned int` (truncated to 32 bits), a number.
 * @param j - jiffies (unsigned long, a bigint).
 */
export function jiffies_to_usecs(j: bigint | number): number {
  return toUsecs(ul(j, 'j'));
}
/**
 * `jiffies_to_nsecs(j)` — jiffies to nanoseconds: `(u64)jiffies_to_usecs(j) · 1000`
 * (so it inherits the 32-bit truncation of jiffies_to_usecs, as in the kernel).
 *
 * Context: any.
 * Return: nanoseconds (u64, a bigint).
 * @param j - jiffies (unsigned long, a bigint).
 */
export function jiffies_to_nsecs(j: bigint | number): bigint {
  return BigInt(toUsecs(ul(j, 'j'))) * 1000n;
}
/**
 * `jiffies_delta_to_msecs(delta)` — a signed jiffies difference to milliseconds,
 * negative deltas counting as 0: `jiffies_to_msecs(max(0, delta))`.
 *
 * Context: any.
 * Return: milliseconds (unsigned int, a number).
 * @param delta - a `long` jiffies difference (s64 bigint).
 */
export function jiffies_delta_to_msecs(delta: bigint | number): number {
  const d = jiffiesArg(delta, 'delta', S64_MIN, S64_MAX, 'long');
  return toMsecs(d > 0n ? d : 0n);
}

/**
 * `msecs_to_jiffies(m)`: m in [2^31, 2^32−1] (`(int)m < 0`) → MAX_JIFFY_OFFSET;
 * HZ dividing 1000 → `ceil(m / (1000/HZ))`; HZ=300 → timeconst's
 * `(0x9999999A·m + 0x1CCCCCCCC) >> 33`, equal to `ceil(3m/10)`. Rounds up.
 *
 * Context: any.
 * Return: jiffies (unsigned long).
 * @param m - milliseconds (unsigned int: a bigint or number in [0, 2^32−1]).
 */
export function msecs_to_jiffies(m: bigint | number): bigint {
  const x = countArg(m, 'm');
  if (s32(x) < 0n) return MAX_JIFFY_OFFSET;
  if (1000n % hz === 0n) return (x + 1000n / hz - 1n) / (1000n / hz);
  return u64(MSEC_TO_HZ_MUL32 * x + MSEC_TO_HZ_ADJ32) >> MSEC_TO_HZ_SHR32;
}
/**
 * `usecs_to_jiffies(u)`: u above `jiffies_to_usecs(MAX_JIFFY_OFFSET)` — which
 * the kernel truncates to 32 bits: 4,294,965,296 at HZ=1000, 4,294,959,296 at
 * 250, 4,294,947,296 at 100, 1,431,649,098 at 300 — → MAX_JIFFY_OFFSET; HZ
 * dividing 10^6 → `ceil(u / (10^6/HZ))`; HZ=300 → timeconst's
 * `(0x9D495183·u + 0x7FFCB923A29) >> 43`, equal to `ceil(3u/10000)` below that
 * limit. Rounds up.
 *
 * Context: any.
 * Return: jiffies (unsigned long).
 * @param u - microseconds (unsigned int: a bigint or number in [0, 2^32−1]).
 */
export function usecs_to_jiffies(u: bigint | number): bigint {
  const x = countArg(u, 'u');
  if (x > USECS_LIMIT) return MAX_JIFFY_OFFSET;
  if (1_000_000n % hz === 0n) return (x + 1_000_000n / hz - 1n) / (1_000_000n / hz);
  return u64(USEC_TO_HZ_MUL32 * x + USEC_TO_HZ_ADJ32) >> USEC_TO_HZ_SHR32;
}
/**
 * `nsecs_to_jiffies64(n)`: HZ dividing 10^9 → `n / (10^9/HZ)`; HZ=300 → the
 * kernel's generic `(u64)(n·9) / ((9·10^9 + HZ/2)/HZ)`, whose product wraps past
 * ~65 years of nanoseconds as the kernel's does. Rounds down; never returns
 * MAX_JIFFY_OFFSET.
 *
 * Context: any.
 * Return: jiffies (u64).
 * @param n - nanoseconds (u64).
 */
export function nsecs_to_jiffies64(n: bigint | number): bigint {
  const x = u64Arg(n, 'n');
  if (1_000_000_000n % hz === 0n) return x / (1_000_000_000n / hz);
  return u64(x * 9n) / ((9n * 1_000_000_000n + hz / 2n) / hz);
}
/**
 * `nsecs_to_jiffies(n)` — `(unsigned long)nsecs_to_jiffies64(n)` (the same on 64 bits).
 *
 * Context: any.
 * Return: jiffies (unsigned long). Rounds down.
 * @param n - nanoseconds (u64).
 */
export function nsecs_to_jiffies(n: bigint | number): bigint {
  return nsecs_to_jiffies64(n);
}
/**
 * `secs_to_jiffies(s)` — seconds to jiffies: `(unsigned long)(s · HZ)`, wrapping at 64 bits.
 *
 * Context: any.
 * Return: jiffies (unsigned long).
 * @param s - seconds (u64).
 */
export function secs_to_jiffies(s: bigint | number): bigint {
  return u64(u64Arg(s, 'secs') * hz);
}

// --- round_jiffies family (kernel/time/timer.c) -------------------------------

/**
 * round_jiffies_common(): skew by 3·cpu, round to a multiple of HZ (down when the
 * remainder is below HZ/4 and not `up`, else up), unskew; if the result is not
 * strictly after `now`, return `j` unchanged. The kernel reads `jiffies` again
 * for that last test; here `now` is the one reading taken by the caller.
 */
function roundCommon(j: bigint, cpu: bigint, up: boolean, now: bigint): bigint {
  const skew = cpu * 3n;
  let r = u64(j + skew);
  const rem = r % hz;
  r -= rem;
  if (rem >= hz / 4n || up) r = u64(r + hz);
  r = u64(r - skew);
  return s64(now - r) < 0n ? r : j;
}

/**
 * `round_jiffies(j)`: round an absolute time in the future to a whole second
 * (a multiple of HZ in absolute jiffies; down if within HZ/4 past one).
 * Context: any (reads the clock; current CPU is 0).
 * Return: the rounded value, or j itself if that is not after jiffies.
 * @param j - an absolute time in jiffies.
 */
export function round_jiffies(j: bigint | number): bigint {
  return roundCommon(ul(j, 'j'), 0n, false, refreshJiffies());
}
/**
 * `round_jiffies_up(j)` — as {@link round_jiffies}, but never rounds down.
 *
 * Context: any.
 * Return: the rounded value, or j if that is not after jiffies.
 * @param j - an absolute time in jiffies.
 */
export function round_jiffies_up(j: bigint | number): bigint {
  return roundCommon(ul(j, 'j'), 0n, true, refreshJiffies());
}
/**
 * `__round_jiffies_relative(j, cpu)` — `round(jiffies + j) − jiffies` with the
 * skew of `cpu` (3·cpu jiffies).
 *
 * Context: any.
 * Return: the rounded relative value.
 * @param j - a relative time in jiffies.
 * @param cpu - a non-negative int up to 715,827,882 (so that the kernel's `int` product cpu·3 cannot overflow).
 */
export function __round_jiffies_relative(j: bigint | number, cpu: number | bigint): bigint {
  const d = ul(j, 'j');
  const c = countArg(cpu, 'cpu', CPU_MAX, 'int cpu');
  const j0 = refreshJiffies();
  return u64(roundCommon(u64(d + j0), c, false, j0) - j0);
}
/**
 * `round_jiffies_relative(j)` — `__round_jiffies_relative(j, 0)`.
 *
 * Context: any.
 * Return: the rounded relative value.
 * @param j - a relative time in jiffies.
 */
export function round_jiffies_relative(j: bigint | number): bigint {
  return __round_jiffies_relative(j, 0);
}
/**
 * `__round_jiffies_up_relative(j, cpu)` — as {@link __round_jiffies_relative}, but never rounds down.
 *
 * Context: any.
 * Return: the rounded relative value.
 * @param j - a relative time in jiffies.
 * @param cpu - a non-negative int up to 715,827,882.
 */
export function __round_jiffies_up_relative(j: bigint | number, cpu: number | bigint): bigint {
  const d = ul(j, 'j');
  const c = countArg(cpu, 'cpu', CPU_MAX, 'int cpu');
  const j0 = refreshJiffies();
  return u64(roundCommon(u64(d + j0), c, true, j0) - j0);
}
/**
 * `round_jiffies_up_relative(j)` — `__round_jiffies_up_relative(j, 0)`.
 *
 * Context: any.
 * Return: the rounded relative value.
 * @param j - a relative time in jiffies.
 */
export function round_jiffies_up_relative(j: bigint | number): bigint {
  return __round_jiffies_up_relative(j, 0);
}
