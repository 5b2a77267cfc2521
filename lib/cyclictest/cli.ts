/**
 * `ktimers` command line (bin/ktimers.js): the `cyclictest` subcommand.
 *
 * Order of a run, and why:
 *  1. parse (usage errors exit 2 before anything happens);
 *  2. check that the --json / --plot files can be written (a long run must not
 *     end in "cannot open file");
 *  3. start the progress thread *before* any real-time setting, so it keeps the
 *     default policy (progress.ts), and the RT thread if --thread has it
 *     (rt-thread.ts; it applies its own settings);
 *  4. apply -p/--policy/-a/--nice to this thread if it measures (--thread
 *     main), -m to the process, hold cpu_dma_latency; refusals are reported
 *     and the run goes on;
 *  5. measure each API on each thread in turn (measure.ts here, rt-thread.ts
 *     there), with --load's chunks on this thread during each (load.ts);
 *  6. release, then print the summary (stdout; stderr when --json writes to
 *     stdout), the -h histogram, the JSON and the SVG.
 * With -t/-S the run is cyclictest's own shape instead (multi.ts): N real-time
 * measuring threads at once, cyclictest's output on stdout, the ktimers summary
 * on stderr. Either way --json writes rt-tests' document (compat.ts) with the
 * ktimers fields alongside under keys of their own, and an option cyclictest
 * takes that means nothing here is said once on stderr, never refused.
 * Signals: SIGINT/SIGTERM end the run and print everything; a second SIGINT
 * leaves at once; SIGUSR1 writes the current T: lines to stderr.
 * Exit status: 0 done (also after Ctrl-C or -b), 1 a runtime failure (cannot
 * write an output file), 2 a usage error.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { nr_cpu_ids } from '../sched.js';
import { applyRealtime, holdDmaLatency, releaseDmaLatency, systemInfo } from './conditions.js';
import { MainThreadLoad, type LoadStats } from './load.js';
import { measure, type MeasureResult, type MeasureSpec, type StopFlag } from './measure.js';
import { CliUsageError, helpText, parseCyclictestArgs, type CyclictestOptions } from './options.js';
import { Progress } from './progress.js';
import { RtThread } from './rt-thread.js';
import { readRtThrottle } from './throttle.js';
import { summaryText, toJson, type Report, type RunRecord } from './report.js';
import { LatencyRecorder } from './stats.js';
import { renderSvg } from './svg.js';
import { breakLines, histogramBlock, rtTestsJson, tLine, verboseHeader, verboseLine, type ThreadView } from './compat.js';
import { LiveStatus, runThreads, tracingMounted } from './multi.js';
import { native } from '../binding.js';
import os from 'node:os';

/** The 1 us histogram every run records (JSON, SVG), whatever -h asks to print: 10 ms. */
export const DEFAULT_HISTOGRAM_US = 10_000;

export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

const TOP_HELP = `Usage: ktimers <command> [options]

Commands:
  cyclictest    measure timer latency from JavaScript (ktimers cyclictest --help)
`;

function version(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[], io: Io = process): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === 'help') {
    io.stdout.write(TOP_HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd !== 'cyclictest') {
    io.stderr.write(`ktimers: unknown command '${cmd}'\n${TOP_HELP}`);
    return 2;
  }
  let o: CyclictestOptions;
  try {
    o = parseCyclictestArgs(rest);
    if (o.affinity !== null) {
      const n = nr_cpu_ids();
      const bad = o.affinity.filter((c) => c >= n);
      if (bad.length) throw new CliUsageError(`-a: no CPU ${bad.join(', ')} here (CPUs 0-${n - 1})`);
    }
  } catch (e) {
    if (e instanceof CliUsageError) {
      io.stderr.write(`ktimers cyclictest: ${e.message}\nTry 'ktimers cyclictest --help'.\n`);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    io.stdout.write(helpText());
    return 0;
  }
  for (const why of o.ignored) io.stderr.write(`ktimers cyclictest: ignored ${why}\n`);
  if (o.tracemark && !tracingMounted()) io.stderr.write('ktimers cyclictest: ignored --tracemark: no tracefs trace_marker here (tracing is not mounted)\n');
  for (const [file, what] of [[o.json, '--json'], [o.plot, '--plot'], [o.histfile, '--histfile']] as const) {
    if (file === null || file === '-') continue;
    try {
      fs.closeSync(fs.openSync(file, 'w'));
    } catch (e) {
      io.stderr.write(`ktimers cyclictest: ${what}: cannot write ${file}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  return o.numThreads > 0 ? runMulti(o, rest, io) : run(o, rest, io);
}

/**
 * SIGINT/SIGTERM stop, a second SIGINT leaves, SIGUSR1 reports: installed for
 * the run, removed after (returns the remover). Exported for its test.
 * The second SIGINT is the issue's (an interactive way out when stopping takes
 * long); rt-tests' cyclictest differs here: its sighand only sets shutdown
 * again, so there a second SIGINT changes nothing and everything is printed.
 */
export function installSignals(stop: () => void, status: () => string, io: Io): () => void {
  let stopping = false;
  const onInt = (): void => {
    if (stopping) process.exit(130); // second Ctrl-C: leave at once
    stopping = true;
    stop();
  };
  const onTerm = (): void => {
    stopping = true;
    stop();
  };
  const onUsr1 = (): void => {
    io.stderr.write(status());
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGUSR1', onUsr1);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGUSR1', onUsr1);
  };
}

/** Writes the -h block to --histfile or stdout. */
function writeHistogram(o: CyclictestOptions, threads: readonly ThreadView[], io: Io): void {
  const text = histogramBlock(threads, o.histogramUs, o.histofall);
  if (o.histfile !== null) fs.writeFileSync(o.histfile, text);
  else io.stdout.write(text);
}

/** -t/-S: cyclictest's multi-thread run (multi.ts). */
async function runMulti(o: CyclictestOptions, argv: string[], io: Io): Promise<number> {
  const sys = systemInfo(o.clock);
  // The main thread only drains rings and prints: -m and --mainaffinity apply to it, no priority.
  // --mainaffinity only once the measuring threads exist (onStopReady below), as cyclictest
  // restricts its main thread after creating its threads: a thread inherits its creator's
  // CPU mask, and without -a the measuring threads must keep every CPU.
  const rt = applyRealtime({ ...o, priority: 0, policy: null, nice: null, affinity: null });
  if (rt.mlockall.error !== null) io.stderr.write(`ktimers cyclictest: mlockall ${rt.mlockall.requested} refused, running without it: ${rt.mlockall.error}\n`);
  const mainAffinity = (): void => {
    if (o.mainAffinity === null) return;
    rt.affinity = applyRealtime({ ...o, priority: 0, policy: null, nice: null, mlockall: false, affinity: o.mainAffinity }).affinity;
    const a = rt.affinity;
    if (a.error !== null) io.stderr.write(`ktimers cyclictest: main thread affinity ${a.requested} refused, running without it: ${a.error}\n`);
  };
  const dma = holdDmaLatency(o.dmaLatency, o.latencyUs);
  if (dma.error !== null) io.stderr.write(`ktimers cyclictest: cpu_dma_latency not held, running without it: ${dma.error}\n`);
  else if (dma.held) io.stdout.write(`# /dev/cpu_dma_latency set to ${o.latencyUs}us\n`);
  let uninstall = (): void => {};
  let res;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  try {
    res = await runThreads(o, io, {
      histogramRecordUs: Math.max(DEFAULT_HISTOGRAM_US, o.histogramUs),
      onStopReady: (stop, status) => {
        mainAffinity();
        uninstall = installSignals(stop, status, io);
      },
    });
  } catch (e) {
    io.stderr.write(`ktimers cyclictest: ${(e as Error).message}\n`);
    return 1;
  } finally {
    uninstall();
    releaseDmaLatency(dma);
  }
  if (typeof res === 'string') {
    io.stderr.write(`ktimers cyclictest: ${res}\n`);
    return 1;
  }
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const runs: RunRecord[] = res.views.flatMap((v) => v.threads.map((t) => ({
    api: v.api, thread: 'rt' as const, showThread: true, policy: t.priority > 0 ? `SCHED_${(o.policy ?? 'fifo').toUpperCase()}` : 'SCHED_OTHER',
    priority: t.priority, rec: t.rec, intervalNs: BigInt(Math.round(t.intervalUs * 1000)), spinNs: 0n,
    stoppedBy: res.stoppedBySignal || res.broke ? 'signal' as const : o.loops > 0 ? 'loops' as const : 'duration' as const,
    wallNs, cpuNs: (cpu.user + cpu.system) * 1000, spunNs: 0, load: null, dropped: 0,
  })));
  try {
    if (o.histogramUs > 0) writeHistogram(o, res.threads, io);
    const rep: Report = {
      options: o, argv, version: version(), rt, rtThread: null, rtDefaulted: false,
      dma, sys, loadEnd: os.loadavg().map((x) => +x.toFixed(2)), rtThrottle: readRtThrottle(), runs,
    };
    io.stderr.write(summaryText(rep));
    if (o.json !== null) {
      const doc = { ...rtTestsJson({ argv, version: version(), start: res.start, end: res.end, returnCode: 0, threads: res.threads, histogramUs: o.histogramUs, nsecs: o.nsecs }), ...toJson(rep) };
      const text = JSON.stringify(doc, null, 2) + '\n';
      if (o.json === '-') io.stdout.write(text);
      else fs.writeFileSync(o.json, text);
    }
    if (o.plot !== null) fs.writeFileSync(o.plot, renderSvg(runs, { title: 'ktimers cyclictest: timer callback latency', subtitle: [`${o.numThreads} threads, interval ${o.intervalUs} us`] }));
  } catch (e) {
    io.stderr.write(`ktimers cyclictest: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}

async function run(o: CyclictestOptions, argv: string[], io: Io): Promise<number> {
  const out = o.json === '-' ? io.stderr : io.stdout;
  const progress = !o.quiet && io.stderr.isTTY === true ? new Progress() : null;
  const iv = BigInt(Math.round(o.intervalUs * 1000));
  const spinNs = BigInt(Math.round(o.spinUs * 1000));
  if (progress) await progress.start({ api: o.apis[0]!, tid: 0, prio: 0, intervalUs: o.intervalUs });

  const sys = systemInfo(o.clock);
  let rtThread: RtThread | null = null;
  if (o.threads.includes('rt')) {
    try {
      rtThread = await RtThread.start(o);
    } catch (e) {
      await progress?.stop();
      io.stderr.write(`ktimers cyclictest: cannot start the RT thread: ${(e as Error).message}\n`);
      return 1;
    }
    const t = rtThread.state;
    if (rtThread.defaulted && t.sched.error !== null) {
      io.stderr.write(`ktimers cyclictest: warning: the RT thread runs ${t.sched.policy}, not ${t.sched.requested} ` +
        `(its default; -p to choose): ${t.sched.error}\n`);
    }
    for (const [s, what] of [[rtThread.defaulted ? null : t.sched, 'scheduling'], [t.affinity, 'affinity'], [t.nice, 'nice']] as const) {
      if (s !== null && s.error !== null) io.stderr.write(`ktimers cyclictest: RT thread: ${what} ${s.requested} refused, running without it: ${s.error}\n`);
    }
  }
  // With --thread rt alone the main thread does not measure: it keeps its policy
  // (and carries --load as SCHED_OTHER, as the report advises).
  const mainMeasures = o.threads.includes('main');
  const rt = applyRealtime(mainMeasures ? o : { ...o, priority: 0, policy: null, affinity: o.mainAffinity, nice: null });
  for (const [s, what] of [[rt.sched, 'scheduling'], [rt.affinity, 'affinity'], [rt.nice, 'nice'], [rt.mlockall, 'mlockall']] as const) {
    if (s.error !== null) io.stderr.write(`ktimers cyclictest: ${what} ${s.requested} refused, running without it: ${s.error}\n`);
  }
  const dma = holdDmaLatency(o.dmaLatency, o.latencyUs);
  if (dma.error !== null) io.stderr.write(`ktimers cyclictest: cpu_dma_latency not held, running without it: ${dma.error}\n`);
  // cyclictest's own line, first on its stdout whenever it holds the device, for the
  // scripts that read it. Not on a terminal, where the progress line owns the screen
  // until the summary (which says whether the device was held).
  else if (dma.held && io.stdout.isTTY !== true) out.write(`# /dev/cpu_dma_latency set to ${o.latencyUs}us\n`);

  const stop: StopFlag = { requested: false, abort: null };
  const views: ThreadView[] = [];
  const tLines = (): string => views.map((t, i) => tLine(i, t, o.nsecs) + '\n').join('');
  const uninstall = installSignals(() => {
    stop.requested = true;
    stop.abort?.();
  }, tLines, io);
  let breakHit: { tid: number; valueUs: number } | null = null;
  const start = new Date();
  if (o.verbose) out.write(verboseHeader(nr_cpu_ids(), o.apis.flatMap(() => o.threads.map(() => o.intervalUs)), o.distanceUs));

  // cyclictest's live T: lines on stdout (multi.ts LiveStatus), as a script
  // reading a pipe expects them. Not on a terminal: the progress line on
  // stderr (progress.ts) shows the same there, without this thread printing.
  const live = !o.quiet && !o.verbose && out === io.stdout && io.stdout.isTTY !== true ? new LiveStatus(o, views, out) : null;
  const runs: RunRecord[] = [];
  const showThread = o.threads.length > 1 || o.threads[0] !== 'main';
  const load = new MainThreadLoad(o.loadUs);
  try {
    for (const api of o.apis) {
      for (const thread of o.threads) {
        if (stop.requested) break;
        const rec = new LatencyRecorder(Math.max(DEFAULT_HISTOGRAM_US, o.histogramUs), o.warmup, o.plot !== null, progress?.live ?? null);
        const state = thread === 'rt' ? rtThread!.state : rt;
        if (o.histogramUs > 0) {
          rec.outlierUs = o.histogramUs;
          rec.outlierCap = o.histogramUs;
        }
        const view: ThreadView = { tid: state.tid, priority: state.sched.priority, intervalUs: o.intervalUs, cpu: state.affinity.cpus.length === 1 ? state.affinity.cpus[0]! : -1, rec };
        const index = views.push(view) - 1;
        if (o.verbose || o.breakUs > 0) {
          rec.onSample = (lateNs, cycle) => {
            if (o.verbose) out.write(verboseLine(index, cycle, Math.trunc(o.nsecs ? lateNs : lateNs / 1000)));
            if (o.breakUs > 0 && breakHit === null && lateNs > o.breakUs * 1000) {
              breakHit = { tid: state.tid, valueUs: Math.trunc(lateNs / 1000) };
              stop.requested = true;
              // Not from inside the timer's own callback: a timer cannot cancel itself there.
              setImmediate(() => stop.abort?.());
            }
          };
        }
        progress?.begin({ api: showThread ? `${api} ${thread}` : api, tid: state.tid, prio: state.sched.priority, intervalUs: o.intervalUs });
        const spin = api === 'hrtimer' ? spinNs : 0n;
        const spec: MeasureSpec = { api, intervalNs: iv, clock: o.clock, spinNs: spin, loops: o.loops, durationS: o.durationS };
        const cpu0 = process.cpuUsage();
        const spun0 = native.state().spinNs ?? 0n;
        const t0 = process.hrtime.bigint();
        load.start();
        let res: MeasureResult & { dropped?: number; spunNs?: number };
        let loadStats: LoadStats;
        try {
          res = thread === 'rt' ? await rtThread!.run(spec, rec, stop) : await measure(spec, rec, stop);
        } finally {
          loadStats = load.stop();
        }
        const wallNs = Number(process.hrtime.bigint() - t0);
        const cpu = process.cpuUsage(cpu0);
        progress?.pause();
        runs.push({
          api,
          thread,
          showThread,
          policy: state.sched.policy,
          priority: state.sched.priority,
          rec,
          intervalNs: iv,
          spinNs: spin,
          ...(res.periodJiffies !== undefined ? { periodJiffies: res.periodJiffies } : {}),
          stoppedBy: res.stoppedBy,
          wallNs,
          cpuNs: (cpu.user + cpu.system) * 1000,
          // The RT thread counts its own busy-wait (the binding's state is per thread).
          spunNs: res.spunNs ?? Number((native.state().spinNs ?? 0n) - spun0),
          load: o.loadUs > 0 ? loadStats : null,
          dropped: res.dropped ?? 0,
        });
      }
    }
  } catch (e) {
    io.stderr.write(`ktimers cyclictest: ${(e as Error).message}\n`);
    return 1;
  } finally {
    live?.stop();
    uninstall();
    releaseDmaLatency(dma);
    await rtThread?.close();
    await progress?.stop();
  }

  const rep: Report = {
    options: o, argv, version: version(), rt, rtThread: rtThread?.state ?? null, rtDefaulted: rtThread?.defaulted ?? false,
    dma, sys, loadEnd: os.loadavg().map((x) => +x.toFixed(2)), rtThrottle: readRtThrottle(), runs,
  };
  // cyclictest's output first, on stdout; with -h (parsed as gnuplot data by
  // cyclictest's users) the ktimers summary moves to stderr.
  if ((o.quiet && o.histogramUs === 0) || breakHit !== null) out.write(tLines());
  if (o.breakUs > 0) out.write(breakLines([...new Set(views.map((v) => v.tid))], breakHit));
  try {
    if (o.histogramUs > 0) {
      if (o.histfile !== null) fs.writeFileSync(o.histfile, histogramBlock(views, o.histogramUs, o.histofall));
      else out.write(histogramBlock(views, o.histogramUs, o.histofall));
    }
  } catch (e) {
    io.stderr.write(`ktimers cyclictest: ${(e as Error).message}\n`);
    return 1;
  }
  (o.histogramUs > 0 ? io.stderr : out).write(summaryText(rep));
  try {
    if (o.json !== null) {
      const doc = { ...rtTestsJson({ argv, version: version(), start, end: new Date(), returnCode: 0, threads: views, histogramUs: o.histogramUs, nsecs: o.nsecs }), ...toJson(rep) };
      const text = JSON.stringify(doc, null, 2) + '\n';
      if (o.json === '-') io.stdout.write(text);
      else fs.writeFileSync(o.json, text);
    }
    if (o.plot !== null) {
      const sub = [
        `interval ${o.intervalUs} us, ${sys.clock}, ${rt.sched.policy}${rt.sched.priority ? ' ' + rt.sched.priority : ''}, ` +
          `cpu_dma_latency ${dma.held ? 'held at 0' : 'not held'}, ${rt.mlockall.prefaulted ? 'memory prefaulted' : 'memory not prefaulted'}`,
        `clocksource ${sys.clocksource}, ${sys.kernel}, ${sys.cpus} x ${sys.cpu_model}, Node ${sys.node}, load average ${sys.loadavg.join(' ')}`,
      ];
      fs.writeFileSync(o.plot, renderSvg(runs, { title: 'ktimers cyclictest: timer callback latency', subtitle: sub }));
    }
  } catch (e) {
    io.stderr.write(`ktimers cyclictest: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}
