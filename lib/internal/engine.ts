/**
 * The hrtimer engine: how a JS timer maps to the native queues, and the expiry pass.
 *
 * HOW and WHY
 * -----------
 * Native side (native/addon.cc, native/hrtimer_queue.h): per environment, 8 clock
 * bases as in the kernel (MONOTONIC, REALTIME, BOOTTIME, TAI; then their SOFT
 * twins), each an indexed min-heap keyed (hard expiry, seq). One timerfd per clock
 * is programmed to the clock's earliest hard expiry. An armed timer is a 32-byte
 * heap entry named by a *slot* number; JS keeps `armed[slot] = timer`, which is
 * also the strong reference that keeps an armed timer alive. A disarmed timer
 * has no native state at all, so a dropped one is ordinary garbage.
 *
 * Costs: start / restart / cancel are one N-API call and an O(log n) sift; the
 * timerfd is re-armed only when the clock's earliest expiry changes. A timer's
 * spin (hrtimer_set_spin_ns) travels with each arm; native code wakes that much
 * early and busy-waits to the expiry (native/addon.cc, "Spin"). The pass below
 * is the same with or without it. Reading a
 * timer's expiry, forward, and the state queries are pure JS.
 *
 * The expiry pass: when a timerfd fires, native code samples each clock once and
 * calls `onWake(dueMask)` once (one crossing for the whole wake-up). Soft bases are
 * due only once a soft base's earliest hard expiry has come (the kernel raises
 * HRTIMER_SOFTIRQ then, not at every interrupt). For each due
 * base, in the kernel's order (hard bases 0..3, then soft bases 4..7), JS calls
 * `collect(base)`, which pops every timer whose soft expiry has passed, in
 * (hard, seq) order, stopping at the first that is not due, into a shared
 * Int32Array. Those timers form the *batch*. They are still "queued" in the
 * kernel's sense until their callback starts: a callback may cancel (→1, and it
 * will not run) or restart a later batch member, exactly as in the kernel where
 * they would still sit in the rb-tree.
 *
 * A timer armed during the pass on the pass's own base (RESTART, or
 * hrtimer_start from a callback) whose soft expiry is already due and whose key
 * sorts before the batch's last pending entry is inserted into the batch in key
 * order; anything else goes to the native heap and is picked up by the next
 * collect() of this pass, or the next wake-up. The result is the kernel's order:
 * always the leftmost due timer next.
 *
 * The pass is one JS call inside MakeCallback, so microtasks and nextTicks run
 * after the whole pass (task context runs after the interrupt returns). An
 * exception from a callback does not unwind the pass: the timer is treated as
 * NORESTART, the pass completes, and the error is rethrown from process.nextTick,
 * where it reaches 'uncaughtException' as an error in a Node timer would.
 */
import { native } from '../binding.js';
import { addSafe } from './arith.js';
import { enterIrq, exitIrq } from './irq.js';
import { clockNs, reportError, virt } from './virtual.js';
import { refreshJiffies } from './jiffies-clock.js';
import { KtimersError, typeError, unwritable } from '../errors.js';

/** The fields of an hrtimer the engine owns (see lib/hrtimer.ts). */
export interface TimerState {
  function: ((timer: any) => unknown) | null;
  /** 0..7: clock base index (clock + 4 for SOFT). -1 before setup. */
  _base: number;
  /** native base of the queued instance: _base, or _base + 8 on the virtual timeline */
  _nbase: number;
  /** ktimers' own real-time infrastructure (the wheel's tick): never virtual */
  _realOnly: boolean;
  _soft: bigint;
  _hard: bigint;
  /** native slot while in the native heap, else -1 */
  _slot: number;
  /** in the native heap or in the current batch, waiting to run */
  _queued: boolean;
  /** callback executing */
  _running: boolean;
  _seq: number;
  _refd: boolean;
  /** hybrid wake-up: ns to wake early and busy-wait (0: none); real clocks only */
  _spin: number;
  /** bookkeeping for RESTART-loop detection */
  _passId: number;
  _passRuns: number;
}

interface BatchEntry {
  t: TimerState;
  hard: bigint;
  seq: number;
}

const HRTIMER_RESTART = 1;
/**
 * A timer re-run this many times within one expiry pass (its callback returned
 * RESTART with an expiry still in the past) is stopped with an error: in the
 * kernel this is an interrupt-handler livelock. 1000 leaves room for deliberate
 * catch-up loops and still stops a runaway within about a millisecond.
 */
export const RESTART_LOOP_LIMIT = 1000;

let shared: { collect: Int32Array; io: BigInt64Array } | null = null;
const armed: (TimerState | undefined)[] = [];
let seqCounter = 0;

// Pass state (valid while dispatching).
let dispatching = false;
let passBase = -1;
let passNow = 0n;
let passId = 0;
let batch: BatchEntry[] = [];
let batchPos = 0;

function engine(): { collect: Int32Array; io: BigInt64Array } {
  if (shared === null) shared = native.init(onWake);
  return shared;
}

function keyLess(hA: bigint, sA: number, hB: bigint, sB: number): boolean {
  return hA < hB || (hA === hB && sA < sB);
}

function setSlot(t: TimerState, slot: number): void {
  t._slot = slot;
  armed[slot] = t;
}

/**
 * The native slot of `t`, trusted only if it maps back to `t`: the fields are
 * plain properties, and a forged `_slot` must never reach another timer's entry.
 */
function ownSlot(t: TimerState): number {
  const slot = t._slot;
  return slot >= 0 && armed[slot] === t ? slot : -1;
}

function dropFromNative(t: TimerState): void {
  const slot = ownSlot(t);
  t._slot = -1;
  if (slot >= 0) {
    native.cancel(slot);
    armed[slot] = undefined;
    t._slot = -1;
  }
}

/** Arms `t` at absolute (soft, hard) expiries (restart semantics). */
export function armAbs(t: TimerState, soft: bigint, hard: bigint): void {
  const seq = ++seqCounter;
  const nbase = virt.active && !t._realOnly ? t._base + 8 : t._base;
  if (dispatching && nbase === passBase && batchPos < batch.length) {
    const last = batch[batch.length - 1]!;
    if (keyLess(hard, seq, last.hard, last.seq)) {
      // It sorts before pending entries of this pass: find its place.
      let lo = batchPos;
      let hi = batch.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const e = batch[mid]!;
        if (keyLess(e.hard, e.seq, hard, seq)) lo = mid + 1;
        else hi = mid;
      }
      if (soft <= passNow) {
        dropFromNative(t);
        markQueued(t, nbase, soft, hard, seq);
        batch.splice(lo, 0, { t, hard, seq });
        return;
      }
      // Not due yet: in the kernel it becomes the leftmost timer once the
      // entries before it have run, and the pass stops there. The entries
      // after it go back to the queue (with their own arming order) and wait
      // for the next pass.
      for (let i = lo; i < batch.length; i++) {
        const e = batch[i]!;
        if (e.t._queued && e.t._slot === -1 && e.t._seq === e.seq) requeue(e.t, e.seq);
      }
      batch.length = lo;
    }
  }
  engine();
  armNative(t, nbase, soft, hard, false, seq);
  markQueued(t, nbase, soft, hard, seq);
}

/**
 * (Re)arms `t` in native base `nbase` (native.start's a/b/rel arguments),
 * releasing its old slot, if any, and recording the new one.
 */
function armNative(t: TimerState, nbase: number, a: bigint, b: bigint, rel: boolean, seq: number): void {
  const old = ownSlot(t);
  // Virtual timers never keep the process alive (the test drives them) and
  // never spin (virtual time does not move while a thread busy-waits).
  const real = nbase < 8;
  const slot = native.start(old, nbase, a, b, rel, seq, t._refd && real, real ? t._spin : 0);
  if (old >= 0) armed[old] = undefined;
  setSlot(t, slot);
}

function markQueued(t: TimerState, nbase: number, soft: bigint, hard: bigint, seq: number): void {
  t._nbase = nbase;
  t._soft = soft;
  t._hard = hard;
  t._seq = seq;
  t._queued = true;
}

/** Puts a collected, not yet run timer back in its native queue, keeping its arming order. */
function requeue(t: TimerState, seq: number): void {
  armNative(t, t._nbase, t._soft, t._hard, false, seq);
}

/** Arms `t` relative to its clock's current time: soft = tim + now, hard = soft + range (both ktime_add_safe). */
export function armRel(t: TimerState, tim: bigint, range: bigint): void {
  if ((virt.active && !t._realOnly) || (dispatching && t._base === passBase)) {
    // Virtual time, or the JS-side batch decision: compute absolute times here.
    const now = clockNs(t._base & 3);
    const soft = addSafe(tim, now);
    armAbs(t, soft, addSafe(soft, range));
    return;
  }
  const io = engine().io;
  const seq = ++seqCounter;
  armNative(t, t._base, tim, range, true, seq); // native adds now; soft, hard come back in io[4], io[5]
  markQueued(t, t._base, io[4]!, io[5]!, seq);
}

/** Removes a queued timer (native heap or batch). Returns whether it was queued. */
export function disarm(t: TimerState): boolean {
  if (!t._queued) return false;
  dropFromNative(t);
  t._queued = false; // a batch entry of it is now stale and will be skipped
  return true;
}

export function setRef(t: TimerState, refd: boolean): void {
  if (t._refd === refd) return;
  t._refd = refd;
  const slot = ownSlot(t);
  if (slot >= 0 && t._nbase < 8) native.setRef(slot, refd);
}

/** The loop watch of this environment (native/loop_watch.cc); needs the engine initialised. */
export function loopWatch(thresholdNs: number): void {
  engine();
  native.loopWatch(thresholdNs);
}
/** What the loop watch recorded since the last read (layout: lib/binding.ts). */
export function loopWatchRead(): Float64Array {
  engine();
  return native.loopWatchRead();
}

export function clockNow(base: number): bigint {
  return clockNs(base & 3);
}

export function engineState() {
  return native.state();
}

/**
 * Counts a re-run of `t` within the current pass; true (and the timer stopped,
 * the error reported) once it reaches RESTART_LOOP_LIMIT. @param how - what re-armed it
 */
function passLivelock(t: TimerState, how: string): boolean {
  if (t._passId !== passId) {
    t._passId = passId;
    t._passRuns = 0;
  }
  if (++t._passRuns < RESTART_LOOP_LIMIT) return false;
  reportError(
    new KtimersError(
      'ERR_KTIMERS_RESTART_LOOP',
      `hrtimer callback ${t.function!.name || '(anonymous)'} ${how} ${RESTART_LOOP_LIMIT} ` +
        'times in one expiry pass without moving its expiry past now (use hrtimer_forward_now); ' +
        'the kernel would livelock here, ktimers stops the timer',
    ),
  );
  return true;
}

function runOne(t: TimerState): void {
  t._queued = false;
  t._running = true;
  let ret: unknown;
  try {
    ret = t.function!(t);
  } catch (err) {
    ret = 0;
    reportError(err);
  } finally {
    t._running = false;
  }
  if (t._queued) {
    // Restarted from inside its callback (hrtimer_start on itself): at or
    // before now, it is collected again in this pass — the same livelock as
    // RESTART without hrtimer_forward, stopped the same way.
    if (t._soft <= passNow && passLivelock(t, 're-armed itself (hrtimer_start) at or before now')) disarm(t);
  } else if (ret === HRTIMER_RESTART) {
    if (t._soft <= passNow && passLivelock(t, 'returned HRTIMER_RESTART')) return;
    armAbs(t, t._soft, t._hard);
  }
  if (ret !== 0 && ret !== HRTIMER_RESTART && ret !== undefined) {
    reportError(
      typeError(
        'ERR_KTIMERS_INVALID_RESTART',
        `hrtimer callback ${t.function!.name || '(anonymous)'} returned ${
          ret instanceof Promise ? 'a Promise (callbacks run in interrupt context and cannot be async)' : String(ret)
        }; expected HRTIMER_RESTART or HRTIMER_NORESTART. Treated as HRTIMER_NORESTART.`,
      ),
    );
  }
}

function runBase(base: number, buf: Int32Array, io: BigInt64Array): void {
  passBase = base;
  passNow = io[(base & 3) + (base >= 8 ? 8 : 0)]!;
  const soft = (base & 4) !== 0;
  enterIrq(soft);
  try {
    for (;;) {
      const n = native.collect(base);
      if (n === 0) break;
      // Resolve every slot before any callback runs: collect() freed them and a
      // callback's start() may reuse one.
      const b: BatchEntry[] = new Array(n);
      let m = 0;
      for (let i = 0; i < n; i++) {
        const slot = buf[i]!;
        const t = armed[slot]!;
        armed[slot] = undefined;
        try {
          t._slot = -1;
          b[m++] = { t, hard: t._hard, seq: t._seq };
        } catch (err) {
          // Frozen (or its fields made read-only) while armed: it cannot run,
          // but the rest of the batch must.
          reportError(unwritable(err));
        }
      }
      b.length = m;
      batch = b;
      batchPos = 0;
      while (batchPos < batch.length) {
        const e = batch[batchPos++]!;
        const t = e.t;
        if (!t._queued || t._slot !== -1 || t._seq !== e.seq) continue; // cancelled or re-armed
        try {
          runOne(t);
        } catch (err) {
          // Only the bookkeeping around the callback can get here (runOne
          // catches the callback's own errors): a timer frozen by its callback.
          reportError(unwritable(err));
        }
      }
    }
  } finally {
    exitIrq(soft);
    batch = [];
    batchPos = 0;
  }
}

function onWake(dueMask: number): void {
  const { collect: buf, io } = shared!;
  refreshJiffies(); // `jiffies` is current inside every callback, as in the kernel
  dispatching = true;
  passId++;
  try {
    for (let base = 0; base < 8; base++) {
      if (dueMask & (1 << base)) runBase(base, buf, io);
    }
  } finally {
    dispatching = false;
    passBase = -1;
  }
}

/**
 * One expiry pass of the virtual bases at virtual time `now` (monotonic ns):
 * `soft` false runs the hard bases (hard IRQ), true the SOFT ones (softirq).
 * Returns whether any base had timers. @internal (ktimers/testing)
 */
export function runVirtualPass(soft: boolean): void {
  const { collect: buf, io } = engine();
  refreshJiffies();
  for (let c = 0; c < 4; c++) io[8 + c] = virt.now + virt.offset[c]!;
  if (soft && !softirqRaised(io)) return;
  dispatching = true;
  passId++;
  try {
    for (let base = soft ? 12 : 8; base < (soft ? 16 : 12); base++) runBase(base, buf, io);
  } finally {
    dispatching = false;
    passBase = -1;
  }
}

/**
 * The kernel raises HRTIMER_SOFTIRQ only once a SOFT base's earliest *hard*
 * expiry has come (softirq_expires_next): soft range timers coalesce with other
 * soft expiries, not with hard ones.
 */
function softirqRaised(io: BigInt64Array): boolean {
  for (let base = 12; base < 16; base++) {
    const h = native.peek(base);
    if (h !== null && h <= io[8 + (base & 3)]!) return true;
  }
  return false;
}

/** Earliest hard expiry over the virtual bases, as virtual monotonic ns, or null. @internal */
export function nextVirtualEvent(): bigint | null {
  if (shared === null) return null;
  let best: bigint | null = null;
  for (let base = 8; base < 16; base++) {
    const h = native.peek(base);
    if (h === null) continue;
    const mono = h - virt.offset[base & 3]!; // compare on the monotonic timeline
    if (best === null || mono < best) best = mono;
  }
  return best;
}

/** Cancels every timer armed on the virtual timeline. @internal */
export function cancelVirtual(): number {
  let n = 0;
  for (let slot = 0; slot < armed.length; slot++) {
    const t = armed[slot];
    if (t !== undefined && t._nbase >= 8) {
      disarm(t);
      n++;
    }
  }
  return n;
}
