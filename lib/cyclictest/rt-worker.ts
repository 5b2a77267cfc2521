/**
 * The RT measuring thread's side (a worker_thread started by rt-thread.ts):
 * loads ktimers in its own isolate, sets its own scheduling policy, priority,
 * nice and CPU affinity (lib/sched.ts with tid 0: this thread only), then runs
 * the same measuring loop as the main-thread mode (measure.ts) for each run the
 * main thread asks for, with its samples going into the shared ring (ring.ts)
 * instead of a message each.
 *
 * Protocol (messages with the main thread; the samples never travel this way):
 *   → ready { rt: RealtimeState }         after the settings, read back
 *   ← run { spec, warmup, ring }          measure one API; samples into `ring`
 *   → done { result }                     after the run's last sample is published
 *                                         (result.spunNs: this thread's busy-wait, --spin)
 *   ← stop                                Ctrl-C: end the run in progress
 * Nothing here formats or prints: what the thread could not get is in `rt`,
 * and the main thread reports it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../binding.js';
import { applyRealtime } from './conditions.js';
import { measure, type MeasureSpec, type Recorder, type StopFlag } from './measure.js';
import type { CyclictestOptions } from './options.js';
import { RingWriter } from './ring.js';

export interface RunRequest {
  type: 'run';
  spec: MeasureSpec;
  warmup: number;
  ring: SharedArrayBuffer;
}

/** The ring as measure.ts's Recorder: -l counts the samples after warm-up, as LatencyRecorder does. */
class RingRecorder implements Recorder {
  private seen = 0;
  constructor(
    private readonly w: RingWriter,
    private readonly warmup: number,
  ) {}

  get count(): number {
    return Math.max(0, this.seen - this.warmup);
  }

  record(lateNs: number, tNs: number, missed: number): void {
    this.seen++;
    this.w.push(lateNs, tNs, missed);
  }
}

const port = parentPort!;
const settings = (workerData as { settings: CyclictestOptions }).settings;
const rt = applyRealtime(settings);
let stop: StopFlag | null = null;

port.on('message', (m: RunRequest | { type: 'stop' }) => {
  if (m.type === 'stop') {
    if (stop !== null) {
      stop.requested = true;
      stop.abort?.();
    }
    return;
  }
  const s: StopFlag = { requested: false, abort: null };
  stop = s;
  const spun0 = native.state().spinNs ?? 0n;
  void measure(m.spec, new RingRecorder(new RingWriter(m.ring), m.warmup), s).then((result) => {
    stop = null;
    port.postMessage({ type: 'done', result: { ...result, spunNs: Number((native.state().spinNs ?? 0n) - spun0) } });
  });
});
port.postMessage({ type: 'ready', rt });
