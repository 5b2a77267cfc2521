/**
 * kfifo: the kernel's single-producer / single-consumer lock-free ring
 * (`include/linux/kfifo.h`, `lib/kfifo.c`) over a SharedArrayBuffer, so a
 * worker_thread (a kthread_worker, a workqueue worker, any Worker) can hand
 * results to another thread without a message per event.
 *
 * Design.
 * - A fifo is a plain object `{ type, ctrl, data }`: `ctrl` is an Int32Array of
 *   control words and `data` the typed array of the elements (a Uint8Array for
 *   record fifos), both over SharedArrayBuffers. It survives the structured
 *   clone of `postMessage` / `workerData` as itself: the clone shares the same
 *   memory, and every kfifo_* call accepts it. What the calls derive from it
 *   (mask, element size, record header size) is validated once per object per
 *   thread and kept in a WeakMap, so the hot paths do one lookup and no
 *   allocation, and a forged or damaged object is refused with a coded error.
 * - The counters `in` and `out` are the kernel's unsigned 32-bit counters that
 *   wrap freely; they are stored as int32 and read back with `>>> 0`. The slot
 *   of a counter is `c & mask`; the whole buffer is usable (full = len == size).
 * - Memory ordering (the kernel's smp_wmb before advancing a counter): the
 *   producer writes the elements, then publishes with `Atomics.store(in)`; the
 *   consumer reads `in` with `Atomics.load` before touching the elements, and
 *   frees slots with `Atomics.store(out)` only after copying them out. Each side
 *   writes one counter only, so each sees the other's at worst stale, which can
 *   only make the free space or the length look smaller.
 * - `in` and `out` sit 64 bytes apart, so the two threads do not bounce one
 *   cache line on every operation; and each side keeps (per thread, in the
 *   WeakMap's record) its last reading of the other side's counter, reading it
 *   afresh only when that reading does not already show enough room or data.
 *   Since the real counter can only be further on, the counts returned are
 *   still exactly the kernel's. kfifo_reset and the test hook move counters
 *   backwards; they bump a generation word that voids those readings.
 * - Waiting (a ktimers addition: nothing in the kernel's kfifo sleeps): a
 *   sleeper sets a waiter flag, re-checks the fifo, and sleeps on a sequence
 *   word with `Atomics.wait` / `Atomics.waitAsync`. The other side, after
 *   publishing its counter, reads the flag and only if it is set takes it
 *   (exchange to 0), bumps the sequence word and notifies. Atomics are sequentially
 *   consistent, so either the sleeper's re-check sees the new counter or the
 *   publisher sees the registration (the Dekker pattern): no lost wake-up, and
 *   no notify (a futex syscall) per element when nobody sleeps. The sleeper
 *   waits on the sequence word rather than on the counter so that
 *   `kfifo_close` can wake it too.
 */
import { describe, KtimersError, kwarn, rangeError, typeError } from './errors.js';
import { intArg } from './internal/validate.js';

/** Element types of a plain fifo: the kernel's u8/s8/…/u64 (and float, which C allows as a fifo element). */
export type KfifoElementType = 'u8' | 's8' | 'u16' | 's16' | 'u32' | 's32' | 'f32' | 'f64' | 's64' | 'u64';
/**
 * What a fifo holds, as its declaration says in C: an element type (`DECLARE_KFIFO_PTR(f, u32)`), or
 * variable-length byte records behind a 1- or 2-byte length header (`struct kfifo_rec_ptr_1` / `_2`).
 */
export type KfifoType = KfifoElementType | 'rec_ptr_1' | 'rec_ptr_2';

/** The typed array that holds (and that `kfifo_in` / `kfifo_out` take) elements of a type. */
export type KfifoArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/**
 * A kfifo: plain data over SharedArrayBuffers. Send it to a Worker with `postMessage` or
 * `workerData` and use it there with the same calls; do not change its fields.
 * `V` is the value type of one element: `bigint` for 's64'/'u64', `number` otherwise
 * (record fifos: the byte of `kfifo_put` / `kfifo_get`).
 */
export interface Kfifo<V extends number | bigint = number> {
  /** The declaration: element type, or record fifo with its header size. */
  readonly type: KfifoType;
  /** Control words (counters, waiter flags, the closed flag). */
  readonly ctrl: Int32Array;
  /** The ring: `kfifo_size()` elements (record fifos: bytes). */
  readonly data: KfifoArray;
  /** Type-level only (the element's value type); never present at runtime. */
  readonly __v?: V;
}

/** A fifo of bigint elements ('s64', 'u64'). */
export type KfifoBig = Kfifo<bigint>;

/** What `kfifo_wait` and `kfifo_wait_async` report. */
export type KfifoWaitResult = 'ok' | 'closed' | 'timed-out';

// --- control words ----------------------------------------------------------

const IN = 0; // producer's line
const DATA_WAITERS = 1;
const DATA_SEQ = 2;
const CLOSED = 3;
const OUT = 16; // consumer's line, 64 bytes on
const SPACE_WAITERS = 17;
const SPACE_SEQ = 18;
/** Bumped by kfifo_reset and kfifo_set_counters, which move the counters backwards. */
const GEN = 32; // a line of its own: read by both sides on every call, written almost never
/** Int32 words of `ctrl` (three 64-byte lines). */
const CTRL_WORDS = 48;
const CTRL_BYTES = CTRL_WORDS * 4;

type Ctor = { new (b: SharedArrayBuffer, off: number, len: number): KfifoArray; readonly BYTES_PER_ELEMENT: number; readonly name: string };
const CTORS: Record<KfifoType, Ctor> = {
  u8: Uint8Array, s8: Int8Array, u16: Uint16Array, s16: Int16Array, u32: Uint32Array, s32: Int32Array,
  f32: Float32Array, f64: Float64Array, s64: BigInt64Array, u64: BigUint64Array, rec_ptr_1: Uint8Array, rec_ptr_2: Uint8Array,
};
const TYPES = Object.keys(CTORS) as KfifoType[];

// The intrinsic getters: they answer for typed arrays of any realm (a Worker's included),
// and run no user code on a hostile object.
const TA_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
const taTag = Object.getOwnPropertyDescriptor(TA_PROTO, Symbol.toStringTag)!.get as (this: unknown) => string | undefined;
const taBuffer = Object.getOwnPropertyDescriptor(TA_PROTO, 'buffer')!.get as (this: unknown) => ArrayBufferLike;
const taLength = Object.getOwnPropertyDescriptor(TA_PROTO, 'length')!.get as (this: unknown) => number;
const taByteOffset = Object.getOwnPropertyDescriptor(TA_PROTO, 'byteOffset')!.get as (this: unknown) => number;
const taByteLength = Object.getOwnPropertyDescriptor(TA_PROTO, 'byteLength')!.get as (this: unknown) => number;
const sabByteLength = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')!.get as (this: unknown) => number;

function tagOf(v: unknown): string | undefined {
  return taTag.call(v);
}
function isShared(b: unknown): boolean {
  try {
    sabByteLength.call(b);
    return true;
  } catch {
    return false;
  }
}

/** What a fifo object stands for, validated once per object per thread. */
class State {
  constructor(
    readonly ctrl: Int32Array,
    readonly data: KfifoArray,
    /** size − 1; 0 once freed (the kernel's mask after kfifo_free). */
    readonly mask: number,
    readonly size: number,
    readonly esize: number,
    readonly recsize: 0 | 1 | 2,
    /** The Symbol.toStringTag of the typed arrays kfifo_in/kfifo_out take. */
    readonly tag: string,
    readonly bigint: boolean,
  ) {
    this.ringView = esize === 1 && size > 1 ? new DataView(taBuffer.call(data) as ArrayBuffer, taByteOffset.call(data), taByteLength.call(data)) : undefined;
  }
  /**
   * This thread's last reading of the other side's counter (`out` for the producer, `in` for
   * the consumer), and the reset generation it was read in. Only ever stale in the safe
   * direction (less space, less data), so a hot path that finds enough with it skips reading
   * the other side's cache line; when it does not find enough it reads afresh, which gives the
   * kernel's exact count.
   */
  outSeen = 0;
  inSeen = 0;
  /** The generations of `outSeen` and `inSeen` (one thread may be both sides). */
  outGen = 0;
  inGen = 0;
  /**
   * Per side (kfifo_in's, kfifo_out's): the last buffer validated, its length, and a DataView of
   * it, made the second time in a row the same buffer comes (so a caller that alternates buffers
   * allocates no view per call). Kept apart so that one thread using both sides does not
   * revalidate on every call.
   */
  inBuf: unknown = undefined;
  inLen = 0;
  inHit = false;
  inView: DataView | undefined = undefined;
  outBuf: unknown = undefined;
  outLen = 0;
  outHit = false;
  outView: DataView | undefined = undefined;
  /** A DataView of the ring (byte fifos), for copying a word at a time. */
  readonly ringView: DataView | undefined;
}

const states = new WeakMap<object, State>();

function fifoError(v: unknown): TypeError {
  return typeError('ERR_INVALID_ARG_TYPE', `fifo must be a kfifo (from kfifo_alloc or kfifo_init, or a clone of one), got ${describe(v)}`);
}

/** Validates a fifo object the first time this thread sees it. */
function attach(v: unknown): State {
  if (typeof v !== 'object' || v === null) throw fifoError(v);
  let type: unknown, ctrl: unknown, data: unknown;
  try {
    // Own data properties only: a getter or a Proxy trap could answer differently later.
    const d = (k: string) => {
      const p = Object.getOwnPropertyDescriptor(v, k);
      return p !== undefined && 'value' in p ? p.value : undefined;
    };
    type = d('type');
    ctrl = d('ctrl');
    data = d('data');
  } catch {
    throw fifoError(v);
  }
  if (typeof type !== 'string' || !TYPES.includes(type as KfifoType)) throw fifoError(v);
  const t = type as KfifoType;
  const C = CTORS[t];
  if (tagOf(ctrl) !== 'Int32Array' || taLength.call(ctrl) !== CTRL_WORDS || !isShared(taBuffer.call(ctrl))) throw fifoError(v);
  if (tagOf(data) !== C.name || !isShared(taBuffer.call(data))) throw fifoError(v);
  const size = taLength.call(data);
  if (size < 2 || size > 2 ** 31 || (size & (size - 1)) !== 0) throw fifoError(v);
  if (taBuffer.call(ctrl) === taBuffer.call(data)) {
    // One buffer (as kfifo_alloc makes it): the ring must not overlap the control words.
    const c0 = taByteOffset.call(ctrl);
    const d0 = taByteOffset.call(data);
    if (d0 < c0 + CTRL_BYTES && c0 < d0 + taByteLength.call(data)) throw fifoError(v);
  }
  const recsize = t === 'rec_ptr_1' ? 1 : t === 'rec_ptr_2' ? 2 : 0;
  const s = new State(ctrl as Int32Array, data as KfifoArray, size - 1, size, C.BYTES_PER_ELEMENT, recsize, C.name, t === 's64' || t === 'u64');
  states.set(v, s);
  return s;
}

// The last fifo object this thread looked up, and its state: a producer or consumer loop passes
// the same object on every call, and an identity compare is cheaper than a WeakMap lookup.
// kfifo_free replaces an object's state, so it voids this entry.
let lastFifo: unknown = undefined;
let lastState: State | undefined = undefined;

function st(fifo: unknown): State {
  if (fifo === lastFifo && lastState !== undefined) return lastState;
  let s = typeof fifo === 'object' && fifo !== null ? states.get(fifo) : undefined;
  if (s === undefined) s = attach(fifo);
  lastFifo = fifo;
  lastState = s;
  return s;
}

/** For the calls that touch the ring: a freed fifo has none (the kernel would dereference NULL). */
function live(fifo: unknown, name: string): State {
  const s = st(fifo);
  if (s.mask === 0) throw typeError('ERR_KTIMERS_KFIFO_FREED', `${name}: the fifo was freed by kfifo_free on this thread`);
  return s;
}

function badBuf(s: State, buf: unknown, name: string): TypeError {
  return typeError('ERR_INVALID_ARG_TYPE', `${name} must be a ${s.tag} (the fifo's element type), got ${describe(buf)}`);
}

/** kfifo_in's buf: validated once per buffer in a row; returns its length. */
function inBufArg(s: State, buf: unknown, name: string): number {
  if (buf === s.inBuf) {
    s.inHit = true;
    return s.inLen;
  }
  if (tagOf(buf) !== s.tag) throw badBuf(s, buf, name);
  s.inLen = taLength.call(buf);
  s.inBuf = buf;
  s.inHit = false;
  s.inView = undefined;
  return s.inLen;
}

/** kfifo_out's buf, likewise. */
function outBufArg(s: State, buf: unknown, name: string): number {
  if (buf === s.outBuf) {
    s.outHit = true;
    return s.outLen;
  }
  if (tagOf(buf) !== s.tag) throw badBuf(s, buf, name);
  s.outLen = taLength.call(buf);
  s.outBuf = buf;
  s.outHit = false;
  s.outView = undefined;
  return s.outLen;
}

function viewOf(buf: unknown): DataView {
  return new DataView(taBuffer.call(buf) as ArrayBuffer, taByteOffset.call(buf), taByteLength.call(buf));
}

/** An `unsigned int` count (a number, or a bigint). */
function uintArg(v: unknown, name: string): number {
  if (typeof v === 'number' && v >>> 0 === v) return v;
  return Number(intArg(v, name, 0n, 0xffffffffn, 'unsigned int'));
}

/** Validates (buf, n, offset) and returns n; n defaults to what is left of buf after offset. */
function spanArg(len: number, n: unknown, offset: unknown): number {
  if (n === undefined && offset === undefined) return len; // the whole buffer: nothing to check
  const off = offset === undefined ? 0 : uintArg(offset, 'offset');
  if (off > len) throw rangeError('ERR_OUT_OF_RANGE', `offset must be in [0, ${len}] (the buffer's length), got ${off}`);
  if (n === undefined) return len - off;
  const c = uintArg(n, 'n');
  if (c > len - off) throw rangeError('ERR_OUT_OF_RANGE', `n must be in [0, ${len - off}] (the buffer's length after offset), got ${c}`);
  return c;
}

// --- copying (kfifo_copy_in / kfifo_copy_out: two pieces across the end) ---

// Below this many elements an indexed loop beats TypedArray.prototype.set, whose call and
// argument checks cost more than copying a short record byte by byte.
const SET_MIN = 32;
// From this many bytes on, a byte fifo copies two bytes per step (see copyIn).
const WORD_MIN = 8;

function copyIn(s: State, src: KfifoArray, off: number, n: number, at: number): void {
  // Index from the slot, not the counter: a counter above 2^31 is no small integer, and the
  // loop would do double arithmetic per element.
  const start = at & s.mask;
  if (start + n <= s.size) {
    // One piece (the common case). set() with the caller's whole array allocates nothing; a
    // subarray view of it would allocate one object per call, so a part of the array is copied
    // by the loop (or, for 64-bit elements, whose element loop boxes a bigint per value, by
    // set on a subarray, as before).
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
    if (n >= SET_MIN && off === 0 && n === taLength.call(src)) {
      (s.data as Uint8Array).set(src as Uint8Array, start);
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
    // One piece: the loop needs no mask. (set() would need a subarray of the ring: an
    // allocation per call.)
    if (n >= WORD_MIN && s.ringView !== undefined && s.outHit) {
      const v = s.outView ?? (s.outView = viewOf(dst));
      const r = s.ringView;
      let i = 0;
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

function publishOut(c: Int32Array, v: number): void {
  Atomics.store(c, OUT, v | 0);
  if (Atomics.load(c, SPACE_WAITERS) !== 0 && Atomics.exchange(c, SPACE_WAITERS, 0) !== 0) {
    Atomics.add(c, SPACE_SEQ, 1);
    Atomics.notify(c, SPACE_SEQ);
  }
}

/** The record header at counter `at` (`__kfifo_peek_n`): low byte first. */
function peekN(s: State, at: number): number {
  const d = s.data as Uint8Array;
  let l = d[at & s.mask]!;
  if (s.recsize === 2) l |= d[(at + 1) & s.mask]! << 8;
  return l;
}

// --- allocation -----------------------------------------------------------------

function typeArg(v: unknown): KfifoType {
  if (typeof v !== 'string' || !TYPES.includes(v as KfifoType)) {
    throw typeError('ERR_INVALID_ARG_TYPE', `type must be one of ${TYPES.map((t) => `'${t}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as KfifoType;
}

function makeFifo(type: KfifoType, ctrl: Int32Array, data: KfifoArray): Kfifo<never> {
  const f = { type, ctrl, data } as Kfifo<never>;
  attach(f);
  return f;
}

/**
 * `kfifo_alloc()`: a new fifo of `size` elements of `type`, **rounded up** to a power of two
 * (`roundup_pow_of_two`, as `__kfifo_alloc` does), with `in = out = 0`. Record fifos count bytes.
 *
 * The kernel fills a declared fifo and returns 0 or an errno; ktimers returns the fifo and throws
 * where the kernel returns an error:
 * - `-EINVAL` (the rounded size is below 2: `size` 0 or 1, or above 2^31, which rounds to 2^32 and
 *   truncates to 0 in the kernel's `unsigned int`): `RangeError` `ERR_OUT_OF_RANGE`.
 * - `-ENOMEM` (the SharedArrayBuffer cannot be allocated): `KtimersError` with code `ENOMEM`.
 * - `-EINVAL` for an in-place (`DECLARE_KFIFO`) fifo has no equivalent: every ktimers fifo is a
 *   pointer fifo.
 *
 * @param type - the element type ('u8' … 'u64', 'f32', 'f64'), or 'rec_ptr_1' / 'rec_ptr_2' for a
 *   record fifo (`struct kfifo_rec_ptr_1` / `_2`).
 * @param size - number of elements (`unsigned int`).
 */
export function kfifo_alloc(type: 's64' | 'u64', size: number | bigint): Kfifo<bigint>;
export function kfifo_alloc(type: Exclude<KfifoType, 's64' | 'u64'>, size: number | bigint): Kfifo<number>;
export function kfifo_alloc(type: KfifoType, size: number | bigint): Kfifo<number> | Kfifo<bigint>;
export function kfifo_alloc(type: KfifoType, size: number | bigint): Kfifo<number> | Kfifo<bigint> {
  const t = typeArg(type);
  const n = uintArg(size, 'size');
  // roundup_pow_of_two; 0 gives 1 (the kernel's intermediate is undefined, below 2 either way)
  const rounded = n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
  if (rounded < 2 || rounded > 2 ** 31) {
    throw rangeError('ERR_OUT_OF_RANGE', `kfifo_alloc: size ${n} rounds up to ${rounded > 2 ** 31 ? '2^32 (0 in an unsigned int)' : rounded} elements; at least 2 and at most 2^31 (the kernel returns -EINVAL)`);
  }
  const C = CTORS[t];
  let sab: SharedArrayBuffer;
  try {
    sab = new SharedArrayBuffer(CTRL_BYTES + rounded * C.BYTES_PER_ELEMENT);
  } catch (e) {
    const err = new KtimersError('ENOMEM', `kfifo_alloc: cannot allocate ${rounded} elements of ${C.BYTES_PER_ELEMENT} bytes (the kernel returns -ENOMEM)`, { errno: 12 });
    Object.defineProperty(err, 'cause', { value: e, configurable: true, writable: true });
    throw err;
  }
  return makeFifo(t, new Int32Array(sab, 0, CTRL_WORDS), new C(sab, CTRL_BYTES, rounded));
}

/**
 * `kfifo_init()`: a fifo over the caller's shared memory. `size` is in **bytes** (default: all of
 * `buffer`); the element count `size / esize` is **rounded down** to a power of two
 * (`rounddown_pow_of_two`, as `__kfifo_init` does; the header's comment says "rounded-up", the code
 * rounds down). The buffer's bytes are used as they are; `in = out = 0`. The control words live in
 * a small SharedArrayBuffer of their own.
 *
 * Errors (the kernel returns `-EINVAL`, ktimers throws): fewer than 2 elements fit, or more than
 * 2^31: `RangeError` `ERR_OUT_OF_RANGE`. `buffer` not shared memory, or a view whose offset is not a
 * multiple of the element size: `TypeError` `ERR_INVALID_ARG_TYPE` / `RangeError` `ERR_OUT_OF_RANGE`.
 *
 * @param type - as for {@link kfifo_alloc}.
 * @param buffer - a SharedArrayBuffer, or a typed array / DataView over one (its bytes).
 * @param size - bytes of `buffer` to use (`unsigned int`).
 */
export function kfifo_init(type: 's64' | 'u64', buffer: SharedArrayBuffer | ArrayBufferView, size?: number | bigint): Kfifo<bigint>;
export function kfifo_init(type: Exclude<KfifoType, 's64' | 'u64'>, buffer: SharedArrayBuffer | ArrayBufferView, size?: number | bigint): Kfifo<number>;
export function kfifo_init(type: KfifoType, buffer: SharedArrayBuffer | ArrayBufferView, size?: number | bigint): Kfifo<number> | Kfifo<bigint>;
export function kfifo_init(type: KfifoType, buffer: SharedArrayBuffer | ArrayBufferView, size?: number | bigint): Kfifo<number> | Kfifo<bigint> {
  const t = typeArg(type);
  let sab: SharedArrayBuffer, base: number, avail: number;
  if (isShared(buffer)) {
    sab = buffer as SharedArrayBuffer;
    base = 0;
    avail = sabByteLength.call(buffer);
  } else if (ArrayBuffer.isView(buffer) && isShared(buffer.buffer)) {
    sab = buffer.buffer as SharedArrayBuffer;
    base = buffer.byteOffset;
    avail = buffer.byteLength;
  } else {
    throw typeError('ERR_INVALID_ARG_TYPE', `buffer must be a SharedArrayBuffer or a view over one, got ${describe(buffer)}`);
  }
  const bytes = size === undefined ? avail : uintArg(size, 'size');
  if (bytes > avail) throw rangeError('ERR_OUT_OF_RANGE', `size must be in [0, ${avail}] (the buffer's bytes), got ${bytes}`);
  const C = CTORS[t];
  if (base % C.BYTES_PER_ELEMENT !== 0) {
    throw rangeError('ERR_OUT_OF_RANGE', `buffer's byteOffset ${base} is not a multiple of the element size ${C.BYTES_PER_ELEMENT}`);
  }
  const n = Math.floor(bytes / C.BYTES_PER_ELEMENT);
  const rounded = n < 2 ? n : 2 ** Math.floor(Math.log2(n));
  if (rounded < 2 || rounded > 2 ** 31) {
    throw rangeError('ERR_OUT_OF_RANGE', `kfifo_init: ${bytes} bytes hold ${n} elements of ${C.BYTES_PER_ELEMENT} bytes; at least 2 are needed (the kernel returns -EINVAL)`);
  }
  const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_BYTES));
  return makeFifo(t, ctrl, new C(sab, base, rounded));
}

/** The state of a freed fifo: the kernel zeroes in, out, mask, esize and data. */
function freedState(s: State): State {
  return new State(new Int32Array(CTRL_WORDS), new Uint8Array(0), 0, 1, 0, s.recsize, s.tag, s.bigint);
}

/**
 * `kfifo_free()`: this fifo object is freed on this thread. Afterwards, as in the kernel,
 * `kfifo_initialized` is false, `kfifo_size` 1, `kfifo_len` 0, `kfifo_esize` 0; the calls that
 * touch the ring throw `TypeError` `ERR_KTIMERS_KFIFO_FREED` (the kernel would dereference NULL).
 *
 * Differences: the memory goes when the last thread drops its copy (clones in other threads keep
 * working: they are other objects), and `kfifo_free` also closes the fifo ({@link kfifo_close}) so
 * that a thread sleeping in {@link kfifo_wait} does not sleep forever.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_free(fifo: Kfifo<number | bigint>): void {
  const s = st(fifo);
  if (s.mask === 0) return;
  closeCtrl(s.ctrl);
  states.set(fifo, freedState(s));
  lastFifo = undefined;
  lastState = undefined;
}

// --- queries ----------------------------------------------------------------------

function lenOf(c: Int32Array): number {
  return (Atomics.load(c, IN) - Atomics.load(c, OUT)) >>> 0;
}

/**
 * `kfifo_initialized()`: false once freed.
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_initialized(fifo: Kfifo<number | bigint>): boolean {
  return st(fifo).mask !== 0;
}

/**
 * `kfifo_size()`: the capacity in elements (record fifos: bytes, headers included); 1 once freed.
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_size(fifo: Kfifo<number | bigint>): number {
  return st(fifo).mask + 1;
}

/**
 * `kfifo_esize()`: bytes per element (1 for record fifos; 0 once freed).
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_esize(fifo: Kfifo<number | bigint>): number {
  return st(fifo).esize;
}

/**
 * `kfifo_recsize()`: the record header size: 0 (plain fifo), 1 or 2.
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_recsize(fifo: Kfifo<number | bigint>): number {
  return st(fifo).recsize;
}

/**
 * `kfifo_len()`: `in − out` (mod 2^32): elements held (record fifos: bytes, headers included).
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_len(fifo: Kfifo<number | bigint>): number {
  return lenOf(st(fifo).ctrl);
}

/**
 * `kfifo_is_empty()`: `in == out`.
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_is_empty(fifo: Kfifo<number | bigint>): boolean {
  const c = st(fifo).ctrl;
  return Atomics.load(c, IN) === Atomics.load(c, OUT);
}

/**
 * `kfifo_is_full()`: `len > mask`.
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_is_full(fifo: Kfifo<number | bigint>): boolean {
  const s = st(fifo);
  return lenOf(s.ctrl) > s.mask;
}

/**
 * `kfifo_avail()`: plain fifo: free elements (`size − len`). Record fifo: the largest payload one
 * record could have now: with `a = size − len`, 0 if `a ≤ recsize`, else `min(a − recsize, 255)`
 * (`rec_ptr_1`) or `min(a − recsize, 65535)` (`rec_ptr_2`).
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_avail(fifo: Kfifo<number | bigint>): number {
  const s = st(fifo);
  const a = (s.size - lenOf(s.ctrl)) >>> 0;
  if (s.recsize === 0) return a;
  if (a <= s.recsize) return 0;
  const max = s.recsize === 1 ? 0xff : 0xffff;
  return Math.min(a - s.recsize, max);
}

/**
 * `kfifo_peek_len()`: plain fifo: `len × esize` (bytes). Record fifo: the length header of the next
 * record, read **without an emptiness check**, as the kernel does (stale bytes on an empty fifo:
 * check {@link kfifo_is_empty} first).
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_peek_len(fifo: Kfifo<number | bigint>): number {
  const s = live(fifo, 'kfifo_peek_len');
  if (s.recsize === 0) return (lenOf(s.ctrl) * s.esize) >>> 0;
  return peekN(s, Atomics.load(s.ctrl, OUT) >>> 0);
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

function outImpl(fifo: unknown, buf: KfifoArray, n: unknown, offset: unknown, consume: boolean, name: string): number {
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

function getImpl(fifo: unknown, consume: boolean, name: string): number | bigint | undefined {
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

// --- waiting (ktimers additions) ---------------------------------------------------

function closeCtrl(c: Int32Array): void {
  Atomics.store(c, CLOSED, 1);
  Atomics.add(c, DATA_SEQ, 1);
  Atomics.notify(c, DATA_SEQ);
  Atomics.add(c, SPACE_SEQ, 1);
  Atomics.notify(c, SPACE_SEQ);
}

/**
 * Closes the fifo (a ktimers addition: the end-of-stream signal). Threads sleeping in
 * {@link kfifo_wait} / {@link kfifo_wait_space} (and their async forms) wake; from now on they
 * return 'closed' once the fifo is empty (consumer) or at once (producer), and
 * {@link kfifo_reader} ends after the last element. The data already in the fifo stays readable;
 * `kfifo_in` still works (closing is advice to the consumer, not a lock).
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_close(fifo: Kfifo<number | bigint>): void {
  closeCtrl(st(fifo).ctrl);
}

/**
 * True once {@link kfifo_close} (or {@link kfifo_free}) was called on any thread.
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_is_closed(fifo: Kfifo<number | bigint>): boolean {
  return Atomics.load(st(fifo).ctrl, CLOSED) !== 0;
}

function timeoutArg(v: unknown): number {
  if (v === undefined) return Infinity;
  if (typeof v !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `timeout must be a number of milliseconds, got ${describe(v)}`);
  if (!(v >= 0)) throw rangeError('ERR_OUT_OF_RANGE', `timeout must be >= 0 (milliseconds) or Infinity, got ${describe(v)}`);
  return v;
}

/** The condition a sleeper waits for: data (consumer), or `need` free units (producer). */
function ready(c: Int32Array, space: boolean, size: number, need: number): boolean {
  const len = (Atomics.load(c, IN) - Atomics.load(c, OUT)) >>> 0;
  return space ? size - len >= need : len !== 0;
}

/**
 * Test hook: called inside a wait at the two points where the other side's publish races the
 * registration (0: before the flag is set, 1: after it, before the re-check), so a test can
 * publish exactly there. Unset in normal use (one load per sleep).
 */
let raceHook: ((point: 0 | 1) => void) | undefined;

/** @internal for tests: see raceHook. */
export function kfifoRaceHook(fn: ((point: 0 | 1) => void) | undefined): void {
  raceHook = fn;
}

function waitSync(s: State, space: boolean, need: number, timeout: number): KfifoWaitResult {
  const c = s.ctrl;
  const W = space ? SPACE_WAITERS : DATA_WAITERS;
  const SEQ = space ? SPACE_SEQ : DATA_SEQ;
  // The clock is read only when about to sleep: performance.now() returns a heap number, and a
  // producer that calls kfifo_wait_space after every full kfifo_in mostly finds room at once,
  // so reading it on entry would allocate per call.
  let end = -1;
  for (;;) {
    if (ready(c, space, s.size, need)) return 'ok';
    if (Atomics.load(c, CLOSED) !== 0) return 'closed';
    const seq = Atomics.load(c, SEQ);
    if (raceHook !== undefined) raceHook(0);
    Atomics.store(c, W, 1);
    if (raceHook !== undefined) raceHook(1);
    // Re-check after registering: a publisher that missed the registration published before it.
    // (A registration left behind costs the other side one notify later; it is not withdrawn,
    // since another sleeper of this side may share it.)
    if (ready(c, space, s.size, need) || Atomics.load(c, CLOSED) !== 0) continue;
    let left = Infinity;
    if (timeout !== Infinity) {
      const now = performance.now();
      if (end < 0) end = now + timeout;
      left = end - now;
    }
    const r = left > 0 ? Atomics.wait(c, SEQ, seq, left) : 'timed-out';
    if (r === 'timed-out') {
      if (ready(c, space, s.size, need)) return 'ok';
      return Atomics.load(c, CLOSED) !== 0 ? 'closed' : 'timed-out';
    }
  }
}

const noop = () => {};

/** Atomics.waitAsync (Node >= 16; the ES2022 lib typings used here predate it). */
const atomicsWaitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, t: number): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}).waitAsync;

async function waitAsync(s: State, space: boolean, need: number, timeout: number): Promise<KfifoWaitResult> {
  const c = s.ctrl;
  const W = space ? SPACE_WAITERS : DATA_WAITERS;
  const SEQ = space ? SPACE_SEQ : DATA_SEQ;
  const end = timeout === Infinity ? Infinity : performance.now() + timeout;
  let keep: ReturnType<typeof setInterval> | undefined;
  try {
    for (;;) {
      if (ready(c, space, s.size, need)) return 'ok';
      if (Atomics.load(c, CLOSED) !== 0) return 'closed';
      const seq = Atomics.load(c, SEQ);
      if (raceHook !== undefined) raceHook(0);
      Atomics.store(c, W, 1);
      if (raceHook !== undefined) raceHook(1);
      if (ready(c, space, s.size, need) || Atomics.load(c, CLOSED) !== 0) continue;
      const left = end - performance.now();
      let r: string;
      if (left <= 0) {
        r = 'timed-out';
      } else {
        const w = atomicsWaitAsync(c, SEQ, seq, left);
        if (w.async) {
          // A pending waitAsync does not keep Node's event loop alive; a consumer waiting
          // for its producer must, as a pending timer does.
          keep ??= setInterval(noop, 0x7fffffff);
          r = await w.value;
        } else {
          r = w.value;
        }
      }
      if (r === 'timed-out') {
        if (ready(c, space, s.size, need)) return 'ok';
        return Atomics.load(c, CLOSED) !== 0 ? 'closed' : 'timed-out';
      }
    }
  } finally {
    if (keep !== undefined) clearInterval(keep);
  }
}

/**
 * Blocks the calling thread (`Atomics.wait`) until the fifo is not empty: 'ok'; or closed and
 * empty: 'closed'; or `timeout` ms passed: 'timed-out'. For worker threads (on the main thread it
 * blocks the event loop). A ktimers addition: the kernel's kfifo never sleeps. The producer's
 * `kfifo_in` / `kfifo_put` notify only while someone sleeps here.
 *
 * @param timeout - milliseconds (default Infinity).
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_wait(fifo: Kfifo<number | bigint>, timeout?: number): KfifoWaitResult {
  const s = live(fifo, 'kfifo_wait');
  return waitSync(s, false, 1, timeoutArg(timeout));
}

/**
 * As {@link kfifo_wait}, without blocking: `Atomics.waitAsync`. While pending it keeps the event
 * loop alive, as a pending timer does.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 * @param timeout - milliseconds (default Infinity).
 */
export function kfifo_wait_async(fifo: Kfifo<number | bigint>, timeout?: number): Promise<KfifoWaitResult> {
  try {
    const s = live(fifo, 'kfifo_wait_async');
    return waitAsync(s, false, 1, timeoutArg(timeout));
  } catch (e) {
    return Promise.reject(e);
  }
}

function needArg(s: State, v: unknown): number {
  const n = v === undefined ? 1 : uintArg(v, 'n');
  if (n < 1 || n > s.size) throw rangeError('ERR_OUT_OF_RANGE', `n must be in [1, ${s.size}] (the fifo's size), got ${n}`);
  return n;
}

/**
 * Producer side of {@link kfifo_wait}: blocks until at least `n` elements (record fifos: bytes,
 * header included) are free: 'ok'; the fifo was closed: 'closed'; or the timeout: 'timed-out'.
 * The consumer's `kfifo_out` / `kfifo_get` / `kfifo_skip` notify only while someone sleeps here.
 *
 * @param n - free elements needed, in [1, size] (default 1).
 * @param timeout - milliseconds (default Infinity).
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_wait_space(fifo: Kfifo<number | bigint>, n?: number, timeout?: number): KfifoWaitResult {
  const s = live(fifo, 'kfifo_wait_space');
  const need = needArg(s, n);
  const t = timeoutArg(timeout);
  if (Atomics.load(s.ctrl, CLOSED) !== 0) return 'closed';
  return waitSync(s, true, need, t);
}

/**
 * As {@link kfifo_wait_space}, without blocking (`Atomics.waitAsync`).
 *
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 * @param n - free elements needed, in [1, size] (default 1).
 * @param timeout - milliseconds (default Infinity).
 */
export function kfifo_wait_space_async(fifo: Kfifo<number | bigint>, n?: number, timeout?: number): Promise<KfifoWaitResult> {
  try {
    const s = live(fifo, 'kfifo_wait_space_async');
    const need = needArg(s, n);
    const t = timeoutArg(timeout);
    if (Atomics.load(s.ctrl, CLOSED) !== 0) return Promise.resolve('closed');
    return waitAsync(s, true, need, t);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * The consumer as an async iterator: yields each element (record fifos: each record, as a new
 * Uint8Array; a fifo of 's64'/'u64': bigints) in order, sleeping with `Atomics.waitAsync` while
 * the fifo is empty, and ends when the fifo is closed ({@link kfifo_close}) and drained. Breaking
 * out of the loop leaves the remaining data in the fifo. A ktimers addition.
 *
 * ```ts
 * for await (const v of kfifo_reader(fifo)) handle(v);
 * ```
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 */
export function kfifo_reader(fifo: Kfifo<bigint>): AsyncIterableIterator<bigint>;
export function kfifo_reader(fifo: Kfifo<number>): AsyncIterableIterator<number | Uint8Array>;
export function kfifo_reader(fifo: Kfifo<number | bigint>): AsyncIterableIterator<number | bigint | Uint8Array>;
export function kfifo_reader(fifo: Kfifo<number | bigint>): AsyncIterableIterator<number | bigint | Uint8Array> {
  const s = live(fifo, 'kfifo_reader');
  return read(fifo, s);
}

async function* read(fifo: Kfifo<number | bigint>, s: State): AsyncGenerator<number | bigint | Uint8Array> {
  const c = s.ctrl;
  for (;;) {
    if (states.get(fifo)!.mask === 0) return; // freed under us
    const out = c[OUT]! >>> 0;
    if ((Atomics.load(c, IN) >>> 0) !== out) {
      if (s.recsize !== 0) {
        const rec = new Uint8Array(peekN(s, out));
        outImpl(fifo, rec, undefined, undefined, true, 'kfifo_reader');
        yield rec;
      } else {
        yield getImpl(fifo, true, 'kfifo_reader')!;
      }
      continue;
    }
    if ((await waitAsync(s, false, 1, Infinity)) === 'closed') return;
  }
}

/**
 * Test hook: sets `in` and `out` of an **empty** fifo to `x` (the same as `x` puts followed by `x`
 * gets), so tests can run across the 2^32 wrap. Throws `RangeError` `ERR_OUT_OF_RANGE` for `x`
 * outside [0, 2^32 − 1] and `ERR_KTIMERS_KFIFO_NOT_EMPTY` (a TypeError) if the fifo holds data.
 * @param fifo - a kfifo (from kfifo_alloc or kfifo_init, or a clone of one).
 * @param x - the counter value, in [0, 2^32 − 1].
 */
export function kfifo_set_counters(fifo: Kfifo<number | bigint>, x: number | bigint): void {
  const s = live(fifo, 'kfifo_set_counters');
  const v = uintArg(x, 'x');
  if (lenOf(s.ctrl) !== 0) throw typeError('ERR_KTIMERS_KFIFO_NOT_EMPTY', 'kfifo_set_counters: the fifo must be empty');
  Atomics.store(s.ctrl, OUT, v | 0);
  Atomics.store(s.ctrl, IN, v | 0);
  Atomics.add(s.ctrl, GEN, 1);
}

/** @internal the raw counters, for tests: [in, out]. */
export function kfifoCounters(fifo: Kfifo<number | bigint>): [number, number] {
  const c = st(fifo).ctrl;
  return [Atomics.load(c, IN) >>> 0, Atomics.load(c, OUT) >>> 0];
}
