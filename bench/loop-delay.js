// bench/loop-delay.js — ktimers' monitorEventLoopDelay beside Node's, on loops with a known block.
//
//   node bench/loop-delay.js [--duration 3000] [--rounds 3] [--json out.json]
//
// Workloads (each a setTimeout-driven synchronous spin of exactly B us every E ms; the spins'
// own measured lengths are the truth, since preemption by other processes lengthens a block):
//   block-5ms   B = 5000 us every 100 ms      block-200us   B = 200 us every 2 ms      idle
//   empty-100ms and empty-2ms: the same timers with B = 0, so the list's "block" is what one such
//   loop iteration costs by itself (the timer's processing, the re-arm, the rest of the iteration):
//   the part of a listed block that is not the spin.
// Monitors: Node's monitorEventLoopDelay at resolution 1 and 10, ktimers' at its default period
// (10 ms, Node's default resolution), the same with countWakeup (the raw lateness, the OS's
// wake-up latency included), and at 1 ms. Each round runs every (workload, monitor) pair
// for --duration ms, one monitor at a time, in an order that rotates between rounds, so all see
// the same mix of quiet and busy moments on a shared machine.
// Per pair, medians over rounds of: p50, p99 and max of the samples (us); max - true longest
// block (us: how far the monitor's worst figure overstates the real block); for ktimers, its
// longest loop block - the true longest block (us), and for each block in its list (the 10
// longest) the block minus the spin it contains, the largest of them (us: "list error"); and the
// process's CPU time per second with
// the monitor enabled on an idle loop minus that with no monitor (us of CPU per s), interleaved.
import { monitorEventLoopDelay as nodeMonitor } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { execSync } from 'node:child_process';
import { monitorEventLoopDelay, ms } from '../dist/index.js';

const { values: a } = parseArgs({ options: { duration: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '3' }, json: { type: 'string' } } });
const D = Number(a.duration);
const R = Number(a.rounds);
const sleep = (t) => new Promise((r) => setTimeout(r, t));

const workloads = {
  'block-5ms': { B: 5000, E: 100 },
  'block-200us': { B: 200, E: 2 },
  'empty-100ms': { B: 0, E: 100 },
  'empty-2ms': { B: 0, E: 2 },
  idle: null,
};
const monitors = {
  'node res 1': () => nodeMonitor({ resolution: 1 }),
  'node res 10': () => nodeMonitor({ resolution: 10 }),
  'ktimers 10ms': () => monitorEventLoopDelay(),
  'ktimers 10ms countWakeup': () => monitorEventLoopDelay({ countWakeup: true }),
  'ktimers 1ms': () => monitorEventLoopDelay({ period: ms(1) }),
};

async function run(wl, make) {
  const m = make();
  let trueMax = 0;
  let iv = null;
  const spins = [];
  m.enable();
  if (wl) {
    iv = setInterval(() => {
      const t = process.hrtime.bigint();
      const until = t + BigInt(wl.B * 1000);
      let n;
      while ((n = process.hrtime.bigint()) < until);
      trueMax = Math.max(trueMax, Number(n - t) / 1000);
      spins.push(t, n);
    }, wl.E);
  }
  await sleep(D);
  if (iv) clearInterval(iv);
  const blocks = typeof m.blocks === 'function' ? m.blocks() : null;
  m.disable();
  // Each listed block against the spin that lies inside it.
  let listErr = null;
  if (wl && blocks) {
    for (const b of blocks) {
      const start = b.endNs - BigInt(Math.round(b.durationNs));
      for (let i = 0; i < spins.length; i += 2) {
        if (spins[i] >= start && spins[i + 1] <= b.endNs) {
          listErr = Math.max(listErr ?? -Infinity, b.durationNs / 1000 - Number(spins[i + 1] - spins[i]) / 1000);
          break;
        }
      }
    }
  }
  return {
    p50: m.percentile(50) / 1000,
    p99: m.percentile(99) / 1000,
    max: m.max / 1000,
    over: wl ? m.max / 1000 - trueMax : null,
    blockErr: wl && blocks ? blocks[0].durationNs / 1000 - trueMax : null,
    listErr,
  };
}

async function cpuCost(make) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const m = make?.();
  m?.enable();
  await sleep(D);
  m?.disable();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const med = (xs) => {
  const s = xs.filter((x) => x !== null).sort((p, q) => p - q);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
const res = {};
const cpu = {};
const names = Object.keys(monitors);
for (let r = 0; r < R; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]);
  for (const [wn, wl] of Object.entries(workloads)) {
    for (const mn of order) {
      (res[`${wn} | ${mn}`] ??= []).push(await run(wl, monitors[mn]));
    }
  }
  for (const mn of ['none', ...order]) (cpu[mn] ??= []).push(await cpuCost(monitors[mn]));
  process.stderr.write(`round ${r + 1}/${R} done\n`);
}
const rows = [];
for (const [k, v] of Object.entries(res)) {
  const f = (key) => med(v.map((x) => x[key]));
  rows.push({ pair: k, p50_us: f('p50'), p99_us: f('p99'), max_us: f('max'), max_minus_true_block_us: f('over'), longest_block_minus_true_us: f('blockErr'), list_error_us: f('listErr') });
}
const none = med(cpu.none);
const cpuRows = names.map((mn) => ({ monitor: mn, cpu_us_per_s_over_none: med(cpu[mn].map((x, i) => x - cpu.none[i])) }));
const fmt = (x) => (x === null ? '-' : x.toFixed(1));
console.log(`| workload | monitor | p50 us | p99 us | max us | max − true block us | longest block − true us | list error us |`);
console.log(`|---|---|---:|---:|---:|---:|---:|---:|`);
for (const r of rows) {
  const [w, m] = r.pair.split(' | ');
  console.log(`| ${w} | ${m} | ${fmt(r.p50_us)} | ${fmt(r.p99_us)} | ${fmt(r.max_us)} | ${fmt(r.max_minus_true_block_us)} | ${fmt(r.longest_block_minus_true_us)} | ${fmt(r.list_error_us)} |`);
}
console.log(`\nCPU on an idle loop (no monitor: ${fmt(none)} us/s):`);
for (const r of cpuRows) console.log(`  ${r.monitor}: +${fmt(r.cpu_us_per_s_over_none)} us of CPU per s`);
const meta = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, load: os.loadavg(), commit: (() => { try { return execSync('git rev-parse --short HEAD').toString().trim(); } catch { return null; } })(), duration_ms: D, rounds: R };
console.log(`\n${JSON.stringify(meta)}`);
if (a.json) writeFileSync(a.json, JSON.stringify({ meta, rows, cpu: cpuRows }, null, 2));
