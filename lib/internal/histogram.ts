/**
 * A log-linear histogram of non-negative integer values (nanoseconds), the
 * recording side of monitorEventLoopDelay.
 *
 * Why not Node's `createHistogram()`: its values are recorded one N-API call
 * each, and a monitor records one value per missed deadline, so a stalled loop
 * catching up records many at once; and its percentile of an empty histogram
 * is an artefact of HdrHistogram's bucket arithmetic, not a value seen.
 *
 * The layout is HdrHistogram's with three significant digits: values below
 * 2048 have a bucket each; above, every power of two is split into 1024 equal
 * buckets, so a bucket's width is at most 1/1024 of its values. Rows of 1024
 * buckets are allocated on first use, so a histogram of sub-millisecond
 * values costs a few rows, not the whole range. Count, min, max, mean and the
 * standard deviation are kept exactly beside the buckets (Welford's update),
 * so only percentiles carry the bucket width.
 */

const SUB = 1024; // buckets per power of two above the linear range
const LINEAR = 2 * SUB; // values [0, LINEAR) have a bucket each
const ROWS = 54; // rows for values up to 2^63: exponents 11..63 plus the linear row

/** What `min` reads on an empty histogram: Node's (INT64_MAX as a number). */
export const EMPTY_MIN = 9223372036854775807n;

export class LogHistogram {
  #rows: (Float64Array | undefined)[] = new Array(ROWS);
  #count = 0;
  #min = Infinity;
  #max = 0;
  #mean = 0;
  #m2 = 0;

  get count(): number {
    return this.#count;
  }
  get min(): number {
    return this.#count === 0 ? Number(EMPTY_MIN) : this.#min;
  }
  get max(): number {
    return this.#max;
  }
  get mean(): number {
    return this.#count === 0 ? NaN : this.#mean;
  }
  get stddev(): number {
    return this.#count === 0 ? NaN : Math.sqrt(this.#m2 / this.#count);
  }

  /** Records `n` occurrences of `value` (a non-negative integer below 2^53). */
  record(value: number, n = 1): void {
    const { row, col } = locate(value);
    let r = this.#rows[row];
    if (r === undefined) r = this.#rows[row] = new Float64Array(row === 0 ? LINEAR : SUB);
    r[col]! += n;
    // Welford, n at once: the mean moves by n/total of the difference.
    const total = this.#count + n;
    const delta = value - this.#mean;
    this.#mean += (delta * n) / total;
    this.#m2 += delta * n * (value - this.#mean);
    this.#count = total;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  reset(): void {
    this.#rows = new Array(ROWS);
    this.#count = 0;
    this.#min = Infinity;
    this.#max = 0;
    this.#mean = 0;
    this.#m2 = 0;
  }

  /**
   * The smallest recorded value v such that at least p% of the values are <= v,
   * as its bucket's upper edge clamped to [min, max]; 0 when empty.
   */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let row = 0; row < ROWS; row++) {
      const r = this.#rows[row];
      if (r === undefined) continue;
      for (let col = 0; col < r.length; col++) {
        const c = r[col]!;
        if (c === 0) continue;
        seen += c;
        if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, upperEdge(row, col)));
      }
    }
    return this.#max;
  }

  /**
   * Node's `percentiles` map: 0 (the minimum), then 50, 75, 87.5, ... halving
   * the remaining distance to 100 while a level still separates values, then 100
   * (the maximum). An empty histogram gives `{ 100 => 0 }`, as Node's does.
   */
  percentiles(): Map<number, number> {
    const m = new Map<number, number>();
    if (this.#count === 0) {
      m.set(100, 0);
      return m;
    }
    m.set(0, this.#min);
    let prevRank = 1;
    for (let k = 1; k < 64 && prevRank < this.#count; k++) {
      const p = 100 * (1 - 2 ** -k);
      m.set(p, this.percentile(p));
      prevRank = Math.ceil((p / 100) * this.#count);
    }
    m.set(100, this.#max);
    return m;
  }
}

function locate(v: number): { row: number; col: number } {
  if (v < LINEAR) return { row: 0, col: v };
  // v in [2^e, 2^(e+1)), e >= 11: drop the low e - 10 bits to keep 1024 steps.
  // Math.log2 of a value next to a power of two can round across it: correct e.
  let e = Math.floor(Math.log2(v));
  if (2 ** e > v) e--;
  else if (2 ** (e + 1) <= v) e++;
  return { row: e - 10, col: Math.floor(v / 2 ** (e - 10)) - SUB };
}

function upperEdge(row: number, col: number): number {
  if (row === 0) return col;
  const shift = row; // row r holds exponent r + 10: bucket width 2^r
  return (SUB + col + 1) * 2 ** shift - 1;
}
