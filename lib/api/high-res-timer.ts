/**
 * HighResTimer: a Node-style handle over one kernel `hrtimer`.
 *
 * For callback code that wants `setTimeout`/`setInterval` manners (a handle
 * with `ref()`, `unref()`, `hasRef()`, `refresh()`, `[Symbol.dispose]`) with
 * nanosecond deadlines on a chosen clock and no drift. It is not a second timer
 * implementation: each handle owns one `hrtimer` and drives it through the
 * kernel-named functions of lib/hrtimer/index.ts, so it has their semantics exactly
 * (never early, FIFO among equal deadlines, the engine's ref counting).
 *
 * A periodic handle is the kernel pattern written once: its hrtimer callback
 * calls `hrtimer_forward_now(timer, period)` (which returns the overrun count:
 * 1n on time, n when n periods elapsed since the last run) and returns
 * HRTIMER_RESTART. Deadlines are absolute (`first + k * period`), so the
 * period does not drift by however late each callback ran.
 *
 * The callback runs as every hrtimer callback does: synchronously inside the
 * expiry pass, in (emulated) hard-IRQ context. It cannot be async; promise
 * jobs it queues run after the pass. If it throws, the error reaches
 * 'uncaughtException' as an error in a Node timer callback would, and a
 * periodic handle stops (the hrtimer counts as HRTIMER_NORESTART).
 */
import { describe, KtimersError, typeError } from '../errors.js';
import {
  hrtimer,
  hrtimer_callback_running,
  hrtimer_cancel,
  hrtimer_cb_get_time,
  hrtimer_forward_now,
  hrtimer_get_softexpires,
  hrtimer_is_queued,
  hrtimer_restart,
  hrtimer_setup,
  hrtimer_start_range_ns,
  HRTIMER_MODE_ABS,
  HRTIMER_MODE_REL,
  HRTIMER_NORESTART,
  HRTIMER_RESTART,
  type hrtimer_restart as HrtimerRestart,
} from '../hrtimer/index.js';
import { disarm } from '../internal/engine.js';
import { booleanOption, durationArg, functionArg, ktimeArg } from '../internal/validate.js';
import { CLOCK_MONOTONIC } from '../ktime.js';
import { type Duration } from './duration.js';

/** Instances made by the constructor: a method called on anything else (a detached method) is refused. */
const instances = new WeakSet<object>();
/** Node's answer to a method called with a foreign `this`: TypeError ERR_INVALID_THIS. */
function thisArg(o: unknown): void {
  if (typeof o !== 'object' || o === null || !instances.has(o)) {
    throw typeError('ERR_INVALID_THIS', `Value of "this" must be of type HighResTimer, got ${describe(o)}`);
  }
}

/**
 * Called at each expiry of a {@link HighResTimer}.
 * @param timer - the handle (so one function can serve several timers).
 * @param overruns - periods since the previous run, as `hrtimer_forward` and
 *   timerfd count them: 1n on time, n when n - 1 periods were missed; 1n for a one-shot timer.
 * @param deadline - the deadline this run was due at, on the timer's clock (ns).
 */
export type HighResTimerCallback = (timer: HighResTimer, overruns: bigint, deadline: bigint) => void;

/** Options of the {@link HighResTimer} constructor. */
export interface HighResTimerOptions {
  /** The clock deadlines are on: CLOCK_MONOTONIC (default), CLOCK_REALTIME, CLOCK_BOOTTIME or CLOCK_TAI. */
  clock?: number;
  /** Keep the process alive while armed (default true), as Node's timers do. */
  ref?: boolean;
  /**
   * Allowed lateness in ns (default 0n), the `range_ns` of
   * `hrtimer_start_range_ns`: the timer never runs before its deadline, and
   * may run up to `slack` after it to share a wake-up with another timer.
   */
  slack?: Duration;
}

function optionsArg(o: unknown): HighResTimerOptions {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null) throw typeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(o)}`);
  return o as HighResTimerOptions;
}

/**
 * A high-resolution timer handle: one-shot or periodic, nanosecond deadlines on
 * one clock, with Node's timer manners.
 *
 * Differences from Node's `Timeout`: durations are bigint ns (see `ms()`);
 * periodic deadlines are absolute, so a slow callback does not shift later
 * ticks, and missed periods are reported as an overrun count instead of being
 * run back to back; the callback runs in the expiry pass, not as a macrotask.
 * @example
 * import { HighResTimer, us } from 'ktimers';
 * const t = new HighResTimer((_t, overruns) => tick(overruns));
 * t.start(us(500), us(500));                 // every 500 us, first one in 500 us
 * // … later (or `using t = …` in TypeScript 5.2+):
 * t.cancel();
 */
export class HighResTimer {
  readonly #t = new hrtimer();
  readonly #fn: HighResTimerCallback;
  readonly #slack: bigint;
  /** the delay of the last start (for refresh), or -1n before any start */
  #delay = -1n;
  /** 0n: one-shot */
  #period = 0n;
  #overruns = 0n;
  /** cancel() ran inside the callback: do not restart */
  #stopped = false;

  /**
   * Creates an idle timer; nothing is armed until {@link HighResTimer.start}.
   * @param callback - runs at each expiry (see {@link HighResTimerCallback}).
   * @param options - clock, ref and slack (see {@link HighResTimerOptions}).
   * @throws TypeError ERR_INVALID_ARG_TYPE for a non-function callback or a bad option type;
   *   RangeError ERR_KTIMERS_INVALID_CLOCK for an unknown clock; RangeError ERR_OUT_OF_RANGE for a negative slack.
   */
  constructor(callback: HighResTimerCallback, options?: HighResTimerOptions) {
    this.#fn = functionArg<HighResTimerCallback>(callback, 'callback');
    const o = optionsArg(options);
    const clock = o.clock === undefined ? CLOCK_MONOTONIC : o.clock;
    const refd = booleanOption(o.ref, 'options.ref', true);
    this.#slack = o.slack === undefined ? 0n : durationArg(o.slack, 'options.slack');
    // ABS at setup: a CLOCK_REALTIME handle keeps REALTIME (REL would switch it
    // to MONOTONIC, the kernel's POSIX rule); start() adds the clock's own now.
    hrtimer_setup(this.#t, () => this.#expire(), clock, HRTIMER_MODE_ABS);
    if (!refd) this.#t.unref();
    instances.add(this);
  }

  #expire(): HrtimerRestart {
    const t = this.#t;
    const deadline = hrtimer_get_softexpires(t);
    this.#stopped = false;
    this.#overruns = this.#period > 0n ? hrtimer_forward_now(t, this.#period) : 1n;
    this.#fn(this, this.#overruns, deadline);
    // Started again from the callback: already queued. Cancelled: stop.
    if (this.#period === 0n || this.#stopped || hrtimer_is_queued(t)) return HRTIMER_NORESTART;
    return HRTIMER_RESTART;
  }

  /**
   * Arms the timer `delay` ns from now on its clock; with a `period`, it then
   * fires every `period` ns after that first deadline. Restarts an armed timer.
   * Allowed inside the callback (the new schedule replaces the periodic one).
   * @param delay - bigint ns >= 0 (`0n`: at the next expiry pass).
   * @param period - bigint ns > 0 for a periodic timer; omitted or `0n` for a one-shot.
   * @returns this
   * @throws TypeError ERR_INVALID_ARG_TYPE for a non-bigint (a number has no unit: use `ms()` …);
   *   RangeError ERR_OUT_OF_RANGE for a negative value.
   */
  start(delay: Duration, period: Duration = 0n): this {
    thisArg(this);
    const d = durationArg(delay, 'delay');
    const p = durationArg(period, 'period');
    this.#arm(d, p, true);
    return this;
  }

  /**
   * Arms the timer at the absolute `deadline` on its clock (a value of
   * `ktime_get()` for CLOCK_MONOTONIC); with a `period`, it then fires at
   * `deadline + k * period`. A deadline in the past fires at the next expiry pass.
   * @param deadline - absolute bigint ns (any ktime_t).
   * @param period - bigint ns > 0 for a periodic timer; omitted or `0n` for a one-shot.
   * @returns this
   * @throws TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE on bad values.
   */
  startAt(deadline: bigint, period: Duration = 0n): this {
    thisArg(this);
    const at = ktimeArg(deadline, 'deadline');
    const p = durationArg(period, 'period');
    this.#arm(at, p, false);
    return this;
  }

  #arm(tim: bigint, period: bigint, rel: boolean): void {
    this.#period = period;
    this.#stopped = false;
    if (rel) this.#delay = tim;
    else {
      const now = hrtimer_cb_get_time(this.#t);
      // A negative absolute expiry meets the kernel's ktime_add_safe() quirk
      // (saturated to KTIME_MAX: never due); a past one is as good at now. Other
      // past deadlines stay, so a periodic timer reports the periods it missed.
      if (tim < 0n && tim < now) tim = now;
      this.#delay = tim > now ? tim - now : 0n;
    }
    hrtimer_start_range_ns(this.#t, tim, this.#slack, rel ? HRTIMER_MODE_REL : HRTIMER_MODE_ABS);
  }

  #started(what: string): void {
    if (this.#delay < 0n) {
      throw new KtimersError('ERR_KTIMERS_NOT_STARTED', `HighResTimer#${what}() before the first start(): there is no deadline to reuse`);
    }
  }

  /**
   * Arms the timer again at its current deadline (the kernel's
   * `hrtimer_restart`): after a cancel, it resumes the same schedule; a
   * deadline already past fires at the next expiry pass. Inside a periodic
   * callback the current deadline is already the next period's.
   * @returns this
   * @throws KtimersError ERR_KTIMERS_NOT_STARTED before the first start.
   */
  restart(): this {
    thisArg(this);
    this.#started('restart');
    this.#stopped = false;
    hrtimer_restart(this.#t);
    return this;
  }

  /**
   * Node's `timeout.refresh()`: arms the timer again at now + the delay of the
   * last start (for {@link HighResTimer.startAt}, the time that was left then),
   * keeping its period. Works on a timer that already fired or was cancelled.
   * @returns this
   * @throws KtimersError ERR_KTIMERS_NOT_STARTED before the first start.
   */
  refresh(): this {
    thisArg(this);
    this.#started('refresh');
    this.#arm(this.#delay, this.#period, true);
    return this;
  }

  /**
   * Stops the timer: no further expiry runs until it is started again. Safe
   * inside its own callback (where `hrtimer_cancel` would deadlock): the
   * periodic re-arm is then skipped.
   * @returns true if a future expiry was cancelled (it was armed, or it is a
   *   periodic timer cancelled from its callback); false if it was idle.
   */
  cancel(): boolean {
    thisArg(this);
    const t = this.#t;
    if (hrtimer_callback_running(t)) {
      const wouldRestart = (this.#period > 0n && !this.#stopped) || hrtimer_is_queued(t);
      this.#stopped = true;
      disarm(t);
      return wouldRestart;
    }
    return hrtimer_cancel(t) === 1;
  }

  /** Same as {@link HighResTimer.cancel}, for `using t = new HighResTimer(…)`. */
  [Symbol.dispose](): void {
    thisArg(this);
    this.cancel();
  }

  /**
   * Lets the process exit while this timer is armed (like Node's `Timeout#unref`).
   * @returns this
   */
  unref(): this {
    thisArg(this);
    this.#t.unref();
    return this;
  }

  /**
   * Makes an armed timer keep the process alive again (the default).
   * @returns this
   */
  ref(): this {
    thisArg(this);
    this.#t.ref();
    return this;
  }

  /** Whether this timer keeps the process alive while armed. */
  hasRef(): boolean {
    thisArg(this);
    return this.#t.hasRef();
  }

  /** Armed and waiting for its next expiry (false while its callback runs, unless it was re-armed). */
  get pending(): boolean {
    thisArg(this);
    return hrtimer_is_queued(this.#t);
  }

  /** The next deadline (absolute ns on the timer's clock); inside a periodic callback, the next period's. */
  get expires(): bigint {
    thisArg(this);
    return hrtimer_get_softexpires(this.#t);
  }

  /** The period in ns; 0n for a one-shot timer. */
  get period(): bigint {
    thisArg(this);
    return this.#period;
  }

  /** The overrun count of the last expiry (1n on time, 0n before the first). */
  get overruns(): bigint {
    thisArg(this);
    return this.#overruns;
  }

  /** The clock id the deadlines are on. */
  get clock(): number {
    thisArg(this);
    return this.#t.clockid;
  }
}
