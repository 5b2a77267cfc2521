// bench/workqueue.js — the workqueue pool against piscina, same thread count, same process.
//
//   node bench/workqueue.js [--items 100000] [--reps 5] [--samples 1000] [--threads N]
//
// 1. Queue-to-start latency from an idle pool: one item at a time, the pool idle for 2 ms
//    before each (its workers asleep in Atomics.wait), SAMPLES per pool in alternating
//    blocks of 50. The item records process.hrtime at its start in a shared Float64Array;
//    latency = start − the hrtime read just before queue_work / run(). p50 / p90 / p99 / max.
//    Measured first, on warm pools, before the throughput runs leave garbage behind.
// 2. Throughput: ITEMS tiny work items (a function that does nothing, no data) through
//    queue_work on an unbound queue (alloc_workqueue(WQ_UNBOUND, 0): max_active 1024), then
//    flush_workqueue; the same count through piscina's run() (Promise.all). Items/s from the
//    first queueing to the last completion. Reps alternate which pool goes first; medians.
//    Then the same with a small object `{ i }` as each item's data (the message path).
// Both pools have THREADS workers (default: availableParallelism(); ktimers through
// KTIMERS_WQ_THREADS, piscina through min/maxThreads), started and warmed up before anything
// is measured. Raw numbers go to bench/results/workqueue-<time>.json.
import { availableParallelism, loadavg } from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    items: { type: 'string', default: '100000' }, reps: { type: 'string', default: '5' },
    samples: { type: 'string', default: '1000' }, threads: { type: 'string', default: String(availableParallelism()) },
  },
});
const ITEMS = Number(opt.items), REPS = Number(opt.reps), SAMPLES = Number(opt.samples), THREADS = Number(opt.threads);
process.env.KTIMERS_WQ_THREADS = String(THREADS); // read when the pool starts its first worker

const k = await import('../dist/index.js');
const { Piscina } = await import('piscina');
const git = (...a) => spawnSync('git', a, { cwd: here, encoding: 'utf8' }).stdout?.trim() ?? '';
const commit = (git('rev-parse', '--short', 'HEAD') || 'unknown') + (git('status', '--porcelain', '--', '../lib', '../native') ? ' (lib/native modified)' : '');

const taskURL = new URL('./workqueue-task.mjs', import.meta.url);
const stampsSab = new SharedArrayBuffer(8);
const stamps = new Float64Array(stampsSab);
const now = () => Number(process.hrtime.bigint());

// --- the two pools, started and warm -------------------------------------------------
const wq = k.alloc_workqueue('bench', k.WQ_UNBOUND, 0);
const piscina = new Piscina({ filename: taskURL.href, minThreads: THREADS, maxThreads: THREADS, idleTimeout: 60_000, workerData: { stamps: stampsSab } });

const itemsFor = (name, n) => Array.from({ length: n }, () => k.DECLARE_WORK({ module: taskURL, name }));
// Every worker of the ktimers pool gets the stamps buffer: one data item per worker, while
// each is held busy so the next one goes elsewhere (the pool grows to THREADS on demand).
{
  const inits = Array.from({ length: THREADS * 4 }, () => {
    const w = k.DECLARE_WORK({ module: taskURL, name: 'init' });
    w.data = stampsSab;
    return w;
  });
  for (let round = 0; round < 20; round++) {
    for (const w of inits) k.queue_work(wq, w);
    await k.flush_workqueue(wq);
    const burst = itemsFor('tiny', 20_000);
    for (const w of burst) k.queue_work(wq, w);
    await k.flush_workqueue(wq);
    await Promise.all(Array.from({ length: 20_000 }, () => piscina.run(0)));
  }
}

// --- 1. latency from idle (measured first, on the warm pools: no garbage of the throughput runs) -------------------------------------------------------------
const stampItem = k.DECLARE_WORK({ module: taskURL, name: 'stamp' });
const lat = { ktimers: [], piscina: [] };
for (let done = 0; done < SAMPLES; done += 50) {
  for (const which of done % 100 === 0 ? ['ktimers', 'piscina'] : ['piscina', 'ktimers']) {
    for (let i = 0; i < 50; i++) {
      await sleep(2);
      stamps[0] = 0;
      if (which === 'ktimers') {
        const t0 = now();
        k.queue_work(wq, stampItem);
        await k.flush_work(stampItem);
        if (stamps[0] > 0) lat.ktimers.push((stamps[0] - t0) / 1000);
      } else {
        const t0 = now();
        await piscina.run(1);
        lat.piscina.push((stamps[0] - t0) / 1000);
      }
    }
  }
}

// --- 2. throughput -------------------------------------------------------------------
async function runKtimers() {
  const ws = itemsFor('tiny', ITEMS); // made outside the timed region, as piscina's tasks need nothing made
  const t0 = now();
  for (const w of ws) k.queue_work(wq, w);
  await k.flush_workqueue(wq);
  return (ITEMS / (now() - t0)) * 1e9;
}
// With data: each item carries a small object (structured clone, one message per item).
async function runKtimersData() {
  const ws = itemsFor('tiny', ITEMS);
  for (let i = 0; i < ITEMS; i++) ws[i].data = { i };
  const t0 = now();
  for (const w of ws) k.queue_work(wq, w);
  await k.flush_workqueue(wq);
  return (ITEMS / (now() - t0)) * 1e9;
}
async function runPiscinaData() {
  const t0 = now();
  const ps = new Array(ITEMS);
  for (let i = 0; i < ITEMS; i++) ps[i] = piscina.run({ i });
  await Promise.all(ps);
  return (ITEMS / (now() - t0)) * 1e9;
}
async function runPiscina() {
  const t0 = now();
  const ps = new Array(ITEMS);
  for (let i = 0; i < ITEMS; i++) ps[i] = piscina.run(0);
  await Promise.all(ps);
  return (ITEMS / (now() - t0)) * 1e9;
}
const tput = { ktimers: [], piscina: [], ktimersData: [], piscinaData: [] };
const runs = { ktimers: runKtimers, piscina: runPiscina, ktimersData: runKtimersData, piscinaData: runPiscinaData };
for (let r = 0; r < REPS; r++) {
  const order = r % 2 === 0 ? ['ktimers', 'piscina', 'ktimersData', 'piscinaData'] : ['piscinaData', 'ktimersData', 'piscina', 'ktimers'];
  for (const which of order) {
    tput[which].push(await runs[which]());
    await sleep(100);
  }
}

await k.destroy_workqueue(wq);
await piscina.destroy();

// --- report ---------------------------------------------------------------------------
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
const f0 = (x) => Math.round(x).toLocaleString('en-US');
const f1 = (x) => x.toFixed(1);
const row = (name) => ({
  itemsPerSec: median(tput[name]), reps: tput[name].map(Math.round),
  p50: pct(lat[name], 0.5), p90: pct(lat[name], 0.9), p99: pct(lat[name], 0.99), max: Math.max(...lat[name]),
});
const K = row('ktimers'), P = row('piscina');
console.log(`workqueue vs piscina ${Piscina.version ?? ''}: ${THREADS} threads, ${ITEMS.toLocaleString('en-US')} tiny items x ${REPS} reps, ${SAMPLES} idle-latency samples each (commit ${commit}, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
console.log('');
console.log('| | ktimers queue_work | piscina run() | ratio |');
console.log('|---|---:|---:|---:|');
console.log(`| items/s (median of ${REPS}) | ${f0(K.itemsPerSec)} | ${f0(P.itemsPerSec)} | ${(K.itemsPerSec / P.itemsPerSec).toFixed(2)}x |`);
const KD = median(tput.ktimersData), PD = median(tput.piscinaData);
console.log(`| items/s, each with data \`{ i }\` (median of ${REPS}) | ${f0(KD)} | ${f0(PD)} | ${(KD / PD).toFixed(2)}x |`);
console.log(`| queue-to-start from idle, p50 us | ${f1(K.p50)} | ${f1(P.p50)} | ${(P.p50 / K.p50).toFixed(2)}x |`);
console.log(`| queue-to-start from idle, p90 us | ${f1(K.p90)} | ${f1(P.p90)} | ${(P.p90 / K.p90).toFixed(2)}x |`);
console.log(`| queue-to-start from idle, p99 us | ${f1(K.p99)} | ${f1(P.p99)} | ${(P.p99 / K.p99).toFixed(2)}x |`);
console.log(`| queue-to-start from idle, max us | ${f1(K.max)} | ${f1(P.max)} | |`);
console.log('');
console.log(`reps, items/s: ktimers ${K.reps.join(', ')}; piscina ${P.reps.join(', ')}`);
console.log(`reps with data, items/s: ktimers ${tput.ktimersData.map(Math.round).join(', ')}; piscina ${tput.piscinaData.map(Math.round).join(', ')}`);
const target = K.itemsPerSec >= 2 * P.itemsPerSec && K.p50 <= P.p50 && K.p99 <= P.p99;
console.log(`target (2x throughput, latency no worse): ${target ? 'met' : 'NOT met'}`);
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results', `workqueue-${Date.now()}.json`),
  JSON.stringify({ commit, node: process.version, threads: THREADS, items: ITEMS, reps: REPS, ktimers: { ...K, lat: lat.ktimers, withData: tput.ktimersData }, piscina: { ...P, lat: lat.piscina, withData: tput.piscinaData } }));
