/**
 * The checks and writes of a timer_list's public fields (`function`, `flags`)
 * and of the timer itself as an argument, for the API (index.ts), ktimers/legacy
 * and the workqueue's delayed_work.
 *
 * Why apart from the API: these are the rules that keep a call from being half
 * done when a user has frozen a timer or made a field read-only, and more than
 * one module arms timers through them.
 */
import { KtimersError, describe, typeError } from '../errors.js';
import { writeTimerField } from '../internal/validate.js';
import { isPending, setSt, ST_RUNNING, ST_SETUP, stOf, TIMER_INIT_FLAGS, timer_list, type TimerCallback } from './timer-list.js';

// ktimers' state on a timer_list is private (#st, #exp), which freezing does not
// touch: mod_timer, add_timer, timer_delete*, timer_pending work on a frozen
// timer as on any other (and a frozen pending timer can still be cancelled).
// Only the calls that write the kernel's public fields (`function`, `flags`) —
// timer_setup, add_timer_local/global/on, timer_shutdown* — can fail, when that
// write is refused (a frozen timer, or a field made read-only); they write first
// (writeField), so a refused call changes nothing. An up-front check
// (Object.isExtensible) on every call would cost a noticeable part of a re-arm.
export function timerArg(t: unknown): timer_list {
  if (!timer_list.isTimer(t)) throw typeError('ERR_INVALID_ARG_TYPE', `timer must be a timer_list, got ${describe(t)}`);
  return t;
}

/**
 * May ktimers write the timer's public fields? It must be extensible, with
 * `function` and `flags` still own, writable data fields (a user's
 * defineProperty can make one read-only, or an accessor, on an extensible
 * object). Checked before any effect, so no call is left half done.
 * @internal (also lib/workqueue/init.ts, for a delayed_work's timer, and lib/legacy.ts)
 */
export function fieldsWritable(t: timer_list): boolean {
  if (!Object.isExtensible(t)) return false;
  return (
    Reflect.getOwnPropertyDescriptor(t, 'function')?.writable === true &&
    Reflect.getOwnPropertyDescriptor(t, 'flags')?.writable === true
  );
}

/** Writes a public field, or throws a coded TypeError if the write is refused (strict mode throws). */
export function writeField(t: timer_list, key: 'function' | 'flags', v: TimerCallback<any> | null | number): void {
  writeTimerField(t, key, v);
}

export function setupArg(t: unknown): timer_list {
  const timer = timerArg(t);
  if (!(stOf(timer) & ST_SETUP)) throw typeError('ERR_KTIMERS_NOT_SETUP', 'timer_list was never set up: call timer_setup() first');
  // flags and function are writable fields, as in the kernel: check what was written.
  const f: unknown = timer.flags;
  if (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f > 0xffffffff) {
    throw typeError('ERR_INVALID_ARG_TYPE', `timer.flags must be a u32 of TIMER_* bits, got ${describe(f)}`);
  }
  const fn: unknown = timer.function;
  if (fn !== null && typeof fn !== 'function') {
    throw typeError('ERR_KTIMERS_NO_FUNCTION', `timer.function must be a function (or null after timer_shutdown), got ${describe(fn)}`);
  }
  return timer;
}

/**
 * init_timer_key() without a callback, as the pre-4.15 init_timer() was: marks
 * the timer set up with `flags`, leaves `function` as it is. The caller has
 * checked that the fields are writable, so nothing here can fail half-way.
 * @internal (ktimers/legacy)
 */
export function initTimerKey(timer: timer_list, flags: number): void {
  const t = timerArg(timer);
  if (isPending(t) || stOf(t) & ST_RUNNING) {
    throw new KtimersError('ERR_KTIMERS_TIMER_ACTIVE', 'init_timer() on a pending or running timer would corrupt the wheel');
  }
  writeField(t, 'flags', flags & TIMER_INIT_FLAGS);
  setSt(t, stOf(t) | ST_SETUP);
}
