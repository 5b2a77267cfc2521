// bench/delivery/run.js — uv_poll (A) vs native thread + thread-safe function (B): how late does a
// timerfd expiry reach JavaScript, and how many ticks are lost, on an idle and on a busy JS thread?
//
//   cd bench/delivery && npx node-gyp rebuild && node run.js [--duration 5] [--warmup 0.5]
//                                   [--intervals 1000,100] [--burn-us 300] [--loads idle,busy] [--no-fifo]
//
// Every (interval, load, path) runs in its own child process (this file with --child), one after
// the other so they never compete for the CPUs, under `chrt -f 99` when allowed, while this parent
// holds /dev/cpu_dma_latency at 0. Prints a markdown table; raw numbers go to results.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createHistogram, performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    path: { type: 'string' }, load: { type: 'string' }, 'interval-us': { type: 'string' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '0.5' },
    intervals: { type: 'string', default: '1000,100' },
    'burn-us': { type: 'string', default: '300' },
    loads: { type: 'string', default: 'idle,busy' },
    // SCHED_OTHER on purpose: a SCHED_FIFO thread that never sleeps (the busy load) is stopped
    // by the kernel's RT throttling for 50 ms of every second; this shows the load without that.
    'no-fifo': { type: 'boolean', default: false },
  },
});
const DURATION = Number(opt.duration);
const WARMUP = Number(opt.warmup);
const BURN_US = Number(opt['burn-us']);

// --- child: one measurement ---------------------------------------------------------------

function child() {
  const proto = createRequire(import.meta.url)('./build/Release/delivery_proto.node');
  const intervalNs = BigInt(Number(opt['interval-us']) * 1000);
  const [start, stop] = opt.path === 'poll' ? [proto.startPoll, proto.stopPoll] : [proto.startThread, proto.stopThread];
  // Nanoseconds in; perf_hooks histograms only take integers >= 1 (a 0 ns delivery cannot
  // happen: two clock reads are never equal at this resolution, but clamp anyway).
  const hist = { late: createHistogram(), wake: createHistogram(), deliv: createHistogram() };
  let measuring = false, ticks = 0, lost = 0n, backlogged = 0, maxBacklog = 0, prevExp = 0n;

  start(intervalNs, (exp, wake, backlog) => {
    const now = process.hrtime.bigint(); // CLOCK_MONOTONIC, first thing in JS
    // Ticks between two consecutive expiries that JS never saw: the same count for both paths
    // (A skips them when it re-arms after a late callback; B's read() returns a count > 1).
    const skipped = prevExp === 0n ? 0n : (exp - prevExp) / intervalNs - 1n;
    prevExp = exp;
    if (!measuring) return;
    ticks++;
    lost += skipped;
    if (backlog > 0) backlogged++;
    if (backlog > maxBacklog) maxBacklog = backlog;
    hist.late.record(now - exp > 0n ? now - exp : 1n);
    hist.wake.record(wake - exp > 0n ? wake - exp : 1n);
    hist.deliv.record(now - wake > 0n ? now - wake : 1n);
  });

  // The busy load: a setImmediate loop burning BURN_US of synchronous JS per iteration. The JS
  // thread never sleeps (pending immediates make libuv poll with a zero timeout), so an expiry
  // waits for the end of the current burn, whichever path delivers it.
  let loadOn = opt.load === 'busy';
  const burn = () => {
    if (!loadOn) return;
    // performance.now(), not hrtime.bigint(): the load must burn CPU, not make garbage (GC).
    const end = performance.now() + BURN_US / 1000;
    while (performance.now() < end);
    setImmediate(burn);
  };
  burn();

  let cpu0, t0;
  setTimeout(() => { measuring = true; cpu0 = process.cpuUsage(); t0 = process.hrtime.bigint(); }, WARMUP * 1000);
  setTimeout(() => {
    measuring = false;
    const cpu = process.cpuUsage(cpu0);
    const wall = Number(process.hrtime.bigint() - t0) / 1e3; // us
    stop();
    loadOn = false;
    const pct = (h) => ({
      p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), p999: h.percentile(99.9),
      max: h.max, min: h.min, mean: Math.round(h.mean),
    });
    process.stdout.write(JSON.stringify({
      path: opt.path, load: opt.load, interval_us: Number(opt['interval-us']), duration_s: DURATION,
      expected: Math.round(wall / Number(opt['interval-us'])), ticks, lost: Number(lost),
      backlogged, max_backlog: maxBacklog, cpu_percent: +(((cpu.user + cpu.system) / wall) * 100).toFixed(1),
      sched: spawnSync('chrt', ['-p', String(process.pid)], { encoding: 'utf8' }).stdout.replace(/.*policy: /s, '').split('\n')[0],
      lateness_ns: pct(hist.late), wake_ns: pct(hist.wake), delivery_ns: pct(hist.deliv),
    }) + '\n');
  }, (WARMUP + DURATION) * 1000);
}

// --- parent: conditions, runs, table -------------------------------------------------------

// Keep the CPUs out of deep idle states for the whole run, as cyclictest does: the request holds
// while the fd stays open, so it is never closed (the process exit releases it).
function holdDmaLatency() {
  try {
    const fd = fs.openSync('/dev/cpu_dma_latency', 'r+');
    fs.writeSync(fd, Buffer.from(new Int32Array([0]).buffer));
    return { held: true, fd };
  } catch (e) {
    return { held: false, why: `${e.code || ''} ${e.message}`.trim() };
  }
}

// SCHED_FIFO 99 only if chrt can really do it here (containers and non-root often cannot).
function checkFifo() {
  const r = spawnSync('chrt', ['-f', '99', process.execPath, '-e', ''], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: r.error.message };
  return r.status === 0 ? { ok: true } : { ok: false, why: (r.stderr || '').trim() || `exit ${r.status}` };
}

function runChild(p, load, intervalUs, fifo) {
  const args = [fileURLToPath(import.meta.url), '--child', '--path', p, '--load', load, '--interval-us', String(intervalUs),
    '--duration', String(DURATION), '--warmup', String(WARMUP), '--burn-us', String(BURN_US)];
  const [cmd, argv] = fifo ? ['chrt', ['-f', '99', process.execPath, ...args]] : [process.execPath, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: (WARMUP + DURATION + 30) * 1000 });
  try {
    return JSON.parse((r.stdout || '').trim().split('\n').pop());
  } catch {
    return { path: p, load, interval_us: intervalUs, error: `exit ${r.status} ${r.signal || ''} ${(r.stderr || '').trim().slice(-300)}` };
  }
}

const us = (ns) => (ns == null ? '–' : ns >= 1e6 ? (ns / 1e3).toFixed(0) : (ns / 1e3).toFixed(1));
const NAME = { poll: 'A uv_poll', thread: 'B thread+TSFN' };

function table(rows) {
  const out = [
    '| interval | JS thread | path | ticks | lost | backlogged | p50 | p90 | p99 | p99.9 | max | wake p50 | wake p99 | delivery p50 | delivery p99 | CPU % |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.error) { out.push(`| ${r.interval_us} us | ${r.load} | ${NAME[r.path]} | error: ${r.error} |`); continue; }
    const L = r.lateness_ns;
    const backlog = r.path === 'poll' ? '–' : `${r.backlogged} (max ${r.max_backlog})`;
    out.push(`| ${r.interval_us} us | ${r.load} | ${NAME[r.path]} | ${r.ticks} | ${r.lost} | ${backlog} | ${us(L.p50)} | ${us(L.p90)} | ` +
      `${us(L.p99)} | ${us(L.p999)} | ${us(L.max)} | ${us(r.wake_ns.p50)} | ${us(r.wake_ns.p99)} | ` +
      `${us(r.delivery_ns.p50)} | ${us(r.delivery_ns.p99)} | ${r.cpu_percent} |`);
  }
  return out.join('\n');
}

function parent() {
  if (!fs.existsSync(path.join(here, 'build/Release/delivery_proto.node'))) {
    console.error('build the addon first: cd bench/delivery && npx node-gyp rebuild');
    process.exit(1);
  }
  const dma = holdDmaLatency();
  const fifo = opt['no-fifo'] ? { ok: false, why: '--no-fifo' } : checkFifo();
  const read = (f) => { try { return fs.readFileSync(f, 'utf8').trim(); } catch { return 'unknown'; } };
  const conditions = {
    node: process.version, kernel: os.release(), cpu: os.cpus()[0]?.model, cpus: os.cpus().length,
    clocksource: read('/sys/devices/system/clocksource/clocksource0/current_clocksource'),
    sched: fifo.ok ? 'SCHED_FIFO 99 (chrt -f 99)' : `SCHED_OTHER (${fifo.why})`,
    cpu_dma_latency: dma.held ? 'held at 0' : `not held (${dma.why})`,
    duration_s: DURATION, warmup_s: WARMUP, busy_burn_us: BURN_US,
  };
  console.error(`conditions: ${JSON.stringify(conditions)}`);
  const rows = [];
  for (const intervalUs of opt.intervals.split(',').map(Number)) {
    for (const load of opt.loads.split(',')) {
      for (const p of ['poll', 'thread']) {
        console.error(`running ${intervalUs} us, ${load}, ${NAME[p]} ...`);
        rows.push(runChild(p, load, intervalUs, fifo.ok));
      }
    }
  }
  console.log(table(rows));
  console.log(`\n${conditions.cpus} CPUs (${conditions.cpu}), kernel ${conditions.kernel}, clocksource ${conditions.clocksource}, ` +
    `Node ${conditions.node}; ${conditions.sched}; /dev/cpu_dma_latency ${conditions.cpu_dma_latency}; ` +
    `${DURATION} s per row after ${WARMUP} s warm-up; busy = setImmediate loop burning ${BURN_US} us per iteration.`);
  const out = opt['no-fifo'] ? 'results-no-fifo.json' : 'results.json';
  fs.writeFileSync(path.join(here, out), JSON.stringify({ conditions, rows }, null, 2) + '\n');
}

if (opt.child) child(); else parent();
