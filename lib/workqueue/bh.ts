/**
 * BH work (WQ_BH queues, Linux 6.9+): plain functions run on the main thread
 * in softirq context, from a setImmediate after the queueing code, as the
 * kernel runs BH work on the queueing CPU. No pool, no max_active: an instance
 * goes straight to this list.
 */
import { KtimersError } from '../errors.js';
import { enterIrq, exitIrq } from '../internal/irq.js';
import * as S from '../internal/wq-shared.js';
import { fnName, I_BH, I_DONE, setPend, setRun, words, workId, type Inst, type work_struct } from './work.js';
import { finishInst, reportFailure } from './workqueue-struct.js';
import type { BhWorkFn } from './work-fn.js';

const bhList: Inst[] = [];
let bhScheduled = false;
/** The BH work running now on the main thread, for current_work() and chained queueing. */
let bhCurrent: work_struct | null = null;

/** The BH work item running now, or null. */
export function bhRunning(): work_struct | null {
  return bhCurrent;
}

/** __queue_work on a WQ_BH queue: runs after the queueing code, in softirq context. */
export function queueBh(inst: Inst): void {
  inst.state = I_BH;
  bhList.push(inst);
  if (!bhScheduled) {
    bhScheduled = true;
    setImmediate(runBh);
  }
}

function runBh(): void {
  bhScheduled = false;
  const batch = bhList.splice(0);
  const t = words();
  enterIrq(true);
  try {
    for (const inst of batch) {
      if (inst.state !== I_BH) continue; // cancelled
      const w = inst.work;
      for (;;) {
        const o = Atomics.load(t, workId(w));
        if (Atomics.compareExchange(t, workId(w), o, (o & ~S.W_PENDING) | S.W_RUNNING) === o) break;
      }
      setPend(w, null);
      setRun(w, inst);
      bhCurrent = w;
      try {
        (w.func as BhWorkFn)(w);
      } catch (e) {
        const err = new KtimersError('ERR_KTIMERS_WORK_FAILED', `work function ${fnName(w)} on workqueue "${inst.wq.name}" threw: ${e instanceof Error ? e.message : String(e)}`);
        (err as { cause?: unknown }).cause = e;
        reportFailure(inst.wq, err);
      }
      bhCurrent = null;
      setRun(w, null);
      Atomics.and(t, workId(w), ~S.W_RUNNING);
      finishInst(inst, I_DONE);
    }
  } finally {
    exitIrq(true);
  }
}

