// bench/rt-tests.js — running rt-tests' cyclictest from a bench: find (or install) it, run it
// with a histogram, and read the histogram back as percentiles. Shared by bench/cyclictest.js and
// bench/latency.js.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** cyclictest histogram buckets (1 us each); anything later is an overflow. */
export const HIST_US = 10000;

/** cyclictest from rt-tests; installed on demand (apt-get update only if the plain install fails). */
export function findCyclictest() {
  const which = () => spawnSync('sh', ['-c', 'command -v cyclictest'], { encoding: 'utf8' }).stdout.trim();
  if (which()) return { path: which() };
  if (process.getuid?.() !== 0) return { path: null, why: 'cyclictest missing and not root: apt-get install rt-tests' };
  console.error('cyclictest not found: apt-get install -y rt-tests ...');
  let r = spawnSync('apt-get', ['install', '-y', 'rt-tests'], { encoding: 'utf8' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8' });
    r = spawnSync('apt-get', ['install', '-y', 'rt-tests'], { encoding: 'utf8' });
  }
  if (which()) return { path: which() };
  return { path: null, why: `apt-get install rt-tests failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
}

/** cyclictest's version line ("cyclictest V 2.50"), or null. */
export function cyclictestVersion(bin) {
  const r = spawnSync(bin, ['--help'], { encoding: 'utf8' });
  const m = /cyclictest V ([\d.]+)/.exec(`${r.stdout}${r.stderr}`);
  return m ? m[1] : null;
}

// Histogram file: "# Histogram" then one "BUCKET COUNT" line per us (0..HIST_US-1), then
// "# Total:", "# Min Latencies:", "# Avg Latencies:", "# Max Latencies:", "# Histogram Overflows:".
// Samples >= HIST_US us are only counted as overflows, so a percentile that falls among them
// is reported as null (">= HIST_US us") rather than guessed. cyclictest's resolution is 1 us:
// a bucket's percentile is reported as its lower edge.
export function parseCyclicHist(text) {
  const buckets = [];
  const field = (name) => { const m = text.match(new RegExp(`^# ${name}:\\s*(\\d+)`, 'm')); return m ? Number(m[1]) : null; };
  for (const line of text.split('\n')) {
    const m = line.match(/^(\d+)\s+(\d+)\s*$/);
    if (m) buckets[Number(m[1])] = Number(m[2]);
  }
  const overflows = field('Histogram Overflows') ?? 0;
  const inHist = buckets.reduce((a, c) => a + (c || 0), 0);
  const total = inHist + overflows;
  const pct = (q) => {
    const want = Math.ceil((q / 100) * total);
    let acc = 0;
    for (let us = 0; us < buckets.length; us++) { acc += buckets[us] || 0; if (acc >= want) return us * 1000; }
    return null; // in the overflow
  };
  return {
    buckets, // dense: buckets[us] = count (holes are 0)
    samples: total, overflows, early: null, // cyclictest has no signed lateness to count
    lateness_ns: {
      min: field('Min Latencies') * 1000, p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9),
      max: field('Max Latencies') * 1000, mean: field('Avg Latencies') * 1000,
    },
  };
}

/**
 * One cyclictest run: `-m -p 99 -t 1 -i <interval> -l <loops> -q -h HIST_US`, plus `extra` args.
 * CPU % comes from bash's `times` after cyclictest exits: Node cannot get a child's rusage
 * from spawnSync, and cyclictest does not report its own CPU.
 */
export function runCyclictest(bin, intervalUs, loops, extra = []) {
  const histfile = path.join(os.tmpdir(), `ktimers-cyclictest-${process.pid}-${intervalUs}.txt`);
  const args = ['-m', '-p', '99', '-t', '1', '-i', String(intervalUs), '-l', String(loops), '-q', '-h', String(HIST_US),
    `--histfile=${histfile}`, ...extra];
  const t0 = process.hrtime.bigint();
  const budget = (loops * intervalUs) / 1e3 + 60_000;
  const r = spawnSync('bash', ['-c', '"$0" "$@"; rc=$?; times >&2; exit $rc', bin, ...args], { encoding: 'utf8', timeout: budget });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 || !fs.existsSync(histfile)) {
    return { api: 'cyclictest', interval_us: intervalUs, error: `cyclictest exit ${r.status}: ${(r.stderr || r.error?.message || '').trim().slice(0, 300)}` };
  }
  const res = parseCyclicHist(fs.readFileSync(histfile, 'utf8'));
  fs.unlinkSync(histfile);
  // Last line of `times` = children's "XmY.YYYs XmY.YYYs" (user, sys).
  const tl = (r.stderr || '').trim().split('\n').pop().match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  const cpu = tl ? Number(tl[1]) * 60 + Number(tl[2]) + Number(tl[3]) * 60 + Number(tl[4]) : null;
  return {
    api: 'cyclictest', interval_us: intervalUs, ...res, overruns: null,
    cpu_percent: cpu == null ? null : +((cpu / wall) * 100).toFixed(2), wall_s: +wall.toFixed(3),
    args: args.join(' '),
  };
}
