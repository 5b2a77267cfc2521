// Work functions for examples/kthread-fifo.js. They run on the kthread_worker's
// own thread: the hrtimer armed here lives on that thread's event loop, so it
// fires however busy the main thread is.
import {
  hrtimer, hrtimer_setup, hrtimer_start, hrtimer_forward_now, hrtimer_cancel, hrtimer_get_softexpires,
  ktime_get, in_hardirq, CLOCK_MONOTONIC, HRTIMER_MODE_REL, HRTIMER_RESTART, NSEC_PER_MSEC,
} from 'ktimers';

let timer = null;

/**
 * Starts a 1 kHz periodic hrtimer. data.stats (Int32Array on a SharedArrayBuffer):
 * [0] expiries, [1] overruns (periods skipped), [2] max lateness in µs, [3] expiries
 * seen outside hard-IRQ context (must stay 0).
 */
export function startTick(work) {
  const { stats } = work.data;
  timer = new hrtimer();
  hrtimer_setup(timer, (t) => {
    const lateUs = Number((ktime_get() - hrtimer_get_softexpires(t)) / 1000n);
    if (lateUs > Atomics.load(stats, 2)) Atomics.store(stats, 2, lateUs);
    if (!in_hardirq()) Atomics.add(stats, 3, 1);
    Atomics.add(stats, 0, 1);
    const missed = Number(hrtimer_forward_now(t, NSEC_PER_MSEC)) - 1;
    if (missed > 0) Atomics.add(stats, 1, missed);
    return HRTIMER_RESTART;
  }, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
  hrtimer_start(timer, NSEC_PER_MSEC, HRTIMER_MODE_REL);
}

/** Cancels the timer startTick armed (queued on the same worker: the same thread). */
export function stopTick() {
  if (timer !== null) hrtimer_cancel(timer);
  timer = null;
}
