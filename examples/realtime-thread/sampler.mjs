// The thread function of examples/realtime-thread.js: a 1 kHz hrtimer on the RealtimeThread's own
// thread, putting the index of each period it covers into a kfifo the main thread reads.
import { hrtimer, hrtimer_setup, hrtimer_start, hrtimer_forward_now, hrtimer_cancel, ktime_get,
  kfifo_put, CLOCK_MONOTONIC, HRTIMER_MODE_ABS, HRTIMER_RESTART } from 'ktimers';

export default function sample({ fifos, data, signal }) {
  const period = BigInt(data.periodUs) * 1000n;
  let index = 0;
  const timer = new hrtimer();
  hrtimer_setup(timer, (t) => {
    index += Number(hrtimer_forward_now(t, period)); // more than 1 when periods were missed (overruns)
    kfifo_put(fifos.samples, index);
    return HRTIMER_RESTART;
  }, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
  hrtimer_start(timer, ktime_get() + period, HRTIMER_MODE_ABS);
  signal.addEventListener('abort', () => hrtimer_cancel(timer)); // stop() would end it anyway
}

