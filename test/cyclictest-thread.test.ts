// `ktimers cyclictest --thread rt / --load`: the options, the RT thread's
// settings, the sample ring, the RT-throttling detection (on synthetic data),
// and short real runs (-l 100..200 at 1 ms): one row per API per thread, the
// main thread's load counted, the RT thread pinned and prioritised on its own,
// and a run without privilege that warns and goes on. No latency figure is
// asserted: the machine is a shared VM.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliUsageError, DEFAULTS, parseCyclictestArgs, RT_THREAD_DEFAULT_PRIORITY } from '../dist/cyclictest/options.js';
import { rtThreadSettings } from '../dist/cyclictest/rt-thread.js';
import { RingReader, RingWriter, ringBuffer } from '../dist/cyclictest/ring.js';
import { summaryText, toJson } from '../dist/cyclictest/report.js';
import { LatencyRecorder } from '../dist/cyclictest/stats.js';
import { THROTTLE_NS, throttledRuns, throttleNote } from '../dist/cyclictest/throttle.js';
import { SLOWDOWN } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/ktimers.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 * SLOWDOWN });
const root = process.getuid?.() === 0;

function usage(argv: string[]): string {
  try {
    parseCyclictestArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(CliUsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('--thread and --load options', () => {
  it('default: the main thread, no load; lists in order; load in us', () => {
    expect(DEFAULTS).toMatchObject({ threads: ['main'], loadUs: 0 });
    expect(parseCyclictestArgs([]).threads).toEqual(['main']);
    expect(parseCyclictestArgs(['--thread', 'rt']).threads).toEqual(['rt']);
    expect(parseCyclictestArgs(['--thread=rt,main']).threads).toEqual(['rt', 'main']);
    expect(parseCyclictestArgs(['--load', '200']).loadUs).toBe(200);
    expect(parseCyclictestArgs(['--load=0.5']).loadUs).toBe(0.5);
    // The parsed defaults are copies: a run's list never aliases DEFAULTS.
    const o = parseCyclictestArgs([]);
    o.threads.push('rt');
    expect(DEFAULTS.threads).toEqual(['main']);
  });

  it('bad values are usage errors naming the option', () => {
    expect(usage(['--thread', 'foo'])).toBe("--thread must be one of main, rt, got 'foo'");
    expect(usage(['--thread', 'main,'])).toMatch(/--thread must be one of main, rt, got ''/);
    expect(usage(['--thread', 'rt,rt'])).toMatch(/--thread lists a thread twice/);
    expect(usage(['--thread'])).toMatch(/--thread needs a value/);
    expect(usage(['--load', '-1'])).toMatch(/--load needs a number of microseconds/);
    expect(usage(['--load', 'lots'])).toMatch(/--load needs a number of microseconds/);
    expect(usage(['--load', '1000001'])).toMatch(/--load must be in \[0, 1000000\] us/);
  });

  it('the command exits 2 on them, before measuring', () => {
    const r = run(['cyclictest', '--thread', 'foo']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("ktimers cyclictest: --thread must be one of main, rt, got 'foo'\nTry 'ktimers cyclictest --help'.\n");
    const l = run(['cyclictest', '--load', '-1']);
    expect(l.status).toBe(2);
    expect(l.stderr).toMatch(/^ktimers cyclictest: --load needs a number of microseconds/);
  });
});

describe('the RT thread\'s settings', () => {
  it('SCHED_FIFO 50 when nothing is asked (defaulted), the command line otherwise; never -m', () => {
    const d = rtThreadSettings(parseCyclictestArgs(['--thread', 'rt', '-m', '-a', '1']));
    expect(d.defaulted).toBe(true);
    expect(d.settings).toMatchObject({ priority: RT_THREAD_DEFAULT_PRIORITY, policy: 'fifo', mlockall: false, affinity: [1] });
    expect(RT_THREAD_DEFAULT_PRIORITY).toBe(50);
    const p = rtThreadSettings(parseCyclictestArgs(['--thread', 'rt', '-p', '10', '--policy', 'rr']));
    expect(p.defaulted).toBe(false);
    expect(p.settings).toMatchObject({ priority: 10, policy: 'rr' });
    const n = rtThreadSettings(parseCyclictestArgs(['--thread', 'rt', '--nice', '-5']));
    expect(n.defaulted).toBe(false);
    expect(n.settings).toMatchObject({ priority: 0, policy: null, nice: -5 });
    const other = rtThreadSettings(parseCyclictestArgs(['--policy', 'other']));
    expect(other).toMatchObject({ defaulted: false, settings: { priority: 0, policy: 'other' } });
  });
});

describe('sample ring', () => {
  it('hands samples over in order, across the wrap, and counts what a full ring drops', () => {
    const sab = ringBuffer(4);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const got: number[][] = [];
    const f = (l: number, t: number, m: number) => got.push([l, t, m]);
    expect(r.drain(f)).toBe(0);
    let k = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++, k++) w.push(k * 10, k, k % 2);
      expect(r.drain(f)).toBe(3);
    }
    expect(got).toEqual(Array.from({ length: 15 }, (_, i) => [i * 10, i, i % 2]));
    // Full at 4: the 5th and 6th are dropped, not overwritten.
    for (let i = 0; i < 6; i++) w.push(-i, 0, 0);
    expect(w.dropped).toBe(2);
    got.length = 0;
    expect(r.drain(f)).toBe(4);
    expect(got.map((s) => s[0])).toEqual([-0, -1, -2, -3]);
    expect(r.dropped).toBe(2);
    expect(() => ringBuffer(3)).toThrow(RangeError);
  });

  it('uint32 head/tail wrap-around keeps working', () => {
    const sab = ringBuffer(4);
    new Uint32Array(sab, 0, 3).set([0xfffffffe, 0xfffffffe, 0]);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const got: number[] = [];
    for (let i = 0; i < 4; i++) w.push(i, 0, 0);
    w.push(99, 0, 0);
    expect(w.dropped).toBe(1);
    r.drain((l) => got.push(l));
    expect(got).toEqual([0, 1, 2, 3]);
  });
});

describe('RT throttling detection (synthetic runs)', () => {
  const settings = { runtimeUs: 950000, periodUs: 1000000 };
  const ms = (x: number) => x * 1e6;

  it('a SCHED_FIFO/RR run with one sample >= 40 ms late; not SCHED_OTHER, not 39.9 ms', () => {
    const runs = [
      { label: 'hrtimer main', policy: 'SCHED_FIFO', maxNs: ms(52.6) },
      { label: 'hrtimer rt', policy: 'SCHED_FIFO', maxNs: ms(39.9) },
      { label: 'setTimeout main', policy: 'SCHED_OTHER', maxNs: ms(120) },
      { label: 'timer_list rt', policy: 'SCHED_RR', maxNs: THROTTLE_NS },
      { label: 'empty', policy: 'SCHED_FIFO', maxNs: -Infinity },
    ];
    expect(THROTTLE_NS).toBe(40_000_000);
    expect(throttledRuns(runs)).toEqual(['hrtimer main', 'timer_list rt']);
    const note = throttleNote(runs, settings).join('\n');
    expect(note).toMatch(/^RT throttling: hrtimer main, timer_list rt ran at a real-time policy and lost 52\.6 ms at once/);
    expect(note).toContain('950000 us of every 1000000 us (sched_rt_runtime_us / sched_rt_period_us)');
    expect(note).toContain('stopped for the other 50 ms of each period');
    expect(note).toMatch(/--thread rt\) and leave the busy main thread SCHED_OTHER/);
  });

  it('nothing to say without the signature; other settings are quoted as they are', () => {
    expect(throttleNote([{ label: 'a', policy: 'SCHED_FIFO', maxNs: ms(10) }], settings)).toEqual([]);
    expect(throttleNote([], settings)).toEqual([]);
    const hit = [{ label: 'a', policy: 'SCHED_FIFO', maxNs: ms(45) }];
    expect(throttleNote(hit, { runtimeUs: -1, periodUs: 1000000 }).join('\n')).toMatch(/sched_rt_runtime_us is -1 \(throttling off\)/);
    expect(throttleNote(hit, { runtimeUs: null, periodUs: null }).join('\n')).toMatch(/could not be read/);
    expect(throttleNote(hit, { runtimeUs: 900000, periodUs: 1000000 }).join('\n')).toMatch(/other 100 ms of each period/);

  });

  it('a stall on the RT thread itself is reported, but not as its own throttling and with no advice to move the timer', () => {
    const runs = [
      { label: 'hrtimer main', thread: 'main' as const, policy: 'SCHED_FIFO', maxNs: ms(20) },
      { label: 'hrtimer rt', thread: 'rt' as const, policy: 'SCHED_FIFO', maxNs: ms(101.7) },
    ];
    expect(throttledRuns(runs)).toEqual(['hrtimer rt']);
    const note = throttleNote(runs, settings);
    expect(note).toHaveLength(1);
    expect(note[0]).toMatch(/^hrtimer rt lost 101\.7 ms at once at a real-time policy\. The RT thread sleeps between expiries/);
    expect(note[0]).toMatch(/came from elsewhere/);
    expect(note[0]).not.toMatch(/--thread rt/);
  });

  it('the summary and the JSON carry it for the runs that show it', () => {
    const o = parseCyclictestArgs(['--thread', 'main,rt', '--load', '200', '-l', '3']);
    const recOf = (lates: number[]) => {
      const rec = new LatencyRecorder(10_000, 0, false);
      lates.forEach((l, i) => rec.record(l, i * 1e6, 0));
      return rec;
    };
    const sched = (policy: string, priority: number) => ({ requested: null, error: null, policy, priority });
    const state = (tid: number, policy: string, priority: number) => ({
      tid, sched: sched(policy, priority), affinity: { requested: null, error: null, cpus: [0, 1] },
      nice: { requested: null, error: null, value: 0 }, mlockall: { requested: null, error: null, prefaulted: false },
    });
    const base = { intervalNs: 1_000_000n, spinNs: 0n, stoppedBy: 'loops' as const, wallNs: 3e6, cpuNs: 3e6, spunNs: 0, showThread: true };
    const load = { chunkUs: 200, chunks: 15, busyNs: 3e6 };
    const rep = {
      options: o, argv: [], version: 'test', rt: state(100, 'SCHED_FIFO', 80), rtThread: state(101, 'SCHED_FIFO', 50), rtDefaulted: true,
      dma: { requested: false, held: false, value_us: null, error: null, fd: null },
      sys: { clock: 'CLOCK_MONOTONIC', clock_resolution_ns: 1, clocksource: 'tsc', kernel: 'Linux', machine: 'x86_64', cpus: 2,
        cpu_model: 'cpu', node: 'v20', pid: 100, uid: 0, loadavg: [0, 0, 0] },
      loadEnd: [0, 0, 0], rtThrottle: settings,
      runs: [
        { ...base, api: 'hrtimer', thread: 'main' as const, policy: 'SCHED_FIFO', priority: 80, rec: recOf([50e3, 48e6, 60e3]), load, dropped: 0 },
        { ...base, api: 'hrtimer', thread: 'rt' as const, policy: 'SCHED_FIFO', priority: 50, rec: recOf([40e3, 45e3, 50e3]), load, dropped: 0 },
      ],
    };
    const text = summaryText(rep as any);
    expect(text).toMatch(/^ +hrtimer main +hrtimer rt$/m);
    expect(text).toMatch(/^thread +FIFO 80 +FIFO 50$/m);
    expect(text).toMatch(/^load chunks +15 +15$/m);
    expect(text).toMatch(/^RT throttling: hrtimer main ran at a real-time policy and lost 48\.0 ms at once/m);
    expect(text).toMatch(/^hrtimer: p50 60\.0 us on the main thread, 45\.0 us on the RT thread/m);
    expect(text).toMatch(/^RT thread \(tid 101\): SCHED_FIFO 50, nice 0, CPUs 0-1$/m);
    const j = toJson(rep as any) as any;
    expect(j.conditions.rt_throttling).toEqual({ sched_rt_runtime_us: 950000, sched_rt_period_us: 1000000, throttled_runs: ['hrtimer main'] });
    expect(j.runs.map((r: any) => [r.label, r.thread, r.policy, r.priority])).toEqual([
      ['hrtimer main', 'main', 'SCHED_FIFO', 80], ['hrtimer rt', 'rt', 'SCHED_FIFO', 50]]);
    expect(j.conditions.rt_thread).toMatchObject({ tid: 101, defaulted: true, sched: { policy: 'SCHED_FIFO', priority: 50 } });
  });
});

// --- short real runs -------------------------------------------------------

let both: any; // -l 200 --api hrtimer,setTimeout --thread main,rt --load 200 --json
let bothStderr: string;
let pinned: any; // -l 100 --thread rt -a 0 --json
let svg: string;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ktimers-rt-'));
  const a = run(['cyclictest', '-l', '200', '-q', '--api', 'hrtimer,setTimeout', '--thread', 'main,rt', '--load', '200', '--json',
    '--plot', path.join(dir, 'p.svg')]);
  if (a.status !== 0) throw new Error(`run failed: ${a.status} ${a.stderr}`);
  both = JSON.parse(a.stdout);
  bothStderr = a.stderr;
  svg = readFileSync(path.join(dir, 'p.svg'), 'utf8');
  const b = run(['cyclictest', '-l', '100', '-q', '--thread', 'rt', '-a', '0', '--json', '--api', 'hrtimer,timer_list']);
  if (b.status !== 0) throw new Error(`pinned run failed: ${b.status} ${b.stderr}`);
  pinned = JSON.parse(b.stdout);
}, 120_000 * SLOWDOWN);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--thread main,rt --load 200 (a short real run)', () => {
  it('one run per API per thread, in order, each complete', () => {
    expect(both.options).toMatchObject({ threads: ['main', 'rt'], load_us: 200, apis: ['hrtimer', 'setTimeout'], loops: 200 });
    expect(both.runs.map((r: any) => r.label)).toEqual(['hrtimer main', 'hrtimer rt', 'setTimeout main', 'setTimeout rt']);
    for (const r of both.runs) {
      expect(r.samples).toBe(200);
      expect(r.stopped_by).toBe('loops');
      expect(r.ring_dropped).toBe(0);
      const L = r.latency_ns;
      expect(L.min <= L.p50 && L.p50 <= L.p99 && L.p99 <= L.max).toBe(true);
      // Every sample reached the recorder: the histogram accounts for all of them.
      expect(r.histogram.buckets.reduce((a: number, [, n]: number[]) => a + n!, r.histogram.overflows)).toBe(200);
    }
    // An hrtimer is never early, on either thread.
    expect(both.runs[0].early).toBe(0);
    expect(both.runs[1].early).toBe(0);
  });

  it('the main thread was loaded during every run: chunks ran, each at least 200 us', () => {
    for (const r of both.runs) {
      expect(r.load.chunk_us).toBe(200);
      expect(r.load.chunks).toBeGreaterThan(0);
      expect(r.load.busy_ns).toBeGreaterThanOrEqual(r.load.chunks * 200_000);
      expect(r.load.busy_ns).toBeLessThanOrEqual(r.wall_ns);
    }
  });

  it('the RT thread is its own thread with its own policy; the main thread is left alone', () => {
    const c = both.conditions;
    expect(c.rt_thread.tid).not.toBe(c.tid);
    expect(c.rt_thread.defaulted).toBe(true);
    expect(c.sched.requested).toBe(null);
    expect(c.sched.policy).toBe('SCHED_OTHER');
    for (const r of both.runs) expect(r.policy).toBe(r.thread === 'rt' ? c.rt_thread.sched.policy : c.sched.policy);
    if (root) {
      expect(c.rt_thread.sched).toEqual({ requested: 'SCHED_FIFO 50', error: null, policy: 'SCHED_FIFO', priority: 50 });
      expect(bothStderr).not.toMatch(/warning/);
    }
    expect(c.rt_throttling.sched_rt_period_us === null || c.rt_throttling.sched_rt_period_us > 0).toBe(true);
    expect(Array.isArray(c.rt_throttling.throttled_runs)).toBe(true);
  });

  it('the summary (stderr with --json) has a column per API per thread and the isolation line', () => {
    expect(bothStderr).toMatch(/^ +hrtimer main +hrtimer rt +setTimeout main +setTimeout rt$/m);
    expect(bothStderr).toMatch(/^samples +200 +200 +200 +200$/m);
    expect(bothStderr).toMatch(/^load chunks( +\d+){4}$/m);
    expect(bothStderr).toMatch(/^hrtimer: p50 [\d.]+ us on the main thread, [\d.]+ us on the RT thread/m);
    expect(bothStderr).toMatch(/^RT thread \(tid \d+\): SCHED_\w+/m);
  });

  it('--plot: a series per API per thread in both panels, labelled with the thread', () => {
    for (const panel of ['histogram', 'trace']) {
      const inner = new RegExp(`<g class="${panel}">([\\s\\S]*?)</g>`).exec(svg)![1]!;
      expect([...inner.matchAll(/<path class="series" data-api="(\w+)" data-thread="(\w+)" d="M/g)].map((m) => `${m[1]} ${m[2]}`))
        .toEqual(['hrtimer main', 'hrtimer rt', 'setTimeout main', 'setTimeout rt']);
    }
    expect(svg).toMatch(/>hrtimer rt: 200 samples, min /);
  });

  it('-a pins the RT thread; the main thread, which does not measure, is not pinned', () => {
    expect(pinned.runs.map((r: any) => [r.label, r.samples, r.load])).toEqual([['hrtimer rt', 100, null], ['timer_list rt', 100, null]]);
    expect(pinned.conditions.rt_thread.affinity).toEqual({ requested: '0', error: null, cpus: [0] });
    expect(pinned.conditions.affinity.requested).toBe(null);
  });
});

describe('--thread rt without real-time privilege', () => {
  // As test/cli.test.ts: drop CAP_SYS_NICE and zero RLIMIT_RTPRIO in the child.
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  it.skipIf(!setpriv || !root)('warns on stderr that the RT thread runs SCHED_OTHER, measures anyway, exits 0', () => {
    const r = spawnSync(
      setpriv!,
      ['--bounding-set', '-sys_nice', '--inh-caps', '-all', 'prlimit', '--rtprio=0',
        process.execPath, BIN, 'cyclictest', '--thread', 'rt', '-l', '100', '-q', '--json', '--no-dma-latency'],
      { encoding: 'utf8', timeout: 60_000 * SLOWDOWN },
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^ktimers cyclictest: warning: the RT thread runs SCHED_OTHER, not SCHED_FIFO 50 \(its default; -p to choose\): .*CAP_SYS_NICE/m);
    const j = JSON.parse(r.stdout);
    expect(j.conditions.rt_thread.sched).toMatchObject({ requested: 'SCHED_FIFO 50', policy: 'SCHED_OTHER', priority: 0 });
    expect(j.conditions.rt_thread.sched.error).toMatch(/RLIMIT_RTPRIO/);
    expect(j.runs[0]).toMatchObject({ label: 'hrtimer rt', samples: 100, policy: 'SCHED_OTHER' });
  });

  it.skipIf(!setpriv || !root)('an explicit -p that is refused is reported as such (not as the default)', () => {
    const out = execFileSync(
      setpriv!,
      ['--bounding-set', '-sys_nice', '--inh-caps', '-all', 'prlimit', '--rtprio=0',
        process.execPath, BIN, 'cyclictest', '--thread', 'rt', '-p', '70', '-l', '50', '-q', '--no-dma-latency'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 * SLOWDOWN },
    );
    expect(out).toMatch(/^RT thread \(tid \d+\): SCHED_OTHER, nice \d+, CPUs [\d,-]+ \(asked for SCHED_FIFO 70: refused — /m);
  });
});

describe('Ctrl-C during an RT-thread run', () => {
  it('ends the run on the RT thread, reports what it measured, skips the rest, exits 0', async () => {
    const { spawn } = await import('node:child_process');
    const { readdirSync, readlinkSync } = await import('node:fs');
    const child = spawn(process.execPath, [BIN, 'cyclictest', '-q', '--json', '--thread', 'rt', '--api', 'hrtimer,setTimeout'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    // The RT thread's ktimers opens its timerfds at its first timer, i.e. once the
    // run has started, after the main thread installed its SIGINT handler.
    const hasTimerfd = () => {
      try {
        return readdirSync(`/proc/${child.pid}/fd`).some((fd) => {
          try {
            return readlinkSync(`/proc/${child.pid}/fd/${fd}`) === 'anon_inode:[timerfd]';
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 500 * SLOWDOWN && !hasTimerfd(); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    const j = JSON.parse(out);
    expect(j.runs).toHaveLength(1);
    expect(j.runs[0]).toMatchObject({ label: 'hrtimer rt', stopped_by: 'signal' });
    expect(j.runs[0].samples).toBeGreaterThan(0);
  });
});
