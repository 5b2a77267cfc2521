/**
 * ktimers/testing — a virtual clock for deterministic tests of code built on ktimers.
 *
 * ```js
 * import { installVirtualClock } from 'ktimers/testing';
 * const clock = installVirtualClock();          // jiffies start at INITIAL_JIFFIES
 * mod_timer(t, jiffies + msecs_to_jiffies(60_000));
 * clock.advanceJiffies(61_440);                 // t ran at the exact jiffy the kernel's would
 * clock.uninstall();
 * ```
 *
 * While installed, in this thread:
 * - every ktimers clock (`ktime_get*`, `hrtimer_cb_get_time`, `get_jiffies_64`,
 *   `jiffies`) reads a fresh virtual timeline. CLOCK_MONOTONIC starts at the
 *   instant of `startJiffies` ((startJiffies − INITIAL_JIFFIES) × TICK_NSEC); the
 *   other clocks keep their real offsets from it;
 * - every hrtimer or timer_list armed goes to virtual queues: a fresh wheel whose
 *   `clk` is `startJiffies`, and hrtimer bases that no OS timer watches;
 * - time moves only when you advance it. `advanceNs` / `advanceJiffies` visit
 *   every expiry up to the target in order and run it synchronously, before the
 *   call returns, with the kernel's rules: hrtimers fire at their exact hard
 *   expiry (high-resolution mode); at each jiffy the wheel runs its expiry pass
 *   as a ticking kernel does (callbacks in the kernel's order, `clk` one ahead
 *   inside callbacks); idle stretches are skipped as NO_HZ does, so advancing a
 *   billion jiffies costs only the expiries in it. At one instant, hard hrtimers
 *   run first, then timer_list (TIMER_SOFTIRQ), then SOFT hrtimers
 *   (HRTIMER_SOFTIRQ), the kernel's softirq order. Deferrable timers run at
 *   their jiffy (the model is a ticking CPU);
 * - an exception thrown by a callback does not escape mid-advance: the advance
 *   finishes, then throws it (an AggregateError if there were several).
 *
 * `uninstall()` returns the thread to the real clocks. Timers armed on the
 * virtual timeline are cancelled (they become inactive: not pending, not
 * queued); timers armed on the real clocks before `install` are untouched and
 * keep running on real time throughout. Virtual timers never keep the process
 * alive.
 */
import { KtimersError, describe, rangeError, typeError } from './errors.js';
import { setMonotonicSource } from './internal/clock.js';
import { cancelVirtual, nextVirtualEvent, runVirtualPass } from './internal/engine.js';
import { virt } from './internal/virtual.js';
import { native } from './binding.js';
import { INITIAL_JIFFIES, jiffiesArg, jiffiesAtNs, jiffyStartNs, refreshJiffies } from './internal/jiffies-clock.js';
import { S64_MAX, S64_MIN } from './internal/validate.js';
import { installVirtualWheel, runTimers, uninstallVirtualWheel, virtualNextExpiry } from './timer/driver.js';

/** Options of {@link installVirtualClock}. */
export interface VirtualClockOptions {
  /** The jiffies value the timeline starts at (default INITIAL_JIFFIES): a bigint or a safe-integer number. */
  startJiffies?: bigint | number;
}

/** The handle {@link installVirtualClock} returns: moves virtual time, reads it, uninstalls. */
export interface VirtualClock {
  /**
   * Moves time forward by `n` jiffies (to the start of that jiffy), running
   * everything due on the way, synchronously; then throws what callbacks threw.
   * @param n - jiffies, a non-negative bigint or safe integer (at most 2^62).
   */
  advanceJiffies(n: bigint | number): void;
  /**
   * Moves CLOCK_MONOTONIC forward by `ns` nanoseconds, running everything due
   * on the way, synchronously; then throws what callbacks threw.
   * @param ns - nanoseconds, a non-negative bigint or safe integer.
   */
  advanceNs(ns: bigint | number): void;
  /** Virtual CLOCK_MONOTONIC now, in ns. */
  now(): bigint;
  /** Virtual jiffies now. */
  jiffies(): bigint;
  /** Back to the real clocks; virtual timers are cancelled. Returns how many were. */
  uninstall(): number;
}

/** A runaway (something re-arming itself at the current instant forever) stops here. */
const SAME_INSTANT_LIMIT = 100_000;

function countArg(v: unknown, name: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw rangeError('ERR_OUT_OF_RANGE', `${name} must be a non-negative integer, got ${describe(v)}`);
    return BigInt(v);
  }
  if (typeof v !== 'bigint') throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a bigint or an integer number, got ${describe(v)}`);
  if (v < 0n || v > (1n << 62n)) throw rangeError('ERR_OUT_OF_RANGE', `${name} must be in [0, 2^62], got ${v}n`);
  return v;
}

/** Every clock of the timeline at monotonic `ns` must be a ktime_t. */
function checkTimeline(ns: bigint, offset: bigint[], what: string): void {
  for (const off of offset) {
    const v = ns + off;
    if (v > S64_MAX || v < S64_MIN) {
      throw rangeError('ERR_OUT_OF_RANGE', `${what}: the virtual clocks would leave the ktime_t range (${v} ns)`);
    }
  }
}


/**
 * Installs the virtual clock in this thread (see the module doc).
 * Throws ERR_KTIMERS_VIRTUAL_CLOCK_INSTALLED if one is already installed.
 * @param options - `startJiffies`: where the timeline starts (default INITIAL_JIFFIES).
 * @returns the clock: advance it, read it, uninstall it.
 */
export function installVirtualClock(options: VirtualClockOptions = {}): VirtualClock {
  if (typeof options !== 'object' || options === null) {
    throw typeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
  }
  if (virt.active) throw new KtimersError('ERR_KTIMERS_VIRTUAL_CLOCK_INSTALLED', 'a virtual clock is already installed in this thread');
  // A bigint or a safe-integer number, as every other jiffies parameter.
  const start =
    options.startJiffies === undefined ? INITIAL_JIFFIES : jiffiesArg(options.startJiffies, 'startJiffies', 0n, (1n << 62n) - 1n);

  // Offsets of the other clocks from MONOTONIC, as they are now. Everything is
  // checked before any state changes: a rejected install leaves the thread real.
  const mono = native.now(0);
  const offset = [0n, native.now(1) - mono, native.now(2) - mono, native.now(3) - mono, native.now(4) - mono];
  const startNs = jiffyStartNs(start);
  checkTimeline(startNs, offset, 'startJiffies');
  virt.offset = offset;
  virt.now = startNs;
  virt.errors = [];
  virt.active = true;
  setMonotonicSource(() => virt.now);
  installVirtualWheel(start);
  refreshJiffies();
  let installed = true;

  const checkInstalled = () => {
    if (!installed) throw new KtimersError('ERR_KTIMERS_VIRTUAL_CLOCK_UNINSTALLED', 'this virtual clock was uninstalled');
  };

  function advanceTo(target: bigint): void {
    let lastInstant = -1n;
    let sameInstant = 0;
    for (;;) {
      const hr = nextVirtualEvent();
      // The expiry pass of the current jiffy has run: the wheel's next pass is
      // at the next jiffy at the earliest.
      let wj = virtualNextExpiry();
      const curJ = jiffiesAtNs(virt.now);
      if (wj !== null && wj <= curJ) wj = curJ + 1n;
      const wheelNs = wj === null ? null : jiffyStartNs(wj);
      let next = hr === null ? wheelNs : wheelNs === null ? hr : hr < wheelNs ? hr : wheelNs;
      if (next === null || next > target) break;
      if (next < virt.now) next = virt.now; // overdue hrtimers run now
      if (next === lastInstant) {
        if (++sameInstant > SAME_INSTANT_LIMIT) {
          throw new KtimersError('ERR_KTIMERS_VIRTUAL_LIVELOCK', `timers keep re-arming at ${next} ns: the virtual clock cannot advance`);
        }
      } else {
        lastInstant = next;
        sameInstant = 0;
      }
      virt.now = next;
      const j = refreshJiffies();
      runVirtualPass(false); // hard IRQ: hard hrtimers
      runTimers(j); // TIMER_SOFTIRQ
      runVirtualPass(true); // HRTIMER_SOFTIRQ
    }
    if (target > virt.now) virt.now = target;
    refreshJiffies();
  }

  function advance(target: bigint): void {
    checkInstalled();
    checkTimeline(target, virt.offset, 'advance'); // before time moves
    virt.advancing++;
    try {
      advanceTo(target);
    } finally {
      virt.advancing--;
      const errors = virt.errors;
      virt.errors = [];
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} timer callbacks threw during the advance`);
    }
  }

  return {
    advanceNs(ns) {
      checkInstalled();
      advance(virt.now + countArg(ns, 'ns'));
    },
    advanceJiffies(n) {
      checkInstalled();
      advance(jiffyStartNs(jiffiesAtNs(virt.now) + countArg(n, 'n')));
    },
    now() {
      checkInstalled();
      return virt.now;
    },
    jiffies() {
      checkInstalled();
      return jiffiesAtNs(virt.now);
    },
    uninstall() {
      checkInstalled();
      installed = false;
      const n = cancelVirtual() + uninstallVirtualWheel();
      virt.active = false;
      virt.errors = [];
      setMonotonicSource(null);
      refreshJiffies();
      return n;
    },
  };
}

/** kfifo test hook: start an empty fifo's counters at any value (e.g. near 2^32). */
export { kfifo_set_counters } from './kfifo/alloc.js';
