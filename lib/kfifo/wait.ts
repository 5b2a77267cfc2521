/**
 * kfifo's sleeping (a ktimers addition: nothing in the kernel's kfifo sleeps): `kfifo_wait`,
 * `kfifo_wait_space` and their async forms, `kfifo_close`, and `kfifo_reader`, the consumer as an
 * async iterator.
 *
 * Design. A sleeper sets a waiter flag, re-checks the fifo, and sleeps on a sequence word with
 * `Atomics.wait` / `Atomics.waitAsync`. The other side, after publishing its counter, reads the
 * flag and only if it is set takes it (exchange to 0), bumps the sequence word and notifies
 * (`publishIn` / `publishOut` in `lib/kfifo/io.ts`). Atomics are sequentially consistent, so either
 * the sleeper's re-check sees the new counter or the publisher sees the registration (the Dekker
 * pattern): no lost wake-up, and no notify per element when nobody sleeps. The sleeper waits on
 * the sequence word rather than on the counter so that `kfifo_close` can wake it too.
 */
import { describe, rangeError, typeError } from '../errors.js';
import { getImpl, outImpl } from './io.js';
import {
  CLOSED, DATA_SEQ, DATA_WAITERS, IN, OUT, SPACE_SEQ, SPACE_WAITERS,
  closeCtrl, live, peekN, st, states, uintArg,
  type Kfifo, type KfifoWaitResult, type State,
} from './ring.js';

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
