// A periodic timer_list, the way a driver polls its hardware: the callback
// does its work and re-arms itself with mod_timer(t, jiffies + period).
//
//   node examples/periodic-timer-list.js [ticks=20] [period_ms=100]
//
// What to notice:
// - `jiffies` is current inside the callback (ktimers refreshes it at every
//   expiry pass), so `jiffies + period` is the kernel idiom, unchanged.
// - A timeout of 63 jiffies or more lands in wheel level 1 (8-jiffy buckets):
//   it fires at the next bucket boundary after `expires`, up to 8 jiffies late,
//   never early. The printed lateness shows that granularity.
// - mod_timer() returns 0 here (the timer is not pending inside its own
//   callback: the wheel unlinked it before calling it).
import {
  timer_list, timer_setup, mod_timer, timer_delete_sync, jiffies, get_jiffies_64,
  msecs_to_jiffies, time_before, HZ,
} from 'ktimers';

const ticks = Number(process.argv[2] ?? 20);
const periodMs = Number(process.argv[3] ?? 100);
const period = msecs_to_jiffies(periodMs);

class Poller extends timer_list {
  count = 0;
  early = 0;
  maxLate = 0n;
  dueAt = 0n;
}

const poller = new Poller();
timer_setup(poller, (t) => {
  // `t` is the Poller itself: the JS form of timer_container_of().
  const now = jiffies;
  if (time_before(now, t.dueAt)) t.early++;
  const late = now - t.dueAt;
  if (late > t.maxLate) t.maxLate = late;
  t.count++;
  console.log(`tick ${String(t.count).padStart(3)}  jiffies ${now}  ${late} jiffies after expires`);
  if (t.count < ticks) {
    t.dueAt = jiffies + period;
    const ret = mod_timer(t, t.dueAt); // re-arm: 0, it was not pending
    if (ret !== 0) console.log(`unexpected mod_timer() return ${ret}`);
  } else {
    done();
  }
}, 0);

console.log(`periodic timer_list: ${ticks} ticks every ${periodMs} ms (${period} jiffies at HZ=${HZ}), re-armed with mod_timer`);
poller.dueAt = get_jiffies_64() + period;
mod_timer(poller, poller.dueAt);

function done() {
  // From task context timer_delete_sync() would wait for a running callback; here
  // nothing is pending any more, so it returns 0. (Called from the timer's own
  // callback it would deadlock in the kernel: ktimers throws ERR_KTIMERS_DEADLOCK.)
  setImmediate(() => {
    const ret = timer_delete_sync(poller);
    console.log(`\n${poller.count} ticks, ${poller.early} early, max ${poller.maxLate} jiffies after expires; timer_delete_sync() = ${ret}`);
  });
}
