/**
 * Execution context, as the kernel's preempt count reports it.
 *
 * ktimers runs timer callbacks on the JS thread, inside its expiry pass. While a
 * hard hrtimer callback runs, the thread is "in hard IRQ"; while a SOFT hrtimer
 * or timer_list callback runs, it is "serving softirq". Everything else on the
 * thread (the main script, promise jobs, I/O callbacks, work functions on a
 * workqueue worker) is task context. The counters are per thread: each
 * worker_thread has its own copy of this module.
 *
 * The kernel's predicates return a masked preempt count; here they return
 * booleans with the same truth values.
 */
import { KtimersError } from './errors.js';
import { irq } from './internal/irq.js';

/**
 * `in_hardirq()` — are we in hard-IRQ context?
 *
 * Context: any.
 * Return: true inside a hard (default- or HARD-mode) hrtimer callback and code it calls.
 */
export function in_hardirq(): boolean {
  return irq.hard > 0;
}
/** Old name of {@link in_hardirq} (`in_irq()`). */
export const in_irq = in_hardirq;
/**
 * `in_serving_softirq()` — are we running a softirq?
 *
 * Context: any.
 * Return: true inside timer_list and SOFT-mode hrtimer callbacks.
 */
export function in_serving_softirq(): boolean {
  return irq.soft > 0;
}
/**
 * `in_softirq()` — serving a softirq or with bottom halves disabled (deprecated in the kernel).
 *
 * Context: any.
 * Return: as {@link in_serving_softirq}: ktimers never disables BH outside a softirq.
 */
export function in_softirq(): boolean {
  return irq.soft > 0;
}
/**
 * `in_interrupt()` — in NMI, hard-IRQ or softirq context (deprecated in the kernel).
 *
 * Context: any.
 * Return: true inside any timer callback.
 */
export function in_interrupt(): boolean {
  return irq.hard > 0 || irq.soft > 0;
}
/**
 * `in_nmi()` — in non-maskable-interrupt context?
 *
 * Context: any.
 * Return: false: ktimers has no NMIs.
 */
export function in_nmi(): boolean {
  return false;
}
/**
 * `in_task()` — in task (process) context: neither NMI, hard IRQ nor serving softirq.
 *
 * Context: any.
 * Return: true outside timer callbacks: the main script, promise jobs, I/O
 * callbacks, work functions.
 */
export function in_task(): boolean {
  return irq.hard === 0 && irq.soft === 0;
}
/**
 * `in_atomic()` — is the preempt count non-zero (sleeping forbidden)?
 *
 * Context: any.
 * Return: true inside any timer callback.
 */
export function in_atomic(): boolean {
  return irq.hard > 0 || irq.soft > 0;
}

/**
 * The kernel's `might_sleep()`: a call that may sleep is refused in atomic
 * context with an error naming the call, as CONFIG_DEBUG_ATOMIC_SLEEP reports
 * "BUG: sleeping function called from invalid context".
 *
 * Context: task context; in a timer callback it throws ERR_KTIMERS_SLEEP_IN_ATOMIC.
 * @param what - the name of the sleeping call, for the message (default 'this function').
 */
export function might_sleep(what = 'this function'): void {
  if (irq.hard > 0 || irq.soft > 0) {
    throw new KtimersError(
      'ERR_KTIMERS_SLEEP_IN_ATOMIC',
      `sleeping function called from invalid context: ${what} may sleep, but this is a ` +
        `${irq.hard > 0 ? 'hard IRQ (hrtimer callback)' : 'softirq (timer callback)'} context`,
    );
  }
}
