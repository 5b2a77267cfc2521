/**
 * The NO_HZ driver of the timer wheel (kernel/time/timer.c's __mod_timer,
 * __run_timers and the tick), and the virtual wheel's hooks for
 * ktimers/testing.
 *
 * The wheel itself is lib/internal/wheel.ts (levels, buckets, pending bitmap,
 * clk and next_expiry exactly as kernel/time/timer.c, on typed arrays). This
 * file decides which wheel a timer goes to and when the wheel runs:
 *
 * - There is no periodic tick. One internal SOFT-mode hrtimer on
 *   CLOCK_MONOTONIC (so, the monotonic timerfd) is armed for the earliest
 *   bucket expiry of BASE_LOCAL and BASE_GLOBAL, the jiffy J being the instant
 *   `(J - INITIAL_JIFFIES) * TICK_NSEC`. Deferrable timers (BASE_DEF) never arm
 *   it: they run at the next wake-up that happens anyway. Far-future timers
 *   cost nothing while they wait.
 * - At a wake-up the driver reads jiffies and runs `__run_timers` for BASE_LOCAL,
 *   BASE_GLOBAL, then BASE_DEF: each due bucket is collected, `clk` moves one
 *   ahead of jiffies, and the callbacks run highest level first, most recently
 *   added first within a bucket. After a long stall the wheel catches up by
 *   jumping from bucket expiry to bucket expiry, as after NO_HZ idle.
 * - Callbacks run in softirq context (`in_serving_softirq()`), on the JS thread.
 * - While ktimers/testing is installed, every arm goes to a virtual wheel,
 *   which the virtual clock runs (runTimers); the real wheel and its tick stay
 *   on the real timeline.
 */
import { hrtimer, hrtimer_setup, hrtimer_start, HRTIMER_MODE_ABS_SOFT, HRTIMER_NORESTART } from '../hrtimer/index.js';
import { CLOCK_MONOTONIC } from '../ktime.js';
import { native } from '../binding.js';
import { disarm, timerFields } from '../internal/engine.js';
import { reportError, virt } from '../internal/virtual.js';
import { enterIrq, exitIrq } from '../internal/irq.js';
import { HZ, INITIAL_JIFFIES, jiffiesArg, jiffiesAtNs, jiffyStartNs, refreshJiffies, TICK_NSEC } from '../internal/jiffies-clock.js';
import { LVL_DEPTH, LVL_SIZE } from '../internal/wheel-levels.js';
import { MAX_SAFE_JIFFIES, Wheel } from '../internal/wheel.js';
import {
  countsForRef,
  encodeExpires,
  expOf,
  refDelta,
  setExp,
  setKeepAlive,
  setSt,
  slotOf,
  ST_BITS,
  ST_ONE,
  ST_RUNNING,
  ST_SHIFT,
  ST_VIRTUAL,
  stOf,
  TIMER_DEFERRABLE,
  TIMER_PINNED,
  timer_list,
} from './timer-list.js';

/** The wheel's depth at this process's HZ. */
const DEPTH = LVL_DEPTH(HZ);

const BASE_LOCAL = 0;
const BASE_GLOBAL = 1;
const BASE_DEF = 2;
/** __mod_timer's options. */
export const MOD_TIMER_PENDING_ONLY = 0x01;
export const MOD_TIMER_REDUCE = 0x02;
export const MOD_TIMER_NOTPENDING = 0x04;

let real: Wheel<timer_list> | null = null;
let virtualWheel: Wheel<timer_list> | null = null;
let tick: hrtimer | null = null;
let tickAt = -1; // jiffy the tick is armed for, -1 none

// jiffies of the real clock as a number, cheaply: performance.now() is
// CLOCK_MONOTONIC (libuv's uv_hrtime) since the process's time origin, and
// is cheaper than an N-API clock call. `monoAtZero` maps it back to CLOCK_MONOTONIC;
// it is read just before performance.now(), so the mapped clock lags the true
// one by at most that gap (sub-microsecond): jiffies may read one low for that
// long after a jiffy starts, which places a timer as it would have been a
// moment earlier — later, never earlier. Firing is decided by the tick's
// hrtimer on the real clock in any case.
const TICK_NS = Number(TICK_NSEC);
const INITIAL_J = Number(INITIAL_JIFFIES);
const monoAtZero = Number(native.now(0)) - performance.now() * 1e6;

function realJiffiesNum(): number {
  return INITIAL_J + Math.floor((monoAtZero + performance.now() * 1e6) / TICK_NS);
}

function realWheel(): Wheel<timer_list> {
  if (real === null) {
    // The real wheel reads the clock only when a forward could use it (Wheel.jiffiesFor).
    real = new Wheel<timer_list>(DEPTH, Number(realJiffies()), realJiffiesNum, true);
    tick = new hrtimer();
    timerFields.markRealOnly(tick); // real-time infrastructure: stays on the real timeline under ktimers/testing
    hrtimer_setup(tick, onTick, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
    tick.unref();
    setKeepAlive(tick);
  }
  return real;
}

function wheelOf(st: number): Wheel<timer_list> {
  return st & ST_VIRTUAL ? virtualWheel! : real!;
}

function baseOf(flags: number): number {
  if (flags & TIMER_DEFERRABLE) return BASE_DEF;
  return flags & TIMER_PINNED ? BASE_LOCAL : BASE_GLOBAL;
}

/**
 * jiffies of the real clock. The tick and the real wheel always use it: while
 * ktimers/testing is installed, refreshJiffies() reads the virtual timeline,
 * and the real wheel must not run at a virtual jiffy.
 */
function realJiffies(): bigint {
  return virt.active ? jiffiesAtNs(native.now(0)) : refreshJiffies();
}

/** Arms the tick for the earliest non-deferrable bucket expiry of the real wheel (NO_HZ). */
function rearm(): void {
  const w = real!;
  const a = w.nextExpiryOf(BASE_LOCAL);
  const b = w.nextExpiryOf(BASE_GLOBAL);
  const next = a < 0 ? b : b < 0 ? a : a < b ? a : b;
  if (next < 0) {
    if (tickAt >= 0) disarm(tick!);
    tickAt = -1;
    return;
  }
  if (tickAt === next && timerFields.queued(tick!)) return;
  tickAt = next;
  // A bucket already due (a past expiry armed from task context) runs at the
  // next tick, as in the kernel: this jiffy's expiry pass counts as done.
  const soonest = Number(realJiffies()) + 1;
  hrtimer_start(tick!, jiffyStartNs(BigInt(next > soonest ? next : soonest)), HRTIMER_MODE_ABS_SOFT);
}

/**
 * __run_timers() for every base up to jiffy `j`, then expire_timers(): each
 * timer is detached from its expiring list just before its callback, so a
 * callback can still delete or re-arm a later timer of the same pass.
 */
function runWheel(w: Wheel<timer_list>, j: number, isVirtual: boolean): void {
  enterIrq(true); // TIMER_SOFTIRQ
  try {
    for (let base = 0; base < 3; base++) {
      while (w.collect(base, j)) {
        // An exception ends runPass early; it resumes with the next timer.
        while (!runPass(w, base, isVirtual));
      }
    }
  } finally {
    // The ref counts of the timers that ran, dropped once per pass rather than
    // per callback: until here the count is only higher than it should be,
    // which keeps the process alive for the length of the pass at most.
    if (refDrops !== 0) {
      const d = refDrops;
      refDrops = 0;
      refDelta(-d);
    }
    exitIrq(true);
  }
}

let refDrops = 0;

/** Runs the collected timers of `base` in order; true when the pass is over, false after a callback threw. */
function runPass(w: Wheel<timer_list>, base: number, isVirtual: boolean): boolean {
  let t: timer_list | undefined;
  let st = 0;
  try {
    for (let s = w.popExpiring(base); s >= 0; s = w.popExpiring(base)) {
      t = w.owner[s]!;
      w.free(s);
      st = stOf(t);
      if (!isVirtual && countsForRef(t, st)) refDrops++;
      const fn = t.function;
      if (fn === null) {
        setSt(t, st & (ST_BITS & ~ST_VIRTUAL));
        continue;
      }
      setSt(t, (st & (ST_BITS & ~ST_VIRTUAL)) | ST_RUNNING);
      t._call(fn);
      setSt(t, stOf(t) & ~ST_RUNNING);
    }
    return true;
  } catch (err) {
    setSt(t!, stOf(t!) & ~ST_RUNNING);
    reportError(err);
    return false;
  }
}

/** Runs every base of the current wheel up to jiffy `j` (kernel: __run_timers). @internal */
export function runTimers(j: bigint): void {
  if (virtualWheel !== null) runWheel(virtualWheel, Number(j), true);
  else runWheel(realWheel(), Number(j), false);
}

function onTick(): typeof HRTIMER_NORESTART {
  tickAt = -1;
  runWheel(realWheel(), Number(realJiffies()), false);
  rearm();
  return HRTIMER_NORESTART;
}

/** ktimers/testing: a fresh wheel whose clk is `clk`, receiving every arm until removed. @internal */
export function installVirtualWheel(clk: bigint): void {
  // Every arm on the virtual timeline reads it, which also refreshes the `jiffies` snapshot.
  virtualWheel = new Wheel<timer_list>(DEPTH, Number(clk), () => Number(refreshJiffies()), false);
}

/** ktimers/testing: drops the virtual wheel; its pending timers become inactive. @internal */
export function uninstallVirtualWheel(): number {
  if (virtualWheel === null) return 0;
  let n = 0;
  for (const t of virtualWheel.owner) {
    if (t !== undefined) {
      setSt(t, stOf(t) & (ST_BITS & ~ST_VIRTUAL));
      n++;
    }
  }
  virtualWheel = null;
  return n;
}

/** ktimers/testing: the virtual wheel's earliest bucket expiry over all three bases, or null. @internal */
export function virtualNextExpiry(): bigint | null {
  if (virtualWheel === null) return null;
  let best = -1;
  for (let base = 0; base < 3; base++) {
    const e = virtualWheel.nextExpiryOf(base, true); // ticking model: stale passes run too
    if (e >= 0 && (best < 0 || e < best)) best = e;
  }
  return best < 0 ? null : BigInt(best);
}

// --- arming and deleting --------------------------------------------------------

export function modTimer(t: timer_list, expires: bigint | number, options: number): 0 | 1 {
  if (t.function === null) return 0; // shut down: silently ignored
  let st = stOf(t);
  const virtual = virtualWheel !== null;
  const w = virtual ? virtualWheel! : real ?? realWheel();
  let moved: 0 | 1 = 0;
  if (st >= ST_ONE && ((st & ST_VIRTUAL) !== 0) !== virtual) {
    // Pending on the other timeline (real vs virtual): it moves to this one.
    moved = detach(t);
    st = stOf(t);
    options &= ~MOD_TIMER_PENDING_ONLY;
  }
  const base = baseOf(t.flags);
  const num = typeof expires === 'number' ? expires : expires <= MAX_SAFE_JIFFIES ? Number(expires) : NaN;
  const enc = encodeExpires(expires, num);
  if (st >= ST_ONE && !(options & MOD_TIMER_NOTPENDING)) {
    // __mod_timer's first checks read timer->expires: the caller's field (it
    // may have been written since the timer was queued). The stored form is
    // canonical, so equal expiries have equal stored forms.
    const cur = expOf(t);
    if (cur === enc || (options & MOD_TIMER_REDUCE && !reduces(t, cur, enc, expires))) return 1;
    if (w.move(slotOf(st), base, expires, num) === 0 && w.lowered && base !== BASE_DEF && !virtual) rearm();
    setExp(t, enc); // same bucket or moved: the new expiry either way
    return 1;
  }
  if (st >= ST_ONE) {
    // MOD_TIMER_NOTPENDING on a pending timer cannot happen: add_timer checks first.
    return 1;
  }
  if (options & MOD_TIMER_PENDING_ONLY) {
    w.touch(base); // the kernel forwards the base before it finds the timer inactive
    return moved;
  }
  const s = w.add(t, base, expires, num);
  setExp(t, enc);
  st = (st & ST_BITS & ~ST_VIRTUAL) | (virtual ? ST_VIRTUAL : 0) | ((s + 1) << ST_SHIFT);
  setSt(t, st);
  if (countsForRef(t, st)) refDelta(1);
  if (w.lowered && base !== BASE_DEF && !virtual) rearm();
  return moved;
}

/**
 * timer_reduce(): does `expires` move the pending timer (stored expiry `cur`)
 * earlier? The kernel keeps the timer when time_before_eq(timer->expires,
 * expires), i.e. (long)(expires − timer->expires) >= 0 — at a distance of
 * exactly 2^63 that is false both ways round, and the timer moves.
 */
function reduces(t: timer_list, cur: unknown, enc: unknown, expires: bigint | number): boolean {
  if (typeof cur === 'number' && typeof enc === 'number') return enc - cur < 0; // both within ±2^30: no wrap
  // A value the caller wrote to timer.expires is checked as add_timer checks it, before any effect.
  const have = jiffiesArg(t.expires, 'timer.expires');
  return BigInt.asIntN(64, BigInt(expires) - have) < 0n;
}

export function detach(t: timer_list): 0 | 1 {
  const st = stOf(t);
  if (st < ST_ONE) return 0;
  const w = wheelOf(st);
  if (countsForRef(t, st)) refDelta(-1);
  w.del(slotOf(st));
  setSt(t, st & (ST_BITS & ~ST_VIRTUAL));
  return 1;
}

// --- introspection for tests ----------------------------------------------------

/** @internal wheel introspection for tests: the bucket index and level of a pending timer */
export function wheelInfo(t: timer_list): { idx: number; level: number } | null {
  const st = stOf(t);
  if (st < ST_ONE) return null;
  const idx = wheelOf(st).slotIdx(slotOf(st));
  return { idx, level: (idx / LVL_SIZE) | 0 };
}

/** @internal */
export function wheelState(base = BASE_GLOBAL) {
  const w = virtualWheel ?? realWheel();
  return {
    clk: BigInt(w.clk[base]!),
    nextExpiry: BigInt(w.nextExpiry[base]!),
    timersPending: w.timersPending[base] === 1,
    recalc: w.recalc[base] === 1,
    slotsInUse: w.inUse,
  };
}
