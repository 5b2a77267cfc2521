// The idiomatic layer: node:timers/promises manners and a Timeout-like handle,
// with bigint nanosecond durations, on the same hrtimer engine.
//
//   node examples/node-style.js
//
// 1. sleep(): never early, no 1 ms floor.
// 2. interval(): absolute deadlines; each tick yields the overrun count; an
//    AbortSignal ends it with an AbortError like Node's.
// 3. HighResTimer: a periodic handle with ref/unref/refresh/cancel.
// 4. WorkQueue: blocking jobs on worker threads, a promise per job.
import { sleep, interval } from 'ktimers/promises';
import { HighResTimer, WorkQueue, ktime_get, ms, us } from 'ktimers';

const fmt = (ns) => `${(Number(ns) / 1000).toFixed(1)} us`;

// 1. sleep
for (const d of [us(100), us(500), ms(2)]) {
  const t0 = ktime_get();
  await sleep(d);
  const took = ktime_get() - t0;
  console.log(`sleep(${fmt(d)}) took ${fmt(took)} (${took >= d ? 'not early' : 'EARLY'})`);
}

// 2. interval, stopped by an AbortSignal after ~105 ms; the consumer is slow on tick 3
const signal = AbortSignal.timeout(105);
let ticks = 0;
let periods = 0n;
// The deadlines are on a grid from when interval() armed its timer: the periods counted up to
// a tick are the grid points passed by then, however late each tick ran, so never more than
// the periods elapsed since tStart.
const tStart = ktime_get();
let tLast = 0n;
try {
  for await (const overruns of interval(ms(10), { signal })) {
    tLast = ktime_get();
    ticks++;
    periods += overruns;
    if (overruns > 1n) console.log(`interval: tick ${ticks} reports ${overruns} periods (${overruns - 1n} missed while busy)`);
    if (ticks === 3) await new Promise((r) => setTimeout(r, 25)); // busy for 2.5 periods
  }
} catch (err) {
  const msOf = (ns) => (Number(ns) / 1e6).toFixed(3);
  console.log(`interval: ${ticks} ticks covering ${periods} periods, then ${err.name} (${err.code}, cause: ${err.cause?.name})`);
  console.log(`interval: the last tick ${msOf(tLast - tStart)} ms after the start`);
}

// 3. HighResTimer: every 2 ms, stopped from its own callback after 50 runs
const runs = [];
await new Promise((resolve) => {
  const t = new HighResTimer((timer, overruns, deadline) => {
    runs.push(ktime_get() - deadline);
    if (runs.length === 50) {
      timer.cancel(); // safe inside the callback: skips the periodic re-arm
      resolve();
    }
  });
  t.start(ms(2), ms(2));
});
runs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
console.log(`HighResTimer: ${runs.length} runs every 2 ms, lateness median ${fmt(runs[25])}, ${runs.filter((l) => l < 0n).length} early`);

// 4. WorkQueue: four 40 ms blocking jobs, two at a time; one fails
{
  const jobs = { module: new URL('./work/jobs.js', import.meta.url), name: 'crunch' };
  const wq = new WorkQueue({ name: 'crunch', maxActive: 2 });
  await Promise.all([0, 0].map((id) => wq.queue(jobs, { id, ms: 0 }))); // start the pool's workers first
  const t0 = ktime_get();
  const results = await Promise.allSettled([1, 2, 3, 4].map((id) => wq.queue(jobs, { id, ms: 40, fail: id === 3 })));
  const took = Number(ktime_get() - t0) / 1e6;
  await wq.close(); // drains (nothing left) and frees the queue; `await using wq` does the same
  const failed = results.filter((r) => r.status === 'rejected');
  console.log(`WorkQueue: ${results.length} jobs of 40 ms, 2 at a time, in ${took.toFixed(0)} ms; ` +
    `${results.length - failed.length} fulfilled, ${failed.length} rejected with ${failed[0]?.reason?.name}: ${failed[0]?.reason?.message}`);
}
