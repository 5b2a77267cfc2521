/**
 * timer_list: the kernel's jiffies timers on the non-cascading wheel.
 *
 * The wheel itself is lib/internal/wheel.ts (levels, buckets, pending bitmap,
 * clk and next_expiry exactly as kernel/time/timer.c, on typed arrays). This
 * file is the kernel API on top of it and the NO_HZ driver:
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
} from './hrtimer/index.js';
import { native } from './binding.js';
import { disarm, timerFields } from './internal/engine.js';
import { reportError, virt } from './internal/virtual.js';
import { enterIrq, exitIrq, irq } from './internal/irq.js';
import { functionArg } from './internal/validate.js';
import { HZ, INITIAL_JIFFIES, jiffiesArg, jiffiesAtNs, jiffyStartNs, refreshJiffies, TICK_NSEC } from './jiffies.js';
import { MAX_SAFE_JIFFIES, Wheel } from './internal/wheel.js';
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

/**
 * A timer_list callback: receives the timer (your subclass instance, if any).
 * It runs in softirq context on the JS thread and may re-arm the timer with
 * {@link mod_timer}; it cannot be async.
 */
export type TimerCallback<T extends timer_list = timer_list> = (timer: T) => void;

// A timer's private state word, `#st`: (slot + 1) << ST_SHIFT | bits. Private,
// so no user write can point a timer at another timer's slot, and one Smi
// instead of five fields keeps a pending timer small (the wheel benchmark
// counts bytes per timer). The accessors are closures made inside the class
// body, where `#st` is in scope; V8 inlines them.
const ST_SETUP = 1; // timer_setup() was called
const ST_RUNNING = 2; // its callback is running
const ST_UNREF = 4; // unref()'d: does not keep the process alive
const ST_VIRTUAL = 8; // its slot is in the virtual wheel (else the real one)
const ST_BITS = ST_SETUP | ST_RUNNING | ST_UNREF | ST_VIRTUAL;
const ST_SHIFT = 4;
const ST_ONE = 1 << ST_SHIFT; // slot + 1 = 1

let stOf: (t: timer_list) => number;
let setSt: (t: timer_list, v: number) => void;
let isTimerList: (o: unknown) => o is timer_list;

/** The timer's slot in its wheel, or -1 when not pending. */
const slotOf = (st: number): number => (st >>> ST_SHIFT) - 1;

// `timer.expires` is stored, when it can be, as a small integer: its offset
// from the jiffy this module loaded at, if within ±2^30 jiffies (±12 days at
// HZ=1000, ±124 days at HZ=100). V8 keeps such a value inside the object (a
// Smi), where a bigint is a separate 24-byte allocation per timer — the
// largest item in a pending timer's memory after the object itself. Any other
// value (a far or wrapped expiry, or whatever a caller wrote there) is kept
// as given, so the field is only ever a Smi or not a number at all (a double
// there would make V8 box every timer's field). Reading `expires` rebuilds
// the bigint: an allocation per read, which only user code does.
const EXP_BASE = refreshJiffies();
const EXP_BASE_N = Number(EXP_BASE);
const EXP_LIM = 2 ** 30;
const EXP_LO = EXP_BASE - BigInt(EXP_LIM);
const EXP_HI = EXP_BASE + BigInt(EXP_LIM);

/** The stored form of a validated expiry whose `Number()` is `num` (NaN beyond 2^53). */
function encodeExpires(expires: bigint | number, num: number): unknown {
  const off = num - EXP_BASE_N;
  if (off > -EXP_LIM && off < EXP_LIM) return off;
  return typeof expires === 'number' ? BigInt(expires) : expires;
}

/** A non-bigint written to `timer.expires`, kept for add_timer() to refuse (a number there would read as an offset). */
class RawExpires {
  constructor(readonly value: unknown) {}
}

/** A jiffies value given as a number: a non-negative safe integer. */
const isJiffiesNumber = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The stored form of anything written to `timer.expires` (a valid number is kept as its bigint). */
function encodeAny(v: unknown): unknown {
  if (isJiffiesNumber(v)) return encodeExpires(v, v);
  if (typeof v !== 'bigint') return new RawExpires(v);
  return v > EXP_LO && v < EXP_HI ? Number(v - EXP_BASE) : v;
}

let expOf: (t: timer_list) => unknown;
let setExp: (t: timer_list, v: unknown) => void;

/**
 * `struct timer_list`. Set up with {@link timer_setup} (or {@link DEFINE_TIMER});
 * `expires` is absolute jiffies (a bigint), writable before {@link add_timer}.
 * Subclass it to embed your own fields: the callback receives the same object.
 */
export class timer_list {
  #exp: unknown = 0n;
  /** The callback; null after timer_shutdown (re-arming is then ignored). */
  function: TimerCallback<any> | null = null;
  /** TIMER_* flags (CPU bits are 0: one CPU). */
  flags = 0;
  #st = 0;

  /**
   * Absolute expiry in jiffies (`unsigned long`): reads as a bigint; a
   * non-negative safe-integer number may be written too (kept as its bigint).
   */
  get expires(): bigint {
    const v = this.#exp;
    if (typeof v === 'number') return BigInt(v) + EXP_BASE;
    return (v instanceof RawExpires ? v.value : v) as bigint;
  }
  set expires(v: bigint | number) {
    // Any value is accepted here, as a C field would be; add_timer() checks it.
    this.#exp = encodeAny(v);
  }

  static {
    expOf = (t) => t.#exp;
    setExp = (t, v) => {
      t.#exp = v;
    };
    stOf = (t) => t.#st;
    setSt = (t, v) => {
      t.#st = v;
    };
    // `#st in o` runs no Proxy trap and cannot be faked by a duck-typed object.
    isTimerList = (o): o is timer_list => typeof o === 'object' && o !== null && #st in o;
  }

  /** @internal */
  static isTimer(o: unknown): o is timer_list {
    return isTimerList(o);
  }

  /** Lets the process exit while this timer is pending. Returns this. */
  unref(): this {
    const st = this.#st;
    if (!(st & ST_UNREF)) {
      if (countsForRef(this, st)) refDelta(-1);
      this.#st = st | ST_UNREF;
    }
    return this;
  }
  /** Makes a pending timer keep the process alive again (the default). Returns this. */
  ref(): this {
    const st = this.#st;
    if (st & ST_UNREF) {
      this.#st = st & ~ST_UNREF;
      if (countsForRef(this, this.#st)) refDelta(1);
    }
    return this;
  }
  /** Whether this timer keeps the process alive while pending. */
  hasRef(): boolean {
    return !(this.#st & ST_UNREF);
  }

  /**
   * How the wheel calls the callback: with the timer. ktimers/legacy overrides
   * it to pass the pre-4.15 `data` instead, so a legacy timer is an ordinary
   * timer_list to everything else here.
   * @internal
   */
  _call(fn: TimerCallback<any>): void {
    fn(this);
  }
}

// --- the driver ------------------------------------------------------------------

let real: Wheel<timer_list> | null = null;
let virtualWheel: Wheel<timer_list> | null = null;
let tick: hrtimer | null = null;
let tickAt = -1; // jiffy the tick is armed for, -1 none
let refCount = 0;

// jiffies of the real clock as a number, cheaply: performance.now() is
// CLOCK_MONOTONIC (libuv's uv_hrtime) since the process's time origin, and
// costs half an N-API clock call. `monoAtZero` maps it back to CLOCK_MONOTONIC;
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
    real = new Wheel<timer_list>(LVL_DEPTH, Number(realJiffies()), realJiffiesNum, true);
    tick = new hrtimer();
    timerFields.markRealOnly(tick); // real-time infrastructure: stays on the real timeline under ktimers/testing
    hrtimer_setup(tick, onTick, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
    tick.unref();
  }
  return real;
}

function wheelOf(st: number): Wheel<timer_list> {
  return st & ST_VIRTUAL ? virtualWheel! : real!;
}

/** Pending in the kernel's sense: in a bucket, or collected and waiting to run. */
function isPending(t: timer_list): boolean {
  return stOf(t) >= ST_ONE;
}

function countsForRef(t: timer_list, st: number): boolean {
  return st >= ST_ONE && !(st & (ST_UNREF | ST_VIRTUAL)) && !(t.flags & TIMER_DEFERRABLE);
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
  virtualWheel = new Wheel<timer_list>(LVL_DEPTH, Number(clk), () => Number(refreshJiffies()), false);
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

// --- argument checks -------------------------------------------------------------

// ktimers' state on a timer_list is private (#st, #exp), which freezing does not
// touch: mod_timer, add_timer, timer_delete*, timer_pending work on a frozen
// timer as on any other (and a frozen pending timer can still be cancelled).
// Only the calls that write the kernel's public fields (`function`, `flags`) —
// timer_setup, add_timer_local/global/on, timer_shutdown* — can fail, when that
// write is refused (a frozen timer, or a field made read-only); they write first
// (writeField), so a refused call changes nothing. An up-front check on every
// call would cost a fifth of a re-arm (Object.isExtensible, ~20 ns).
function timerArg(t: unknown): timer_list {
  if (!timer_list.isTimer(t)) throw typeError('ERR_INVALID_ARG_TYPE', `timer must be a timer_list, got ${describe(t)}`);
  return t;
}

/**
 * May ktimers write the timer's public fields? It must be extensible, with
 * `function` and `flags` still own, writable data fields (a user's
 * defineProperty can make one read-only, or an accessor, on an extensible
 * object). Checked before any effect, so no call is left half done.
 * @internal (also lib/workqueue.ts, for a delayed_work's timer)
 */
export function fieldsWritable(t: timer_list): boolean {
  if (!Object.isExtensible(t)) return false;
  return (
    Reflect.getOwnPropertyDescriptor(t, 'function')?.writable === true &&
    Reflect.getOwnPropertyDescriptor(t, 'flags')?.writable === true
  );
}

/** Writes a public field, or throws a coded TypeError if the write is refused (strict mode throws). */
function writeField(t: timer_list, key: 'function' | 'flags', v: TimerCallback<any> | null | number): void {
  try {
    (t as unknown as Record<string, unknown>)[key] = v;
  } catch {
    throw typeError('ERR_INVALID_ARG_TYPE', `timer.${key} cannot be written (a frozen timer, or a read-only field): this call sets it`);
  }
}

function setupArg(t: unknown): timer_list {
  const timer = timerArg(t);
  if (!(stOf(timer) & ST_SETUP)) throw typeError('ERR_KTIMERS_NOT_SETUP', 'timer_list was never set up: call timer_setup() first');
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
  if (isPending(t) || stOf(t) & ST_RUNNING) {
    throw new KtimersError('ERR_KTIMERS_TIMER_ACTIVE', 'timer_setup() on a pending or running timer would corrupt the wheel');
  }
  if (flags & ~TIMER_INIT_FLAGS) {
    kwarn('KTIMERS_WARN_TIMER_FLAGS', `timer_setup(): flags 0x${((flags & ~TIMER_INIT_FLAGS) >>> 0).toString(16)} are not TIMER_INIT_FLAGS; masked off`, true);
  }
  const old = t.function;
  writeField(t, 'function', fn);
  try {
    writeField(t, 'flags', flags & TIMER_INIT_FLAGS); // | current CPU (0)
  } catch (err) {
    t.function = old; // writable: it was just written
    throw err;
  }
  setSt(t, stOf(t) | ST_SETUP);
}

/**
 * init_timer_key() without a callback, as the pre-4.15 init_timer() was: marks
 * the timer set up with `flags`, leaves `function` as it is. The caller has
 * checked that the fields are writable, so nothing here can fail half-way.
 * @internal (ktimers/legacy)
 */
export function initTimerKey(timer: timer_list, flags: number): void {
  const t = timerArg(timer);
  if (isPending(t) || stOf(t) & ST_RUNNING) {
    throw new KtimersError('ERR_KTIMERS_TIMER_ACTIVE', 'init_timer() on a pending or running timer would corrupt the wheel');
  }
  writeField(t, 'flags', flags & TIMER_INIT_FLAGS);
  setSt(t, stOf(t) | ST_SETUP);
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

/**
 * `expires` of mod_timer & co: a bigint, or a non-negative safe-integer number
 * returned as it is — the hot path stays on numbers (no bigint per call).
 */
function expiresArg(v: unknown): bigint | number {
  if (isJiffiesNumber(v)) return v;
  return jiffiesArg(v, 'expires');
}

function modTimer(t: timer_list, expires: bigint | number, options: number): 0 | 1 {
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
export function mod_timer(timer: timer_list, expires: bigint | number): 0 | 1 {
  const t = setupArg(timer);
  return modTimer(t, expiresArg(expires), 0);
}

/**
 * `mod_timer_pending(timer, expires)` — as {@link mod_timer}, but never starts an inactive timer.
 *
 * Context: any, including the timer's own callback.
 * Return: 0 when the timer was inactive (left so) or shut down; 1 when it was pending (modified).
 * @param timer - a set-up timer_list.
 * @param expires - the new absolute expiry in jiffies.
 */
export function mod_timer_pending(timer: timer_list, expires: bigint | number): 0 | 1 {
  const t = setupArg(timer);
  return modTimer(t, expiresArg(expires), MOD_TIMER_PENDING_ONLY);
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
export function timer_reduce(timer: timer_list, expires: bigint | number): 0 | 1 {
  const t = setupArg(timer);
  return modTimer(t, expiresArg(expires), MOD_TIMER_REDUCE);
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
  writeField(t, 'flags', t.flags | TIMER_PINNED);
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
  writeField(t, 'flags', t.flags & ~TIMER_PINNED);
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
  writeField(t, 'flags', t.flags | TIMER_PINNED);
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
  const st = stOf(t);
  if (st < ST_ONE) return 0;
  const w = wheelOf(st);
  if (countsForRef(t, st)) refDelta(-1);
  w.del(slotOf(st));
  setSt(t, st & (ST_BITS & ~ST_VIRTUAL));
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
  if (stOf(t) & ST_RUNNING) {
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
  if (stOf(t) & ST_RUNNING) return -1;
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
  writeField(t, 'function', null); // first: a refused write leaves the timer as it was
  return detach(t);
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
