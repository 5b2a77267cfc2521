/**
 * `struct hrtimer`, and the readers of the arguments every hrtimer call shares.
 *
 * The kernel's fields of `struct hrtimer` (expiries, base, state bits) and
 * ktimers' own (the queue slot) are private fields of TimerCore
 * (lib/internal/engine.ts), which `hrtimer` extends: the engine's code that
 * works on them is written inside that class, and the hrtimer API reaches them
 * through `timerFields`. User code cannot read or forge them (a property named
 * `_slot` on a timer is just a property), so the engine can trust every slot.
 * `hrtimer` itself adds only the public `function` and the methods users call.
 */
import { describe, rangeError, typeError } from '../errors.js';
import { writeTimerField } from '../internal/validate.js';
import { isTimerCore, setRef, TimerCore, timerFields } from '../internal/engine.js';
import { CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_TAI } from '../ktime.js';
import type { HrtimerCallback } from './index.js';

/**
 * `struct hrtimer`. Create with `new hrtimer()`, then {@link hrtimer_setup}
 * (or the pre-6.15 {@link hrtimer_init} followed by assigning `timer.function`).
 * Subclass it to embed your own fields; the callback receives the same object
 * (the JS form of `container_of`).
 */
export class hrtimer extends TimerCore {
  /** The callback. Assign it after {@link hrtimer_init} (old API); prefer {@link hrtimer_setup}. */
  function: HrtimerCallback<any> | null = null;

  /** Lets the process exit while this timer is armed (like Node's `Timeout#unref`). Returns this. */
  unref(): this {
    setRef(this, false);
    return this;
  }
  /** Makes an armed timer keep the process alive again (the default). Returns this. */
  ref(): this {
    setRef(this, true);
    return this;
  }
  /** Whether this timer keeps the process alive while armed. */
  hasRef(): boolean {
    return timerFields.refd(this);
  }
  /** The clock id the timer runs on (after setup; REL + REALTIME reads MONOTONIC). */
  get clockid(): number {
    return timerFields.clockid(this);
  }
}

/**
 * A user's timer argument. `isTimerCore` is the brand: only objects built by the
 * constructor are timers (`instanceof` can be fooled by
 * Object.create(hrtimer.prototype), and runs a Proxy's getPrototypeOf trap).
 * Freezing does not reach the private fields the engine works on, so a frozen,
 * sealed or non-extensible hrtimer is a timer like any other (as a timer_list
 * is, lib/timer/fields.ts): only the calls that write its public `function`
 * refuse one whose `function` cannot be written (writeFunction). An up-front
 * Object.isExtensible on every call was a measurable part of an arm + cancel.
 */
export function timerArg(t: unknown): hrtimer {
  if (!isTimerCore(t)) throw typeError('ERR_INVALID_ARG_TYPE', `timer must be an hrtimer, got ${describe(t)}`);
  return t as hrtimer;
}

/** Sets `timer.function` before any other effect, or throws a coded TypeError if the write is refused. */
export function writeFunction(t: hrtimer, fn: HrtimerCallback<any> | null): void {
  writeTimerField(t, 'function', fn);
}

/** {@link timerArg} for a timer that must have been set up. */
export function setupTimerArg(t: unknown): hrtimer {
  const timer = timerArg(t);
  if (timerFields.base(timer) < 0) {
    throw typeError('ERR_KTIMERS_NOT_SETUP', 'hrtimer was never set up: call hrtimer_setup() (or hrtimer_init()) first');
  }
  return timer;
}

/** An HRTIMER_MODE_* argument: ABS/REL, PINNED, at most one of SOFT/HARD, LAZY_REARM. */
export function modeArg(mode: unknown): number {
  if (typeof mode !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `mode must be an HRTIMER_MODE_* number, got ${describe(mode)}`);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0x1f || (mode & 0x0c) === 0x0c) {
    throw rangeError('ERR_KTIMERS_INVALID_MODE', `invalid hrtimer mode ${describe(mode)}: expected a combination of ABS/REL, PINNED and one of SOFT/HARD`);
  }
  return mode;
}

/** The CLOCK_* id of each clock index (the kernel's order of hrtimer clock bases). */
export const CLOCK_OF_INDEX = [CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_TAI];

/** A clock id argument, as its clock index 0..3. */
export function clockArg(clockid: unknown): number {
  if (typeof clockid !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `clock_id must be a CLOCK_* number, got ${describe(clockid)}`);
  // (Comparisons, not a Map: hrtimer_setup is on the path of every one-shot timer.)
  const idx =
    clockid === CLOCK_MONOTONIC ? 0 : clockid === CLOCK_REALTIME ? 1 : clockid === CLOCK_BOOTTIME ? 2 : clockid === CLOCK_TAI ? 3 : -1;
  if (idx < 0) {
    throw rangeError(
      'ERR_KTIMERS_INVALID_CLOCK',
      `invalid clock id ${describe(clockid)}: hrtimers run on CLOCK_MONOTONIC (1), CLOCK_REALTIME (0), CLOCK_BOOTTIME (7) or CLOCK_TAI (11)`,
    );
  }
  return idx;
}
