// bench/throughput.js — cost of arming and cancelling many timers: ktimers hrtimer vs setTimeout.
//
//   node --expose-gc bench/throughput.js [--count 1000000] [--reps 5]
//
// The case a timer API is built for: many timeouts armed (network timeouts, retries) and almost
// all cancelled before they fire. Each rep arms COUNT timers with random delays between 1 s and
// 100 s (REL), measures memory while all are armed, then cancels them all. Both APIs get the same
// delays, in the same process, alternating order from rep to rep; the table shows the medians.
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
  options: { count: { type: 'string', default: '1000000' }, reps: { type: 'string', default: '5' } },
});
const COUNT = Number(opt.count);
const REPS = Number(opt.reps);

const k = await import('../dist/index.js');

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
    heap_per_timer: (m2.heapUsed - m0.heapUsed) / n,   // object + setup + armed
    heap_per_arm: (m2.heapUsed - m1.heapUsed) / n,     // what hrtimer_start itself adds to the JS heap
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
  const t2 = now();
  for (let i = 0; i < n; i++) clearTimeout(slots[i]);
  const t3 = now();
  slots.fill(null);
  return {
    set: perOp(t0, t1, n), clear: perOp(t2, t3, n), total: perOp(t0, t1, n) + perOp(t2, t3, n),
    heap_per_timer: (m1.heapUsed - m0.heapUsed) / n, rss_per_timer: (m1.rss - m0.rss) / n,
  };
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

const median = (runs, key) => {
  const v = runs.map((r) => r[key]).sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const K = (key) => median(kRuns, key), N = (key) => median(nRuns, key);
const f = (x) => x.toFixed(1);
const ratio = N('total') / K('start_cancel');

console.log(`count ${COUNT}, reps ${REPS} (median shown), delays random 1..100 s REL, node ${process.version}\n`);
console.log('| operation | ktimers hrtimer ns/op | Node setTimeout ns/op |');
console.log('|---|---:|---:|');
console.log(`| create + hrtimer_setup | ${f(K('create_setup'))} | - |`);
console.log(`| arm (hrtimer_start / setTimeout) | ${f(K('start'))} | ${f(N('set'))} |`);
console.log(`| cancel (hrtimer_cancel / clearTimeout) | ${f(K('cancel'))} | ${f(N('clear'))} |`);
console.log(`| arm + cancel | ${f(K('start_cancel'))} | ${f(N('total'))} |`);
console.log(`| create + setup + arm + cancel | ${f(K('create_setup') + K('start_cancel'))} | ${f(N('total'))} |`);
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

fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', 'throughput.json'), JSON.stringify({
  date: new Date().toISOString(), count: COUNT, reps: REPS, node: process.version,
  median: { ktimers: Object.fromEntries(Object.keys(kRuns[0]).map((key) => [key, K(key)])),
    node: Object.fromEntries(Object.keys(nRuns[0]).map((key) => [key, N(key)])), ratio },
  ktimers: kRuns, node: nRuns,
}, null, 2) + '\n');
console.log(`\nraw results: ${path.relative(process.cwd(), path.join(here, 'results', 'throughput.json'))}`);
