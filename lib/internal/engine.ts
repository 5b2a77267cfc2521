/**
 * The hrtimer engine: how a JS timer maps to the native queues, and the expiry pass.
 *
 * HOW and WHY
 * -----------
 * Native side (native/addon.cc, native/hrtimer_queue.h): per environment, 16 clock
 * bases: the kernel's 8 (MONOTONIC, REALTIME, BOOTTIME, TAI; then their SOFT
 * twins) and the same 8 again for the virtual timeline of ktimers/testing (8..15),
 * each an indexed min-heap keyed (hard expiry, seq). One timerfd per clock
 * is programmed to the clock's earliest real hard expiry. An armed timer is a
 * heap entry named by a *slot* number; JS keeps `armed[slot] = timer`, which is
 * also the strong reference that keeps an armed timer alive. A disarmed timer
 * has no native state at all, so a dropped one is ordinary garbage. A timer's
 * fields are private to TimerCore (below), the base class of `hrtimer`.
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

/** What the engine calls on a timer: `hrtimer`'s public callback, with the timer. */
interface Callable {
  function: ((timer: any) => unknown) | null;
}

interface BatchEntry {
  t: TimerCore;
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
const armed: (TimerCore | undefined)[] = [];
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

/**
 * Whether the user froze the hrtimer object. Its fields are private and freezing
 * cannot touch them; a frozen timer is dropped anyway, as every hrtimer call
 * refuses one (lib/hrtimer/hrtimer.ts, timerArg): the same rule from arming to expiry.
 */
function frozen(o: object): boolean {
  return !Object.isExtensible(o) && Object.isFrozen(o);
}

/** What reportError() receives for a frozen timer: ERR_KTIMERS_TIMER_FROZEN, its cause a TypeError. */
function frozenError(): KtimersError {
  return unwritable(typeError('ERR_INVALID_ARG_TYPE', 'the hrtimer was frozen while armed'));
}

/** The name of a timer's callback, for error messages. */
function timerName(t: TimerCore): string {
  return (t as unknown as Callable).function?.name || '(anonymous)';
}

/** Whether `o` is a timer (an `hrtimer`): the brand check every hrtimer call starts with. */
export let isTimerCore: (o: unknown) => o is TimerCore;

/** Reads and writes of a timer's fields for the hrtimer API (lib/hrtimer/); set by TimerCore's static block. */
export let timerFields: {
  base(t: TimerCore): number;
  clockid(t: TimerCore): number;
  /** hrtimer_setup(): the clock base, its CLOCK_* id, and both expiries cleared */
  setup(t: TimerCore, base: number, clockid: number): void;
  soft(t: TimerCore): bigint;
  hard(t: TimerCore): bigint;
  setExpires(t: TimerCore, soft: bigint, hard: bigint): void;
  queued(t: TimerCore): boolean;
  running(t: TimerCore): boolean;
  spin(t: TimerCore): number;
  setSpin(t: TimerCore, spin: number): void;
  refd(t: TimerCore): boolean;
  /** the native slot while in the native heap, else -1 (for tests of the binding) */
  slot(t: TimerCore): number;
  /** ktimers' own real-time infrastructure (the NO_HZ tick of lib/timer/driver.ts): never on the virtual timeline */
  markRealOnly(t: TimerCore): void;
};

let engineOps: {
  armAbs(t: TimerCore, soft: bigint, hard: bigint): void;
  armRel(t: TimerCore, tim: bigint, range: bigint): void;
  disarm(t: TimerCore): boolean;
  setRef(t: TimerCore, refd: boolean): void;
  runBase(base: number, buf: Int32Array, io: BigInt64Array): void;
  cancelVirtual(): number;
};

/**
 * The kernel's fields of `struct hrtimer`, and ktimers' own (the native slot,
 * the spin), as private fields of every timer: `hrtimer` (lib/hrtimer/hrtimer.ts)
 * extends this class. As timer_list does (lib/timer/timer-list.ts), only code inside the
 * class body can reach them: the functions of the engine that work on a timer's
 * fields are defined in its static block and handed out through the `let`s
 * above, so no user code can read or forge a field, and every slot the engine
 * is given is the timer's own.
 */
export class TimerCore {
  /** 0..7: clock base index (clock + 4 for SOFT). -1 before setup. */
  #base = -1;
  /** native base of the queued instance: base, or base + 8 on the virtual timeline */
  #nbase = -1;
  /** ktimers' own real-time infrastructure (the wheel's tick): never virtual */
  #realOnly = false;
  #soft = 0n;
  #hard = 0n;
  /** native slot while in the native heap, else -1 */
  #slot = -1;
  /** in the native heap or in the current batch, waiting to run */
  #queued = false;
  /** callback executing */
  #running = false;
  #seq = 0;
  #refd = true;
  /** hybrid wake-up: ns to wake early and busy-wait (0: none); real clocks only */
  #spin = 0;
  /** bookkeeping for RESTART-loop detection */
  #passId = 0;
  #passRuns = 0;
  /** the CLOCK_* id of the timer's clock, -1 before setup */
  #clockid = -1;

  static {
    function setSlot(t: TimerCore, slot: number): void {
      t.#slot = slot;
      armed[slot] = t;
    }

    function dropFromNative(t: TimerCore): void {
      const slot = t.#slot;
      if (slot >= 0) {
        native.cancel(slot);
        armed[slot] = undefined;
        t.#slot = -1;
      }
    }

    /** Arms `t` at absolute (soft, hard) expiries (restart semantics). */
    function armAbs(t: TimerCore, soft: bigint, hard: bigint): void {
      const seq = ++seqCounter;
      const nbase = virt.active && !t.#realOnly ? t.#base + 8 : t.#base;
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
            if (e.t.#queued && e.t.#slot === -1 && e.t.#seq === e.seq) requeue(e.t, e.seq);
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
    function armNative(t: TimerCore, nbase: number, a: bigint, b: bigint, rel: boolean, seq: number): void {
      const old = t.#slot;
      // Virtual timers never keep the process alive (the test drives them) and
      // never spin (virtual time does not move while a thread busy-waits).
      const real = nbase < 8;
      const slot = native.start(old, nbase, a, b, rel, seq, t.#refd && real, real ? t.#spin : 0);
      if (old >= 0) armed[old] = undefined;
      setSlot(t, slot);
    }

    function markQueued(t: TimerCore, nbase: number, soft: bigint, hard: bigint, seq: number): void {
      t.#nbase = nbase;
      t.#soft = soft;
      t.#hard = hard;
      t.#seq = seq;
      t.#queued = true;
    }

    /** Puts a collected, not yet run timer back in its native queue, keeping its arming order. */
    function requeue(t: TimerCore, seq: number): void {
      armNative(t, t.#nbase, t.#soft, t.#hard, false, seq);
    }

    /** Arms `t` relative to its clock's current time: soft = tim + now, hard = soft + range (both ktime_add_safe). */
    function armRel(t: TimerCore, tim: bigint, range: bigint): void {
      if ((virt.active && !t.#realOnly) || (dispatching && t.#base === passBase)) {
        // Virtual time, or the JS-side batch decision: compute absolute times here.
        const now = clockNs(t.#base & 3);
        const soft = addSafe(tim, now);
        armAbs(t, soft, addSafe(soft, range));
        return;
      }
      const io = engine().io;
      const seq = ++seqCounter;
      armNative(t, t.#base, tim, range, true, seq); // native adds now; soft, hard come back in io[4], io[5]
      markQueued(t, t.#base, io[4]!, io[5]!, seq);
    }

    /** Removes a queued timer (native heap or batch). Returns whether it was queued. */
    function disarm(t: TimerCore): boolean {
      if (!t.#queued) return false;
      dropFromNative(t);
      t.#queued = false; // a batch entry of it is now stale and will be skipped
      return true;
    }

    function setRef(t: TimerCore, refd: boolean): void {
      if (t.#refd === refd) return;
      t.#refd = refd;
      if (t.#slot >= 0 && t.#nbase < 8) native.setRef(t.#slot, refd);
    }

    /**
     * Counts a re-run of `t` within the current pass; true (and the timer stopped,
     * the error reported) once it reaches RESTART_LOOP_LIMIT. @param how - what re-armed it
     */
    function passLivelock(t: TimerCore, how: string): boolean {
      if (t.#passId !== passId) {
        t.#passId = passId;
        t.#passRuns = 0;
      }
      if (++t.#passRuns < RESTART_LOOP_LIMIT) return false;
      reportError(
        new KtimersError(
          'ERR_KTIMERS_RESTART_LOOP',
          `hrtimer callback ${timerName(t) || '(anonymous)'} ${how} ${RESTART_LOOP_LIMIT} ` +
            'times in one expiry pass without moving its expiry past now (use hrtimer_forward_now); ' +
            'the kernel would livelock here, ktimers stops the timer',
        ),
      );
      return true;
    }

    function runOne(t: TimerCore): void {
      t.#queued = false;
      const timer = t as unknown as Callable;
      if (frozen(timer)) {
        // Frozen by an earlier callback of this batch: it cannot run, the rest must.
        reportError(frozenError());
        return;
      }
      t.#running = true;
      let ret: unknown;
      try {
        ret = timer.function!(timer);
      } catch (err) {
        ret = 0;
        reportError(err);
      } finally {
        t.#running = false;
      }
      if (frozen(timer)) {
        // Frozen by its own callback: treated as NORESTART, whatever it returned or armed.
        disarm(t);
        reportError(frozenError());
        return;
      }
      if (t.#queued) {
        // Restarted from inside its callback (hrtimer_start on itself): at or
        // before now, it is collected again in this pass — the same livelock as
        // RESTART without hrtimer_forward, stopped the same way.
        if (t.#soft <= passNow && passLivelock(t, 're-armed itself (hrtimer_start) at or before now')) disarm(t);
      } else if (ret === HRTIMER_RESTART) {
        if (t.#soft <= passNow && passLivelock(t, 'returned HRTIMER_RESTART')) return;
        armAbs(t, t.#soft, t.#hard);
      }
      if (ret !== 0 && ret !== HRTIMER_RESTART && ret !== undefined) {
        reportError(
          typeError(
            'ERR_KTIMERS_INVALID_RESTART',
            `hrtimer callback ${timerName(t) || '(anonymous)'} returned ${
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
            t.#slot = -1;
            if (frozen(t)) {
              // Frozen while armed: it cannot run, but the rest of the batch must.
              t.#queued = false;
              reportError(frozenError());
              continue;
            }
            b[m++] = { t, hard: t.#hard, seq: t.#seq };
          }
          b.length = m;
          batch = b;
          batchPos = 0;
          while (batchPos < batch.length) {
            const e = batch[batchPos++]!;
            const t = e.t;
            if (!t.#queued || t.#slot !== -1 || t.#seq !== e.seq) continue; // cancelled or re-armed
            try {
              runOne(t);
            } catch (err) {
              // runOne catches the callback's own errors; whatever else fails around
              // it (a re-arm) must not unwind the pass either.
              reportError(err);
            }
          }
        }
      } finally {
        exitIrq(soft);
        batch = [];
        batchPos = 0;
      }
    }

    /** Cancels every timer armed on the virtual timeline. @internal */
    function cancelVirtual(): number {
      let n = 0;
      for (let slot = 0; slot < armed.length; slot++) {
        const t = armed[slot];
        if (t !== undefined && t.#nbase >= 8) {
          disarm(t);
          n++;
        }
      }
      return n;
    }

    // `#base in o` runs no Proxy trap and cannot be faked by a duck-typed object.
    isTimerCore = (o): o is TimerCore => typeof o === 'object' && o !== null && #base in o;
    timerFields = {
      base: (t) => t.#base,
      clockid: (t) => t.#clockid,
      setup: (t, base, clockid) => {
        t.#base = base;
        t.#clockid = clockid;
        t.#soft = 0n;
        t.#hard = 0n;
      },
      soft: (t) => t.#soft,
      hard: (t) => t.#hard,
      setExpires: (t, soft, hard) => {
        t.#soft = soft;
        t.#hard = hard;
      },
      queued: (t) => t.#queued,
      running: (t) => t.#running,
      spin: (t) => t.#spin,
      setSpin: (t, spin) => {
        t.#spin = spin;
      },
      refd: (t) => t.#refd,
      slot: (t) => t.#slot,
      markRealOnly: (t) => {
        t.#realOnly = true;
      },
    };
    engineOps = { armAbs, armRel, disarm, setRef, runBase, cancelVirtual };
  }
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
/** When the loop woke from its wait for events, if it waited since the loop watch's last prepare (ns), else -1. */
export function loopWokeAt(): number {
  return native.loopWokeAt();
}

export function clockNow(base: number): bigint {
  return clockNs(base & 3);
}

export function engineState() {
  return native.state();
}

function onWake(dueMask: number): void {
  const { collect: buf, io } = shared!;
  refreshJiffies(); // `jiffies` is current inside every callback, as in the kernel
  dispatching = true;
  passId++;
  try {
    for (let base = 0; base < 8; base++) {
      if (dueMask & (1 << base)) engineOps.runBase(base, buf, io);
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
    for (let base = soft ? 12 : 8; base < (soft ? 16 : 12); base++) engineOps.runBase(base, buf, io);
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


/** Arms `t` at absolute (soft, hard) expiries (restart semantics). */
export const armAbs = (t: TimerCore, soft: bigint, hard: bigint): void => engineOps.armAbs(t, soft, hard);
/** Arms `t` relative to its clock's current time: soft = tim + now, hard = soft + range (both ktime_add_safe). */
export const armRel = (t: TimerCore, tim: bigint, range: bigint): void => engineOps.armRel(t, tim, range);
/** Removes a queued timer (native heap or batch). Returns whether it was queued. */
export const disarm = (t: TimerCore): boolean => engineOps.disarm(t);
/** Whether an armed `t` keeps the process alive. */
export const setRef = (t: TimerCore, refd: boolean): void => engineOps.setRef(t, refd);
/** Cancels every timer armed on the virtual timeline. @internal */
export const cancelVirtual = (): number => engineOps.cancelVirtual();
