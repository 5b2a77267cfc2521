/**
 * The kernel's non-cascading hierarchical timer wheel (kernel/time/timer.c,
 * Linux 4.8+: the comment above calc_wheel_index() there), in JS over typed arrays.
 *
 * Design
 * ------
 * LVL_DEPTH levels (9, or 8 when HZ <= 100) of 64 buckets each. Level L has a
 * granularity of 8^L jiffies. A timer is put, once, in the level whose range
 * holds its timeout (expires − clk) and in the bucket of the first multiple of
 * 8^L strictly after `expires`; it is never moved again (no cascading). So a
 * timer never fires early and fires 1..8^L jiffies late: the slack the kernel
 * accepts for timeouts that are mostly cancelled before they expire. Timeouts
 * past the wheel's capacity are placed as if they were WHEEL_TIMEOUT_MAX.
 *
 * The level arithmetic (LVL_*, calc_wheel_index) is wheel-levels.ts; the
 * level table of each HZ (granularity and range per level, the cap) is in
 * test/wheel-levels.test.ts, worked out from the kernel's formulas.
 *
 * State per base (kernel: struct timer_base): `clk` (the wheel's own jiffy, one
 * ahead of jiffies while callbacks run), `next_expiry` (earliest bucket expiry),
 * `next_expiry_recalc` (a bucket was emptied by a delete), a pending bitmap, and
 * the bucket lists. Timers are added at the head of a bucket, so a bucket
 * expires most-recent-first; collected buckets run from the highest level down
 * (__run_timers() calls expire_timers() from the last level collected to
 * level 0). Three bases as on a NO_HZ kernel: BASE_LOCAL (pinned),
 * BASE_GLOBAL, BASE_DEF (deferrable).
 *
 * Why JS and typed arrays (it was C++ behind N-API until the benchmarks said
 * otherwise): an N-API method call costs more before any work than the wheel
 * operation itself, and dispatch paid it per batch plus per-timer JS. Here a
 * pending timer is a slot: an index into parallel typed arrays
 * (list links, bucket index, where it is linked, its base) plus one entry in
 * `owner` mapping the slot back to its timer object; no per-timer allocation,
 * no crossing. Collected buckets stay linked on per-level expiring lists until
 * each timer is popped to run, exactly as the kernel's expire_timers() detaches
 * one timer at a time: a timer collected but not yet run is still pending, and
 * mod_timer / timer_delete on it act on the expiring list.
 *
 * Numbers, not bigints: every jiffy the wheel holds (clk, next_expiry, bucket
 * expiries) is below 2^53 — real jiffies are INITIAL_JIFFIES plus uptime ticks,
 * and the virtual clock refuses any start whose nanoseconds do not fit a
 * ktime_t. A caller's `expires` is a u64: a bigint, or a safe-integer number
 * used as it is; {@link effectiveExpires} maps a bigint to the number the
 * kernel's arithmetic would act on (an expiry beyond 2^53 is either already
 * due after the u64 wrap or capped).
 *
 * The wheel reads jiffies through the driver's clock (lib/timer/driver.ts), and only
 * when forward_timer_base() could use it: not for a base that is behind.
 * @internal
 */

import {
  calc_wheel_index,
  LVL_CLK_DIV,
  LVL_CLK_MASK,
  LVL_GRAN,
  LVL_MASK,
  LVL_SIZE,
  WHEEL_TIMEOUT_MAX,
} from './wheel-levels.js';

/** TIMER_NEXT_MAX_DELTA: the farthest next_expiry of an empty base. */
const NEXT_MAX_DELTA = 2 ** 30 - 1;
const TWO_63 = 1n << 63n;

/** Where a slot is linked. */
export const FREE = -1;
export const IN_BUCKET = 0;
export const IN_EXPIRING = 1;

const NBASES = 3;
const META_IDX = 0x3ff;
const META_BASE_SHIFT = 10;
const META_EXPIRING = 1 << 12;

/** The largest jiffies value a number holds exactly. */
export const MAX_SAFE_JIFFIES = 0x1f_ffff_ffff_ffffn;

/**
 * The kernel's u64 expiry as the number its arithmetic acts on, given `clk`:
 * `num` (the caller's `Number(expires)`, NaN when expires > 2^53 − 1) when it
 * is exact — every realistic value — else `clk - 1` (due: the u64 difference
 * is negative as a long) or `clk + WHEEL_TIMEOUT_MAX` (capped), which
 * calc_wheel_index() then treats exactly as it would the real value.
 */
export function effectiveExpires(num: number, expires: bigint | number, clk: number, timeoutMax: number): number {
  if (num === num) return num;
  return BigInt.asUintN(64, (expires as bigint) - BigInt(clk)) >= TWO_63 ? clk - 1 : clk + timeoutMax;
}

export class Wheel<T> {
  readonly depth: number;
  /** WHEEL_TIMEOUT_MAX of this depth: where effectiveExpires() puts an expiry capped beyond 2^53. */
  readonly timeoutMax: number;
  /** LVL_GRAN(n) for n in [0, depth): recalcNextExpiry's shift back from a level's clock. */
  private readonly gran: Float64Array;

  // Per base.
  readonly clk = new Float64Array(NBASES);
  readonly nextExpiry = new Float64Array(NBASES);
  readonly recalc = new Uint8Array(NBASES);
  readonly timersPending = new Uint8Array(NBASES);
  /** Pending bitmap: 2 words of 32 bits per level (64 buckets). */
  private readonly pendingMap: Uint32Array;
  /** Bucket list heads (slot, -1 empty). */
  private readonly vectors: Int32Array;
  /** Expiring list heads, one per level, of the pass being run. */
  private readonly expiring: Int32Array;
  /** Highest level + 1 with an expiring list in the current pass, per base (0: no pass). */
  readonly levels = new Int8Array(NBASES);

  // Per slot (grown by doubling).
  private cap = 0;
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  /**
   * Packed per-slot state, 2 bytes (memory per pending timer is a target):
   * bucket index in bits 0..9 (kept while on an expiring list, as the kernel
   * keeps it in timer->flags), base in bits 10..11, IN_EXPIRING in bit 12;
   * -1 when the slot is free.
   */
  private meta = new Int16Array(0);
  /** slot -> its timer while pending. */
  owner: (T | undefined)[] = [];
  private freeHead = -1;
  inUse = 0;

  /** Set by calcWheelIndex: the bucket's expiry (kernel: *bucket_expiry). */
  bucketExpiry = 0;

  /**
   * @param now - the driver's jiffies clock (a number).
   * @param lazy - read it only when a forward could use it (see jiffiesFor).
   */
  constructor(
    depth: number,
    clk: number,
    private readonly now: () => number,
    private readonly lazy: boolean,
  ) {
    this.depth = depth;
    this.gran = Float64Array.from({ length: depth }, (_, n) => LVL_GRAN(n));
    this.timeoutMax = WHEEL_TIMEOUT_MAX(depth);
    this.pendingMap = new Uint32Array(NBASES * depth * 2);
    this.vectors = new Int32Array(NBASES * depth * LVL_SIZE).fill(-1);
    this.expiring = new Int32Array(NBASES * depth).fill(-1);
    this.reset(clk);
    this.grow(64);
  }

  /** Fresh, empty bases at `clk` (the virtual clock). Nothing may be pending. */
  reset(clk: number): void {
    if (this.inUse !== 0) throw new Error('wheel reset with timers pending');
    for (let b = 0; b < NBASES; b++) {
      this.clk[b] = clk;
      this.nextExpiry[b] = clk + NEXT_MAX_DELTA;
      this.recalc[b] = 0;
      this.timersPending[b] = 0;
      this.levels[b] = 0;
    }
    this.pendingMap.fill(0);
    this.vectors.fill(-1);
    this.expiring.fill(-1);
  }

  private grow(cap: number): void {
    const g = <A extends Int32Array | Int16Array | Int8Array | Uint8Array>(old: A, make: (n: number) => A): A => {
      const a = make(cap);
      a.set(old);
      return a;
    };
    this.next = g(this.next, (n) => new Int32Array(n));
    this.prev = g(this.prev, (n) => new Int32Array(n));
    this.meta = g(this.meta, (n) => new Int16Array(n));
    // The same exact capacity for the owner map (a push-grown array keeps up
    // to 50% spare: ~4 bytes per timer at a million).
    const owner = new Array<T | undefined>(cap);
    for (let s = 0; s < this.cap; s++) owner[s] = this.owner[s];
    this.owner = owner;
    // New slots join the free list in ascending order.
    for (let s = cap - 1; s >= this.cap; s--) {
      this.meta[s] = -1;
      this.next[s] = this.freeHead;
      this.freeHead = s;
    }
    this.cap = cap;
  }

  private alloc(owner: T): number {
    if (this.freeHead < 0) this.grow(this.cap * 2);
    const s = this.freeHead;
    this.freeHead = this.next[s]!;
    this.owner[s] = owner;
    this.inUse++;
    return s;
  }

  /** Releases a slot that is no longer linked anywhere. */
  free(s: number): void {
    this.meta[s] = -1;
    this.owner[s] = undefined;
    this.next[s] = this.freeHead;
    this.freeHead = s;
    this.inUse--;
  }

  slotIdx(s: number): number {
    return this.meta[s]! & META_IDX;
  }

  slotWhere(s: number): number {
    const m = this.meta[s]!;
    return m < 0 ? FREE : m & META_EXPIRING ? IN_EXPIRING : IN_BUCKET;
  }

  slotBase(s: number): number {
    return (this.meta[s]! >> META_BASE_SHIFT) & 3;
  }

  // --- kernel functions -----------------------------------------------------

  /** calc_wheel_index() on this wheel's depth (see effectiveExpires); sets bucketExpiry. */
  calcWheelIndex(e: number, clk: number): number {
    return calc_wheel_index(e, clk, this.depth, this);
  }

  /**
   * Base `b` is behind: timers pending and next_expiry not after clk (its pass
   * is due and has not run: the JS thread is busy). forward() and
   * refreshEmpty() then change nothing, whatever jiffies reads.
   */
  private behind(b: number): boolean {
    return this.timersPending[b] === 1 && this.nextExpiry[b]! <= this.clk[b]!;
  }

  /**
   * The jiffies __mod_timer forwards bases `a` and `b` to. The clock read is
   * a large part of a re-arm, so a lazy wheel skips it when both bases are behind and returns -1: below every clk, so forward()
   * leaves them as they are, exactly as it would at any real reading.
   */
  private jiffiesFor(a: number, b: number): number {
    return this.lazy && this.behind(a) && (a === b || this.behind(b)) ? -1 : this.now();
  }

  /** __forward_timer_base(): never moves clk backwards, never skips a due bucket. */
  forward(b: number, jiffies: number): void {
    const clk = this.clk[b]!;
    if (jiffies <= clk) return;
    const next = this.nextExpiry[b]!;
    if (next > jiffies) this.clk[b] = jiffies;
    else if (next >= clk) this.clk[b] = next; // (next < clk: the kernel's WARN_ON_ONCE; leave it)
  }

  /**
   * An empty base's next_expiry (clk + TIMER_NEXT_MAX_DELTA when it emptied) is
   * moved to jiffies + TIMER_NEXT_MAX_DELTA before use, as the kernel does for
   * an empty base when it computes the next event; otherwise, after ~2^30 idle
   * jiffies, the stale value would be reached and a new timer never lower it.
   */
  refreshEmpty(b: number, jiffies: number): void {
    if (!this.timersPending[b] && !this.recalc[b]) this.nextExpiry[b] = jiffies + NEXT_MAX_DELTA;
  }

  private testBit(b: number, i: number): boolean {
    return ((this.pendingMap[(b * this.depth * LVL_SIZE + i) >> 5]! >>> (i & 31)) & 1) !== 0;
  }

  private setBit(b: number, i: number): void {
    this.pendingMap[(b * this.depth * LVL_SIZE + i) >> 5]! |= 1 << (i & 31);
  }

  private clearBit(b: number, i: number): void {
    this.pendingMap[(b * this.depth * LVL_SIZE + i) >> 5]! &= ~(1 << (i & 31));
  }

  /** next_pending_bucket(): distance from `clk` to the next set bit of a level, wrapping; -1 none. */
  private nextPendingBucket(b: number, offset: number, clk: number): number {
    const start = offset + clk;
    const end = offset + LVL_SIZE;
    for (let pos = start; pos < end; pos++) if (this.testBit(b, pos)) return pos - start;
    for (let pos = offset; pos < start; pos++) if (this.testBit(b, pos)) return pos + LVL_SIZE - start;
    return -1;
  }

  /** timer_recalc_next_expiry() */
  recalcNextExpiry(b: number): void {
    const base0 = this.clk[b]!;
    let next = base0 + NEXT_MAX_DELTA;
    let clk = base0;
    const words = b * this.depth * 2;
    for (let lvl = 0, offset = 0; lvl < this.depth; lvl++, offset += LVL_SIZE) {
      // A whole empty level is skipped with one test of its two words.
      const empty = this.pendingMap[words + 2 * lvl] === 0 && this.pendingMap[words + 2 * lvl + 1] === 0;
      const pos = empty ? -1 : this.nextPendingBucket(b, offset, clk & LVL_MASK);
      const lvlClk = clk & LVL_CLK_MASK;
      if (pos >= 0) {
        const tmp = (clk + pos) * this.gran[lvl]!;
        if (tmp < next) next = tmp;
        // Expires before the next level is reached: no need to look further.
        if (pos <= ((LVL_CLK_DIV - lvlClk) & LVL_CLK_MASK)) break;
      }
      clk = Math.floor(clk / LVL_CLK_DIV) + (lvlClk ? 1 : 0);
    }
    this.nextExpiry[b] = next;
    this.recalc[b] = 0;
    this.timersPending[b] = next !== base0 + NEXT_MAX_DELTA ? 1 : 0;
  }

  private headIndex(s: number): number {
    const m = this.meta[s]!;
    const b = (m >> META_BASE_SHIFT) & 3;
    const idx = m & META_IDX;
    return m & META_EXPIRING
      ? b * this.depth + ((idx / LVL_SIZE) | 0) // expiring[...]
      : -1 - (b * this.depth * LVL_SIZE + idx); // vectors[...], encoded negative
  }

  private unlink(s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    if (p >= 0) this.next[p] = n;
    else {
      const h = this.headIndex(s);
      if (h < 0) this.vectors[-1 - h] = n;
      else this.expiring[h] = n;
    }
    if (n >= 0) this.prev[n] = p;
  }

  /**
   * enqueue_timer(): at the head of its bucket; lowers next_expiry if earlier.
   * Returns 1 when next_expiry moved earlier (the driver re-arms its tick).
   */
  private enqueue(b: number, s: number, idx: number, bucketExpiry: number): number {
    this.meta[s] = idx | (b << META_BASE_SHIFT);
    const vi = b * this.depth * LVL_SIZE + idx;
    const h = this.vectors[vi]!;
    this.prev[s] = -1;
    this.next[s] = h;
    if (h >= 0) this.prev[h] = s;
    this.vectors[vi] = s;
    this.setBit(b, idx);
    // With nothing pending, next_expiry is only the empty-base sentinel: a
    // bucket expiry at or past it must still become the next expiry. (The
    // kernel relies on its tick reaching the sentinel; the NO_HZ driver and the
    // virtual clock schedule only pending bases.)
    if (!this.timersPending[b] || bucketExpiry < this.nextExpiry[b]!) {
      const lowered = this.nextExpiry[b] !== bucketExpiry ? 1 : 0;
      this.nextExpiry[b] = bucketExpiry;
      this.timersPending[b] = 1;
      this.recalc[b] = 0;
      return lowered;
    }
    return 0;
  }

  /**
   * detach_if_pending() (the slot stays allocated): a bucket emptied by a
   * delete leaves next_expiry stale (maybe early) and flags it for
   * recalculation, as the kernel does. A timer on an expiring list never
   * clears a bucket bit (it is not in the bucket any more).
   */
  detach(s: number): void {
    const m = this.meta[s]!;
    if (!(m & META_EXPIRING) && this.prev[s]! < 0 && this.next[s]! < 0) {
      const b = (m >> META_BASE_SHIFT) & 3;
      this.clearBit(b, m & META_IDX);
      this.recalc[b] = 1;
    }
    this.unlink(s);
  }

  /** forward_timer_base() of `b`, as __mod_timer does before it looks at the timer. */
  touch(b: number): void {
    const jiffies = this.jiffiesFor(b, b);
    this.refreshEmpty(b, jiffies);
    this.forward(b, jiffies);
  }

  /** timer_delete(): detach and free. */
  del(s: number): void {
    this.detach(s);
    this.free(s);
  }

  /**
   * Places a timer not pending in this wheel (internal_add_timer after
   * forward_timer_base). Returns the new slot; `lowered` is set when the
   * base's next_expiry moved earlier.
   */
  add(owner: T, b: number, expires: bigint | number, num: number): number {
    const jiffies = this.jiffiesFor(b, b);
    this.refreshEmpty(b, jiffies);
    this.forward(b, jiffies);
    const clk = this.clk[b]!;
    const idx = this.calcWheelIndex(effectiveExpires(num, expires, clk, this.timeoutMax), clk);
    const s = this.alloc(owner);
    this.lowered = this.enqueue(b, s, idx, this.bucketExpiry);
    return s;
  }

  /** Set by add() and move(): next_expiry of the target base moved earlier. */
  lowered = 0;

  /**
   * __mod_timer() on a pending slot with a different expiry (the caller made
   * the `diff == 0` and REDUCE checks on timer->expires, which it owns).
   * Returns 1 when the timer stays where it is (same bucket: only its expiry
   * changes), 0 when it moved (to `b`'s wheel; `lowered` set).
   */
  move(s: number, b: number, expires: bigint | number, num: number): number {
    const m = this.meta[s]!;
    const old = (m >> META_BASE_SHIFT) & 3;
    const jiffies = this.jiffiesFor(old, b);
    this.refreshEmpty(b, jiffies);
    this.forward(old, jiffies);
    const clk = this.clk[old]!;
    let idx = this.calcWheelIndex(effectiveExpires(num, expires, clk, this.timeoutMax), clk);
    // Same bucket (and base): it stays, in its bucket or on its expiring list.
    if (idx === (m & META_IDX) && old === b) {
      this.lowered = 0;
      return 1;
    }
    this.detach(s);
    if (old !== b) {
      this.forward(b, jiffies); // the timer's flags now select another base
      const nclk = this.clk[b]!;
      idx = this.calcWheelIndex(effectiveExpires(num, expires, nclk, this.timeoutMax), nclk);
    }
    this.lowered = this.enqueue(b, s, idx, this.bucketExpiry);
    return 0;
  }

  /**
   * One iteration of __run_timers(): if jiffies has reached clk and
   * next_expiry, set clk = next_expiry, move the due bucket of each level whose
   * clock is aligned onto that level's expiring list (collect_expired_timers),
   * then clk++ (callbacks see clk one ahead of jiffies) and recalc next_expiry.
   * Returns false when nothing was due. The caller then pops with popExpiring().
   */
  collect(b: number, jiffies: number): boolean {
    if (this.levels[b] !== 0) throw new Error('wheel collect() before the previous pass was drained');
    const bclk = this.clk[b]!;
    const next = this.nextExpiry[b]!;
    if (!(jiffies >= bclk && jiffies >= next)) return false;
    let clk = next;
    this.clk[b] = next;
    const depth = this.depth;
    let levels = 0;
    for (let i = 0; i < depth; i++) {
      const idx = (clk & LVL_MASK) + i * LVL_SIZE;
      if (this.testBit(b, idx)) {
        this.clearBit(b, idx);
        // Move the bucket list wholesale onto this level's expiring list.
        const vi = b * depth * LVL_SIZE + idx;
        const head = this.vectors[vi]!;
        this.vectors[vi] = -1;
        this.expiring[b * depth + i] = head;
        for (let s = head; s >= 0; s = this.next[s]!) this.meta[s]! |= META_EXPIRING;
        levels = i + 1;
      }
      if (clk & LVL_CLK_MASK) break;
      clk = Math.floor(clk / LVL_CLK_DIV);
    }
    this.clk[b] = next + 1;
    this.recalcNextExpiry(b);
    this.levels[b] = levels;
    return true;
  }

  /**
   * expire_timers(): the next timer of the pass in run order (highest level
   * first, each list from its head), detached but still allocated — the
   * caller reads its owner and frees it — or -1 when the pass is over.
   */
  popExpiring(b: number): number {
    const depth = this.depth;
    for (let lv = this.levels[b]!; lv > 0; lv = this.levels[b]!) {
      const hi = b * depth + lv - 1;
      const s = this.expiring[hi]!;
      if (s >= 0) {
        const n = this.next[s]!;
        this.expiring[hi] = n;
        if (n >= 0) this.prev[n] = -1;
        return s;
      }
      this.levels[b] = lv - 1;
    }
    return -1;
  }

  /**
   * The base's next bucket expiry, or -1 when nothing is pending. `raw` (the
   * virtual clock's ticking model): the stored value even when stale after a
   * delete, because a ticking kernel runs that (empty) pass too.
   */
  nextExpiryOf(b: number, raw = false): number {
    if (raw) return this.timersPending[b] || this.recalc[b] ? this.nextExpiry[b]! : -1;
    if (this.recalc[b]) this.recalcNextExpiry(b);
    return this.timersPending[b] ? this.nextExpiry[b]! : -1;
  }
}
