// bench/cyclictest.js — rt-tests' cyclictest against `ktimers cyclictest`, same interval, same
// loops, same conditions, in one run.
//
//   node bench/cyclictest.js [--duration 10] [--intervals 1000,100] [--spin 50] [--plot docs/cyclictest.svg]
//
// For each interval (us), one after the other (never two at once: they would compete for the CPUs):
//   cyclictest           -m -p 99 -t 1 -i I -l N -q -h 10000   (N = duration / interval)
//   ktimers hrtimer      ktimers cyclictest -m -p 99 -i I -l N -q --json        (sleep mode)
//   ktimers hrtimer spin the same with --spin S                                  (hybrid mode)
//   setTimeout           ktimers cyclictest -m -p 99 -i I --api setTimeout ...  (for comparison;
//                        -D instead of -l below 1 ms, where it cannot keep up with the interval)
// Both tools hold /dev/cpu_dma_latency at 0 themselves, run SCHED_FIFO 99 and -m. The load average
// is read before and after every run and printed with it: on a shared machine the tails follow
// the load, so a row measured under load says so. The targets (issue 5): sleep mode p50 within
// 10 us and p99 within 20 us of cyclictest's; spin mode p99 below cyclictest's p99.
// Prints a markdown table and the conditions; raw results go to bench/results/cyclictest.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HIST_US, cyclictestVersion, findCyclictest, runCyclictest } from './rt-tests.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.join(here, '..', 'bin', 'ktimers.js');
const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    intervals: { type: 'string', default: '1000,100' },
    spin: { type: 'string', default: '50' },
    plot: { type: 'string' },
  },
});
const DURATION = Number(opt.duration);
const INTERVALS = opt.intervals.split(',').map(Number);
const SPIN_US = Number(opt.spin);

const load = () => os.loadavg().map((x) => +x.toFixed(2));

function ktimers(intervalUs, loops, extra) {
  const tmp = path.join(os.tmpdir(), `ktimers-bench-${process.pid}-${intervalUs}-${Date.now()}.json`);
  const args = [BIN, 'cyclictest', '-m', '-p', '99', '-i', String(intervalUs), '-q', `--json=${tmp}`,
    ...(loops ? ['-l', String(loops)] : ['-D', String(DURATION)]), ...extra];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: (DURATION * 2 + 120) * 1000 });
  if (r.status !== 0 || !fs.existsSync(tmp)) return { error: `exit ${r.status}: ${(r.stderr || r.error?.message || '').trim().slice(0, 300)}` };
  const doc = JSON.parse(fs.readFileSync(tmp, 'utf8'));
  fs.unlinkSync(tmp);
  return { doc, args: args.slice(2).join(' ').replace(tmp, 'FILE') };
}

/** A ktimers run, in the shape of a cyclictest row (ns). */
function row(doc, run, label) {
  const L = run.latency_ns;
  return {
    source: label, api: run.api, interval_us: run.interval_ns / 1000, spin_us: run.spin_ns / 1000, samples: run.samples,
    early: run.early, overruns: run.overruns,
    lateness_ns: { min: L.min, p50: L.p50, p90: L.p90, p99: L.p99, p999: L.p99_9, max: L.max, mean: L.avg },
    cpu_percent: run.cpu_percent, spin_percent: run.spin_percent, wall_s: +(run.wall_ns / 1e9).toFixed(3),
    sched: `${doc.conditions.sched.policy} ${doc.conditions.sched.priority}`,
    dma_latency: doc.conditions.cpu_dma_latency.held ? 'held at 0' : `not held (${doc.conditions.cpu_dma_latency.error})`,
  };
}

const cyc = findCyclictest();
if (!cyc.path) console.error(`cyclictest unavailable: ${cyc.why}; ktimers rows only`);
const conditions = {
  date: new Date().toISOString(),
  kernel: `${os.type()} ${os.release()}`,
  clocksource: (() => { try { return fs.readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim(); } catch { return 'unknown'; } })(),
  cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
  node: process.version,
  cyclictest: cyc.path ? `${cyc.path} ${cyclictestVersion(cyc.path) ?? ''}`.trim() : `not run: ${cyc.why}`,
  duration_s: DURATION,
  both: '-m, SCHED_FIFO 99, /dev/cpu_dma_latency held at 0 by each tool, one run at a time',
  load_start: load(),
};

const rows = [];
for (const us of INTERVALS) {
  const loops = Math.max(1, Math.round((DURATION * 1e6) / us));
  const step = (label, f) => {
    const l0 = load();
    console.error(`running ${label} @ ${us} us (${loops} loops) ... load ${l0[0]}`);
    const res = f();
    const out = Array.isArray(res) ? res : [res];
    for (const r of out) rows.push({ ...r, load_before: l0, load_after: load() });
  };
  if (cyc.path) {
    step('cyclictest', () => {
      const r = runCyclictest(cyc.path, us, loops);
      return r.error ? { source: 'cyclictest', interval_us: us, error: r.error } : { source: 'cyclictest', ...r };
    });
  }
  step('ktimers hrtimer', () => {
    // At 1 ms the sleep-mode run also carries setTimeout (same -l, one invocation) and the plot.
    const both = us >= 1000;
    const plot = both && opt.plot ? ['--plot', path.resolve(opt.plot)] : [];
    const k = ktimers(us, loops, both ? ['--api', 'hrtimer,setTimeout', ...plot] : []);
    if (k.error) return { source: 'ktimers hrtimer', interval_us: us, error: k.error };
    return k.doc.runs.map((r) => ({ ...row(k.doc, r, r.api === 'hrtimer' ? 'ktimers hrtimer' : 'setTimeout'), args: k.args }));
  });
  step(`ktimers hrtimer --spin ${SPIN_US}`, () => {
    const k = ktimers(us, loops, ['--spin', String(SPIN_US)]);
    if (k.error) return { source: `ktimers hrtimer spin ${SPIN_US}`, interval_us: us, error: k.error };
    return { ...row(k.doc, k.doc.runs[0], `ktimers hrtimer spin ${SPIN_US}`), args: k.args };
  });
  if (us < 1000) {
    step('setTimeout', () => {
      const k = ktimers(us, 0, ['--api', 'setTimeout']);
      if (k.error) return { source: 'setTimeout', interval_us: us, error: k.error };
      return { ...row(k.doc, k.doc.runs[0], 'setTimeout'), args: k.args };
    });
  }
}
conditions.load_end = load();

// --- report ---------------------------------------------------------------------------------

const fmt = (ns) => (ns == null ? `>=${HIST_US}` : Math.abs(ns) >= 1e6 ? (ns / 1000).toFixed(0) : (ns / 1000).toFixed(1));
const lines = [
  '| interval | source | samples | min us | p50 us | p90 us | p99 us | p99.9 us | max us | overruns | CPU % | load | vs cyclictest (p50 / p99) |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
];
const verdicts = [];
for (const r of rows) {
  if (r.error) { lines.push(`| ${r.interval_us} us | ${r.source} | | | | | | | | | | | ERROR: ${r.error.replace(/\|/g, '/').replace(/\n/g, ' ')} |`); continue; }
  const L = r.lateness_ns;
  const base = rows.find((b) => b.source === 'cyclictest' && b.interval_us === r.interval_us && !b.error);
  let vs = '';
  if (base && r.source !== 'cyclictest') {
    const d50 = (L.p50 - base.lateness_ns.p50) / 1000;
    const d99 = (L.p99 - base.lateness_ns.p99) / 1000;
    vs = `${d50 >= 0 ? '+' : ''}${d50.toFixed(1)} / ${d99 >= 0 ? '+' : ''}${d99.toFixed(1)} us`;
    if (r.source === 'ktimers hrtimer') {
      const ok = d50 <= 10 && d99 <= 20;
      vs += ok ? ' (target met)' : ' (target: +10 / +20: **not met**)';
      verdicts.push(`${r.interval_us} us sleep: p50 ${d50 >= 0 ? '+' : ''}${d50.toFixed(1)} us, p99 ${d99 >= 0 ? '+' : ''}${d99.toFixed(1)} us vs cyclictest: ${ok ? 'met' : 'NOT met'}`);
    } else if (r.source.startsWith('ktimers hrtimer spin')) {
      const ok = L.p99 < base.lateness_ns.p99;
      vs += ok ? ' (p99 below cyclictest\'s: met)' : ' (target p99 < cyclictest\'s: **not met**)';
      verdicts.push(`${r.interval_us} us spin ${SPIN_US}: p99 ${fmt(L.p99)} vs cyclictest ${fmt(base.lateness_ns.p99)} us: ${ok ? 'met' : 'NOT met'}; ` +
        `CPU ${r.cpu_percent}% (${r.spin_percent}% busy-waiting) vs ${base.cpu_percent}% for cyclictest`);
    }
  }
  const cpu = r.cpu_percent == null ? '-' : `${r.cpu_percent}${r.spin_percent ? ` (spin ${r.spin_percent})` : ''}`;
  lines.push(`| ${r.interval_us} us | ${r.source} | ${r.samples} | ${fmt(L.min)} | ${fmt(L.p50)} | ${fmt(L.p90)} | ${fmt(L.p99)} | ${fmt(L.p999)} | ` +
    `${fmt(L.max)} | ${r.overruns ?? '-'} | ${cpu} | ${r.load_before[0]}→${r.load_after[0]} | ${vs} |`);
}
console.log(lines.join('\n'));
console.log(`\n${verdicts.join('\n')}`);
console.log(`\nconditions: ${conditions.both}; kernel ${conditions.kernel}; clocksource ${conditions.clocksource}; ` +
  `${conditions.cpus}; node ${conditions.node}; cyclictest ${conditions.cyclictest}; ${DURATION} s per row; ` +
  `load average ${conditions.load_start.join(' ')} at start, ${conditions.load_end.join(' ')} at end ` +
  '(load column: 1-min load average before→after each row)');

const outDir = path.join(here, 'results');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'cyclictest.json'), JSON.stringify({ conditions, rows }, null, 2) + '\n');
console.log(`raw results: ${path.relative(process.cwd(), path.join(outDir, 'cyclictest.json'))}` +
  (opt.plot ? `; plot: ${opt.plot}` : ''));
