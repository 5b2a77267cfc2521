/**
 * The sample ring between the RT measuring thread (rt-worker.ts, the one
 * writer) and the main thread (rt-thread.ts, the one reader): a
 * single-producer single-consumer ring over a SharedArrayBuffer.
 *
 * Why not a message per sample: postMessage serialises, allocates and wakes the
 * receiving loop — microseconds of work on the measuring thread per expiry, and
 * at 10 kHz tens of thousands of messages a second queued on a main thread that
 * may be busy (--load). Here a sample costs the writer three stores and one
 * Atomics.store; the reader drains whenever its loop gets round to it and
 * feeds the samples to the same LatencyRecorder the main-thread mode uses, so
 * the report, JSON, SVG and live line need nothing new.
 *
 * Layout: Uint32 header [head, tail, dropped], then `capacity` slots of three
 * float64 (lateness ns, expiry time since the first ns, periods missed). head
 * and tail are free-running uint32 counters (capacity is a power of two, so
 * they wrap consistently); the writer publishes a slot with Atomics.store on
 * head after filling it, the reader frees it with Atomics.store on tail after
 * reading it. A full ring drops the sample and counts it (the reader reports
 * the count) rather than block the measuring thread.
 */

const HEAD = 0;
const TAIL = 1;
const DROPPED = 2;
const HEADER_BYTES = 16;
const SLOT = 3;

/** Slots: 6.5 s of samples at 10 kHz — far more than the reader's longest pause (an RT-throttled 50 ms). */
export const RING_CAPACITY = 1 << 16;

export function ringBuffer(capacity = RING_CAPACITY): SharedArrayBuffer {
  if (capacity < 2 || (capacity & (capacity - 1)) !== 0) throw new RangeError('ring capacity must be a power of two >= 2');
  return new SharedArrayBuffer(HEADER_BYTES + capacity * SLOT * 8);
}

class RingView {
  protected readonly hdr: Uint32Array;
  protected readonly data: Float64Array;
  protected readonly mask: number;

  constructor(sab: SharedArrayBuffer) {
    this.hdr = new Uint32Array(sab, 0, 3);
    this.data = new Float64Array(sab, HEADER_BYTES);
    this.mask = this.data.length / SLOT - 1;
  }

  /** Samples the writer could not store because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.hdr, DROPPED);
  }
}

/** The measuring thread's end. */
export class RingWriter extends RingView {
  push(lateNs: number, tNs: number, missed: number): void {
    const head = this.hdr[HEAD]!; // only this thread writes head
    if (((head - Atomics.load(this.hdr, TAIL)) >>> 0) > this.mask) {
      Atomics.add(this.hdr, DROPPED, 1);
      return;
    }
    const i = (head & this.mask) * SLOT;
    this.data[i] = lateNs;
    this.data[i + 1] = tNs;
    this.data[i + 2] = missed;
    Atomics.store(this.hdr, HEAD, (head + 1) >>> 0);
  }
}

/** The main thread's end. */
export class RingReader extends RingView {
  /** Hands every published sample to `f`, oldest first; returns how many. */
  drain(f: (lateNs: number, tNs: number, missed: number) => void): number {
    const head = Atomics.load(this.hdr, HEAD);
    let tail = this.hdr[TAIL]!; // only this thread writes tail
    let n = 0;
    while (tail !== head) {
      const i = (tail & this.mask) * SLOT;
      f(this.data[i]!, this.data[i + 1]!, this.data[i + 2]!);
      tail = (tail + 1) >>> 0;
      n++;
    }
    Atomics.store(this.hdr, TAIL, tail);
    return n;
  }
}
