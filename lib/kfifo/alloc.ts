/**
 * kfifo's life and queries: `kfifo_alloc`, `kfifo_init` and `kfifo_free` (`__kfifo_alloc`,
 * `__kfifo_init`, `__kfifo_free` in the kernel's `lib/kfifo.c`), the size and length queries of
 * `include/linux/kfifo.h`, and the counters' test hook of `ktimers/testing`.
 */
import { describe, KtimersError, rangeError, typeError } from '../errors.js';
import {
  CTORS, CTRL_BYTES, CTRL_WORDS, GEN, IN, OUT, TYPES,
  attach, closeCtrl, isShared, lenOf, live, peekN, replaceState, sabByteLength, st, uintArg, State,
  type Kfifo, type KfifoArray, type KfifoType,
} from './ring.js';

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
  replaceState(fifo, freedState(s));
}

// --- queries ----------------------------------------------------------------------
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
