// What the idiomatic layer costs over the kernel API it is built on, measured
// in one process with the runs interleaved (A, B, C, A, B, C, …) so load drifts
// hit every variant alike. Reported as medians over the reps, and ratios to the
// kernel-API baseline of the same run.
//
//   node bench/idiomatic.js [--reps 3] [--ticks 1000] [--items 5000]
//
// 1. Periodic lateness at 1 kHz: a raw hrtimer (hrtimer_forward_now +
//    HRTIMER_RESTART) vs HighResTimer vs for-await over interval(). Lateness is
//    measured where user code sees the tick: in the callback, or after the await.
// 2. One-shot lateness: sleep(us(200)) vs a raw REL hrtimer resolving a promise.
// 3. WorkQueue.queue() (a promise per item, tagged failures) vs the kernel API
//    doing the same (DECLARE_WORK a fresh item, queue_work, flush_work): tiny
//    items, items per second.
import { createHistogram } from 'node:perf_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as k from '../dist/index.js';
import { interval, sleep } from '../dist/promises.js';

const { values: opt } = parseArgs({
  options: { reps: { type: 'string', default: '3' }, ticks: { type: 'string', default: '1000' }, items: { type: 'string', default: '5000' } },
});
const REPS = Number(opt.reps);
const TICKS = Number(opt.ticks);
const ITEMS = Number(opt.items);
const PERIOD = k.ms(1);
const ONESHOT = k.us(200);
const task = { module: new URL('./workqueue-task.mjs', import.meta.url), name: 'tiny' };

const hist = () => createHistogram({ lowest: 1, highest: 1e10, figures: 3 });
const rec = (h, ns) => h.record(Math.max(1, Number(ns)));

function rawPeriodic() {
  const h = hist();
  return new Promise((resolve) => {
    let n = 0;
    const t = new k.hrtimer();
    k.hrtimer_setup(t, (tm) => {
      rec(h, k.ktime_get() - k.hrtimer_get_softexpires(tm));
      if (++n === TICKS) {
        resolve(h);
        return k.HRTIMER_NORESTART;
      }
      k.hrtimer_forward_now(tm, PERIOD);
      return k.HRTIMER_RESTART;
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
    k.hrtimer_start(t, k.ktime_get() + PERIOD, k.HRTIMER_MODE_ABS);
  });
}

function handlePeriodic() {
  const h = hist();
  return new Promise((resolve) => {
    let n = 0;
    new k.HighResTimer((t, _o, deadline) => {
      rec(h, k.ktime_get() - deadline);
      if (++n === TICKS) {
        t.cancel();
        resolve(h);
      }
    }).start(PERIOD, PERIOD);
  });
}

async function iteratorPeriodic() {
  const h = hist();
  const start = k.ktime_get() + PERIOD;
  let periods = 0n;
  let n = 0;
  for await (const o of interval(PERIOD, { start })) {
    periods += o;
    rec(h, k.ktime_get() - (start + (periods - 1n) * PERIOD)); // the deadline this tick answered for
    if (++n === TICKS) break;
  }
  return h;
}

async function rawOneShots() {
  const h = hist();
  for (let i = 0; i < TICKS / 2; i++) {
    const t = new k.hrtimer();
    const t0 = k.ktime_get();
    await new Promise((resolve) => {
      k.hrtimer_setup(t, () => resolve(), k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
      k.hrtimer_start(t, ONESHOT, k.HRTIMER_MODE_REL);
    });
    rec(h, k.ktime_get() - t0 - ONESHOT);
  }
  return h;
}

async function sleeps() {
  const h = hist();
  for (let i = 0; i < TICKS / 2; i++) {
    const t0 = k.ktime_get();
    await sleep(ONESHOT);
    rec(h, k.ktime_get() - t0 - ONESHOT);
  }
  return h;
}

async function rawWork() {
  const wq = k.alloc_workqueue('bench-raw', k.WQ_UNBOUND, 0);
  const t0 = process.hrtime.bigint();
  // One item per run, as the facade makes (queue_work on a pending item would coalesce).
  const items = Array.from({ length: ITEMS }, () => k.DECLARE_WORK(task));
  for (const w of items) k.queue_work(wq, w);
  await Promise.all(items.map((w) => k.flush_work(w)));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await k.destroy_workqueue(wq);
  return ITEMS / s;
}

async function facadeWork() {
  const wq = new k.WorkQueue({ name: 'bench-facade' });
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: ITEMS }, () => wq.queue(task)));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await wq.close();
  return ITEMS / s;
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const us = (ns) => (ns / 1000).toFixed(1);

const rows = {
  'periodic 1 kHz: hrtimer (baseline)': { fn: rawPeriodic, kind: 'lat', base: true },
  'periodic 1 kHz: HighResTimer': { fn: handlePeriodic, kind: 'lat', of: 'periodic 1 kHz: hrtimer (baseline)' },
  'periodic 1 kHz: for await interval()': { fn: iteratorPeriodic, kind: 'lat', of: 'periodic 1 kHz: hrtimer (baseline)' },
  'one-shot 200 us: hrtimer + promise (baseline)': { fn: rawOneShots, kind: 'lat', base: true },
  'one-shot 200 us: await sleep()': { fn: sleeps, kind: 'lat', of: 'one-shot 200 us: hrtimer + promise (baseline)' },
  'tiny work: queue_work + flush_work (baseline)': { fn: rawWork, kind: 'rate', base: true },
  'tiny work: WorkQueue.queue()': { fn: facadeWork, kind: 'rate', of: 'tiny work: queue_work + flush_work (baseline)' },
};

// Warm-up: start the pool's workers and JIT the paths once.
await facadeWork();
await rawWork();
await sleeps();

const results = Object.fromEntries(Object.keys(rows).map((n) => [n, { p50: [], p99: [], rate: [] }]));
for (let rep = 0; rep < REPS; rep++) {
  for (const [name, row] of Object.entries(rows)) {
    const r = await row.fn();
    if (row.kind === 'lat') {
      results[name].p50.push(r.percentile(50));
      results[name].p99.push(r.percentile(99));
    } else results[name].rate.push(r);
  }
}

console.log(`ktimers idiomatic layer vs kernel API — ${REPS} interleaved reps, medians; load average ${(await import('node:os')).loadavg()[0].toFixed(2)}\n`);
const out = {};
for (const [name, row] of Object.entries(rows)) {
  const r = results[name];
  if (row.kind === 'lat') {
    const p50 = median(r.p50);
    const p99 = median(r.p99);
    const base = row.of ? results[row.of] : null;
    const ratio = base ? `  (p50 ×${(p50 / median(base.p50)).toFixed(2)}, p99 ×${(p99 / median(base.p99)).toFixed(2)} of baseline)` : '';
    console.log(`${name.padEnd(48)} lateness p50 ${us(p50).padStart(7)} us  p99 ${us(p99).padStart(8)} us${ratio}`);
    out[name] = { p50_ns: p50, p99_ns: p99 };
  } else {
    const rate = median(r.rate);
    const base = row.of ? median(results[row.of].rate) : null;
    const ratio = base ? `  (×${(rate / base).toFixed(2)} of baseline)` : '';
    console.log(`${name.padEnd(48)} ${Math.round(rate).toString().padStart(8)} items/s${ratio}`);
    out[name] = { items_per_s: rate };
  }
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/idiomatic-${Date.now()}.json`, import.meta.url), JSON.stringify({ reps: REPS, ticks: TICKS, items: ITEMS, results: out }, null, 2));
