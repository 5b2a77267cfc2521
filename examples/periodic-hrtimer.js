// A 1 kHz periodic hrtimer that prints how late each expiry ran, once a
// second, then a summary: the smallest complete use of the hrtimer API.
// (The full latency tool is `ktimers cyclictest`, which npm start runs.)
//
//   node examples/periodic-hrtimer.js [seconds=5] [interval_us=1000]
//
// The kernel pattern for periodic timers: the callback calls
// hrtimer_forward_now(timer, delay_ns) (which returns the overrun count) and
// returns HRTIMER_RESTART. Lateness = callback start - the expiry it was due at.
// The timer is cancelled on exit: at the end of the run, or on Ctrl-C.
import { createHistogram } from 'node:perf_hooks';
import * as k from 'ktimers';

const seconds = Number(process.argv[2] ?? 5);
const intervalUs = Number(process.argv[3] ?? 1000);
const delay_ns = BigInt(intervalUs) * 1000n; // the period, as a ktime_t (bigint ns)
const hist = createHistogram();
let expiries = 0;
let overruns = 0n;
let early = 0;
let second = { n: 0, max: 0, sum: 0 };

const timer = new k.hrtimer();
k.hrtimer_setup(
  timer,
  (t) => {
    const lateNs = k.ktime_get() - k.hrtimer_get_softexpires(t);
    if (lateNs < 0n) early++;
    const late = Number(lateNs);
    hist.record(Math.max(1, late));
    second.n++;
    second.sum += late;
    second.max = Math.max(second.max, late);
    expiries++;
    overruns += k.hrtimer_forward_now(t, delay_ns) - 1n;
    return k.HRTIMER_RESTART;
  },
  k.CLOCK_MONOTONIC,
  k.HRTIMER_MODE_ABS,
);

console.log(`ktimers demo: one hrtimer every ${intervalUs} us on CLOCK_MONOTONIC for ${seconds} s`);
console.log('(the full latency tool: npx ktimers cyclictest --help)\n');
const start = k.ktime_get();
k.hrtimer_start(timer, start + delay_ns, k.HRTIMER_MODE_ABS);
process.once('SIGINT', () => {
  k.hrtimer_cancel(timer); // cancelled on exit: task context, so synchronous
  console.log(`\ninterrupted: timer cancelled after ${expiries} expiries`);
  process.exit(130);
});

// A Node timer for the once-a-second report: it runs in task context, between expiry passes.
const us = (ns) => (ns / 1000).toFixed(1).padStart(7);
const report = setInterval(() => {
  if (second.n > 0) {
    const t = Math.round(Number(k.ktime_get() - start) / 1e9);
    console.log(`t=${String(t).padStart(3)} s  expiries ${String(second.n).padStart(5)}  avg late ${us(second.sum / second.n)} us  max ${us(second.max)} us`);
  }
  second = { n: 0, max: 0, sum: 0 };
}, 1000);

setTimeout(() => {
  k.hrtimer_cancel(timer);
  const ranMs = Number(k.ktime_get() - start) / 1e6; // setTimeout may run late: the periods are counted up to here
  clearInterval(report);
  const p = (q) => us(hist.percentile(q));
  console.log(`\n${expiries} expiries, ${overruns} overruns, ${early} early (an hrtimer never fires early) in ${ranMs.toFixed(1)} ms`);
  console.log(`lateness: min ${us(hist.min)} us  p50 ${p(50)} us  p99 ${p(99)} us  p99.9 ${p(99.9)} us  max ${us(hist.max)} us`);
  console.log('For scale on this kind of machine: a setTimeout(1) chain runs ~570 us late at p50.');
}, seconds * 1000 + 5);
