/**
 * The report of the ktimers/loop-delay preload: built from a monitor, printed
 * as text or JSON. Internal: the preload module itself must have no exports,
 * since importing it starts measuring.
 */
import { ktime_get } from '../ktime.js';
import type { EventLoopDelayMonitor } from '../perf_hooks.js';

/** The report as JSON (`KTIMERS_LOOP_DELAY_JSON`); times in nanoseconds unless named otherwise. */
export interface LoopDelayReport {
  /** the measured process */
  pid: number;
  /** its arguments after the node executable */
  argv: string[];
  /** how long it was measured */
  duration_ns: number;
  /** the sampling period */
  period_ns: number;
  /** whether the samples count the OS's wake-up latency (the monitor's `countWakeup`) */
  count_wakeup: boolean;
  /** samples */
  count: number;
  /** smallest sample (0 when none) */
  min: number;
  /** mean sample (0 when none) */
  mean: number;
  /** standard deviation of the samples (0 when none) */
  stddev: number;
  /** largest sample */
  max: number;
  /** samples above one hour, not recorded */
  exceeds: number;
  /** p50, p90, p99, p99.9 of the samples */
  percentiles: Record<string, number>;
  /** loop iterations measured */
  iterations: number;
  /** their total busy time */
  busy_ns: number;
  /** longest first; `end_ns` counted from the start of the measurement */
  blocks: { duration_ns: number; end_ns: number }[];
}

/**
 * Builds the report of a monitor that ran since `start`.
 * @param m - the monitor (read, not disabled).
 * @param start - when it was enabled (CLOCK_MONOTONIC ns, `ktime_get()`).
 */
export function loopDelayReport(m: EventLoopDelayMonitor, start: bigint): LoopDelayReport {
  const blocks = m.blocks();
  const it = m.iterations;
  const pct: Record<string, number> = {};
  for (const p of [50, 90, 99, 99.9]) pct[String(p)] = m.count === 0 ? 0 : m.percentile(p);
  return {
    pid: process.pid,
    argv: process.argv.slice(1),
    duration_ns: Number(ktime_get() - start),
    period_ns: Number(m.period),
    count_wakeup: m.countWakeup,
    count: m.count,
    min: m.count === 0 ? 0 : m.min,
    mean: m.count === 0 ? 0 : m.mean,
    stddev: m.count === 0 ? 0 : m.stddev,
    max: m.max,
    exceeds: m.exceeds,
    percentiles: pct,
    iterations: it.count,
    busy_ns: it.busyNs,
    blocks: blocks.map((b) => ({ duration_ns: b.durationNs, end_ns: Number(b.endNs - start) })),
  };
}

const us = (ns: number): string => (ns / 1000).toFixed(1);

/**
 * The report as text, one `#`-prefixed line each, as cyclictest's summaries.
 * @param r - a report from {@link loopDelayReport}.
 */
export function formatLoopDelayReport(r: LoopDelayReport): string {
  const lines = [
    `# ktimers loop-delay: pid ${r.pid} (${r.argv.join(' ')}), ${(r.duration_ns / 1e9).toFixed(3)} s, a sample every ${us(r.period_ns)} us`,
    `# Samples: ${r.count}  (how long the loop kept each deadline of the period waiting, us${r.count_wakeup ? ', wake-up included' : ''})`,
    `# Min: ${us(r.min)}  Avg: ${us(r.mean)}  p50: ${us(r.percentiles['50']!)}  p90: ${us(r.percentiles['90']!)}  p99: ${us(r.percentiles['99']!)}  p99.9: ${us(r.percentiles['99.9']!)}  Max: ${us(r.max)}`,
    `# Loop: ${r.iterations} iterations, busy ${r.duration_ns > 0 ? ((100 * r.busy_ns) / r.duration_ns).toFixed(1) : '0.0'}% of the time`,
    `# Longest blocks (one loop iteration each, us, ended at s from start):`,
  ];
  for (const b of r.blocks) lines.push(`#   ${us(b.duration_ns).padStart(10)}  at ${(b.end_ns / 1e9).toFixed(6)}`);
  if (r.blocks.length === 0) lines.push('#   (none)');
  return lines.join('\n') + '\n';
}

