/**
 * The hrtimer engine: how a JS timer maps to the queues, the clocks' wake-ups,
 * and the expiry pass.
 *
 * HOW and WHY
 * -----------
 * Per environment (the main thread, each worker: module state is per isolate),
 * 16 clock bases: the kernel's 8 (MONOTONIC, REALTIME, BOOTTIME, TAI; then their
 * SOFT twins) and the same 8 again for the virtual timeline of ktimers/testing
 * (8..15), each an indexed min-heap keyed (hard expiry, seq) in JS
 * (lib/internal/hrtimer-queue.ts, with its design). An armed timer is a heap
 * entry named by a *slot* number; `timers[slot]` is the strong reference that
 * keeps it alive. A disarmed timer holds no slot, so a dropped one is ordinary
 * garbage (a cancel may leave its *entry* in the heap, marked dead, until the
 * queue drops it, but the entry no longer names the timer). A timer's own state is two private fields of TimerCore (below), the
 * base class of `hrtimer`: `#st`, one small integer (base, flags, slot), and
 * `#exp`, its expiries while it is not armed (while armed they live in the
 * slot arrays only).
 *
 * Native side (native/addon.cc): one timerfd per real clock, programmed to the
 * clock's earliest hard expiry. The engine tells it, through program(), only
 * when that changes: an arm that becomes its clock's earliest wake-up, a cancel
 * that changes it, the end of a pass. Everything else — start, restart, cancel,
 * the state queries — is JS and crosses into native code not at all. The engine
 * counts the ref'd armed timers and calls setRef() when the count crosses zero,
 * so the loop is kept alive as by Node's timers. The virtual bases have no
 * native state. A timer's spin (hrtimer_set_spin_ns) is taken at each arm;
 * the clock's wake-up comes that much early and native code busy-waits to the
 * expiry (native/addon.cc, "Spin"). The pass below is the same with or without it.
 *
 * The expiry pass: when a timerfd fires, native code samples each clock once and
 * calls `onWake()` once (one crossing for the whole wake-up). Soft bases are due
 * only once a soft base's earliest hard expiry has come (the kernel raises
 * HRTIMER_SOFTIRQ then, not at every interrupt). For each base due when the pass
 * starts, in the kernel's order (hard bases 0..3, then soft bases 4..7), the
 * pass does what __hrtimer_run_queues does: take the base's leftmost timer while
 * its soft expiry has passed, remove it from the queue, run its callback. A
 * timer stays queued until its own turn, so a callback may cancel (→1, and it
 * will not run) or restart a later timer of the same pass, exactly as in the
 * kernel; a timer armed during the pass (RESTART, or hrtimer_start from a
 * callback) whose soft expiry is due runs in this pass when it becomes the
 * leftmost: always the leftmost due timer next.
 *
 * The pass is one JS call inside MakeCallback, so microtasks and nextTicks run
 * after the whole pass (task context runs after the interrupt returns). An
 * exception from a callback does not unwind the pass: the timer is treated as
 * NORESTART, the pass completes, and the error is rethrown from process.nextTick,
 * where it reaches 'uncaughtException' as an error in a Node timer would.
 */
import { native } from '../binding.js';
import { enterIrq, exitIrq } from './irq.js';
import { clockNs, reportError, virt } from './virtual.js';
import { refreshJiffies } from './jiffies-clock.js';
import { KtimersError, rangeError, typeError } from '../errors.js';
import * as Q from './hrtimer-queue.js';
import { deferRefs, earlier, markDirty, markDirtyMask, refCountNow, refDec, refInc, spinners, syncClock, syncDirty, takeDirty } from './hrtimer-wake.js';

/** What the engine calls on a timer: `hrtimer`'s public callback, with the timer. */
interface Callable {
  function: ((timer: any) => unknown) | null;
}

const HRTIMER_RESTART = 1;
/**
 * A timer re-run this many times within one expiry pass (its callback returned
 * RESTART with an expiry still in the past) is stopped with an error: in the
 * kernel this is an interrupt-handler livelock. 1000 leaves room for deliberate
 * catch-up loops and still stops a runaway within about a millisecond.
 */
export const RESTART_LOOP_LIMIT = 1000;

// A timer's state word `#st`: (slot + 1) << ST_SHIFT | bits; the low three bits
// are its base (0..7, the clock index + 4 for SOFT). One Smi instead of a field
// per item keeps a timer small (memory per armed timer is a target of the engine).
const ST_BASE = 7;
const ST_SETUP = 8; // hrtimer_setup() / hrtimer_init() was called
const ST_RUNNING = 16; // its callback is executing
const ST_UNREF = 32; // unref()'d: does not keep the process alive
const ST_SPIN = 64; // has a spin (its value: `spins`)
const ST_EXPSET = 128; // armed, and its expiries set since (hrtimer_set_expires*): `#exp` holds them
const ST_SHIFT = 8;
const ST_BITS = (1 << ST_SHIFT) - 1;
/** Slots a state word can name: (slot + 1) << ST_SHIFT stays a positive Smi. */
const MAX_SLOTS = (1 << (31 - ST_SHIFT)) - 1;

/** Soft and hard expiry of a timer that is not armed, when they differ (else `#exp` is the bigint). */
class Expires {
  constructor(
    readonly soft: bigint,
    readonly hard: bigint,
  ) {}
}
const expOf = (soft: bigint, hard: bigint): bigint | Expires => (soft === hard ? soft : new Expires(soft, hard));

/** The spin of timers that have one: rare, so not a field of every timer. */
const spins = new WeakMap<TimerCore, number>();
/** ktimers' own real-time infrastructure (the wheel's tick): never on the virtual timeline. */
const realOnly = new WeakSet<TimerCore>();
const hrtimeBigint = process.hrtime.bigint;

let io: BigInt64Array | null = null;
let seqCounter = 0;
// Pass state (valid while dispatching).
let dispatching = false;
let passNow = 0n;
/** re-runs of a timer in the current pass (RESTART-loop detection), only for those re-armed at or before now */
const passRuns = new Map<TimerCore, number>();

/** io's 32-bit words, for comparisons that allocate nothing */
let ioWords: Int32Array | null = null;
function engine(): BigInt64Array {
  if (io === null) {
    io = native.init(onWake).io;
    ioWords = new Int32Array(io.buffer, io.byteOffset, io.length * 2);
  }
  return io;
}

/** The name of a timer's callback, for error messages. */
function timerName(t: TimerCore): string {
  return (t as unknown as Callable).function?.name || '(anonymous)';
}

/** Whether `o` is a timer (an `hrtimer`): the brand check every hrtimer call starts with. */
export let isTimerCore: (o: unknown) => o is TimerCore;

/** Reads and writes of a timer's fields for the hrtimer API (lib/hrtimer/); set by TimerCore's static block. */
export let timerFields: {
  /** 0..7, or -1 before setup */
  base(t: TimerCore): number;
  clockid(t: TimerCore): number;
  /** hrtimer_setup(): the clock base and both expiries cleared */
  setup(t: TimerCore, base: number): void;
  soft(t: TimerCore): bigint;
  hard(t: TimerCore): bigint;
  setExpires(t: TimerCore, soft: bigint, hard: bigint): void;
  queued(t: TimerCore): boolean;
  running(t: TimerCore): boolean;
  spin(t: TimerCore): number;
  setSpin(t: TimerCore, spin: number): void;
  refd(t: TimerCore): boolean;
  /** the queue slot while armed, else -1 (for tests) */
  slot(t: TimerCore): number;
  /** ktimers' own real-time infrastructure (the NO_HZ tick of lib/timer/driver.ts): never on the virtual timeline */
  markRealOnly(t: TimerCore): void;
};

let engineOps: {
  armAbs(t: TimerCore, soft: bigint, hard: bigint): void;
  armRel(t: TimerCore, tim: bigint, range: bigint): void;
  disarm(t: TimerCore): boolean;
  setRef(t: TimerCore, refd: boolean): void;
  runBase(base: number, now: bigint): void;
};

const CLOCK_IDS = [1, 0, 7, 11]; // CLOCK_MONOTONIC, _REALTIME, _BOOTTIME, _TAI by clock index

/**
 * The kernel's fields of `struct hrtimer`, and ktimers' own, as private fields
 * of every timer: `hrtimer` (lib/hrtimer/hrtimer.ts) extends this class. As
 * timer_list does (lib/timer/timer-list.ts), only code inside the class body can
 * reach them: the functions of the engine that work on a timer's fields are
 * defined in its static block and handed out through the `let`s above, so no
 * user code can read or forge a field, and every slot the engine is given is
 * the timer's own.
 */
export class TimerCore {
  /** (slot + 1) << ST_SHIFT | ST_* bits | base */
  #st = 0;
  /** the expiries while not armed: the bigint when soft === hard, else an Expires */
  #exp: bigint | Expires = 0n;

  static {
    /**
     * Takes t out of its queue and gives its slot up (Q.cancel: at once, or
     * lazily, its entry marked dead; either way the queue no longer references
     * t): its expiries go back to the object. Returns whether it was its base's top.
     */
    function release(t: TimerCore, s: number): boolean {
      if (!(t.#st & ST_EXPSET)) t.#exp = Q.softIsHard(s) ? Q.hardOf(s) : new Expires(Q.softOf(s), Q.hardOf(s));
      const real = Q.baseA[s]! < 8;
      const wasTop = Q.cancel(s);
      t.#st &= ST_BITS & ~ST_EXPSET;
      if (real) {
        if (!(t.#st & ST_UNREF)) refDec();
        // (a dead entry's slot is never a spinner's: it leaves the map here)
        const sp = spinners[t.#st & 3]!;
        if (sp.size !== 0 && sp.delete(s)) markDirty(t.#st & 3);
      }
      return wasTop;
    }

    /** Arms `t` at absolute (soft, hard) expiries (restart semantics). */
    function armAbs(t: TimerCore, soft: bigint, hard: bigint): void {
      arm(t, soft, hard, false, 0n);
    }

    /** Arms `t` at (a, b): soft, hard expiries; or with `rel`, tim, range from `now`. */
    function arm(t: TimerCore, a: bigint, b: bigint, rel: boolean, now: bigint): void {
      const st = t.#st;
      const base = st & ST_BASE;
      const nbase = virt.active && !realOnly.has(t) ? base + 8 : base;
      const seq = ++seqCounter;
      let s = (st >> ST_SHIFT) - 1;
      const c = base & 3;
      if (s >= 0 && Q.baseA[s] !== nbase) {
        // Moving between the real and the virtual timeline: out of the old heap first.
        const wasTop = release(t, s);
        if (wasTop && nbase >= 8) markDirty(c);
        s = -1;
      }
      if (s < 0) {
        if (nbase < 8) engine();
        s = Q.allocSlot(nbase);
        if (s >= MAX_SLOTS) {
          Q.freeSlot(s);
          // Dead entries (cancelled timers not yet dropped) hold slots too: the
          // limit is on armed timers, so drop them all and try again.
          if (Q.dropDead() !== 0) s = Q.allocSlot(nbase);
        }
        if (s >= MAX_SLOTS) {
          Q.freeSlot(s);
          throw rangeError('ERR_KTIMERS_TOO_MANY_TIMERS', `more than ${MAX_SLOTS} hrtimers armed at once in this thread`);
        }
        Q.timers[s] = t;
        t.#st = ((s + 1) << ST_SHIFT) | (st & ST_BITS & ~ST_EXPSET);
        t.#exp = 0n; // while armed, the expiries live in the slot arrays
        if (nbase < 8 && !(st & ST_UNREF)) refInc();
      } else {
        if (st & ST_EXPSET) {
          t.#st = st & ~ST_EXPSET;
          t.#exp = 0n;
        }
        if (nbase < 8 && spinners[c]!.size !== 0 && spinners[c]!.delete(s)) {
          markDirty(c); // its old spin no longer applies; the timerfd only moves earlier below
        }
      }
      if (rel) Q.placeRel(s, a, now, b, seq);
      else Q.place(s, a, b, seq);
      if (nbase >= 8) {
        // It left the real clock's queue (above): that clock's wake-up may be later now, or none.
        if (!dispatching && takeDirty(c)) syncClock(c, false);
        return;
      }
      // Virtual timers never keep the process alive (the test drives them) and
      // never spin (virtual time does not move while a thread busy-waits).
      if (st & ST_SPIN) {
        const spin = spins.get(t) ?? 0;
        if (spin > 0) {
          spinners[c]!.set(s, spin);
          markDirty(c);
        }
      }
      if (dispatching) {
        markDirty(c);
        return;
      }
      // A spinner came or went (the spin changes), or the wake-up moves earlier.
      if (takeDirty(c) || earlier(c, s)) syncClock(c, true);
    }

    /** Arms `t` relative to its clock's current time: soft = tim + now, hard = soft + range (both ktime_add_safe). */
    function armRel(t: TimerCore, tim: bigint, range: bigint): void {
      const c = t.#st & 3;
      // Never behind the true clock (ktimers is never early): a fresh read, not the loop's cached time.
      let now: bigint;
      if (virt.active && !realOnly.has(t)) now = clockNs(c);
      else now = c === 0 ? hrtimeBigint() : native.now(c);
      arm(t, tim, range, true, now);
    }

    /** Removes a queued timer. Returns whether it was queued. */
    function disarm(t: TimerCore): boolean {
      const s = (t.#st >> ST_SHIFT) - 1;
      if (s < 0) return false;
      const real = Q.baseA[s]! < 8;
      const wasTop = release(t, s);
      if (real) {
        const c = t.#st & 3;
        if (dispatching) markDirty(c);
        // The clock's earliest wake-up changes only with its top (or a spinner,
        // which release() marks); a timerfd left early by a timer that moved
        // later is corrected by the wake-up it causes.
        else if (takeDirty(c) || wasTop) syncClock(c, false);
      }
      return true;
    }

    function setRef(t: TimerCore, refd: boolean): void {
      const st = t.#st;
      if (!(st & ST_UNREF) === refd) return;
      t.#st = refd ? st & ~ST_UNREF : st | ST_UNREF;
      const s = (st >> ST_SHIFT) - 1;
      if (s >= 0 && Q.baseA[s]! < 8) {
        if (refd) refInc();
        else refDec();
      }
    }

    /**
     * Counts a re-run of `t` within the current pass; true (and the timer stopped,
     * the error reported) once it reaches RESTART_LOOP_LIMIT. @param how - what re-armed it
     */
    function passLivelock(t: TimerCore, how: string): boolean {
      const n = (passRuns.get(t) ?? 0) + 1;
      passRuns.set(t, n);
      if (n < RESTART_LOOP_LIMIT) return false;
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

    function runOne(t: TimerCore, now: bigint): void {
      const timer = t as unknown as Callable;
      t.#st |= ST_RUNNING;
      let ret: unknown;
      try {
        ret = timer.function!(timer);
      } catch (err) {
        ret = 0;
        reportError(err);
      } finally {
        t.#st &= ~ST_RUNNING;
      }
      passNow = now; // the callback's own nested pass (of the other timeline) moved it
      const s = (t.#st >> ST_SHIFT) - 1;
      if (s >= 0) {
        // Restarted from inside its callback (hrtimer_start on itself): at or
        // before now, it runs again in this pass — the same livelock as
        // RESTART without hrtimer_forward, stopped the same way.
        if (Q.softOf(s) <= passNow && passLivelock(t, 're-armed itself (hrtimer_start) at or before now')) disarm(t);
      } else if (ret === HRTIMER_RESTART) {
        const e = t.#exp;
        const soft = typeof e === 'bigint' ? e : e.soft;
        if (soft <= passNow && passLivelock(t, 'returned HRTIMER_RESTART')) return;
        armAbs(t, soft, typeof e === 'bigint' ? e : e.hard);
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

    /** __hrtimer_run_queues for one base: the leftmost timer while its soft expiry has passed. */
    function runBase(base: number, now: bigint): void {
      const soft = (base & 4) !== 0;
      enterIrq(soft);
      try {
        Q.setNow(now);
        let stamp = Q.nowStamp();
        for (;;) {
          if (Q.nowStamp() !== stamp) {
            // A callback's nested pass (of the other timeline) compared against its own time.
            Q.setNow(now);
            stamp = Q.nowStamp();
          }
          const s = Q.top(base);
          if (s < 0 || !Q.softDue(s)) break;
          const t = Q.timers[s] as TimerCore;
          release(t, s); // the top: out of the heap at once
          if (base < 8) markDirty(base & 3);
          passNow = now; // (a callback's nested pass of the virtual timeline may have moved it)
          try {
            runOne(t, now);
          } catch (err) {
            // runOne catches the callback's own errors; whatever else fails around
            // it (a re-arm) must not unwind the pass either.
            reportError(err);
          }
        }
      } finally {
        exitIrq(soft);
      }
    }

    // `#st in o` runs no Proxy trap and cannot be faked by a duck-typed object.
    isTimerCore = (o): o is TimerCore => typeof o === 'object' && o !== null && #st in o;
    timerFields = {
      base: (t) => (t.#st & ST_SETUP ? t.#st & ST_BASE : -1),
      clockid: (t) => (t.#st & ST_SETUP ? CLOCK_IDS[t.#st & 3]! : -1),
      setup: (t, base) => {
        t.#st = (t.#st & ~(ST_BASE | ST_SETUP)) | ST_SETUP | base;
        t.#exp = 0n;
      },
      soft: (t) => {
        const s = (t.#st >> ST_SHIFT) - 1;
        if (s >= 0 && !(t.#st & ST_EXPSET)) return Q.softOf(s);
        const e = t.#exp;
        return typeof e === 'bigint' ? e : e.soft;
      },
      hard: (t) => {
        const s = (t.#st >> ST_SHIFT) - 1;
        if (s >= 0 && !(t.#st & ST_EXPSET)) return Q.hardOf(s);
        const e = t.#exp;
        return typeof e === 'bigint' ? e : e.hard;
      },
      setExpires: (t, soft, hard) => {
        // Queued: the queued instance keeps its expiry (lib/hrtimer/index.ts warns);
        // the new one applies at the next start, which reads it from here.
        if (t.#st >= 1 << ST_SHIFT) t.#st |= ST_EXPSET;
        t.#exp = expOf(soft, hard);
      },
      queued: (t) => t.#st >= 1 << ST_SHIFT,
      running: (t) => (t.#st & ST_RUNNING) !== 0,
      spin: (t) => (t.#st & ST_SPIN ? (spins.get(t) ?? 0) : 0),
      setSpin: (t, spin) => {
        if (spin === 0) {
          t.#st &= ~ST_SPIN;
          spins.delete(t);
        } else {
          t.#st |= ST_SPIN;
          spins.set(t, spin);
        }
      },
      refd: (t) => !(t.#st & ST_UNREF),
      slot: (t) => (t.#st >> ST_SHIFT) - 1,
      markRealOnly: (t) => {
        realOnly.add(t);
      },
    };
    engineOps = { armAbs, armRel, disarm, setRef, runBase };
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

/** Introspection for tests and benches: native's (timerfds, what they are programmed for, the spin total) and the queues'. */
export function engineState() {
  const st = native.state();
  const queued = Array.from(Q.sizes);
  let nspin = 0;
  for (const m of spinners) nspin += m.size;
  return { ...st, queued, slotsInUse: Q.slotsInUse(), deadEntries: Q.deadEntries(), refCount: refCountNow(), spinners: nspin, queueBytes: Q.queueBytes() };
}

/** The virtual clocks' pass time lives at io[8..11] (written by runVirtualPass). */
const passIndex = (base: number): number => (base & 3) + (base >= 8 ? 8 : 0);
const passTime = (base: number): bigint => io![passIndex(base)]!;

/**
 * HRTIMER_SOFTIRQ is raised only once a SOFT base's earliest *hard* expiry has
 * come (softirq_expires_next): soft range timers coalesce with other soft
 * expiries, not with hard ones. `first`: base 4 or 12.
 */
function softirqRaised(first: number): boolean {
  for (let base = first; base < first + 4; base++) {
    const s = Q.top(base);
    if (s < 0) continue;
    Q.setNowFrom(ioWords!, passIndex(base));
    if (Q.hardDue(s)) return true;
  }
  return false;
}

/** Runs the due bases among [from, from + 8), in order; `all`: every base, not only those due at the start. */
function runPass(from: number, to: number, all: boolean): void {
  refreshJiffies(); // `jiffies` is current inside every callback, as in the kernel
  let mask = 0;
  for (let base = from; base < to; base++) {
    const s = Q.top(base);
    if (all) mask |= 1 << base;
    else if (s >= 0) {
      Q.setNowFrom(ioWords!, passIndex(base));
      if (Q.softDue(s)) mask |= 1 << base;
    }
  }
  if (mask === 0) return;
  const outer = dispatching;
  dispatching = true;
  if (!outer) {
    passRuns.clear();
    deferRefs(true);
  }
  try {
    for (let base = from; base < to; base++) {
      if (mask & (1 << base)) engineOps.runBase(base, passTime(base));
    }
  } finally {
    dispatching = outer;
    if (!outer) {
      passRuns.clear();
      deferRefs(false);
      syncDirty();
    }
  }
}

function onWake(fired: number): void {
  // The clocks that fired are synced at the pass's end even when nothing was
  // due: a timer moved later left its timerfd early (arm() only ever moves it
  // earlier), and native code re-arms a fired timerfd for what it was last
  // told, which would otherwise be the past, waking the loop again at once.
  markDirtyMask(fired & 15);
  // Hard bases at every wake-up; the SOFT ones when HRTIMER_SOFTIRQ is raised.
  runPass(0, softirqRaised(4) ? 8 : 4, false);
  syncDirty();
}

/**
 * One expiry pass of the virtual bases at virtual time `now` (monotonic ns):
 * `soft` false runs the hard bases (hard IRQ), true the SOFT ones (softirq).
 * @internal (ktimers/testing)
 */
export function runVirtualPass(soft: boolean): void {
  const b = engine();
  for (let c = 0; c < 4; c++) b[8 + c] = virt.now + virt.offset[c]!;
  if (soft && !softirqRaised(12)) return;
  runPass(soft ? 12 : 8, soft ? 16 : 12, true);
}

/** Earliest hard expiry over the virtual bases, as virtual monotonic ns, or null. @internal */
export function nextVirtualEvent(): bigint | null {
  let best: bigint | null = null;
  for (let base = 8; base < 16; base++) {
    const s = Q.top(base);
    if (s < 0) continue;
    const mono = Q.hardOf(s) - virt.offset[base & 3]!; // compare on the monotonic timeline
    if (best === null || mono < best) best = mono;
  }
  return best;
}

/** Arms `t` at absolute (soft, hard) expiries (restart semantics). */
export const armAbs = (t: TimerCore, soft: bigint, hard: bigint): void => engineOps.armAbs(t, soft, hard);
/** Arms `t` relative to its clock's current time: soft = tim + now, hard = soft + range (both ktime_add_safe). */
export const armRel = (t: TimerCore, tim: bigint, range: bigint): void => engineOps.armRel(t, tim, range);
/** Removes a queued timer. Returns whether it was queued. */
export const disarm = (t: TimerCore): boolean => engineOps.disarm(t);
/** Whether an armed `t` keeps the process alive. */
export const setRef = (t: TimerCore, refd: boolean): void => engineOps.setRef(t, refd);
/** Cancels every timer armed on the virtual timeline. @internal */
export function cancelVirtual(): number {
  let n = 0;
  Q.forEachSlot(8, 16, (s) => {
    disarm(Q.timers[s] as TimerCore);
    n++;
  });
  return n;
}
