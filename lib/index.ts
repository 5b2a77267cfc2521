/**
 * ktimers — the Linux kernel's timer API for Node.js, on real OS clocks.
 *
 * Kernel names, kernel semantics: the README gives the map, docs/differences.md
 * where ktimers differs from the kernel and from Node's timers.
 */
export * from './ktime.js';
export * from './hrtimer/index.js';
export * from './context.js';
export * from './sched.js';
export { KtimersError } from './errors.js';
export * from './jiffies.js';
export * from './timer/index.js';

// The idiomatic layer (Node manners, same engine): durations, the HighResTimer
// handle, AbortError. Promises are in 'ktimers/promises'.
export * from './api/duration.js';
export * from './api/high-res-timer.js';
export { AbortError } from './errors.js';

// workqueue: work items on a worker_threads pool (lib/workqueue/).
export * from './workqueue/index.js';
export * from './api/work-queue.js';
export * from './kfifo/index.js';
export * from './kthread/index.js';
export * from './api/realtime-thread.js';
export * from './perf_hooks.js';
