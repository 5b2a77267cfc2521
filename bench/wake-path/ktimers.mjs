// bench/wake-path/ktimers.mjs — ktimers' side of the wake-path comparison (run.sh): one periodic
// hrtimer (ABS, hrtimer_forward, RESTART) at SCHED_FIFO 99 with /dev/cpu_dma_latency held at 0 and
// memory prefaulted, the same conditions as wake.c. Prints lateness percentiles (us).
//   node ktimers.mjs [samples=3000] [interval_us=1000]      (PIN=cpu pins the JS thread)
import fs from 'node:fs';
import * as k from '../../dist/index.js';
const N = +process.argv[2] || 3000, IV = BigInt(process.argv[3] || 1000) * 1000n;
k.sched_setscheduler(0, k.SCHED_FIFO, 99); if (process.env.PIN) k.sched_setaffinity(0, [Number(process.env.PIN)]); k.mlockall(k.MCL_CURRENT);
const fd = fs.openSync('/dev/cpu_dma_latency', 'w'); fs.writeSync(fd, Buffer.from([0,0,0,0]));
const tot = new Float64Array(N);
let i = -200; // warm-up
const t = new k.hrtimer();
k.hrtimer_setup(t, (tm) => {
  const now = k.ktime_get();
  const exp = k.hrtimer_get_expires(tm);
  if (i >= 0) tot[i] = Number(now - exp);
  k.hrtimer_forward(tm, now, IV);
  return ++i < N ? k.HRTIMER_RESTART : k.HRTIMER_NORESTART;
}, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
k.hrtimer_start(t, k.ktime_get() + IV, k.HRTIMER_MODE_ABS);
process.on('exit', () => {
  const q = (a) => { const s = Array.from(a).sort((x, y) => x - y); return [0.5, 0.9, 0.99, 0.999].map((p) => (s[Math.floor(p * s.length)] / 1e3).toFixed(1)).join(' / ') + ' max ' + (s.at(-1) / 1e3).toFixed(0); };
  console.log(`ktimers hrtimer: p50 / p90 / p99 / p99.9 ${q(tot)} us`);
});
