// bench/latency-child.js — one latency measurement in a fresh process.
//
//   node bench/latency-child.js --api hrtimer|setTimeout|setInterval --interval-us N --duration S
//
// Prints one JSON object on stdout and nothing else (the orchestrator, latency.js,
// parses it). Each measurement gets its own process so that the JIT state, the
// heap and the event loop of one API never colour another's numbers.
//
// Lateness = (time the JS callback starts running) - (the deadline it was meant for),
// in ns. It is recorded in a perf_hooks histogram (bounded memory whatever the
// duration); a histogram only takes values >= 1, so early expiries (< 0) are counted
// separately and the exact signed minimum is tracked beside it.
import { createHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';

const { values: opt } = parseArgs({
  options: {
    api: { type: 'string', default: 'hrtimer' },
    'interval-us': { type: 'string', default: '1000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '100' },
  },
});
const API = opt.api;
const INTERVAL_NS = BigInt(Math.round(Number(opt['interval-us']) * 1000));
const DURATION_NS = BigInt(Math.round(Number(opt.duration) * 1e9));
const WARMUP = Number(opt.warmup); // samples discarded: JIT, page faults, first wake

const hist = createHistogram({ lowest: 1, highest: 100e9, figures: 3 });
let samples = 0;      // recorded (post-warm-up) expiries
let seen = 0;         // all expiries, warm-up included
let early = 0;        // expiries whose callback ran before the deadline
let minLate = Infinity;
let overruns = 0n;    // sum of (orun - 1): periods skipped because a callback came too late
let cpu0, wall0;      // measurement window starts after warm-up

function record(late) {
  seen++;
  if (seen <= WARMUP) {
    if (seen === WARMUP) { cpu0 = process.cpuUsage(); wall0 = process.hrtime.bigint(); }
    return false;
  }
  samples++;
  if (late < minLate) minLate = late;
  if (late < 0) early++;
  hist.record(late >= 1 ? late : 1);
  return true;
}

// Scheduling policy actually in force (field 41 of /proc/self/stat), so the table shows
// whether chrt -f 99 really took effect rather than assuming it.
function schedPolicy() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3
    const pol = Number(fields[41 - 3]), prio = Number(fields[40 - 3]);
    return ({ 0: 'SCHED_OTHER', 1: 'SCHED_FIFO', 2: 'SCHED_RR', 3: 'SCHED_BATCH', 5: 'SCHED_IDLE' }[pol] ?? `policy ${pol}`) + (prio ? ` ${prio}` : '');
  } catch { return 'unknown'; }
}

function report(extra = {}) {
  const wall = Number(process.hrtime.bigint() - wall0);
  const cpu = process.cpuUsage(cpu0);
  const p = (q) => hist.percentile(q);
  const out = {
    api: API, interval_us: Number(INTERVAL_NS) / 1000, duration_s: Number(DURATION_NS) / 1e9,
    samples, warmup_discarded: WARMUP, early, overruns: Number(overruns),
    lateness_ns: samples ? {
      min: minLate, p50: p(50), p90: p(90), p99: p(99), p999: p(99.9), max: hist.max,
      mean: Math.round(hist.mean),
    } : null,
    cpu_percent: +(((cpu.user + cpu.system) * 1000) / wall * 100).toFixed(2), // cpuUsage is in us
    wall_s: +(wall / 1e9).toFixed(3),
    sched_policy: schedPolicy(),
    ...extra,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

// A hung child (e.g. a timer that never fires) must not hang the whole run.
setTimeout(() => {
  process.stdout.write(JSON.stringify({ api: API, error: `no completion after ${opt.duration}s + 30s` }) + '\n');
  process.exit(2);
}, Number(DURATION_NS / 1_000_000n) + 30_000).unref();

if (API === 'hrtimer') {
  const k = await import('../dist/index.js');
  // ktime_get() must be CLOCK_MONOTONIC now (not a cached pass time): check it against
  // process.hrtime.bigint() read right after it, on every expiry. The gap must never be
  // negative (ktime ahead of the later read) and its median must be tens of ns; a rare large
  // gap is only the thread being interrupted between the two reads.
  const gapHist = createHistogram({ lowest: 1, highest: 10e9, figures: 2 });
  let gapMin = Infinity;
  let end;
  const t = new k.hrtimer();
  k.hrtimer_setup(t, (timer) => {
    const now = k.ktime_get();
    const gap = Number(process.hrtime.bigint() - now);
    if (gap < gapMin) gapMin = gap;
    gapHist.record(gap >= 1 ? gap : 1);
    const counted = record(Number(now - k.hrtimer_get_expires(timer)));
    const orun = k.hrtimer_forward_now(timer, INTERVAL_NS);
    if (counted) overruns += orun - 1n;
    if (end === undefined && seen === WARMUP) end = now + DURATION_NS;
    if (end !== undefined && now >= end) {
      setImmediate(() => report({ hrtime_after_ktime_ns: { min: gapMin, p50: gapHist.percentile(50), max: gapHist.max } }));
      return k.HRTIMER_NORESTART;
    }
    return k.HRTIMER_RESTART;
  }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
  k.hrtimer_start(t, k.ktime_add_ns(k.ktime_get(), INTERVAL_NS), k.HRTIMER_MODE_ABS);
} else if (API === 'setTimeout') {
  // A chain re-armed each time for an absolute deadline, advanced like hrtimer_forward_now:
  // when a callback comes more than one period late the missed periods count as overruns
  // and the next deadline is the first one still in the future. setTimeout clamps any delay
  // below 1 ms to 1 ms, so at 100 us this measures what setTimeout(0.1) really gives.
  let deadline = process.hrtime.bigint() + INTERVAL_NS;
  let end;
  const tick = () => {
    const now = process.hrtime.bigint();
    const counted = record(Number(now - deadline));
    let orun = 0n;
    if (now >= deadline) {
      orun = (now - deadline) / INTERVAL_NS + 1n;
      deadline += orun * INTERVAL_NS;
    } else {
      deadline += INTERVAL_NS; // fired early: the next period still follows this deadline
      orun = 1n;
    }
    if (counted) overruns += orun - 1n;
    if (end === undefined && seen === WARMUP) end = now + DURATION_NS;
    if (end !== undefined && now >= end) return setImmediate(report);
    setTimeout(tick, Number(deadline - now) / 1e6);
  };
  setTimeout(tick, Number(INTERVAL_NS) / 1e6);
} else if (API === 'setInterval') {
  // Drift: setInterval re-arms from when the callback ran, not from the ideal schedule,
  // so every bit of lateness accumulates. Measured as (elapsed time) - (ticks * interval).
  // Lateness per tick is against the ideal schedule start + n * interval, so it grows with
  // the drift; the histogram's last percentiles show how far behind the run ended.
  const start = process.hrtime.bigint();
  let n = 0n, startMeasured, nMeasured, end;
  const iv = setInterval(() => {
    n++;
    const now = process.hrtime.bigint();
    const counted = record(Number(now - (start + n * INTERVAL_NS)));
    if (counted && startMeasured === undefined) { startMeasured = now; nMeasured = n; }
    if (end === undefined && seen === WARMUP) end = now + DURATION_NS;
    if (end !== undefined && now >= end) {
      clearInterval(iv);
      const ticks = n - nMeasured;
      const elapsed = now - startMeasured;
      setImmediate(() => report({
        ticks: Number(ticks), expected_ticks: Number(elapsed / INTERVAL_NS),
        drift_ms: Number(elapsed - ticks * INTERVAL_NS) / 1e6,
        mean_period_us: Number(elapsed) / Number(ticks) / 1000,
      }));
    }
  }, Number(INTERVAL_NS) / 1e6);
} else {
  process.stdout.write(JSON.stringify({ api: API, error: 'unknown --api' }) + '\n');
  process.exit(2);
}
