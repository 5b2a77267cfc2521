/**
 * From an active instance to a worker pool (the kernel's worker_pool side).
 * An instance whose item is still running waits for that run (non-reentrancy:
 * the kernel's find_worker_executing_work); the others go into the pool's
 * shared ring, or, when it is full, into the pool's backlog here, drained as
 * completions free ring entries. Threads, rings and wake-ups are
 * lib/internal/wq-pool.ts's; this file decides only what goes in and when.
 */
import { KtimersError } from '../errors.js';
import * as S from '../internal/wq-shared.js';
import { fnId, pool, type Pool } from '../internal/wq-pool.js';
import { WQ_HIGHPRI } from './flags.js';
import { dworkOf, Fifo, fnName, I_BACKLOG, I_CANCELLED, I_DEFERRED, I_DISPATCHED, runOf, setDeferred, setPend, setRun, setWorkFn, words, workFn, workId, type Inst } from './work.js';
import { finishInst, reportFailure } from './workqueue-struct.js';
import { setStart } from './pool-workqueue.js';

/** An active instance goes to its pool, or waits for the item's previous run (non-reentrancy). */
export function start(inst: Inst): void {
  const w = inst.work;
  if (runOf(w) !== null) {
    inst.state = I_DEFERRED;
    setDeferred(w, inst);
    return;
  }
  setRun(w, inst);
  const p = pool(inst.cpu, (inst.wq.flags & WQ_HIGHPRI) !== 0);
  const bl = backlogs.get(p);
  if ((bl !== undefined && bl.length > 0) || p.space() === 0) {
    inst.state = I_BACKLOG;
    if (bl === undefined) {
      const f = new Fifo<Inst>();
      f.push(inst);
      backlogs.set(p, f);
    } else bl.push(inst);
    return;
  }
  dispatch(p, inst);
}

setStart(start);

function dispatch(p: Pool, inst: Inst): void {
  const w = inst.work;
  const id = workId(w);
  inst.state = I_DISPATCHED;
  Atomics.or(words(), id, S.W_ARMED);
  let fn = workFn(w);
  if (fn < 0) setWorkFn(w, (fn = fnId(w.func as { module: string; name: string }))); // normalised by fnArg
  const fw = fn | (dworkOf(w) !== null ? S.E_DELAYED : 0);
  const data = w.data;
  if (data === undefined) p.push(id, fw);
  else {
    try {
      p.pushDirect(id, fw, data);
    } catch (e) {
      // Not cloneable: the item cannot run. Report it and finish the instance.
      Atomics.and(words(), id, ~(S.W_ARMED | S.W_PENDING));
      setPend(w, null);
      setRun(w, null);
      reportFailure(inst.wq, new KtimersError('ERR_KTIMERS_WORK_DATA', `work ${fnName(w)} on workqueue "${inst.wq.name}": data cannot be sent to a worker: ${(e as Error).message}`));
      finishInst(inst, I_CANCELLED);
      inst.pwq!.deactivate();
    }
  }
}

const backlogs = new Map<Pool, Fifo<Inst>>();

export function drainBacklog(p: Pool): void {
  const bl = backlogs.get(p);
  if (bl === undefined) return;
  while (bl.length > 0 && p.space() > 0) {
    const inst = bl.shift()!;
    if (inst.state === I_BACKLOG) dispatch(p, inst);
  }
}

