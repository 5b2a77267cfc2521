/**
 * `ktimers cyclictest` command line: the option table, the parser and --help.
 *
 * Option names follow rt-tests' cyclictest where it has one (-i, -l, -D, -p, -m,
 * -a, -h, -q, --json, --policy, --laptop); the rest are ktimers' own (--api,
 * --clock, --spin, --plot, --nice, --warmup, --no-dma-latency). The grammar is
 * getopt_long's, as cyclictest 2.x uses it, so that scripts written for
 * cyclictest run unchanged: short options may carry their value attached
 * (`-i100`, also `'-h 3500'` as one word: numbers are read as atoi reads them,
 * leading blanks skipped) or as the next word (`-i 100`), boolean short options
 * combine (`-qmu`), long options take `--name=value` or `--name value` and may
 * be shortened to any unambiguous prefix. The optional-value options (`-t`,
 * `-a`, `--secaligned`) take an attached value, or the next word when it looks
 * like their value (cyclictest peeks at argv[optind] the same way); `--json`
 * takes a file as `--json=FILE` or `--json FILE`, and alone means stdout (a
 * ktimers extension). Every option cyclictest accepts is accepted: the ones a
 * Node process cannot honour are collected in `ignored`, which cli.ts prints
 * as one stderr line each. Note that `-h` is cyclictest's histogram, not help:
 * help is `--help`.
 *
 * The parser is pure (argv in, options out, or a `CliUsageError`), so it is unit
 * tested directly; cli.ts maps a usage error to exit status 2.
 */
import { KtimersError } from '../errors.js';
import { nr_cpu_ids } from '../sched.js';

/** CPUs as cyclictest counts them for `-t` alone, `-S` and `-a !LIST`. */
function nrCpus(): number {
  return nr_cpu_ids();
}

/** Which timer the measurement goes through. */
export type Api = 'hrtimer' | 'timer_list' | 'setTimeout';
export const APIS: readonly Api[] = ['hrtimer', 'timer_list', 'setTimeout'];
export type ClockName = 'monotonic' | 'realtime' | 'boottime' | 'tai';
export const CLOCKS: readonly ClockName[] = ['monotonic', 'realtime', 'boottime', 'tai'];
export type PolicyName = 'other' | 'fifo' | 'rr' | 'batch' | 'idle';
export const POLICIES: readonly PolicyName[] = ['other', 'fifo', 'rr', 'batch', 'idle'];
/** Which thread measures: the JS main thread, or a dedicated real-time worker_thread (rt-thread.ts). */
export type ThreadName = 'main' | 'rt';
export const THREADS: readonly ThreadName[] = ['main', 'rt'];

export interface CyclictestOptions {
  /** Timer period, us. */
  intervalUs: number;
  /** Samples to take per API; 0 = no limit. */
  loops: number;
  /** Run time per API, s; 0 = no limit. Without loops and duration: until Ctrl-C. */
  durationS: number;
  /** Real-time priority (1..99 for fifo/rr); 0 = leave the scheduling policy alone. */
  priority: number;
  /** Scheduling policy; null = fifo when priority > 0, else unchanged. */
  policy: PolicyName | null;
  mlockall: boolean;
  /** CPUs to run the measuring thread on; null = unchanged. */
  affinity: number[] | null;
  /** nice value of the measuring thread; null = unchanged. */
  nice: number | null;
  /** Histogram range printed after the summary (1 us buckets), 0 = none printed. */
  histogramUs: number;
  quiet: boolean;
  /** null = no JSON; '-' = stdout; else a file path. */
  json: string | null;
  clock: ClockName;
  apis: Api[];
  /** Measuring threads, in run order; each API runs on each. */
  threads: ThreadName[];
  /** Main-thread load while measuring: back-to-back synchronous chunks of this many us; 0 = none. */
  loadUs: number;
  /** Hybrid spin, us (hrtimer only); 0 = sleep until the timerfd fires. */
  spinUs: number;
  /** SVG output path, or null. */
  plot: string | null;
  /** Hold /dev/cpu_dma_latency at 0 while measuring. */
  dmaLatency: boolean;
  /** Samples discarded at the start of each API's run (JIT, first page faults). */
  warmup: number;
  help: boolean;
  /** -t/-S: measuring threads (each a real-time worker); 0 = not asked, the single-thread run. */
  numThreads: number;
  /** -S/--smp: one thread per CPU, each pinned to its CPU, same priority. */
  smp: boolean;
  /** -a given without a list: thread N on CPU N (mod CPU count). */
  affinityAll: boolean;
  /** -d/--distance: interval increment per thread, us. */
  distanceUs: number;
  /** --priospread: thread N runs at priority - N. */
  priospread: boolean;
  /** -b/--breaktrace: stop when a sample is later than this, us; 0 = off. */
  breakUs: number;
  /** --tracemark: write a trace mark when -b trips. */
  tracemark: boolean;
  /** -v/--verbose: every sample on stdout, cyclictest's `n:c:v` format. */
  verbose: boolean;
  /** -o/--oscope: with -v, print the max of every RED samples only. */
  oscope: number;
  /** -N/--nsecs: T: lines and -v in ns. */
  nsecs: boolean;
  /** -u/--unbuffered (stdout is written line by line anyway). */
  unbuffered: boolean;
  /** -H/--histofall: -h plus a summary column. */
  histofall: boolean;
  /** --histfile: the -h block goes to this file instead of stdout. */
  histfile: string | null;
  /** -M/--refresh_on_max: live T: lines only when a max rises. */
  refreshOnMax: boolean;
  /** --latency: the value held in /dev/cpu_dma_latency, us. */
  latencyUs: number;
  /** --mainaffinity: CPUs of the main (non-measuring) thread; null = unchanged. */
  mainAffinity: number[] | null;
  /** options accepted for cyclictest's sake that mean nothing here: one stderr line each */
  ignored: string[];
}

export const DEFAULTS: Readonly<CyclictestOptions> = Object.freeze<CyclictestOptions>({
  intervalUs: 1000,
  loops: 0,
  durationS: 0,
  priority: 0,
  policy: null,
  mlockall: false,
  affinity: null,
  nice: null,
  histogramUs: 0,
  quiet: false,
  json: null,
  clock: 'monotonic',
  apis: ['hrtimer'],
  threads: ['main'],
  loadUs: 0,
  spinUs: 0,
  plot: null,
  dmaLatency: true,
  warmup: 0,
  help: false,
  numThreads: 0,
  smp: false,
  affinityAll: false,
  distanceUs: 500,
  priospread: false,
  breakUs: 0,
  tracemark: false,
  verbose: false,
  oscope: 0,
  nsecs: false,
  unbuffered: false,
  histofall: false,
  histfile: null,
  refreshOnMax: false,
  latencyUs: 0,
  mainAffinity: null,
  ignored: [],
});

/** Largest --interval: 1 hour. Longer periods are not a latency test. */
export const MAX_INTERVAL_US = 3_600_000_000;
/** Largest --spin: the native limit of an hrtimer's spin_ns (1 s). */
export const MAX_SPIN_US = 1_000_000;
/** Largest --load chunk: 1 s. */
export const MAX_LOAD_US = 1_000_000;
/** The RT thread's policy when no -p/--policy/--nice says otherwise (where permitted). */
export const RT_THREAD_DEFAULT_PRIORITY = 50;
/** Largest -h/--histogram: 1 s of 1 us buckets (4 MB of counters). */
export const MAX_HISTOGRAM_US = 1_000_000;

/** A bad command line: cli.ts prints the message and exits with status 2. */
export class CliUsageError extends KtimersError {
  constructor(message: string) {
    super('ERR_KTIMERS_CLI_USAGE', message);
  }
}

type Kind = 'flag' | 'value' | 'optional';
interface Spec {
  long: string;
  short?: string;
  kind: Kind;
  arg?: string;
  help: string;
  /** optional options: does the next word look like this option's value? (cyclictest peeks at argv[optind]) */
  peek?: (next: string) => boolean;
  apply(o: CyclictestOptions, v: string | undefined, name: string): void;
}

/** An option cyclictest takes that cannot mean anything here: accepted, and said so once on stderr. */
function ignore(long: string, short: string | undefined, kind: Kind, why: string, arg?: string): Spec {
  return {
    long, kind, help: `accepted, ignored: ${why}`,
    ...(short ? { short } : {}), ...(arg ? { arg } : {}),
    ...(kind === 'optional' ? { peek: (n: string) => /^\s*\d/.test(n) } : {}),
    apply: (o, _v, n) => { o.ignored.push(`${n}: ${why}`); },
  };
}

/** atoi skips leading blanks: `'-h 3500'` arrives as `-h` with the value ' 3500'. */
const atoiTrim = (v: string): string => v.replace(/^[ \t\n\v\f\r]+/, '');

function intArg(v: string, name: string, min: number, max: number): number {
  v = atoiTrim(v);
  // Digits only: Number() would take '', ' 1', '0x10', '1e3' and 'Infinity'.
  if (!/^-?\d+$/.test(v)) throw new CliUsageError(`${name} needs an integer, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new CliUsageError(`${name} must be in [${min}, ${max}], got ${v}`);
  return n;
}

/** A decimal number of microseconds with at most 3 decimals (ns resolution). */
function usArg(v: string, name: string, min: number, max: number): number {
  v = atoiTrim(v);
  if (!/^\d+(\.\d{1,3})?$/.test(v)) throw new CliUsageError(`${name} needs a number of microseconds (up to 3 decimals), got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new CliUsageError(`${name} must be in [${min}, ${max}] us, got ${v}`);
  return n;
}

/** cyclictest's TIME: seconds, or a number with s, m, h or d appended. */
export function parseDuration(v: string, name = '--duration'): number {
  // cyclictest's parse_time_string takes the unit in either case.
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/i.exec(atoiTrim(v));
  if (!m) throw new CliUsageError(`${name} needs a time like 10, 10s, 5m, 2h or 1d, got '${v}'`);
  const s = Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]!.toLowerCase()]!;
  if (s <= 0 || s > 366 * 86400) throw new CliUsageError(`${name} must be more than 0 and at most a year, got '${v}'`);
  return s;
}

/** A cpuset as cyclictest's -a takes it: "2", "0-3", "0,2-3". Sorted, unique. */
export function parseCpuList(v: string, name = '--affinity', ncpus = 4096): number[] {
  v = atoiTrim(v);
  // cyclictest (numa_parse_cpustring_all) takes '!LIST': every CPU but those.
  if (v.startsWith('!')) {
    const not = new Set(parseCpuList(v.slice(1), name));
    const rest: number[] = [];
    for (let c = 0; c < ncpus; c++) if (!not.has(c)) rest.push(c);
    if (rest.length === 0) throw new CliUsageError(`${name} '${v}' leaves no CPU`);
    return rest;
  }
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) throw new CliUsageError(`${name} needs a CPU list like 0, 0-3 or 0,2-3, got '${v}'`);
  const out = new Set<number>();
  for (const part of v.split(',')) {
    const [a, b = a] = part.split('-').map(Number) as [number, number?];
    if (b! < a) throw new CliUsageError(`${name}: range ${part} runs backwards`);
    if (b! > 4095) throw new CliUsageError(`${name}: CPU ${b} is past the kernel's limit (4095)`);
    for (let c = a; c <= b!; c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

function oneOf<T extends string>(v: string, name: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new CliUsageError(`${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

export const SPECS: readonly Spec[] = [
  { long: 'interval', short: 'i', kind: 'value', arg: 'US', help: 'timer period in microseconds (default 1000)',
    apply: (o, v, n) => { o.intervalUs = usArg(v!, n, 1, MAX_INTERVAL_US); } },
  { long: 'loops', short: 'l', kind: 'value', arg: 'N', help: 'samples to take (default: no limit; stop with -D or Ctrl-C)',
    apply: (o, v, n) => { o.loops = intArg(v!, n, 0, Number.MAX_SAFE_INTEGER); } },
  { long: 'duration', short: 'D', kind: 'value', arg: 'TIME', help: 'run time: seconds, or append m, h or d (e.g. 10, 5m)',
    apply: (o, v, n) => { o.durationS = parseDuration(v!, n); } },
  { long: 'priority', short: 'p', kind: 'value', arg: 'PRIO', help: 'real-time priority of the measuring thread (SCHED_FIFO unless --policy rr); 0 = unchanged',
    apply: (o, v, n) => { o.priority = intArg(v!, n, 0, 99); } },
  { long: 'policy', kind: 'value', arg: 'NAME', help: 'scheduling policy: other (or normal), fifo, rr, batch or idle',
    apply: (o, v, n) => { o.policy = v === 'normal' ? 'other' : oneOf(v!, n, POLICIES); } },
  { long: 'nice', kind: 'value', arg: 'N', help: 'nice value of the measuring thread (-20..19; SCHED_OTHER/BATCH)',
    apply: (o, v, n) => { o.nice = intArg(v!, n, -20, 19); } },
  { long: 'mlockall', short: 'm', kind: 'flag', help: 'fault all memory in before measuring (mlockall + munlockall: V8 aborts if memory stays locked)',
    apply: (o) => { o.mlockall = true; } },
  { long: 'affinity', short: 'a', kind: 'optional', arg: 'CPUSET', help: 'run the measuring threads on these CPUs (e.g. 1, 0-1,3 or !0), round robin with -t; alone: thread N on CPU N',
    peek: (n) => /^\s*[\d!]/.test(n),
    apply: (o, v, n) => {
      if (v === undefined) o.affinityAll = true;
      else o.affinity = parseCpuList(v, n, nrCpus());
    } },
  { long: 'histogram', short: 'h', kind: 'value', arg: 'US', help: 'print cyclictest\'s histogram block (1 us buckets up to US) on stdout after the run; the ktimers summary then goes to stderr',
    apply: (o, v, n) => { o.histogramUs = intArg(v!, n, 1, MAX_HISTOGRAM_US); } },
  { long: 'histofall', short: 'H', kind: 'value', arg: 'US', help: 'as -h, with a summary column',
    apply: (o, v, n) => { o.histogramUs = intArg(v!, n, 1, MAX_HISTOGRAM_US); o.histofall = true; } },
  { long: 'histfile', kind: 'value', arg: 'PATH', help: 'write the -h block to PATH instead of stdout',
    apply: (o, v, n) => {
      if (v === '') throw new CliUsageError(`${n} needs a file name`);
      o.histfile = v!;
    } },
  { long: 'threads', short: 't', kind: 'optional', arg: 'NUM', help: 'NUM measuring threads, each a real-time worker with its own hrtimer; alone: one per CPU',
    peek: (n) => /^\s*\d/.test(n) && Number(atoiTrim(n)) > 0,
    apply: (o, v, n) => { o.numThreads = v === undefined ? nrCpus() : intArg(v, n, 1, 4096); } },
  { long: 'smp', short: 'S', kind: 'flag', help: 'one thread per CPU, each pinned to its CPU, all at the same priority (-a -t)',
    apply: (o) => { o.smp = true; } },
  { long: 'distance', short: 'd', kind: 'value', arg: 'DIST', help: 'thread N\'s interval is -i + N*DIST us (default 500; 0 with -h, as cyclictest)',
    apply: (o, v, n) => { o.distanceUs = usArg(v!, n, 0, MAX_INTERVAL_US); } },
  { long: 'priospread', kind: 'flag', help: 'thread N runs at priority -p minus N (at least 1)',
    apply: (o) => { o.priospread = true; } },
  { long: 'breaktrace', short: 'b', kind: 'value', arg: 'USEC', help: 'stop all threads when a sample is more than USEC late; print the # Break lines',
    apply: (o, v, n) => { o.breakUs = intArg(v!, n, 1, MAX_INTERVAL_US); } },
  { long: 'tracemark', kind: 'flag', help: 'with -b: write a mark to the kernel trace buffer when it trips (where tracing is mounted)',
    apply: (o) => { o.tracemark = true; } },
  { long: 'verbose', short: 'v', kind: 'flag', help: 'every sample on stdout as cyclictest prints it (thread:cycle:latency)',
    apply: (o) => { o.verbose = true; } },
  { long: 'oscope', short: 'o', kind: 'value', arg: 'RED', help: 'with -v: print only the largest of every RED samples',
    apply: (o, v, n) => { o.oscope = intArg(v!, n, 1, 1_000_000_000); } },
  { long: 'nsecs', short: 'N', kind: 'flag', help: 'T: lines and -v values in ns',
    apply: (o) => { o.nsecs = true; } },
  { long: 'unbuffered', short: 'u', kind: 'flag', help: 'accepted: output is written line by line anyway',
    apply: (o) => { o.unbuffered = true; } },
  { long: 'refresh_on_max', short: 'M', kind: 'flag', help: 'redraw the live T: lines only when some thread\'s max rises',
    apply: (o) => { o.refreshOnMax = true; } },
  { long: 'latency', kind: 'value', arg: 'PM_QOS', help: 'the value held in /dev/cpu_dma_latency, us (default 0)',
    apply: (o, v, n) => { o.latencyUs = intArg(v!, n, 0, 2_000_000_000); } },
  { long: 'default-system', kind: 'flag', help: 'do not tune the system: /dev/cpu_dma_latency is not held',
    apply: (o) => { o.dmaLatency = false; } },
  { long: 'mainaffinity', kind: 'value', arg: 'CPUSET', help: 'run the main (non-measuring) thread on these CPUs',
    apply: (o, v, n) => { o.mainAffinity = parseCpuList(v!, n, nrCpus()); } },
  ignore('aligned', 'A', 'value', 'thread wake-ups are not aligned: each worker arms its own hrtimer when it starts', 'USEC'),
  ignore('secaligned', undefined, 'optional', 'thread wake-ups are not aligned to a second: each worker arms its own hrtimer when it starts', 'USEC'),
  ignore('relative', 'r', 'flag', 'the timers are periodic hrtimers with absolute expiries; there is no relative mode'),
  ignore('system', 's', 'flag', 'there is no sys_nanosleep/setitimer path: the timer is the one --api chooses'),
  ignore('posix_timers', 'x', 'flag', 'the timer is the one --api chooses (hrtimer: a timerfd), not a POSIX timer'),
  ignore('fifo', 'F', 'value', 'no named-pipe statistics; use --json', 'PATH'),
  ignore('spike', undefined, 'value', 'spikes are not recorded one by one; use -b or --plot', 'TRIGGER'),
  ignore('spike-nodes', undefined, 'value', 'spikes are not recorded one by one; use -b or --plot', 'NUM'),
  ignore('smi', undefined, 'flag', 'SMI counting needs MSR access a Node process does not have'),
  ignore('resolution', 'R', 'flag', 'the clock resolution is reported in the summary and JSON instead'),
  ignore('dbg_cyclictest', undefined, 'flag', 'cyclictest\'s own debugging output has no equivalent'),
  { long: 'quiet', short: 'q', kind: 'flag', help: 'no live progress line or T: block: print the T: lines (unless -h) and the summary at the end only',
    apply: (o) => { o.quiet = true; } },
  { long: 'json', kind: 'optional', arg: 'FILE', help: 'write the result as JSON (rt-tests\' schema plus ktimers\' keys) to FILE (--json=FILE or --json FILE), or to stdout (--json alone)',
    peek: (n) => !n.startsWith('-'),
    apply: (o, v, n) => {
      if (v === '') throw new CliUsageError(`${n}= needs a file name (or use --json alone for stdout)`);
      o.json = v ?? '-';
    } },
  { long: 'clock', short: 'c', kind: 'value', arg: 'CLOCK', help: 'hrtimer clock: 0 or monotonic (default), 1 or realtime (cyclictest\'s numbers), boottime or tai',
    apply: (o, v, n) => {
      const t = atoiTrim(v!);
      o.clock = t === '0' ? 'monotonic' : t === '1' ? 'realtime' : oneOf(v!, n, CLOCKS);
    } },
  { long: 'api', kind: 'value', arg: 'LIST', help: 'hrtimer (default), timer_list or setTimeout; a comma list runs each in turn and prints them side by side',
    apply: (o, v, n) => {
      const list = v!.split(',').map((s) => oneOf(s, n, APIS));
      if (new Set(list).size !== list.length) throw new CliUsageError(`${n} lists an API twice: '${v}'`);
      o.apis = list;
    } },
  { long: 'thread', kind: 'value', arg: 'LIST', help: 'main (default): the JS main thread; rt: a dedicated real-time thread ' +
      `(SCHED_FIFO ${RT_THREAD_DEFAULT_PRIORITY} unless -p/--policy/--nice; -a pins it); main,rt: both in turn`,
    apply: (o, v, n) => {
      const list = v!.split(',').map((s) => oneOf(s, n, THREADS));
      if (new Set(list).size !== list.length) throw new CliUsageError(`${n} lists a thread twice: '${v}'`);
      o.threads = list;
    } },
  { long: 'load', kind: 'value', arg: 'US', help: 'keep the main thread busy while measuring: back-to-back synchronous US chunks (default 0: none)',
    apply: (o, v, n) => { o.loadUs = usArg(v!, n, 0, MAX_LOAD_US); } },
  { long: 'spin', kind: 'value', arg: 'US', help: 'hybrid mode (hrtimer): wake US early and busy-wait the rest; costs CPU, cuts latency',
    apply: (o, v, n) => { o.spinUs = usArg(v!, n, 0, MAX_SPIN_US); } },
  { long: 'plot', kind: 'value', arg: 'FILE.svg', help: 'write an SVG: log-scale latency histogram and latency over time',
    apply: (o, v, n) => {
      if (v === '') throw new CliUsageError(`${n} needs a file name`);
      o.plot = v!;
    } },
  { long: 'warmup', kind: 'value', arg: 'N', help: 'discard the first N samples of each run (default 0, as cyclictest)',
    apply: (o, v, n) => { o.warmup = intArg(v!, n, 0, 1_000_000_000); } },
  { long: 'no-dma-latency', kind: 'flag', help: 'do not hold /dev/cpu_dma_latency at 0 (deep idle states allowed)',
    apply: (o) => { o.dmaLatency = false; } },
  { long: 'laptop', kind: 'flag', help: 'cyclictest\'s name for --no-dma-latency',
    apply: (o) => { o.dmaLatency = false; } },
  { long: 'help', kind: 'flag', help: 'this help',
    apply: (o) => { o.help = true; } },
];

const byLong = new Map(SPECS.map((s) => [s.long, s]));

/** getopt_long: an exact name, or a prefix of exactly one name. */
function findLong(name: string): Spec {
  const exact = byLong.get(name);
  if (exact) return exact;
  const hits = name === '' ? [] : SPECS.filter((s) => s.long.startsWith(name));
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) throw new CliUsageError(`option '--${name}' is ambiguous; possibilities: ${hits.map((h) => `'--${h.long}'`).join(' ')}`);
  throw new CliUsageError(`unknown option '--${name}'`);
}
const byShort = new Map(SPECS.filter((s) => s.short).map((s) => [s.short!, s]));

/**
 * Parses the arguments after `cyclictest`. Throws CliUsageError on anything it
 * does not understand; checks that need several options together are done
 * here too, so a bad combination never starts a measurement.
 */
export function parseCyclictestArgs(argv: readonly string[]): CyclictestOptions {
  const o: CyclictestOptions = { ...DEFAULTS, apis: [...DEFAULTS.apis], threads: [...DEFAULTS.threads], ignored: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      if (i + 1 < argv.length) throw new CliUsageError(`unexpected argument '${argv[i + 1]}'`);
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = findLong(name);
      const label = `--${spec.long}`;
      if (spec.kind === 'flag') {
        if (eq >= 0) throw new CliUsageError(`${label} takes no value`);
        spec.apply(o, undefined, label);
      } else if (spec.kind === 'optional') {
        if (eq >= 0) spec.apply(o, a.slice(eq + 1), label);
        else if (i + 1 < argv.length && spec.peek?.(argv[i + 1]!)) spec.apply(o, argv[++i]!, label);
        else spec.apply(o, undefined, label);
      } else if (eq >= 0) {
        spec.apply(o, a.slice(eq + 1), label);
      } else {
        if (i + 1 >= argv.length) throw new CliUsageError(`${label} needs a value (${spec.arg})`);
        spec.apply(o, argv[++i]!, label);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // A cluster of short options: flags, then at most one value option whose
      // value is the rest of the word or the next word.
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const spec = byShort.get(c);
        if (!spec) throw new CliUsageError(`unknown option '-${c}'${c === '?' ? ' (help is --help)' : ''}`);
        const label = `-${c}`;
        if (spec.kind === 'flag') {
          spec.apply(o, undefined, label);
          continue;
        }
        let v = a.slice(j + 1);
        if (spec.kind === 'optional') {
          if (v === '' && i + 1 < argv.length && spec.peek?.(argv[i + 1]!)) v = argv[++i]!;
          spec.apply(o, v === '' ? undefined : v, label);
          break;
        }
        if (v === '') {
          if (i + 1 >= argv.length) throw new CliUsageError(`${label} needs a value (${spec.arg})`);
          v = argv[++i]!;
        }
        spec.apply(o, v, label);
        break;
      }
      continue;
    }
    throw new CliUsageError(`unexpected argument '${a}'`);
  }
  if (o.help) return o;
  if (o.smp) {
    // -S is "-a -t" with the same priority on every thread.
    if (o.numThreads === 0) o.numThreads = nrCpus();
    if (o.affinity === null) o.affinityAll = true;
  }
  if (o.histogramUs > 0) o.distanceUs = 0; // cyclictest: with -h all threads share the interval
  checkCombination(o);
  return o;
}

function checkCombination(o: CyclictestOptions): void {
  if (o.numThreads > 0 && (o.threads.length > 1 || o.threads[0] !== 'main')) {
    throw new CliUsageError('--thread chooses the one measuring thread of a run without -t/-S; with -t/-S every measuring thread is a real-time worker: use one or the other');
  }
  if (o.spinUs > 0) {
    if (o.apis.some((a) => a !== 'hrtimer')) {
      throw new CliUsageError('--spin applies to --api hrtimer only (timer_list and setTimeout have no spin mode)');
    }
    if (o.spinUs >= o.intervalUs) {
      throw new CliUsageError(`--spin (${o.spinUs} us) must be shorter than --interval (${o.intervalUs} us): it would never sleep`);
    }
  }
  if (o.clock !== 'monotonic' && o.apis.some((a) => a !== 'hrtimer')) {
    throw new CliUsageError(`--clock ${o.clock} applies to --api hrtimer only (timer_list runs on jiffies and setTimeout on Node's monotonic clock)`);
  }
  const rt = o.policy === 'fifo' || o.policy === 'rr';
  if (rt && o.priority === 0) throw new CliUsageError(`--policy ${o.policy} needs a priority: -p 1..99`);
  if (o.priority > 0 && o.policy !== null && !rt) {
    throw new CliUsageError(`-p ${o.priority} is a real-time priority; --policy ${o.policy} takes none (use --nice)`);
  }
  if (o.nice !== null && (rt || (o.policy === null && o.priority > 0))) {
    throw new CliUsageError('--nice applies to SCHED_OTHER/BATCH/IDLE threads; a real-time thread (-p) ignores it');
  }
  if (o.warmup > 0 && o.loops > 0 && o.warmup >= o.loops) {
    // Not an error in itself, but certainly a mistake: every sample would be thrown away.
    throw new CliUsageError(`--warmup (${o.warmup}) must be smaller than --loops (${o.loops})`);
  }
}

/** The --help text: every option, with its default. */
export function helpText(): string {
  const lines = [
    'Usage: ktimers cyclictest [options]',
    '',
    'Measures how late a JavaScript timer callback runs after its expiry time, the way',
    "rt-tests' cyclictest measures a thread's wake-up latency: a periodic timer, and for",
    'each expiry the time from the expiry to the moment the callback starts.',
    '',
    'Options:',
  ];
  for (const s of SPECS) {
    const short = s.short ? `-${s.short}, ` : '    ';
    const arg = s.kind === 'value' ? (s.short ? ` ${s.arg}` : `=${s.arg}`) : s.kind === 'optional' ? `[=${s.arg}]` : '';
    const left = `  ${short}--${s.long}${arg}`;
    lines.push(left.length < 28 ? left.padEnd(28) + s.help : `${left}\n${' '.repeat(28)}${s.help}`);
  }
  lines.push(
    '',
    'Without -l or -D it runs until Ctrl-C. With several --api or --thread values each',
    'API runs on each thread for the full -l/-D, one after the other. Real-time options',
    '(-p, --policy, --nice, -a, -m) that the system refuses are reported and the run goes',
    'on without them. -p/--policy/--nice/-a apply to each measuring thread; with --thread rt',
    'alone the main thread keeps its policy. A SCHED_FIFO/RR thread that stalls 40 ms or',
    "more at once is reported with the kernel's RT throttling settings.",
    '',
    "cyclictest compatibility (docs/cyclictest.md): cyclictest 2.x's command line is accepted",
    'whole; options that cannot mean anything here are ignored with one line on stderr. With',
    "-t/-S, N real-time worker threads measure at once and stdout is cyclictest's output only",
    "(T: lines, -h block, -b lines); the ktimers summary goes to stderr. Without -t/-S the",
    'summary is on stdout, except with -h: stdout is then the histogram block, the summary on',
    "stderr. --json writes rt-tests' document with the ktimers fields under their own keys.",
    '',
    'Examples:',
    '  ktimers cyclictest --thread main,rt --load 200         hrtimer on the busy main thread, then on an RT thread',
    '  ktimers cyclictest -D 2.5 --api hrtimer,setTimeout --thread main,rt --load 200',
    '                                                         the npm start run (2.5 s per API and thread)',
    '  ktimers cyclictest -m -p 99 -i 100 -l 100000 -q       like cyclictest -m -p 99 -i 100 -l 100000 -q',
    '  ktimers cyclictest -i 100 --spin 50 -D 10 --plot lat.svg --json=lat.json',
    "  ktimers cyclictest -i100 -qmu '-h 3500' -p95 -t2 -a0-1                rteval's command line, as it runs cyclictest",
  );
  return lines.join('\n') + '\n';
}
