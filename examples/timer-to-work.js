// A timer callback that hands blocking work to schedule_work().
//
//   node examples/timer-to-work.js [seconds=1]
//
// The kernel rule: a timer callback runs in atomic context and must not sleep,
// so anything slow (I/O, allocation that may block, a mutex) goes to a work
// item, which runs later in process context. Here a 2 ms periodic hrtimer
// samples something every period and, every 10th period, calls
// schedule_work() to persist the samples. The work function blocks (a
// synchronous file write and 15 ms of "slow disk") on a worker thread; the
// timer keeps its schedule meanwhile.
//
// schedule_work() returns false while the item is still pending: the kernel
// coalesces (one pending instance at a time), it does not queue a second copy.
import {
  hrtimer, hrtimer_setup, hrtimer_start, hrtimer_forward_now, hrtimer_cancel, hrtimer_get_softexpires,
  ktime_get, DECLARE_WORK, schedule_work, flush_work, in_hardirq,
  CLOCK_MONOTONIC, HRTIMER_MODE_ABS, HRTIMER_RESTART, NSEC_PER_MSEC,
} from 'ktimers';

const seconds = Number(process.argv[2] ?? 1);
const period = 2n * NSEC_PER_MSEC;
const stats = new Int32Array(new SharedArrayBuffer(12)); // [0] samples, [1] work runs, [2] work saw in_task()

const work = DECLARE_WORK({ module: new URL('./work/jobs.js', import.meta.url), name: 'flushSamples' });
work.data = { stats }; // read when the item is dispatched; the Int32Array stays shared

let ticks = 0;
let handedOff = 0;
let coalesced = 0;
let overruns = 0n;
let maxLate = 0n;
let wrongContext = 0;

const timer = new hrtimer();
hrtimer_setup(timer, (t) => {
  const late = ktime_get() - hrtimer_get_softexpires(t);
  if (late > maxLate) maxLate = late;
  if (!in_hardirq()) wrongContext++;
  Atomics.add(stats, 0, 1); // "take a sample"
  if (++ticks % 10 === 0) {
    if (schedule_work(work)) handedOff++; // never block here: hand it off
    else coalesced++; // the previous flush is still pending: it will see these samples too
  }
  overruns += hrtimer_forward_now(t, period) - 1n;
  return HRTIMER_RESTART;
}, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);

console.log(`a ${Number(period) / 1e6} ms hrtimer samples for ${seconds} s; every 10th tick it calls schedule_work() ` +
  'to persist the samples (a blocking write + 15 ms on a worker thread)');
hrtimer_start(timer, ktime_get() + period, HRTIMER_MODE_ABS);

setTimeout(async () => {
  hrtimer_cancel(timer); // task context: synchronous, nothing left running
  await flush_work(work); // wait for the last hand-off to finish (may sleep: task context only)
  console.log(`timer: ${ticks} ticks, ${overruns} missed periods, max lateness ${(Number(maxLate) / 1000).toFixed(1)} us, ` +
    `${wrongContext} outside hard-IRQ context`);
  console.log(`schedule_work(): ${handedOff} queued, ${coalesced} coalesced (already pending); ` +
    `the work ran ${Atomics.load(stats, 1)} times in task context: ${Atomics.load(stats, 2) === 1}`);
  console.log(`${Atomics.load(stats, 0)} samples taken; the timer never waited for the disk`);
}, seconds * 1000);
