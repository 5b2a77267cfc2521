/**
 * The hrtimer clock bases' queues: one indexed binary min-heap per base, over
 * typed arrays. @internal
 *
 * Design
 * ------
 * The kernel keeps each hrtimer clock base in a timerqueue: an rb-tree ordered
 * by hard expiry with a cached leftmost node; equal expiries go to the right, so
 * timers due at the same instant run in arming order (FIFO). ktimers needs the
 * same order and costs no worse (O(1) peek, O(log n) insert, remove of an
 * arbitrary timer no dearer than O(log n)), and gets them from an *indexed
 * binary min-heap* with *lazy deletion*:
 *
 *   * entries are ordered by the key (hard, seq). `seq` is a per-environment
 *     arming counter, strictly increasing, so no two keys are equal and ties on
 *     `hard` break FIFO exactly as the rb-tree does.
 *   * every armed timer owns a *slot* (a small integer). The slot records the
 *     entry's position in its heap, which turns a re-arm of an arbitrary
 *     timer into an O(log n) sift instead of an O(n) search (in place: its
 *     entry is re-keyed, so a re-arm needs no second slot).
 *   * a cancel does not sift. Taking an arbitrary entry out of a heap of a
 *     million walks ~20 levels, each a likely cache miss, and most timers are
 *     cancelled (timeouts that did not fire), so a cancel only marks the entry
 *     *dead* (a flag in baseA) and clears `timers[slot]`: O(1), and the queue
 *     no longer references the timer, which is not queued any more by every
 *     measure the API has. The dead entry keeps its key and its slot and
 *     stays in the heap, still ordering its neighbours, until it is dropped:
 *     top() drops the dead entries it finds in front of the first live one
 *     (the pop they would have cost anyway, now paid by whoever looks first),
 *     and a base whose dead entries outnumber its live ones (and are at least
 *     COMPACT_MIN) is compacted: its live entries rebuilt into a heap in O(n)
 *     (Floyd's heapify), so a heap is never more than about twice its live
 *     size, nor deeper by more than a level. The top and the last entry of the
 *     heap array leave at once (the top must be found anyway; the last moves
 *     nothing); an emptied base drops all its dead entries. This is what Go's
 *     runtime timers do, for the same reason.
 *   * a dead entry costs, until it is dropped, what a live one does: its slot
 *     (its row of the slot arrays) and its heap entry; not the timer. So
 *     `sizes` (what engineState().queued reports) and slotsInUse() count live
 *     entries only, deadEntries() the dead ones, and queueBytes() is the
 *     arrays' capacity, which dead entries occupy like live ones. The engine's
 *     per-thread slot limit counts armed timers: before refusing one it drops
 *     every dead entry (dropDead()) and tries again.
 *   * the entries live in typed arrays indexed by slot (hard and soft expiry,
 *     seq, heap position), grown by doubling; each heap is an Int32Array of
 *     slots. No per-timer allocation, and nothing the GC has to trace but
 *     `timers[slot]`, which is also the strong reference that keeps an armed
 *     timer alive. A disarmed timer holds no slot, so a dropped one is ordinary
 *     garbage.
 *   * the queues are JS because the hot operations are JS's: an arm that does
 *     not move its clock's earliest wake-up never crosses into native code (an
 *     N-API call costs more than the sift). Native code keeps one timerfd per
 *     clock, programmed by the engine when the earliest wake-up changes.
 *   * expiries are s64 (ktime_t). Writing a bigint into a BigInt64Array
 *     allocates nothing; reading one back does, so keys are compared through
 *     Int32/Uint32 views of the same memory (high word signed, low word
 *     unsigned): exact, and allocation-free.
 *   * a timer with a spin (hrtimer_set_spin_ns) wants its timerfd wake-up
 *     before its hard expiry. The heap stays keyed on (hard, seq) — spin never
 *     changes the run order — and the engine keeps the few spinning entries
 *     apart (lib/internal/engine.ts).
 *
 * Bases 0..7 are the kernel's (MONOTONIC, REALTIME, BOOTTIME, TAI, then their
 * SOFT twins); 8..15 the same on the virtual timeline of ktimers/testing.
 *
 * Invariants (checked by the randomized model tests in test/):
 *   * heap property on (hard, seq), dead entries included;
 *   * pos[heap[b][i]] === i for every entry of every heap;
 *   * a slot is either free, or allocated and not yet placed (pos −1), or in
 *     exactly one heap, live or dead; a dead slot is never handed out again
 *     before its entry is dropped, so its key stays valid while it orders
 *     others;
 *   * a base's dead entries number at most max(live, COMPACT_MIN − 1).
 */

import { addSafeWords, HI, LO, sumHi, sumLo } from './s64-words.js';

export const NUM_BASES = 16;

let cap = 0;
// Reading a bigint out of expA allocates one, and a disarmed timer keeps its
// expiry as a bigint: timers due together would each allocate the same value.
// The last value read is kept with its words and handed out again while they
// match (a bigint is immutable, so sharing one is safe).
let lastExp = 0n;
let lastHi = 0;
let lastLo = 0;
function expAt(i: number): bigint {
  const hi = expHi[2 * i + HI]!;
  const lo = expLo[2 * i + LO]!;
  if (hi !== lastHi || lo !== lastLo) {
    lastExp = expA[i]!;
    lastHi = hi;
    lastLo = lo;
  }
  return lastExp;
}
/** Slot s's hard expiry. */
export const hardOf = (s: number): bigint => expAt(2 * s + 1);
/** Slot s's soft expiry. */
export const softOf = (s: number): bigint => expAt(2 * s);
/** soft (at 2 slot) and hard (at 2 slot + 1) expiry by slot: one cache line for both */
let expA = new BigInt64Array(0);
let expHi = new Int32Array(0);
let expLo = new Uint32Array(0);
/** arming order by slot (exact up to 2^53) */
let seqA = new Float64Array(0);
/** position in its base's heap; a free slot: −2 − (next free slot), −1 ending the list */
let posA = new Int32Array(0);
/** the base (0..15) of each armed slot; DEAD set on a cancelled entry still in its heap */
export let baseA = new Uint8Array(0);
/** baseA's flag of a dead entry (lazy deletion: see the design above) */
const DEAD = 0x80;
let freeHead = -1;
let used = 0;
/** live slots: those holding an armed timer */
let inUse = 0;
/** dead entries (over all bases): slots still held by a cancelled timer's heap entry */
let deadTotal = 0;
/** the armed timer of each slot: the strong reference that keeps it alive */
export let timers: unknown[] = [];

const heaps: Int32Array[] = [];
/** live entries of each base (armed timers) */
export const sizes = new Int32Array(NUM_BASES);
/** entries of each base's heap array, dead ones included */
const lens = new Int32Array(NUM_BASES);
/** dead entries of each base */
const deads = new Int32Array(NUM_BASES);
/** A base is compacted when its dead entries outnumber its live ones and are at least this many. */
export const COMPACT_MIN = 1024;
/** where each base's heap starts in its array (see top()) */
const offs = new Int32Array(NUM_BASES);
/**
 * 1 while a base's heap array is in key order: then the top leaves by moving
 * the offset, in O(1), which is what makes a run of timers due together cheap
 * (timeouts of one duration, armed one after the other, arrive in key order).
 * Any insert or removal that breaks the order clears it; an empty heap sets it.
 * Dead entries do not break it (they keep their places), nor does compaction
 * (it keeps the array's order).
 */
const sorted = new Uint8Array(NUM_BASES).fill(1);
for (let b = 0; b < NUM_BASES; b++) heaps.push(new Int32Array(16));

function grow(): void {
  const n = cap === 0 ? 64 : cap * 2;
  const e = new BigInt64Array(2 * n);
  e.set(expA);
  const q = new Float64Array(n);
  q.set(seqA);
  const p = new Int32Array(n);
  p.set(posA);
  const b = new Uint8Array(n);
  b.set(baseA);
  expA = e;
  seqA = q;
  posA = p;
  baseA = b;
  expHi = new Int32Array(e.buffer);
  expLo = new Uint32Array(e.buffer);
  const t = new Array(n);
  for (let i = 0; i < cap; i++) t[i] = timers[i];
  for (let i = cap; i < n; i++) t[i] = undefined;
  timers = t;
  cap = n;
}

/** A free slot for a timer on `base` (not yet in its heap). */
export function allocSlot(base: number): number {
  let s = freeHead;
  if (s >= 0) {
    freeHead = -2 - posA[s]!;
  } else {
    if (used === cap) grow();
    s = used++;
  }
  baseA[s] = base;
  posA[s] = -1;
  inUse++;
  return s;
}

/** Returns a slot (already out of its heap) to the free list. */
export function freeSlot(s: number): void {
  timers[s] = undefined;
  posA[s] = -2 - freeHead;
  freeHead = s;
  // Every slot free: allocate from 0 again, in order, not in the order the free
  // list was threaded (after compactions, heap order: random), so that the next
  // timers' rows of the slot arrays are written one after the other.
  if (--inUse === 0 && deadTotal === 0) resetFree();
}

/** Every slot is free (see freeSlot). */
function resetFree(): void {
  freeHead = -1;
  used = 0;
}

/** A dead entry has left its heap: its slot is free again. */
function freeDead(s: number): void {
  baseA[s] = 0;
  posA[s] = -2 - freeHead;
  freeHead = s;
  if (--deadTotal === 0 && inUse === 0) resetFree(); // (as in freeSlot)
}

/** Slots holding an armed timer (live entries; dead ones are deadEntries()). */
export const slotsInUse = (): number => inUse;
/** Dead entries (cancelled, not yet dropped): each still holds its slot and its heap entry. */
export const deadEntries = (): number => deadTotal;
/** Dead entries of one base. */
export const deadIn = (base: number): number => deads[base]!;

/** Bytes held by the slot arrays and heaps (capacity, not use): for memory figures. */
export function queueBytes(): number {
  let n = cap * (8 + 8 + 8 + 4 + 1 + 8); // hard, soft, seq, pos, base, timers[]
  for (const h of heaps) n += h.byteLength;
  return n;
}

/** (hard, seq) of slot a sorts before that of slot b. */
function less(a: number, b: number): boolean {
  const ah = expHi[4 * a + 2 + HI]!;
  const bh = expHi[4 * b + 2 + HI]!;
  if (ah !== bh) return ah < bh;
  const al = expLo[4 * a + 2 + LO]!;
  const bl = expLo[4 * b + 2 + LO]!;
  if (al !== bl) return al < bl;
  return seqA[a]! < seqA[b]!;
}

/** The hard expiry of slot a is before that of slot b (no seq). */
export function hardBefore(a: number, b: number): boolean {
  const ah = expHi[4 * a + 2 + HI]!;
  const bh = expHi[4 * b + 2 + HI]!;
  if (ah !== bh) return ah < bh;
  return expLo[4 * a + 2 + LO]! < expLo[4 * b + 2 + LO]!;
}

/** Split of a time into the words the comparisons read, set by setNow(). */
let nowHi = 0;
let nowLo = 0;
const nowBuf = new BigInt64Array(1);
const nowHiV = new Int32Array(nowBuf.buffer);
const nowLoV = new Uint32Array(nowBuf.buffer);
let nowSets = 0;
/** Changes each time setNow() is called (a pass notices a nested pass's). */
export const nowStamp = (): number => nowSets;
/** Sets the time softDue()/hardDue() compare against. */
export function setNow(now: bigint): void {
  nowSets++;
  nowBuf[0] = now;
  nowHi = nowHiV[HI]!;
  nowLo = nowLoV[LO]!;
}
/** setNow(v[i]) for `words`, an Int32Array over a BigInt64Array v, without reading the bigint out. */
export function setNowFrom(words: Int32Array, i: number): void {
  nowSets++;
  nowHi = words[2 * i + HI]!;
  nowLo = words[2 * i + LO]! >>> 0;
}
/** Slot s's soft expiry has come at the time of setNow(). */
export function softDue(s: number): boolean {
  const h = expHi[4 * s + HI]!;
  return h < nowHi || (h === nowHi && expLo[4 * s + LO]! <= nowLo);
}
/** Slot s's hard expiry has come at the time of setNow(). */
export function hardDue(s: number): boolean {
  const h = expHi[4 * s + 2 + HI]!;
  return h < nowHi || (h === nowHi && expLo[4 * s + 2 + LO]! <= nowLo);
}

// A few stored times (the engine's programmed wake-ups) that hard expiries are
// compared with through the same views, so that the comparison allocates nothing.
const marks = new BigInt64Array(4);
const marksHi = new Int32Array(marks.buffer);
const marksLo = new Uint32Array(marks.buffer);
/** Stores time v as mark i. */
export function setMark(i: number, v: bigint): void {
  marks[i] = v;
}
/** Slot s's hard expiry equals mark i. */
export function hardIsMark(s: number, i: number): boolean {
  return expHi[4 * s + 2 + HI] === marksHi[2 * i + HI] && expLo[4 * s + 2 + LO] === marksLo[2 * i + LO];
}
/** Slot s's hard expiry is before mark i. */
export function hardBeforeMark(s: number, i: number): boolean {
  const h = expHi[4 * s + 2 + HI]!;
  const m = marksHi[2 * i + HI]!;
  return h < m || (h === m && expLo[4 * s + 2 + LO]! < marksLo[2 * i + LO]!);
}

/** The live slot with the smallest key of `base`, or −1. Drops the dead entries in front of it. */
export function top(base: number): number {
  for (;;) {
    if (lens[base] === 0) return -1;
    const s = heaps[base]![offs[base]!]!;
    if (!(baseA[s]! & DEAD)) return s;
    removeAt(base, 0);
    deads[base] = deads[base]! - 1;
    freeDead(s);
  }
}

// Heap positions are relative to the base's offset `off` (the heap of base b is
// heaps[b][offs[b] .. offs[b] + lens[b]), dead entries included); posA holds absolute indices, so that
// moving the offset moves no entry.
function siftUp(h: Int32Array, off: number, i: number, s: number): number {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = h[off + parent]!;
    if (!less(s, p)) break;
    h[off + i] = p;
    posA[p] = off + i;
    i = parent;
  }
  h[off + i] = s;
  posA[s] = off + i;
  return i;
}

function siftDown(h: Int32Array, off: number, n: number, i: number, s: number): void {
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    let c = h[off + child]!;
    if (child + 1 < n) {
      const r = h[off + child + 1]!;
      if (less(r, c)) {
        child++;
        c = r;
      }
    }
    if (!less(c, s)) break;
    h[off + i] = c;
    posA[c] = off + i;
    i = child;
  }
  h[off + i] = s;
  posA[s] = off + i;
}

/** Room for one more entry at the end of base's heap (moving it to offset 0, or doubling it). */
function makeRoom(base: number): Int32Array {
  let h = heaps[base]!;
  const off = offs[base]!;
  const n = lens[base]!;
  if (off + n < h.length) return h;
  // Doubling when more than half full keeps the moves amortised O(1) per entry.
  const g = n + 1 > h.length >> 1 ? new Int32Array(h.length * 2) : h;
  if (g === h) h.copyWithin(0, off, off + n);
  else g.set(h.subarray(off, off + n));
  for (let i = 0; i < n; i++) posA[g[i]!] = i;
  heaps[base] = h = g;
  offs[base] = 0;
  return h;
}

/**
 * Sets slot s's key and puts it in its base's heap (s free of any heap) or
 * moves it there (s in it already). Returns whether s is now the base's top.
 */
export function place(s: number, soft: bigint, hard: bigint, seq: number): boolean {
  const i = 4 * s;
  const oh = expHi[i + 2 + HI]!;
  const ol = expLo[i + 2 + LO]!;
  expA[2 * s] = soft;
  expA[2 * s + 1] = hard;
  seqA[s] = seq;
  const h = expHi[i + 2 + HI]!;
  return settle(s, h > oh || (h === oh && expLo[i + 2 + LO]! >= ol));
}

// A relative arm's expiries are summed on 32-bit words (lib/internal/s64-words.ts),
// so that it allocates no bigint.
const scratch = new BigInt64Array(3);
const scratchHi = new Int32Array(scratch.buffer);
const scratchLo = new Uint32Array(scratch.buffer);

/**
 * place() for a relative arm: soft = ktime_add_safe(tim, now), hard =
 * ktime_add_safe(soft, range), computed in place.
 */
export function placeRel(s: number, tim: bigint, now: bigint, range: bigint, seq: number): boolean {
  scratch[0] = tim;
  scratch[1] = now;
  addSafeWords(scratchHi[HI]!, scratchLo[LO]!, scratchHi[2 + HI]!, scratchLo[2 + LO]!);
  const i = 4 * s;
  const oh = expHi[i + 2 + HI]!;
  const ol = expLo[i + 2 + LO]!;
  expHi[i + HI] = sumHi;
  expLo[i + LO] = sumLo;
  if (range !== 0n) {
    scratch[2] = range;
    addSafeWords(sumHi, sumLo, scratchHi[4 + HI]!, scratchLo[4 + LO]!);
  }
  expHi[i + 2 + HI] = sumHi;
  expLo[i + 2 + LO] = sumLo;
  seqA[s] = seq;
  return settle(s, sumHi > oh || (sumHi === oh && sumLo >= ol));
}

/**
 * Puts slot s, its key written, in its base's heap or moves it there; whether it
 * is the top. `later`: s was in its heap and its hard expiry did not move earlier,
 * so its key grew (seqs only grow): it can only go down, and the look at its
 * parent, a cache miss in a large heap, is skipped (a re-armed timeout moves later).
 */
function settle(s: number, later: boolean): boolean {
  const base = baseA[s]!;
  const n = lens[base]!;
  const abs = posA[s]!;
  let r: boolean;
  if (abs < 0) {
    const h = makeRoom(base);
    const off = offs[base]!;
    lens[base] = n + 1;
    sizes[base] = sizes[base]! + 1;
    if (sorted[base] && (n === 0 || !less(s, h[off + n - 1]!))) {
      // Still in key order (a timeout after every one armed before it): no sift.
      h[off + n] = s;
      posA[s] = off + n;
      r = n === 0;
    } else {
      sorted[base] = 0;
      r = siftUp(h, off, n, s) === 0;
    }
  } else {
    const h = heaps[base]!;
    const off = offs[base]!;
    const i = abs - off;
    if (sorted[base] && i === n - 1 && (n === 1 || !less(s, h[off + n - 2]!))) {
      r = n === 1; // the last, still last
    } else {
      sorted[base] = 0;
      // Re-keyed in place: down if its key grew, else up (as far as it must).
      if (!later) r = siftUp(h, off, i, s) === 0;
      else {
        siftDown(h, off, n, i, s);
        r = h[off] === s;
      }
    }
  }
  // Dead entries in front of it do not count: it is the top if it is the first live one.
  return r || (deads[base] !== 0 && top(base) === s);
}

/**
 * Takes the entry at heap index i (relative to the offset) out of base's heap
 * array, dead or alive; sizes[] and deads[] are the caller's.
 */
function removeAt(base: number, i: number): void {
  const h = heaps[base]!;
  const off = offs[base]!;
  const n = lens[base]! - 1;
  lens[base] = n;
  posA[h[off + i]!] = -1;
  if (n === 0) {
    offs[base] = 0;
    sorted[base] = 1; // empty: in order
    return;
  }
  if (i === n) return; // the last entry: nothing moves (and the order holds)
  if (i === 0 && sorted[base]) {
    // In key order, the rest is a heap as it stands: the top is the offset.
    offs[base] = off + 1;
    return;
  }
  sorted[base] = 0;
  // Floyd's removal: the hole goes down along the smaller children to a leaf
  // (one comparison per level, not two), then the last entry fills it and
  // goes up as far as it must (usually not at all: a leaf is among the
  // largest).
  let hole = i;
  for (;;) {
    let child = 2 * hole + 1;
    if (child >= n) break;
    let c = h[off + child]!;
    if (child + 1 < n) {
      const r = h[off + child + 1]!;
      if (less(r, c)) {
        child++;
        c = r;
      }
    }
    h[off + hole] = c;
    posA[c] = off + hole;
    hole = child;
  }
  siftUp(h, off, hole, h[off + n]!);
}

/**
 * Takes live slot s out of its heap at once (the slot stays allocated). Returns
 * whether it was the top (the first live entry).
 */
export function remove(s: number): boolean {
  const base = baseA[s]!;
  const wasTop = top(base) === s;
  removeAt(base, posA[s]! - offs[base]!);
  sizes[base] = sizes[base]! - 1;
  return wasTop;
}

/**
 * Takes live slot s out of its heap and gives the slot up: the engine's cancel.
 * The top, and the last entry of the heap array, leave at once (nothing else
 * moves, or the top must be found anyway); any other entry is only marked dead,
 * in O(1), and keeps its slot and its place until it reaches the top (top()
 * drops it) or its heap is compacted. Either way `timers[s]` is cleared at once.
 * Returns whether s was the top (the first live entry).
 */
export function cancel(s: number): boolean {
  const base = baseA[s]!;
  timers[s] = undefined;
  const live = sizes[base]! - 1;
  sizes[base] = live;
  const t = deads[base] !== 0 ? top(base) : heaps[base]![offs[base]!]!;
  const i = posA[s]! - offs[base]!;
  if (t === s || i === lens[base]! - 1) {
    removeAt(base, i);
    const d = deads[base]!;
    if (lens[base] === d) dropAll(base); // what is left is dead: out with it
    else if (d > live && d >= COMPACT_MIN) compact(base); // the dead bound holds after every cancel
    freeSlot(s);
    return t === s;
  }
  baseA[s] = base | DEAD;
  inUse--;
  deadTotal++;
  const d = deads[base]! + 1;
  deads[base] = d;
  if (d > live && d >= COMPACT_MIN) compact(base);
  return false;
}

/** Drops every entry of base's heap (all dead). */
function dropAll(base: number): void {
  const h = heaps[base]!;
  const off = offs[base]!;
  const n = lens[base]!;
  lens[base] = 0;
  offs[base] = 0;
  deads[base] = 0;
  sorted[base] = 1;
  for (let i = 0; i < n; i++) freeDead(h[off + i]!);
}

/** Drops base's dead entries; the live ones stay in key order if they were, else Floyd's heapify: O(n). */
function compact(base: number): void {
  const h = heaps[base]!;
  const off = offs[base]!;
  const n = lens[base]!;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const s = h[off + i]!;
    if (baseA[s]! & DEAD) freeDead(s);
    else {
      h[j] = s;
      posA[s] = j;
      j++;
    }
  }
  lens[base] = j;
  offs[base] = 0;
  deads[base] = 0;
  if (j === 0) sorted[base] = 1;
  else if (!sorted[base]) for (let i = (j >> 1) - 1; i >= 0; i--) siftDown(h, 0, j, i, h[i]!);
}

/** Drops every dead entry of every base (before refusing a slot: see MAX_SLOTS in the engine). Returns how many. */
export function dropDead(): number {
  const n = deadTotal;
  for (let b = 0; b < NUM_BASES; b++) if (deads[b] !== 0) compact(b);
  return n;
}

/** Slot s's soft and hard expiries are equal (no range). */
export function softIsHard(s: number): boolean {
  return expHi[4 * s + 2 + HI] === expHi[4 * s + HI] && expLo[4 * s + 2 + LO] === expLo[4 * s + LO];
}

/** Calls fn(slot) for every armed (live) slot of the bases in [from, to). fn may remove entries, not add them. */
export function forEachSlot(from: number, to: number, fn: (s: number) => void): void {
  for (let b = from; b < to; b++) {
    const h = heaps[b]!;
    // A copy: fn may remove entries (and a compaction move the rest).
    const list = Array.from(h.subarray(offs[b]!, offs[b]! + lens[b]!)).filter((s) => !(baseA[s]! & DEAD));
    for (const s of list) fn(s);
  }
}
