/**
 * Queueing: queue_work and queue_delayed_work with their _on, schedule_ and
 * mod_ forms, and the introspection calls (work_pending, work_busy,
 * current_work). These are the calls a work function may make too: inside a
 * pool worker they take PENDING in the shared state word and send the rest to
 * the main thread as a request record (lib/workqueue/records.ts).
 */
import { KtimersError, describe, typeError } from '../errors.js';
import * as S from '../internal/wq-shared.js';
import { wside } from '../internal/wq-ctx.js';
import { jiffiesArg } from '../internal/jiffies-clock.js';
import { WORK_BUSY_PENDING, WORK_BUSY_RUNNING, WORK_CPU_UNBOUND } from './flags.js';
import { dworkArg, initedDwork, initedWork, isRemote, mainOnly, runOf, words, workArg, workId, type delayed_work, type work_struct } from './work.js';
import { isWq, workqueue_struct, wqArg } from './workqueue-struct.js';
import { cpuArg, enqueue } from './queue.js';
import { arm } from './delayed.js';
import { grabIdle, grabPending, settle } from './state.js';
import { bhRunning } from './bh.js';
import { system_percpu_wq } from './alloc.js';
import { enable_work } from './cancel.js';

function delayArg(v: unknown): bigint {
  return jiffiesArg(v, 'delay');
}

/** A queue argument in a pool worker: a system queue, or the clone of one a work function got in its data. */
function remoteWqId(v: unknown): number {
  if (isWq(v)) return v.id;
  if (typeof v === 'object' && v !== null) {
    let id: unknown;
    try {
      id = (v as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
    if (typeof id === 'number' && Number.isInteger(id) && id > 0) return id;
  }
  throw typeError('ERR_INVALID_ARG_TYPE', `wq must be a workqueue_struct (or its clone, inside a work function), got ${describe(v)}`);
}

function remoteWorkArg(v: unknown): work_struct {
  const w = workArg(v);
  if (!isRemote(w)) {
    throw new KtimersError(
      'ERR_KTIMERS_WQ_WORKER_CONTEXT',
      'inside a work function only the work item handed to it can be queued (its state lives on the main thread)',
    );
  }
  return w;
}

/**
 * `queue_work_on(cpu, wq, work)` — queue on a CPU's pool (per-CPU queues;
 * a hint for unbound ones). Context: any, including timer callbacks and work
 * functions (self-requeue).
 * Return: false if `work` was already pending (nothing changes) or is
 * disabled; true if it was queued.
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param wq - the queue.
 * @param work - an initialised work item.
 */
export function queue_work_on(cpu: number, wq: workqueue_struct, work: work_struct): boolean {
  const c = cpuArg(cpu);
  if (wside.worker !== null) {
    const id = remoteWqId(wq);
    return wside.worker.queue(workId(remoteWorkArg(work)), id, c, null);
  }
  const q = wqArg(wq);
  const w = initedWork(work);
  settle(w);
  if (!grabIdle(w)) return false;
  const bh = bhRunning(); // BH work queueing on its own queue is chained (accepted while it drains)
  enqueue(w, q, c, bh !== null && runOf(bh)?.wq === q);
  return true;
}

/**
 * `queue_work(wq, work)` = queue_work_on(WORK_CPU_UNBOUND, wq, work). Return: as queue_work_on.
 *
 * Context: any, including timer callbacks and work functions.
 * @param wq - the queue.
 * @param work - an initialised work item.
 */
export function queue_work(wq: workqueue_struct, work: work_struct): boolean {
  return queue_work_on(WORK_CPU_UNBOUND, wq, work);
}

/**
 * `schedule_work(work)` = queue_work(system_percpu_wq, work).
 *
 * Context: any, including timer callbacks and work functions.
 * Return: as queue_work_on.
 * @param work - an initialised work item.
 */
export function schedule_work(work: work_struct): boolean {
  return queue_work_on(WORK_CPU_UNBOUND, system_percpu_wq, work);
}

/**
 * `schedule_work_on(cpu, work)` = queue_work_on(cpu, system_percpu_wq, work).
 *
 * Context: any, including timer callbacks and work functions.
 * Return: as queue_work_on.
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param work - an initialised work item.
 */
export function schedule_work_on(cpu: number, work: work_struct): boolean {
  return queue_work_on(cpu, system_percpu_wq, work);
}

/**
 * `enable_and_queue_work(wq, work)`: enable_work, and queue it if that made it enabled. Return: true if the disable count reached 0 (and it was queued), else false.
 *
 * Context: any.
 * @param wq - the queue.
 * @param work - an initialised work item.
 */
export function enable_and_queue_work(wq: workqueue_struct, work: work_struct): boolean {
  mainOnly('enable_and_queue_work');
  wqArg(wq);
  // As the kernel's inline: true whenever the count reached 0, whatever queue_work says
  // (it can say false only after an underflow, with the item still pending).
  if (enable_work(work)) {
    queue_work(wq, work);
    return true;
  }
  return false;
}

/**
 * `queue_delayed_work_on(cpu, wq, dwork, delay)` — queue after `delay` jiffies
 * (a bigint), on the timer_list wheel: delay 0 queues at once without a timer;
 * otherwise `timer.expires = jiffies + delay` with the wheel's rounding (a
 * delay of d ≤ 62 fires at jiffy now + d + 1). Follows ktimers/testing's
 * virtual clock. Context: any.
 * Return: false if already pending (the existing timer is not modified), true if queued.
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param wq - the queue.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number).
 */
export function queue_delayed_work_on(cpu: number, wq: workqueue_struct, dwork: delayed_work, delay: bigint | number): boolean {
  const c = cpuArg(cpu);
  if (wside.worker !== null) {
    const id = remoteWqId(wq);
    const dw = dworkArg(dwork);
    const d = delayArg(delay);
    return wside.worker.queue(workId(remoteWorkArg(dw.work)), id, c, d);
  }
  const q = wqArg(wq);
  const dw = initedDwork(dwork);
  const d = delayArg(delay);
  settle(dw.work);
  if (!grabIdle(dw.work)) return false;
  arm(dw, q, c, d);
  return true;
}

/**
 * `queue_delayed_work(wq, dwork, delay)`. Return: as queue_delayed_work_on.
 *
 * Context: any.
 * @param wq - the queue.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number).
 */
export function queue_delayed_work(wq: workqueue_struct, dwork: delayed_work, delay: bigint | number): boolean {
  return queue_delayed_work_on(WORK_CPU_UNBOUND, wq, dwork, delay);
}

/**
 * `schedule_delayed_work(dwork, delay)` on system_percpu_wq.
 *
 * Context: any.
 * Return: as queue_delayed_work_on.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number).
 */
export function schedule_delayed_work(dwork: delayed_work, delay: bigint | number): boolean {
  return queue_delayed_work_on(WORK_CPU_UNBOUND, system_percpu_wq, dwork, delay);
}

/**
 * `schedule_delayed_work_on(cpu, dwork, delay)` on system_percpu_wq.
 *
 * Context: any.
 * Return: as queue_delayed_work_on.
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number).
 */
export function schedule_delayed_work_on(cpu: number, dwork: delayed_work, delay: bigint | number): boolean {
  return queue_delayed_work_on(cpu, system_percpu_wq, dwork, delay);
}

/**
 * `mod_delayed_work_on(cpu, wq, dwork, delay)` — take the item whatever its
 * state (timer pending, queued, or idle) and queue it with the new delay
 * (0 = now). Context: any (main thread).
 * Return: true if it was pending (and is re-armed), false if it was idle (and is now queued).
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param wq - the queue.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number); 0 queues at once.
 */
export function mod_delayed_work_on(cpu: number, wq: workqueue_struct, dwork: delayed_work, delay: bigint | number): boolean {
  mainOnly('mod_delayed_work_on');
  const c = cpuArg(cpu);
  const q = wqArg(wq);
  const dw = initedDwork(dwork);
  const d = delayArg(delay);
  settle(dw.work);
  const was = grabPending(dw.work, true);
  const t = words();
  if (Atomics.load(t, workId(dw.work)) >>> S.W_DISABLE_SHIFT) {
    Atomics.and(t, workId(dw.work), ~S.W_PENDING);
    return was;
  }
  arm(dw, q, c, d);
  return was;
}

/**
 * `mod_delayed_work(wq, dwork, delay)`. Return: as mod_delayed_work_on.
 *
 * Context: any (main thread).
 * @param wq - the queue.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number); 0 queues at once.
 */
export function mod_delayed_work(wq: workqueue_struct, dwork: delayed_work, delay: bigint | number): boolean {
  return mod_delayed_work_on(WORK_CPU_UNBOUND, wq, dwork, delay);
}

// --- introspection -----------------------------------------------------------------

function stateOf(w: work_struct): number {
  if (workId(w) < 0) return 0;
  if (wside.worker !== null) return wside.worker.state(workId(w));
  settle(w);
  return Atomics.load(words(), workId(w));
}

/**
 * `work_pending(work)`: PENDING (queued, or its delayed timer pending; cleared just before the function runs).
 *
 * Context: any.
 * Return: true while PENDING.
 * @param work - the work item.
 */
export function work_pending(work: work_struct): boolean {
  return (stateOf(workArg(work)) & S.W_PENDING) !== 0;
}

/**
 * `delayed_work_pending(dwork)` = work_pending(&dwork->work).
 *
 * Context: any.
 * Return: true while its timer is pending or its work is queued.
 * @param dwork - the delayed_work.
 */
export function delayed_work_pending(dwork: delayed_work): boolean {
  return (stateOf(dworkArg(dwork).work) & S.W_PENDING) !== 0;
}

/**
 * `work_busy(work)`: WORK_BUSY_PENDING | WORK_BUSY_RUNNING (advisory, racy by nature).
 *
 * Context: any.
 * Return: a bit mask of WORK_BUSY_PENDING and WORK_BUSY_RUNNING (0: idle).
 * @param work - the work item.
 */
export function work_busy(work: work_struct): number {
  const o = stateOf(workArg(work));
  return (o & S.W_PENDING ? WORK_BUSY_PENDING : 0) | (o & S.W_RUNNING ? WORK_BUSY_RUNNING : 0);
}

/**
 * `current_work()`: the item the calling worker runs (in a work function, or BH work), else null.
 *
 * Context: any.
 * Return: the running work item, or null outside work functions.
 */
export function current_work(): work_struct | null {
  if (wside.worker !== null) return wside.worker.current as work_struct | null;
  return bhRunning();
}
