// Objects a test file creates and must not leak into the next test: hrtimers are
// cancelled and workqueues destroyed after each test (afterEach, registered by
// the call, so in the calling file's scope).
import { afterEach } from 'vitest';
import * as k from '../dist/index.js';

/**
 * hrtimers set up by `timer()` or handed to `keep()` are cancelled after each
 * test (unless their own callback is running, where hrtimer_cancel would refuse).
 */
export function trackedHrtimers() {
  const live: k.hrtimer[] = [];
  afterEach(() => {
    for (const t of live.splice(0)) if (!k.hrtimer_callback_running(t)) k.hrtimer_cancel(t);
  });
  const keep = (t: k.hrtimer): k.hrtimer => {
    live.push(t);
    return t;
  };
  const timer = (fn: k.HrtimerCallback<any> = () => k.HRTIMER_NORESTART, clock = k.CLOCK_MONOTONIC, mode = k.HRTIMER_MODE_ABS): k.hrtimer => {
    const t = new k.hrtimer();
    k.hrtimer_setup(t, fn, clock, mode);
    return keep(t);
  };
  return { timer, keep };
}

/**
 * Workqueues made through `wq()` or handed to `keep()` are destroyed after each
 * test. `before` runs first (e.g. opening latches a failed assertion left closed,
 * so no worker stays blocked on them).
 */
export function trackedQueues(before?: () => void) {
  const queues: k.workqueue_struct[] = [];
  afterEach(async () => {
    before?.();
    for (const q of queues.splice(0)) await k.destroy_workqueue(q);
  });
  const keep = <T extends k.workqueue_struct | null>(q: T): T => {
    if (q !== null) queues.push(q);
    return q;
  };
  const wq = (name: string, flags = k.WQ_UNBOUND, max = 0): k.workqueue_struct => keep(k.alloc_workqueue(name, flags, max))!;
  return { keep, wq };
}
