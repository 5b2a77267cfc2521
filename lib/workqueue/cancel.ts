/**
 * Cancelling and disabling: cancel_work(_sync), disable_work(_sync),
 * enable_work and their delayed forms. All steal PENDING through
 * try_to_grab_pending (state.ts); the _sync forms then wait for the running
 * instance, with the item disabled meanwhile so that nothing re-queues it.
 */
import { kwarn } from '../errors.js';
import * as S from '../internal/wq-shared.js';
import { reap } from '../internal/wq-pool.js';
import { dworkArg, I_CANCELLED, initedDwork, initedWork, mainOnly, runOf, words, workId, type delayed_work, type work_struct } from './work.js';
import { grabPending, settle } from './state.js';
import { sleeping, waitInst } from './flush.js';

/**
 * The kernel's __cancel_work_sync: disable (blocks re-queueing, self-requeue too,
 * while we wait), steal PENDING, wait for the running instance, and, unless
 * disabling, enable again. The count saturates both ways as the kernel's
 * (work_offqd_disable/enable): at 65535 the disable warns and adds nothing, so
 * the final enable leaves 65534, as in the kernel; a plain add would wrap the
 * 16-bit field to 0 and let the item be queued during the wait.
 */
async function cancelSync(w: work_struct, disable: boolean): Promise<boolean> {
  disableCount(w);
  reap();
  const was = grabPending(w, false);
  try {
    const r = runOf(w);
    if (r !== null && r.state !== I_CANCELLED) await waitInst(r);
    // A deferred re-run queued before the disable started after r: wait for it too.
    for (let r2 = runOf(w); r2 !== null && r2.state !== I_CANCELLED; r2 = runOf(w)) await waitInst(r2);
  } finally {
    if (!disable) enableCount(w);
  }
  return was;
}

/**
 * `cancel_work_sync(work)` — cancel and wait for a running instance. While it
 * waits the item is disabled, so re-queueing (self-requeue included) returns false.
 * Context: may sleep (a Promise). Return: true if it was pending.
 * @param work - the work item.
 */
export function cancel_work_sync(work: work_struct): Promise<boolean> {
  sleeping('cancel_work_sync');
  const w = initedWork(work);
  settle(w);
  return cancelSync(w, false);
}

/**
 * `cancel_delayed_work_sync(dwork)`: as cancel_work_sync, timer included. Return: true if it was pending.
 *
 * Context: may sleep (a Promise).
 * @param dwork - the delayed_work.
 */
export function cancel_delayed_work_sync(dwork: delayed_work): Promise<boolean> {
  sleeping('cancel_delayed_work_sync');
  const dw = initedDwork(dwork);
  settle(dw.work);
  return cancelSync(dw.work, false);
}

/**
 * `cancel_work(work)` — steal PENDING; does not wait for a running instance.
 * Context: any. Return: true if it was pending (and is no longer queued).
 * @param work - the work item.
 */
export function cancel_work(work: work_struct): boolean {
  mainOnly('cancel_work');
  const w = initedWork(work);
  settle(w);
  reap();
  return grabPending(w, false);
}

/**
 * `cancel_delayed_work(dwork)`: timer or queue. Context: any. Return: true if it was pending.
 * @param dwork - the delayed_work.
 */
export function cancel_delayed_work(dwork: delayed_work): boolean {
  mainOnly('cancel_delayed_work');
  const dw = initedDwork(dwork);
  settle(dw.work);
  reap();
  return grabPending(dw.work, false);
}

/** work_offqd_disable: the disable count + 1; at 65535 it warns (WARN_ONCE) and stays. */
function disableCount(w: work_struct): void {
  const t = words();
  for (;;) {
    const o = Atomics.load(t, workId(w));
    if (o >>> S.W_DISABLE_SHIFT >= S.W_DISABLE_MAX) {
      kwarn('KTIMERS_WARN_WORK_DISABLE_OVERFLOW', 'work disable count overflowed', true);
      return;
    }
    if (Atomics.compareExchange(t, workId(w), o, o + S.W_DISABLE_ONE) === o) return;
  }
}

/** work_offqd_enable: the disable count - 1; at 0 it warns (WARN_ONCE) and stays. Returns whether it is 0 now. */
function enableCount(w: work_struct): boolean {
  const t = words();
  for (;;) {
    const o = Atomics.load(t, workId(w));
    if (o >>> S.W_DISABLE_SHIFT === 0) {
      kwarn('KTIMERS_WARN_WORK_DISABLE_UNDERFLOW', 'work disable count underflowed', true);
      return true;
    }
    const n = o - S.W_DISABLE_ONE;
    if (Atomics.compareExchange(t, workId(w), o, n) === o) return n >>> S.W_DISABLE_SHIFT === 0;
  }
}

/**
 * `disable_work(work)` — increment the disable count (max 65535) and cancel;
 * while disabled every queueing returns false. Context: any.
 * Return: true if it was pending.
 * @param work - the work item.
 */
export function disable_work(work: work_struct): boolean {
  mainOnly('disable_work');
  const w = initedWork(work);
  settle(w);
  reap();
  disableCount(w); // saturated: warns, and still cancels (the kernel's __cancel_work)
  return grabPending(w, false);
}

/**
 * `disable_work_sync(work)`: disable_work, then wait for a running instance. Context: may sleep (a Promise).
 *
 * Return: a Promise of true if it was pending.
 * @param work - the work item.
 */
export function disable_work_sync(work: work_struct): Promise<boolean> {
  sleeping('disable_work_sync');
  const w = initedWork(work);
  settle(w);
  return cancelSync(w, true); // saturated: warns, and still waits for the running instance
}

/**
 * `enable_work(work)` — decrement the disable count (an underflow WARNs).
 * Context: any. Return: true when the count is now 0 (the item can be queued).
 * @param work - the work item.
 */
export function enable_work(work: work_struct): boolean {
  mainOnly('enable_work');
  return enableCount(initedWork(work));
}

/**
 * `disable_delayed_work(dwork)`. Return: true if it was pending.
 *
 * Context: any.
 * @param dwork - the delayed_work.
 */
export function disable_delayed_work(dwork: delayed_work): boolean {
  return disable_work(dworkArg(dwork).work);
}
/**
 * `disable_delayed_work_sync(dwork)`.
 *
 * Context: may sleep (a Promise).
 * Return: a Promise of true if it was pending.
 * @param dwork - the delayed_work.
 */
export function disable_delayed_work_sync(dwork: delayed_work): Promise<boolean> {
  return disable_work_sync(dworkArg(dwork).work);
}
/**
 * `enable_delayed_work(dwork)`.
 *
 * Context: any.
 * Return: true when the disable count is now 0.
 * @param dwork - the delayed_work.
 */
export function enable_delayed_work(dwork: delayed_work): boolean {
  return enable_work(dworkArg(dwork).work);
}
