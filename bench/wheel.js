// bench/wheel.js — the timer_list wheel vs Node's timers: ops, memory, same-jiffy dispatch, idle CPU.
//
//   node --expose-gc bench/wheel.js [--count 1000000] [--reps 5] [--dispatch-reps 3]
//                                   [--idle-count 100000] [--idle-ms 2000]
//
// Four measurements, each against Node's timers with the same counts and the same random timeouts,
// in one process, alternating which API goes first from rep to rep; tables show medians:
//   1. ns/op for COUNT timers with random timeouts 1 ms .. 1 h: create+setup, arm, re-arm, delete;
//   2. memory per pending timer (JS heap + the wheel's typed-array entries, which live outside the heap);
//   3. COUNT timers expiring in the same jiffy: ns per callback from first callback to last;
//   4. process CPU over IDLE_MS with IDLE_COUNT far-future timers pending (NO_HZ: expect ~0).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

// Memory readings need a full GC first; re-run ourselves with --expose-gc rather than report garbage.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' }, reps: { type: 'string', default: '5' },
    'dispatch-reps': { type: 'string', default: '3' }, 'idle-count': { type: 'string', default: '100000' },
    'idle-ms': { type: 'string', default: '2000' },
  },
});
const COUNT = Number(opt.count), REPS = Number(opt.reps), DREPS = Number(opt['dispatch-reps']);
const IDLE_COUNT = Number(opt['idle-count']), IDLE_MS = Number(opt['idle-ms']);
const LEAD_MS = 50; // section 3: all timers armed for now + 50 ms (one level-0 bucket)

const k = await import('../dist/index.js');
const { wheelState } = await import('../dist/timer/driver.js'); // internal: the base's clk / next_expiry
// Which code was measured: the commit, flagged if lib/ or native/ differ from it.
const git = (...a) => spawnSync('git', a, { cwd: here, encoding: 'utf8' }).stdout?.trim() ?? '';
const commit = (git('rev-parse', '--short', 'HEAD') || 'unknown') + (git('status', '--porcelain', '--', '../lib', '../native') ? ' (lib/native modified)' : '');

// Same timeouts for both APIs, made before any measurement: whole milliseconds (Node truncates
// to ms anyway), and the same values as jiffies deltas for ktimers, as numbers (nA, nB: what a
// hot loop passes, `now + delta` with `now = Number(jiffies)`) and as bigints (jA, jB). A second
// set for the re-arm, since mod_timer moves a pending timer to a new timeout (refresh cannot).
const rnd = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));
const msA = new Array(COUNT), msB = new Array(COUNT), jA = new Array(COUNT), jB = new Array(COUNT);
for (let i = 0; i < COUNT; i++) {
  msA[i] = rnd(1, 3_600_000); msB[i] = rnd(1, 3_600_000);
  jA[i] = k.msecs_to_jiffies(msA[i]); jB[i] = k.msecs_to_jiffies(msB[i]);
}
const nA = jA.map(Number), nB = jB.map(Number);
const FAR = 600_000; // "base current" re-arm: every timer >= 10 min out, so next_expiry stays ahead of jiffies
const msFar = Array.from({ length: IDLE_COUNT }, () => rnd(60_000, 3_600_000)); // section 4: 1 min .. 1 h
const jFar = msFar.map((ms) => k.msecs_to_jiffies(ms));
// Slot arrays reused by every run: allocated once, so they are outside every memory delta.
const slots = new Array(COUNT).fill(null);
const scratch = new Array(COUNT).fill(null);

const noop = () => {};
const now = () => process.hrtime.bigint();
const perOp = (a, b, n) => Number(b - a) / n;
function settle() { gc(); gc(); return process.memoryUsage(); } // twice: weak callbacks, then their garbage
const check = (what, got, want) => { if (got !== want) console.error(`WARNING: ${what}: ${got}, expected ${want}`); };

// --- 1 + 2: ops and memory ---------------------------------------------------------------

function opsKtimers(n) {
  const m0 = settle();
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const t = new k.timer_list();
    k.timer_setup(t, noop, 0);
    slots[i] = t;
  }
  const t1 = now();
  const m1 = settle();
  // mod_timer takes absolute jiffies: `now + delta` is part of every arm, as in real use. With
  // numbers (the hot-path form) it is a plain add; the bigint form is measured as well (rearm_big),
  // and the bigint add alone (expr) so it can be told apart.
  let nb = Number(k.get_jiffies_64()), ret = 0;
  const t2 = now();
  for (let i = 0; i < n; i++) ret += k.mod_timer(slots[i], nb + nA[i]);
  const t3 = now();
  check('mod_timer on inactive timers returned 1 for', ret, 0);
  const m2 = settle(); // all pending
  nb = Number(k.get_jiffies_64()); ret = 0;
  const w0 = wheelState();
  const t4 = now();
  for (let i = 0; i < n; i++) ret += k.mod_timer(slots[i], nb + nB[i]);
  const t5 = now();
  // Was the base behind (clk at next_expiry: no clock reads) for the whole loop? (see rearmCurrent)
  const w1 = wheelState();
  const behind = w0.timersPending && w0.nextExpiry <= w0.clk && w1.clk === w0.clk ? 1 : 0;
  check('mod_timer on pending timers returned 1 for', ret, n);
  const base = k.get_jiffies_64(); ret = 0;
  const tb0 = now();
  for (let i = 0; i < n; i++) ret += k.mod_timer(slots[i], base + jA[i]);
  const tb1 = now();
  check('mod_timer (bigint) on pending timers returned 1 for', ret, n);
  ret = 0;
  const t6 = now();
  for (let i = 0; i < n; i++) ret += k.timer_delete(slots[i]);
  const t7 = now();
  check('timer_delete returned 1 for', ret, n);
  const t8 = now();
  for (let i = 0; i < n; i++) scratch[i] = base + jA[i];
  const t9 = now();
  slots.fill(null); scratch.fill(null);
  return {
    create_setup: perOp(t0, t1, n), arm: perOp(t2, t3, n), rearm: perOp(t4, t5, n), del: perOp(t6, t7, n),
    rearm_big: perOp(tb0, tb1, n), rearm_behind: behind,
    expr: perOp(t8, t9, n),
    heap_per_timer: (m2.heapUsed - m0.heapUsed) / n, heap_per_arm: (m2.heapUsed - m1.heapUsed) / n,
    rss_per_timer: (m2.rss - m0.rss) / n,
    // Growth outside the V8 heap: the wheel's typed-array entries (and their spare capacity).
    native_per_timer: ((m2.rss - m0.rss) - (m2.heapTotal - m0.heapTotal)) / n,
  };
}

// The re-arm in opsKtimers runs while the wheel base is behind: its earliest bucket (~1 ms out)
// came due while the loops kept the thread busy, so forward_timer_base() cannot move clk and
// mod_timer skips the clock read (lib/internal/wheel.ts jiffiesFor). Here the base is current:
// every timer is >= 10 min out, and the tick's pass has run (the await) and recalculated
// next_expiry, so every mod_timer reads the clock (performance.now()).
async function rearmCurrent(n) {
  let nb = Number(k.get_jiffies_64());
  for (let i = 0; i < n; i++) { const t = (slots[i] = new k.timer_list()); k.timer_setup(t, noop, 0); k.mod_timer(t, nb + FAR + nA[i]); }
  settle();
  await sleep(30);
  const st = wheelState();
  if (!(st.nextExpiry > st.clk)) console.error(`WARNING: base not current (clk ${st.clk}, next_expiry ${st.nextExpiry})`);
  nb = Number(k.get_jiffies_64());
  let ret = 0;
  const t0 = now();
  for (let i = 0; i < n; i++) ret += k.mod_timer(slots[i], nb + FAR + nB[i]);
  const t1 = now();
  check('mod_timer (base current) on pending timers returned 1 for', ret, n);
  for (let i = 0; i < n; i++) k.timer_delete(slots[i]);
  slots.fill(null);
  return perOp(t0, t1, n);
}

function opsNode(n) {
  const m0 = settle();
  const t0 = now();
  for (let i = 0; i < n; i++) slots[i] = setTimeout(noop, msA[i]);
  const t1 = now();
  const m1 = settle();
  // refresh() restarts the timer with the SAME delay (Node has no way to move a Timeout to a
  // new delay short of clear + set): a cheaper operation than mod_timer to a new timeout.
  const t2 = now();
  for (let i = 0; i < n; i++) slots[i].refresh();
  const t3 = now();
  // What Node needs to do what mod_timer does (a new delay): clear + set a new Timeout.
  for (let i = 0; i < n; i++) { clearTimeout(slots[i]); slots[i] = setTimeout(noop, msB[i]); }
  const t4 = now();
  for (let i = 0; i < n; i++) clearTimeout(slots[i]);
  const t5 = now();
  // A Timeout alone: all on ONE duration list. With random 1 ms .. 1 h nearly every timer has its
  // own duration, so the figure above also carries one TimersList (+ queue entry) per timer.
  slots.fill(null); // drop the cleared Timeouts first, or replacing them below frees as much as it adds
  const m2 = settle();
  for (let i = 0; i < n; i++) slots[i] = setTimeout(noop, 3_600_000);
  const m3 = settle();
  for (let i = 0; i < n; i++) clearTimeout(slots[i]);
  slots.fill(null);
  return {
    set: perOp(t0, t1, n), refresh: perOp(t2, t3, n), reset: perOp(t3, t4, n), clear: perOp(t4, t5, n),
    heap_per_timer: (m1.heapUsed - m0.heapUsed) / n, rss_per_timer: (m1.rss - m0.rss) / n,
    native_per_timer: ((m1.rss - m0.rss) - (m1.heapTotal - m0.heapTotal)) / n,
    heap_one_list: (m3.heapUsed - m2.heapUsed) / n,
  };
}

// --- 3: same-jiffy dispatch ------------------------------------------------------------------

// The same callback shape for both: count, and read the clock only at the first and the last.
function dispatcher(n) {
  const s = { fired: 0, first: 0n, last: 0n, done: null };
  s.done = new Promise((resolve) => {
    s.cb = () => {
      if (s.fired++ === 0) s.first = now();
      if (s.fired === n) { s.last = now(); resolve(); }
    };
  });
  return s;
}
const dispatchResult = (s, n, a0, a1, due) => ({
  ns_per_cb: perOp(s.first, s.last, n - 1), cb_per_s: (n - 1) / (Number(s.last - s.first) / 1e9),
  arm: perOp(a0, a1, n), first_late_ms: Number(s.first - due) / 1e6, fired: s.fired,
  // Arming COUNT timers can outlast LEAD_MS: then the first callback can only come after it.
  first_after_arm_ms: Number(s.first - a1) / 1e6,
});

async function dispatchKtimers(n) {
  const s = dispatcher(n);
  for (let i = 0; i < n; i++) { slots[i] = new k.timer_list(); k.timer_setup(slots[i], s.cb, 0); }
  settle();
  const exp = k.get_jiffies_64() + k.msecs_to_jiffies(LEAD_MS); // one expires for all: one bucket
  const a0 = now();
  for (let i = 0; i < n; i++) k.mod_timer(slots[i], exp);
  const a1 = now();
  await s.done;
  slots.fill(null);
  return dispatchResult(s, n, a0, a1, (exp - k.INITIAL_JIFFIES) * k.TICK_NSEC);
}

async function dispatchNode(n) {
  const s = dispatcher(n);
  settle();
  const a0 = now();
  for (let i = 0; i < n; i++) setTimeout(s.cb, LEAD_MS);
  const a1 = now();
  await s.done;
  return dispatchResult(s, n, a0, a1, a0 + BigInt(LEAD_MS) * 1_000_000n);
}

// --- 4: idle CPU --------------------------------------------------------------------------

// Voluntary context switches of the main thread: one per epoll wake-up, so it counts wake-ups.
const ctxSwitches = () => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);

async function idle(arm, disarm) {
  arm();
  settle(); // no GC work left over from arming to land in the idle window
  await sleep(100);
  const c0 = process.cpuUsage(), s0 = ctxSwitches(), w0 = now();
  await sleep(IDLE_MS);
  const c = process.cpuUsage(c0), s1 = ctxSwitches(), w1 = now();
  disarm();
  slots.fill(null);
  return { cpu_ms: (c.user + c.system) / 1000, wakeups: s1 - s0, wall_ms: Number(w1 - w0) / 1e6 };
}
const idleKtimers = (n) => idle(() => {
  const base = k.get_jiffies_64();
  for (let i = 0; i < n; i++) {
    const t = (slots[i] = new k.timer_list());
    k.timer_setup(t, noop, 0);
    k.mod_timer(t, base + jFar[i]);
  }
}, () => { for (let i = 0; i < n; i++) k.timer_delete(slots[i]); });
const idleNode = (n) => idle(() => { for (let i = 0; i < n; i++) slots[i] = setTimeout(noop, msFar[i]); },
  () => { for (let i = 0; i < n; i++) clearTimeout(slots[i]); });

// --- runs ------------------------------------------------------------------------------------

// Alternate who goes first so neither always inherits the other's heap state.
async function alternate(reps, fk, fn, log) {
  const kr = [], nr = [];
  for (let rep = 0; rep < reps; rep++) {
    if (rep % 2 === 0) { kr.push(await fk()); nr.push(await fn()); } else { nr.push(await fn()); kr.push(await fk()); }
    console.error(`  rep ${rep + 1}/${reps}: ${log(kr.at(-1), nr.at(-1))}`);
  }
  return [kr, nr];
}
const median = (runs, key) => {
  const v = runs.map((r) => r[key]).sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const medians = (runs) => Object.fromEntries(Object.keys(runs[0]).map((key) => [key, median(runs, key)]));
const f = (x, d = 1) => x.toFixed(d);
const met = (ok) => (ok ? 'met' : '**NOT met**');

// Warm-up: let every loop get optimised before the first measured rep. The first ops rep then
// runs ktimers first on an otherwise fresh process: the one that shows native memory growth.
const WARM = Math.min(COUNT, 20_000);
opsKtimers(WARM); await rearmCurrent(WARM); opsNode(WARM);
await dispatchKtimers(WARM); await dispatchNode(WARM);

console.error(`1+2. ops and memory, ${COUNT} timers, ${REPS} reps`);
const [kOps, nOps] = await alternate(REPS, async () => ({ ...opsKtimers(COUNT), rearm_cur: await rearmCurrent(COUNT) }), () => opsNode(COUNT),
  (a, b) => `ktimers arm ${f(a.arm, 0)} / mod ${f(a.rearm, 0)} (base ${a.rearm_behind ? 'behind' : 'current'}; current ${f(a.rearm_cur, 0)}) / del ${f(a.del, 0)} ns, ` +
    `node set ${f(b.set, 0)} / refresh ${f(b.refresh, 0)} / clear ${f(b.clear, 0)} ns`);
console.error(`3. same-jiffy dispatch, ${COUNT} timers, ${DREPS} reps`);
const [kDis, nDis] = await alternate(DREPS, () => dispatchKtimers(COUNT), () => dispatchNode(COUNT),
  (a, b) => `ktimers ${f(a.ns_per_cb)} ns/cb, node ${f(b.ns_per_cb)} ns/cb`);
console.error(`4. idle CPU, ${IDLE_COUNT} far-future timers, ${IDLE_MS} ms, ${DREPS} reps`);
const [kIdle, nIdle] = await alternate(DREPS, () => idleKtimers(IDLE_COUNT), () => idleNode(IDLE_COUNT),
  (a, b) => `ktimers ${f(a.cpu_ms)} ms CPU / ${a.wakeups} wake-ups, node ${f(b.cpu_ms)} ms / ${b.wakeups}`);
for (const r of [...kDis, ...nDis]) check('callbacks run', r.fired, COUNT);

const K = medians(kOps), N = medians(nOps), KD = medians(kDis), ND = medians(nDis), KI = medians(kIdle), NI = medians(nIdle);
const ratios = { arm: N.set / K.arm, rearm: N.refresh / K.rearm, del: N.clear / K.del, dispatch: ND.ns_per_cb / KD.ns_per_cb };
// Memory: the first rep for ktimers (fresh process: the wheel's slot vector and the JS
// slot -> timer array grow there and keep their size afterwards, so later reps under-count),
// the median for Node (a Timeout and its lists are ordinary garbage, the same every rep).
const kMem = kOps[0].heap_per_timer + Math.max(0, kOps[0].native_per_timer), nMem = N.heap_per_timer;
const memRatio = kMem / nMem, memRatioOne = kMem / N.heap_one_list;

console.log(`\ncount ${COUNT}, timeouts random 1 ms .. 1 h (whole ms), HZ ${k.HZ}, node ${process.version}, ` +
  `ktimers ${commit}, medians of ${REPS} alternating reps\n`);
console.log('| ns per op | ktimers timer_list | Node timers | Node / ktimers | target >= 3x |');
console.log('|---|---:|---:|---:|---|');
console.log(`| create + timer_setup | ${f(K.create_setup)} | - (inside setTimeout) | | |`);
console.log(`| arm: mod_timer on inactive / setTimeout | ${f(K.arm)} | ${f(N.set)} | ${f(ratios.arm, 2)}x | ${met(ratios.arm >= 3)} |`);
console.log(`| re-arm: mod_timer to a new timeout / refresh() (same delay) | ${f(K.rearm)} | ${f(N.refresh)} | ${f(ratios.rearm, 2)}x | ${met(ratios.rearm >= 3)} |`);
console.log(`| re-arm, bigint expires (\`base + delta\` allocates) / refresh() | ${f(K.rearm_big)} | ${f(N.refresh)} | ` +
  `${f(N.refresh / K.rearm_big, 2)}x | (context) |`);
console.log(`| re-arm, base current (a clock read per call) / refresh() | ${f(K.rearm_cur)} | ${f(N.refresh)} | ` +
  `${f(N.refresh / K.rearm_cur, 2)}x | (context) |`);
console.log(`| re-arm to a new timeout: mod_timer / clearTimeout + setTimeout | ${f(K.rearm)} | ${f(N.reset)} | ` +
  `${f(N.reset / K.rearm, 2)}x | (context) |`);
console.log(`| delete: timer_delete / clearTimeout | ${f(K.del)} | ${f(N.clear)} | ${f(ratios.del, 2)}x | ${met(ratios.del >= 3)} |`);
console.log(`| create + setup + arm + delete (one-shot) | ${f(K.create_setup + K.arm + K.del)} | ${f(N.set + N.clear)} | ` +
  `${f((N.set + N.clear) / (K.create_setup + K.arm + K.del), 2)}x | |`);
console.log(`\narm and re-arm pass \`now + delta\` as numbers (\`now = Number(jiffies)\`); the bigint row passes ` +
  `\`jiffies + delta\` (the bigint add alone: ${f(K.expr)} ns). refresh() keeps the timer's delay; mod_timer moves ` +
  `it to a new random timeout, the harder operation. The re-arm loop ran with the wheel base behind (its pass due ` +
  `while the loop kept JS busy: no clock read) in ${kOps.filter((r) => r.rearm_behind).length} of ${REPS} reps; the ` +
  `"base current" row reads the clock on every call.\n`);

console.log('| memory per pending timer (bytes) | ktimers timer_list | Node setTimeout |');
console.log('|---|---:|---:|');
console.log(`| JS heapUsed, object + pending (first rep) | ${f(kOps[0].heap_per_timer)} | ${f(nOps[0].heap_per_timer)} |`);
console.log(`| JS heapUsed, object + pending (median) | ${f(K.heap_per_timer)} | ${f(N.heap_per_timer)} |`);
console.log(`| JS heapUsed, arming alone (median) | ${f(K.heap_per_arm)} | - |`);
console.log(`| outside the JS heap: RSS − heapTotal growth (first rep) | ${f(kOps[0].native_per_timer)} | ${f(nOps[0].native_per_timer)} |`);
console.log(`| RSS growth (first rep) | ${f(kOps[0].rss_per_timer)} | ${f(nOps[0].rss_per_timer)} |`);
console.log(`| **total: heap + native** (ktimers first rep, Node median) | **${f(kMem)}** | **${f(nMem)}** |`);
console.log(`| Node Timeout alone: 1 M on one duration list, heapUsed (median) | | ${f(N.heap_one_list)} |`);
console.log(`\nktimers / Node memory: ${f(memRatio, 2)} vs Node with these timeouts, ${f(memRatioOne, 2)} vs a Timeout ` +
  `alone (target <= 0.5: ${met(memRatio <= 0.5)} / ${met(memRatioOne <= 0.5)})\n`);

console.log(`| ${COUNT} timers due in the same jiffy (now + ${LEAD_MS} ms), median of ${DREPS} | ktimers timer_list | Node setTimeout |`);
console.log('|---|---:|---:|');
console.log(`| ns per callback, first to last | ${f(KD.ns_per_cb)} | ${f(ND.ns_per_cb)} |`);
console.log(`| callbacks per second | ${f(KD.cb_per_s / 1e6, 2)} M | ${f(ND.cb_per_s / 1e6, 2)} M |`);
console.log(`| arm, ns per timer (same expiry) | ${f(KD.arm)} | ${f(ND.arm)} |`);
console.log(`| first callback after the due time, ms | ${f(KD.first_late_ms)} | ${f(ND.first_late_ms)} |`);
console.log(`| first callback after the arming loop ended, ms | ${f(KD.first_after_arm_ms)} | ${f(ND.first_after_arm_ms)} |`);
console.log(`\nNode / ktimers per callback: ${f(ratios.dispatch, 2)}x (target >= 3x: ${met(ratios.dispatch >= 3)})\n`);

console.log(`| ${IDLE_COUNT} pending timers, 1 min .. 1 h, over ${IDLE_MS} ms idle, median of ${DREPS} | ktimers timer_list | Node setTimeout |`);
console.log('|---|---:|---:|');
console.log(`| process CPU (user + system), ms | ${f(KI.cpu_ms)} | ${f(NI.cpu_ms)} |`);
console.log(`| main-thread wake-ups (voluntary context switches) | ${KI.wakeups} | ${NI.wakeups} |`);

fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', 'wheel.json'), JSON.stringify({
  date: new Date().toISOString(), count: COUNT, reps: REPS, dispatch_reps: DREPS, idle_count: IDLE_COUNT,
  idle_ms: IDLE_MS, hz: k.HZ, node: process.version,
  median: { ktimers: { ops: K, dispatch: KD, idle: KI }, node: { ops: N, dispatch: ND, idle: NI } },
  ratios, memory: { ktimers_bytes: kMem, node_bytes: nMem, ratio: memRatio, ratio_vs_one_list: memRatioOne }, commit,
  runs: { ktimers: { ops: kOps, dispatch: kDis, idle: kIdle }, node: { ops: nOps, dispatch: nDis, idle: nIdle } },
}, null, 2) + '\n');
console.log(`\nraw results: ${path.relative(process.cwd(), path.join(here, 'results', 'wheel.json'))}`);
