// A timer in softirq context hands work to a workqueue; a delayed work rides on the wheel.
// Prints how many times each work item ran. Run: node examples/workqueue.js
import {
  alloc_workqueue, destroy_workqueue, WQ_UNBOUND, work_struct, INIT_WORK, queue_work, flush_work,
  delayed_work, INIT_DELAYED_WORK, queue_delayed_work, cancel_delayed_work_sync,
  timer_list, timer_setup, mod_timer, timer_delete_sync, jiffies, get_jiffies_64, msecs_to_jiffies,
} from 'ktimers';

const fn = { module: new URL('./work/poll.mjs', import.meta.url), name: 'poll' };
const counts = new Int32Array(new SharedArrayBuffer(8));

const wq = alloc_workqueue('poller', WQ_UNBOUND, 0);    // no thread starts until work is queued
wq.on('error', (err) => console.error(err.message));    // a throwing work function, by name and queue

const w = new work_struct();
INIT_WORK(w, fn);
w.data = { counts, slot: 0 };

const t = new timer_list();                             // runs in softirq context: must not block
timer_setup(t, () => {
  queue_work(wq, w);                                    // false (and nothing changes) if still pending
  mod_timer(t, jiffies + msecs_to_jiffies(10));
}, 0);
mod_timer(t, get_jiffies_64() + msecs_to_jiffies(10));

const dw = new delayed_work();                          // delayed work rides on a timer_list
INIT_DELAYED_WORK(dw, fn);
dw.work.data = { counts, slot: 1 };
queue_delayed_work(wq, dw, msecs_to_jiffies(100));

// The work functions count in shared memory; the main thread waits on those
// counters (Atomics.waitAsync: no polling) until the poller has run 20 times
// and the delayed work once, however long a busy machine takes to get there.
async function until(slot, n) {
  for (let v; (v = Atomics.load(counts, slot)) < n; ) await Atomics.waitAsync(counts, slot, v).value;
}
await until(1, 1);
await until(0, 20);
timer_delete_sync(t);
const cancelled = await cancel_delayed_work_sync(dw);   // sleeping calls are Promises; false: it already ran
await flush_work(w);
await destroy_workqueue(wq);                            // drains, then the queue is gone
console.log(`polled ${counts[0]} times, delayed work ran ${counts[1]} time(s); cancel_delayed_work_sync() = ${cancelled}`);
