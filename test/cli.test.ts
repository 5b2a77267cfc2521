// `ktimers cyclictest`: the option parser (unit), the command's exit codes and
// messages, the --json document of short real runs, the --plot SVG, and the
// run-on-without-privilege path. Real runs are kept short (-l 200..300 at 1 ms).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CliUsageError,
  DEFAULTS,
  helpText,
  parseCpuList,
  parseCyclictestArgs,
  parseDuration,
  SPECS,
} from '../dist/cyclictest/options.js';
import { logEdges, niceCeil } from '../dist/cyclictest/svg.js';

import { SLOWDOWN } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/ktimers.js', import.meta.url));
const run = (args: string[], opts: { timeout?: number } = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: (opts.timeout ?? 30_000) * SLOWDOWN });

function usage(argv: string[]): string {
  try {
    parseCyclictestArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(CliUsageError);
    expect((e as CliUsageError).code).toBe('ERR_KTIMERS_CLI_USAGE');
    return (e as Error).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('option parser', () => {
  it('defaults: 1000 us, no limit, hrtimer on CLOCK_MONOTONIC, cpu_dma_latency held, nothing real-time', () => {
    expect(parseCyclictestArgs([])).toEqual({ ...DEFAULTS, apis: ['hrtimer'] });
    expect(DEFAULTS).toMatchObject({ intervalUs: 1000, loops: 0, durationS: 0, priority: 0, clock: 'monotonic', dmaLatency: true, spinUs: 0 });
  });

  it('takes values as cyclictest (getopt_long) does: attached, separate, --name=value, --name value', () => {
    for (const argv of [['-i100'], ['-i', '100'], ['--interval=100'], ['--interval', '100']]) {
      expect(parseCyclictestArgs(argv).intervalUs).toBe(100);
    }
    const o = parseCyclictestArgs(['-mqi250', '-l', '5000', '-p99', '-a', '0-1', '-h', '400', '-D', '2m']);
    expect(o).toMatchObject({ mlockall: true, quiet: true, intervalUs: 250, loops: 5000, priority: 99, affinity: [0, 1], histogramUs: 400, durationS: 120 });
  });

  it('ktimers options: --api list, --clock, --spin in us with ns precision, --plot, --warmup, --no-dma-latency / --laptop', () => {
    const o = parseCyclictestArgs(['--api', 'hrtimer,setTimeout,timer_list', '--plot=x.svg', '--warmup', '10', '--no-dma-latency']);
    expect(o.apis).toEqual(['hrtimer', 'setTimeout', 'timer_list']);
    expect(o).toMatchObject({ plot: 'x.svg', warmup: 10, dmaLatency: false });
    expect(parseCyclictestArgs(['--laptop']).dmaLatency).toBe(false);
    expect(parseCyclictestArgs(['--clock=tai']).clock).toBe('tai');
    expect(parseCyclictestArgs(['-i', '100', '--spin', '37.5']).spinUs).toBe(37.5);
    expect(parseCyclictestArgs(['--policy', 'rr', '-p', '10'])).toMatchObject({ policy: 'rr', priority: 10 });
    expect(parseCyclictestArgs(['--policy', 'batch', '--nice', '-5'])).toMatchObject({ policy: 'batch', nice: -5 });
  });

  it('--json takes its file as --json=FILE or --json FILE (cyclictest 2.x); alone (or before an option) it means stdout', () => {
    expect(parseCyclictestArgs(['--json']).json).toBe('-');
    expect(parseCyclictestArgs(['--json=out.json']).json).toBe('out.json');
    expect(parseCyclictestArgs(['--json', 'out.json']).json).toBe('out.json');
    expect(parseCyclictestArgs(['--json', '-q'])).toMatchObject({ json: '-', quiet: true });
    expect(usage(['--json='])).toMatch(/needs a file name/);
  });

  it('-h is the histogram (as in cyclictest), --help is help', () => {
    expect(parseCyclictestArgs(['-h', '50']).histogramUs).toBe(50);
    expect(parseCyclictestArgs(['--help']).help).toBe(true);
    expect(usage(['-h'])).toBe('-h needs a value (US)');
    expect(usage(['-?'])).toMatch(/unknown option '-\?' \(help is --help\)/);
  });

  it('durations and CPU lists in cyclictest notation', () => {
    expect([parseDuration('10'), parseDuration('10s'), parseDuration('1.5m'), parseDuration('2h'), parseDuration('1d')]).toEqual([10, 10, 90, 7200, 86400]);
    expect(parseCpuList('3')).toEqual([3]);
    expect(parseCpuList('0,2-4,2')).toEqual([0, 2, 3, 4]);
    expect(() => parseDuration('0')).toThrow(CliUsageError);
    expect(() => parseDuration('5x')).toThrow(/like 10, 10s, 5m/);
    expect(() => parseCpuList('3-1')).toThrow(/runs backwards/);
    expect(() => parseCpuList('1,,2')).toThrow(CliUsageError);
    expect(() => parseCpuList('9999')).toThrow(/past the kernel's limit/);
  });

  it('rejects bad values with a message naming the option', () => {
    const cases: [string[], RegExp][] = [
      [['--bogus'], /unknown option '--bogus'/],
      [['-X'], /unknown option '-X'/],
      [['stray'], /unexpected argument 'stray'/],
      [['-i'], /-i needs a value/],
      [['-i', 'abc'], /-i needs a number of microseconds/],
      [['-i', '0'], /-i must be in \[1, /],
      [['-i', '1e3'], /-i needs a number/],
      [['-l', '-5'], /-l must be in \[0, /],
      [['-l', '1.5'], /-l needs an integer/],
      [['-p', '100'], /-p must be in \[0, 99\]/],
      [['--nice', '20'], /--nice must be in \[-20, 19\]/],
      [['--clock', 'utc'], /--clock must be one of monotonic, realtime, boottime, tai/],
      [['--api', 'hrtimer,nope'], /--api must be one of hrtimer, timer_list, setTimeout/],
      [['--api', 'hrtimer,hrtimer'], /lists an API twice/],
      [['--quiet=1'], /--quiet takes no value/],
      [['--spin', '-1'], /--spin needs a number/],
      [['--spin', '0.0001'], /up to 3 decimals/],
      [['-h', '0'], /-h must be in \[1, /],
      [['--plot='], /--plot needs a file name/],
      [['--', 'x'], /unexpected argument 'x'/],
    ];
    for (const [argv, re] of cases) expect(usage(argv), argv.join(' ')).toMatch(re);
  });

  it('rejects option combinations that cannot work', () => {
    expect(usage(['--spin', '50', '--api', 'setTimeout'])).toMatch(/--spin applies to --api hrtimer only/);
    expect(usage(['-i', '100', '--spin', '100'])).toMatch(/must be shorter than --interval/);
    expect(usage(['--clock', 'realtime', '--api', 'timer_list'])).toMatch(/--clock realtime applies to --api hrtimer only/);
    expect(usage(['--policy', 'fifo'])).toMatch(/needs a priority: -p 1..99/);
    expect(usage(['--policy', 'other', '-p', '5'])).toMatch(/takes none/);
    expect(usage(['-p', '50', '--nice', '5'])).toMatch(/real-time thread \(-p\) ignores it/);
    expect(usage(['-l', '10', '--warmup', '10'])).toMatch(/--warmup \(10\) must be smaller than --loops \(10\)/);
  });

  it('--help lists every option the parser knows', () => {
    const h = helpText();
    for (const s of SPECS) {
      expect(h).toContain(`--${s.long}`);
      if (s.short) expect(h).toContain(`-${s.short}, --${s.long}`);
    }
  });
});

describe('the ktimers command', () => {
  it('usage errors exit 2 with the message and a pointer to --help, before measuring anything', () => {
    const r = run(['cyclictest', '-i', 'fast']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("ktimers cyclictest: -i needs a number of microseconds (up to 3 decimals), got 'fast'\nTry 'ktimers cyclictest --help'.\n");
    const cpu = run(['cyclictest', '-a', '4000']);
    expect(cpu.status).toBe(2);
    expect(cpu.stderr).toMatch(/-a: no CPU 4000 here \(CPUs 0-\d+\)/);
    const cmd = run(['latency']);
    expect(cmd.status).toBe(2);
    expect(cmd.stderr).toMatch(/unknown command 'latency'/);
    expect(run([]).status).toBe(2);
  });

  it('--help exits 0 and prints the option list', () => {
    const r = run(['cyclictest', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(helpText());
  });

  it('an output file that cannot be written is an error (exit 1) before the run starts', () => {
    const r = run(['cyclictest', '-l', '1000000', '--json=/nonexistent-dir/x.json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--json: cannot write \/nonexistent-dir\/x\.json/);
  });
});

// --- short real runs -------------------------------------------------------

let dir: string;
let doc: any; // --json of `-l 200 -i 1000 --api hrtimer,setTimeout,timer_list`
let docStdout: string;
let docStderr: string;
let spinDoc: any;
let svg: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ktimers-cli-'));
  const a = run(['cyclictest', '-l', '200', '-i', '1000', '-q', '--api', 'hrtimer,setTimeout,timer_list', '--json', '-h', '20',
    '--plot', path.join(dir, 'p.svg')]);
  if (a.status !== 0) throw new Error(`run failed: ${a.status} ${a.stderr}`);
  docStdout = a.stdout;
  docStderr = a.stderr;
  doc = JSON.parse(a.stdout);
  svg = readFileSync(path.join(dir, 'p.svg'), 'utf8');
  const b = run(['cyclictest', '-l', '300', '-i', '1000', '--spin', '200', '-q', `--json=${path.join(dir, 's.json')}`]);
  if (b.status !== 0) throw new Error(`spin run failed: ${b.status} ${b.stderr}`);
  spinDoc = JSON.parse(readFileSync(path.join(dir, 's.json'), 'utf8'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const isInt = (v: unknown) => Number.isInteger(v);

function checkRun(r: any, api: string, samples: number) {
  expect(Object.keys(r).sort()).toEqual(
    ['api', 'thread', 'label', 'policy', 'priority', 'load', 'ring_dropped', 'interval_ns', 'spin_ns', 'samples', 'warmup_discarded', 'stopped_by', 'wall_ns', 'overruns', 'early', 'latency_ns',
      'cpu_percent', 'spin_percent', 'histogram', ...(api === 'timer_list' ? ['period_jiffies'] : [])].sort(),
  );
  expect(r.api).toBe(api);
  // --thread main (the default): the label is the API alone, no load, nothing dropped.
  expect([r.thread, r.label, r.load, r.ring_dropped]).toEqual(['main', r.spin_ns > 0 ? `${api} spin ${r.spin_ns / 1000}` : api, null, 0]);
  expect(r.interval_ns).toBe(1_000_000);
  expect(r.samples).toBe(samples);
  expect(r.stopped_by).toBe('loops');
  expect(r.warmup_discarded).toBe(0);
  const L = r.latency_ns;
  expect(Object.keys(L).sort()).toEqual(['avg', 'max', 'min', 'p50', 'p90', 'p99', 'p99_9'].sort());
  for (const v of Object.values(L)) expect(isInt(v)).toBe(true);
  // Ordered, and inside [min, max] (HdrHistogram's bucket values are clamped to the samples).
  expect(L.min <= L.avg && L.avg <= L.max).toBe(true);
  expect(L.min <= L.p50 && L.p50 <= L.p90 && L.p90 <= L.p99 && L.p99 <= L.p99_9 && L.p99_9 <= L.max).toBe(true);
  // 200 periods of 1 ms take about 0.2 s (loose: a loaded machine may stall).
  expect(r.wall_ns).toBeGreaterThan(150e6);
  expect(r.wall_ns).toBeLessThan(20e9);
  expect(r.cpu_percent).toBeGreaterThan(0);
  // The histogram: 1 us buckets, non-empty ones only, ascending; with the
  // overflows they account for every sample.
  const h = r.histogram;
  expect(h.bucket_ns).toBe(1000);
  expect(h.range_us).toBe(10000);
  let total = h.overflows;
  let last = -1;
  for (const [us, n] of h.buckets) {
    expect(isInt(us) && us > last && us < h.range_us).toBe(true);
    expect(isInt(n) && n > 0).toBe(true);
    last = us;
    total += n;
  }
  expect(total).toBe(samples);
  // The max sample sits in the last bucket (or in the overflows).
  if (h.overflows === 0) expect(last).toBe(Math.floor(Math.max(0, L.max) / 1000));
}

describe('--json on a short real run (-l 200 -i 1000)', () => {
  it('has the documented top-level fields, options and conditions', () => {
    expect(doc.schema).toBe('ktimers-cyclictest/1');
    expect(doc.tool).toBe('ktimers cyclictest');
    expect(doc.version).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
    expect(Number.isNaN(Date.parse(doc.date))).toBe(false);
    expect(doc.options).toEqual({
      interval_us: 1000, loops: 200, duration_s: 0, clock: 'monotonic', apis: ['hrtimer', 'setTimeout', 'timer_list'],
      spin_us: 0, warmup: 0, histogram_us: 20, dma_latency: true, threads: ['main'], load_us: 0,
    });
    const c = doc.conditions;
    expect(c.sched).toEqual({ requested: null, error: null, policy: expect.stringMatching(/^SCHED_/), priority: expect.any(Number) });
    expect(c.affinity.cpus.length).toBeGreaterThan(0);
    expect(c.mlockall).toEqual({ requested: null, error: null, prefaulted: false });
    expect(c.cpu_dma_latency.requested).toBe(true);
    expect(typeof c.cpu_dma_latency.held).toBe('boolean');
    // Held, or an error saying why not; never both.
    expect(c.cpu_dma_latency.held === (c.cpu_dma_latency.error === null)).toBe(true);
    expect(c.clock).toBe('CLOCK_MONOTONIC');
    expect(c.clock_resolution_ns).toBeGreaterThan(0);
    const cs = existsSync('/sys/devices/system/clocksource/clocksource0/current_clocksource')
      ? readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim() : 'unknown';
    expect(c.clocksource).toBe(cs);
    expect(c.loadavg_start).toHaveLength(3);
    expect(c.loadavg_end).toHaveLength(3);
    expect(c).not.toHaveProperty('loadavg');
    expect(c.rt_thread).toBe(null);
    expect(c.rt_throttling.throttled_runs).toEqual([]);
  });

  it('has one run per API in order, each with the documented fields and a consistent histogram', () => {
    expect(doc.runs.map((r: any) => r.api)).toEqual(['hrtimer', 'setTimeout', 'timer_list']);
    checkRun(doc.runs[0], 'hrtimer', 200);
    checkRun(doc.runs[1], 'setTimeout', 200);
    checkRun(doc.runs[2], 'timer_list', 200);
    // An hrtimer is never early; its latency is never negative.
    expect(doc.runs[0].early).toBe(0);
    expect(doc.runs[0].latency_ns.min).toBeGreaterThanOrEqual(0);
    // timer_list: 1 ms is one jiffy at HZ=1000 and runs in the tick after its expiry.
    expect(doc.runs[2].period_jiffies).toBe(1);
    expect(doc.runs[2].latency_ns.min).toBeGreaterThanOrEqual(0);
  });

  it('with --json (stdout) the summary and the -h histogram go to stderr, stdout is the JSON alone', () => {
    expect(docStdout.trimStart().startsWith('{')).toBe(true);
    expect(docStderr).toMatch(/^ktimers cyclictest: how late each timer callback started/m);
    expect(docStderr).toMatch(/^samples +200 +200 +200$/m);
    expect(docStderr).toMatch(/^# Histogram$/m);
    // cyclictest's layout: 20 bucket lines of "bucket count<TAB>count<TAB>count", one
    // column per run; # Total counts the samples inside the range only, as cyclictest's.
    expect(docStderr.match(/^\d{6} \d{6}\t\d{6}\t\d{6}$/gm)).toHaveLength(20);
    const total = /^# Total: (\d{9}) (\d{9}) (\d{9})$/m.exec(docStderr)!.slice(1).map(Number);
    const ovf = /^# Histogram Overflows: (\d{5}) (\d{5}) (\d{5})$/m.exec(docStderr)!.slice(1).map(Number);
    expect(total.map((t, i) => t + ovf[i]!)).toEqual([200, 200, 200]);
  });

  it('--spin: spin_ns recorded, busy-wait reported, still never early', () => {
    const r = spinDoc.runs[0];
    checkRun(r, 'hrtimer', 300);
    expect(r.spin_ns).toBe(200_000);
    expect(spinDoc.options.spin_us).toBe(200);
    expect(r.early).toBe(0);
    expect(r.latency_ns.min).toBeGreaterThanOrEqual(0);
    // Up to 200 us of every 1000 us period is busy-waiting: more than nothing, at most ~20 %.
    expect(r.spin_percent).toBeGreaterThan(0);
    expect(r.spin_percent).toBeLessThan(25);
    // CPU time is only counted while the VM runs the thread; spinning wall time counts regardless.
    expect(r.cpu_percent).toBeGreaterThanOrEqual(r.spin_percent * 0.5);
  });
});

/** Well-formedness: every tag closed in order, attributes quoted, only the 5 XML entities. */
function checkXml(s: string): string[] {
  const stack: string[] = [];
  const tags: string[] = [];
  const body = s.replace(/^<\?xml[^?]*\?>\s*/, '');
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos);)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    if (m[2] === undefined) throw new Error(`stray '${m[0]}' at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    const [, close, name, , selfClose] = m;
    tags.push(name!);
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element at ${m.index}`);
    } else if (!selfClose) {
      stack.push(name!);
    }
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(' ')}`);
  return tags;
}

describe('--plot', () => {
  it('writes a well-formed standalone SVG: histogram and trace panels, one series per API, a legend line per run', () => {
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const tags = checkXml(svg);
    expect(tags[0]).toBe('svg');
    const groups = [...svg.matchAll(/<g class="(histogram|trace)">([\s\S]*?)<\/g>/g)];
    expect(groups.map((g) => g[1])).toEqual(['histogram', 'trace']);
    for (const [, , inner] of groups) {
      expect([...inner!.matchAll(/<path class="series" data-api="(\w+)" data-thread="main" d="M[^"]+"/g)].map((m) => m[1])).toEqual(['hrtimer', 'setTimeout', 'timer_list']);
    }
    expect(svg).toContain('<title>ktimers cyclictest: timer callback latency</title>');
    expect(svg).toMatch(/>hrtimer: 200 samples, min [\d.]+, p50 [\d.]+, p99 [\d.]+, p99\.9 [\d.]+, max [\d.]+ us/);
    expect(svg).toMatch(/>latency \(us, log scale; 20 bins per decade\)</);
    expect(svg).toMatch(/>time since the first expiry \(s\)</);
    // The trace draws every sample: an envelope segment per used pixel column, all inside the panel.
    const trace = groups[1]![2]!;
    const d = /data-api="hrtimer" data-thread="main" d="([^"]+)"/.exec(trace)![1]!;
    const segs = [...d.matchAll(/M([\d.]+),([\d.]+)V([\d.]+)/g)];
    expect(segs.length).toBeGreaterThan(50);
    for (const [, x] of segs) expect(Number(x)).toBeGreaterThanOrEqual(70);
  });

  it('axis helpers: nice round numbers and log bins with no empty-by-construction gaps', () => {
    expect([0.3, 1, 1.1, 2, 2.1, 7, 45, 999, 1001].map(niceCeil)).toEqual([0.5, 1, 2, 2, 5, 10, 50, 1000, 2000]);
    const e = logEdges(1000);
    expect(e.slice(0, 12)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13]);
    expect(e[e.length - 1]).toBe(1000);
    for (let i = 1; i < e.length; i++) expect(e[i]! > e[i - 1]!).toBe(true);
  });
});

describe('without real-time privilege', () => {
  // Root here: drop CAP_SYS_NICE and CAP_IPC_LOCK from the bounding set and
  // zero RLIMIT_RTPRIO (as test/sched.test.ts does), so the child is refused
  // like an ordinary user; the run must go on and say what was not in force.
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const root = process.getuid?.() === 0;
  it.skipIf(!setpriv || !root)('reports each refusal with what is missing, runs SCHED_OTHER, exits 0', () => {
    const out = execFileSync(
      setpriv!,
      ['--bounding-set', '-sys_nice,-ipc_lock', '--inh-caps', '-all', 'prlimit', '--rtprio=0', '--memlock=65536',
        process.execPath, BIN, 'cyclictest', '-p', '80', '-m', '-l', '100', '-q', '--json', '--no-dma-latency'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const j = JSON.parse(out);
    expect(j.conditions.sched).toMatchObject({ requested: 'SCHED_FIFO 80', policy: 'SCHED_OTHER', priority: 0 });
    expect(j.conditions.sched.error).toMatch(/CAP_SYS_NICE or RLIMIT_RTPRIO >= 80/);
    // ASan's runtime (npm run test:asan preloads it) turns mlockall into a no-op that succeeds.
    if (!/libasan/.test(process.env.LD_PRELOAD ?? '')) {
      expect(j.conditions.mlockall.prefaulted).toBe(false);
      expect(j.conditions.mlockall.error).toMatch(/CAP_IPC_LOCK/);
    }
    expect(j.conditions.cpu_dma_latency).toEqual({ requested: false, held: false, value_us: null, error: null });
    expect(j.runs[0].samples).toBe(100);
  });

  it.skipIf(!setpriv || !root)('prints the refusal on stderr and states the conditions in force in the summary', () => {
    const r = spawnSync(
      setpriv!,
      ['--bounding-set', '-sys_nice', '--inh-caps', '-all', 'prlimit', '--rtprio=0',
        process.execPath, BIN, 'cyclictest', '-p', '80', '-l', '50', '-q'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^ktimers cyclictest: scheduling SCHED_FIFO 80 refused, running without it: .*CAP_SYS_NICE/m);
    // The child inherits this process's nice (0 unless the suite itself runs under nice).
    const nice = getPriority(0);
    expect(r.stdout).toMatch(new RegExp(`^scheduling: SCHED_OTHER, nice ${nice} \\(asked for SCHED_FIFO 80: refused — .*RLIMIT_RTPRIO`, 'm'));
  });
});

describe('live progress line', () => {
  // `script` gives the CLI a terminal on stderr, where the line is drawn; it is
  // drawn only there (a pipe or -q gets the summary alone).
  const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
  it.skipIf(!script)('on a terminal: one line rewritten in place, cyclictest layout, counts that grow; then cleared before the summary', () => {
    const r = spawnSync(script!, ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} cyclictest -i 1000 -D 1.2 --api hrtimer`, '/dev/null'],
      { encoding: 'utf8', timeout: 60_000 * SLOWDOWN });
    expect(r.status).toBe(0);
    const out = r.stdout;
    const summaryAt = out.indexOf('ktimers cyclictest: how late');
    expect(summaryAt).toBeGreaterThan(0);
    const live = out.slice(0, summaryAt);
    // Each redraw: carriage return, the line, erase-to-end-of-line; no newline in between.
    const lines = [...live.matchAll(/\r(hrtimer +T: 0 \((\d+)\) P:\d+ I:1000 C: *(\d+) Min: *(\d+) Act: *(\d+) Avg: *(\d+) Max: *(\d+)(?: Overruns: \d+)?)\x1b\[K/g)];
    expect(lines.length).toBeGreaterThanOrEqual(2); // 4 a second over 1.2 s, loosely
    expect(live).not.toMatch(/\n/);
    const counts = lines.map((m) => Number(m[3]));
    for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThan(counts[i - 1]!);
    for (const m of lines) expect(Number(m[4])).toBeLessThanOrEqual(Number(m[7])); // Min <= Max
    // Cleared before the summary is printed.
    expect(live.endsWith('\r\x1b[K')).toBe(true);
  });

  it('not on a terminal: no progress line at all', () => {
    const r = spawnSync(process.execPath, [BIN, 'cyclictest', '-i', '1000', '-l', '300', '--api', 'hrtimer'], { encoding: 'utf8', timeout: 60_000 * SLOWDOWN });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/C: +\d+ Min:/);
    expect(r.stdout).toMatch(/^samples +300$/m);
  });
});

describe('Ctrl-C', () => {
  it('without -l/-D the run goes on until SIGINT, then reports what it measured and exits 0', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [BIN, 'cyclictest', '-q', '--json', '--api', 'hrtimer,setTimeout'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    // Interrupt once the measurement runs: its timerfds exist only after the SIGINT handler is
    // installed (Node's own default handler would kill the process, a different outcome).
    const { readdirSync, readlinkSync } = await import('node:fs');
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
    for (let i = 0; i < 500 && !hasTimerfd(); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    const j = JSON.parse(out);
    // Ctrl-C ends the current API and skips the rest.
    expect(j.runs).toHaveLength(1);
    expect(j.runs[0].stopped_by).toBe('signal');
    expect(j.runs[0].samples).toBeGreaterThan(0);
    expect(j.options.loops).toBe(0);
    expect(j.options.duration_s).toBe(0);
  });
});

describe('npm start', () => {
  it('shows the RT thread: hrtimer and setTimeout on the loaded main thread and on an RT thread, about 10 s in all', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.bin).toEqual({ ktimers: 'bin/ktimers.js' });
    const [node, bin, cmd, ...args] = (pkg.scripts.start as string).split(' ');
    expect([node, bin, cmd]).toEqual(['node', 'bin/ktimers.js', 'cyclictest']);
    const o = parseCyclictestArgs(args);
    expect(o.apis).toEqual(['hrtimer', 'setTimeout']);
    expect(o.threads).toEqual(['main', 'rt']);
    expect(o.loadUs).toBe(200);
    // No -p: it must run anywhere (the RT thread warns and runs SCHED_OTHER without privilege).
    expect(o.priority).toBe(0);
    expect(o.durationS * o.apis.length * o.threads.length).toBe(10);
  });
});
