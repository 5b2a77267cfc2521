// `ktimers cyclictest` as a drop-in for scripts that drive rt-tests' cyclictest:
// its getopt_long grammar (every option cyclictest 2.x takes, in a table), and
// real command lines of its users run through bin/ktimers.js: rteval's (stopped
// by SIGINT once the threads run), OSADL's (stdout read as gnuplot data), a CI
// reading `.thread."0".max` from --json, and -b. Where rt-tests' cyclictest is
// installed, the same command lines run through it too, and both outputs must
// have the same structure. No latency figure or duration is asserted: the
// machine is a shared VM; waits are on events (exit, a line on stderr).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findCyclictest } from '../bench/rt-tests.js';
import { CliUsageError, parseCyclictestArgs } from '../dist/cyclictest/options.js';
import { histogramBlock, tLine } from '../dist/cyclictest/compat.js';
import { threadSettings } from '../dist/cyclictest/multi.js';
import { LatencyRecorder } from '../dist/cyclictest/stats.js';
import { nr_cpu_ids } from '../dist/sched.js';
import { SLOWDOWN } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/ktimers.js', import.meta.url));
const NCPU = nr_cpu_ids();
const LIMIT = 120_000 * SLOWDOWN; // backstop only: every wait below ends on an event
const ours = (args: string[]) => spawnSync(process.execPath, [BIN, 'cyclictest', ...args], { encoding: 'utf8', timeout: LIMIT });
const dir = mkdtempSync(path.join(tmpdir(), 'ktimers-compat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usage(argv: string[]): string {
  try {
    parseCyclictestArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(CliUsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

// rt-tests' cyclictest: installed with apt-get when missing (as the benches do), and used
// where it may run real-time threads here.
const CYCLICTEST = findCyclictest().path;
const theirs = (args: string[]) => spawnSync(CYCLICTEST!, args, { encoding: 'utf8', timeout: LIMIT });
const refUsable = CYCLICTEST !== null && theirs(['-q', '-l1', '-p1']).status === 0;
if (!refUsable) {
  console.warn(`cyclictest-compat: rt-tests' cyclictest ${CYCLICTEST === null ? 'is not installed and apt-get could not install it' : 'cannot run -p1 here'}: the side-by-side comparisons are skipped`);
}

describe('the grammar: getopt_long as cyclictest 2.x uses it', () => {
  it("rteval's command line, '-h 3500' as one argv element", () => {
    const o = parseCyclictestArgs(['-i100', '-qmu', '-h 3500', '-p95', '-t2', '-a0-1']);
    expect(o).toMatchObject({ intervalUs: 100, quiet: true, mlockall: true, unbuffered: true, histogramUs: 3500, priority: 95, numThreads: 2, affinity: [0, 1] });
  });

  it('optional values: -t and -a alone, attached, or as the next word when it looks like one', () => {
    expect(parseCyclictestArgs(['-t']).numThreads).toBe(NCPU);
    expect(parseCyclictestArgs(['-t', '3']).numThreads).toBe(3);
    expect(parseCyclictestArgs(['-t3']).numThreads).toBe(3);
    expect(parseCyclictestArgs(['--threads=3']).numThreads).toBe(3);
    expect(parseCyclictestArgs(['-t', '-q'])).toMatchObject({ numThreads: NCPU, quiet: true });
    expect(parseCyclictestArgs(['-a'])).toMatchObject({ affinityAll: true, affinity: null });
    expect(parseCyclictestArgs(['-a', '1']).affinity).toEqual([1]);
    expect(parseCyclictestArgs(['-a0-1,3']).affinity).toEqual([0, 1, 3]);
    if (NCPU > 1) expect(parseCyclictestArgs(['-a', '!0']).affinity).toEqual(Array.from({ length: NCPU - 1 }, (_, i) => i + 1));
    expect(usage(['-a', '!0-4095'])).toMatch(/leaves no CPU/);
  });

  it('long options: unambiguous prefixes, ambiguous ones refused as getopt does', () => {
    expect(parseCyclictestArgs(['--inter=250']).intervalUs).toBe(250);
    expect(parseCyclictestArgs(['--histog', '30']).histogramUs).toBe(30);
    expect(usage(['--hist', '30'])).toBe("option '--hist' is ambiguous; possibilities: '--histogram' '--histofall' '--histfile'");
    expect(usage(['--nosuch'])).toBe("unknown option '--nosuch'");
  });

  it('-D with s/m/h/d in either case; -c 0|1; --json FILE and --json=FILE', () => {
    expect(['10', '10s', '10S', '2m', '2M', '1h', '1H', '1d', '1D'].map((d) => parseCyclictestArgs(['-D', d]).durationS))
      .toEqual([10, 10, 10, 120, 120, 3600, 3600, 86400, 86400]);
    expect(parseCyclictestArgs(['-c', '0']).clock).toBe('monotonic');
    expect(parseCyclictestArgs(['-c1']).clock).toBe('realtime');
    expect(usage(['-c', '2'])).toMatch(/-c must be one of/);
    expect(parseCyclictestArgs(['--json', 'f.json']).json).toBe('f.json');
    expect(parseCyclictestArgs(['--json=f.json']).json).toBe('f.json');
  });

  it('-S is -a -t with one thread per CPU; -h sets the distance to 0; a bad value is still a usage error', () => {
    expect(parseCyclictestArgs(['-Sp90'])).toMatchObject({ smp: true, numThreads: NCPU, affinityAll: true, priority: 90 });
    expect(parseCyclictestArgs(['-t2']).distanceUs).toBe(500);
    expect(parseCyclictestArgs(['-t2', '-h', '10']).distanceUs).toBe(0);
    expect(usage(['-i', ' x'])).toMatch(/-i needs a number/);
    expect(usage(['-h', ' 35x'])).toMatch(/-h needs an integer/);
    expect(usage(['-t2', '--thread', 'rt'])).toMatch(/--thread chooses the one measuring thread .* use one or the other/);
  });

  // Every option of `cyclictest --help` (rt-tests 2.x), with a value where it takes one.
  const TABLE: [string[], (o: ReturnType<typeof parseCyclictestArgs>) => unknown, unknown][] = [
    [['-a', '0'], (o) => o.affinity, [0]],
    [['--affinity=0'], (o) => o.affinity, [0]],
    [['-A', '10'], (o) => o.ignored.length, 1],
    [['--aligned=10'], (o) => o.ignored.length, 1],
    [['-b', '50'], (o) => o.breakUs, 50],
    [['--breaktrace=50'], (o) => o.breakUs, 50],
    [['-c', '1'], (o) => o.clock, 'realtime'],
    [['--clock=0'], (o) => o.clock, 'monotonic'],
    [['--default-system'], (o) => o.dmaLatency, false],
    [['-d', '100'], (o) => o.distanceUs, 100],
    [['--distance=100'], (o) => o.distanceUs, 100],
    [['-D', '5m'], (o) => o.durationS, 300],
    [['--duration=5m'], (o) => o.durationS, 300],
    [['-F', '/tmp/fifo'], (o) => o.ignored.length, 1],
    [['--fifo=/tmp/fifo'], (o) => o.ignored.length, 1],
    [['-h', '100'], (o) => o.histogramUs, 100],
    [['--histogram=100'], (o) => o.histogramUs, 100],
    [['-H', '100'], (o) => [o.histogramUs, o.histofall], [100, true]],
    [['--histofall=100'], (o) => o.histofall, true],
    [['--histfile=h.txt'], (o) => o.histfile, 'h.txt'],
    [['-i', '200'], (o) => o.intervalUs, 200],
    [['--interval=200'], (o) => o.intervalUs, 200],
    [['--json=f.json'], (o) => o.json, 'f.json'],
    [['--laptop'], (o) => o.dmaLatency, false],
    [['--latency=10'], (o) => o.latencyUs, 10],
    [['-l', '10'], (o) => o.loops, 10],
    [['--loops=10'], (o) => o.loops, 10],
    [['--mainaffinity=0'], (o) => o.mainAffinity, [0]],
    [['-m'], (o) => o.mlockall, true],
    [['--mlockall'], (o) => o.mlockall, true],
    [['-M'], (o) => o.refreshOnMax, true],
    [['--refresh_on_max'], (o) => o.refreshOnMax, true],
    [['-N'], (o) => o.nsecs, true],
    [['--nsecs'], (o) => o.nsecs, true],
    [['-o', '10'], (o) => o.oscope, 10],
    [['--oscope=10'], (o) => o.oscope, 10],
    [['-p', '80'], (o) => o.priority, 80],
    [['--priority=80'], (o) => o.priority, 80],
    [['--policy=normal'], (o) => o.policy, 'other'],
    [['--policy=fifo', '-p1'], (o) => o.policy, 'fifo'],
    [['--priospread'], (o) => o.priospread, true],
    [['-q'], (o) => o.quiet, true],
    [['--quiet'], (o) => o.quiet, true],
    [['-r'], (o) => o.ignored.length, 1],
    [['--relative'], (o) => o.ignored.length, 1],
    [['-R'], (o) => o.ignored.length, 1],
    [['--resolution'], (o) => o.ignored.length, 1],
    [['--secaligned'], (o) => o.ignored.length, 1],
    [['--secaligned', '100'], (o) => o.ignored.length, 1],
    [['-s'], (o) => o.ignored.length, 1],
    [['--system'], (o) => o.ignored.length, 1],
    [['-S'], (o) => o.smp, true],
    [['--smp'], (o) => o.smp, true],
    [['--spike=100'], (o) => o.ignored.length, 1],
    [['--spike-nodes=100'], (o) => o.ignored.length, 1],
    [['--smi'], (o) => o.ignored.length, 1],
    [['-t'], (o) => o.numThreads, NCPU],
    [['--threads=2'], (o) => o.numThreads, 2],
    [['--tracemark'], (o) => o.tracemark, true],
    [['-u'], (o) => o.unbuffered, true],
    [['--unbuffered'], (o) => o.unbuffered, true],
    [['-v'], (o) => o.verbose, true],
    [['--verbose'], (o) => o.verbose, true],
    [['--dbg_cyclictest'], (o) => o.ignored.length, 1],
    [['-x'], (o) => o.ignored.length, 1],
    [['--posix_timers'], (o) => o.ignored.length, 1],
  ];
  it.each(TABLE)('%j is accepted', (argv, get, want) => {
    expect(get(parseCyclictestArgs(argv))).toEqual(want);
  });

  it('an ignored option says so on stderr, once, and the run goes on', () => {
    const r = ours(['-x', '-r', '-l', '5', '-q', '--no-dma-latency']);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/^ktimers cyclictest: ignored -x: .+$/gm)).toHaveLength(1);
    expect(r.stderr.match(/^ktimers cyclictest: ignored -r: .+$/gm)).toHaveLength(1);
    expect(r.stdout).toMatch(/^T: 0 \(\s*\d+\) P:\s*\d+ I:1000 C:\s+5 Min:/m);
  });
});

describe('thread set-up as cyclictest derives it', () => {
  it('interval + i * distance, --priospread, -a round robin, -a alone and -S: thread i on CPU i', () => {
    const o = parseCyclictestArgs(['-t4', '-p', '90', '--priospread', '-i', '100', '-d', '50', '-a', '3,5']);
    const s = [0, 1, 2, 3].map((i) => threadSettings(o, i, 8));
    expect(s.map((x) => x.o.intervalUs)).toEqual([100, 150, 200, 250]);
    expect(s.map((x) => x.o.priority)).toEqual([90, 89, 88, 87]);
    expect(s.map((x) => x.cpu)).toEqual([3, 5, 3, 5]);
    const S = parseCyclictestArgs(['-S', '-p', '2', '--priospread', '-h', '10']);
    const t = Array.from({ length: S.numThreads }, (_, i) => threadSettings(S, i, NCPU));
    expect(t.map((x) => x.cpu)).toEqual(Array.from({ length: NCPU }, (_, i) => i));
    expect(t.every((x) => x.o.intervalUs === 1000)).toBe(true); // -h: distance 0
    expect(t.every((x) => x.o.priority >= 1)).toBe(true); // never below 1
  });
});

describe("output formats (cyclictest.c's printf formats)", () => {
  const rec = (samplesNs: number[]) => {
    const r = new LatencyRecorder(10_000, 0, false);
    r.outlierUs = 3;
    r.outlierCap = 3;
    samplesNs.forEach((ns, i) => r.record(ns, i * 1e6, 0));
    return r;
  };
  it('T: line, in us and with -N in ns', () => {
    const t = { tid: 1234, priority: 95, intervalUs: 100, cpu: 0, rec: rec([5000, 20000, 10000]) };
    expect(tLine(0, t, false)).toBe('T: 0 ( 1234) P:95 I:100 C:      3 Min:      5 Act:   10 Avg:   11 Max:      20');
    expect(tLine(1, t, true)).toBe('T: 1 ( 1234) P:95 I:100 C:      3 Min:   5000 Act:   10000 Avg:   11666 Max:   20000');
  });
  it('the -h block: rows, totals, latencies, overflows and their cycle numbers', () => {
    const a = { tid: 1, priority: 0, intervalUs: 1000, cpu: 0, rec: rec([0, 1500, 1700, 3000, 9000, 4000, 5000, 6000]) };
    const b = { tid: 2, priority: 0, intervalUs: 1000, cpu: 1, rec: rec([2100]) };
    expect(histogramBlock([a, b], 3, false)).toBe([
      '# Histogram',
      '000000 000001\t000000',
      '000001 000002\t000000',
      '000002 000000\t000001',
      '# Total: 000000003 000000001',
      '# Min Latencies: 00000 00002',
      '# Avg Latencies: 00003 00002',
      '# Max Latencies: 00009 00002',
      '# Histogram Overflows: 00005 00000',
      '# Histogram Overflow at cycle number:',
      '# Thread 0: 00003 00004 00005 # 00002 others',
      '# Thread 1:',
      '',
      '',
    ].join('\n'));
    // -H: an all-threads column and totals.
    expect(histogramBlock([a, b], 3, true).split('\n')[1]).toBe('000000 000001\t000000\t000001');
  });
});

/** Histogram rows as gnuplot reads them: every non-# line, whitespace-separated numbers. */
function gnuplotRows(text: string): number[][] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.trim().split(/\s+/).map(Number));
}

/**
 * The structure of an output: digits folded, blanks dropped (printf widths
 * overflow with large values), and the overflow cycle lists cut to their label
 * (how many cycles overflowed depends on the machine, not on the format).
 */
const shape = (text: string) => text.split('\n').filter((l) => l !== '')
  .map((l) => l.replace(/^(# Thread \d+:).*$/, '$1').replace(/\d+/g, '9').replace(/ +/g, ''));

describe('command lines of cyclictest users, through bin/ktimers.js', () => {
  it("OSADL: -l1000 -m -Sp90 -i200 -h400 -q, stdout read as gnuplot data", () => {
    const args = ['-l1000', '-m', '-Sp90', '-i200', '-h400', '-q'];
    const r = ours(args);
    expect(r.status, r.stderr).toBe(0);
    const rows = gnuplotRows(r.stdout);
    expect(rows).toHaveLength(400);
    rows.forEach((row, i) => {
      expect(row).toHaveLength(1 + NCPU);
      expect(row[0]).toBe(i);
      expect(row.every(Number.isInteger)).toBe(true);
    });
    // Every sample of every thread: in a bucket, or counted as an overflow.
    const ovf = /^# Histogram Overflows:((?: \d{5})+)$/m.exec(r.stdout)![1]!.trim().split(' ').map(Number);
    for (let t = 0; t < NCPU; t++) expect(rows.reduce((s, row) => s + row[1 + t]!, 0) + ovf[t]!).toBe(1000);
    expect(r.stdout).toMatch(new RegExp(`^# Max Latencies:( \\d{5,}){${NCPU}}$`, 'm'));
    expect(r.stdout).not.toMatch(/^T:/m); // -q with -h: the block only
    expect(r.stderr).toMatch(/^ktimers cyclictest: how late/m); // the ktimers summary, out of the way
    if (refUsable) {
      const c = theirs(args);
      expect(c.status).toBe(0);
      expect(shape(r.stdout)).toEqual(shape(c.stdout));
    }
  });

  it('CI: -q -D 1 --json f.json, read as .thread."0".max', () => {
    const f = path.join(dir, 'f.json');
    const r = ours(['-q', '-D', '1', '--json', f]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(f, 'utf8'));
    expect(typeof doc.thread['0'].max).toBe('number');
    expect(doc.thread['0'].cycles).toBeGreaterThan(0);
    expect(doc).toMatchObject({ file_version: 1, return_code: 0, num_threads: 1 });
    expect(doc['cmdline:']).toBe(`ktimers cyclictest -q -D 1 --json ${f}`);
    expect(doc['rt_test_version:']).toMatch(/^\d+\.\d+/);
    expect(doc.start_time).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/);
    expect(doc.schema).toBe('ktimers-cyclictest/1'); // ktimers' own keys alongside
    expect(r.stdout).toMatch(/^T: 0 \(\s*\d+\) P:\s*\d+ I:1000 C:\s*\d+ Min:\s*\d+ Act:\s*\d+ Avg:\s*\d+ Max:\s*\d+$/m);
    if (refUsable) {
      const g = path.join(dir, 'g.json');
      expect(theirs(['-q', '-D', '1', '--json', g]).status).toBe(0);
      const ref = JSON.parse(readFileSync(g, 'utf8'));
      for (const k of Object.keys(ref)) expect(doc, k).toHaveProperty([k]);
      expect(Object.keys(doc.thread['0']).sort()).toEqual(Object.keys(ref.thread['0']).sort());
      expect(Object.keys(doc.sysinfo).sort()).toEqual(Object.keys(ref.sysinfo).sort());
    }
  });

  it('--json: resolution_in_ns is cyclictest\'s -N flag (0, 1 with -N), and -N puts min/max/avg in ns', () => {
    // rt-tests' write_stats prints use_nsecs under that key; readers take 1 as "the values are in ns".
    const read = (args: string[], f: string) => {
      const r = ours([...args, '-q', '-l', '20', '--json', f]);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(readFileSync(f, 'utf8'));
    };
    const us = read([], path.join(dir, 'res-us.json'));
    const ns = read(['-N'], path.join(dir, 'res-ns.json'));
    expect(us.resolution_in_ns).toBe(0);
    expect(ns.resolution_in_ns).toBe(1);
    // The same run in the other unit: ktimers' own max_ns alongside says what the max was.
    const ownMax = (d: { runs: { latency_ns: { max: number } }[] }) => d.runs[0]!.latency_ns.max;
    expect(ns.thread['0'].max).toBe(Math.trunc(ownMax(ns)));
    expect(us.thread['0'].max).toBe(Math.trunc(ownMax(us) / 1000));
    if (refUsable) {
      const g = path.join(dir, 'res-ref.json');
      expect(theirs(['-N', '-q', '-l', '20', '--json', g]).status).toBe(0);
      expect(JSON.parse(readFileSync(g, 'utf8')).resolution_in_ns).toBe(1);
    }
  });

  it.each([[[] as string[]], [['-t2']]])('-b with a threshold that trips %j: the break lines, exit status 0', (extra) => {
    // Nothing wakes a JS callback within 1 us of its expiry, so -b 1 trips on the first sample.
    const r = ours(['-q', '-b', '1', '-i', '1000', '-l', '1000000', ...extra]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# Thread Ids:( \d{5,})+$/m);
    expect(r.stdout).toMatch(/^# Break thread: \d+$/m);
    expect(r.stdout).toMatch(/^# Break value: \d+$/m);
    expect(r.stdout).toMatch(/^T: 0 /m);
    const tid = Number(/^# Break thread: (\d+)$/m.exec(r.stdout)![1]);
    expect(/^# Thread Ids:(.*)$/m.exec(r.stdout)![1]!.trim().split(' ').map(Number)).toContain(tid);
    if (refUsable) {
      const c = theirs(['-q', '-b', '1', '-i', '1000', '-l', '1000000', ...extra]);
      const lines = (s: string) => s.split('\n').filter((l) => l.startsWith('# Thread Ids') || l.startsWith('# Break')).map((l) => l.replace(/[\d ]+$/, ''));
      expect(lines(r.stdout)).toEqual(lines(c.stdout));
    }
  });

  it("rteval: -i100 -qmu '-h 3500' -p95 -t<CPUs> -a0-<last>, stopped by SIGINT once the threads run", async () => {
    const args = ['cyclictest', '-i100', '-qmu', '-h 3500', '-p95', `-t${NCPU}`, `-a0-${NCPU - 1}`];
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const backstop = setTimeout(() => child.kill('SIGKILL'), LIMIT);
    // The threads-running line is written once the handlers are in place; then SIGUSR1
    // must report one T: line per thread on stderr, then SIGINT ends the run.
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => {
        err += d;
        if (/measuring threads? running/.test(err)) resolve();
      });
    });
    const tLines = () => (err.match(/^T:\s*\d+ \(\s*\d+\) P:/gm) ?? []).length;
    child.kill('SIGUSR1');
    await new Promise<void>((resolve) => {
      const check = () => (tLines() >= NCPU ? resolve() : child.stderr.once('data', check));
      check();
    });
    child.kill('SIGINT');
    const code = await exited;
    clearTimeout(backstop);
    expect(code, err).toBe(0);
    const rows = gnuplotRows(out);
    expect(rows).toHaveLength(3500);
    expect(rows.every((r) => r.length === 1 + NCPU)).toBe(true);
    expect(out).toMatch(new RegExp(`^# Max Latencies:( \\d{5,}){${NCPU}}$`, 'm'));
    expect(out).toMatch(/^# Histogram Overflow at cycle number:$/m);
    for (let t = 0; t < NCPU; t++) expect(out).toMatch(new RegExp(`^# Thread ${t}:`, 'm'));
  });

  it('-b that does not trip: the thread ids only; -v: the header, every sample, then the T: lines', () => {
    const b = ours(['-q', '-b', '100000000', '-l', '3']);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^# Thread Ids: \d{5,}$/m);
    expect(b.stdout).not.toMatch(/^# Break/m);
    const v = ours(['-v', '-q', '-t2', '-l3']);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.match(/^ {0,7}\d+: {0,7}\d+: *-?\d+$/gm)).toHaveLength(6);
    // cyclictest's header quirk, kept: thread N's line shows its interval plus -d (-i 1000, -d 500).
    expect(v.stdout).toMatch(/^Thread 0 Interval: 1500\nThread 1 Interval: 2000$/m);
    expect(v.stdout).toMatch(/^T: 1 .* I:1500 /m);
    if (refUsable) {
      const c = theirs(['-v', '-q', '-t2', '-l3']);
      // cyclictest prints -v samples from its main loop, every 10 ms, and leaves that loop as
      // soon as ONE thread has its -l cycles (cyclictest.c: `if (shutdown || allstopped)
      // break`): the other thread's samples taken after that last print are never printed.
      // How many that is depends on the machine's load, so its output is compared by rule:
      // every line has our format, each thread's cycles run 0, 1, … in order, one thread is
      // complete, and the rest of the lines (the T: lines) are the same as ours.
      const samples = (t: string) => t.split('\n').filter((l) => /^ {0,7}\d+: {0,7}\d+: *-?\d+$/.test(l));
      const cycles = (t: string, thread: number) =>
        samples(t).map((l) => l.split(':').map((x) => Number(x.trim()))).filter(([i]) => i === thread).map(([, n]) => n);
      const theirCycles = [cycles(c.stdout, 0), cycles(c.stdout, 1)];
      expect(samples(c.stdout)).toHaveLength(theirCycles[0]!.length + theirCycles[1]!.length);
      for (const list of theirCycles) expect(list).toEqual([...Array(list.length).keys()]);
      expect(Math.max(...theirCycles.map((l) => l.length))).toBe(3);
      expect([cycles(v.stdout, 0), cycles(v.stdout, 1)]).toEqual([[0, 1, 2], [0, 1, 2]]);
      const rest = (t: string) => shape(t).filter((l) => !l.startsWith('#') && l !== '9:9:9').sort();
      expect(rest(v.stdout)).toEqual(rest(c.stdout));
      const cb = theirs(['-q', '-b', '100000000', '-l', '3']);
      // (without -t the ktimers summary follows on stdout: only cyclictest's lines are compared)
      const cyc = (t: string) => shape(t).filter((l) => l.startsWith('T:') || l.startsWith('#Thread') || l.startsWith('#Break'));
      expect(cyc(b.stdout)).toEqual(cyc(cb.stdout));
    }
  });

  it('-t2 -q without -l/-D: SIGTERM ends the run, everything printed, exit 0 (as cyclictest)', async () => {
    const f = path.join(dir, 'term.json');
    const child = spawn(process.execPath, [BIN, 'cyclictest', '-t2', '-q', `--json=${f}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const backstop = setTimeout(() => child.kill('SIGKILL'), LIMIT);
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => {
        err += d;
        if (/measuring threads running/.test(err)) resolve();
      });
    });
    child.kill('SIGTERM');
    const code = await exited;
    clearTimeout(backstop);
    expect(code, err).toBe(0);
    expect(out.match(/^T: [01] \(/gm)).toHaveLength(2);
    const doc = JSON.parse(readFileSync(f, 'utf8'));
    expect(doc.num_threads).toBe(2);
    expect(Object.keys(doc.thread)).toEqual(['0', '1']);
    expect(doc.runs.every((r: { stopped_by: string }) => r.stopped_by === 'signal')).toBe(true);
  });

  it('-t2 -q: one T: line per thread at the end, interval + distance, exit 0', () => {
    const r = ours(['-t2', '-q', '-l', '20']);
    expect(r.status, r.stderr).toBe(0);
    const t = r.stdout.match(/^T:.*$/gm)!;
    expect(t).toHaveLength(2);
    expect(t[0]).toMatch(/^T: 0 \(\s*\d+\) P:\s*\d+ I:1000 C:\s+20 /);
    expect(t[1]).toMatch(/^T: 1 \(\s*\d+\) P:\s*\d+ I:1500 C:\s+20 /);
    if (refUsable) {
      const c = theirs(['-t2', '-q', '-l', '20']);
      expect(shape(r.stdout).filter((l) => l.startsWith('T:'))).toEqual(shape(c.stdout).filter((l) => l.startsWith('T:')));
    }
  });
});
