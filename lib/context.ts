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

/** True in a hard (default-mode) hrtimer callback. Kernel: `in_hardirq()`. */
export function in_hardirq(): boolean {
  return irq.hard > 0;
}
/** Old name of {@link in_hardirq}. */
export const in_irq = in_hardirq;
/** True while serving a softirq: timer_list and SOFT hrtimer callbacks. */
export function in_serving_softirq(): boolean {
  return irq.soft > 0;
}
/** Serving softirq or BH disabled (ktimers never disables BH outside a softirq). */
export function in_softirq(): boolean {
  return irq.soft > 0;
}
/** NMI, hard IRQ or softirq. */
export function in_interrupt(): boolean {
  return irq.hard > 0 || irq.soft > 0;
}
/** Never: ktimers has no NMIs. */
export function in_nmi(): boolean {
  return false;
}
/** Neither NMI, hard IRQ nor serving softirq. */
export function in_task(): boolean {
  return irq.hard === 0 && irq.soft === 0;
}
/** Preempt count non-zero: here, inside any timer callback. */
export function in_atomic(): boolean {
  return irq.hard > 0 || irq.soft > 0;
}

/**
 * The kernel's `might_sleep()`: a call that may sleep is refused in atomic
 * context with an error naming the call, as CONFIG_DEBUG_ATOMIC_SLEEP reports
 * "BUG: sleeping function called from invalid context".
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
