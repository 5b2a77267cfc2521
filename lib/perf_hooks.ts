/**
 * monitorEventLoopDelay: Node's `perf_hooks.monitorEventLoopDelay()`, measured
 * with a periodic hrtimer, and the longest blocks of the loop.
 *
 * Why a second one: Node's monitor samples with a libuv timer of millisecond
 * resolution and records the whole time between two samples, so an idle loop
 * reads as about its resolution and a block reads as the block plus up to the
 * resolution. Here one sample is how long the loop kept a deadline of the
 * sampling period waiting: a periodic hrtimer on absolute deadlines (never
 * early, overruns counted by hrtimer_forward) records, for every deadline that
 * passed, the time from that deadline to the callback that served it — or, if
 * the loop was asleep waiting for its events when the deadline came, from the
 * moment the loop woke. The time the kernel took to wake a sleeping thread is
 * the OS's wake-up latency (what cyclictest measures), not time the loop was
 * blocked; counting it would make an idle loop read as the machine's wake-up
 * latency instead of about zero (`countWakeup` counts it). A deadline that fell
 * inside a block reads as the rest of the block, so no sample exceeds the
 * block that caused it, and the largest falls short of it by less than one
 * period. A deadline missed entirely (several in one block) is recorded too,
 * so percentiles weigh a block by its length.
 *
 * When the loop woke comes from the loop watch (native/loop_watch.cc): the
 * time of the last prepare handle plus the idle time libuv added since.
 *
 * Samples cannot say when a block began, and one sample can span several
 * blocks. The loop itself can: native/loop_watch.cc measures every loop
 * iteration's busy time (its wall time minus the time it waited for I/O), and
 * the monitor keeps the longest ones, exact whatever the sampling period.
 *
 * The sampler is unref'd (it never keeps a process alive) and works on any
 * thread with its own event loop, worker_threads included.
 */
import { describe, typeError, rangeError } from './errors.js';
import {
  hrtimer,
  hrtimer_active,
  hrtimer_cancel,
  hrtimer_cb_get_time,
  hrtimer_forward,
  hrtimer_get_softexpires,
  hrtimer_setup,
  hrtimer_start,
  HRTIMER_MODE_ABS,
  HRTIMER_RESTART,
} from './hrtimer/index.js';
import { loopWatch, loopWatchRead, loopWokeAt } from './internal/engine.js';
import { EMPTY_MIN, LogHistogram } from './internal/histogram.js';
import { virt } from './internal/virtual.js';
import { CLOCK_MONOTONIC, ktime_get } from './ktime.js';
import { type Duration } from './api/duration.js';
import { durationArg } from './internal/validate.js';

/** A sample above this is counted in `exceeds` and not recorded (Node's limit for its event-loop histogram). */
const EXCEEDS_NS = 3_600_000_000_000;
/** How often at most the loop watch is read (its native store holds far more than this much). */
const READ_EVERY_NS = 10_000_000n;
/** Fields before the blocks in a read of the loop watch: iterations, busy ns, lost (native/loop_watch.cc). */
const READ_HEADER = 3;
/** The `_floor()` of a monitor that keeps no blocks: longer than any loop iteration. */
const NO_BLOCKS = 2 ** 53;

/** Options of {@link monitorEventLoopDelay}: Node's `resolution`, plus `period`, `blocks` and `countWakeup`. */
export interface MonitorEventLoopDelayOptions {
  /**
   * Node's option: the sampling period in milliseconds, an integer >= 1
   * (default 10). Validated as Node validates it.
   */
  resolution?: number;
  /**
   * A sampling period finer than a millisecond, as a ktimers duration
   * (`us(500)`); takes precedence over `resolution`. At least 10 us.
   */
  period?: Duration;
  /** How many of the longest loop blocks to keep (default 10, at most 1000; 0 keeps none). */
  blocks?: number;
  /**
   * Also count the OS's wake-up latency: when a deadline comes while the loop
   * is asleep waiting for events, record the time from the deadline (the raw
   * lateness of the periodic timer, as cyclictest measures a thread) instead
   * of from the moment the loop woke. Default false.
   */
  countWakeup?: boolean;
}

/** One stretch during which the event loop ran callbacks without returning to its events. */
export interface LoopBlock {
  /** Its length in nanoseconds: the iteration's wall time minus the time it waited for I/O. */
  durationNs: number;
  /** When it ended, on CLOCK_MONOTONIC (ns, as `ktime_get()` / `process.hrtime.bigint()`). */
  endNs: bigint;
}

/**
 * The loop watch is one per thread (one libuv loop), and any number of
 * monitors may be enabled on it: each read goes to every enabled monitor, and
 * the native side keeps what the least demanding of them could still use.
 */
const watchers = new Set<EventLoopDelayMonitor>();
let watchFloor = -1;

function hubAdd(m: EventLoopDelayMonitor): void {
  hubRead(); // blocks from before m was enabled go to the others only
  watchers.add(m);
  hubFloor(); // the first monitor starts the watch: watchFloor is -1 then
}
function hubRemove(m: EventLoopDelayMonitor): void {
  hubRead();
  watchers.delete(m);
  if (watchers.size === 0) {
    loopWatch(-1);
    watchFloor = -1;
  } else hubFloor();
}
function hubRead(): void {
  if (watchers.size === 0) return;
  const r = loopWatchRead();
  for (const m of watchers) m._take(r);
  hubFloor();
}
function hubFloor(): void {
  let f = Infinity;
  for (const m of watchers) f = Math.min(f, m._floor());
  if (f !== watchFloor) {
    watchFloor = f;
    loopWatch(f);
  }
}

/**
 * One sampling hrtimer per period in this thread, shared by the enabled
 * monitors of that period. They read one clock at each deadline, so they see
 * the same deadlines at the same instant: two timers of one expiry would each
 * read the clock in its own callback, the second later by the first's run, in
 * an order that a pass straddling a grid point swaps. And one wake-up serves
 * them all.
 */
class Sampler {
  readonly t = new hrtimer();
  readonly monitors = new Set<EventLoopDelayMonitor>();
  readonly period: bigint;

  constructor(period: bigint) {
    this.period = period;
    hrtimer_setup(this.t, (t) => this.#fire(t), CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
    this.t.unref();
  }

  /** Arms it at the next point of the period's grid of CLOCK_MONOTONIC, unless it is armed or running. */
  start(): void {
    if (!hrtimer_active(this.t)) hrtimer_start(this.t, (ktime_get() / this.period + 1n) * this.period, HRTIMER_MODE_ABS);
  }

  #fire(t: hrtimer): typeof HRTIMER_RESTART {
    const now = hrtimer_cb_get_time(t);
    const first = hrtimer_get_softexpires(t);
    // Every deadline first, first + P, ... that is <= now was served now.
    const n = Number(hrtimer_forward(t, now, this.period));
    // (On the virtual clock a deadline is served at its own instant, and the loop's times are real.)
    const woke = virt.active ? -1 : loopWokeAt();
    for (const m of this.monitors) m._sample(now, n, Number(now - first), woke);
    return HRTIMER_RESTART;
  }
}
const samplers = new Map<bigint, Sampler>();

/** Instances made by monitorEventLoopDelay: a method on anything else is refused, as Node does. */
const instances = new WeakSet<object>();
function thisArg(o: unknown): void {
  if (typeof o !== 'object' || o === null || !instances.has(o)) {
    throw typeError('ERR_INVALID_THIS', `Value of "this" must be of type EventLoopDelayMonitor, got ${describe(o)}`);
  }
}

function percentileArg(p: unknown): number {
  if (typeof p !== 'number') {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "percentile" argument must be of type number. Received ${describe(p)}`);
  }
  if (!(p > 0 && p <= 100)) {
    throw rangeError('ERR_OUT_OF_RANGE', `The value of "percentile" is out of range. It must be > 0 && <= 100. Received ${p}`);
  }
  return p;
}

/**
 * Node's `IntervalHistogram`, fed by a periodic hrtimer (see the module
 * comment for what one sample is). Values are nanoseconds, as Node's.
 */
export class EventLoopDelayMonitor {
  readonly #h = new LogHistogram();
  readonly #period: bigint;
  readonly #keep: number;
  readonly #countWakeup: boolean;
  #exceeds = 0;
  #enabled = false;
  #lastRead = 0n;
  #blocks: LoopBlock[] = [];
  #iterations = 0;
  #busyNs = 0;

  /** @internal use monitorEventLoopDelay() */
  constructor(period: bigint, keep: number, countWakeup: boolean) {
    this.#period = period;
    this.#keep = keep;
    this.#countWakeup = countWakeup;
    instances.add(this);
  }

  /**
   * @internal its sampler's deadlines: `n` of them served at `now`, the first
   * `late0` ns late; `woke`, when the loop came back from waiting (-1: it did not wait).
   */
  _sample(now: bigint, n: number, late0: number, woke: number): void {
    const p = Number(this.#period);
    // Deadlines that came while the loop slept were kept waiting only from its wake-up on.
    const sinceWake = this.#countWakeup || woke < 0 ? Infinity : Number(now) - woke;
    for (let j = 0; j < n; j++) this.#record(Math.min(late0 - j * p, sinceWake));
    if (this.#watches() && now - this.#lastRead >= READ_EVERY_NS) this.#readBlocks(now);
  }

  /** Whether this monitor needs the loop watch: for its blocks, or for when the loop woke. */
  #watches(): boolean {
    return this.#keep > 0 || !this.#countWakeup;
  }

  #record(v: number): void {
    if (v > EXCEEDS_NS) this.#exceeds++;
    else this.#h.record(v < 0 ? 0 : v);
  }

  #readBlocks(now: bigint): void {
    this.#lastRead = now;
    hubRead();
  }

  /** @internal a read of the loop watch (layout: lib/binding.ts), shared by every enabled monitor */
  _take(r: Float64Array): void {
    this.#iterations += r[0]!;
    this.#busyNs += r[1]!;
    if (r.length <= READ_HEADER || this.#keep === 0) return;
    const b = this.#blocks;
    const floor = this._floor();
    for (let i = READ_HEADER; i + 1 < r.length; i += 2) if (r[i]! >= floor) b.push({ durationNs: r[i]!, endNs: BigInt(r[i + 1]!) });
    b.sort((x, y) => y.durationNs - x.durationNs);
    if (b.length > this.#keep) b.length = this.#keep;
  }

  /** @internal the shortest block that could still enter this monitor's list */
  _floor(): number {
    if (this.#keep === 0) return NO_BLOCKS;
    return this.#blocks.length < this.#keep ? 0 : this.#blocks[this.#keep - 1]!.durationNs;
  }

  /** Starts sampling. Returns true, or false if it was already enabled (as Node's). */
  enable(): boolean {
    thisArg(this);
    if (this.#enabled) return false;
    this.#enabled = true;
    this.#lastRead = ktime_get();
    if (this.#watches()) hubAdd(this);
    let s = samplers.get(this.#period);
    if (s === undefined) samplers.set(this.#period, (s = new Sampler(this.#period)));
    s.monitors.add(this);
    s.start(); // (a virtual clock's uninstall cancels a sampler on its timeline: started again here)
    return true;
  }

  /** Stops sampling (what was recorded stays). Returns true, or false if it was not enabled. */
  disable(): boolean {
    thisArg(this);
    if (!this.#enabled) return false;
    this.#enabled = false;
    const s = samplers.get(this.#period)!;
    s.monitors.delete(this);
    if (s.monitors.size === 0) {
      hrtimer_cancel(s.t);
      samplers.delete(this.#period);
    }
    if (this.#watches()) hubRemove(this);
    return true;
  }

  /** Drops every sample and block recorded (sampling goes on if enabled). */
  reset(): void {
    thisArg(this);
    this.#h.reset();
    this.#exceeds = 0;
    this.#blocks = [];
    this.#iterations = 0;
    this.#busyNs = 0;
    if (this.#enabled && this.#watches()) {
      hubRead(); // what came before the reset is dropped with the rest
      this.#blocks = [];
      this.#iterations = 0;
      this.#busyNs = 0;
      hubFloor();
    }
  }

  /** Samples recorded. */
  get count(): number {
    thisArg(this);
    return this.#h.count;
  }
  /** `count` as a bigint. */
  get countBigInt(): bigint {
    return BigInt(this.count);
  }
  /** Smallest sample (ns); 9223372036854776000 when there is none, as Node's. */
  get min(): number {
    thisArg(this);
    return this.#h.min;
  }
  /** `min` as a bigint (9223372036854775807n when there is no sample, as Node's). */
  get minBigInt(): bigint {
    thisArg(this);
    return this.#h.count === 0 ? EMPTY_MIN : BigInt(this.#h.min);
  }
  /** Largest sample (ns); 0 when there is none. */
  get max(): number {
    thisArg(this);
    return this.#h.max;
  }
  /** `max` as a bigint. */
  get maxBigInt(): bigint {
    return BigInt(this.max);
  }
  /** Mean of the samples (ns); NaN when there is none. */
  get mean(): number {
    thisArg(this);
    return this.#h.mean;
  }
  /** Standard deviation of the samples (ns); NaN when there is none. */
  get stddev(): number {
    thisArg(this);
    return this.#h.stddev;
  }
  /** Samples above one hour, not recorded (Node's event-loop histogram stops there too). */
  get exceeds(): number {
    thisArg(this);
    return this.#exceeds;
  }
  /** `exceeds` as a bigint. */
  get exceedsBigInt(): bigint {
    return BigInt(this.exceeds);
  }
  /**
   * The value at the given percentile (0 < p <= 100), in ns, exact to 1/1024
   * of itself; 0 when there is no sample (Node's returns a bucket artefact there).
   * @param percentile - in (0, 100]; anything else is Node's TypeError / RangeError.
   */
  percentile(percentile: number): number {
    thisArg(this);
    return this.#h.percentile(percentileArg(percentile));
  }
  /**
   * `percentile(p)` as a bigint.
   * @param percentile - in (0, 100].
   */
  percentileBigInt(percentile: number): bigint {
    return BigInt(this.percentile(percentile));
  }
  /** Node's map: 0 (min), 50, 75, 87.5, ... 100 (max). */
  get percentiles(): Map<number, number> {
    thisArg(this);
    return this.#h.percentiles();
  }
  /** `percentiles` with bigint values. */
  get percentilesBigInt(): Map<number, bigint> {
    const m = new Map<number, bigint>();
    for (const [k, v] of this.percentiles) m.set(k, BigInt(v));
    return m;
  }
  /** Node's `toJSON()` shape: count, min, max, mean, exceeds, stddev, percentiles (an object). */
  toJSON(): { count: number; min: number; max: number; mean: number; exceeds: number; stddev: number; percentiles: Record<string, number> } {
    thisArg(this);
    return {
      count: this.count,
      min: this.min,
      max: this.max,
      mean: this.mean,
      exceeds: this.exceeds,
      stddev: this.stddev,
      percentiles: Object.fromEntries(this.percentiles),
    };
  }

  // --- ktimers additions ---------------------------------------------------

  /** The sampling period (ns). */
  get period(): bigint {
    thisArg(this);
    return this.#period;
  }
  /** Whether samples count the OS's wake-up latency (the `countWakeup` option). */
  get countWakeup(): boolean {
    thisArg(this);
    return this.#countWakeup;
  }
  /**
   * The longest loop blocks seen while enabled, longest first (at most the
   * `blocks` option). Exact whatever the period: each is one loop iteration's
   * busy time, measured by the loop itself.
   */
  blocks(): LoopBlock[] {
    thisArg(this);
    if (this.#enabled && this.#keep > 0) this.#readBlocks(ktime_get());
    return this.#blocks.map((b) => ({ ...b }));
  }
  /** Loop iterations measured while enabled, and their total busy time (ns): the loop's utilisation. */
  get iterations(): { count: number; busyNs: number } {
    thisArg(this);
    if (this.#enabled && this.#watches()) this.#readBlocks(ktime_get());
    return { count: this.#iterations, busyNs: this.#busyNs };
  }

  [Symbol.dispose](): void {
    this.disable();
  }
}

/**
 * Creates an event-loop delay monitor with Node's `IntervalHistogram`
 * interface: `perf_hooks.monitorEventLoopDelay()` with a ktimers import.
 *
 * One sample is how long the loop kept one deadline of a periodic hrtimer
 * waiting: the time from the deadline to the callback that served it, or, if
 * the loop was asleep waiting for events when the deadline came, from the
 * moment it woke (the OS's wake-up latency is not the loop's; `countWakeup:
 * true` counts it). With the loop idle a sample is therefore the time the loop
 * took to reach the callback once awake (microseconds), not the period; a
 * block of length B yields samples up to B plus the time from the block's end
 * to the callback, the largest at least B minus one period. Node's monitor
 * instead records the time between two samples, so its figures include its
 * resolution and the wake-up latency.
 *
 * Differs from Node's: `percentile()` on an empty monitor is 0; `period`,
 * `blocks()`, `iterations` and `countWakeup` are additions.
 * @param options - `resolution` (ms, Node's), `period` (a duration, wins over resolution), `blocks`, `countWakeup`.
 * @throws TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE for bad options, as Node's.
 */
export function monitorEventLoopDelay(options?: MonitorEventLoopDelayOptions): EventLoopDelayMonitor {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received ${describe(options)}`);
  }
  const { resolution = 10, period, blocks = 10, countWakeup = false } = options;
  if (typeof resolution !== 'number') {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options.resolution" property must be of type number. Received ${describe(resolution)}`);
  }
  if (!Number.isInteger(resolution)) {
    throw rangeError('ERR_OUT_OF_RANGE', `The value of "options.resolution" is out of range. It must be an integer. Received ${resolution}`);
  }
  if (resolution < 1 || resolution > Number.MAX_SAFE_INTEGER) {
    throw rangeError('ERR_OUT_OF_RANGE', `The value of "options.resolution" is out of range. It must be >= 1 && <= ${Number.MAX_SAFE_INTEGER}. Received ${resolution}`);
  }
  let p = BigInt(resolution) * 1_000_000n;
  if (period !== undefined) p = durationArg(period, 'options.period', 10_000n);
  if (typeof blocks !== 'number') {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options.blocks" property must be of type number. Received ${describe(blocks)}`);
  }
  if (!Number.isInteger(blocks) || blocks < 0 || blocks > 1000) {
    throw rangeError('ERR_OUT_OF_RANGE', `The value of "options.blocks" is out of range. It must be an integer >= 0 && <= 1000. Received ${blocks}`);
  }
  if (typeof countWakeup !== 'boolean') {
    throw typeError('ERR_INVALID_ARG_TYPE', `The "options.countWakeup" property must be of type boolean. Received ${describe(countWakeup)}`);
  }
  return new EventLoopDelayMonitor(p, blocks, countWakeup);
}
