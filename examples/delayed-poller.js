// A periodic poller on schedule_delayed_work(): the work function polls
// something slow and re-arms its own delayed_work, the kernel idiom
//
//   static void poll_fn(struct work_struct *work) {
//       … read the device …
//       schedule_delayed_work(to_delayed_work(work), HZ / 10);
//   }
//
//   node examples/delayed-poller.js [polls=8] [period_ms=100]
//
// The delay runs on a timer_list (the delayed_work's TIMER_IRQSAFE timer, on the
// jiffies wheel); the poll itself runs on a worker thread, where blocking reads
// are fine. Polls are at least `period` apart: a delay of d jiffies fires at the
// wheel's rounding of jiffies + d (never early; at 100 ms, up to 8 jiffies late).
import {
  delayed_work, INIT_DELAYED_WORK, schedule_delayed_work, cancel_delayed_work_sync,
  msecs_to_jiffies, get_jiffies_64, HZ, gettid,
} from 'ktimers';

const polls = Number(process.argv[2] ?? 8);
const periodMs = Number(process.argv[3] ?? 100);
const delay = msecs_to_jiffies(periodMs);

const out = new Float64Array(new SharedArrayBuffer(8 * 3 * polls)); // per poll: jiffies, loadavg, worker tid
const count = new Int32Array(new SharedArrayBuffer(4));

const poller = new delayed_work();
INIT_DELAYED_WORK(poller, { module: new URL('./work/jobs.js', import.meta.url), name: 'poll' });
poller.work.data = { out, count, polls, delay };

console.log(`polling /proc/loadavg ${polls} times, every ${periodMs} ms (${delay} jiffies at HZ=${HZ}), ` +
  'from a work function that re-arms its own delayed_work');
const start = get_jiffies_64();
schedule_delayed_work(poller, delay);

// Task context: wait for the polls without blocking the event loop.
const check = setInterval(async () => {
  if (Atomics.load(count, 0) < polls) return;
  clearInterval(check);
  const pending = await cancel_delayed_work_sync(poller); // false: the last poll did not re-arm
  let prev = Number(start);
  let early = 0;
  for (let i = 0; i < polls; i++) {
    const j = out[3 * i];
    const gap = j - prev;
    if (gap < Number(delay)) early++;
    console.log(`poll ${i + 1}  at jiffies ${j}  +${gap} jiffies  loadavg ${out[3 * i + 1].toFixed(2)}  worker tid ${out[3 * i + 2]}`);
    prev = j;
  }
  console.log(`\n${polls} polls, ${early} less than ${delay} jiffies apart; main thread tid ${gettid()}; ` +
    `cancel_delayed_work_sync() = ${pending}`);
}, 20);
