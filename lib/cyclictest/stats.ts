/**
 * Latency bookkeeping for `ktimers cyclictest`: one recorder per measured API.
 *
 * `record()` runs inside the timer callback, so it is kept to a handful of
 * arithmetic operations, one perf_hooks histogram record (HdrHistogram, 3
 * significant digits: exact percentiles in bounded memory whatever the run
 * length) and one increment of a 1 us bucket (cyclictest's -h histogram, also
 * the JSON and SVG histogram). Lateness is a signed ns count: a callback that
 * ran before its expiry (setTimeout can; an hrtimer never does) is counted in
 * `early` and lands in bucket 0 and the histogram's lowest value, with the exact
 * signed minimum kept in `min`.
 *
 * `live` is a Float64Array over a SharedArrayBuffer that the progress thread
 * reads (progress.ts): the measuring thread never formats or writes a line.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Indices into the shared live array ("must match" progress.ts's reader). */
export const LIVE = { count: 0, min: 1, act: 2, sum: 3, max: 4, overruns: 5, api: 6, active: 7 } as const;
export const LIVE_SIZE = 8;

/** Trace samples kept for --plot: 4M samples (32 MB) is >11 hours at 100 Hz, 400 s at 10 kHz. */
export const TRACE_CAP = 4 * 1024 * 1024;

export class LatencyRecorder {
  /** samples recorded (after warm-up) */
  count = 0;
  /** samples seen, warm-up included */
  seen = 0;
  early = 0;
  /** the latest sample, ns (cyclictest's Act:) */
  last = 0;
  overruns = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  /** samples >= histUs us (in `hist` but past the 1 us buckets) */
  overflows = 0;
  /** cyclictest's -h overflow list: cycle numbers (0-based) of samples >= outlierUs, the first outlierCap of them */
  outlierUs = Infinity;
  outlierCap = 0;
  outlierCount = 0;
  readonly outliers: number[] = [];
  /** called after each recorded sample (-b, -v): lateness in ns, 0-based cycle number */
  onSample: ((lateNs: number, cycle: number) => void) | null = null;
  readonly hist: RecordableHistogram = createHistogram({ lowest: 1, highest: 3_600_000_000_000, figures: 3 });
  readonly buckets: Uint32Array;
  /** expiry time since the start (s) and lateness (us) of each sample, for --plot */
  traceT: Float32Array | null;
  traceL: Float32Array | null;
  traceLen = 0;
  traceDropped = 0;

  constructor(
    readonly histUs: number,
    readonly warmup: number,
    trace: boolean,
    readonly live: Float64Array | null = null,
  ) {
    this.buckets = new Uint32Array(histUs);
    this.traceT = trace ? new Float32Array(4096) : null;
    this.traceL = trace ? new Float32Array(4096) : null;
  }

  /** One expiry: `lateNs` after its expiry, `tNs` after the first expiry; `missed` periods skipped before it. */
  record(lateNs: number, tNs: number, missed: number): void {
    if (++this.seen <= this.warmup) return;
    this.count++;
    this.overruns += missed;
    this.sum += lateNs;
    this.last = lateNs;
    if (lateNs < this.min) this.min = lateNs;
    if (lateNs > this.max) this.max = lateNs;
    if (lateNs < 1) {
      if (lateNs < 0) this.early++;
      this.hist.record(1);
      this.buckets[0]!++;
    } else {
      this.hist.record(lateNs);
      const us = Math.floor(lateNs / 1000);
      if (us < this.histUs) this.buckets[us]!++;
      else this.overflows++;
    }
    if (this.traceT !== null) this.traceAdd(tNs, lateNs);
    if (lateNs >= this.outlierUs * 1000) {
      if (this.outliers.length < this.outlierCap) this.outliers.push(this.count - 1);
      this.outlierCount++;
    }
    if (this.onSample !== null) this.onSample(lateNs, this.count - 1);
    const live = this.live;
    if (live !== null) {
      live[LIVE.count] = this.count;
      live[LIVE.min] = this.min;
      live[LIVE.act] = lateNs;
      live[LIVE.sum] = this.sum;
      live[LIVE.max] = this.max;
      live[LIVE.overruns] = this.overruns;
    }
  }

  private traceAdd(tNs: number, lateNs: number): void {
    if (this.traceLen === this.traceT!.length) {
      if (this.traceLen >= TRACE_CAP) {
        this.traceDropped++;
        return;
      }
      // Doubling growth: amortised O(1), and the run length is not known up front.
      const t = new Float32Array(Math.min(TRACE_CAP, this.traceLen * 2));
      const l = new Float32Array(t.length);
      t.set(this.traceT!);
      l.set(this.traceL!);
      this.traceT = t;
      this.traceL = l;
    }
    this.traceT![this.traceLen] = tNs / 1e9;
    this.traceL![this.traceLen++] = lateNs / 1000;
  }

  /**
   * Percentile (0..100) in ns; 0 when nothing was recorded. HdrHistogram answers
   * with its bucket's highest equivalent value, which can pass the largest sample
   * by up to 0.1 %: clamped to [min, max] so a report never shows p99.9 > max.
   */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    return Math.min(this.max, Math.max(this.min, this.hist.percentile(q)));
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }
}
