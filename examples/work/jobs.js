// Work functions for the workqueue examples. A pool worker imports this module
// and calls the named export with the work item (`work.data` is what the
// queueing side set). They run in task context on a worker thread, so they may
// block: that is what they are for.
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get_jiffies_64, schedule_delayed_work, to_delayed_work, in_task, gettid } from 'ktimers';

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * examples/timer-to-work.js: persist the samples the timer collected. Blocking
 * on purpose: a synchronous file write plus 15 ms of "slow disk".
 * data: { stats: Int32Array } — [0] samples taken (written by the timer), [1] runs, [2] in_task seen
 */
export function flushSamples(work) {
  const { stats } = work.data;
  const file = join(tmpdir(), `ktimers-example-${process.pid}.txt`);
  writeFileSync(file, `${Atomics.load(stats, 0)} samples\n`);
  sleep(15);
  rmSync(file, { force: true });
  if (in_task()) Atomics.store(stats, 2, 1);
  Atomics.add(stats, 1, 1);
}

/**
 * examples/delayed-poller.js: poll something slow (here /proc/loadavg), record
 * it, and re-arm — the kernel's self-rescheduling delayed work.
 * data: { out: Float64Array (3 per poll: jiffies, load, tid), count: Int32Array [polls done], polls, delay }
 */
export function poll(work) {
  const { out, count, polls, delay } = work.data;
  const load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const i = Atomics.load(count, 0);
  out[3 * i] = Number(get_jiffies_64());
  out[3 * i + 1] = load;
  out[3 * i + 2] = gettid();
  if (i + 1 < polls) schedule_delayed_work(to_delayed_work(work), delay); // poll again in `delay` jiffies
  Atomics.store(count, 0, i + 1);
  Atomics.notify(count, 0);
}

/** examples/node-style.js: a blocking job for the WorkQueue facade. data: { ms, fail? } */
export function crunch(work) {
  sleep(work.data.ms);
  if (work.data.fail) throw new RangeError(`job ${work.data.id}: input out of range`);
}
