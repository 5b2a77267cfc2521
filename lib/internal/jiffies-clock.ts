/**
 * The jiffies clock: HZ, the tick's length, the jiffy each CLOCK_MONOTONIC
 * instant falls in, and the `jiffies` snapshot with its refresh; and the check
 * of a jiffies argument, which every module that takes one shares.
 *
 * Why here and not in lib/jiffies.ts: the engine refreshes the snapshot before
 * every callback (so `jiffies` is current inside it, as in the kernel) and the
 * timer wheel's driver reads the clock at each expiry pass; both sit below the
 * kernel-named API, which must not be imported from beneath it. lib/jiffies.ts
 * re-exports the public names (HZ, TICK_NSEC, INITIAL_JIFFIES, jiffies) and
 * builds the comparisons and conversions on top.
 */
import { rangeError } from '../errors.js';
import { monotonicNs } from './clock.js';
import { intArg, U64_MAX } from './validate.js';

const HZ_CHOICES = [100, 250, 300, 1000] as const;

function loadHz(): number {
  const raw = process.env.KTIMERS_HZ;
  if (raw === undefined) return 1000;
  const hz = HZ_CHOICES.find((h) => String(h) === raw);
  if (hz === undefined) {
    throw rangeError(
      'ERR_KTIMERS_INVALID_HZ',
      `KTIMERS_HZ must be one of ${HZ_CHOICES.join(', ')} (the kernel's CONFIG_HZ choices), got ${JSON.stringify(raw)}`,
    );
  }
  return hz;
}

/** Ticks per second, fixed for the process (env `KTIMERS_HZ`: 100, 250, 300 or 1000; default 1000). */
export const HZ: number = loadHz();
const hz = BigInt(HZ);
/** Nanoseconds per tick: `(NSEC_PER_SEC + HZ/2) / HZ` (HZ 1000/300/250/100: 1,000,000 / 3,333,333 / 4,000,000 / 10,000,000). */
export const TICK_NSEC: bigint = (1_000_000_000n + hz / 2n) / hz;
/**
 * jiffies at boot: `(unsigned long)(unsigned int)(-300*HZ)`, so that the low 32
 * bits wrap 300 s after boot (e.g. 4,294,667,296 = 0xFFFB6C20 at HZ=1000).
 */
export const INITIAL_JIFFIES: bigint = BigInt.asUintN(32, -300n * hz);

/**
 * The jiffy that CLOCK_MONOTONIC time `ns` falls in: INITIAL_JIFFIES plus the
 * ticks since 0, rounded down (a virtual clock may be below zero).
 * @internal (also the wheel driver and the virtual clock)
 */
export function jiffiesAtNs(ns: bigint): bigint {
  let ticks = ns / TICK_NSEC;
  if (ns % TICK_NSEC < 0n) ticks -= 1n;
  return INITIAL_JIFFIES + ticks;
}

/** The CLOCK_MONOTONIC instant jiffy `j` starts at. @internal */
export function jiffyStartNs(j: bigint): bigint {
  return (j - INITIAL_JIFFIES) * TICK_NSEC;
}

function readJiffies(): bigint {
  return BigInt.asUintN(64, jiffiesAtNs(monotonicNs()));
}

/**
 * The jiffies counter as last read: a snapshot, not a ticking counter (see the
 * module doc). Current inside timer_list callbacks (the wheel refreshes it at
 * each expiry pass) and right after any call here that reads the clock;
 * possibly stale otherwise. `get_jiffies_64()` is exact.
 */
export let jiffies: bigint = readJiffies();

/**
 * Re-read the clock into the `jiffies` snapshot (the engine calls this before
 * each callback, the timer wheel at each expiry pass).
 * Return: the new value.
 * @internal
 */
export function refreshJiffies(): bigint {
  jiffies = readJiffies();
  return jiffies;
}

// --- a jiffies argument ------------------------------------------------------------

/**
 * A jiffies value (`unsigned long`/`u64`, or a `long` delta): a bigint, or a
 * safe-integer number (exact up to 2^53 − 1 jiffies, 285,000 years at
 * HZ=1000), so a hot loop can keep `Number(jiffies)` and add plain numbers
 * instead of allocating a bigint per call. Never coerced: a fractional or
 * unsafe number is a RangeError, anything else a TypeError. Returned as a bigint.
 * @internal (lib/jiffies.ts, lib/timer/, lib/workqueue/, lib/kthread/, ktimers/legacy and ktimers/testing)
 */
export function jiffiesArg(v: unknown, name: string, min = 0n, max = U64_MAX, what = 'unsigned long'): bigint {
  return intArg(v, name, min, max, `jiffies, ${what}`);
}
