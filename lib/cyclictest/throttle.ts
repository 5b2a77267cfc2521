/**
 * Recognising the kernel's real-time throttling in a run's samples.
 *
 * The kernel lets SCHED_FIFO/RR tasks use only sched_rt_runtime_us of every
 * sched_rt_period_us (/proc/sys/kernel; 950000 of 1000000 by default), then
 * takes the CPU away from them for the rest of the period. A real-time thread
 * that never sleeps — a JS main thread with a timer *and* the application's
 * work on it, under load — runs into that limit and is stopped for the
 * remainder, ~50 ms at once: far longer than anything else on an otherwise
 * working machine does to a real-time thread. So a SCHED_FIFO/RR run with one
 * sample at least THROTTLE_NS late carries the signature, and the report says
 * why and what to do: put the timer on a thread that sleeps between expiries
 * (--thread rt) and leave the busy main thread SCHED_OTHER.
 *
 * A run on the RT thread itself can show such a stall too, but that thread
 * sleeps between expiries and cannot use up the budget by itself: its note
 * says the stall came from elsewhere (other real-time work on the CPU, or the
 * hypervisor), not to move the timer.
 *
 * Pure functions of the runs and the two settings, so the detection is tested
 * on synthetic data (test/cyclictest-thread.test.ts).
 */
import fs from 'node:fs';

/** One sample this late on a real-time thread: the throttling signature (the throttled remainder of a period, 50 ms by default). */
export const THROTTLE_NS = 40_000_000;

export const RT_RUNTIME_FILE = '/proc/sys/kernel/sched_rt_runtime_us';
export const RT_PERIOD_FILE = '/proc/sys/kernel/sched_rt_period_us';

export interface RtThrottleSettings {
  /** sched_rt_runtime_us; -1 = throttling off; null = unreadable */
  runtimeUs: number | null;
  /** sched_rt_period_us; null = unreadable */
  periodUs: number | null;
}

function readInt(file: string): number | null {
  try {
    const v = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(v) ? v : null;
  } catch {
    return null;
  }
}

export function readRtThrottle(): RtThrottleSettings {
  return { runtimeUs: readInt(RT_RUNTIME_FILE), periodUs: readInt(RT_PERIOD_FILE) };
}

/** What detection needs of a run. */
export interface ThrottleRunView {
  label: string;
  /** the measuring thread; absent = the main thread */
  thread?: 'main' | 'rt';
  /** the measuring thread's policy in force (SCHED_FIFO, SCHED_OTHER, ...) */
  policy: string;
  /** the largest lateness, ns (-Infinity with no samples) */
  maxNs: number;
}

/** The labels of the SCHED_FIFO/RR runs that lost >= THROTTLE_NS at once. */
export function throttledRuns(runs: readonly ThrottleRunView[]): string[] {
  return runs.filter((r) => (r.policy === 'SCHED_FIFO' || r.policy === 'SCHED_RR') && r.maxNs >= THROTTLE_NS).map((r) => r.label);
}

/** The report's note (lines), or [] when no real-time run shows the signature. */
export function throttleNote(runs: readonly ThrottleRunView[], s: RtThrottleSettings): string[] {
  const hit = new Set(throttledRuns(runs));
  if (hit.size === 0) return [];
  const worst = (rs: ThrottleRunView[]) => (Math.max(...rs.map((r) => r.maxNs)) / 1e6).toFixed(1);
  const onMain = runs.filter((r) => hit.has(r.label) && r.thread !== 'rt');
  const onRt = runs.filter((r) => hit.has(r.label) && r.thread === 'rt');
  const lines: string[] = [];
  if (onMain.length > 0) {
    lines.push(`RT throttling: ${onMain.map((r) => r.label).join(', ')} ran at a real-time policy and lost ${worst(onMain)} ms at once ` +
      `(>= ${THROTTLE_NS / 1e6} ms: the kernel's RT throttling signature).`);
    if (s.runtimeUs !== null && s.periodUs !== null && s.runtimeUs >= 0 && s.runtimeUs < s.periodUs) {
      lines.push(`  The kernel gives real-time threads ${s.runtimeUs} us of every ${s.periodUs} us (sched_rt_runtime_us / sched_rt_period_us); ` +
        `a thread that stays runnable is stopped for the other ${((s.periodUs - s.runtimeUs) / 1000).toFixed(0)} ms of each period.`);
    } else if (s.runtimeUs === -1) {
      lines.push('  sched_rt_runtime_us is -1 (throttling off), so something else held this thread off the CPU that long.');
    } else {
      lines.push(`  (${RT_RUNTIME_FILE} / ${RT_PERIOD_FILE} could not be read.)`);
    }
    lines.push('  Put the timer on a real-time thread that sleeps between expiries (--thread rt) and leave the busy main thread SCHED_OTHER.');
  }
  if (onRt.length > 0) {
    lines.push(`${onRt.map((r) => r.label).join(', ')} lost ${worst(onRt)} ms at once at a real-time policy. The RT thread sleeps between ` +
      'expiries and does not use up sched_rt_runtime_us by itself: the stall came from elsewhere (other real-time work on its CPUs, ' +
      'or the hypervisor on a VM).');
  }
  return lines;
}
