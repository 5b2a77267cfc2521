// bench/throughput.js — cost of arming and cancelling many timers: ktimers hrtimer vs setTimeout.
//
//   node --expose-gc bench/throughput.js [--count 1000000] [--reps 5] [--due 100000]
//
// The case a timer API is built for: many timeouts armed (network timeouts, retries) and almost
// all cancelled before they fire. Each rep arms COUNT timers with random delays between 1 s and
// 100 s (REL), measures memory while all are armed, re-arms each once (hrtimer_start on a queued
// timer / timeout.refresh(), same delay), then cancels them all. Both APIs get the same
// delays, in the same process, alternating order from rep to rep; the table shows the medians.
// Then DUE timers due at the same instant, per API: the cost per callback, from the first
// callback to the last (the pass itself, not the wake-up).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// Memory per timer needs a full GC before each reading; re-run ourselves with --expose-gc
// rather than report numbers polluted by garbage.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' }, reps: { type: 'string', default: '5' },
    due: { type: 'string', default: '100000' },
  },
});
const COUNT = Number(opt.count);
const REPS = Number(opt.reps);
const DUE = Number(opt.due);

const k = await import('../dist/index.js');
// The bytes the hrtimer queues hold (slot arrays, heaps, timers[]): outside the JS heap but
// for timers[], and kept at their capacity from one rep to the next (engineState().queueBytes).
const { engineState } = await import('../dist/internal/engine.js');

// Same delays for both: whole milliseconds (setTimeout keeps one list per distinct duration,
// so fractional ms would be an unrealistic worst case for Node), as ns bigints for ktimers.
// Made before any measurement so neither their creation nor their memory is counted.
const delaysMs = new Array(COUNT);
const delaysNs = new Array(COUNT);
for (let i = 0; i < COUNT; i++) {
  const ms = 1000 + Math.floor(Math.random() * 99_001);
  delaysMs[i] = ms;
  delaysNs[i] = BigInt(ms) * 1_000_000n;
}
// One slot array reused by every run: allocated once, so it is outside every memory delta.
const slots = new Array(COUNT).fill(null);
// Absolute expiries for the ABS re-arm row, made once (their bigints are not the arm's cost).
const absNs = new Array(COUNT);

const noop = () => {};
const noopHr = () => k.HRTIMER_NORESTART;
const now = () => process.hrtime.bigint();
const perOp = (a, b, n) => Number(b - a) / n;
function settle() { gc(); gc(); return process.memoryUsage(); } // twice: weak callbacks, then their garbage

function runKtimers(n) {
  const m0 = settle();
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const t = new k.hrtimer();
    k.hrtimer_setup(t, noopHr, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    slots[i] = t;
  }
  const t1 = now();
  const m1 = settle(); // created, not armed
  const t2 = now();
  for (let i = 0; i < n; i++) k.hrtimer_start(slots[i], delaysNs[i], k.HRTIMER_MODE_REL);
  const t3 = now();
  const m2 = settle(); // all armed
  const qBytes = engineState().queueBytes;
  // Re-arm of a queued timer, same delay (REL: a clock read per call, as refresh() reads the loop's time).
  const t6 = now();
  for (let i = 0; i < n; i++) k.hrtimer_start(slots[i], delaysNs[i], k.HRTIMER_MODE_REL);
  const t7 = now();
  const base = k.ktime_get();
  for (let i = 0; i < n; i++) absNs[i] = base + delaysNs[i];
  const t8 = now();
  for (let i = 0; i < n; i++) k.hrtimer_start(slots[i], absNs[i], k.HRTIMER_MODE_ABS);
  const t9 = now();
  let cancelled = 0;
  const t4 = now();
  for (let i = 0; i < n; i++) cancelled += k.hrtimer_cancel(slots[i]);
  const t5 = now();
  // Every timer was queued, so every cancel must say 1: anything else is a ktimers bug.
  if (cancelled !== n) console.error(`WARNING: hrtimer_cancel returned 1 for ${cancelled} of ${n} armed timers`);
  slots.fill(null);
  return {
    create_setup: perOp(t0, t1, n), start: perOp(t2, t3, n), cancel: perOp(t4, t5, n),
    start_cancel: perOp(t2, t3, n) + perOp(t4, t5, n),
    rearm: perOp(t6, t7, n), rearm_abs: perOp(t8, t9, n),
    heap_per_timer: (m2.heapUsed - m0.heapUsed) / n,   // object + setup + armed
    heap_per_object: (m1.heapUsed - m0.heapUsed) / n,  // the object, set up, not armed
    heap_per_arm: (m2.heapUsed - m1.heapUsed) / n,     // what hrtimer_start itself adds to the JS heap
    queue_per_arm: qBytes / n,                          // slot arrays + heaps + timers[], at capacity
    mem_per_timer: (m1.heapUsed - m0.heapUsed) / n + qBytes / n, // object + its share of the queues
    rss_per_timer: (m2.rss - m0.rss) / n,
    rss_per_arm: (m2.rss - m1.rss) / n,                // native heap entries live here, not in heapUsed
    external_per_arm: (m2.external - m1.external) / n,
    cancel_returned_1: cancelled,
  };
}

function runNode(n) {
  const m0 = settle();
  const t0 = now();
  for (let i = 0; i < n; i++) slots[i] = setTimeout(noop, delaysMs[i]);
  const t1 = now();
  const m1 = settle(); // all armed
  const t4 = now();
  for (let i = 0; i < n; i++) slots[i].refresh();
  const t5 = now();
  const t2 = now();
  for (let i = 0; i < n; i++) clearTimeout(slots[i]);
  const t3 = now();
  slots.fill(null);
  return {
    set: perOp(t0, t1, n), clear: perOp(t2, t3, n), total: perOp(t0, t1, n) + perOp(t2, t3, n),
    refresh: perOp(t4, t5, n),
    heap_per_timer: (m1.heapUsed - m0.heapUsed) / n, rss_per_timer: (m1.rss - m0.rss) / n,
  };
}

// DUE timers due at the same instant: ns per callback from the first callback to the last.
const dueTimers = [];
for (let i = 0; i < DUE; i++) dueTimers.push(new k.hrtimer());
function waitFor(done) {
  return new Promise((resolve) => {
    const iv = setInterval(() => { if (done()) { clearInterval(iv); resolve(); } }, 5);
  });
}
async function dueKtimers() {
  let ran = 0, first = 0n, last = 0n;
  const cb = () => { if (ran++ === 0) first = now(); if (ran === DUE) last = now(); return k.HRTIMER_NORESTART; };
  const at = k.ktime_get() + 50_000_000n;
  for (const t of dueTimers) {
    k.hrtimer_setup(t, cb, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
    k.hrtimer_start(t, at, k.HRTIMER_MODE_ABS);
  }
  await waitFor(() => ran === DUE);
  return Number(last - first) / (DUE - 1);
}
async function dueNode() {
  let ran = 0, first = 0n, last = 0n;
  const cb = () => { if (ran++ === 0) first = now(); if (ran === DUE) last = now(); };
  for (let i = 0; i < DUE; i++) setTimeout(cb, 50);
  await waitFor(() => ran === DUE);
  return Number(last - first) / (DUE - 1);
}

// Warm-up: let both loops get optimised before the first measured rep.
const WARM = Math.min(COUNT, 20_000);
runKtimers(WARM); runNode(WARM);

const kRuns = [], nRuns = [];
for (let rep = 0; rep < REPS; rep++) {
  // Alternate who goes first so neither always inherits the other's heap state.
  if (rep % 2 === 0) { kRuns.push(runKtimers(COUNT)); nRuns.push(runNode(COUNT)); }
  else { nRuns.push(runNode(COUNT)); kRuns.push(runKtimers(COUNT)); }
  console.error(`rep ${rep + 1}/${REPS}: ktimers start+cancel ${kRuns.at(-1).start_cancel.toFixed(0)} ns, ` +
    `setTimeout+clearTimeout ${nRuns.at(-1).total.toFixed(0)} ns`);
}

const dueK = [], dueN = [];
if (DUE > 1) {
  await dueKtimers(); await dueNode(); // warm-up
  for (let rep = 0; rep < REPS; rep++) {
    if (rep % 2 === 0) { dueK.push(await dueKtimers()); dueN.push(await dueNode()); }
    else { dueN.push(await dueNode()); dueK.push(await dueKtimers()); }
    console.error(`due rep ${rep + 1}/${REPS}: ktimers ${dueK.at(-1).toFixed(1)} ns/callback, setTimeout ${dueN.at(-1).toFixed(1)}`);
  }
}

const median = (runs, key) => {
  const v = runs.map((r) => r[key]).sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const K = (key) => median(kRuns, key), N = (key) => median(nRuns, key);
const f = (x) => x.toFixed(1);
const ratio = N('total') / K('start_cancel');
// Ratios per rep (each rep's two APIs ran back to back), and their median.
const perRep = (fn) => kRuns.map((kr, i) => fn(kr, nRuns[i]));
const med = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const targets = [
  ['create + setup + arm + cancel vs setTimeout + clearTimeout', perRep((kr, nr) => nr.total / (kr.create_setup + kr.start_cancel)), 3],
  ['arm + cancel vs setTimeout + clearTimeout', perRep((kr, nr) => nr.total / kr.start_cancel), 4],
  ['re-arm of a queued timer (REL) vs refresh()', perRep((kr, nr) => nr.refresh / kr.rearm), 3],
  [`${DUE} due together, per callback, setTimeout / hrtimer`, dueK.map((x, i) => dueN[i] / x), 2],
];

console.log(`count ${COUNT}, reps ${REPS} (median shown), delays random 1..100 s REL, node ${process.version}\n`);
console.log('| operation | ktimers hrtimer ns/op | Node setTimeout ns/op |');
console.log('|---|---:|---:|');
console.log(`| create + hrtimer_setup | ${f(K('create_setup'))} | - |`);
console.log(`| arm (hrtimer_start / setTimeout) | ${f(K('start'))} | ${f(N('set'))} |`);
console.log(`| cancel (hrtimer_cancel / clearTimeout) | ${f(K('cancel'))} | ${f(N('clear'))} |`);
console.log(`| arm + cancel | ${f(K('start_cancel'))} | ${f(N('total'))} |`);
console.log(`| create + setup + arm + cancel | ${f(K('create_setup') + K('start_cancel'))} | ${f(N('total'))} |`);
console.log(`| re-arm a queued timer, same delay (hrtimer_start REL / refresh()) | ${f(K('rearm'))} | ${f(N('refresh'))} |`);
console.log(`| re-arm a queued timer, hrtimer_start ABS (context) | ${f(K('rearm_abs'))} | - |`);
if (dueK.length) console.log(`| ${DUE} due at the same instant, per callback | ${f(med(dueK))} | ${f(med(dueN))} |`);
console.log(`\nratio (setTimeout+clearTimeout) / (hrtimer_start+hrtimer_cancel): ${ratio.toFixed(2)}x ` +
  `(target >= 2x: ${ratio >= 2 ? 'met' : 'NOT met'})`);
// setTimeout creates its Timeout object inside the call; an hrtimer object is made once and
// re-armed for ever, but a fair one-shot comparison counts its creation too.
console.log(`ratio including hrtimer creation + setup: ${(N('total') / (K('create_setup') + K('start_cancel'))).toFixed(2)}x\n`);
console.log('| memory per armed timer (bytes) | ktimers hrtimer | Node setTimeout |');
console.log('|---|---:|---:|');
console.log(`| JS heapUsed delta, object + armed (median) | ${f(K('heap_per_timer'))} | ${f(N('heap_per_timer'))} |`);
console.log(`| JS heapUsed delta, arming only (median) | ${f(K('heap_per_arm'))} | - |`);
// RSS only grows: later reps reuse pages freed by earlier ones (malloc free lists, V8's retained
// heap), so the first rep, run on a fresh process, is the one that shows the real footprint.
console.log(`| RSS delta, object + armed (first rep) | ${f(kRuns[0].rss_per_timer)} | ${f(nRuns[0].rss_per_timer)} |`);
console.log(`| RSS delta, arming only (first rep) | ${f(kRuns[0].rss_per_arm)} | - |`);
console.log(`| JS heap, the object set up (median) | ${f(K('heap_per_object'))} | - |`);
console.log(`| the queues' bytes per armed timer (slot arrays, heaps, timers[]; at capacity) | ${f(K('queue_per_arm'))} | - |`);
console.log(`| **JS heap + native per armed timer** (object + queues) | **${f(K('mem_per_timer'))}** | ${f(N('heap_per_timer'))} |`);
console.log('\n| target (ratio = Node / ktimers, per rep) | per rep | median | goal |');
console.log('|---|---|---:|---|');
for (const [name, v, goal] of targets) {
  if (!v.length) continue;
  const m = med(v);
  console.log(`| ${name} | ${v.map((x) => x.toFixed(2)).join(', ')} | ${m.toFixed(2)}x | >= ${goal}x: ${m >= goal ? 'met' : 'NOT met'} |`);
}
const mem = K('mem_per_timer');
console.log(`| memory per armed hrtimer, JS heap + native | ${kRuns.map((r) => r.mem_per_timer.toFixed(1)).join(', ')} | ${f(mem)} B | <= 100 B: ${mem <= 100 ? 'met' : 'NOT met'} |`);

fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', 'throughput.json'), JSON.stringify({
  date: new Date().toISOString(), count: COUNT, reps: REPS, due: DUE, node: process.version,
  due_ns_per_callback: { ktimers: dueK, node: dueN },
  median: { ktimers: Object.fromEntries(Object.keys(kRuns[0]).map((key) => [key, K(key)])),
    node: Object.fromEntries(Object.keys(nRuns[0]).map((key) => [key, N(key)])), ratio },
  ktimers: kRuns, node: nRuns,
}, null, 2) + '\n');
console.log(`\nraw results: ${path.relative(process.cwd(), path.join(here, 'results', 'throughput.json'))}`);
