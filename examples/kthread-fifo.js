// A 1 kHz hrtimer on a SCHED_FIFO kthread_worker while the main thread is busy.
//
//   node examples/kthread-fifo.js [seconds=1]
//
// Every ordinary ktimers callback runs on the JS main thread, so it is only as
// punctual as that thread is idle. The kernel's answer is a dedicated thread:
// kthread_run_worker() plus sched_set_fifo() on it. The work queued here arms
// a periodic hrtimer *on the worker's thread*; the main thread then spins in a
// synchronous loop for the whole run (think: a large JSON.parse), which stops
// every main-thread timer, and the worker's timer keeps its 1 ms period.
//
// sched_set_fifo() needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 50; without them it
// throws EPERM naming both, and the example carries on at normal priority.
import {
  kthread_run_worker, kthread_init_work, kthread_queue_work, kthread_flush_worker, kthread_destroy_worker,
  kthread_work, sched_set_fifo, sched_getscheduler, SCHED_FIFO,
  hrtimer, hrtimer_setup, hrtimer_start, hrtimer_cancel, CLOCK_MONOTONIC, HRTIMER_MODE_REL, HRTIMER_NORESTART,
} from 'ktimers';

const seconds = Number(process.argv[2] ?? 1);
const fn = (name) => ({ module: new URL('./work/kthread-tick.js', import.meta.url), name });

const worker = kthread_run_worker(0, 'tick/%s', 'fifo');
try {
  sched_set_fifo(worker);
} catch (e) {
  console.log(`sched_set_fifo: ${e.code} (${e.message}); running at normal priority`);
}
const { policy, priority } = sched_getscheduler(worker.task);
console.log(`worker "${worker.comm}" is thread ${worker.task}, ${policy === SCHED_FIFO ? `SCHED_FIFO ${priority}` : 'SCHED_OTHER'}`);

const stats = new Int32Array(new SharedArrayBuffer(16));
const start = new kthread_work();
kthread_init_work(start, fn('startTick'));
start.data = { stats };
kthread_queue_work(worker, start);
await kthread_flush_worker(worker); // the timer is armed

// A main-thread hrtimer due 1 ms from now, for comparison: it cannot fire while the loop below runs.
let mainFired = 0;
const mainTimer = new hrtimer();
hrtimer_setup(mainTimer, () => {
  mainFired++;
  return HRTIMER_NORESTART;
}, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
hrtimer_start(mainTimer, 1_000_000n, HRTIMER_MODE_REL);

const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000); // the busy main thread
const busyMs = performance.now() - t0;
const firedWhileBusy = mainFired;
const [expiries, overruns, maxLate, notHard] = Array.from(stats);
hrtimer_cancel(mainTimer);

const stop = new kthread_work();
kthread_init_work(stop, fn('stopTick'));
kthread_queue_work(worker, stop);
await kthread_destroy_worker(worker);

console.log(`main thread busy for ${busyMs.toFixed(1)} ms: its own 1 ms hrtimer fired ${firedWhileBusy} times meanwhile`);
console.log(`worker hrtimer: ${expiries} expiries, ${overruns} overruns, max lateness ${maxLate} us, ${notHard} outside hard-IRQ context`);
