/**
 * One measurement: a periodic timer through one API, each expiry recorded as
 * (time the JS callback starts) − (the expiry it was due at), in ns.
 *
 * - hrtimer: an HRTIMER_MODE_ABS timer on the chosen clock, moved on with
 *   hrtimer_forward() from its previous expiry (no drift; the overrun count is
 *   the periods skipped). The callback reads the clock first thing, through the
 *   binding's `now` (the same clock_gettime the kernel-named ktime_get* use,
 *   minus their argument checks), so the reading is as close to the callback's
 *   start as JS allows. With spin (hrtimer_set_spin_ns) the timerfd is armed
 *   early and the engine busy-waits the last stretch (native/addon.cc).
 * - timer_list: mod_timer() every `period` jiffies, lateness against the start
 *   of the `expires` jiffy. The kernel's wheel queues a level-0 timer in the
 *   bucket after its expiry (calc_index rounds up so nothing fires early), so a
 *   timer_list runs about one jiffy after `expires`, here as in the kernel.
 * - setTimeout: a chain re-armed for absolute deadlines (as the hrtimer is, so
 *   the two compare like for like), advanced past missed periods like
 *   hrtimer_forward. Node clamps delays below 1 ms to 1 ms, so at shorter
 *   intervals this measures what setTimeout can give, not the interval.
 *
 * The run ends after `loops` recorded samples, after `durationS` from the first
 * expiry, or when `stop.requested` is set (Ctrl-C), whichever comes first.
 */
import { native } from '../binding.js';
import {
  hrtimer,
  hrtimer_cancel,
  hrtimer_forward,
  hrtimer_get_expires,
  hrtimer_set_spin_ns,
  hrtimer_setup,
  hrtimer_start,
  HRTIMER_MODE_ABS,
  HRTIMER_NORESTART,
  HRTIMER_RESTART,
} from '../hrtimer/index.js';
import { CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_TAI } from '../ktime.js';
import { INITIAL_JIFFIES, TICK_NSEC, get_jiffies_64 } from '../jiffies.js';
import { mod_timer, timer_delete, timer_list, timer_setup } from '../timer/index.js';
import type { Api, ClockName } from './options.js';

/**
 * Where a run's samples go: a LatencyRecorder on the main thread, the sample
 * ring on the RT thread (ring.ts). `count` is the samples kept after warm-up,
 * which -l counts.
 */
export interface Recorder {
  readonly count: number;
  record(lateNs: number, tNs: number, missed: number): void;
}

export const CLOCK_IDS: Record<ClockName, number> = {
  monotonic: CLOCK_MONOTONIC,
  realtime: CLOCK_REALTIME,
  boottime: CLOCK_BOOTTIME,
  tai: CLOCK_TAI,
};
/** The binding's clock indices (native/addon.h ClockIndex). */
export const CLOCK_INDEX: Record<ClockName, number> = { monotonic: 0, realtime: 1, boottime: 2, tai: 3 };

export interface MeasureSpec {
  api: Api;
  intervalNs: bigint;
  clock: ClockName;
  spinNs: bigint;
  loops: number;
  durationS: number;
}

/** Set by the SIGINT handler: `requested`, then `abort()` ends a run that is waiting for its next expiry. */
export interface StopFlag {
  requested: boolean;
  abort: (() => void) | null;
}

export type StopReason = 'loops' | 'duration' | 'signal';

export interface MeasureResult {
  stoppedBy: StopReason;
  /** timer_list: the period actually used, in jiffies (the interval rounded to whole jiffies) */
  periodJiffies?: number;
}

/** The ns of a sample count/duration limit: the run stops at the first expiry at or after it. */
function endNs(durationS: number): bigint | null {
  return durationS > 0 ? BigInt(Math.round(durationS * 1e9)) : null;
}

function finished(rec: Recorder, spec: MeasureSpec, sinceStart: bigint, end: bigint | null, stop: StopFlag): StopReason | null {
  if (stop.requested) return 'signal';
  if (spec.loops > 0 && rec.count >= spec.loops) return 'loops';
  if (end !== null && sinceStart >= end) return 'duration';
  return null;
}

export function measure(spec: MeasureSpec, rec: Recorder, stop: StopFlag): Promise<MeasureResult> {
  switch (spec.api) {
    case 'hrtimer':
      return measureHrtimer(spec, rec, stop);
    case 'timer_list':
      return measureTimerList(spec, rec, stop);
    case 'setTimeout':
      return measureSetTimeout(spec, rec, stop);
  }
}

function measureHrtimer(spec: MeasureSpec, rec: Recorder, stop: StopFlag): Promise<MeasureResult> {
  return new Promise((resolve) => {
    const idx = CLOCK_INDEX[spec.clock];
    const iv = spec.intervalNs;
    const end = endNs(spec.durationS);
    const t = new hrtimer();
    let first = 0n;
    hrtimer_setup(
      t,
      (timer) => {
        const now = native.now(idx);
        const expires = hrtimer_get_expires(timer);
        if (first === 0n) first = expires;
        const orun = hrtimer_forward(timer, now, iv);
        rec.record(Number(now - expires), Number(expires - first), Number(orun) - 1);
        const why = finished(rec, spec, now - first, end, stop);
        if (why === null) return HRTIMER_RESTART;
        setImmediate(() => resolve({ stoppedBy: why }));
        return HRTIMER_NORESTART;
      },
      CLOCK_IDS[spec.clock],
      HRTIMER_MODE_ABS,
    );
    if (spec.spinNs > 0n) hrtimer_set_spin_ns(t, spec.spinNs);
    // Ctrl-C between expiries of a long interval must not wait for the next one.
    stop.abort = () => {
      if (hrtimer_cancel(t) === 1) resolve({ stoppedBy: 'signal' });
    };
    hrtimer_start(t, native.now(idx) + iv, HRTIMER_MODE_ABS);
  });
}

function measureTimerList(spec: MeasureSpec, rec: Recorder, stop: StopFlag): Promise<MeasureResult> {
  return new Promise((resolve) => {
    // Whole jiffies, at least one: the wheel cannot express less.
    let p = (spec.intervalNs + TICK_NSEC / 2n) / TICK_NSEC;
    if (p < 1n) p = 1n;
    const end = endNs(spec.durationS);
    const t = new timer_list();
    let firstNs = -1n;
    let expires = 0n;
    const startNs = (j: bigint): bigint => (j - INITIAL_JIFFIES) * TICK_NSEC;
    timer_setup(t, () => {
      const now = native.now(0);
      const dueNs = startNs(expires);
      if (firstNs < 0n) firstNs = dueNs;
      // Periods whose whole jiffy already passed are skipped (counted as overruns),
      // like hrtimer_forward; the wheel's one-jiffy round-up is not an overrun.
      const nowJ = INITIAL_JIFFIES + now / TICK_NSEC;
      let next = expires + p;
      let missed = 0;
      while (next < nowJ) {
        next += p;
        missed++;
      }
      rec.record(Number(now - dueNs), Number(dueNs - firstNs), missed);
      const why = finished(rec, spec, now - firstNs, end, stop);
      if (why !== null) {
        setImmediate(() => resolve({ stoppedBy: why, periodJiffies: Number(p) }));
        return;
      }
      expires = next;
      mod_timer(t, expires);
    }, 0);
    stop.abort = () => {
      if (timer_delete(t) === 1) resolve({ stoppedBy: 'signal', periodJiffies: Number(p) });
    };
    expires = get_jiffies_64() + p;
    mod_timer(t, expires);
  });
}

function measureSetTimeout(spec: MeasureSpec, rec: Recorder, stop: StopFlag): Promise<MeasureResult> {
  return new Promise((resolve) => {
    const iv = spec.intervalNs;
    const end = endNs(spec.durationS);
    let deadline = process.hrtime.bigint() + iv;
    const first = deadline;
    let handle: NodeJS.Timeout;
    const tick = (): void => {
      const now = process.hrtime.bigint();
      let missed = 0;
      const due = deadline;
      if (now >= deadline) {
        const orun = (now - deadline) / iv + 1n;
        deadline += orun * iv;
        missed = Number(orun) - 1;
      } else {
        deadline += iv; // ran early: the next period still follows this deadline
      }
      rec.record(Number(now - due), Number(due - first), missed);
      const why = finished(rec, spec, now - first, end, stop);
      if (why !== null) {
        setImmediate(() => resolve({ stoppedBy: why }));
        return;
      }
      handle = setTimeout(tick, Number(deadline - now) / 1e6);
    };
    handle = setTimeout(tick, Number(iv) / 1e6);
    stop.abort = () => {
      clearTimeout(handle);
      resolve({ stoppedBy: 'signal' });
    };
  });
}
