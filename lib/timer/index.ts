/**
 * timer_list: the kernel's jiffies timers on the non-cascading wheel — the
 * public API (include/linux/timer.h).
 *
 * The folder keeps one concern per file:
 * - timer-list.ts: `struct timer_list`, its flags, its private state and the
 *   compact form of `expires`;
 * - driver.ts: the NO_HZ driver (the one tick that runs the wheel, __mod_timer,
 *   __run_timers) and the virtual wheel's hooks for ktimers/testing;
 * - fields.ts: the checks and writes of a timer's public fields;
 * - lib/internal/wheel.ts and wheel-levels.ts: the wheel and its level
 *   arithmetic.
 *
 * Differences from the kernel: one CPU (add_timer_on accepts only CPU 0);
 * timer_delete_sync / timer_shutdown_sync from the timer's own callback throw
 * `ERR_KTIMERS_DEADLOCK` (the kernel spins forever); a callback exception is
 * reported through uncaughtException after the pass; pending timers keep the
 * process alive unless `unref()`'d, except deferrable ones, which never do
 * (they never wake the process by themselves).
 */
import { KtimersError, describe, kwarn, rangeError, typeError } from '../errors.js';
import { irq } from '../internal/irq.js';
import { HZ, jiffiesArg } from '../internal/jiffies-clock.js';
import { functionArg } from '../internal/validate.js';
import {
  LVL_CLK_SHIFT as lvlClkShift,
  LVL_DEPTH as lvlDepth,
  LVL_SIZE as lvlSize,
  LVL_START as lvlStart,
  WHEEL_TIMEOUT_CUTOFF as timeoutCutoff,
  WHEEL_TIMEOUT_MAX as timeoutMax,
} from '../internal/wheel-levels.js';
import { detach, modTimer, MOD_TIMER_NOTPENDING, MOD_TIMER_PENDING_ONLY, MOD_TIMER_REDUCE } from './driver.js';
import { setupArg, timerArg, writeField } from './fields.js';
import {
  isJiffiesNumber,
  isPending,
  setSt,
  ST_RUNNING,
  ST_SETUP,
  stOf,
  TIMER_INIT_FLAGS,
  TIMER_IRQSAFE,
  TIMER_PINNED,
  timer_list,
  type TimerCallback,
} from './timer-list.js';

export {
  timer_list,
  type TimerCallback,
  TIMER_CPUMASK,
  TIMER_MIGRATING,
  TIMER_BASEMASK,
  TIMER_DEFERRABLE,
  TIMER_PINNED,
  TIMER_IRQSAFE,
  TIMER_INIT_FLAGS,
  TIMER_ARRAYSHIFT,
  TIMER_ARRAYMASK,
} from './timer-list.js';

// --- the wheel's geometry (kernel/time/timer.c), for this process's HZ ----------

/** Number of wheel levels for this process's HZ: 9, or 8 at HZ=100 (`LVL_DEPTH`). */
export const LVL_DEPTH = lvlDepth(HZ);
/** Buckets per wheel level: 64. */
export const LVL_SIZE = lvlSize as 64; // 1 << LVL_BITS, typed as the value it is
/** Each level is 2^3 = 8 times coarser than the one below. */
export const LVL_CLK_SHIFT = lvlClkShift;
/**
 * `LVL_START(n)` — the smallest timeout (expires − clk, in jiffies) that wheel level `n` holds.
 *
 * Context: any.
 * Return: `63 << 3(n−1)`, and 0 for level 0; `LVL_START(LVL_DEPTH)` is WHEEL_TIMEOUT_CUTOFF.
 * @param n - the level, an integer in [0, LVL_DEPTH].
 */
export function LVL_START(n: number): bigint {
  if (typeof n !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `level must be a number, got ${describe(n)}`);
  if (!Number.isInteger(n) || n < 0 || n > LVL_DEPTH) {
    throw rangeError('ERR_OUT_OF_RANGE', `level must be an integer in [0, ${LVL_DEPTH}], got ${describe(n)}`);
  }
  return BigInt(lvlStart(n));
}
/** Timeouts of this many jiffies or more are capped (`LVL_START(LVL_DEPTH)`). */
export const WHEEL_TIMEOUT_CUTOFF: bigint = BigInt(timeoutCutoff(LVL_DEPTH));
/** What a capped timeout becomes: the largest timeout the last level holds, in jiffies. */
export const WHEEL_TIMEOUT_MAX: bigint = BigInt(timeoutMax(LVL_DEPTH));

// --- the API -----------------------------------------------------------------------

/**
 * `timer_setup(timer, callback, flags)` — prepare a timer for first use.
 * Flags outside TIMER_DEFERRABLE | TIMER_PINNED | TIMER_IRQSAFE are masked off
 * with a warning, as the kernel's WARN_ON_ONCE does.
 *
 * Context: any; the timer must not be pending (ERR_KTIMERS_TIMER_ACTIVE).
 * @param timer - a `new timer_list()` (or an instance of a subclass).
 * @param callback - the callback (see {@link TimerCallback}).
 * @param flags - TIMER_* flags (default 0).
 */
export function timer_setup<T extends timer_list>(timer: T, callback: TimerCallback<T>, flags = 0): void {
  const t = timerArg(timer);
  const fn = functionArg<TimerCallback<any>>(callback, 'callback');
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw typeError('ERR_INVALID_ARG_TYPE', `flags must be a u32 of TIMER_* bits, got ${describe(flags)}`);
  }
  if (isPending(t) || stOf(t) & ST_RUNNING) {
    throw new KtimersError('ERR_KTIMERS_TIMER_ACTIVE', 'timer_setup() on a pending or running timer would corrupt the wheel');
  }
  if (flags & ~TIMER_INIT_FLAGS) {
    kwarn('KTIMERS_WARN_TIMER_FLAGS', `timer_setup(): flags 0x${((flags & ~TIMER_INIT_FLAGS) >>> 0).toString(16)} are not TIMER_INIT_FLAGS; masked off`, true);
  }
  const old = t.function;
  writeField(t, 'function', fn);
  try {
    writeField(t, 'flags', flags & TIMER_INIT_FLAGS); // | current CPU (0)
  } catch (err) {
    t.function = old; // writable: it was just written
    throw err;
  }
  setSt(t, stOf(t) | ST_SETUP);
}

/**
 * `DEFINE_TIMER(name, fn)` — a new, set-up timer with flags 0 (JS returns it
 * instead of defining a static `name`).
 *
 * Context: any.
 * Return: the timer, idle.
 * @param fn - the callback.
 */
export function DEFINE_TIMER(fn: TimerCallback<timer_list>): timer_list {
  const t = new timer_list();
  timer_setup(t, fn, 0);
  return t;
}

/**
 * `expires` of mod_timer & co: a bigint, or a non-negative safe-integer number
 * returned as it is — the hot path stays on numbers (no bigint per call).
 */
function expiresArg(v: unknown): bigint | number {
  if (isJiffiesNumber(v)) return v;
  return jiffiesArg(v, 'expires');
}

/**
 * `mod_timer(timer, expires)` — modify a timer's timeout; starts it if inactive.
 *
 * Context: any, including the timer's own callback.
 * Return: 0 when the timer was inactive (now started) or shut down; 1 when it
 * was pending (re-queued, or left in its bucket when the new expiry maps to the
 * same bucket or is unchanged).
 *
 * @param timer - a set-up timer_list.
 * @param expires - the new absolute expiry in jiffies (e.g. `jiffies + msecs_to_jiffies(100)`).
 */
export function mod_timer(timer: timer_list, expires: bigint | number): 0 | 1 {
  const t = setupArg(timer);
  return modTimer(t, expiresArg(expires), 0);
}

/**
 * `mod_timer_pending(timer, expires)` — as {@link mod_timer}, but never starts an inactive timer.
 *
 * Context: any, including the timer's own callback.
 * Return: 0 when the timer was inactive (left so) or shut down; 1 when it was pending (modified).
 * @param timer - a set-up timer_list.
 * @param expires - the new absolute expiry in jiffies.
 */
export function mod_timer_pending(timer: timer_list, expires: bigint | number): 0 | 1 {
  const t = setupArg(timer);
  return modTimer(t, expiresArg(expires), MOD_TIMER_PENDING_ONLY);
}

/**
 * `timer_reduce(timer, expires)` — move a pending timer earlier, never later;
 * starts an inactive one.
 *
 * Context: any, including the timer's own callback.
 * Return: 0 when the timer was inactive (now started) or shut down; 1 when it
 * was pending (modified only if `expires` is earlier).
 * @param timer - a set-up timer_list.
 * @param expires - the candidate absolute expiry in jiffies.
 */
export function timer_reduce(timer: timer_list, expires: bigint | number): 0 | 1 {
  const t = setupArg(timer);
  return modTimer(t, expiresArg(expires), MOD_TIMER_REDUCE);
}

/**
 * `add_timer(timer)` — start a timer at `timer.expires`. A pending timer is left
 * unchanged with a warning (the kernel's WARN_ON_ONCE); a shut-down one is ignored.
 *
 * Context: any, including the timer's own callback.
 * @param timer - a set-up, idle timer_list whose `expires` is set.
 */
export function add_timer(timer: timer_list): void {
  const t = setupArg(timer);
  const expires = jiffiesArg(t.expires, 'timer.expires');
  if (isPending(t)) {
    kwarn('KTIMERS_WARN_ADD_PENDING', 'add_timer() on a pending timer: ignored', true);
    return;
  }
  modTimer(t, expires, MOD_TIMER_NOTPENDING);
}

/**
 * `add_timer_local(timer)` — set TIMER_PINNED, then {@link add_timer} (6.8+).
 *
 * Context: any.
 * @param timer - a set-up, idle timer_list.
 */
export function add_timer_local(timer: timer_list): void {
  const t = setupArg(timer);
  jiffiesArg(t.expires, 'timer.expires'); // before touching flags: a rejected call changes nothing
  if (isPending(t)) return add_timer(t);
  writeField(t, 'flags', t.flags | TIMER_PINNED);
  add_timer(t);
}

/**
 * `add_timer_global(timer)` — clear TIMER_PINNED, then {@link add_timer} (6.8+).
 *
 * Context: any.
 * @param timer - a set-up, idle timer_list.
 */
export function add_timer_global(timer: timer_list): void {
  const t = setupArg(timer);
  jiffiesArg(t.expires, 'timer.expires');
  if (isPending(t)) return add_timer(t);
  writeField(t, 'flags', t.flags & ~TIMER_PINNED);
  add_timer(t);
}

/**
 * `add_timer_on(timer, cpu)` — start a timer pinned to `cpu`.
 *
 * Context: any, but not from the timer's own callback in the kernel (it
 * migrates the timer); harmless here.
 * @param timer - a set-up, idle timer_list.
 * @param cpu - the CPU: ktimers has one, 0 (anything else is ERR_KTIMERS_INVALID_CPU).
 */
export function add_timer_on(timer: timer_list, cpu: number): void {
  const t = setupArg(timer);
  if (cpu !== 0) {
    throw rangeError('ERR_KTIMERS_INVALID_CPU', `add_timer_on(): cpu must be 0 (ktimers runs timers on one CPU), got ${describe(cpu)}`);
  }
  jiffiesArg(t.expires, 'timer.expires');
  if (isPending(t)) return add_timer(t);
  writeField(t, 'flags', t.flags | TIMER_PINNED);
  add_timer(t);
}

/**
 * `timer_pending(timer)` — is the timer queued?
 *
 * Context: any.
 * Return: 1 while queued, else 0 (0 inside its own callback: the wheel
 * unlinked it before calling it).
 * @param timer - the timer_list.
 */
export function timer_pending(timer: timer_list): 0 | 1 {
  return isPending(timerArg(timer)) ? 1 : 0;
}

/**
 * `timer_delete(timer)` (old `del_timer`) — deactivate a timer. Does not wait
 * for a running callback and does not prevent re-arming.
 *
 * Context: any.
 * Return: 0 when it was not pending, 1 when it was pending and is removed.
 * @param timer - the timer_list.
 */
export function timer_delete(timer: timer_list): 0 | 1 {
  return detach(timerArg(timer));
}

function refuseSelfSync(t: timer_list, what: string): void {
  if (stOf(t) & ST_RUNNING) {
    throw new KtimersError(
      'ERR_KTIMERS_DEADLOCK',
      `${what}() called from the timer's own callback: the kernel would wait forever for the callback to finish`,
    );
  }
  // The kernel WARNs on a sync delete from hard IRQ (an hrtimer callback here)
  // unless the timer is TIMER_IRQSAFE: the callback's CPU could be the one waiting.
  if (irq.hard > 0 && !(t.flags & TIMER_IRQSAFE)) {
    kwarn('KTIMERS_WARN_SYNC_IN_HARDIRQ', `${what}() from hard IRQ context on a timer without TIMER_IRQSAFE`, true);
  }
}

/**
 * `timer_delete_sync(timer)` (old `del_timer_sync`) — delete and wait for the
 * callback. Synchronous here (callbacks run on this thread).
 *
 * Context: not the timer's own callback (throws ERR_KTIMERS_DEADLOCK).
 * Return: 0 when it was not pending, 1 when it was pending.
 * @param timer - the timer_list.
 */
export function timer_delete_sync(timer: timer_list): 0 | 1 {
  const t = timerArg(timer);
  refuseSelfSync(t, 'timer_delete_sync');
  return detach(t);
}

/**
 * `timer_delete_sync_try(timer)` (old `try_to_del_timer_sync`) — one non-blocking attempt.
 *
 * Context: any.
 * Return: -1 when the callback is running (nothing removed), else as {@link timer_delete}.
 * @param timer - the timer_list.
 */
export function timer_delete_sync_try(timer: timer_list): -1 | 0 | 1 {
  const t = timerArg(timer);
  if (stOf(t) & ST_RUNNING) return -1;
  return detach(t);
}

/**
 * `timer_shutdown(timer)` — delete and make every later arm a silent no-op,
 * until {@link timer_setup} again. Does not wait for a running callback.
 *
 * Context: any.
 * Return: 0 when it was not pending, 1 when it was pending.
 * @param timer - the timer_list.
 */
export function timer_shutdown(timer: timer_list): 0 | 1 {
  const t = timerArg(timer);
  writeField(t, 'function', null); // first: a refused write leaves the timer as it was
  return detach(t);
}

/**
 * `timer_shutdown_sync(timer)` — {@link timer_shutdown} that also waits for the callback.
 *
 * Context: not the timer's own callback (throws ERR_KTIMERS_DEADLOCK).
 * Return: 0 when it was not pending, 1 when it was pending.
 * @param timer - the timer_list.
 */
export function timer_shutdown_sync(timer: timer_list): 0 | 1 {
  const t = timerArg(timer);
  refuseSelfSync(t, 'timer_shutdown_sync');
  return timer_shutdown(t);
}

/** Old name of {@link timer_delete} (removed from the kernel in 6.15), kept for older code. */
export const del_timer = timer_delete;
/** Old name of {@link timer_delete_sync} (removed from the kernel in 6.15), kept for older code. */
export const del_timer_sync = timer_delete_sync;
/** Old name of {@link timer_delete_sync_try} (renamed in 6.16), kept for older code. */
export const try_to_del_timer_sync = timer_delete_sync_try;
