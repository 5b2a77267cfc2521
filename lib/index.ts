/**
 * ktimers — the Linux kernel's timer API for Node.js, on real OS clocks.
 *
 * Kernel names, kernel semantics: see the README for the map and for where
 * ktimers differs from the kernel and from Node's timers.
 */
export * from './ktime.js';
export * from './hrtimer.js';
export * from './context.js';
export * from './sched.js';
export { KtimersError } from './errors.js';
export {
  HZ,
  USER_HZ,
  TICK_NSEC,
  TICK_USEC,
  INITIAL_JIFFIES,
  MAX_JIFFY_OFFSET,
  jiffies,
  get_jiffies_64,
  time_after,
  time_before,
  time_after_eq,
  time_before_eq,
  time_in_range,
  time_in_range_open,
  time_after64,
  time_before64,
  time_after_eq64,
  time_before_eq64,
  time_in_range64,
  time_after32,
  time_before32,
  time_between32,
  time_is_before_jiffies,
  time_is_after_jiffies,
  time_is_before_eq_jiffies,
  time_is_after_eq_jiffies,
  time_is_before_jiffies64,
  time_is_after_jiffies64,
  time_is_before_eq_jiffies64,
  time_is_after_eq_jiffies64,
  jiffies_to_msecs,
  jiffies_to_usecs,
  jiffies_to_nsecs,
  jiffies_delta_to_msecs,
  msecs_to_jiffies,
  usecs_to_jiffies,
  nsecs_to_jiffies64,
  nsecs_to_jiffies,
  secs_to_jiffies,
  round_jiffies,
  round_jiffies_up,
  __round_jiffies_relative,
  round_jiffies_relative,
  __round_jiffies_up_relative,
  round_jiffies_up_relative,
} from './jiffies.js';
export * from './timer/index.js';

// The idiomatic layer (Node manners, same engine): durations, the HighResTimer
// handle, AbortError. Promises are in 'ktimers/promises'.
export { ns, us, ms, s, type Duration } from './api/duration.js';
export { HighResTimer, type HighResTimerCallback, type HighResTimerOptions } from './api/high-res-timer.js';
export { AbortError } from './errors.js';

// workqueue: work items on a worker_threads pool (lib/workqueue/).
export * from './workqueue/index.js';
export { WorkQueue, type WorkQueueOptions, type QueueOptions } from './api/work-queue.js';
export {
  kfifo_alloc,
  kfifo_init,
  kfifo_free,
  kfifo_initialized,
  kfifo_size,
  kfifo_esize,
  kfifo_recsize,
  kfifo_len,
  kfifo_is_empty,
  kfifo_is_full,
  kfifo_avail,
  kfifo_peek_len,
  kfifo_in,
  kfifo_put,
  kfifo_out,
  kfifo_out_peek,
  kfifo_get,
  kfifo_peek,
  kfifo_out_linear,
  kfifo_skip,
  kfifo_skip_count,
  kfifo_reset,
  kfifo_reset_out,
  kfifo_close,
  kfifo_is_closed,
  kfifo_wait,
  kfifo_wait_async,
  kfifo_wait_space,
  kfifo_wait_space_async,
  kfifo_reader,
  type Kfifo,
  type KfifoBig,
  type KfifoType,
  type KfifoElementType,
  type KfifoArray,
  type KfifoWaitResult,
} from './kfifo.js';
export {
  KTW_FREEZABLE,
  TASK_COMM_LEN,
  MAX_RT_PRIO,
  kthread_work,
  kthread_delayed_work,
  kthread_worker,
  to_kthread_delayed_work,
  kthread_init_work,
  kthread_init_delayed_work,
  kthread_run_worker,
  kthread_create_worker,
  kthread_run_worker_on_cpu,
  kthread_create_worker_on_cpu,
  kthread_init_worker,
  kthread_worker_fn,
  kthread_run,
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
} from './kthread.js';
export { RealtimeThread, type RealtimeThreadOptions, type RealtimeThreadContext, type RealtimeThreadPolicy } from './api/realtime-thread.js';
export { monitorEventLoopDelay, EventLoopDelayMonitor, type MonitorEventLoopDelayOptions, type LoopBlock } from './perf_hooks.js';
