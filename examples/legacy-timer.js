// The driver textbooks' timer template, unchanged, on ktimers/legacy — the
// timer_list API as it was up to 4.14, where the callback receives `data`:
//
//   init_timer(&dev->xxx_timer);
//   dev->xxx_timer.function = &xxx_do_timer;
//   dev->xxx_timer.data = (unsigned long)dev;
//   dev->xxx_timer.expires = jiffies + delay;
//   add_timer(&dev->xxx_timer);
//   ...
//   static void xxx_do_timer(unsigned long arg) {
//           struct xxx_dev *dev = (struct xxx_dev *)arg;
//           dev->xxx_timer.expires = jiffies + delay;
//           add_timer(&dev->xxx_timer);
//   }
//
// and beside it the other periodic idiom of that era, a delayed work item that
// re-arms itself with schedule_delayed_work().
//
//   node examples/legacy-timer.js [ticks=5] [delay=30]
//
// The timer part runs on the virtual clock of ktimers/testing, so its jiffies
// are exact and the output is the same on every run: a timer added for
// jiffies + delay at level 0 of the wheel fires one jiffy after its expiry,
// as the kernel's wheel does, so ticks are delay + 1 jiffies apart. The work
// part runs on the real clock (its work function runs on a worker thread),
// so its gaps are "at least delay".
import {
  legacy_timer_list, init_timer, add_timer, del_timer_sync, timer_pending, jiffies, get_jiffies_64, HZ,
} from 'ktimers/legacy';
import {
  delayed_work, INIT_DELAYED_WORK, schedule_delayed_work, cancel_delayed_work_sync,
} from 'ktimers';
import { installVirtualClock } from 'ktimers/testing';

const ticks = Number(process.argv[2] ?? 5);
const delay = BigInt(process.argv[3] ?? 30);

// --- the timer template, on virtual time ------------------------------------------
const clock = installVirtualClock();

const dev = { name: 'xxx0', count: 0, xxx_timer: new legacy_timer_list() };

function xxx_do_timer(arg) {
  const d = arg; // the data: the device
  d.count++;
  console.log(`${d.name}: tick ${d.count} at jiffies ${jiffies} (expires was ${d.xxx_timer.expires})`);
  if (d.count < ticks) {
    d.xxx_timer.expires = jiffies + delay;
    add_timer(d.xxx_timer);
  }
}

const start = get_jiffies_64();
init_timer(dev.xxx_timer);
dev.xxx_timer.function = xxx_do_timer;
dev.xxx_timer.data = dev;
dev.xxx_timer.expires = start + delay;
add_timer(dev.xxx_timer);
console.log(`HZ=${HZ}; timer added at jiffies ${start} for jiffies + ${delay}`);

clock.advanceJiffies((delay + 2n) * BigInt(ticks));
console.log(`timer: ${dev.count} ticks; pending ${timer_pending(dev.xxx_timer)}; del_timer_sync() = ${del_timer_sync(dev.xxx_timer)}`);
clock.uninstall();

// --- the delayed-work idiom, on the real clock ------------------------------------
const runs = 3;
const workDelay = 20; // jiffies
const at = new Float64Array(new SharedArrayBuffer(8 * runs));
const count = new Int32Array(new SharedArrayBuffer(4));
const work = new delayed_work();
INIT_DELAYED_WORK(work, { module: new URL('./work/legacy-tick.js', import.meta.url), name: 'tick' });
work.work.data = { at, count, runs, delay: workDelay };
const wstart = get_jiffies_64();
schedule_delayed_work(work, workDelay);

const check = setInterval(async () => {
  if (Atomics.load(count, 0) < runs) return;
  clearInterval(check);
  const pending = await cancel_delayed_work_sync(work); // false: the last run did not re-arm
  let prev = Number(wstart);
  let early = 0;
  for (let i = 0; i < runs; i++) {
    if (at[i] - prev < workDelay) early++;
    console.log(`work: run ${i + 1} at jiffies ${at[i]} +${at[i] - prev} jiffies`);
    prev = at[i];
  }
  console.log(`work: ${runs} runs, ${early} less than ${workDelay} jiffies after the last; cancel_delayed_work_sync() = ${pending}`);
}, 10);
