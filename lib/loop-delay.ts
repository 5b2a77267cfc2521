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
 * - `KTIMERS_LOOP_DELAY_COUNT_WAKEUP`: `1` to count the OS's wake-up latency
 *   in the samples (the monitor's `countWakeup`); `0` or unset: not.
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
import { monitorEventLoopDelay } from './perf_hooks.js';
import { formatLoopDelayReport, loopDelayReport } from './loop-delay/report.js';

function intEnv(name: string, dflt: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new KtimersError('ERR_KTIMERS_BAD_ENV', `${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return v;
}

if (isMainThread) {
  const periodUs = intEnv('KTIMERS_LOOP_DELAY_PERIOD_US', 10_000, 10, 3_600_000_000);
  const keep = intEnv('KTIMERS_LOOP_DELAY_BLOCKS', 10, 0, 1000);
  const countWakeup = intEnv('KTIMERS_LOOP_DELAY_COUNT_WAKEUP', 0, 0, 1) === 1;
  const json = process.env.KTIMERS_LOOP_DELAY_JSON;
  const start = ktime_get();
  const m = monitorEventLoopDelay({ period: BigInt(periodUs) * 1000n, blocks: keep, countWakeup });
  m.enable();
  process.on('exit', () => {
    const r = loopDelayReport(m, start);
    m.disable();
    if (json !== undefined && json !== '' && json !== '-') writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
    else process.stderr.write(json === '-' ? JSON.stringify(r) + '\n' : formatLoopDelayReport(r));
  });
}
