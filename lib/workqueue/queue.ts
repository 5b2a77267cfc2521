/**
 * __queue_work: an instance of an item whose PENDING the caller holds goes on
 * its queue: to the CPU's pool_workqueue (or the unbound one), which starts it
 * or parks it under max_active, or to the BH list. Also the CPU of a queueing:
 * the JS thread has no CPU of its own, so a per-CPU queue spreads items
 * round-robin over the CPUs the process may run on.
 */
import { kwarn, rangeError, typeError, describe } from '../errors.js';
import * as S from '../internal/wq-shared.js';
import { sched_getaffinity } from '../sched.js';
import { WQ_BH, WQ_UNBOUND, WORK_CPU_UNBOUND } from './flags.js';
import { byId, fnName, setPend, words, workId, type work_struct } from './work.js';
import { draining, isDestroyed, newInst, type workqueue_struct } from './workqueue-struct.js';
import { queueBh } from './bh.js';

// --- CPUs of per-CPU queues --------------------------------------------------------

let cpus: number[] | null = null;
let rr = 0;
function allowedCpus(): number[] {
  if (cpus === null) {
    try {
      cpus = sched_getaffinity(0);
    } catch {
      cpus = [0];
    }
    if (cpus.length === 0) cpus = [0];
  }
  return cpus;
}

/** The pool CPU of a queueing: -1 for unbound queues; the asked CPU or round-robin for per-CPU ones. */
export function poolCpu(wq: workqueue_struct, cpu: number): number {
  if (wq.flags & WQ_UNBOUND) return -1;
  if (cpu >= 0) return cpu;
  const c = allowedCpus();
  return c[rr++ % c.length]!;
}

let cpuIds: number | null = null;
export function cpuArg(v: unknown): number {
  if (typeof v !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `cpu must be a number, got ${describe(v)}`);
  if (v === WORK_CPU_UNBOUND) return -1;
  cpuIds ??= allowedCpus().reduce((a, b) => Math.max(a, b), 0) + 1;
  if (!Number.isInteger(v) || v < 0 || v >= cpuIds) {
    throw rangeError('ERR_OUT_OF_RANGE', `cpu must be an integer in [0, ${cpuIds - 1}] or WORK_CPU_UNBOUND, got ${describe(v)}`);
  }
  return Object.is(v, -0) ? 0 : v;
}

// --- queueing ----------------------------------------------------------------------

/**
 * __queue_work: PENDING is held. Refused while draining unless chained (a work
 * item of the same queue queueing), as the kernel does.
 */
export function enqueue(w: work_struct, wq: workqueue_struct, cpu: number, chained: boolean): void {
  if (isDestroyed(wq) || (draining(wq) > 0 && !chained)) {
    kwarn('KTIMERS_WARN_WQ_DRAINING', `workqueue: cannot queue ${fnName(w)} on wq ${wq.name}`, true);
    Atomics.and(words(), workId(w), ~S.W_PENDING);
    return;
  }
  checkFnFor(w, wq);
  const inst = newInst(wq, w, wq.flags & WQ_BH ? -1 : poolCpu(wq, cpu));
  setPend(w, inst);
  byId.set(workId(w), w);
  if (wq.flags & WQ_BH) queueBh(inst);
  else inst.pwq!.activate(inst);
}

export function checkFnFor(w: work_struct, wq: workqueue_struct): void {
  const bh = (wq.flags & WQ_BH) !== 0;
  if (bh !== (typeof w.func === 'function')) {
    Atomics.and(words(), workId(w), ~S.W_PENDING);
    throw typeError(
      'ERR_KTIMERS_WORK_FN',
      bh
        ? `WQ_BH queue "${wq.name}" runs plain functions on the main thread; ${fnName(w)} names a module export`
        : `workqueue "${wq.name}" runs work on worker threads: its function must be { module, name }, not a plain function (plain functions run only on WQ_BH queues)`,
    );
  }
}

