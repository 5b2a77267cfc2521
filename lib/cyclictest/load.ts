/**
 * `--load <us>`: keeps the JS main thread busy while a run measures, the way an
 * application's own work would: back-to-back synchronous chunks of `us`
 * microseconds, one per setImmediate.
 *
 * Why setImmediate and not a plain loop: a chunk is what the event loop cannot
 * interrupt, and between two chunks the loop does one turn (timers, the poll
 * phase with its timerfd wake-ups, then the next immediate). So a main-thread
 * timer waits for at most one chunk plus the turn — the latency a busy Node
 * application gives its timers — and the main thread still drains the RT
 * thread's samples and hears Ctrl-C. Each chunk busy-waits on the monotonic
 * clock (no syscall that could sleep), so the thread is runnable throughout:
 * at SCHED_FIFO it is exactly the load that meets the kernel's RT throttling.
 */

export interface LoadStats {
  /** chunk length asked for, us */
  chunkUs: number;
  /** chunks run */
  chunks: number;
  /** time spent in chunks, ns */
  busyNs: number;
}

export class MainThreadLoad {
  private running = false;
  private chunks = 0;
  private busyNs = 0n;
  private readonly chunkNs: bigint;

  constructor(readonly chunkUs: number) {
    this.chunkNs = BigInt(Math.round(chunkUs * 1000));
  }

  /** Starts the chunks (none for a 0 us load). */
  start(): void {
    if (this.chunkNs <= 0n || this.running) return;
    this.running = true;
    this.chunks = 0;
    this.busyNs = 0n;
    const chunk = (): void => {
      if (!this.running) return;
      const t0 = process.hrtime.bigint();
      const end = t0 + this.chunkNs;
      let t = t0;
      while (t < end) t = process.hrtime.bigint();
      this.busyNs += t - t0;
      this.chunks++;
      setImmediate(chunk);
    };
    setImmediate(chunk);
  }

  /** Stops after the chunk in progress (if any); returns what ran. */
  stop(): LoadStats {
    this.running = false;
    return { chunkUs: this.chunkUs, chunks: this.chunks, busyNs: Number(this.busyNs) };
  }
}
