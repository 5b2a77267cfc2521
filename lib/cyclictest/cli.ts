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
 * Exit status: 0 done (also after Ctrl-C), 1 a runtime failure (cannot write an
 * output file), 2 a usage error.
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
import { histogramText, summaryText, toJson, type Report, type RunRecord } from './report.js';
import { LatencyRecorder } from './stats.js';
import { renderSvg } from './svg.js';
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
  for (const [file, what] of [[o.json, '--json'], [o.plot, '--plot']] as const) {
    if (file === null || file === '-') continue;
    try {
      fs.closeSync(fs.openSync(file, 'w'));
    } catch (e) {
      io.stderr.write(`ktimers cyclictest: ${what}: cannot write ${file}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  return run(o, rest, io);
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
  const rt = applyRealtime(mainMeasures ? o : { ...o, priority: 0, policy: null, affinity: null, nice: null });
  for (const [s, what] of [[rt.sched, 'scheduling'], [rt.affinity, 'affinity'], [rt.nice, 'nice'], [rt.mlockall, 'mlockall']] as const) {
    if (s.error !== null) io.stderr.write(`ktimers cyclictest: ${what} ${s.requested} refused, running without it: ${s.error}\n`);
  }
  const dma = holdDmaLatency(o.dmaLatency);
  if (dma.error !== null) io.stderr.write(`ktimers cyclictest: cpu_dma_latency not held, running without it: ${dma.error}\n`);

  const stop: StopFlag = { requested: false, abort: null };
  const onSigint = (): void => {
    if (stop.requested) process.exit(130); // second Ctrl-C: leave at once
    stop.requested = true;
    stop.abort?.();
  };
  process.on('SIGINT', onSigint);

  const runs: RunRecord[] = [];
  const showThread = o.threads.length > 1 || o.threads[0] !== 'main';
  const load = new MainThreadLoad(o.loadUs);
  try {
    for (const api of o.apis) {
      for (const thread of o.threads) {
        if (stop.requested) break;
        const rec = new LatencyRecorder(Math.max(DEFAULT_HISTOGRAM_US, o.histogramUs), o.warmup, o.plot !== null, progress?.live ?? null);
        const state = thread === 'rt' ? rtThread!.state : rt;
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
    process.off('SIGINT', onSigint);
    releaseDmaLatency(dma);
    await rtThread?.close();
    await progress?.stop();
  }

  const rep: Report = {
    options: o, argv, version: version(), rt, rtThread: rtThread?.state ?? null, rtDefaulted: rtThread?.defaulted ?? false,
    dma, sys, loadEnd: os.loadavg().map((x) => +x.toFixed(2)), rtThrottle: readRtThrottle(), runs,
  };
  out.write(summaryText(rep));
  if (o.histogramUs > 0) out.write('\n' + histogramText(rep, o.histogramUs));
  try {
    if (o.json !== null) {
      const text = JSON.stringify(toJson(rep), null, 2) + '\n';
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
