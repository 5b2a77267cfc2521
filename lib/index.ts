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
export {
  timer_list,
  timer_setup,
  DEFINE_TIMER,
  add_timer,
  add_timer_local,
  add_timer_global,
  add_timer_on,
  mod_timer,
  mod_timer_pending,
  timer_reduce,
  timer_pending,
  timer_delete,
  timer_delete_sync,
  timer_delete_sync_try,
  timer_shutdown,
  timer_shutdown_sync,
  del_timer,
  del_timer_sync,
  try_to_del_timer_sync,
  TIMER_CPUMASK,
  TIMER_MIGRATING,
  TIMER_BASEMASK,
  TIMER_DEFERRABLE,
  TIMER_PINNED,
  TIMER_IRQSAFE,
  TIMER_INIT_FLAGS,
  TIMER_ARRAYSHIFT,
  TIMER_ARRAYMASK,
  LVL_DEPTH,
  LVL_SIZE,
  LVL_CLK_SHIFT,
  LVL_START,
  WHEEL_TIMEOUT_CUTOFF,
  WHEEL_TIMEOUT_MAX,
  type TimerCallback,
} from './timer.js';

// The idiomatic layer (Node manners, same engine): durations, the HighResTimer
// handle, AbortError. Promises are in 'ktimers/promises'.
export { ns, us, ms, s, type Duration } from './api/duration.js';
export { HighResTimer, type HighResTimerCallback, type HighResTimerOptions } from './api/high-res-timer.js';
export { AbortError } from './errors.js';
