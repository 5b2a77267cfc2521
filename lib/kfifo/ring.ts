/**
 * kfifo's ring: what a fifo object stands for (its control words, its element type, the
 * per-thread record validated once per object), the argument readers every call shares, and the
 * few reads of the counters that more than one part of the area needs.
 *
 * Design.
 * - A fifo is a plain object `{ type, ctrl, data }`: `ctrl` is an Int32Array of control words and
 *   `data` the typed array of the elements (a Uint8Array for record fifos), both over
 *   SharedArrayBuffers. It survives the structured clone of `postMessage` / `workerData` as
 *   itself: the clone shares the same memory, and every kfifo_* call accepts it. What the calls
 *   derive from it (mask, element size, record header size) is validated once per object per
 *   thread and kept in a WeakMap (`State`), so the hot paths do one lookup and no allocation, and
 *   a forged or damaged object is refused with a coded error.
 * - The counters `in` and `out` are the kernel's unsigned 32-bit counters that wrap freely; they
 *   are stored as int32 and read back with `>>> 0`. The slot of a counter is `c & mask`; the
 *   whole buffer is usable (full = len == size).
 * - `in` and `out` sit 64 bytes apart, so the two threads do not bounce one cache line on every
 *   operation; the reset generation word has a line of its own.
 * - The last object looked up and its state are kept (`st`): a producer or consumer loop passes
 *   the same object every call, and an identity compare is cheaper than a WeakMap lookup.
 */
import { describe, typeError, rangeError } from '../errors.js';
import { intArg } from '../internal/validate.js';

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

export const IN = 0; // producer's line
export const DATA_WAITERS = 1;
export const DATA_SEQ = 2;
export const CLOSED = 3;
export const OUT = 16; // consumer's line, 64 bytes on
export const SPACE_WAITERS = 17;
export const SPACE_SEQ = 18;
/** Bumped by kfifo_reset and kfifo_set_counters, which move the counters backwards. */
export const GEN = 32; // a line of its own: read by both sides on every call, written almost never
/** Int32 words of `ctrl` (three 64-byte lines). */
export const CTRL_WORDS = 48;
export const CTRL_BYTES = CTRL_WORDS * 4;

export type Ctor = { new (b: SharedArrayBuffer, off: number, len: number): KfifoArray; readonly BYTES_PER_ELEMENT: number; readonly name: string };
export const CTORS: Record<KfifoType, Ctor> = {
  u8: Uint8Array, s8: Int8Array, u16: Uint16Array, s16: Int16Array, u32: Uint32Array, s32: Int32Array,
  f32: Float32Array, f64: Float64Array, s64: BigInt64Array, u64: BigUint64Array, rec_ptr_1: Uint8Array, rec_ptr_2: Uint8Array,
};
export const TYPES = Object.keys(CTORS) as KfifoType[];

// The intrinsic getters: they answer for typed arrays of any realm (a Worker's included),
// and run no user code on a hostile object.
const TA_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
const taTag = Object.getOwnPropertyDescriptor(TA_PROTO, Symbol.toStringTag)!.get as (this: unknown) => string | undefined;
const taBuffer = Object.getOwnPropertyDescriptor(TA_PROTO, 'buffer')!.get as (this: unknown) => ArrayBufferLike;
export const taLength = Object.getOwnPropertyDescriptor(TA_PROTO, 'length')!.get as (this: unknown) => number;
const taByteOffset = Object.getOwnPropertyDescriptor(TA_PROTO, 'byteOffset')!.get as (this: unknown) => number;
const taByteLength = Object.getOwnPropertyDescriptor(TA_PROTO, 'byteLength')!.get as (this: unknown) => number;
export const sabByteLength = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')!.get as (this: unknown) => number;

export function tagOf(v: unknown): string | undefined {
  return taTag.call(v);
}
export function isShared(b: unknown): boolean {
  try {
    sabByteLength.call(b);
    return true;
  } catch {
    return false;
  }
}

/** What a fifo object stands for, validated once per object per thread. */
export class State {
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

export const states = new WeakMap<object, State>();

function fifoError(v: unknown): TypeError {
  return typeError('ERR_INVALID_ARG_TYPE', `fifo must be a kfifo (from kfifo_alloc or kfifo_init, or a clone of one), got ${describe(v)}`);
}

/** Validates a fifo object the first time this thread sees it. */
export function attach(v: unknown): State {
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

export function st(fifo: unknown): State {
  if (fifo === lastFifo && lastState !== undefined) return lastState;
  let s = typeof fifo === 'object' && fifo !== null ? states.get(fifo) : undefined;
  if (s === undefined) s = attach(fifo);
  lastFifo = fifo;
  lastState = s;
  return s;
}

/** For the calls that touch the ring: a freed fifo has none (the kernel would dereference NULL). */
export function live(fifo: unknown, name: string): State {
  const s = st(fifo);
  if (s.mask === 0) throw typeError('ERR_KTIMERS_KFIFO_FREED', `${name}: the fifo was freed by kfifo_free on this thread`);
  return s;
}

function badBuf(s: State, buf: unknown, name: string): TypeError {
  return typeError('ERR_INVALID_ARG_TYPE', `${name} must be a ${s.tag} (the fifo's element type), got ${describe(buf)}`);
}

/** kfifo_in's buf: validated once per buffer in a row; returns its length. */
export function inBufArg(s: State, buf: unknown, name: string): number {
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
export function outBufArg(s: State, buf: unknown, name: string): number {
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

export function viewOf(buf: unknown): DataView {
  return new DataView(taBuffer.call(buf) as ArrayBuffer, taByteOffset.call(buf), taByteLength.call(buf));
}

/** An `unsigned int` count (a number, or a bigint). */
export function uintArg(v: unknown, name: string): number {
  if (typeof v === 'number' && v >>> 0 === v) return v;
  return Number(intArg(v, name, 0n, 0xffffffffn, 'unsigned int'));
}

/** Validates (buf, n, offset) and returns n; n defaults to what is left of buf after offset. */
export function spanArg(len: number, n: unknown, offset: unknown): number {
  if (n === undefined && offset === undefined) return len; // the whole buffer: nothing to check
  const off = offset === undefined ? 0 : uintArg(offset, 'offset');
  if (off > len) throw rangeError('ERR_OUT_OF_RANGE', `offset must be in [0, ${len}] (the buffer's length), got ${off}`);
  if (n === undefined) return len - off;
  const c = uintArg(n, 'n');
  if (c > len - off) throw rangeError('ERR_OUT_OF_RANGE', `n must be in [0, ${len - off}] (the buffer's length after offset), got ${c}`);
  return c;
}

/**
 * kfifo_free's part here: the object now stands for `freed`, and the lookup cache, which may hold
 * its old state, is voided.
 */
export function replaceState(fifo: object, freed: State): void {
  states.set(fifo, freed);
  lastFifo = undefined;
  lastState = undefined;
}

/** `in − out` (mod 2^32), read afresh from both sides. */
export function lenOf(c: Int32Array): number {
  return (Atomics.load(c, IN) - Atomics.load(c, OUT)) >>> 0;
}

/** The record header at counter `at` (`__kfifo_peek_n`): low byte first. */
export function peekN(s: State, at: number): number {
  const d = s.data as Uint8Array;
  let l = d[at & s.mask]!;
  if (s.recsize === 2) l |= d[(at + 1) & s.mask]! << 8;
  return l;
}

/** Sets the closed flag and wakes every sleeper of both sides (kfifo_close, kfifo_free). */
export function closeCtrl(c: Int32Array): void {
  Atomics.store(c, CLOSED, 1);
  Atomics.add(c, DATA_SEQ, 1);
  Atomics.notify(c, DATA_SEQ);
  Atomics.add(c, SPACE_SEQ, 1);
  Atomics.notify(c, SPACE_SEQ);
}
