// bench/latency.js — periodic timer lateness: cyclictest vs ktimers hrtimer vs setTimeout/setInterval.
//
//   node bench/latency.js [--duration 10] [--intervals 1000,100]
//
// For each interval (us) it runs, one after the other under the same conditions:
//   cyclictest  — the kernel's own floor for a sleeping thread (rt-tests), from its histogram;
//   hrtimer     — a ktimers periodic hrtimer (forward_now + HRTIMER_RESTART), in a child process;
//   setTimeout  — a chain re-armed for absolute deadlines, in a child process;
//   setInterval — for its drift over the run, in a child process.
// Prints one markdown table and a conditions line; raw results go to bench/results/latency.json.
// Measurements are sequential (never two at once) so they do not compete for the 2 cores.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HIST_US, findCyclictest, runCyclictest as runCyclictest_ } from './rt-tests.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    intervals: { type: 'string', default: '1000,100' },
  },
});
const DURATION = Number(opt.duration);
const INTERVALS = opt.intervals.split(',').map(Number);

// --- conditions ---------------------------------------------------------------------------

// Hold /dev/cpu_dma_latency at 0 for the whole run, as cyclictest does for itself: it keeps
// the CPUs out of deep idle states, whose exit latency would otherwise land on every wake.
// The request lasts as long as the fd is open, so the fd is kept until the process exits.
function holdDmaLatency() {
  const dev = '/dev/cpu_dma_latency';
  try {
    const fd = fs.openSync(dev, 'r+');
    fs.writeSync(fd, Buffer.from(new Int32Array([0]).buffer));
    // Read the effective value back through a second fd (the first one's offset is past the write).
    const rfd = fs.openSync(dev, 'r');
    const b = Buffer.alloc(4);
    fs.readSync(rfd, b, 0, 4, null);
    fs.closeSync(rfd);
    return { held: true, fd, effective_us: b.readInt32LE(0) };
  } catch (e) {
    return { held: false, why: `${e.code || ''} ${e.message}`.trim() };
  }
}

// SCHED_FIFO 99 for the Node children if chrt can actually do it here (containers often cannot).
function checkFifo() {
  const r = spawnSync('chrt', ['-f', '99', process.execPath, '-e', ''], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: r.error.message };
  if (r.status !== 0) return { ok: false, why: (r.stderr || '').trim() || `exit ${r.status}` };
  return { ok: true };
}

const readTrim = (f) => { try { return fs.readFileSync(f, 'utf8').trim(); } catch { return 'unknown'; } };

// --- cyclictest (bench/rt-tests.js) ----------------------------------------------------------

function runCyclictest(bin, intervalUs) {
  const res = runCyclictest_(bin, intervalUs, Math.max(1, Math.round((DURATION * 1e6) / intervalUs)));
  if (res.error) return res;
  const { buckets, ...rest } = res; // the raw histogram stays out of latency.json
  return { ...rest, duration_s: DURATION };
}

// --- Node children --------------------------------------------------------------------------

function runChild(api, intervalUs, fifo) {
  const child = [path.join(here, 'latency-child.js'), '--api', api, '--interval-us', String(intervalUs), '--duration', String(DURATION)];
  const [cmd, args] = fifo ? ['chrt', ['-f', '99', process.execPath, ...child]] : [process.execPath, child];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: (DURATION + 60) * 1000 });
  const line = (r.stdout || '').trim().split('\n').pop();
  try {
    const res = JSON.parse(line);
    if (r.status !== 0 && !res.error) res.error = `exit ${r.status}`;
    return res;
  } catch {
    // Keep the informative stderr lines (drop blanks and Node's trailing version banner).
    const err = (r.stderr || r.error?.message || '').split('\n').map((l) => l.trim())
      .filter((l) => l && !/^Node\.js v/.test(l)).slice(-4).join(' / ');
    return { api, interval_us: intervalUs, error: `exit ${r.status}${r.signal ? ' ' + r.signal : ''}: ${err.slice(0, 400)}` };
  }
}

// --- main -----------------------------------------------------------------------------------

const dma = holdDmaLatency();
const fifo = checkFifo();
const cyc = findCyclictest();
const conditions = {
  dma_latency: dma.held ? `held at 0 (effective ${dma.effective_us} us)` : `not held: ${dma.why}`,
  sched_fifo: fifo.ok ? 'node children under chrt -f 99' : `no (chrt -f 99 failed: ${fifo.why}); node children run SCHED_OTHER`,
  cyclictest: cyc.path ? `${cyc.path} (-m mlockall, SCHED_FIFO 99, its own cpu_dma_latency 0)` : `not run: ${cyc.why}`,
  kernel: `${os.type()} ${os.release()}`,
  clocksource: readTrim('/sys/devices/system/clocksource/clocksource0/current_clocksource'),
  cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
  node: process.version,
  duration_s: DURATION,
  note: 'node children are not mlockall()ed; first 100 samples of each node run are discarded as warm-up',
};
if (!fifo.ok) console.error(`SCHED_FIFO unavailable (${fifo.why}): node measurements run without it`);
if (!cyc.path) console.error(`cyclictest unavailable: ${cyc.why}`);

const runs = [];
for (const us of INTERVALS) {
  const order = ['cyclictest', 'hrtimer', 'setTimeout', 'setInterval'];
  for (const api of order) {
    if (api === 'cyclictest' && !cyc.path) continue;
    console.error(`running ${api} @ ${us} us for ${DURATION} s ...`);
    const res = api === 'cyclictest' ? runCyclictest(cyc.path, us) : runChild(api, us, fifo.ok);
    if (res.error) console.error(`  ${api} @ ${us} us: ERROR ${res.error}`);
    runs.push(res);
  }
}

// --- report ---------------------------------------------------------------------------------

const us = (ns) => (ns == null ? `>=${HIST_US}` : (ns / 1000).toFixed(1));
const label = { cyclictest: 'cyclictest', hrtimer: 'ktimers hrtimer', setTimeout: 'setTimeout chain', setInterval: 'setInterval' };
const rows = [
  '| interval | source | samples | early | min us | p50 us | p90 us | p99 us | p99.9 us | max us | overruns | CPU % | notes |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
];
for (const r of runs) {
  const name = label[r.api] ?? r.api;
  if (r.error) { rows.push(`| ${r.interval_us} us | ${name} | | | | | | | | | | | ERROR: ${r.error.replace(/\|/g, '/').replace(/\n/g, ' ')} |`); continue; }
  const L = r.lateness_ns;
  const notes = [];
  if (r.api === 'cyclictest' && r.overflows) notes.push(`${r.overflows} samples >= ${HIST_US} us (overflow)`);
  if (r.api === 'setTimeout' && r.interval_us < 1000) notes.push(`setTimeout(${r.interval_us / 1000}) is clamped to 1 ms; lateness vs the ${r.interval_us} us deadline`);
  if (r.api === 'setInterval' && r.interval_us < 1000) notes.push(`setInterval(${r.interval_us / 1000}) is clamped to 1 ms`);
  if (r.api === 'setInterval') notes.push(`drift ${r.drift_ms.toFixed(1)} ms over ${r.wall_s} s (${r.ticks} ticks vs ${r.expected_ticks} expected, mean period ${r.mean_period_us.toFixed(1)} us); lateness vs ideal schedule`);
  if (r.sched_policy && !r.sched_policy.startsWith('SCHED_FIFO')) notes.push(`ran ${r.sched_policy}`);
  // Only flag the ktime_get() check when it points at a real problem (see latency-child.js).
  const g = r.hrtime_after_ktime_ns;
  if (g && (g.min < 0 || g.p50 > 2000)) notes.push(`ktime_get() not CLOCK_MONOTONIC now? hrtime - ktime_get: min ${g.min}, p50 ${g.p50} ns`);
  rows.push(`| ${r.interval_us} us | ${name} | ${r.samples} | ${r.early ?? '-'} | ${us(L?.min)} | ${us(L?.p50)} | ${us(L?.p90)} | ${us(L?.p99)} | ${us(L?.p999)} | ${us(L?.max)} | ${r.overruns ?? '-'} | ${r.cpu_percent ?? '-'} | ${notes.join('; ')} |`);
}
console.log(rows.join('\n'));
console.log(`\nconditions: dma latency ${conditions.dma_latency}; SCHED_FIFO: ${conditions.sched_fifo}; ` +
  `kernel ${conditions.kernel}; clocksource ${conditions.clocksource}; ${conditions.cpus}; node ${conditions.node}; ` +
  `cyclictest: ${conditions.cyclictest}; ${conditions.note}`);

const outDir = path.join(here, 'results');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'latency.json'), JSON.stringify({ date: new Date().toISOString(), conditions, runs }, null, 2) + '\n');
console.log(`raw results: ${path.relative(process.cwd(), path.join(outDir, 'latency.json'))}`);
if (dma.held) fs.closeSync(dma.fd);
