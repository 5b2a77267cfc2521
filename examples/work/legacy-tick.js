// The work function of examples/legacy-timer.js: the old periodic idiom, a
// delayed work item that does its job and re-arms itself. It runs in task
// context on a pool worker thread.
import { get_jiffies_64, schedule_delayed_work, to_delayed_work } from 'ktimers';

/** data: { at: Float64Array (jiffies of each run), count: Int32Array [runs done], runs, delay } */
export function tick(work) {
  const { at, count, runs, delay } = work.data;
  const i = Atomics.load(count, 0);
  at[i] = Number(get_jiffies_64());
  if (i + 1 < runs) schedule_delayed_work(to_delayed_work(work), delay); // again in `delay` jiffies
  Atomics.store(count, 0, i + 1);
}
