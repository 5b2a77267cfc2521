/**
 * workqueue: the kernel's deferred-work API, on a pool of worker_threads.
 *
 * Kernel names and return values (`include/linux/workqueue.h`,
 * `kernel/workqueue.c`, Linux 6.19 / 7.1). Timer callbacks run on the JS main
 * thread in atomic context; work items run on worker threads in task context,
 * where they may block (synchronous I/O, Atomics.wait, long loops) without
 * delaying any timer. Threads, rings and wake-ups are in
 * lib/internal/wq-pool.ts (main side) and lib/workqueue/worker.ts (worker
 * side); the shared layouts in lib/internal/wq-shared.ts.
 *
 * Model. A work item's PENDING/RUNNING/disable state is one Int32 word in a
 * SharedArrayBuffer, changed only with atomic compare-and-swap, so
 * `queue_work` is an exact test-and-set of PENDING from the main thread and
 * from inside work functions alike. Everything else (which queue an instance
 * is on, max_active, flush colours, waiters) is main-thread state here. An
 * *instance* is one successful queueing; it is inactive (max_active reached),
 * deferred (the item is still running: non-reentrancy), in the backlog (ring
 * full), dispatched (in a ring or running), done or cancelled. Each instance
 * has a completion promise, created only when someone waits on it.
 *
 * Where things are (lib/workqueue/): flags.ts the constants; work.ts
 * work_struct, delayed_work and the instances; workqueue-struct.ts the queue;
 * pool-workqueue.ts the max_active rule; state.ts the state word (PENDING's
 * test-and-set, try_to_grab_pending); queue.ts __queue_work; dispatch.ts from
 * an active instance to a pool; bh.ts BH work; delayed.ts delayed-work timers;
 * records.ts what workers send back; worker.ts the pool worker thread (a
 * kworker); init.ts, alloc.ts, queueing.ts, flush.ts and cancel.ts the API;
 * work-fn.ts work function references. This file is the public API only.
 *
 * Differences from the kernel (also in docs/differences.md):
 * - Work functions are named, not passed: `{ module, name }`, imported by the
 *   worker. `WQ_BH` queues take plain functions, run on the main thread in
 *   softirq context (setImmediate after the queueing code), as the kernel runs
 *   BH work on the queueing CPU.
 * - Calls that sleep in the kernel return Promises on the main thread, and
 *   throw ERR_KTIMERS_SLEEP_IN_ATOMIC from timer callbacks (might_sleep).
 *   Inside a work function (a worker), only the queueing calls, work_pending,
 *   work_busy and current_work are available: the rest needs the main thread.
 * - Per-CPU queues: the JS thread has no fixed CPU, so `queue_work` on a
 *   per-CPU queue spreads items round-robin over the CPUs the process may run
 *   on; each CPU's pool starts with one worker pinned to that CPU. max_active is per
 *   CPU for per-CPU queues and per queue for unbound ones, as in the kernel.
 *   Concurrency management is approximated from outside: when items wait and
 *   every worker of a pool has been on one item for 10 ms, the pool grows by
 *   one worker (up to 32; lib/internal/wq-pool.ts).
 * - Queueing on a destroyed queue throws ERR_KTIMERS_WQ_DESTROYED (a
 *   use-after-free in the kernel). A queueing refused while the queue drains
 *   returns true and clears PENDING (Linux 7.1; 6.19 left it set).
 * - `destroy_workqueue` with delayed works still waiting on their timers
 *   (a caller bug in the kernel) warns and cancels them.
 * - WORK_CPU_UNBOUND is 8192 (NR_CPUS of the usual x86-64 configs).
 */

import './dispatch.js'; // hands the pool_workqueues their way to the pools (setStart)
import './records.js'; // hands the pool its record sink and the worker's module

export {
  WQ_BH,
  WQ_UNBOUND,
  WQ_FREEZABLE,
  WQ_MEM_RECLAIM,
  WQ_HIGHPRI,
  WQ_CPU_INTENSIVE,
  WQ_SYSFS,
  WQ_POWER_EFFICIENT,
  WQ_PERCPU,
  WQ_MAX_ACTIVE,
  WQ_UNBOUND_MAX_ACTIVE,
  WQ_DFL_ACTIVE,
  WQ_DFL_MIN_ACTIVE,
  WQ_NAME_LEN,
  WORK_BUSY_PENDING,
  WORK_BUSY_RUNNING,
  WORK_CPU_UNBOUND,
} from './flags.js';
export type { WorkFnRef, BhWorkFn } from './work-fn.js';
export { work_struct, delayed_work } from './work.js';
export { workqueue_struct } from './workqueue-struct.js';
export {
  INIT_WORK,
  DECLARE_WORK,
  INIT_DELAYED_WORK,
  INIT_DEFERRABLE_WORK,
  DECLARE_DELAYED_WORK,
  DECLARE_DEFERRABLE_WORK,
  to_delayed_work,
} from './init.js';
export {
  alloc_workqueue,
  alloc_ordered_workqueue,
  create_workqueue,
  create_singlethread_workqueue,
  workqueue_set_max_active,
  system_wq,
  system_percpu_wq,
  system_highpri_wq,
  system_long_wq,
  system_unbound_wq,
  system_dfl_wq,
  system_freezable_wq,
  system_power_efficient_wq,
  system_bh_wq,
  system_bh_highpri_wq,
} from './alloc.js';
export {
  queue_work,
  queue_work_on,
  schedule_work,
  schedule_work_on,
  enable_and_queue_work,
  queue_delayed_work,
  queue_delayed_work_on,
  schedule_delayed_work,
  schedule_delayed_work_on,
  mod_delayed_work,
  mod_delayed_work_on,
  work_pending,
  delayed_work_pending,
  work_busy,
  current_work,
} from './queueing.js';
export {
  flush_work,
  flush_delayed_work,
  flush_workqueue,
  flush_scheduled_work,
  drain_workqueue,
  destroy_workqueue,
} from './flush.js';
export {
  cancel_work,
  cancel_work_sync,
  cancel_delayed_work,
  cancel_delayed_work_sync,
  disable_work,
  disable_work_sync,
  enable_work,
  disable_delayed_work,
  disable_delayed_work_sync,
  enable_delayed_work,
} from './cancel.js';
