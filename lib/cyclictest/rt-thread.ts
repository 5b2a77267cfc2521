/**
 * `--thread rt`: the main thread's handle on the dedicated real-time measuring
 * thread (rt-worker.ts runs in it).
 *
 * Why a thread of its own: the JS main thread runs the application as well as
 * its timers, so a timer there waits for whatever synchronous work is running
 * (--load shows it); and making that thread SCHED_FIFO does not help for long,
 * because a busy real-time thread meets the kernel's RT throttling (throttle.ts).
 * A thread that does nothing but wait for its timer can be SCHED_FIFO safely:
 * it sleeps between expiries and is woken at once.
 *
 * The thread is a plain worker_thread today. Everything the CLI needs from it
 * is `RtThread.start()` (start it, apply the settings, report what is in
 * force), `run()` (one API's measurement, its samples fed to a LatencyRecorder
 * here) and `close()`, so a kernel-style kthread_worker can take its place
 * behind the same three calls.
 *
 * It is started before the main thread's own real-time settings (cli.ts), and
 * sets its policy explicitly either way, so it never depends on what it would
 * inherit from the main thread.
 */
import { Worker } from 'node:worker_threads';
import type { RealtimeState } from './conditions.js';
import type { MeasureResult, MeasureSpec, StopFlag } from './measure.js';
import { RT_THREAD_DEFAULT_PRIORITY, type CyclictestOptions } from './options.js';
import { RingReader, ringBuffer } from './ring.js';
import type { RunRequest } from './rt-worker.js';
import type { LatencyRecorder } from './stats.js';

/** How often the main thread empties the ring while a run goes on (between --load chunks, or it waits). */
const DRAIN_MS = 10;

/**
 * The settings the RT thread applies: the command line's -p/--policy/--nice/-a,
 * or SCHED_FIFO RT_THREAD_DEFAULT_PRIORITY when none of the first three is
 * given (`defaulted`: a refusal is then a warning, since nobody asked). Never
 * -m: mlockall is process-wide, the main thread does it once.
 */
export function rtThreadSettings(o: CyclictestOptions): { settings: CyclictestOptions; defaulted: boolean } {
  const defaulted = o.priority === 0 && o.policy === null && o.nice === null;
  const settings: CyclictestOptions = { ...o, mlockall: false, apis: [...o.apis], threads: [...o.threads] };
  if (defaulted) {
    settings.priority = RT_THREAD_DEFAULT_PRIORITY;
    settings.policy = 'fifo';
  }
  return { settings, defaulted };
}

export interface RtRunResult extends MeasureResult {
  /** samples the ring could not hold (the main thread did not drain in time) */
  dropped: number;
  /** the thread's busy-wait during the run (--spin), ns */
  spunNs: number;
}

type FromWorker = { type: 'ready'; rt: RealtimeState } | { type: 'done'; result: MeasureResult & { spunNs: number } };

export class RtThread {
  private constructor(
    private readonly worker: Worker,
    /** what is in force on the thread, read back there */
    readonly state: RealtimeState,
    readonly defaulted: boolean,
  ) {}

  /** Starts the thread; resolves once it has applied its settings. */
  static async start(o: CyclictestOptions): Promise<RtThread> {
    const { settings, defaulted } = rtThreadSettings(o);
    const w = new Worker(new URL('./rt-worker.js', import.meta.url), { workerData: { settings } });
    const rt = await new Promise<RealtimeState>((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      const onExit = (code: number): void => reject(new Error(`the RT thread exited (${code}) before it was ready`));
      w.once('error', onError);
      w.once('exit', onExit);
      w.once('message', (m: FromWorker) => {
        w.off('error', onError);
        w.off('exit', onExit);
        if (m.type === 'ready') resolve(m.rt);
        else reject(new Error(`the RT thread sent '${m.type}' before it was ready`));
      });
    });
    return new RtThread(w, rt, defaulted);
  }

  /**
   * One API's measurement on the thread. Samples reach `rec` from the ring
   * every DRAIN_MS and once more at the end; `stop.abort` asks the thread to
   * end the run (Ctrl-C).
   */
  run(spec: MeasureSpec, rec: LatencyRecorder, stop: StopFlag): Promise<RtRunResult> {
    const sab = ringBuffer();
    const reader = new RingReader(sab);
    const feed = (l: number, t: number, m: number): void => rec.record(l, t, m);
    const w = this.worker;
    return new Promise<RtRunResult>((resolve, reject) => {
      const timer = setInterval(() => reader.drain(feed), DRAIN_MS);
      const done = (): void => {
        clearInterval(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        stop.abort = null;
      };
      const onMessage = (m: FromWorker): void => {
        if (m.type !== 'done') return;
        done();
        reader.drain(feed);
        resolve({ ...m.result, dropped: reader.dropped });
      };
      const onError = (e: Error): void => {
        done();
        reject(e);
      };
      const onExit = (code: number): void => {
        done();
        reject(new Error(`the RT thread exited (${code}) during a run`));
      };
      w.on('message', onMessage);
      w.once('error', onError);
      w.once('exit', onExit);
      stop.abort = () => w.postMessage({ type: 'stop' });
      const req: RunRequest = { type: 'run', spec, warmup: rec.warmup, ring: sab };
      w.postMessage(req);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
