/**
 * timer_list: the kernel's jiffies timers on the non-cascading wheel.
 *
 * The wheel itself is native (native/timer_wheel.{h,cc}: levels, buckets,
 * pending bitmap, clk and next_expiry exactly as kernel/time/timer.c). This file
 * is the kernel API on top of it and the NO_HZ driver:
 *
 * - There is no periodic tick. One internal SOFT-mode hrtimer on
 *   CLOCK_MONOTONIC (so, the monotonic timerfd) is armed for the earliest
 *   bucket expiry of BASE_LOCAL and BASE_GLOBAL, the jiffy J being the instant
 *   `(J - INITIAL_JIFFIES) * TICK_NSEC`. Deferrable timers (BASE_DEF) never arm
 *   it: they run at the next wake-up that happens anyway. 100,000 far-future
 *   timers cost nothing while they wait.
 * - At a wake-up the driver reads jiffies and runs `__run_timers` for BASE_LOCAL,
 *   BASE_GLOBAL, then BASE_DEF: each due bucket is collected, `clk` moves one
 *   ahead of jiffies, and the callbacks run highest level first, most recently
 *   added first within a bucket. After a long stall the wheel catches up by
 *   jumping from bucket expiry to bucket expiry, as after NO_HZ idle.
 * - Callbacks run in softirq context (`in_serving_softirq()`), on the JS thread.
 *
 * Differences from the kernel: one CPU (add_timer_on accepts only CPU 0);
 * timer_delete_sync / timer_shutdown_sync from the timer's own callback throw
 * `ERR_KTIMERS_DEADLOCK` (the kernel spins forever); a callback exception is
 * reported through uncaughtException after the pass; pending timers keep the
 * process alive unless `unref()`'d, except deferrable ones, which never do
 * (they never wake the process by themselves).
 */
import { KtimersError, describe, kwarn, rangeError, typeError } from './errors.js';
import {
  hrtimer,
  hrtimer_setup,
  hrtimer_start,
  HRTIMER_MODE_ABS_SOFT,
  HRTIMER_NORESTART,
} from './hrtimer.js';
import { native } from './binding.js';
import { disarm } from './internal/engine.js';
import { reportError, virt } from './internal/virtual.js';
import { enterIrq, exitIrq, irq } from './internal/irq.js';
import { functionArg } from './internal/validate.js';
import { HZ, INITIAL_JIFFIES, jiffiesArg, jiffiesAtNs, jiffyStartNs, refreshJiffies, TICK_NSEC } from './jiffies.js';
import { CLOCK_MONOTONIC } from './ktime.js';

/** timer_list flags (`include/linux/timer.h`): bits 0–17 hold the CPU number (always 0 here). */
export const TIMER_CPUMASK = 0x0003ffff;
/** Flag bit: the timer is moving between CPUs (never set here: one CPU). */
export const TIMER_MIGRATING = 0x00040000;
/** TIMER_CPUMASK | TIMER_MIGRATING. */
export const TIMER_BASEMASK = TIMER_CPUMASK | TIMER_MIGRATING;
/**
 * Flag for {@link timer_setup}: the timer never wakes an idle CPU (the process,
 * here); it runs at the next wake-up that happens anyway, and never keeps the
 * process alive.
 */
export const TIMER_DEFERRABLE = 0x00080000;
/** Flag for {@link timer_setup}: expire on the CPU that armed it (BASE_LOCAL). One CPU here. */
export const TIMER_PINNED = 0x00100000;
/** Flag for {@link timer_setup}: the callback runs with interrupts off, so timer_delete_sync() is allowed from hard IRQ. */
export const TIMER_IRQSAFE = 0x00200000;
/** The flags a user may pass to {@link timer_setup}: DEFERRABLE | PINNED | IRQSAFE. */
export const TIMER_INIT_FLAGS = TIMER_DEFERRABLE | TIMER_PINNED | TIMER_IRQSAFE;
/** Bit position of the wheel bucket index within `flags` (the kernel's bookkeeping; 0 here). */
export const TIMER_ARRAYSHIFT = 22;
/** Mask of the wheel bucket index within `flags`. */
export const TIMER_ARRAYMASK = 0xffc00000;

/** Number of wheel levels for this process's HZ: 9, or 8 at HZ=100 (`LVL_DEPTH`). */
export const LVL_DEPTH = HZ > 100 ? 9 : 8;
/** Buckets per wheel level: 64. */
export const LVL_SIZE = 64;
/** Each level is 2^3 = 8 times coarser than the one below. */
export const LVL_CLK_SHIFT = 3;
/**
 * `LVL_START(n)` — the smallest timeout (expires − clk, in jiffies) that wheel level `n` holds.
 *
 * Context: any.
 * Return: `63 << 3(n−1)`, and 0 for level 0; `LVL_START(LVL_DEPTH)` is WHEEL_TIMEOUT_CUTOFF.
 * @param n - the level, an integer in [0, LVL_DEPTH].
 */
export function LVL_START(n: number): bigint {
  if (typeof n !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `level must be a number, got ${describe(n)}`);
  if (!Number.isInteger(n) || n < 0 || n > LVL_DEPTH) {
    throw rangeError('ERR_OUT_OF_RANGE', `level must be an integer in [0, ${LVL_DEPTH}], got ${describe(n)}`);
  }
  return n === 0 ? 0n : 63n << BigInt(3 * (n - 1));
}
/** Timeouts of this many jiffies or more are capped (`LVL_START(LVL_DEPTH)`). */
export const WHEEL_TIMEOUT_CUTOFF = LVL_START(LVL_DEPTH);
/** What a capped timeout becomes: the largest timeout the last level holds, in jiffies. */
export const WHEEL_TIMEOUT_MAX = WHEEL_TIMEOUT_CUTOFF - (1n << BigInt(3 * (LVL_DEPTH - 1)));

const BASE_LOCAL = 0;
const BASE_GLOBAL = 1;
const BASE_DEF = 2;
const MOD_TIMER_PENDING_ONLY = 0x01;
const MOD_TIMER_REDUCE = 0x02;
const MOD_TIMER_NOTPENDING = 0x04;
/** ktimers-private: the timer is collected in the current pass (native/timer_wheel.h). */
const MOD_TIMER_BATCHED = 0x08;
/** ktimers-private: timer->expires was compared here (native/timer_wheel.h). */
const MOD_TIMER_CHECKED = 0x10;

/**
 * A timer_list callback: receives the timer (your subclass instance, if any).
 * It runs in softirq context on the JS thread and may re-arm the timer with
 * {@link mod_timer}; it cannot be async.
 */
export type TimerCallback<T extends timer_list = timer_list> = (timer: T) => void;

interface NativeWheel {
  mod(slot: number, base: number, expires: bigint, jiffies: bigint | null, options: number, idx?: number): number;
  del(slot: number): number;
  collect(base: number, jiffies: bigint): number;
  drain(base: number, buf: Int32Array): number;
  nextExpiry(base: number, raw?: boolean): bigint | null;
  reset(clk: bigint): void;
  info(slot: number): [number, number, number] | null;
  state(base: number): { clk: bigint; nextExpiry: bigint; timersPending: boolean; recalc: boolean; slotsInUse: number };
}

/**
 * `struct timer_list`. Set up with {@link timer_setup} (or {@link DEFINE_TIMER});
 * `expires` is absolute jiffies (a bigint), writable before {@link add_timer}.
 * Subclass it to embed your own fields: the callback receives the same object.
 */
export class timer_list {
  #brand = true;
  /** @internal */
  static isTimer(o: unknown): o is timer_list {
    return typeof o === 'object' && o !== null && #brand in o;
  }
  /** Absolute expiry in jiffies. */
  expires: bigint = 0n;
  /** The callback; null after timer_shutdown (re-arming is then ignored). */
  function: TimerCallback<any> | null = null;
  /** TIMER_* flags (CPU bits are 0: one CPU). */
  flags = 0;
  /** @internal */ _setup = false;
  /** @internal */ _slot = -1;
  /** @internal */ _running = false;
  /** @internal */ _refd = true;
  /** @internal the wheel holding the pending instance */ _ctx: WheelCtx | null = null;
  /** @internal bucket idx while collected in the current pass and not yet run, else -1 */ _bidx = -1;

  /** Lets the process exit while this timer is pending. Returns this. */
  unref(): this {
    if (this._refd) {
      if (countsForRef(this)) refDelta(-1);
      this._refd = false;
    }
    return this;
  }
  /** Makes a pending timer keep the process alive again (the default). Returns this. */
  ref(): this {
    if (!this._refd) {
      this._refd = true;
      if (countsForRef(this)) refDelta(1);
    }
    return this;
  }
  /** Whether this timer keeps the process alive while pending. */
  hasRef(): boolean {
    return this._refd;
  }
}

// --- the driver ------------------------------------------------------------------

/** One wheel and the slot -> timer map of its pending timers. */
interface WheelCtx {
  w: NativeWheel;
  armed: (timer_list | undefined)[];
  virtual: boolean;
}

let real: WheelCtx | null = null;
let virtualCtx: WheelCtx | null = null;
let tick: hrtimer | null = null;
let tickAt: bigint | null = null; // jiffy the tick is armed for
let refCount = 0;

function newWheel(clk: bigint): NativeWheel {
  const Ctor = (native as unknown as {
    TimerWheel: new (depth: number, clk: bigint, initial: bigint, tickNsec: number) => NativeWheel;
  }).TimerWheel;
  return new Ctor(LVL_DEPTH, clk, INITIAL_JIFFIES, Number(TICK_NSEC));
}

function realCtx(): WheelCtx {
  if (real === null) {
    real = { w: newWheel(refreshJiffies()), armed: [], virtual: false };
    tick = new hrtimer();
    tick._realOnly = true; // real-time infrastructure: stays on the real timeline under ktimers/testing
    hrtimer_setup(tick, onTick, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
    tick.unref();
  }
  return real;
}

/** The wheel that arms go to: the virtual one while ktimers/testing is installed. */
function currentCtx(): WheelCtx {
  return virtualCtx ?? realCtx();
}

/** Pending in the kernel's sense: in a bucket, or collected and waiting to run. */
function isPending(t: timer_list): boolean {
  return t._slot >= 0 || t._bidx >= 0;
}

/**
 * Refuses a timer whose internal fields were written by hand (they are plain
 * properties): its slot must map back to it, or it would reach another timer's
 * wheel entry.
 */
function checkOwnSlot(t: timer_list): void {
  if (t._slot >= 0 && (t._ctx === null || t._ctx.armed[t._slot] !== t)) {
    throw new KtimersError('ERR_KTIMERS_CORRUPT_TIMER', 'timer_list internal state was modified: its wheel slot is not its own');
  }
}

function countsForRef(t: timer_list): boolean {
  return t._slot >= 0 && t._refd && !(t.flags & TIMER_DEFERRABLE) && t._ctx !== null && !t._ctx.virtual;
}

function refDelta(d: number): void {
  const before = refCount;
  refCount += d;
  if (tick === null) return;
  if (before === 0 && refCount > 0) tick.ref();
  else if (before > 0 && refCount === 0) tick.unref();
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
  const w = real!.w;
  const a = w.nextExpiry(BASE_LOCAL);
  const b = w.nextExpiry(BASE_GLOBAL);
  const next = a === null ? b : b === null ? a : a < b ? a : b;
  if (next === null) {
    if (tickAt !== null) disarm(tick!);
    tickAt = null;
    return;
  }
  if (tickAt === next && tick!._queued) return;
  tickAt = next;
  // A bucket already due (a past expiry armed from task context) runs at the
  // next tick, as in the kernel: this jiffy's expiry pass counts as done.
  const soonest = realJiffies() + 1n;
  hrtimer_start(tick!, jiffyStartNs(next > soonest ? next : soonest), HRTIMER_MODE_ABS_SOFT);
}

// (slot, idx) pairs of one drain. 4096 timers per N-API crossing; a larger
// pass is several drains, in order.
const drainBuf = new Int32Array(2 * 4096);

function runCtx(ctx: WheelCtx, j: bigint): void {
  const w = ctx.w;
  const batch: (timer_list | undefined)[] = new Array(4096); // reused across drains of this pass
  const refCounted = !ctx.virtual;
  enterIrq(true); // TIMER_SOFTIRQ
  try {
    for (let base = 0; base < 3; base++) {
      while (w.collect(base, j) !== 0) {
        for (let n = w.drain(base, drainBuf); n > 0; n = w.drain(base, drainBuf)) {
          // Resolve the whole batch before any callback: drain() freed the
          // slots and a callback's mod_timer may reuse one.
          let unref = 0;
          for (let i = 0; i < n; i++) {
            const slot = drainBuf[2 * i]!;
            const t = ctx.armed[slot]!;
            if (refCounted && t._refd && !(t.flags & TIMER_DEFERRABLE)) unref++;
            ctx.armed[slot] = undefined;
            t._slot = -1;
            t._bidx = drainBuf[2 * i + 1]!;
            batch[i] = t;
          }
          if (unref > 0) refDelta(-unref);
          // An exception ends runBatch early; it resumes after the thrower.
          for (let i = runBatch(batch, 0, n); i < n; i = runBatch(batch, i, n));
          batch.fill(undefined, 0, n);
        }
      }
    }
  } finally {
    exitIrq(true);
  }
}

/** Runs batch[from..n); returns n, or the index after a callback that threw. */
function runBatch(batch: (timer_list | undefined)[], from: number, n: number): number {
  let i = from;
  let t: timer_list | undefined;
  try {
    for (; i < n; i++) {
      t = batch[i]!;
      if (t._bidx < 0) continue; // deleted or moved by an earlier callback
      t._bidx = -1;
      t._ctx = null;
      const fn = t.function;
      if (fn === null) continue;
      t._running = true;
      fn(t);
      t._running = false;
    }
    return n;
  } catch (err) {
    t!._running = false;
    reportError(err);
    return i + 1;
  }
}

/** Runs every base of the current wheel up to jiffy `j` (kernel: __run_timers). @internal */
export function runTimers(j: bigint): void {
  runCtx(currentCtx(), j);
}

function onTick(): typeof HRTIMER_NORESTART {
  tickAt = null;
  runCtx(realCtx(), realJiffies());
  rearm();
  return HRTIMER_NORESTART;
}

/** ktimers/testing: a fresh wheel whose clk is `clk`, receiving every arm until removed. @internal */
export function installVirtualWheel(clk: bigint): void {
  virtualCtx = { w: newWheel(clk), armed: [], virtual: true };
}

/** ktimers/testing: drops the virtual wheel; its pending timers become inactive. @internal */
export function uninstallVirtualWheel(): number {
  if (virtualCtx === null) return 0;
  let n = 0;
  for (const t of virtualCtx.armed) {
    if (t !== undefined) {
      t._slot = -1;
      t._ctx = null;
      n++;
    }
  }
  virtualCtx = null;
  return n;
}

/** ktimers/testing: the virtual wheel's earliest bucket expiry over all three bases, or null. @internal */
export function virtualNextExpiry(): bigint | null {
  if (virtualCtx === null) return null;
  let best: bigint | null = null;
  for (let base = 0; base < 3; base++) {
    const e = virtualCtx.w.nextExpiry(base, true); // ticking model: stale passes run too
    if (e !== null && (best === null || e < best)) best = e;
  }
  return best;
}

// --- argument checks -------------------------------------------------------------

function timerArg(t: unknown): timer_list {
  if (!timer_list.isTimer(t)) throw typeError('ERR_INVALID_ARG_TYPE', `timer must be a timer_list, got ${describe(t)}`);
  return t;
}

function setupArg(t: unknown): timer_list {
  const timer = timerArg(t);
  if (!timer._setup) throw typeError('ERR_KTIMERS_NOT_SETUP', 'timer_list was never set up: call timer_setup() first');
  // flags and function are writable fields, as in the kernel: check what was written.
  const f: unknown = timer.flags;
  if (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f > 0xffffffff) {
    throw typeError('ERR_INVALID_ARG_TYPE', `timer.flags must be a u32 of TIMER_* bits, got ${describe(f)}`);
  }
  const fn: unknown = timer.function;
  if (fn !== null && typeof fn !== 'function') {
    throw typeError('ERR_KTIMERS_NO_FUNCTION', `timer.function must be a function (or null after timer_shutdown), got ${describe(fn)}`);
  }
  return timer;
}

// --- the API -----------------------------------------------------------------------

/**
 * `timer_setup(timer, callback, flags)` — prepare a timer for first use.
 * Flags outside TIMER_DEFERRABLE | TIMER_PINNED | TIMER_IRQSAFE are masked off
 * with a warning, as the kernel's WARN_ON_ONCE does.
 *
 * Context: any; the timer must not be pending (ERR_KTIMERS_TIMER_ACTIVE).
 * @param timer - a `new timer_list()` (or an instance of a subclass).
 * @param callback - the callback (see {@link TimerCallback}).
 * @param flags - TIMER_* flags (default 0).
 */
export function timer_setup<T extends timer_list>(timer: T, callback: TimerCallback<T>, flags = 0): void {
  const t = timerArg(timer);
  const fn = functionArg<TimerCallback<any>>(callback, 'callback');
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw typeError('ERR_INVALID_ARG_TYPE', `flags must be a u32 of TIMER_* bits, got ${describe(flags)}`);
  }
  if (isPending(t) || t._running) {
    throw new KtimersError('ERR_KTIMERS_TIMER_ACTIVE', 'timer_setup() on a pending or running timer would corrupt the wheel');
  }
  if (flags & ~TIMER_INIT_FLAGS) {
    kwarn('KTIMERS_WARN_TIMER_FLAGS', `timer_setup(): flags 0x${((flags & ~TIMER_INIT_FLAGS) >>> 0).toString(16)} are not TIMER_INIT_FLAGS; masked off`, true);
  }
  t.function = fn;
  t.flags = flags & TIMER_INIT_FLAGS; // | current CPU (0)
  t._setup = true;
}

/**
 * `DEFINE_TIMER(name, fn)` — a new, set-up timer with flags 0 (JS returns it
 * instead of defining a static `name`).
 *
 * Context: any.
 * Return: the timer, idle.
 * @param fn - the callback.
 */
export function DEFINE_TIMER(fn: TimerCallback<timer_list>): timer_list {
  const t = new timer_list();
  timer_setup(t, fn, 0);
  return t;
}

/** The slot in a packed mod() result: ((slot + 1) * 2 + updated) * 4 + lowered * 2 + ret. */
function modSlot(r: number): number {
  return Math.floor(r / 8) - 1;
}

function modTimer(t: timer_list, expires: bigint, options: number): 0 | 1 {
  if (t.function === null) return 0; // shut down: silently ignored
  checkOwnSlot(t);
  const ctx = currentCtx();
  let moved: 0 | 1 = 0;
  if (t._ctx !== null && t._ctx !== ctx) {
    // Pending on the other timeline (real vs virtual): it moves to this one.
    moved = detach(t);
    options &= ~MOD_TIMER_PENDING_ONLY;
  }
  const base = baseOf(t.flags);
  const jiffies = ctx.virtual ? refreshJiffies() : null; // the real wheel reads jiffies natively
  if (isPending(t) && !(options & MOD_TIMER_NOTPENDING)) {
    // __mod_timer's first checks read timer->expires: the caller's field (it
    // may have been written since the timer was queued), not the wheel's copy.
    const diff = BigInt.asIntN(64, t.expires - expires);
    if (diff === 0n || (options & MOD_TIMER_REDUCE && diff <= 0n)) return 1;
    options |= MOD_TIMER_CHECKED;
  }
  if (t._bidx >= 0 && !(options & MOD_TIMER_NOTPENDING)) {
    // Collected in this pass, not run yet.
    const rb = ctx.w.mod(-1, base, expires, jiffies, options | MOD_TIMER_BATCHED, t._bidx);
    t.expires = expires;
    const slot = modSlot(rb);
    if (slot >= 0) {
      // Moved to another bucket: out of this pass, into the wheel.
      t._bidx = -1;
      t._slot = slot;
      t._ctx = ctx;
      ctx.armed[slot] = t;
      if (countsForRef(t)) refDelta(1);
      if (rb & 2 && base !== BASE_DEF && !ctx.virtual) rearm();
    }
    return 1;
  }
  const r = ctx.w.mod(t._slot, base, expires, jiffies, options);
  const ret = (r & 1) as 0 | 1;
  const lowered = r & 2;
  const slot = modSlot(r);
  if (Math.floor(r / 4) & 1) t.expires = expires; // the "updated" bit
  if (slot !== t._slot) {
    const refdBefore = countsForRef(t);
    if (t._slot >= 0) ctx.armed[t._slot] = undefined;
    t._slot = slot;
    t._ctx = slot >= 0 ? ctx : null;
    if (slot >= 0) ctx.armed[slot] = t;
    const refdAfter = countsForRef(t);
    if (refdBefore !== refdAfter) refDelta(refdAfter ? 1 : -1);
  }
  if (lowered && base !== BASE_DEF && !ctx.virtual) rearm();
  return (ret | moved) as 0 | 1;
}

/**
 * `mod_timer(timer, expires)` — modify a timer's timeout; starts it if inactive.
 *
 * Context: any, including the timer's own callback.
 * Return: 0 when the timer was inactive (now started) or shut down; 1 when it
 * was pending (re-queued, or left in its bucket when the new expiry maps to the
 * same bucket or is unchanged).
 *
 * @param timer - a set-up timer_list.
 * @param expires - the new absolute expiry in jiffies (e.g. `jiffies + msecs_to_jiffies(100)`).
 */
export function mod_timer(timer: timer_list, expires: bigint): 0 | 1 {
  const t = setupArg(timer);
  return modTimer(t, jiffiesArg(expires, 'expires'), 0);
}

/**
 * `mod_timer_pending(timer, expires)` — as {@link mod_timer}, but never starts an inactive timer.
 *
 * Context: any, including the timer's own callback.
 * Return: 0 when the timer was inactive (left so) or shut down; 1 when it was pending (modified).
 * @param timer - a set-up timer_list.
 * @param expires - the new absolute expiry in jiffies.
 */
export function mod_timer_pending(timer: timer_list, expires: bigint): 0 | 1 {
  const t = setupArg(timer);
  return modTimer(t, jiffiesArg(expires, 'expires'), MOD_TIMER_PENDING_ONLY);
}

/**
 * `timer_reduce(timer, expires)` — move a pending timer earlier, never later;
 * starts an inactive one.
 *
 * Context: any, including the timer's own callback.
 * Return: 0 when the timer was inactive (now started) or shut down; 1 when it
 * was pending (modified only if `expires` is earlier).
 * @param timer - a set-up timer_list.
 * @param expires - the candidate absolute expiry in jiffies.
 */
export function timer_reduce(timer: timer_list, expires: bigint): 0 | 1 {
  const t = setupArg(timer);
  return modTimer(t, jiffiesArg(expires, 'expires'), MOD_TIMER_REDUCE);
}

/**
 * `add_timer(timer)` — start a timer at `timer.expires`. A pending timer is left
 * unchanged with a warning (the kernel's WARN_ON_ONCE); a shut-down one is ignored.
 *
 * Context: any, including the timer's own callback.
 * @param timer - a set-up, idle timer_list whose `expires` is set.
 */
export function add_timer(timer: timer_list): void {
  const t = setupArg(timer);
  const expires = jiffiesArg(t.expires, 'timer.expires');
  if (isPending(t)) {
    kwarn('KTIMERS_WARN_ADD_PENDING', 'add_timer() on a pending timer: ignored', true);
    return;
  }
  modTimer(t, expires, MOD_TIMER_NOTPENDING);
}

/**
 * `add_timer_local(timer)` — set TIMER_PINNED, then {@link add_timer} (6.8+).
 *
 * Context: any.
 * @param timer - a set-up, idle timer_list.
 */
export function add_timer_local(timer: timer_list): void {
  const t = setupArg(timer);
  jiffiesArg(t.expires, 'timer.expires'); // before touching flags: a rejected call changes nothing
  if (isPending(t)) return add_timer(t);
  t.flags |= TIMER_PINNED;
  add_timer(t);
}

/**
 * `add_timer_global(timer)` — clear TIMER_PINNED, then {@link add_timer} (6.8+).
 *
 * Context: any.
 * @param timer - a set-up, idle timer_list.
 */
export function add_timer_global(timer: timer_list): void {
  const t = setupArg(timer);
  jiffiesArg(t.expires, 'timer.expires');
  if (isPending(t)) return add_timer(t);
  t.flags &= ~TIMER_PINNED;
  add_timer(t);
}

/**
 * `add_timer_on(timer, cpu)` — start a timer pinned to `cpu`.
 *
 * Context: any, but not from the timer's own callback in the kernel (it
 * migrates the timer); harmless here.
 * @param timer - a set-up, idle timer_list.
 * @param cpu - the CPU: ktimers has one, 0 (anything else is ERR_KTIMERS_INVALID_CPU).
 */
export function add_timer_on(timer: timer_list, cpu: number): void {
  const t = setupArg(timer);
  if (cpu !== 0) {
    throw rangeError('ERR_KTIMERS_INVALID_CPU', `add_timer_on(): cpu must be 0 (ktimers runs timers on one CPU), got ${describe(cpu)}`);
  }
  jiffiesArg(t.expires, 'timer.expires');
  if (isPending(t)) return add_timer(t);
  t.flags |= TIMER_PINNED;
  add_timer(t);
}

/**
 * `timer_pending(timer)` — is the timer queued?
 *
 * Context: any.
 * Return: 1 while queued, else 0 (0 inside its own callback: the wheel
 * unlinked it before calling it).
 * @param timer - the timer_list.
 */
export function timer_pending(timer: timer_list): 0 | 1 {
  return isPending(timerArg(timer)) ? 1 : 0;
}

function detach(t: timer_list): 0 | 1 {
  if (t._bidx >= 0) {
    t._bidx = -1; // collected in this pass: it simply will not run
    t._ctx = null;
    return 1;
  }
  checkOwnSlot(t);
  const ctx = t._ctx;
  if (t._slot < 0 || ctx === null) return 0;
  const refd = countsForRef(t);
  ctx.w.del(t._slot);
  ctx.armed[t._slot] = undefined;
  t._slot = -1;
  t._ctx = null;
  if (refd) refDelta(-1);
  return 1;
}

/**
 * `timer_delete(timer)` (old `del_timer`) — deactivate a timer. Does not wait
 * for a running callback and does not prevent re-arming.
 *
 * Context: any.
 * Return: 0 when it was not pending, 1 when it was pending and is removed.
 * @param timer - the timer_list.
 */
export function timer_delete(timer: timer_list): 0 | 1 {
  return detach(timerArg(timer));
}

function refuseSelfSync(t: timer_list, what: string): void {
  if (t._running) {
    throw new KtimersError(
      'ERR_KTIMERS_DEADLOCK',
      `${what}() called from the timer's own callback: the kernel would wait forever for the callback to finish`,
    );
  }
  // The kernel WARNs on a sync delete from hard IRQ (an hrtimer callback here)
  // unless the timer is TIMER_IRQSAFE: the callback's CPU could be the one waiting.
  if (irq.hard > 0 && !(t.flags & TIMER_IRQSAFE)) {
    kwarn('KTIMERS_WARN_SYNC_IN_HARDIRQ', `${what}() from hard IRQ context on a timer without TIMER_IRQSAFE`, true);
  }
}

/**
 * `timer_delete_sync(timer)` (old `del_timer_sync`) — delete and wait for the
 * callback. Synchronous here (callbacks run on this thread).
 *
 * Context: not the timer's own callback (throws ERR_KTIMERS_DEADLOCK).
 * Return: 0 when it was not pending, 1 when it was pending.
 * @param timer - the timer_list.
 */
export function timer_delete_sync(timer: timer_list): 0 | 1 {
  const t = timerArg(timer);
  refuseSelfSync(t, 'timer_delete_sync');
  return detach(t);
}

/**
 * `timer_delete_sync_try(timer)` (old `try_to_del_timer_sync`) — one non-blocking attempt.
 *
 * Context: any.
 * Return: -1 when the callback is running (nothing removed), else as {@link timer_delete}.
 * @param timer - the timer_list.
 */
export function timer_delete_sync_try(timer: timer_list): -1 | 0 | 1 {
  const t = timerArg(timer);
  if (t._running) return -1;
  return detach(t);
}

/**
 * `timer_shutdown(timer)` — delete and make every later arm a silent no-op,
 * until {@link timer_setup} again. Does not wait for a running callback.
 *
 * Context: any.
 * Return: 0 when it was not pending, 1 when it was pending.
 * @param timer - the timer_list.
 */
export function timer_shutdown(timer: timer_list): 0 | 1 {
  const t = timerArg(timer);
  const r = detach(t);
  t.function = null;
  return r;
}

/**
 * `timer_shutdown_sync(timer)` — {@link timer_shutdown} that also waits for the callback.
 *
 * Context: not the timer's own callback (throws ERR_KTIMERS_DEADLOCK).
 * Return: 0 when it was not pending, 1 when it was pending.
 * @param timer - the timer_list.
 */
export function timer_shutdown_sync(timer: timer_list): 0 | 1 {
  const t = timerArg(timer);
  refuseSelfSync(t, 'timer_shutdown_sync');
  return timer_shutdown(t);
}

/** Old name of {@link timer_delete} (removed from the kernel in 6.15), kept for older code. */
export const del_timer = timer_delete;
/** Old name of {@link timer_delete_sync} (removed from the kernel in 6.15), kept for older code. */
export const del_timer_sync = timer_delete_sync;
/** Old name of {@link timer_delete_sync_try} (renamed in 6.16), kept for older code. */
export const try_to_del_timer_sync = timer_delete_sync_try;

/** @internal wheel introspection for tests */
export function wheelInfo(t: timer_list): { idx: number; level: number } | null {
  if (t._slot < 0 || t._ctx === null) return null;
  const i = t._ctx.w.info(t._slot);
  return i === null ? null : { idx: i[0], level: i[1] };
}

/** @internal */
export function wheelState(base = BASE_GLOBAL) {
  return currentCtx().w.state(base);
}
