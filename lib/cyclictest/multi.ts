/**
 * `-t N` / `-S`: cyclictest's own shape of run. N measuring threads, each a
 * real-time worker_thread (rt-thread.ts) with its own periodic timer, all
 * running at once, set up as cyclictest sets up its threads:
 *   - thread i's interval is -i + i * -d (the distance is 0 with -h);
 *   - priority -p on every thread, or -p minus i with --priospread (never
 *     below 1, as a real-time priority must stay one);
 *   - CPU: -a LIST hands the listed CPUs out round robin, -a alone and -S put
 *     thread i on CPU i (mod the CPU count), otherwise unpinned.
 * stdout carries what cyclictest prints (compat.ts): the live `T:` block
 * (refreshed in place, cyclictest's cursor-up sequence; at the end only with
 * -q), `-v` samples, the `-h` block, the `-b` lines. ktimers' own summary goes
 * to stderr, where no cyclictest consumer parses it.
 *
 * Why the main thread stays out of the measurement here: with several
 * threads it drains their rings and refreshes the output; measuring on it as
 * well would put its own work in every sample.
 */
import fs from 'node:fs';
import os from 'node:os';
import { nr_cpu_ids } from '../sched.js';
import { breakLines, histogramBlock, rtTestsJson, tLine, verboseHeader, verboseLine, type ThreadView } from './compat.js';
import type { MeasureSpec, StopFlag } from './measure.js';
import type { CyclictestOptions } from './options.js';
import { RtThread } from './rt-thread.js';
import { LatencyRecorder } from './stats.js';
import { MainThreadLoad } from './load.js';

export interface MultiIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/** The trace marker --tracemark writes to, where tracefs is mounted. */
const TRACE_MARKERS = ['/sys/kernel/tracing/trace_marker', '/sys/kernel/debug/tracing/trace_marker'];

/** Thread i's settings, as cyclictest derives them from the command line. */
export function threadSettings(o: CyclictestOptions, i: number, ncpus: number): { o: CyclictestOptions; cpu: number | null } {
  const intervalUs = o.intervalUs + i * o.distanceUs;
  const priority = o.priority > 0 && o.priospread ? Math.max(1, o.priority - i) : o.priority;
  const cpu = o.affinity !== null ? o.affinity[i % o.affinity.length]! : o.affinityAll ? i % ncpus : null;
  return { o: { ...o, intervalUs, priority, affinity: cpu === null ? null : [cpu], ignored: [] }, cpu };
}

export interface MultiResult {
  threads: ThreadView[];
  views: { api: string; threads: ThreadView[] }[];
  stoppedBySignal: boolean;
  broke: boolean;
  start: Date;
  end: Date;
}

/**
 * Runs the threads until -l/-D, a signal (`signals.stop()`), or -b. Resolves
 * with each thread's recorder; output is written as it goes.
 */
export async function runThreads(o: CyclictestOptions, io: MultiIo, hooks: {
  onStopReady(stop: () => void, status: () => string): void;
  histogramRecordUs: number;
}): Promise<MultiResult | string> {
  const ncpus = nr_cpu_ids();
  const n = o.numThreads;
  const setups = Array.from({ length: n }, (_, i) => threadSettings(o, i, ncpus));
  const workers: RtThread[] = [];
  try {
    for (const s of setups) workers.push(await RtThread.start(s.o));
  } catch (e) {
    await Promise.all(workers.map((w) => w.close()));
    return `cannot start measuring thread ${workers.length}: ${(e as Error).message}`;
  }
  for (const [i, w] of workers.entries()) {
    const t = w.state;
    for (const [s, what] of [[w.defaulted ? null : t.sched, 'scheduling'], [t.affinity, 'affinity']] as const) {
      if (s !== null && s.error !== null) io.stderr.write(`ktimers cyclictest: thread ${i}: ${what} ${s.requested} refused, running without it: ${s.error}\n`);
    }
  }
  const tids = workers.map((w) => w.state.tid);
  const stops: StopFlag[] = workers.map(() => ({ requested: false, abort: null }));
  let stoppedBySignal = false;
  let broke = false;
  const stopAll = (): void => {
    for (const s of stops) {
      s.requested = true;
      s.abort?.();
    }
  };
  let current: ThreadView[] = [];
  const block = (): string => current.map((t, i) => tLine(i, t, o.nsecs) + '\n').join('');
  hooks.onStopReady(() => {
    stoppedBySignal = true;
    stopAll();
  }, block);
  // On stderr, where no cyclictest consumer reads: the moment the threads are
  // up and the signal handlers in place (a driver may wait for it, then SIGINT).
  io.stderr.write(`ktimers cyclictest: ${n} measuring thread${n > 1 ? 's' : ''} running (tids ${tids.join(' ')}; SIGINT or SIGTERM stops, SIGUSR1 reports)\n`);

  const views: { api: string; threads: ThreadView[] }[] = [];
  const start = new Date();
  let breakHit: { tid: number; valueUs: number } | null = null;
  if (o.verbose) io.stdout.write(verboseHeader(ncpus, setups.map((x) => x.o.intervalUs), o.distanceUs));
  try {
    for (const api of o.apis) {
      if (stops.some((s) => s.requested)) break;
      const threads: ThreadView[] = workers.map((w, i) => {
        const rec = new LatencyRecorder(hooks.histogramRecordUs, o.warmup, o.plot !== null);
        if (o.histogramUs > 0) {
          rec.outlierUs = o.histogramUs;
          rec.outlierCap = o.histogramUs;
        }
        return { tid: w.state.tid, priority: w.state.sched.priority, intervalUs: setups[i]!.o.intervalUs, cpu: setups[i]!.cpu ?? -1, rec };
      });
      current = threads;
      threads.forEach((t, i) => {
        let redMax = -Infinity;
        let red = 0;
        t.rec.onSample = (lateNs, cycle) => {
          if (o.verbose) {
            const v = Math.trunc(o.nsecs ? lateNs : lateNs / 1000);
            if (o.oscope > 0) {
              // -o RED: one line per RED samples, their largest.
              redMax = Math.max(redMax, v);
              if (++red === o.oscope) {
                io.stdout.write(verboseLine(i, cycle, redMax));
                red = 0;
                redMax = -Infinity;
              }
            } else io.stdout.write(verboseLine(i, cycle, v));
          }
          if (o.breakUs > 0 && !broke && lateNs > o.breakUs * 1000) {
            broke = true;
            breakHit = { tid: t.tid, valueUs: Math.trunc(lateNs / 1000) };
            if (o.tracemark) traceMark(`hit latency threshold (${Math.trunc(lateNs / 1000)} > ${o.breakUs})`);
            stopAll();
          }
        };
      });
      // Live T: block, refreshed in place as cyclictest does it (not with -q, -v or -b's quiet end).
      const live = !o.quiet && !o.verbose ? new LiveStatus(o, threads, io.stdout) : null;
      // --load keeps this (draining, printing) thread busy, as in a single-thread run.
      const load = new MainThreadLoad(o.loadUs);
      load.start();
      try {
        await Promise.all(workers.map((w, i) => {
          const spec: MeasureSpec = {
            api, intervalNs: BigInt(Math.round(setups[i]!.o.intervalUs * 1000)), clock: o.clock,
            spinNs: api === 'hrtimer' ? BigInt(Math.round(o.spinUs * 1000)) : 0n, loops: o.loops, durationS: o.durationS,
          };
          return w.run(spec, threads[i]!.rec, stops[i]!);
        }));
      } finally {
        load.stop();
        live?.stop();
      }
      views.push({ api, threads });
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
  const last = views[views.length - 1]?.threads ?? [];
  // cyclictest prints the final T: lines with -q (without -h), and after -b trips.
  if ((o.quiet && o.histogramUs === 0) || (broke && o.quiet)) io.stdout.write(block());
  if (o.breakUs > 0) io.stdout.write(breakLines(tids, breakHit));
  return { threads: last, views, stoppedBySignal, broke, start, end: new Date() };
}

/**
 * cyclictest's live status without -q: a `policy: ... loadavg: ...` line, an
 * empty line and the T: lines, redrawn every so often after a cursor-up of
 * that many lines, on stdout whatever it is. A script reading a pipe sees
 * each redraw as it is written (Node writes to pipes synchronously on Linux),
 * not only at exit. With -M a redraw waits for a new maximum on some thread,
 * as cyclictest's main loop waits on refresh_on_max_cond (the first draw and
 * the last one are made regardless). Every 100 ms: often enough for a reader,
 * rare enough that the printing thread stays out of the way of the measuring.
 */
export class LiveStatus {
  private printed = 0; // lines of the last draw, to move the cursor back over
  private lastMax: number[];
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly o: CyclictestOptions,
    private readonly threads: readonly ThreadView[],
    private readonly out: { write(s: string): unknown },
  ) {
    this.lastMax = [];
    this.refresh(false);
    this.timer = setInterval(() => this.refresh(false), 100);
  }

  refresh(force: boolean): void {
    const { threads } = this;
    if (threads.length === 0) return; // a single-thread run before its first view
    // (threads may grow: a single-thread run adds one view per API measured)
    if (this.o.refreshOnMax && this.printed && !force && threads.length === this.lastMax.length &&
      threads.every((t, i) => t.rec.max <= this.lastMax[i]!)) return;
    this.lastMax = threads.map((t) => t.rec.max);
    const policy = [...new Set(threads.map((t) => (t.priority > 0 ? (this.o.policy ?? 'fifo') : 'other')))].join('/');
    const head = `policy: ${policy}: loadavg: ${loadavgLine()}          \n\n`;
    const block = threads.map((t, i) => tLine(i, t, this.o.nsecs) + '\n').join('');
    this.out.write((this.printed ? `\x1b[${this.printed}A` : '') + head + block);
    this.printed = threads.length + 2;
  }

  /** The last redraw, with the final counts, and no more. */
  stop(): void {
    clearInterval(this.timer);
    this.refresh(true);
  }
}

/** /proc/loadavg as cyclictest shows it (run queue and last pid included). */
function loadavgLine(): string {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return os.loadavg().map((x) => x.toFixed(2)).join(' ');
  }
}

function traceMark(text: string): void {
  for (const f of TRACE_MARKERS) {
    try {
      fs.writeFileSync(f, text);
      return;
    } catch {
      // not mounted here, or not writable: try the next place
    }
  }
}

export function tracingMounted(): boolean {
  return TRACE_MARKERS.some((f) => fs.existsSync(f));
}

export function histOut(o: CyclictestOptions, threads: readonly ThreadView[]): string {
  return histogramBlock(threads, o.histogramUs, o.histofall);
}

export { rtTestsJson };
