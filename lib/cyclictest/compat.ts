/**
 * What `ktimers cyclictest` prints where a script written for rt-tests'
 * cyclictest reads it: the `T:` status lines, the `-h` histogram block, the
 * `-b` break lines, `-v` samples and rt-tests 2.x's JSON document. The formats
 * are cyclictest.c's printf formats, field for field (widths included), so
 * that parsers of cyclictest output (rteval, OSADL's gnuplot scripts, CI
 * greps on `# Max Latencies:`) read ours unchanged.
 *
 * Pure functions over LatencyRecorders: cli.ts decides when to print them.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { LatencyRecorder } from './stats.js';

/** One measuring thread as the T: line and the histogram block see it. */
export interface ThreadView {
  tid: number;
  priority: number;
  intervalUs: number;
  cpu: number;
  rec: LatencyRecorder;
}

const pad = (n: number, w: number): string => String(n).padStart(w);
const zpad = (n: number, w: number): string => String(n).padStart(w, '0');

/** cyclictest's print_stat: `T:%2d (%5d) P:%2d I:%ld C:%7lu Min:%7ld Act:%5ld Avg:%5ld Max:%8ld` (-N: Act/Avg %8ld). */
export function tLine(i: number, t: ThreadView, nsecs: boolean): string {
  const r = t.rec;
  const u = (ns: number): number => Math.trunc(nsecs ? ns : ns / 1000);
  const has = r.count > 0;
  // Before the first sample cyclictest shows its initial min (1000000) and zeros.
  const min = has ? u(r.min) : 1000000;
  const act = has ? u(r.last) : 0;
  const avg = has ? u(r.sum / r.count) : 0;
  const max = has ? u(r.max) : 0;
  const w = nsecs ? 8 : 5;
  return `T:${pad(i, 2)} (${pad(t.tid, 5)}) P:${pad(t.priority, 2)} I:${Math.round(t.intervalUs)} C:${pad(r.count, 7)} ` +
    `Min:${pad(min, 7)} Act:${pad(act, w)} Avg:${pad(avg, w)} Max:${pad(max, 8)}`;
}

/** Count of samples in [us, us+1) for us < range (samples below 0 land in bucket 0, as cyclictest's). */
function bucket(r: LatencyRecorder, us: number): number {
  return us < r.buckets.length ? r.buckets[us]! : 0;
}

/** Samples at or past `rangeUs`: cyclictest's histogram overflows. */
export function overflowsPast(r: LatencyRecorder, rangeUs: number): number {
  let n = r.overflows;
  for (let us = rangeUs; us < r.buckets.length; us++) n += r.buckets[us]!;
  return n;
}

/**
 * cyclictest's print_hist: the `# Histogram` block. Rows `%06d ` then one
 * `%06lu` per thread joined by tabs (-H: a tab and the all-threads column);
 * then `# Total:` (` %09llu`), `# Min/Avg/Max Latencies:` (` %05lu`, -H adds
 * the overall max), `# Histogram Overflows:`, and the cycle numbers of the
 * first overflows of each thread.
 */
export function histogramBlock(threads: readonly ThreadView[], rangeUs: number, histofall: boolean): string {
  const all = histofall && threads.length > 1;
  const lines = ['# Histogram'];
  const totals = threads.map(() => 0);
  let totalAll = 0;
  for (let us = 0; us < rangeUs; us++) {
    let row = `${zpad(us, 6)} `;
    let sum = 0;
    threads.forEach((t, j) => {
      const c = bucket(t.rec, us);
      row += zpad(c, 6) + (j < threads.length - 1 ? '\t' : '');
      totals[j]! += c;
      sum += c;
    });
    if (all) {
      row += `\t${zpad(sum, 6)}`;
      totalAll += sum;
    }
    lines.push(row);
  }
  const us = (ns: number): number => Math.max(0, Math.trunc(ns / 1000));
  const col = (f: (t: ThreadView) => number, w: number): string => threads.map((t) => ' ' + zpad(f(t), w)).join('');
  lines.push('# Total:' + totals.map((n) => ' ' + zpad(n, 9)).join('') + (all ? ' ' + zpad(totalAll, 9) : ''));
  lines.push('# Min Latencies:' + col((t) => (t.rec.count ? us(t.rec.min) : 0), 5));
  lines.push('# Avg Latencies:' + col((t) => (t.rec.count ? us(t.rec.sum / t.rec.count) : 0), 5));
  const maxes = threads.map((t) => (t.rec.count ? us(t.rec.max) : 0));
  lines.push('# Max Latencies:' + maxes.map((m) => ' ' + zpad(m, 5)).join('') + (all ? ' ' + zpad(Math.max(...maxes), 5) : ''));
  const ovf = threads.map((t) => overflowsPast(t.rec, rangeUs));
  lines.push('# Histogram Overflows:' + ovf.map((n) => ' ' + zpad(n, 5)).join('') + (all ? ' ' + zpad(ovf.reduce((a, b) => a + b, 0), 5) : ''));
  lines.push('# Histogram Overflow at cycle number:');
  threads.forEach((t, j) => {
    const r = t.rec;
    let l = `# Thread ${j}:` + r.outliers.map((c) => ' ' + zpad(c, 5)).join('');
    if (r.outlierCount > r.outliers.length) l += ` # ${zpad(r.outlierCount - r.outliers.length, 5)} others`;
    lines.push(l);
  });
  // cyclictest ends the block with an empty line.
  return lines.join('\n') + '\n\n';
}

/**
 * `-b`: cyclictest prints the thread ids whenever -b is given, and the break
 * thread and value when it tripped (`hit` null: it did not).
 */
export function breakLines(tids: readonly number[], hit: { tid: number; valueUs: number } | null): string {
  return `# Thread Ids:${tids.map((t) => ' ' + zpad(t, 5)).join('')}\n` +
    (hit === null ? '' : `# Break thread: ${hit.tid}\n# Break value: ${hit.valueUs}\n`);
}

/**
 * `-v`: the header cyclictest prints before the samples. cyclictest prints each
 * thread's line after adding the distance for the next thread, so "Thread N
 * Interval:" shows thread N's interval plus -d (the T: lines' `I:` are the real
 * intervals). Printed the same way, so that scripts reading it read the same
 * numbers; `distanceUs` is 0 with -h, as there.
 */
export function verboseHeader(cpus: number, intervalsUs: readonly number[], distanceUs: number): string {
  return `Max CPUs = ${cpus}\nOnline CPUs = ${cpus}\n` +
    intervalsUs.map((iv, i) => `Thread ${i} Interval: ${Math.round(iv + distanceUs)}\n`).join('');
}

/** `-v`: cyclictest's `%8d:%8lu:%8ld` per sample (thread, cycle, latency). */
export function verboseLine(thread: number, cycle: number, value: number): string {
  return `${pad(thread, 8)}:${pad(cycle, 8)}:${pad(value, 8)}\n`;
}

/** rt-tests' start_time/end_time: strftime("%a, %d %b %Y %T %z"), local time. */
export function rtTestsTime(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const off = -d.getTimezoneOffset();
  const z = `${off < 0 ? '-' : '+'}${zpad(Math.trunc(Math.abs(off) / 60), 2)}${zpad(Math.abs(off) % 60, 2)}`;
  return `${days[d.getDay()]}, ${zpad(d.getDate(), 2)} ${months[d.getMonth()]} ${d.getFullYear()} ` +
    `${zpad(d.getHours(), 2)}:${zpad(d.getMinutes(), 2)}:${zpad(d.getSeconds(), 2)} ${z}`;
}

/**
 * rt-tests 2.x's JSON (rt-utils.c rt_write_json + cyclictest's write_stats):
 * the keys spelled as rt-tests spells them, `cmdline:` and `rt_test_version:`
 * with their colons included. Per-thread min/max/avg are in us, or in ns with
 * -N, as cyclictest's; the histogram keys are 1 us bucket numbers, only the
 * non-empty ones (cyclictest -N buckets by ns: ours cannot, its recorder has
 * 1 us buckets).
 *
 * `resolution_in_ns` is not a clock resolution, whatever its name suggests:
 * cyclictest's write_stats prints its use_nsecs flag there (0, or 1 with -N),
 * and readers take it as "the latencies are in ns". Writing clock_getres
 * (1 with high-resolution timers) would tell them so for a run in us.
 */
export function rtTestsJson(p: {
  argv: readonly string[];
  version: string;
  start: Date;
  end: Date;
  returnCode: number;
  threads: readonly ThreadView[];
  histogramUs: number;
  /** -N: latencies in ns. */
  nsecs: boolean;
}): Record<string, unknown> {
  let realtime = 0;
  try {
    realtime = fs.readFileSync('/sys/kernel/realtime', 'utf8').trim() === '1' ? 1 : 0;
  } catch {
    // not a PREEMPT_RT kernel
  }
  const unit = p.nsecs ? 1 : 1000;
  const thread: Record<string, unknown> = {};
  p.threads.forEach((t, i) => {
    const r = t.rec;
    const histogram: Record<string, number> = {};
    for (let us = 0; us < p.histogramUs && us < r.buckets.length; us++) if (r.buckets[us]) histogram[String(us)] = r.buckets[us]!;
    thread[String(i)] = {
      histogram,
      cycles: r.count,
      min: r.count ? Math.trunc(r.min / unit) : 0,
      max: r.count ? Math.trunc(r.max / unit) : 0,
      avg: r.count ? +(r.sum / r.count / unit).toFixed(2) : 0,
      cpu: t.cpu,
      node: 0,
    };
  });
  return {
    file_version: 1,
    'cmdline:': ['ktimers', 'cyclictest', ...p.argv].join(' '),
    'rt_test_version:': p.version,
    start_time: rtTestsTime(p.start),
    end_time: rtTestsTime(p.end),
    return_code: p.returnCode,
    sysinfo: { sysname: os.type(), nodename: os.hostname(), release: os.release(), version: os.version(), machine: os.machine(), realtime },
    num_threads: p.threads.length,
    resolution_in_ns: p.nsecs ? 1 : 0,
    thread,
  };
}
