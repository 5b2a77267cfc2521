/**
 * ktimers/promises — `node:timers/promises` manners on the hrtimer engine.
 *
 * ```js
 * import { sleep, interval } from 'ktimers/promises';
 * import { ms, us } from 'ktimers';
 * await sleep(us(250));                                  // never early; ns resolution
 * for await (const overruns of interval(ms(10))) { … }   // absolute deadlines: no drift
 * ```
 *
 * Both are thin layers over one kernel `hrtimer` each (lib/hrtimer/index.ts): the
 * same engine, the same ordering and never-early rule, the same ref counting,
 * and the same virtual clock (`ktimers/testing`): installed, they run on
 * virtual time and resolve when the test advances it.
 *
 * As in Node: functions that return a promise never throw; bad arguments
 * reject it (TypeError / RangeError with a `code`). An AbortSignal rejects with
 * an `AbortError` (`name` 'AbortError', `code` 'ABORT_ERR', `cause` =
 * `signal.reason`) and cancels the timer at once. `ref: false` lets the process
 * exit while the timer waits.
 *
 * Where this differs from `node:timers/promises`: durations are bigint ns
 * (`ms(10)`, not `10`); there is no resolve `value` argument; `interval`
 * yields overrun counts, not a value, and keeps no timer armed while the
 * consumer is busy (the count of what it missed is computed when it asks for
 * the next tick, as timerfd does), so an abandoned iterator holds nothing.
 */
import { AbortError, describe, typeError } from './errors.js';
import {
  hrtimer,
  hrtimer_cb_get_time,
  hrtimer_forward,
  hrtimer_forward_now,
  hrtimer_get_softexpires,
  hrtimer_restart,
  hrtimer_set_expires,
  hrtimer_setup,
  hrtimer_start,
  hrtimer_try_to_cancel,
  HRTIMER_MODE_ABS,
  HRTIMER_MODE_REL,
  HRTIMER_NORESTART,
} from './hrtimer/index.js';
import { booleanOption, durationArg, ktimeArg } from './internal/validate.js';
import { addSafe } from './internal/arith.js';
import { CLOCK_MONOTONIC } from './ktime.js';
import { type Duration } from './api/duration.js';

export { ns, us, ms, s, type Duration } from './api/duration.js';
export { AbortError } from './errors.js';

/** Options of {@link sleep} and {@link sleepUntil}. */
export interface SleepOptions {
  /** Rejects the promise with an AbortError and cancels the timer when aborted. */
  signal?: AbortSignal;
  /** The clock: CLOCK_MONOTONIC (default), CLOCK_REALTIME, CLOCK_BOOTTIME or CLOCK_TAI. */
  clock?: number;
  /** Keep the process alive while waiting (default true). */
  ref?: boolean;
}

/** Options of {@link interval}. */
export interface IntervalOptions extends SleepOptions {
  /** The first deadline, absolute ns on `clock` (default: now + period). */
  start?: bigint;
}

interface Common {
  signal: AbortSignal | undefined;
  clock: number;
  ref: boolean;
}

function commonOptions(o: unknown): Common {
  if (o === undefined) return { signal: undefined, clock: CLOCK_MONOTONIC, ref: true };
  if (typeof o !== 'object' || o === null) throw typeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(o)}`);
  const { signal, clock, ref } = o as SleepOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw typeError('ERR_INVALID_ARG_TYPE', `options.signal must be an AbortSignal, got ${describe(signal)}`);
  }
  return { signal, clock: clock === undefined ? CLOCK_MONOTONIC : clock, ref: booleanOption(ref, 'options.ref', true) };
}

function aborted(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/** A set-up hrtimer on `clock` (validates the clock id: RangeError ERR_KTIMERS_INVALID_CLOCK). */
function makeTimer(fn: (t: hrtimer) => 0, clock: number, mode: number, ref: boolean): hrtimer {
  const t = new hrtimer();
  hrtimer_setup(t, fn, clock, mode);
  if (!ref) t.unref();
  return t;
}

function waitOn(arm: (t: hrtimer) => void, c: Common, mode: number): Promise<void> {
  if (c.signal?.aborted) return Promise.reject(aborted(c.signal));
  return new Promise<void>((resolve, reject) => {
    const signal = c.signal;
    const onAbort = () => {
      hrtimer_try_to_cancel(t);
      reject(aborted(signal!));
    };
    const t = makeTimer(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
        return HRTIMER_NORESTART;
      },
      c.clock,
      mode,
      c.ref,
    );
    arm(t);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves after `duration` ns on `options.clock`, never earlier.
 *
 * A relative sleep on CLOCK_REALTIME measures elapsed time (it runs on
 * CLOCK_MONOTONIC, the kernel's and POSIX's rule for relative realtime timers);
 * use {@link sleepUntil} for a wall-clock deadline.
 * @param duration - bigint ns >= 0 (`ms(5)`, `us(250)`); `0n` resolves at the next expiry pass.
 * @param options - `signal`, `clock`, `ref` (see {@link SleepOptions}).
 * @returns a promise of undefined; rejects with TypeError/RangeError on bad
 *   arguments, AbortError when the signal aborts.
 * @example await sleep(us(250), { signal: AbortSignal.timeout(1000) })
 */
export function sleep(duration: Duration, options?: SleepOptions): Promise<void> {
  try {
    const d = durationArg(duration, 'duration');
    const c = commonOptions(options);
    return waitOn((t) => hrtimer_start(t, d, HRTIMER_MODE_REL), c, HRTIMER_MODE_REL);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Resolves once `options.clock` reads `deadline` or later (clock_nanosleep
 * with TIMER_ABSTIME). On CLOCK_REALTIME a wall-clock change moves the wake-up
 * with it. A deadline in the past resolves at the next expiry pass.
 * @param deadline - absolute bigint ns on the clock (e.g. `ktime_get() + ms(5)`).
 * @param options - `signal`, `clock`, `ref` (see {@link SleepOptions}).
 * @returns a promise of undefined; rejects as {@link sleep} does.
 */
export function sleepUntil(deadline: bigint, options?: SleepOptions): Promise<void> {
  try {
    const at = ktimeArg(deadline, 'deadline');
    const c = commonOptions(options);
    // A negative absolute expiry meets the kernel's ktime_add_safe() quirk
    // (saturated to KTIME_MAX: never due); a past deadline is as good at now.
    return waitOn((t) => hrtimer_start(t, at < 0n ? maxKtime(at, hrtimer_cb_get_time(t)) : at, HRTIMER_MODE_ABS), c, HRTIMER_MODE_ABS);
  } catch (err) {
    return Promise.reject(err);
  }
}

const maxKtime = (a: bigint, b: bigint): bigint => (a > b ? a : b);

interface Waiter {
  resolve: (r: IteratorResult<bigint, undefined>) => void;
  reject: (e: unknown) => void;
}

/**
 * The iterator of {@link interval}. One hrtimer, armed only while a `next()`
 * waits; deadlines `start + k * period` are kept in the hrtimer's expiry and
 * moved with `hrtimer_forward`, so they never drift.
 */
class Interval implements AsyncIterableIterator<bigint>, AsyncDisposable {
  readonly #period: bigint;
  readonly #signal: AbortSignal | undefined;
  #t: hrtimer | null = null;
  #waiters: Waiter[] = [];
  #done = false;
  #error: unknown = null;
  readonly #onAbort = () => this.#finish(aborted(this.#signal!));

  constructor(period: bigint, c: Common, start: bigint | undefined) {
    this.#period = period;
    this.#signal = c.signal;
    if (c.signal?.aborted) {
      this.#done = true;
      this.#error = aborted(c.signal);
      return;
    }
    const t = makeTimer(() => this.#expire(), c.clock, HRTIMER_MODE_ABS, c.ref);
    hrtimer_set_expires(t, start ?? addSafe(hrtimer_cb_get_time(t), period));
    this.#t = t;
    c.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** The hrtimer callback: the next tick is due. The first waiter takes it. */
  #expire(): 0 {
    const t = this.#t!;
    const orun = hrtimer_forward_now(t, this.#period);
    const w = this.#waiters.shift();
    if (this.#waiters.length > 0) hrtimer_restart(t); // one more waiter: it takes the next period
    w?.resolve({ value: orun, done: false });
    return HRTIMER_NORESTART;
  }

  next(): Promise<IteratorResult<bigint, undefined>> {
    if (this.#error !== null) {
      const e = this.#error;
      this.#error = null; // reported once; then the iterator is simply done
      return Promise.reject(e);
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    const t = this.#t!;
    if (this.#waiters.length === 0) {
      // Nobody waits between ticks, so nothing is armed: what elapsed since the
      // last tick is counted now, as a timerfd read counts its expirations.
      const now = hrtimer_cb_get_time(t);
      if (now >= hrtimer_get_softexpires(t)) {
        return Promise.resolve({ value: hrtimer_forward(t, now, this.#period), done: false });
      }
      hrtimer_restart(t);
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Ends the iteration: cancels the timer; pending `next()` calls resolve done. */
  return(): Promise<IteratorResult<bigint, undefined>> {
    this.#finish(null);
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the iteration as {@link Interval.return} does, and rejects with `err`. */
  throw(err?: unknown): Promise<IteratorResult<bigint, undefined>> {
    this.#finish(null);
    return Promise.reject(err);
  }

  #finish(err: unknown): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#t !== null) hrtimer_try_to_cancel(this.#t);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    const waiters = this.#waiters;
    this.#waiters = [];
    if (err !== null) {
      if (waiters.length === 0) this.#error = err; // the next next() reports it
      for (const w of waiters) w.reject(err);
    } else {
      for (const w of waiters) w.resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** `await using it = interval(…)`: ends the iteration as {@link Interval.return} does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}

/**
 * An async iterator that ticks every `period` ns on absolute deadlines
 * (`start`, `start + period`, …): no drift, whatever the consumer's latency.
 *
 * Each tick yields the overrun count, as a timerfd read and `hrtimer_forward`
 * report it: `1n` when the consumer kept up, `n` when n deadlines passed since
 * the previous tick (the consumer took longer than a period, or the process
 * stalled). Missed deadlines are counted, never replayed back to back.
 *
 * The timer is armed only while a `next()` waits, so `ref` matters only then;
 * breaking out of `for await` (or `return()`) cancels it.
 * @param period - bigint ns > 0.
 * @param options - `signal`, `clock`, `ref`, `start` (see {@link IntervalOptions}).
 * @returns an async iterable iterator of bigint overrun counts. Bad arguments
 *   reject the first `next()` (TypeError / RangeError); an abort rejects the
 *   pending `next()` (or the following one) with an AbortError, then the iterator is done.
 * @example
 * for await (const overruns of interval(ms(10), { signal })) {
 *   if (overruns > 1n) console.warn(`missed ${overruns - 1n} ticks`);
 * }
 */
export function interval(period: Duration, options?: IntervalOptions): AsyncIterableIterator<bigint> & AsyncDisposable {
  try {
    const p = durationArg(period, 'period', 1n);
    const c = commonOptions(options);
    const start = (options as IntervalOptions | undefined)?.start;
    return new Interval(p, c, start === undefined ? undefined : ktimeArg(start, 'options.start'));
  } catch (err) {
    return failed(err);
  }
}

/** An iterator whose first next() rejects with `err` (Node's setInterval validates lazily, too). */
function failed(err: unknown): AsyncIterableIterator<bigint> & AsyncDisposable {
  let reported = false;
  const it: AsyncIterableIterator<bigint> & AsyncDisposable = {
    next() {
      if (reported) return Promise.resolve({ value: undefined, done: true });
      reported = true;
      return Promise.reject(err);
    },
    return() {
      reported = true;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return it;
    },
    async [Symbol.asyncDispose]() {
      reported = true;
    },
  };
  return it;
}
