/**
 * kthread_worker: one dedicated thread that runs queued works one at a time, in
 * queueing order, and that its owner may run at a real-time priority (the
 * kernel's `include/linux/kthread.h`, `kernel/kthread.c`).
 *
 * The area's public API; the rooms behind it:
 * - `work.ts`: kthread_work, kthread_delayed_work and their set-up;
 * - `worker.ts`: kthread_worker and its creation, on the owner's thread (the
 *   design comment of the area is there);
 * - `ops.ts`: queueing, flush, cancel, destroy, and the RT scheduling helpers;
 * - `thread.ts` (started through `entry.ts`): the worker thread's loop;
 * - `shared.ts`: the work's state word and the messages between the threads;
 *   `state.ts`: the per-thread work table and the name formatter.
 */
export { kthread_work, kthread_delayed_work, to_kthread_delayed_work, kthread_init_work, kthread_init_delayed_work } from './work.js';
export {
  KTW_FREEZABLE,
  TASK_COMM_LEN,
  MAX_RT_PRIO,
  kthread_worker,
  kthread_run_worker,
  kthread_create_worker,
  kthread_run_worker_on_cpu,
  kthread_create_worker_on_cpu,
  kthread_init_worker,
  kthread_worker_fn,
  kthread_run,
} from './worker.js';
export {
  kthread_queue_work,
  kthread_queue_delayed_work,
  kthread_mod_delayed_work,
  kthread_flush_work,
  kthread_flush_worker,
  kthread_cancel_work_sync,
  kthread_cancel_delayed_work_sync,
  kthread_destroy_worker,
  sched_set_fifo,
  sched_set_fifo_low,
  sched_set_normal,
} from './ops.js';
