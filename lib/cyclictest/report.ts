/**
 * What `ktimers cyclictest` prints and writes: the side-by-side summary, the
 * cyclictest-style histogram (-h), and the JSON document (--json).
 *
 * JSON schema (`schema: "ktimers-cyclictest/1"`; fields are only ever added
 * under this name, never renamed or re-typed; every time is an integer count of
 * nanoseconds unless its name says otherwise):
 *
 *   schema, tool, version, date (ISO 8601), argv
 *   options: interval_us, loops, duration_s, clock, apis[], spin_us, warmup,
 *            histogram_us, dma_latency (requested), threads[] ("main" | "rt"), load_us
 *   conditions:
 *     sched:    { requested, error, policy, priority }   (in force, read back)
 *     affinity: { requested, error, cpus[] }
 *     nice:     { requested, error, value }
 *     mlockall: { requested, error, prefaulted }  (-m: lock + unlock, see conditions.ts)
 *     cpu_dma_latency: { requested, held, value_us, error }
 *     tid, clock, clock_resolution_ns, clocksource, kernel, machine, cpus,
 *     cpu_model, node, pid, uid, loadavg_start[3], loadavg_end[3]
 *     (sched, affinity, nice and tid are the main thread's)
 *     rt_thread: null, or the RT thread's { tid, sched, affinity, nice, defaulted }
 *               (defaulted: no -p/--policy/--nice, so it asked for SCHED_FIFO 50)
 *     rt_throttling: { sched_rt_runtime_us, sched_rt_period_us (null if unreadable),
 *                      throttled_runs[] (labels of SCHED_FIFO/RR runs with a sample >= 40 ms late) }
 *   runs[]: one per API and thread, in run order:
 *     api, thread ("main" | "rt"), label, policy, priority (the measuring thread's, in force),
 *     load: null, or { chunk_us, chunks, busy_ns } (--load on the main thread during the run),
 *     ring_dropped (rt: samples lost because the main thread did not drain the ring in time),
 *     interval_ns, spin_ns, period_jiffies (timer_list only), samples,
 *     warmup_discarded, stopped_by ("loops" | "duration" | "signal"), wall_ns,
 *     overruns, early,
 *     latency_ns: { min, avg, max, p50, p90, p99, p99_9 }  (integers; null if no samples)
 *     cpu_percent (process CPU time / wall time, %), spin_percent (busy-wait / wall, %),
 *     histogram: { bucket_ns: 1000, buckets: [[lower_us, count], ...] (non-empty only,
 *                  ascending), overflows (samples >= range_us), range_us }
 */
import type { CyclictestOptions } from './options.js';
import type { DmaLatency, RealtimeState, SystemInfo } from './conditions.js';
import type { LatencyRecorder } from './stats.js';
import type { StopReason } from './measure.js';
import type { LoadStats } from './load.js';
import type { ThreadName } from './options.js';
import { throttledRuns, throttleNote, type RtThrottleSettings, type ThrottleRunView } from './throttle.js';

export const SCHEMA = 'ktimers-cyclictest/1';

export interface RunRecord {
  api: string;
  /** the measuring thread (default 'main') */
  thread?: ThreadName;
  /** label the run with its thread (several threads, or not the main one) */
  showThread?: boolean;
  /** the measuring thread's policy and priority in force */
  policy?: string;
  priority?: number;
  /** --load on the main thread during the run */
  load?: LoadStats | null;
  /** samples the RT thread's ring could not hold */
  dropped?: number;
  rec: LatencyRecorder;
  intervalNs: bigint;
  spinNs: bigint;
  periodJiffies?: number;
  stoppedBy: StopReason;
  wallNs: number;
  cpuNs: number;
  spunNs: number;
}

export interface Report {
  options: CyclictestOptions;
  argv: string[];
  version: string;
  rt: RealtimeState;
  /** the RT thread's settings in force (--thread rt), or null */
  rtThread?: RealtimeState | null;
  /** the RT thread asked for its default SCHED_FIFO (no -p/--policy/--nice) */
  rtDefaulted?: boolean;
  dma: DmaLatency;
  sys: SystemInfo;
  loadEnd: number[];
  rtThrottle?: RtThrottleSettings;
  runs: RunRecord[];
}

function throttleView(runs: readonly RunRecord[]): ThrottleRunView[] {
  return runs.map((r) => ({ label: runLabel(r), thread: r.thread ?? 'main', policy: r.policy ?? '', maxNs: r.rec.count > 0 ? r.rec.max : -Infinity }));
}

/** A run's numbers, in ns (integers) and percents. */
export function runStats(r: RunRecord) {
  const rec = r.rec;
  const has = rec.count > 0;
  const pct = (x: number) => +((x / r.wallNs) * 100).toFixed(2);
  return {
    samples: rec.count,
    latency_ns: has
      ? {
          min: Math.round(rec.min),
          avg: Math.round(rec.mean()),
          max: Math.round(rec.max),
          p50: rec.percentile(50),
          p90: rec.percentile(90),
          p99: rec.percentile(99),
          p99_9: rec.percentile(99.9),
        }
      : null,
    cpu_percent: r.wallNs > 0 ? pct(r.cpuNs) : 0,
    spin_percent: r.wallNs > 0 ? pct(r.spunNs) : 0,
  };
}

export function toJson(rep: Report): object {
  const o = rep.options;
  return {
    schema: SCHEMA,
    tool: 'ktimers cyclictest',
    version: rep.version,
    date: new Date().toISOString(),
    argv: rep.argv,
    options: {
      interval_us: o.intervalUs,
      loops: o.loops,
      duration_s: o.durationS,
      clock: o.clock,
      apis: o.apis,
      spin_us: o.spinUs,
      warmup: o.warmup,
      histogram_us: o.histogramUs,
      dma_latency: o.dmaLatency,
      threads: o.threads,
      load_us: o.loadUs,
    },
    conditions: {
      tid: rep.rt.tid,
      sched: rep.rt.sched,
      affinity: rep.rt.affinity,
      nice: rep.rt.nice,
      mlockall: rep.rt.mlockall,
      cpu_dma_latency: { requested: rep.dma.requested, held: rep.dma.held, value_us: rep.dma.value_us, error: rep.dma.error },
      ...rep.sys,
      loadavg_start: rep.sys.loadavg,
      loadavg_end: rep.loadEnd,
      loadavg: undefined,
      rt_thread: rep.rtThread
        ? { tid: rep.rtThread.tid, sched: rep.rtThread.sched, affinity: rep.rtThread.affinity, nice: rep.rtThread.nice, defaulted: rep.rtDefaulted ?? false }
        : null,
      rt_throttling: {
        sched_rt_runtime_us: rep.rtThrottle?.runtimeUs ?? null,
        sched_rt_period_us: rep.rtThrottle?.periodUs ?? null,
        throttled_runs: throttledRuns(throttleView(rep.runs)),
      },
    },
    runs: rep.runs.map((r) => {
      const s = runStats(r);
      const buckets: [number, number][] = [];
      const b = r.rec.buckets;
      for (let i = 0; i < b.length; i++) if (b[i]! > 0) buckets.push([i, b[i]!]);
      return {
        api: r.api,
        thread: r.thread ?? 'main',
        label: runLabel(r),
        policy: r.policy ?? null,
        priority: r.priority ?? null,
        load: r.load ? { chunk_us: r.load.chunkUs, chunks: r.load.chunks, busy_ns: r.load.busyNs } : null,
        ring_dropped: r.dropped ?? 0,
        interval_ns: Number(r.intervalNs),
        spin_ns: Number(r.spinNs),
        ...(r.periodJiffies !== undefined ? { period_jiffies: r.periodJiffies } : {}),
        samples: s.samples,
        warmup_discarded: Math.min(r.rec.warmup, r.rec.seen),
        stopped_by: r.stoppedBy,
        wall_ns: Math.round(r.wallNs),
        overruns: r.rec.overruns,
        early: r.rec.early,
        latency_ns: s.latency_ns,
        cpu_percent: s.cpu_percent,
        spin_percent: s.spin_percent,
        histogram: { bucket_ns: 1000, range_us: r.rec.histUs, overflows: r.rec.overflows, buckets },
      };
    }),
  };
}

const API_LABEL: Record<string, string> = { hrtimer: 'hrtimer', timer_list: 'timer_list', setTimeout: 'setTimeout' };

export function runLabel(r: RunRecord): string {
  return (API_LABEL[r.api] ?? r.api) + (r.spinNs > 0n ? ` spin ${Number(r.spinNs) / 1000}` : '') +
    (r.showThread ? ` ${r.thread ?? 'main'}` : '');
}

function us(ns: number): string {
  const v = ns / 1000;
  return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(1);
}

/** One line per setting: what is in force, and why a request is not. */
export function conditionsText(rep: Report): string[] {
  const { rt, dma, sys } = rep;
  const lines: string[] = [];
  const refused = (s: { requested: string | null; error: string | null }, what: string) =>
    s.error !== null ? ` (asked ${what} ${s.requested}: refused — ${s.error})` : '';
  lines.push(`scheduling: ${rt.sched.policy}${rt.sched.priority ? ' ' + rt.sched.priority : ''}, nice ${rt.nice.value}` +
    refused(rt.sched, 'for') + refused(rt.nice, 'nice') +
    (rt.sched.requested === null && rt.sched.priority === 0 ? ' (-p 99 for SCHED_FIFO, as cyclictest -p 99)' : ''));
  lines.push(`CPUs: ${fmtCpus(rt.affinity.cpus)} of ${sys.cpus}` + refused(rt.affinity, 'for'));
  const t = rep.rtThread;
  if (t) {
    lines.push(`RT thread (tid ${t.tid}): ${t.sched.policy}${t.sched.priority ? ' ' + t.sched.priority : ''}, nice ${t.nice.value}, ` +
      `CPUs ${fmtCpus(t.affinity.cpus)}` + refused(t.sched, rep.rtDefaulted ? 'for its default' : 'for') + refused(t.affinity, 'for CPUs') + refused(t.nice, 'nice'));
  }
  lines.push(`memory: ${rt.mlockall.prefaulted ? 'prefaulted (-m: mlockall then munlockall; V8 cannot run with locked memory)' : 'not prefaulted'}` +
    (rt.mlockall.error !== null ? ` (mlockall refused — ${rt.mlockall.error})` : rt.mlockall.requested === null ? ' (-m to prefault)' : ''));
  lines.push(`cpu_dma_latency: ${dma.held ? `held at ${dma.value_us ?? 0} us` : dma.requested ? `not held — ${dma.error}` : 'not held (--no-dma-latency)'}`);
  lines.push(`clock: ${sys.clock}, resolution ${sys.clock_resolution_ns} ns; clocksource ${sys.clocksource}`);
  lines.push(`machine: ${sys.kernel} ${sys.machine}, ${sys.cpus} x ${sys.cpu_model}; Node ${sys.node}; ` +
    `load average ${sys.loadavg.join(' ')} at start, ${rep.loadEnd.join(' ')} at end`);
  return lines;
}

function fmtCpus(cpus: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(j > i ? `${cpus[i]}-${cpus[j]}` : `${cpus[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The summary: one column per API, then what it means and the conditions. */
export function summaryText(rep: Report): string {
  const o = rep.options;
  const cols = rep.runs.map((r) => ({ label: runLabel(r), r, s: runStats(r) }));
  const width = Math.max(12, ...cols.map((c) => c.label.length + 2));
  const row = (name: string, cells: string[]) => name.padEnd(16) + cells.map((c) => c.padStart(width)).join('');
  const L = (f: (l: NonNullable<ReturnType<typeof runStats>['latency_ns']>) => number) =>
    cols.map((c) => (c.s.latency_ns ? us(f(c.s.latency_ns)) : '-'));
  const lines = [
    `ktimers cyclictest: how late each timer callback started after its expiry time (lower is better)`,
    `interval ${o.intervalUs} us, ${rep.sys.clock}` +
      (o.loops > 0 ? `, ${o.loops} loops` : '') + (o.durationS > 0 ? `, ${o.durationS} s` : '') +
      (rep.runs.length > 1 ? (o.threads.length > 1 ? ' per API and thread' : ' per API') + ', one after the other' : '') +
      (o.loadUs > 0 ? `; main thread loaded with back-to-back ${o.loadUs} us chunks` : ''),
    '',
    row('', cols.map((c) => c.label)),
    ...(cols.some((c) => c.r.showThread)
      ? [row('thread', cols.map((c) => `${shortPolicy(c.r.policy)}${c.r.priority ? ' ' + c.r.priority : ''}`))]
      : []),
    row('samples', cols.map((c) => String(c.s.samples))),
    row('min (us)', L((l) => l.min)),
    row('avg (us)', L((l) => l.avg)),
    row('p50 (us)', L((l) => l.p50)),
    row('p90 (us)', L((l) => l.p90)),
    row('p99 (us)', L((l) => l.p99)),
    row('p99.9 (us)', L((l) => l.p99_9)),
    row('max (us)', L((l) => l.max)),
    row('overruns', cols.map((c) => String(c.r.rec.overruns))),
    row('early', cols.map((c) => String(c.r.rec.early))),
    row('CPU %', cols.map((c) => c.s.cpu_percent.toFixed(1))),
  ];
  if (cols.some((c) => c.r.load)) lines.push(row('load chunks', cols.map((c) => String(c.r.load?.chunks ?? 0))));
  if (cols.some((c) => c.r.spinNs > 0n)) lines.push(row('busy-wait %', cols.map((c) => (c.r.spinNs > 0n ? c.s.spin_percent.toFixed(1) : '-'))));
  lines.push('');
  lines.push('latency = time from a timer\'s expiry to the start of its JS callback; p99 = 99% of callbacks');
  lines.push('started at least this soon; overruns = periods skipped because a callback came more than a');
  lines.push('period late; early = callbacks that started before their expiry (an hrtimer never does).');
  const notes: string[] = [];
  for (const c of cols) {
    if (c.r.api === 'setTimeout' && o.intervalUs < 1000) notes.push(`setTimeout cannot wait less than 1 ms: at ${o.intervalUs} us most periods are overruns.`);
    if (c.r.api === 'timer_list') {
      notes.push(`timer_list runs on jiffies: period ${c.r.periodJiffies} jiffies; the wheel runs a timer in the tick after ` +
        'its expiry jiffy (never early), so its latency is at least one jiffy, as in the kernel.');
    }
    if (c.r.stoppedBy === 'signal') notes.push(`${c.label}: stopped by Ctrl-C after ${c.s.samples} samples.`);
    if ((c.r.dropped ?? 0) > 0) notes.push(`${c.label}: ${c.r.dropped} samples lost (the main thread did not empty the RT thread's ring in time).`);
    if (c.r.rec.traceDropped > 0) notes.push(`${c.label}: the plot's trace keeps the first ${c.r.rec.traceLen} samples.`);
  }
  // On the same thread: the main thread's hrtimer against the main thread's setTimeout.
  const hr = cols.find((c) => c.r.api === 'hrtimer' && c.s.latency_ns);
  const st = cols.find((c) => c.r.api === 'setTimeout' && c.s.latency_ns && c.r.thread === hr?.r.thread);
  if (hr && st && hr.s.latency_ns!.p50 > 0 && hr.s.latency_ns!.p99 > 0) {
    const a = hr.s.latency_ns!;
    const b = st.s.latency_ns!;
    notes.push(`median: ${hr.label} ${us(a.p50)} us late, ${st.label} ${us(b.p50)} us (${ratio(b.p50, a.p50)}); ` +
      `p99: ${us(a.p99)} us vs ${us(b.p99)} us (${ratio(b.p99, a.p99)}).`);
  }
  // The isolation: the same API on the (loaded) main thread and on the RT thread.
  for (const api of o.apis) {
    const m = cols.find((c) => c.r.api === api && c.r.thread === 'main' && c.s.latency_ns);
    const r = cols.find((c) => c.r.api === api && c.r.thread === 'rt' && c.s.latency_ns);
    if (m && r) {
      notes.push(`${api}: p50 ${us(m.s.latency_ns!.p50)} us on the main thread, ${us(r.s.latency_ns!.p50)} us on the RT thread; ` +
        `p99 ${us(m.s.latency_ns!.p99)} vs ${us(r.s.latency_ns!.p99)} us; max ${us(m.s.latency_ns!.max)} vs ${us(r.s.latency_ns!.max)} us` +
        (o.loadUs > 0 ? ` (main thread busy in ${o.loadUs} us chunks).` : '.'));
    }
  }
  notes.push(...throttleNote(throttleView(rep.runs), rep.rtThrottle ?? { runtimeUs: null, periodUs: null }));
  const busy = rep.sys.loadavg[0]! > rep.sys.cpus * 0.5;
  if (busy) {
    notes.push(`The machine was busy (load average ${rep.sys.loadavg[0]} on ${rep.sys.cpus} CPUs): other work delays wake-ups, ` +
      'so the tail (p99 and up) shows that load as much as the timers.');
  }
  if (notes.length) lines.push('', ...notes);
  lines.push('', ...conditionsText(rep));
  return lines.join('\n') + '\n';
}

/** SCHED_FIFO -> FIFO: the thread row is narrow. */
function shortPolicy(p: string | undefined): string {
  return (p ?? '?').replace(/^SCHED_/, '');
}

/** "20x tighter" / "1.3x looser": how setTimeout's figure `a` compares with the hrtimer's `b`. */
function ratio(a: number, b: number): string {
  const r = a / b;
  if (r >= 1) return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}x tighter with the hrtimer`;
  return `${(1 / r).toFixed(1)}x looser with the hrtimer`;
}

/**
 * cyclictest's -h output: "# Histogram", one line per 1 us bucket up to the
 * range (bucket and count, zero-padded to 6 digits, one count column per API),
 * then the totals, min, avg, max and overflows.
 */
export function histogramText(rep: Report, rangeUs: number): string {
  const runs = rep.runs;
  const pad = (n: number) => String(n).padStart(6, '0');
  const lines = ['# Histogram', `# columns: ${runs.map(runLabel).join(', ')}`];
  for (let i = 0; i < rangeUs; i++) lines.push([pad(i), ...runs.map((r) => pad(r.rec.buckets[i] ?? 0))].join(' '));
  const per = (f: (r: RunRecord) => string | number) => runs.map((r) => ` ${f(r)}`).join('');
  lines.push(`# Total:${per((r) => pad(r.rec.count))}`);
  lines.push(`# Min Latencies:${per((r) => pad(r.rec.count ? Math.floor(Math.max(0, r.rec.min) / 1000) : 0))}`);
  lines.push(`# Avg Latencies:${per((r) => pad(r.rec.count ? Math.floor(Math.max(0, r.rec.mean()) / 1000) : 0))}`);
  lines.push(`# Max Latencies:${per((r) => pad(r.rec.count ? Math.floor(r.rec.max / 1000) : 0))}`);
  lines.push(`# Histogram Overflows:${per((r) => pad(countFrom(r.rec, rangeUs)))}`);
  return lines.join('\n') + '\n';
}

/** Samples at or above `fromUs` (the recorder's own range may be wider than -h's). */
function countFrom(rec: LatencyRecorder, fromUs: number): number {
  let n = rec.overflows;
  for (let i = fromUs; i < rec.buckets.length; i++) n += rec.buckets[i]!;
  return n;
}
