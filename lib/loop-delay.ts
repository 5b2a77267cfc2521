/**
 * The event-loop delay of any Node app, with no code change:
 *
 *     node --import ktimers/loop-delay app.js
 *
 * measures the main thread's loop from start to exit with
 * {@link monitorEventLoopDelay} and prints a report on stderr at exit: the
 * lateness percentiles of the sampling deadlines and the longest loop blocks,
 * each with when it ended. Environment:
 * - `KTIMERS_LOOP_DELAY_PERIOD_US`: sampling period in microseconds (default
 *   10000, Node's default resolution; at least 10). The block list is exact
 *   whatever the period; a shorter period makes the percentiles finer.
 * - `KTIMERS_LOOP_DELAY_JSON`: a file to write the report to as JSON instead
 *   (`-` for stderr).
 * - `KTIMERS_LOOP_DELAY_BLOCKS`: how many longest blocks to list (default 10).
 *
 * The report is written from the process's 'exit' event, so it covers a
 * normal end and `process.exit()`; a process killed by a signal it does not
 * handle exits without one, as every 'exit' listener does. Worker threads are
 * not measured (import this module's monitor there instead).
 * @module
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { KtimersError } from './errors.js';
import { ktime_get } from './ktime.js';
import { monitorEventLoopDelay, type EventLoopDelayMonitor } from './perf_hooks.js';

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

function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new KtimersError('ERR_KTIMERS_BAD_ENV', `${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return v;
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
    `# Samples: ${r.count}  (how late each deadline of the period was served, us)`,
    `# Min: ${us(r.min)}  Avg: ${us(r.mean)}  p50: ${us(r.percentiles['50']!)}  p90: ${us(r.percentiles['90']!)}  p99: ${us(r.percentiles['99']!)}  p99.9: ${us(r.percentiles['99.9']!)}  Max: ${us(r.max)}`,
    `# Loop: ${r.iterations} iterations, busy ${r.duration_ns > 0 ? ((100 * r.busy_ns) / r.duration_ns).toFixed(1) : '0.0'}% of the time`,
    `# Longest blocks (one loop iteration each, us, ended at s from start):`,
  ];
  for (const b of r.blocks) lines.push(`#   ${us(b.duration_ns).padStart(10)}  at ${(b.end_ns / 1e9).toFixed(6)}`);
  if (r.blocks.length === 0) lines.push('#   (none)');
  return lines.join('\n') + '\n';
}

if (isMainThread) {
  const periodUs = intEnv('KTIMERS_LOOP_DELAY_PERIOD_US', 10_000, 10, 3_600_000_000);
  const keep = intEnv('KTIMERS_LOOP_DELAY_BLOCKS', 10, 0, 1000);
  const json = process.env.KTIMERS_LOOP_DELAY_JSON;
  const start = ktime_get();
  const m = monitorEventLoopDelay({ period: BigInt(periodUs) * 1000n, blocks: keep });
  m.enable();
  process.on('exit', () => {
    const r = loopDelayReport(m, start);
    m.disable();
    if (json !== undefined && json !== '' && json !== '-') writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
    else process.stderr.write(json === '-' ? JSON.stringify(r) + '\n' : formatLoopDelayReport(r));
  });
}
