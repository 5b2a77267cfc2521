/**
 * kfifo's data path: `kfifo_in` / `kfifo_put` (the producer), `kfifo_out` / `kfifo_get` and their
 * peeking forms, `kfifo_out_linear`, `kfifo_skip` and `kfifo_reset` (the consumer), with the
 * copies into and out of the ring (`kfifo_copy_in` / `kfifo_copy_out` in the kernel's
 * `lib/kfifo.c`) and the publishing of the counters. The hot functions are kept in this one
 * module, beside each other.
 *
 * Design.
 * - Memory ordering (the kernel's smp_wmb before advancing a counter): the producer writes the
 *   elements, then publishes with `Atomics.store(in)`; the consumer reads `in` with `Atomics.load`
 *   before touching the elements, and frees slots with `Atomics.store(out)` only after copying
 *   them out. Each side writes one counter only, so each sees the other's at worst stale, which
 *   can only make the free space or the length look smaller.
 * - Each side keeps (per thread, in the fifo's `State`) its last reading of the other side's
 *   counter, reading it afresh only when that reading does not already show enough room or data.
 *   Since the real counter can only be further on, the counts returned are still exactly the
 *   kernel's. kfifo_reset and the test hook move counters backwards; they bump a generation word
 *   that voids those readings.
 * - Publishing wakes a sleeper of the other side (`lib/kfifo/wait.ts`) only when its waiter flag
 *   is set, so nobody pays a notify (a futex syscall) per element when nobody sleeps.
 * - The copies allocate nothing per call, on either side: `kfifo_in` of the caller's whole array
 *   is one `TypedArray.prototype.set` (a memmove); what would need a view to use set() (a part of
 *   the caller's array, anything out of the ring) goes through loops instead.
 */
import { describe, kwarn, typeError } from '../errors.js';
import {
  DATA_SEQ, DATA_WAITERS, GEN, IN, OUT, SPACE_SEQ, SPACE_WAITERS,
  inBufArg, live, outBufArg, peekN, spanArg, st, tagOf, taLength, uintArg, viewOf,
  type Kfifo, type KfifoArray, type State,
} from './ring.js';

// --- copying (kfifo_copy_in / kfifo_copy_out: two pieces across the end) ---

// From this many elements on, kfifo_in copies the caller's whole array with
// TypedArray.prototype.set (see copyIn); below it the call's fixed cost is not worth it.
const SET_MIN = 16;
// From this many bytes on, a byte fifo's other copies go two bytes per step (see copyIn).
const WORD_MIN = 8;

function copyIn(s: State, src: KfifoArray, off: number, n: number, at: number): void {
  // Index from the slot, not the counter: a counter above 2^31 is no small integer, and the
  // loop would do double arithmetic per element.
  const start = at & s.mask;
  if (start + n <= s.size) {
    // One piece (the common case).
    if (n >= SET_MIN && off === 0 && n === s.inLen) {
      // The caller's whole array (a record producer's usual call): set() copies it with one
      // memmove, and allocates nothing, since its source is the caller's array itself. Its
      // stores into shared memory are plain ones, ordered before the caller's Atomics.store(in)
      // as the loops' are (see below). Across the end, a set() of either part would need a
      // subarray view of the caller's array, one allocation per call on the producer: that
      // case (once per lap of the ring) takes the masked loop instead.
      (s.data as Uint8Array).set(src as Uint8Array, start);
      return;
    }
    // Part of the caller's array: set() would need a subarray view of it, so the loops copy it
    // (or, for 64-bit elements, whose element loop boxes a bigint per value, set on a subarray).
    if (n >= WORD_MIN && s.ringView !== undefined && s.inHit) {
      // Byte fifo, the same buffer as last time: two bytes per step through DataViews
      // (unaligned little-endian halfwords; the bytes land as a byte loop would put them).
      // Not 32-bit words: such a value can fall outside the small-integer range, and code
      // that V8 has not optimised yet boxes it in a heap number, an allocation per word that
      // would make the producer collect garbage while it warms up. A 16-bit value never is.
      // DataView stores into shared memory are plain (unordered) stores, as element stores are:
      // what publishes them is the same release/acquire pair as before, the caller's
      // Atomics.store(in) after this copy and the consumer's Atomics.load(in) before its reads.
      // A plain store of `in` would not do: nothing would then order these bytes before it.
      const v = s.inView ?? (s.inView = viewOf(src));
      const r = s.ringView;
      let i = 0;
      for (; i + 2 <= n; i += 2) r.setUint16(start + i, v.getUint16(off + i, true), true);
      const d = s.data as Uint8Array;
      const sa = src as Uint8Array;
      for (; i < n; i++) d[start + i] = sa[off + i]!;
      return;
    }
    if (s.bigint) {
      if (n > 16) {
        (s.data as BigInt64Array).set((src as BigInt64Array).subarray(off, off + n), start);
        return;
      }
    }
    const d = s.data as Uint8Array;
    const sa = src as Uint8Array;
    for (let i = 0; i < n; i++) d[start + i] = sa[off + i]!;
    return;
  }
  if (s.bigint && n > 16) {
    // Element loops over BigInt64Array box every value; set() copies bytes.
    const l = s.size - start;
    (s.data as BigInt64Array).set((src as BigInt64Array).subarray(off, off + l), start);
    (s.data as BigInt64Array).set((src as BigInt64Array).subarray(off + l, off + n), 0);
    return;
  }
  const d = s.data as Uint8Array;
  const m = s.mask;
  const sa = src as Uint8Array;
  for (let i = 0; i < n; i++) d[(start + i) & m] = sa[off + i]!;
}

function copyOut(s: State, dst: KfifoArray, off: number, n: number, at: number): void {
  const start = at & s.mask;
  if (start + n <= s.size) {
    // One piece: the loop needs no mask. Not set(): its source would be a subarray view of the
    // ring, an allocation per call, and this side must allocate nothing either (a consumer may
    // be a real-time thread too). For a byte fifo given the same buffer as last time: two bytes
    // per step through DataViews, as in copyIn (the same reasons against 32-bit words),
    // unrolled by four: on a ring of records, fewer instructions than an element loop.
    if (n >= WORD_MIN && s.ringView !== undefined && s.outHit) {
      const v = s.outView ?? (s.outView = viewOf(dst));
      const r = s.ringView;
      let i = 0;
      for (; i + 8 <= n; i += 8) {
        const a = start + i;
        const b = off + i;
        v.setUint16(b, r.getUint16(a, true), true);
        v.setUint16(b + 2, r.getUint16(a + 2, true), true);
        v.setUint16(b + 4, r.getUint16(a + 4, true), true);
        v.setUint16(b + 6, r.getUint16(a + 6, true), true);
      }
      for (; i + 2 <= n; i += 2) v.setUint16(off + i, r.getUint16(start + i, true), true);
      const d = s.data as Uint8Array;
      const da = dst as Uint8Array;
      for (; i < n; i++) da[off + i] = d[start + i]!;
      return;
    }
    if (s.bigint && n > 16) {
      (dst as BigInt64Array).set((s.data as BigInt64Array).subarray(start, start + n), off);
      return;
    }
    const d = s.data as Uint8Array;
    const da = dst as Uint8Array;
    for (let i = 0; i < n; i++) da[off + i] = d[start + i]!;
    return;
  }
  if (s.bigint && n > 16) {
    const l = s.size - start;
    (dst as BigInt64Array).set((s.data as BigInt64Array).subarray(start, start + l), off);
    (dst as BigInt64Array).set((s.data as BigInt64Array).subarray(0, n - l), off + l);
    return;
  }
  const d = s.data as Uint8Array;
  const m = s.mask;
  const da = dst as Uint8Array;
  for (let i = 0; i < n; i++) da[off + i] = d[(start + i) & m]!;
}

/**
 * The producer's free space (`kfifo_unused`), enough to tell whether `need` fits: from the
 * cached `out` when that already shows room for `need` (the real `out` can only be further on),
 * else from a fresh load.
 */
function unusedFor(s: State, c: Int32Array, inv: number, need: number): number {
  const g = Atomics.load(c, GEN);
  let used = (inv - s.outSeen) >>> 0;
  if (g !== s.outGen || used > s.size || s.size - used < need) {
    s.outGen = g;
    s.outSeen = Atomics.load(c, OUT) >>> 0;
    used = (inv - s.outSeen) >>> 0;
  }
  return (s.size - used) >>> 0;
}

/** The consumer's `in − out`, likewise: from the cached `in` when it shows at least `need`. */
function lenFor(s: State, c: Int32Array, out: number, need: number): number {
  const g = Atomics.load(c, GEN);
  let len = (s.inSeen - out) >>> 0;
  if (g !== s.inGen || len > s.size || len < need) {
    s.inGen = g;
    s.inSeen = Atomics.load(c, IN) >>> 0;
    len = (s.inSeen - out) >>> 0;
  }
  return len;
}

// --- publishing and waking ----------------------------------------------------

// The waker takes the registration (exchange to 0) with the wake-up: while the woken thread is
// on its way (an event-loop turn for waitAsync), further publishes see no sleeper and do not
// notify again, so a burst costs one notify, not one per element.
function publishIn(c: Int32Array, v: number): void {
  Atomics.store(c, IN, v | 0);
  if (Atomics.load(c, DATA_WAITERS) !== 0 && Atomics.exchange(c, DATA_WAITERS, 0) !== 0) {
    Atomics.add(c, DATA_SEQ, 1);
    Atomics.notify(c, DATA_SEQ);
  }
}

export function publishOut(c: Int32Array, v: number): void {
  Atomics.store(c, OUT, v | 0);
  if (Atomics.load(c, SPACE_WAITERS) !== 0 && Atomics.exchange(c, SPACE_WAITERS, 0) !== 0) {
    Atomics.add(c, SPACE_SEQ, 1);
    Atomics.notify(c, SPACE_SEQ);
  }
}


// --- producer ---------------------------------------------------------------------

function valueArg(s: State, val: unknown): void {
  if (s.bigint ? typeof val !== 'bigint' : typeof val !== 'number') {
    throw typeError('ERR_INVALID_ARG_TYPE', `val must be a ${s.bigint ? 'bigint' : 'number'} (a ${s.tag} element), got ${describe(val)}`);
  }
}

let recWarned = false;

/** `__kfifo_in_r`: one record, all or nothing. */
function inRec(s: State, buf: KfifoArray, off: number, n: number): number {
  const c = s.ctrl;
  const inv = c[IN]! >>> 0;
  if (n + s.recsize > unusedFor(s, c, inv, n + s.recsize)) return 0;
  const max = s.recsize === 1 ? 0xff : 0xffff;
  if (n > max && !recWarned) {
    // The kernel's kfifo_in does not clamp (only kfifo_from_user does): it stores the truncated
    // header and every byte, and the reader then misparses the rest. Reproduced, and reported.
    recWarned = true;
    kwarn('KTIMERS_WARN_KFIFO_RECORD_TOO_LONG', `kfifo_in: a ${n}-byte record does not fit a ${s.recsize}-byte length header (max ${max}); stored as the kernel stores it, with the header truncated to ${n & max}: the reader will misparse what follows`);
  }
  const d = s.data as Uint8Array;
  d[inv & s.mask] = n;
  if (s.recsize === 2) d[(inv + 1) & s.mask] = n >>> 8;
  copyIn(s, buf, off, n, inv + s.recsize);
  publishIn(c, inv + n + s.recsize);
  return n;
}

/**
 * `kfifo_in()`: copies up to `n` elements from `buf` (starting at `buf[offset]`) into the fifo and
 * returns how many: `min(n, size − len)` — **partial copies are normal**, 0 when full.
 *
 * Record fifo: stores exactly one record of `n` bytes: header + payload, returns `n`; if
 * `n + recsize` bytes are not free it stores nothing and returns 0 (a zero-length record also
 * returns 0: `kfifo_len` tells them apart). As in the kernel, a record longer than the header can
 * say (255 / 65535) is not clamped: the header is truncated and every byte stored; ktimers adds a
 * `KtimersWarning` (`KTIMERS_WARN_KFIFO_RECORD_TOO_LONG`, once).
 *
 * Differences: `buf + offset` replaces C's pointer arithmetic; `buf` must be the fifo's typed array
 * type (Uint8Array, or a Buffer, for record fifos). Allocates nothing. Producer side only.
 *
 * @param n - elements (record: bytes) to copy; default: the rest of `buf` after `offset`.
 * @param offset - index in `buf` of the first element; default 0.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 * @param buf - a typed array of the fifo's element type (record fifos: a Uint8Array).
 */
export function kfifo_in(fifo: Kfifo<number | bigint>, buf: KfifoArray, n?: number | bigint, offset?: number | bigint): number {
  const s = live(fifo, 'kfifo_in');
  const cnt = spanArg(inBufArg(s, buf, 'buf'), n, offset);
  const off = offset === undefined ? 0 : Number(offset);
  if (s.recsize !== 0) return inRec(s, buf, off, cnt);
  const c = s.ctrl;
  const inv = c[IN]! >>> 0; // only this side writes `in`
  const unused = unusedFor(s, c, inv, cnt);
  const l = cnt > unused ? unused : cnt;
  if (l === 0) return 0;
  copyIn(s, buf, off, l, inv);
  publishIn(c, inv + l);
  return l;
}

/**
 * `kfifo_put()`: stores one element: 1, or 0 if the fifo is full. Record fifo: a 1-byte record
 * (1, or 0 if it does not fit). The value is converted as the typed array converts it (integers
 * wrap modulo 2^bits, as C's assignment does). Allocates nothing. Producer side only.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 * @param val - the element (a bigint for 's64' / 'u64', else a number).
 */
export function kfifo_put<V extends number | bigint>(fifo: Kfifo<V>, val: V): number {
  const s = live(fifo, 'kfifo_put');
  valueArg(s, val);
  const c = s.ctrl;
  const inv = c[IN]! >>> 0;
  const unused = unusedFor(s, c, inv, 1 + s.recsize);
  if (s.recsize !== 0) {
    if (1 + s.recsize > unused) return 0;
    const d = s.data as Uint8Array;
    d[inv & s.mask] = 1;
    if (s.recsize === 2) d[(inv + 1) & s.mask] = 0;
    d[(inv + s.recsize) & s.mask] = val as number;
    publishIn(c, inv + 1 + s.recsize);
    return 1;
  }
  if (unused === 0 || unused > s.size) return 0; // full (len > mask; len past the size wraps `unused`)
  (s.data as Uint8Array)[inv & s.mask] = val as number;
  publishIn(c, inv + 1);
  return 1;
}

// --- consumer ---------------------------------------------------------------------

/**
 * `kfifo_out()`: copies up to `n` elements into `buf` (from `buf[offset]`) and removes them;
 * returns `min(n, len)`. Record fifo: 0 if empty; otherwise copies `min(n, L)` bytes of the next
 * record (length `L`) and removes the **whole** record (bytes beyond `n` are lost), returning the
 * copied count. The kernel's `buf` pointer is the caller's typed array here; nothing is allocated.
 * Consumer side only.
 *
 * @param n - elements (record: bytes) at most; default: the rest of `buf` after `offset`.
 * @param offset - index in `buf` of the first slot to fill; default 0.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 * @param buf - a typed array of the fifo's element type (record fifos: a Uint8Array).
 */
export function kfifo_out(fifo: Kfifo<number | bigint>, buf: KfifoArray, n?: number | bigint, offset?: number | bigint): number {
  return outImpl(fifo, buf, n, offset, true, 'kfifo_out');
}

/**
 * `kfifo_out_peek()`: as {@link kfifo_out} but removes nothing. Consumer side only.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 * @param buf - a typed array of the fifo's element type (record fifos: a Uint8Array).
 * @param n - elements (record: bytes) at most; default: the rest of `buf` after `offset`.
 * @param offset - index in `buf` of the first slot to fill; default 0.
 */
export function kfifo_out_peek(fifo: Kfifo<number | bigint>, buf: KfifoArray, n?: number | bigint, offset?: number | bigint): number {
  return outImpl(fifo, buf, n, offset, false, 'kfifo_out_peek');
}

export function outImpl(fifo: unknown, buf: KfifoArray, n: unknown, offset: unknown, consume: boolean, name: string): number {
  const s = live(fifo, name);
  const cnt = spanArg(outBufArg(s, buf, 'buf'), n, offset);
  const off = offset === undefined ? 0 : Number(offset);
  const c = s.ctrl;
  const out = c[OUT]! >>> 0; // only this side writes `out`
  if (s.recsize !== 0) {
    if (lenFor(s, c, out, 1) === 0) return 0;
    const L = peekN(s, out);
    const l = cnt > L ? L : cnt;
    copyOut(s, buf, off, l, out + s.recsize);
    if (consume) publishOut(c, out + L + s.recsize);
    return l;
  }
  const len = lenFor(s, c, out, cnt);
  const l = cnt > len ? len : cnt;
  if (l === 0) return 0;
  copyOut(s, buf, off, l, out);
  if (consume) publishOut(c, out + l);
  return l;
}

/**
 * `kfifo_get()`: removes and returns the next element, or `undefined` if the fifo is empty (the
 * kernel returns 0 and leaves `*val` untouched; 1 and the value otherwise). Record fifo: the first
 * byte of the next record, which is removed whole; a zero-length record gives `undefined` (the
 * kernel returns 0) and is removed too. Allocates nothing, except the bigint of a 64-bit element.
 * Consumer side only.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_get<V extends number | bigint>(fifo: Kfifo<V>): V | undefined {
  return getImpl(fifo, true, 'kfifo_get') as V | undefined;
}

/**
 * `kfifo_peek()`: as {@link kfifo_get}, but removes nothing.
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_peek<V extends number | bigint>(fifo: Kfifo<V>): V | undefined {
  return getImpl(fifo, false, 'kfifo_peek') as V | undefined;
}

export function getImpl(fifo: unknown, consume: boolean, name: string): number | bigint | undefined {
  const s = live(fifo, name);
  const c = s.ctrl;
  const out = c[OUT]! >>> 0;
  if (lenFor(s, c, out, 1) === 0) return undefined;
  if (s.recsize !== 0) {
    const L = peekN(s, out);
    const v = L === 0 ? undefined : (s.data as Uint8Array)[(out + s.recsize) & s.mask];
    if (consume) publishOut(c, out + L + s.recsize);
    return v;
  }
  const v = (s.data as Uint8Array)[out & s.mask];
  if (consume) publishOut(c, out + 1);
  return v;
}

/**
 * `kfifo_out_linear()`: the contiguous readable run, for processing in place in `fifo.data`:
 * returns `min(n, len, size − (out & mask))` and writes `tail = out & mask` to `tail[0]` (the
 * kernel's `unsigned int *tail`). Record fifo: 0 if empty; otherwise `tail = out + recsize`
 * (**not** masked, as in the kernel's `__kfifo_out_linear_r`) and `min(n, L)`. Removes nothing:
 * follow with {@link kfifo_skip_count} (plain fifos).
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 * @param tail - a Uint32Array whose [0] receives the slot.
 * @param n - elements (record: bytes) at most.
 */
export function kfifo_out_linear(fifo: Kfifo<number | bigint>, tail: Uint32Array, n: number | bigint): number {
  const s = live(fifo, 'kfifo_out_linear');
  if (tagOf(tail) !== 'Uint32Array' || taLength.call(tail) < 1) {
    throw typeError('ERR_INVALID_ARG_TYPE', `tail must be a Uint32Array of length >= 1 (tail[0] receives the slot), got ${describe(tail)}`);
  }
  const cnt = uintArg(n, 'n');
  const c = s.ctrl;
  const out = c[OUT]! >>> 0;
  const inv = Atomics.load(c, IN) >>> 0;
  if (s.recsize !== 0) {
    if (inv === out) return 0;
    tail[0] = out + s.recsize;
    return Math.min(cnt, peekN(s, out));
  }
  const off = out & s.mask;
  tail[0] = off;
  return Math.min(cnt, (inv - out) >>> 0, s.size - off);
}

/**
 * `kfifo_skip_count()`: plain fifo: `out += count` **with no check**, as in the kernel: skipping
 * more than `kfifo_len` leaves the counters inconsistent (`kfifo_len` wraps to near 2^32). Record
 * fifo: removes one whole record (reading its header without an emptiness check, as the kernel
 * does); `count` is ignored. Consumer side only.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 * @param count - elements to skip (`unsigned int`; ignored by record fifos).
 */
export function kfifo_skip_count(fifo: Kfifo<number | bigint>, count: number | bigint): void {
  const s = live(fifo, 'kfifo_skip_count');
  const cnt = uintArg(count, 'count');
  const c = s.ctrl;
  const out = c[OUT]! >>> 0;
  if (s.recsize !== 0) publishOut(c, out + peekN(s, out) + s.recsize);
  else publishOut(c, out + cnt);
}

/**
 * `kfifo_skip()`: `kfifo_skip_count(fifo, 1)`.
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_skip(fifo: Kfifo<number | bigint>): void {
  kfifo_skip_count(fifo, 1);
}

/**
 * `kfifo_reset()`: `in = out = 0`. As in the kernel, only when no other thread uses the fifo.
 * Does not reopen a closed fifo.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_reset(fifo: Kfifo<number | bigint>): void {
  const c = st(fifo).ctrl;
  Atomics.store(c, IN, 0);
  Atomics.add(c, GEN, 1);
  publishOut(c, 0);
}

/**
 * `kfifo_reset_out()`: `out = in`: discards the content, the counters keep their values. Safe from
 * the consumer while the producer runs.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_reset_out(fifo: Kfifo<number | bigint>): void {
  const c = st(fifo).ctrl;
  publishOut(c, Atomics.load(c, IN));
}
