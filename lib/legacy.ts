/**
 * ktimers/legacy — the timer_list API as the driver textbooks teach it, from
 * before the kernel's timer_setup() conversion: the callback receives an
 * `unsigned long data` instead of the timer.
 *
 * ```js
 * import { legacy_timer_list, init_timer, add_timer, jiffies } from 'ktimers/legacy';
 * const t = new legacy_timer_list();
 * init_timer(t);
 * t.function = (dev) => { … };   // receives t.data
 * t.data = dev;                    // any JS value stands in for the unsigned long
 * t.expires = jiffies + 100n;        // or get_jiffies_64() in task context
 * add_timer(t);
 * ```
 *
 * Kernel versions: `timer_setup()` arrived in 4.14, and the 4.15 cycle
 * converted the kernel to it, taking out the callbacks of type
 * `void (*)(unsigned long)` with `data`, `init_timer`, `setup_timer`,
 * `TIMER_INITIALIZER` and the four-argument `DEFINE_TIMER`. Code written for
 * 4.14 and earlier (and the textbooks, LDD3 among them) uses these names.
 * `del_timer` / `del_timer_sync` are the names up to 6.1; 6.2 renamed them
 * `timer_delete` / `timer_delete_sync`, keeping the old names as wrappers
 * until they were removed in 6.15.
 *
 * A legacy timer IS a timer_list (a subclass whose callback is called with
 * `data`): it sits on the same wheel, reads the same jiffies, runs on the
 * virtual clock of `ktimers/testing`, in the same softirq context, and the
 * modern calls (`mod_timer`, `timer_pending`, `timer_delete_sync`,
 * `timer_shutdown`…) work on it as on any timer. This entry exports only the
 * pre-4.15 names (plus `jiffies` & co., which both eras share), so one import
 * serves legacy code and the two eras never mix in one namespace.
 *
 * Where ktimers differs from 4.14: `add_timer` of a pending timer (the
 * kernel's BUG_ON) throws `ERR_KTIMERS_TIMER_ACTIVE`; `add_timer` with no
 * `function` (the kernel would oops at expiry) throws `ERR_KTIMERS_NO_FUNCTION`
 * and arms nothing; `expires` must be a jiffies value (bigint or non-negative
 * safe integer), else a coded TypeError/RangeError and nothing armed; the
 * callbacks run on the JS thread, as all timer_list callbacks in ktimers do.
 */
import { KtimersError, describe, kwarn, typeError } from './errors.js';
import { functionArg } from './internal/validate.js';
import { jiffiesArg } from './internal/jiffies-clock.js';
import { add_timer as modernAddTimer, timer_delete, timer_delete_sync, timer_list, timer_pending, TIMER_DEFERRABLE } from './timer/index.js';
import { fieldsWritable, initTimerKey } from './timer/fields.js';

export {
  HZ,
  jiffies,
  get_jiffies_64,
  msecs_to_jiffies,
  jiffies_to_msecs,
  time_after,
  time_before,
  time_after_eq,
  time_before_eq,
} from './jiffies.js';
export { mod_timer, timer_pending, TIMER_DEFERRABLE } from './timer/index.js';

/** A pre-4.15 timer callback: `void (*function)(unsigned long data)`; `data` is any JS value here. */
export type LegacyTimerFunction<D = any> = (data: D) => void;

/**
 * `struct timer_list` as it was up to 4.14: `function`, `data` and `expires`
 * are writable fields, read when the timer is added (`expires`) and when it
 * fires (`function`, `data`), as the kernel reads them. A subclass of the
 * modern {@link timer_list}: every modern call accepts it.
 *
 * Kernel: 2.x–4.14 (the `data` field and the `unsigned long` callback).
 */
export class legacy_timer_list<D = any> extends timer_list {
  /** Handed to `function` when the timer fires (the kernel's `unsigned long data`). */
  data: D | 0 = 0;
  declare function: LegacyTimerFunction<D> | null;

  /** @internal the wheel's call: `function(data)`, read at fire time. */
  override _call(fn: LegacyTimerFunction<any>): void {
    fn(this.data);
  }
}

function legacyArg(t: unknown, what: string): legacy_timer_list {
  if (!(t instanceof legacy_timer_list) || !timer_list.isTimer(t)) {
    throw typeError(
      'ERR_INVALID_ARG_TYPE',
      `${what}(): timer must be a legacy_timer_list (a modern timer_list's callback receives the timer, not data), got ${describe(t)}`,
    );
  }
  return t;
}

/** The writes of init/setup must all succeed or none happen: check before the first. */
function writable(t: legacy_timer_list, what: string): void {
  if (!fieldsWritable(t) || Reflect.getOwnPropertyDescriptor(t, 'data')?.writable !== true) {
    throw typeError('ERR_INVALID_ARG_TYPE', `${what}(): the timer is frozen or has a read-only field; it sets function, data and flags`);
  }
}

/**
 * `init_timer(timer)` — initialise a timer before first use. As in the kernel,
 * `function`, `data` and `expires` are left as they are: set them next.
 *
 * Kernel: up to 4.14 (removed in the 4.15 timer_setup() conversion).
 * Context: any; the timer must not be pending (ERR_KTIMERS_TIMER_ACTIVE).
 * @param timer - a `new legacy_timer_list()`.
 */
export function init_timer(timer: legacy_timer_list): void {
  const t = legacyArg(timer, 'init_timer');
  writable(t, 'init_timer');
  initTimerKey(t, 0);
}

/**
 * `init_timer_deferrable(timer)` — {@link init_timer} with TIMER_DEFERRABLE:
 * the timer never wakes an idle system (here: never arms the tick by itself,
 * and does not keep the process alive).
 *
 * Kernel: up to 4.14 (removed in the 4.15 timer_setup() conversion).
 * Context: any; the timer must not be pending.
 * @param timer - a `new legacy_timer_list()`.
 */
export function init_timer_deferrable(timer: legacy_timer_list): void {
  const t = legacyArg(timer, 'init_timer_deferrable');
  writable(t, 'init_timer_deferrable');
  initTimerKey(t, TIMER_DEFERRABLE);
}

/**
 * `setup_timer(timer, fn, data)` — {@link init_timer}, then `function = fn`, `data = data`.
 *
 * Kernel: up to 4.14 (the 4.15 conversion replaced it with timer_setup()).
 * Context: any; the timer must not be pending.
 * @param timer - a `new legacy_timer_list()`.
 * @param fn - called with `timer.data` when the timer fires.
 * @param data - any value (the kernel's `unsigned long`).
 */
export function setup_timer<D>(timer: legacy_timer_list<D>, fn: LegacyTimerFunction<D>, data: D): void {
  const t = legacyArg(timer, 'setup_timer');
  const f = functionArg<LegacyTimerFunction>(fn, 'fn');
  writable(t, 'setup_timer');
  initTimerKey(t, 0);
  t.function = f;
  t.data = data;
}

/**
 * `setup_timer_on_stack(timer, fn, data)` — {@link setup_timer} for a timer
 * the kernel keeps on the stack (it tells debugobjects so). The same here:
 * pair it with {@link destroy_timer_on_stack}.
 *
 * Kernel: up to 4.14 (replaced by timer_setup_on_stack() in 4.15).
 * Context: any; the timer must not be pending.
 * @param timer - a `new legacy_timer_list()`.
 * @param fn - called with `timer.data` when the timer fires.
 * @param data - any value (the kernel's `unsigned long`).
 */
export function setup_timer_on_stack<D>(timer: legacy_timer_list<D>, fn: LegacyTimerFunction<D>, data: D): void {
  setup_timer(timer, fn, data);
}

/**
 * `destroy_timer_on_stack(timer)` — the end of an on-stack timer's life. The
 * kernel's debugobjects, finding it still pending, warns ("ODEBUG: free
 * active") and deletes it synchronously; ktimers does the same with a
 * `KTIMERS_WARN_DESTROY_ACTIVE` warning. An idle timer: nothing to do.
 *
 * Kernel: 2.6.x onward (still present in current kernels).
 * Context: not the timer's own callback when it is pending (ERR_KTIMERS_DEADLOCK).
 * @param timer - the legacy_timer_list set up with {@link setup_timer_on_stack}.
 */
export function destroy_timer_on_stack(timer: legacy_timer_list): void {
  const t = legacyArg(timer, 'destroy_timer_on_stack');
  if (timer_pending(t)) {
    kwarn('KTIMERS_WARN_DESTROY_ACTIVE', 'destroy_timer_on_stack() on a pending timer: deleted (the kernel\'s ODEBUG free-active fixup)');
    timer_delete_sync(t);
  }
}

/** A new legacy timer with its three fields, all checked before it exists. */
function initialized<D>(fn: unknown, expires: unknown, data: D): legacy_timer_list<D> {
  const f = functionArg<LegacyTimerFunction<D>>(fn, 'fn');
  const e = jiffiesArg(expires, 'expires');
  const t = new legacy_timer_list<D>();
  initTimerKey(t, 0);
  t.function = f;
  t.expires = e;
  t.data = data;
  return t;
}

/**
 * `TIMER_INITIALIZER(fn, expires, data)` — a static initialiser: returns a new,
 * initialised, idle timer with its fields set (call {@link add_timer} to start it).
 *
 * Kernel: up to 4.14 (the 4.15 conversion dropped `data`; the later
 * `__TIMER_INITIALIZER(fn, flags)` has neither expires nor data).
 * @param fn - called with `data` when the timer fires.
 * @param expires - absolute jiffies (bigint or non-negative safe integer).
 * @param data - any value.
 */
export function TIMER_INITIALIZER<D>(fn: LegacyTimerFunction<D>, expires: bigint | number, data: D): legacy_timer_list<D> {
  return initialized(fn, expires, data);
}

/**
 * `DEFINE_TIMER(name, fn, expires, data)` — the four-argument form. As the
 * modern `DEFINE_TIMER(fn)` of `ktimers`, JS returns the timer instead of
 * defining a static `name`; `name` may be given (a string, ignored) so the C
 * line carries over unchanged, or left out.
 *
 * Kernel: up to 4.14 (4.15 reduced DEFINE_TIMER to `(name, fn)`).
 */
export function DEFINE_TIMER<D>(fn: LegacyTimerFunction<D>, expires: bigint | number, data: D): legacy_timer_list<D>;
export function DEFINE_TIMER<D>(name: string, fn: LegacyTimerFunction<D>, expires: bigint | number, data: D): legacy_timer_list<D>;
export function DEFINE_TIMER(...args: unknown[]): legacy_timer_list {
  if (typeof args[0] === 'string') args.shift();
  return initialized(args[0], args[1], args[2]);
}

/**
 * `add_timer(timer)` — start the timer at `timer.expires`; at expiry the wheel
 * calls `timer.function(timer.data)`, reading both then.
 *
 * Kernel: all versions; up to 4.14 it was `BUG_ON(timer_pending(timer))`, so a
 * pending timer throws `ERR_KTIMERS_TIMER_ACTIVE` here (the modern `add_timer`
 * of `ktimers`, like current kernels, warns and ignores instead).
 * Context: any, including the timer's own callback (the textbook re-arm).
 * Errors, all before anything is armed: not a legacy timer, or never
 * initialised (ERR_INVALID_ARG_TYPE / ERR_KTIMERS_NOT_SETUP); `function` not a
 * function (ERR_KTIMERS_NO_FUNCTION); `expires` not a jiffies value.
 * @param timer - an initialised, idle legacy_timer_list with function and expires set.
 */
export function add_timer(timer: legacy_timer_list): void {
  const t = legacyArg(timer, 'add_timer');
  if (timer_pending(t)) {
    throw new KtimersError('ERR_KTIMERS_TIMER_ACTIVE', 'add_timer() on a pending timer: the kernel\'s BUG_ON(timer_pending(timer))');
  }
  const fn: unknown = t.function;
  if (typeof fn !== 'function') {
    throw typeError('ERR_KTIMERS_NO_FUNCTION', `add_timer(): timer.function must be a function, got ${describe(fn)}`);
  }
  modernAddTimer(t);
}

/**
 * `del_timer(timer)` — deactivate a timer; the same function as the modern
 * `timer_delete` of `ktimers`, so it works on legacy and modern timers alike.
 *
 * Kernel: the name up to 6.1; 6.2 renamed it `timer_delete` and kept
 * `del_timer` as a wrapper, removed in 6.15.
 * Context: any.
 * Return: 0 when it was not pending, 1 when it was pending and is removed.
 */
export const del_timer: (timer: timer_list) => 0 | 1 = timer_delete;

/**
 * `del_timer_sync(timer)` — deactivate a timer and wait for its callback; the
 * same function as the modern `timer_delete_sync` (synchronous here: callbacks
 * run on this thread).
 *
 * Kernel: the name up to 6.1; 6.2 renamed it `timer_delete_sync` and kept
 * `del_timer_sync` as a wrapper, removed in 6.15.
 * Context: not the timer's own callback (throws ERR_KTIMERS_DEADLOCK).
 * Return: 0 when it was not pending, 1 when it was pending.
 */
export const del_timer_sync: (timer: timer_list) => 0 | 1 = timer_delete_sync;
