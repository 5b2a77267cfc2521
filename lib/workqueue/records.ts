/**
 * What comes back from the pool's workers, as records (lib/internal/wq-pool.ts
 * reaps them on the main thread): an item finished, failed or was skipped
 * (cancelled before it started); a work function queued an item (queue_work
 * inside a worker: PENDING is already set there, the rest happens here); a
 * warning or an unhandled rejection to report. Imported for its effect: it
 * hands the pool this sink and the worker's module.
 */
import { KtimersError, kwarn } from '../errors.js';
import { reportError } from '../internal/virtual.js';
import { restoreProps } from '../internal/thread-error.js';
import * as S from '../internal/wq-shared.js';
import { pool, setRecordSink } from '../internal/wq-pool.js';
import { setWorkerModule } from '../internal/wq-thread.js';
import { WQ_HIGHPRI } from './flags.js';
import { byId, deferredOf, dworkOf, fnName, I_DISPATCHED, I_DONE, pendOf, runOf, setDeferred, setPend, setRun, words } from './work.js';
import { finishInst, isDestroyed, reportFailure, wqById } from './workqueue-struct.js';
import { drainBacklog, start } from './dispatch.js';
import { enqueue } from './queue.js';
import { arm } from './delayed.js';
import { forgetStarted } from './state.js';

setWorkerModule(new URL('./worker.js', import.meta.url));

setRecordSink((type, id, a, b, c, msg) => {
  if (type === S.R_WARN) {
    const m = msg as { code: string; message: string };
    kwarn(m.code, m.message, true);
    return;
  }
  if (type === S.R_REJECTION) {
    const m = msg as { error: unknown; props?: Record<string, unknown> };
    const cause = restoreProps(m?.error, m?.props);
    const err = new KtimersError(
      'ERR_KTIMERS_WORK_UNHANDLED_REJECTION',
      `a work function left a promise rejection unhandled (it must await what it starts): ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    (err as { cause?: unknown }).cause = cause;
    reportError(err);
    return;
  }
  if (type === S.R_QUEUE || type === S.R_QUEUE_DELAYED) {
    workerQueue(id, a, b, c, type === S.R_QUEUE_DELAYED ? (msg as { delay: bigint }).delay : null);
    return;
  }
  const w = byId.get(id);
  if (w === undefined) return;
  const inst = runOf(w)!;
  setRun(w, null);
  const wq = inst.wq;
  if (type === S.R_FAIL) {
    const m = msg as { error: unknown; kind: string; props?: Record<string, unknown> };
    const cause = restoreProps(m?.error, m?.props);
    const text = cause instanceof Error ? cause.message : String(cause);
    const err =
      m?.kind === 'load'
        ? new KtimersError('ERR_KTIMERS_WORK_LOAD', `work function ${fnName(w)} on workqueue "${wq.name}" could not be loaded: ${text}`)
        : m?.kind === 'data'
          ? new KtimersError('ERR_KTIMERS_WORK_DATA', `work ${fnName(w)} on workqueue "${wq.name}": data cannot be sent to a worker: ${text}`)
        : m?.kind === 'exit'
          ? new KtimersError('ERR_KTIMERS_WORKER_EXIT', `work function ${fnName(w)} on workqueue "${wq.name}" did not finish: ${text}`)
          : new KtimersError('ERR_KTIMERS_WORK_FAILED', `work function ${fnName(w)} on workqueue "${wq.name}" threw: ${text}`);
    (err as { cause?: unknown }).cause = cause;
    // Which item failed (non-enumerable): 'error' listeners, and the WorkQueue
    // facade, can tell the items of one queue apart.
    Object.defineProperty(err, 'work', { value: w, enumerable: false, configurable: true, writable: true });
    reportFailure(wq, err);
  }
  if (inst.state === I_DISPATCHED) finishInst(inst, I_DONE);
  if (pendOf(w) === inst) setPend(w, null);
  const d = deferredOf(w);
  if (d !== null) {
    setDeferred(w, null);
    start(d);
  }
  if (pendOf(w) === null && runOf(w) === null) byId.delete(id);
  inst.pwq!.deactivate();
  drainBacklog(pool(inst.cpu, (wq.flags & WQ_HIGHPRI) !== 0));
});

/** A work function queued an item (PENDING and XQUEUED already set by the worker). */
function workerQueue(id: number, wqId: number, cpu: number, from: number, delay: bigint | null): void {
  const t = words();
  for (;;) {
    const o = Atomics.load(t, id);
    if (!(o & S.W_XQUEUED)) return; // stolen by a cancel meanwhile
    if (Atomics.compareExchange(t, id, o, o & ~S.W_XQUEUED) === o) break;
  }
  const w = byId.get(id);
  if (w !== undefined) forgetStarted(w, Atomics.load(t, id) & ~S.W_ARMED);
  const wq = wqById.get(wqId);
  if (w === undefined || wq === undefined || isDestroyed(wq)) {
    Atomics.and(t, id, ~S.W_PENDING);
    const err = new KtimersError('ERR_KTIMERS_WQ_DESTROYED', `a work function queued on workqueue #${wqId}, which does not exist or was destroyed`);
    const run = w !== undefined ? runOf(w) : null;
    if (run !== null) reportFailure(run.wq, err);
    else reportError(err);
    return;
  }
  const fromW = from > 0 ? byId.get(from - 1) : undefined;
  const chained = fromW !== undefined && runOf(fromW)?.wq === wq;
  try {
    if (delay === null || delay === 0n) enqueue(w, wq, cpu, chained);
    else arm(dworkOf(w)!, wq, cpu, delay);
  } catch (e) {
    // The work function already got true: the failure goes to the queue it named.
    reportFailure(wq, e as Error);
  }
}

