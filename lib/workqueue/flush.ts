/**
 * Waiting on the main thread, as Promises: flush_work and flush_delayed_work,
 * flush_workqueue (flush colours: every instance queued before the call),
 * drain_workqueue (flush until empty, refusing unchained queueing) and
 * destroy_workqueue (drain, then refuse any use).
 */
import { KtimersError, kwarn } from '../errors.js';
import { might_sleep } from '../context.js';
import { reap } from '../internal/wq-pool.js';
import { timer_delete } from '../timer/index.js';
import { WORK_CPU_UNBOUND } from './flags.js';
import { fnName, I_CANCELLED, I_DELAYED, I_DONE, initedDwork, initedWork, mainOnly, pendOf, runOf, setPend, words, workId, type Inst, type delayed_work, type work_struct } from './work.js';
import { addDraining, flushInsts, isSystem, liveCount, markDestroyed, wqArg, wqById, type workqueue_struct } from './workqueue-struct.js';
import { enqueue } from './queue.js';
import { delayedTimers } from './delayed.js';
import { forgetStarted, grabPending, settle } from './state.js';
import { system_percpu_wq, system_wq } from './alloc.js';

export function waitInst(inst: Inst): Promise<void> {
  if (inst.state === I_DONE || inst.state === I_CANCELLED) return Promise.resolve();
  return new Promise((resolve) => (inst.waiters ??= []).push(resolve));
}

/** The instance flush_work waits for: the pending one (not a pending timer), else the running one. */
function lastInst(w: work_struct): Inst | null {
  const o = Atomics.load(words(), workId(w));
  forgetStarted(w, o);
  const p = pendOf(w);
  if (p !== null && p.state !== I_DELAYED) return p;
  const r = runOf(w);
  if (r !== null && r.state !== I_CANCELLED) return r;
  return null;
}

export function sleeping(what: string): void {
  mainOnly(what);
  might_sleep(`${what}()`);
}

/**
 * `flush_work(work)` — wait for the last queueing instance to finish.
 * Context: may sleep: a Promise; throws ERR_KTIMERS_SLEEP_IN_ATOMIC in timer callbacks.
 * Return: true if it waited (pending or running), false if idle (a delayed_work
 * whose timer is still pending counts as idle; the timer stays armed).
 * @param work - the work item.
 */
export function flush_work(work: work_struct): Promise<boolean> {
  sleeping('flush_work');
  const w = initedWork(work);
  reap();
  settle(w);
  const inst = lastInst(w);
  if (inst === null) return Promise.resolve(false);
  return waitInst(inst).then(() => true);
}

/**
 * `flush_delayed_work(dwork)` — if its timer is pending, queue it now, then flush_work.
 * Return: as flush_work.
 *
 * Context: may sleep: a Promise; throws ERR_KTIMERS_SLEEP_IN_ATOMIC in timer callbacks.
 * @param dwork - the delayed_work.
 */
export function flush_delayed_work(dwork: delayed_work): Promise<boolean> {
  sleeping('flush_delayed_work');
  const dw = initedDwork(dwork);
  settle(dw.work);
  const p = pendOf(dw.work);
  if (p !== null && p.state === I_DELAYED && timer_delete(dw.timer) === 1) {
    delayedTimers.delete(dw);
    setPend(dw.work, null);
    enqueue(dw.work, dw.wq!, dw.cpu === WORK_CPU_UNBOUND ? -1 : dw.cpu, false);
    // Wait for the instance queued here (a fast worker may finish it before flush_work looks).
    const inst = pendOf(dw.work);
    if (inst !== null) return waitInst(inst).then(() => true);
  }
  return flush_work(dw.work);
}

/**
 * `flush_workqueue(wq)` — wait for every item queued before the call (not
 * those queued later; not delayed works whose timers are still pending).
 * Flushing a system queue warns, as the kernel does.
 * Context: may sleep (a Promise).
 * Return: a Promise that resolves once those items have finished.
 * @param wq - the queue.
 */
export function flush_workqueue(wq: workqueue_struct): Promise<void> {
  sleeping('flush_workqueue');
  const q = wqArg(wq);
  if (isSystem(q)) kwarn('KTIMERS_WARN_FLUSH_SYSTEM_WQ', 'WARNING: Flushing system-wide workqueues will be prohibited in near future.', true);
  reap();
  return flushInsts(q);
}

/**
 * `flush_scheduled_work()` (deprecated): flush_workqueue(system_percpu_wq) and system_wq.
 * Warns as flushing a system queue does (`KTIMERS_WARN_FLUSH_SYSTEM_WQ`, once): the
 * kernel's macro calls __warn_flushing_systemwide_wq() ("Flushing system-wide
 * workqueues will be prohibited in near future") on every use since 6.17.
 *
 * Context: may sleep (a Promise).
 * Return: a Promise that resolves once the items queued before the call have finished.
 */
export function flush_scheduled_work(): Promise<void> {
  sleeping('flush_scheduled_work');
  kwarn('KTIMERS_WARN_FLUSH_SYSTEM_WQ', 'WARNING: Flushing system-wide workqueues will be prohibited in near future.', true);
  reap();
  return Promise.all([flushInsts(system_percpu_wq), flushInsts(system_wq)]).then(() => undefined);
}

async function drain(q: workqueue_struct): Promise<void> {
  addDraining(q, 1);
  try {
    do {
      reap();
      await flushInsts(q);
    } while (liveCount(q) > 0);
  } finally {
    addDraining(q, -1);
  }
}

/**
 * `drain_workqueue(wq)` — flush until empty. While it drains only chained
 * queueing (by an item of this queue) is accepted; other queueing warns and is
 * dropped (the call still returns true). Context: may sleep (a Promise).
 * Return: a Promise that resolves once the queue is empty.
 * @param wq - the queue.
 */
export function drain_workqueue(wq: workqueue_struct): Promise<void> {
  sleeping('drain_workqueue');
  return drain(wqArg(wq));
}

/**
 * `destroy_workqueue(wq)` — drain, then destroy; any later use throws
 * ERR_KTIMERS_WQ_DESTROYED. Delayed works still waiting on their timers are a
 * caller bug in the kernel: here they are cancelled with a warning.
 * Context: may sleep (a Promise).
 * Return: a Promise that resolves once the queue is drained and destroyed.
 * @param wq - the queue.
 */
export function destroy_workqueue(wq: workqueue_struct): Promise<void> {
  sleeping('destroy_workqueue');
  const q = wqArg(wq);
  if (isSystem(q)) throw new KtimersError('ERR_KTIMERS_WQ_SYSTEM', `${q.name} is a system workqueue: it cannot be destroyed`);
  return drain(q).then(() => {
    for (const dw of [...delayedTimers]) {
      if (dw.wq === q && pendOf(dw.work)?.state === I_DELAYED) {
        kwarn('KTIMERS_WARN_DESTROY_DELAYED', `destroy_workqueue(${q.name}): delayed work ${fnName(dw.work)} still pending; cancelled`);
        grabPending(dw.work, false);
      }
    }
    markDestroyed(q);
    wqById.delete(q.id);
  });
}
