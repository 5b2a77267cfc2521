/**
 * The timers of delayed works: `queue_delayed_work` arms the delayed_work's
 * TIMER_IRQSAFE timer_list on the timer wheel (so it follows ktimers/testing's
 * virtual clock), and the timer's function queues the work
 * (delayed_work_timer_fn). While the timer is pending the item holds PENDING
 * through an I_DELAYED pseudo-instance, which is on no queue.
 */
import { KtimersError } from '../errors.js';
import * as S from '../internal/wq-shared.js';
import { get_jiffies_64 } from '../jiffies.js';
import { add_timer_global, type timer_list } from '../timer/index.js';
import { WORK_CPU_UNBOUND } from './flags.js';
import { I_DELAYED, pendOf, setPend, words, workId, type delayed_work } from './work.js';
import { isDestroyed, type workqueue_struct } from './workqueue-struct.js';
import { checkFnFor, enqueue } from './queue.js';

/** Delayed works whose timers are pending (destroy_workqueue warns about them). */
export const delayedTimers = new Set<delayed_work>();
let firing = false;

/** True while a delayed_work's timer function queues its work. */
export function timerFiring(): boolean {
  return firing;
}

export function delayed_work_timer_fn(timer: timer_list): void {
  const dw = (timer as timer_list & { _dw: delayed_work })._dw;
  delayedTimers.delete(dw);
  const w = dw.work;
  if (pendOf(w)?.state === I_DELAYED) setPend(w, null);
  firing = true;
  try {
    enqueue(w, dw.wq!, dw.cpu === WORK_CPU_UNBOUND ? -1 : dw.cpu, false);
  } finally {
    firing = false;
  }
}

/** __queue_delayed_work with PENDING held: delay 0 queues at once, else arms the timer. */
export function arm(dw: delayed_work, wq: workqueue_struct, cpu: number, delay: bigint): void {
  if (delay === 0n) {
    enqueue(dw.work, wq, cpu, false);
    return;
  }
  if (isDestroyed(wq)) {
    Atomics.and(words(), workId(dw.work), ~S.W_PENDING);
    throw new KtimersError('ERR_KTIMERS_WQ_DESTROYED', `workqueue "${wq.name}" was destroyed`);
  }
  checkFnFor(dw.work, wq);
  const was = dw.timer.expires;
  dw.timer.expires = BigInt.asUintN(64, get_jiffies_64() + delay);
  try {
    // First: it writes the timer's flags, refused for a frozen timer. The timer cannot fire
    // before this call returns, so the item's state can be set after it.
    add_timer_global(dw.timer);
  } catch (err) {
    dw.timer.expires = was;
    Atomics.and(words(), workId(dw.work), ~S.W_PENDING);
    throw err;
  }
  dw.wq = wq;
  dw.cpu = cpu < 0 ? WORK_CPU_UNBOUND : cpu;
  setPend(dw.work, { work: dw.work, wq, pwq: null, cpu, color: -1, state: I_DELAYED, waiters: null });
  delayedTimers.add(dw);
}

