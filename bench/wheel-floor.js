// bench/wheel-floor.js — how fast can ANY timer wheel re-arm 1,000,000 timers from JS here?
//
//   node bench/wheel-floor.js [--count 1000000] [--reps 5]
//
// The timer_list issue asks for mod_timer re-arm at 3x Node's Timeout#refresh(). This measures
// the floor of a re-arm in this runtime: a bare wheel written inline in JS (typed-array
// buckets and links, the kernel's level/bucket arithmetic, HZ = 1000) with NO argument
// validation, NO clock read, NO ref counting and NO N-API crossing — i.e. only the memory
// traffic a re-arm cannot avoid: touch the timer object, convert its bigint expiry, unlink
// from the old bucket, link into the new one. Against refresh() on as many Timeouts, in the
// same process, alternating order, medians. If the floor itself is not 3x faster than
// refresh(), no implementation of mod_timer can be.
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({ options: { count: { type: 'string', default: '1000000' }, reps: { type: 'string', default: '5' } } });
const N = Number(opt.count);
const REPS = Number(opt.reps);

const LVL_DEPTH = 9;
const next = new Int32Array(N);
const prev = new Int32Array(N);
const idxOf = new Int16Array(N);
const heads = new Int32Array(64 * LVL_DEPTH);
const pending = new Uint32Array((64 * LVL_DEPTH) / 32);
const clk = 1_000_000; // the wheel's jiffy: fixed (no clock read)

// calc_wheel_index() of kernel/time/timer.c (LVL_CLK_SHIFT 3, LVL_BITS 6), on numbers, with the
// level limits and granularities precomputed so the floor is as low as JS allows.
const LIMIT = Float64Array.from({ length: LVL_DEPTH }, (_, l) => 63 * 8 ** l + 8 ** l - 1);
const GRAN = Float64Array.from({ length: LVL_DEPTH }, (_, l) => 8 ** l);
function calcIndex(expires) {
  const delta = expires - clk;
  if (delta < 63) return expires & 63; // level 0 (expires > clk here)
  let lvl = 1;
  while (lvl < LVL_DEPTH - 1 && delta >= LIMIT[lvl]) lvl++;
  const g = GRAN[lvl];
  return lvl * 64 + (((expires + g - 1) / g) & 63); // | 0 truncates: expires < 2^31 here
}

class Bare {
  constructor() {
    this.expires = 0n;
    this.slot = 0;
  }
}

// The same with what every real mod_timer must add: the bigint range check of `expires` and a
// clock read to forward the wheel's clk to jiffies (forward_timer_base). performance.now() is the
// cheapest monotonic clock JS has (~45 ns here; an N-API clock_gettime call costs the same).
const U64_MAX = (1n << 64n) - 1n;
let fwdClk = 0;
function rearmChecked(t, expires) {
  if (typeof expires !== 'bigint' || expires < 0n || expires > U64_MAX) throw new TypeError('expires');
  const jnow = Math.floor(performance.now()); // HZ = 1000
  if (jnow > fwdClk) fwdClk = jnow;
  rearm(t, expires);
}

function rearm(t, expires) {
  const s = t.slot;
  const idx = calcIndex(Number(expires));
  const old = idxOf[s];
  if (old !== idx) {
    if (old >= 0) {
      const p = prev[s];
      const n = next[s];
      if (p >= 0) next[p] = n;
      else heads[old] = n;
      if (n >= 0) prev[n] = p;
    }
    const h = heads[idx];
    next[s] = h;
    prev[s] = -1;
    if (h >= 0) prev[h] = s;
    heads[idx] = s;
    idxOf[s] = idx;
    pending[idx >> 5] |= 1 << (idx & 31);
  }
  t.expires = expires;
}

const rnd = () => 1 + Math.floor(Math.random() * 3_600_000); // 1 ms .. 1 h, in ms = jiffies
const msA = Array.from({ length: N }, rnd);
const msB = Array.from({ length: N }, rnd);
const jA = msA.map((m) => BigInt(clk + m));
const jB = msB.map((m) => BigInt(clk + m));
const bare = Array.from({ length: N }, (_, i) => Object.assign(new Bare(), { slot: i }));
const noop = () => {};

function wheelRun(op) {
  idxOf.fill(-1);
  heads.fill(-1);
  for (let i = 0; i < N; i++) op(bare[i], jA[i]);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) op(bare[i], jB[i]);
  return Number(process.hrtime.bigint() - t0) / N;
}

function refreshRun() {
  const tm = new Array(N);
  for (let i = 0; i < N; i++) tm[i] = setTimeout(noop, msA[i]);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) tm[i].refresh();
  const dt = Number(process.hrtime.bigint() - t0) / N;
  for (let i = 0; i < N; i++) clearTimeout(tm[i]);
  return dt;
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const w = [];
const c = [];
const r = [];
for (let rep = 0; rep < REPS; rep++) {
  const runs = [() => w.push(wheelRun(rearm)), () => c.push(wheelRun(rearmChecked)), () => r.push(refreshRun())];
  if (rep % 2) runs.reverse();
  for (const run of runs) run();
}
const mw = median(w);
const mc = median(c);
const mr = median(r);
console.log(`re-arm ${N} timers to random 1 ms .. 1 h timeouts, medians of ${REPS} alternating reps (ns per op):`);
console.log(`  bare JS wheel (no validation, no clock read, no N-API):  ${mw.toFixed(0)}  (${(mr / mw).toFixed(2)}x refresh)`);
console.log(`  + expires range check + clock read (the unavoidable):   ${mc.toFixed(0)}  (${(mr / mc).toFixed(2)}x refresh)`);
console.log(`  Node Timeout#refresh():                                  ${mr.toFixed(0)}`);
console.log(`  3x refresh() needs <= ${(mr / 3).toFixed(0)} ns per re-arm`);
