/**
 * hrtimer: the kernel's high-resolution timer API on real OS clocks.
 *
 * Names, constants, return values and arithmetic follow Linux 6.19/7.1
 * (`include/linux/hrtimer.h`, `kernel/time/hrtimer.c`). How ktimers differs
 * from the kernel, point by point (also in the README):
 *
 * - Callbacks run on the JS thread that armed the timer, one at a time, inside
 *   ktimers' expiry pass (in_hardirq() for default/HARD modes, in_serving_softirq()
 *   for SOFT modes). There is no other CPU, so `hrtimer_cancel()` never has to
 *   wait: it is synchronous. Called from the timer's own callback (where the
 *   kernel spins forever) it throws `ERR_KTIMERS_DEADLOCK`.
 * - A callback that keeps returning HRTIMER_RESTART without moving its expiry
 *   past now (a kernel livelock) is stopped after RESTART_LOOP_LIMIT re-runs in
 *   one pass and reported as an `ERR_KTIMERS_RESTART_LOOP` error.
 * - Bad input is an error, not a WARN: an invalid clock id (the kernel warns and
 *   uses MONOTONIC), an invalid mode, or a missing callback (the kernel installs
 *   a dummy) throw TypeError/RangeError with a `code`.
 * - PINNED has no effect (one CPU: the JS thread). HRTIMER_MODE_LAZY_REARM (7.1)
 *   is accepted and has no effect.
 * - hrtimer_resolution is 1 ns: ktimers is always in high-resolution mode; the
 *   achieved wake-up latency is the OS's (see bench/).
 * - Armed timers keep the process alive like Node's timers; `timer.unref()`
 *   opts out. Microtasks queued by a callback run after the whole expiry pass.
 * - ktimers extension, no kernel counterpart: hrtimer_set_spin_ns() (hybrid
 *   wake-up: wake early, busy-wait to the expiry).
 *
 * This file is the public API: argument checks and the kernel's arithmetic on a
 * timer's expiries. `struct hrtimer` and its private state are in ./hrtimer.ts;
 * the queues and the expiry pass underneath, in lib/internal/engine.ts.
 */
import { KtimersError, kwarn, rangeError, typeError } from '../errors.js';
import { armAbs, armRel, clockNow, disarm, timerFields as F } from '../internal/engine.js';
import { functionArg, ktimeArg, u64Arg } from '../internal/validate.js';
import { addSafe } from '../internal/arith.js';
import type { ktime_t } from '../ktime.js';
import { clockArg, hrtimer, modeArg, setupTimerArg, timerArg, writeFunction } from './hrtimer.js';

export { hrtimer };
export { RESTART_LOOP_LIMIT } from '../internal/engine.js';

/** `enum hrtimer_restart`: a callback returning this (or nothing) leaves the timer stopped. */
export const HRTIMER_NORESTART = 0;
/** `enum hrtimer_restart`: a callback returning this re-queues the timer at its (forwarded) expiry. */
export const HRTIMER_RESTART = 1;
/** What an hrtimer callback returns: {@link HRTIMER_NORESTART} or {@link HRTIMER_RESTART}. */
export type hrtimer_restart = typeof HRTIMER_NORESTART | typeof HRTIMER_RESTART;

/** `enum hrtimer_mode` (0x00): the expiry is an absolute time on the timer's clock. */
export const HRTIMER_MODE_ABS = 0x00;
/** `enum hrtimer_mode` (0x01): the expiry is relative to now. */
export const HRTIMER_MODE_REL = 0x01;
/** `enum hrtimer_mode` (0x02): keep the timer on this CPU. Accepted; no effect (one CPU: the JS thread). */
export const HRTIMER_MODE_PINNED = 0x02;
/** `enum hrtimer_mode` (0x04): expire in softirq context (`in_serving_softirq()`), after the hard timers of the pass. */
export const HRTIMER_MODE_SOFT = 0x04;
/** `enum hrtimer_mode` (0x08): expire in hard-IRQ context, also on PREEMPT_RT (the default here anyway). */
export const HRTIMER_MODE_HARD = 0x08;
/** ABS | PINNED (0x02). */
export const HRTIMER_MODE_ABS_PINNED = 0x02;
/** REL | PINNED (0x03). */
export const HRTIMER_MODE_REL_PINNED = 0x03;
/** ABS | SOFT (0x04). */
export const HRTIMER_MODE_ABS_SOFT = 0x04;
/** REL | SOFT (0x05). */
export const HRTIMER_MODE_REL_SOFT = 0x05;
/** ABS | PINNED | SOFT (0x06). */
export const HRTIMER_MODE_ABS_PINNED_SOFT = 0x06;
/** REL | PINNED | SOFT (0x07). */
export const HRTIMER_MODE_REL_PINNED_SOFT = 0x07;
/** ABS | HARD (0x08). */
export const HRTIMER_MODE_ABS_HARD = 0x08;
/** REL | HARD (0x09). */
export const HRTIMER_MODE_REL_HARD = 0x09;
/** ABS | PINNED | HARD (0x0a). */
export const HRTIMER_MODE_ABS_PINNED_HARD = 0x0a;
/** REL | PINNED | HARD (0x0b). */
export const HRTIMER_MODE_REL_PINNED_HARD = 0x0b;
/** Linux 7.1: skip reprogramming when the first timer moves later. Accepted, no effect here. */
export const HRTIMER_MODE_LAZY_REARM = 0x10;

/** Resolution of every hrtimer clock, in ns: always high-resolution mode. */
export const hrtimer_resolution: ktime_t = 1n;

/**
 * An hrtimer callback: receives the timer (your subclass instance, if any) and
 * returns {@link HRTIMER_RESTART} to be re-queued at its expiry (moved on with
 * {@link hrtimer_forward_now} first), or {@link HRTIMER_NORESTART} / nothing.
 * It runs synchronously in the expiry pass and cannot be async.
 */
export type HrtimerCallback<T extends hrtimer = hrtimer> = (timer: T) => hrtimer_restart | void;

function init(t: hrtimer, fn: HrtimerCallback<any> | null, clock_id: unknown, mode: unknown, what: string): void {
  let idx = clockArg(clock_id);
  const m = modeArg(mode);
  if (F.queued(t) || F.running(t)) {
    throw new KtimersError('ERR_KTIMERS_TIMER_ACTIVE', `${what}() on an active hrtimer would corrupt its queue: cancel it first`);
  }
  // POSIX: relative CLOCK_REALTIME timers are not affected by clock changes.
  if (idx === 1 && m & HRTIMER_MODE_REL) idx = 0;
  writeFunction(t, fn); // first: a refused write leaves the timer as it was
  F.setup(t, idx + (m & HRTIMER_MODE_SOFT ? 4 : 0));
}

/**
 * `hrtimer_setup(timer, function, clock_id, mode)` — initialise a timer (6.13+).
 * REL with CLOCK_REALTIME is switched to CLOCK_MONOTONIC, as in the kernel.
 *
 * Context: any; the timer must not be active (ERR_KTIMERS_TIMER_ACTIVE).
 * Return: nothing. Throws on an invalid clock, mode or callback, and on a timer
 * whose `function` cannot be written (frozen): freezing does not stop the other calls.
 * @param timer - a `new hrtimer()` (or an instance of a subclass).
 * @param fn - the callback (see {@link HrtimerCallback}).
 * @param clock_id - CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME or CLOCK_TAI.
 * @param mode - an HRTIMER_MODE_* value: ABS/REL, optionally PINNED, and SOFT or HARD.
 * @example
 * const t = new hrtimer();
 * hrtimer_setup(t, (t) => { hrtimer_forward_now(t, 1_000_000n); return HRTIMER_RESTART; },
 *               CLOCK_MONOTONIC, HRTIMER_MODE_REL);
 */
export function hrtimer_setup<T extends hrtimer>(timer: T, fn: HrtimerCallback<T>, clock_id: number, mode: number): void {
  const t = timerArg(timer);
  init(t, functionArg<HrtimerCallback<any>>(fn, 'function'), clock_id, mode, 'hrtimer_setup');
}

/**
 * `hrtimer_init(timer, clock_id, mode)` — the pre-6.15 initialiser; assign
 * `timer.function` afterwards. Kept for code written against older kernels.
 *
 * Context: any; the timer must not be active.
 * @param timer - a `new hrtimer()`.
 * @param clock_id - CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME or CLOCK_TAI.
 * @param mode - an HRTIMER_MODE_* value.
 */
export function hrtimer_init(timer: hrtimer, clock_id: number, mode: number): void {
  init(timerArg(timer), null, clock_id, mode, 'hrtimer_init');
}

/**
 * `hrtimer_update_function(timer, function)` — change the callback of a timer
 * that is not queued. Queued: WARN_ON_ONCE and no change, as in the kernel.
 *
 * Context: any, including the timer's own callback (it is not queued while it runs).
 * @param timer - a set-up hrtimer.
 * @param fn - the new callback.
 */
export function hrtimer_update_function<T extends hrtimer>(timer: T, fn: HrtimerCallback<T>): void {
  const t = setupTimerArg(timer);
  const f = functionArg<HrtimerCallback<any>>(fn, 'function');
  if (F.queued(t)) {
    kwarn('KTIMERS_WARN_UPDATE_QUEUED', 'hrtimer_update_function() on a queued hrtimer: ignored', true);
    return;
  }
  writeFunction(t, f);
}

function startChecks(t: hrtimer, mode: number): void {
  if (typeof t.function !== 'function') {
    throw typeError('ERR_KTIMERS_NO_FUNCTION', 'hrtimer has no callback: set one with hrtimer_setup() or timer.function');
  }
  if (!!(mode & HRTIMER_MODE_SOFT) !== F.base(t) >= 4) {
    kwarn('KTIMERS_WARN_SOFT_MISMATCH', 'hrtimer started with a SOFT mode bit that differs from its setup mode', true);
  }
}

/**
 * `hrtimer_start_range_ns(timer, tim, range_ns, mode)` — (re)start a timer.
 * A queued timer is first removed (restart: one queued instance). With a REL
 * mode `tim` is added to the clock's current time (ktime_add_safe). The timer
 * never runs before `tim` (soft expiry) and the OS timer is programmed for
 * `tim + range_ns` (hard expiry), so its wake-up can be shared with earlier
 * timers: a due range timer runs at any expiry pass after its soft expiry.
 *
 * Kernel quirk kept: ktime_add_safe() saturates a negative relative `tim` to
 * KTIME_MAX, so `hrtimer_start(t, -1n, HRTIMER_MODE_REL)` never fires.
 *
 * Context: any, including timer callbacks (its own: it is then running and queued).
 * Return: nothing.
 * @param timer - a set-up hrtimer.
 * @param tim - the (soft) expiry: absolute on the timer's clock with ABS, from now with REL.
 * @param range_ns - the slack: the hard expiry is `tim + range_ns` (u64).
 * @param mode - HRTIMER_MODE_ABS or _REL (plus the SOFT/HARD bit the timer was set up with).
 */
export function hrtimer_start_range_ns(timer: hrtimer, tim: ktime_t, range_ns: bigint | number, mode: number): void {
  const t = setupTimerArg(timer);
  const m = modeArg(mode);
  const soft = ktimeArg(tim, 'tim');
  startRange(t, m, soft, BigInt.asIntN(64, u64Arg(range_ns, 'range_ns')));
}

/**
 * `hrtimer_start(timer, tim, mode)` — (re)start a timer with no slack:
 * `hrtimer_start_range_ns(timer, tim, 0, mode)`.
 *
 * Context: any, including timer callbacks.
 * @param timer - a set-up hrtimer.
 * @param tim - the expiry: absolute with ABS, relative to now with REL.
 * @param mode - HRTIMER_MODE_ABS or _REL (plus the timer's SOFT/HARD bit).
 */
export function hrtimer_start(timer: hrtimer, tim: ktime_t, mode: number): void {
  const t = setupTimerArg(timer);
  const m = modeArg(mode);
  startRange(t, m, ktimeArg(tim, 'tim'), 0n);
}

/** The one start path, on validated arguments: hard = ktime_add_safe(soft, range). */
function startRange(t: hrtimer, m: number, soft: bigint, range: bigint): void {
  startChecks(t, m);
  if (m & HRTIMER_MODE_REL) armRel(t, soft, range);
  else armAbs(t, soft, addSafe(soft, range));
}

/**
 * `hrtimer_start_expires(timer, mode)` — start at the stored soft expiry,
 * keeping the stored range (hard − soft), e.g. after {@link hrtimer_set_expires_range}.
 *
 * Context: any, including timer callbacks.
 * @param timer - a set-up hrtimer.
 * @param mode - normally HRTIMER_MODE_ABS (the stored expiry is absolute).
 */
export function hrtimer_start_expires(timer: hrtimer, mode: number): void {
  const t = setupTimerArg(timer);
  const m = modeArg(mode);
  // The stored range, read back as hrtimer_start_range_ns() reads its u64 range_ns.
  startRange(t, m, F.soft(t), BigInt.asIntN(64, BigInt.asUintN(64, F.hard(t) - F.soft(t))));
}

/**
 * `hrtimer_restart(timer)` — restart at the stored expiry:
 * `hrtimer_start_expires(timer, HRTIMER_MODE_ABS)`.
 *
 * Context: any, including timer callbacks.
 * @param timer - a set-up hrtimer.
 */
export function hrtimer_restart(timer: hrtimer): void {
  hrtimer_start_expires(timer, HRTIMER_MODE_ABS);
}

/**
 * `hrtimer_try_to_cancel(timer)` — try to deactivate a timer.
 *
 * Context: any.
 * Return: 0 when the timer was not active; 1 when it was queued and is now
 * removed; -1 when its callback is running (it is left alone, even if the
 * callback already re-queued it).
 * @param timer - the hrtimer.
 */
export function hrtimer_try_to_cancel(timer: hrtimer): -1 | 0 | 1 {
  const t = timerArg(timer);
  if (F.running(t)) return -1;
  return disarm(t) ? 1 : 0;
}

/**
 * `hrtimer_cancel(timer)` — cancel a timer and wait for its callback.
 *
 * In ktimers callbacks run on the caller's own thread, so there is never a
 * callback running elsewhere to wait for: this is synchronous.
 * Context: any except the timer's own callback, where the kernel would spin
 * forever: that throws `ERR_KTIMERS_DEADLOCK`.
 * Return: 0 when the timer was not active, 1 when it was queued.
 * @param timer - the hrtimer.
 */
export function hrtimer_cancel(timer: hrtimer): 0 | 1 {
  const t = timerArg(timer);
  if (F.running(t)) {
    throw new KtimersError(
      'ERR_KTIMERS_DEADLOCK',
      'hrtimer_cancel() called from the timer\'s own callback: the kernel would wait forever for the callback to finish. ' +
        'Return HRTIMER_NORESTART instead, or use hrtimer_try_to_cancel() (returns -1 here)',
    );
  }
  return disarm(t) ? 1 : 0;
}

/**
 * `hrtimer_forward(timer, now, interval)` — move the expiry forward by whole
 * intervals until it is strictly after `now`.
 *
 * Context: the timer's own callback, or a timer that is not queued. On a
 * queued timer the kernel WARNs and returns 0; so does ktimers.
 * Return: the number of intervals added (the overrun count), as a bigint (u64);
 * 0n if the expiry is already after `now`.
 * @param timer - the hrtimer.
 * @param now - the time to move past (on the timer's clock).
 * @param interval - the period in ns (values below hrtimer_resolution count as 1 ns).
 */
export function hrtimer_forward(timer: hrtimer, now: ktime_t, interval: ktime_t): bigint {
  const t = timerArg(timer);
  return forward(t, ktimeArg(now, 'now'), ktimeArg(interval, 'interval'));
}

/** hrtimer_forward() on validated arguments. */
function forward(t: hrtimer, n: bigint, iv: bigint): bigint {
  let hard = F.hard(t);
  let soft = F.soft(t);
  const delta = BigInt.asIntN(64, n - hard);
  if (delta < 0n) return 0n;
  if (F.queued(t)) {
    kwarn('KTIMERS_WARN_FORWARD_QUEUED', 'hrtimer_forward() on a queued hrtimer: ignored, returns 0');
    return 0n;
  }
  if (iv < hrtimer_resolution) iv = hrtimer_resolution;
  let orun = 1n;
  if (delta >= iv) {
    orun = delta / iv;
    const inc = BigInt.asUintN(64, iv * orun);
    hard = BigInt.asIntN(64, hard + inc);
    soft = BigInt.asIntN(64, soft + inc);
    if (hard > n) {
      F.setExpires(t, soft, hard);
      return orun;
    }
    orun += 1n;
  }
  F.setExpires(t, addSafe(soft, iv), addSafe(hard, iv));
  return orun;
}

/**
 * `hrtimer_forward_now(timer, interval)` — {@link hrtimer_forward} to the
 * current time of the timer's clock: the periodic-timer idiom.
 *
 * Context: the timer's own callback, or a timer that is not queued.
 * Return: the overrun count (1n when on time; n when n − 1 periods were missed).
 * @param timer - a set-up hrtimer.
 * @param interval - the period in ns.
 */
export function hrtimer_forward_now(timer: hrtimer, interval: ktime_t): bigint {
  const t = setupTimerArg(timer);
  return forward(t, clockNow(F.base(t)), ktimeArg(interval, 'interval'));
}

/**
 * `hrtimer_cb_get_time(timer)` — the current time of the timer's clock.
 *
 * Context: any.
 * Return: now on the timer's clock, in ns (virtual while ktimers/testing's clock is installed).
 * @param timer - a set-up hrtimer.
 */
export function hrtimer_cb_get_time(timer: hrtimer): ktime_t {
  return clockNow(F.base(setupTimerArg(timer)));
}

/**
 * `hrtimer_get_remaining(timer)` — time left until the timer's hard expiry.
 *
 * Context: any.
 * Return: hard expiry − now, in ns (negative once it has passed).
 * @param timer - a set-up hrtimer.
 */
export function hrtimer_get_remaining(timer: hrtimer): ktime_t {
  const t = setupTimerArg(timer);
  return BigInt.asIntN(64, F.hard(t) - clockNow(F.base(t)));
}

/**
 * `hrtimer_expires_remaining(timer)` — the same as {@link hrtimer_get_remaining}.
 *
 * Context: any.
 * Return: hard expiry − now, in ns.
 */
export const hrtimer_expires_remaining = hrtimer_get_remaining;

/**
 * `hrtimer_get_expires(timer)` — the hard expiry.
 *
 * Context: any.
 * Return: the hard expiry, absolute ns on the timer's clock (0n for a timer never started).
 * @param timer - the hrtimer.
 */
export function hrtimer_get_expires(timer: hrtimer): ktime_t {
  return F.hard(timerArg(timer));
}

/**
 * `hrtimer_get_softexpires(timer)` — the soft expiry (the earliest time it may run).
 *
 * Context: any.
 * Return: the soft expiry, absolute ns on the timer's clock.
 * @param timer - the hrtimer.
 */
export function hrtimer_get_softexpires(timer: hrtimer): ktime_t {
  return F.soft(timerArg(timer));
}

function expiresWritable(t: hrtimer, what: string): void {
  if (F.queued(t)) {
    // In the kernel this corrupts the queue order. Here the queued instance keeps
    // its old expiry; the new value applies at the next start. Say so once.
    kwarn('KTIMERS_WARN_EXPIRES_QUEUED', `${what}() on a queued hrtimer: takes effect at the next start`, true);
  }
}

/**
 * `hrtimer_set_expires(timer, time)` — set both expiries to `time`, for a later
 * {@link hrtimer_start_expires} or a RESTART return. On a queued timer it warns
 * once and takes effect at the next start (the kernel would corrupt its queue).
 *
 * Context: the timer's own callback, or a timer that is not queued.
 * @param timer - the hrtimer.
 * @param time - the new expiry, absolute ns on the timer's clock.
 */
export function hrtimer_set_expires(timer: hrtimer, time: ktime_t): void {
  const t = timerArg(timer);
  const v = ktimeArg(time, 'time');
  expiresWritable(t, 'hrtimer_set_expires');
  F.setExpires(t, v, v);
}

/**
 * `hrtimer_set_expires_range(timer, time, delta)` — soft = `time`,
 * hard = `ktime_add_safe(time, delta)`.
 *
 * Context: the timer's own callback, or a timer that is not queued.
 * @param timer - the hrtimer.
 * @param time - the soft expiry.
 * @param delta - the slack (a ktime_t).
 */
export function hrtimer_set_expires_range(timer: hrtimer, time: ktime_t, delta: ktime_t): void {
  const t = timerArg(timer);
  const v = ktimeArg(time, 'time');
  const d = ktimeArg(delta, 'delta');
  expiresWritable(t, 'hrtimer_set_expires_range');
  F.setExpires(t, v, addSafe(v, d));
}

/**
 * `hrtimer_set_expires_range_ns(timer, time, delta)` — soft = `time`,
 * hard = `ktime_add_safe(time, delta)`, with `delta` a u64 of ns.
 *
 * Context: the timer's own callback, or a timer that is not queued.
 * @param timer - the hrtimer.
 * @param time - the soft expiry.
 * @param delta - the slack in ns (u64).
 */
export function hrtimer_set_expires_range_ns(timer: hrtimer, time: ktime_t, delta: bigint | number): void {
  const t = timerArg(timer);
  const v = ktimeArg(time, 'time');
  const d = BigInt.asIntN(64, u64Arg(delta, 'delta'));
  expiresWritable(t, 'hrtimer_set_expires_range_ns');
  F.setExpires(t, v, addSafe(v, d));
}

/**
 * `hrtimer_add_expires(timer, time)` — move both expiries by `time`
 * (ktime_add_safe: saturating).
 *
 * Context: the timer's own callback, or a timer that is not queued.
 * @param timer - the hrtimer.
 * @param time - the amount to add.
 */
export function hrtimer_add_expires(timer: hrtimer, time: ktime_t): void {
  const t = timerArg(timer);
  const v = ktimeArg(time, 'time');
  expiresWritable(t, 'hrtimer_add_expires');
  F.setExpires(t, addSafe(F.soft(t), v), addSafe(F.hard(t), v));
}

/**
 * `hrtimer_add_expires_ns(timer, ns)` — move both expiries by `ns` (plain,
 * wrapping add, as the kernel's).
 *
 * Context: the timer's own callback, or a timer that is not queued.
 * @param timer - the hrtimer.
 * @param ns - nanoseconds to add (u64).
 */
export function hrtimer_add_expires_ns(timer: hrtimer, ns: bigint | number): void {
  const t = timerArg(timer);
  const v = u64Arg(ns, 'ns');
  expiresWritable(t, 'hrtimer_add_expires_ns');
  F.setExpires(t, BigInt.asIntN(64, F.soft(t) + v), BigInt.asIntN(64, F.hard(t) + v));
}

/**
 * `hrtimer_active(timer)` — is the timer queued or its callback running?
 *
 * Context: any.
 * Return: true while queued or running.
 * @param timer - the hrtimer.
 */
export function hrtimer_active(timer: hrtimer): boolean {
  const t = timerArg(timer);
  return F.queued(t) || F.running(t);
}

/**
 * `hrtimer_is_queued(timer)` — is the timer waiting to expire?
 *
 * Context: any.
 * Return: true while queued (false inside its own callback unless it was restarted there).
 * @param timer - the hrtimer.
 */
export function hrtimer_is_queued(timer: hrtimer): boolean {
  return F.queued(timerArg(timer));
}

/**
 * `hrtimer_callback_running(timer)` — is the timer's callback executing now?
 *
 * Context: any.
 * Return: true inside the callback (including code it calls), false elsewhere.
 * @param timer - the hrtimer.
 */
export function hrtimer_callback_running(timer: hrtimer): boolean {
  return F.running(timerArg(timer));
}

/**
 * Largest spin of {@link hrtimer_set_spin_ns}: 1 s (`NSEC_PER_SEC`). A spin is a
 * busy-wait on the JS thread; past a second it is a hang, not a latency gain.
 */
export const HRTIMER_SPIN_MAX_NS: ktime_t = 1_000_000_000n;

/**
 * `hrtimer_set_spin_ns(timer, spin_ns)` — **ktimers extension** (the kernel has no
 * counterpart: its hrtimer interrupt already runs within a few us). Hybrid
 * wake-up for the lowest latency: the OS timer is armed `spin_ns` before the
 * timer's expiry, and the last stretch is a busy-wait on the timer's clock, so
 * the callback starts within a few microseconds of its expiry instead of after
 * the OS wake-up latency (tens of us on a VM; see `ktimers cyclictest --spin`).
 *
 * Cost: up to `spin_ns` of CPU per expiry on the JS thread, which can do
 * nothing else meanwhile (at a 100 us period a 50 us spin is up to half a CPU).
 * Choose `spin_ns` just above the wake-up latency you see without spin (its
 * p99 is a good start). The total busy-wait is counted (`cyclictest` reports it).
 *
 * Semantics are otherwise unchanged: the timer is never run before its soft
 * expiry, the run order of timers is the same, and range timers keep their
 * range (the busy-wait ends when the timer is due: its soft expiry; for SOFT
 * mode, its hard expiry, which raises HRTIMER_SOFTIRQ). On the virtual clock
 * (ktimers/testing) spin has no effect: virtual timers run at their exact
 * expiry already, and virtual time does not pass while a thread spins.
 *
 * Takes effect at the timer's next start (an HRTIMER_RESTART re-arm counts); a
 * queued timer keeps the wake-up it was armed with. 0 turns it off.
 *
 * Context: any. Return: nothing. Throws `ERR_OUT_OF_RANGE` outside
 * [0, HRTIMER_SPIN_MAX_NS].
 * @param timer - the hrtimer.
 * @param spin_ns - how long before the expiry to wake and busy-wait, in ns (0: off).
 * @example
 * hrtimer_setup(t, cb, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
 * hrtimer_set_spin_ns(t, 50_000n);            // wake 50 us early, spin the rest
 */
export function hrtimer_set_spin_ns(timer: hrtimer, spin_ns: bigint | number): void {
  const t = timerArg(timer);
  const v = u64Arg(spin_ns, 'spin_ns');
  if (v > HRTIMER_SPIN_MAX_NS) {
    throw rangeError('ERR_OUT_OF_RANGE', `spin_ns must be in [0, ${HRTIMER_SPIN_MAX_NS}] (at most 1 s of busy-waiting), got ${v}`);
  }
  F.setSpin(t, Number(v));
}

/**
 * `hrtimer_get_spin_ns(timer)` — ktimers extension: the spin set by {@link hrtimer_set_spin_ns}.
 *
 * Context: any.
 * Return: the spin in ns (0n: none).
 * @param timer - the hrtimer.
 */
export function hrtimer_get_spin_ns(timer: hrtimer): ktime_t {
  return BigInt(F.spin(timerArg(timer)));
}
