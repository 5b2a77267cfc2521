/**
 * `struct hrtimer` and the private state behind it.
 *
 * The object a user creates holds only its public `function` and one private
 * field: the engine's record of the timer (TimerState, lib/internal/engine.ts),
 * the kernel's fields of `struct hrtimer` (expiries, base, state bits) plus
 * ktimers' own (the native slot, the spin). As `timer_list` does (lib/timer.ts),
 * the class's `static {}` block hands the accessors to this module only: user
 * code cannot read or forge the state (a property named `_slot` on the object
 * is just a property), so the engine can trust every slot it is given.
 *
 * The other files of the area, and the package's own users of hrtimers (the
 * NO_HZ tick of lib/timer.ts, lib/api/high-res-timer.ts), reach the state
 * through the functions below; they are not part of the public API.
 */
import { describe, rangeError, typeError } from '../errors.js';
import { setRef, TimerState } from '../internal/engine.js';
import { CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_TAI } from '../ktime.js';
import type { HrtimerCallback } from './index.js';

let stateOf: (t: hrtimer) => TimerState;
let stateIfTimer: (o: unknown) => TimerState | null;

/**
 * `struct hrtimer`. Create with `new hrtimer()`, then {@link hrtimer_setup}
 * (or the pre-6.15 {@link hrtimer_init} followed by assigning `timer.function`).
 * Subclass it to embed your own fields; the callback receives the same object
 * (the JS form of `container_of`).
 */
export class hrtimer {
  /** The callback. Assign it after {@link hrtimer_init} (old API); prefer {@link hrtimer_setup}. */
  function: HrtimerCallback<any> | null = null;
  #s: TimerState = new TimerState(this);

  static {
    stateOf = (t) => t.#s;
    // `#s in o` is the brand: only objects built by this constructor are timers.
    // `instanceof` can be fooled (Object.create(hrtimer.prototype)) and runs a
    // Proxy's getPrototypeOf trap; this runs no trap.
    stateIfTimer = (o) => (typeof o === 'object' && o !== null && #s in o ? (o as hrtimer).#s : null);
  }

  /** Lets the process exit while this timer is armed (like Node's `Timeout#unref`). Returns this. */
  unref(): this {
    setRef(this.#s, false);
    return this;
  }
  /** Makes an armed timer keep the process alive again (the default). Returns this. */
  ref(): this {
    setRef(this.#s, true);
    return this;
  }
  /** Whether this timer keeps the process alive while armed. */
  hasRef(): boolean {
    return this.#s.refd;
  }
  /** The clock id the timer runs on (after setup; REL + REALTIME reads MONOTONIC). */
  get clockid(): number {
    return this.#s.clockid;
  }
}

/** The engine state of a timer the package itself made (no checks). */
export function hrtimerState(t: hrtimer): TimerState {
  return stateOf(t);
}

/**
 * The state of a user's timer argument. A frozen, sealed or non-extensible
 * hrtimer is refused by every call, and one frozen while armed is dropped at its
 * expiry (lib/internal/engine.ts): a rule from when the state lived on the
 * object, kept so that behaviour did not change when it moved into a private field.
 */
export function timerState(t: unknown): TimerState {
  const s = stateIfTimer(t);
  if (s === null) throw typeError('ERR_INVALID_ARG_TYPE', `timer must be an hrtimer, got ${describe(t)}`);
  if (!Object.isExtensible(t)) {
    throw typeError('ERR_INVALID_ARG_TYPE', 'timer must not be frozen, sealed or made non-extensible');
  }
  return s;
}

/** {@link timerState} of a timer that must have been set up. */
export function setupState(t: unknown): TimerState {
  const s = timerState(t);
  if (s.base < 0) {
    throw typeError('ERR_KTIMERS_NOT_SETUP', 'hrtimer was never set up: call hrtimer_setup() (or hrtimer_init()) first');
  }
  return s;
}

/** An HRTIMER_MODE_* argument: ABS/REL, PINNED, at most one of SOFT/HARD, LAZY_REARM. */
export function modeArg(mode: unknown): number {
  if (typeof mode !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `mode must be an HRTIMER_MODE_* number, got ${describe(mode)}`);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0x1f || (mode & 0x0c) === 0x0c) {
    throw rangeError('ERR_KTIMERS_INVALID_MODE', `invalid hrtimer mode ${describe(mode)}: expected a combination of ABS/REL, PINNED and one of SOFT/HARD`);
  }
  return mode;
}

const CLOCK_INDEX = new Map<number, number>([
  [CLOCK_MONOTONIC, 0],
  [CLOCK_REALTIME, 1],
  [CLOCK_BOOTTIME, 2],
  [CLOCK_TAI, 3],
]);
/** The CLOCK_* id of each clock index (the kernel's order of hrtimer clock bases). */
export const CLOCK_OF_INDEX = [CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_TAI];

/** A clock id argument, as its clock index 0..3. */
export function clockArg(clockid: unknown): number {
  if (typeof clockid !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `clock_id must be a CLOCK_* number, got ${describe(clockid)}`);
  const idx = CLOCK_INDEX.get(clockid);
  if (idx === undefined) {
    throw rangeError(
      'ERR_KTIMERS_INVALID_CLOCK',
      `invalid clock id ${describe(clockid)}: hrtimers run on CLOCK_MONOTONIC (1), CLOCK_REALTIME (0), CLOCK_BOOTTIME (7) or CLOCK_TAI (11)`,
    );
  }
  return idx;
}
