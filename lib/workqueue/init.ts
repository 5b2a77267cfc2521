/**
 * The initialisers: INIT_WORK and DECLARE_WORK, INIT_DELAYED_WORK and its
 * deferrable and DECLARE_ forms, and to_delayed_work (container_of). INIT_WORK
 * gives the item its state word in the shared item table; INIT_DELAYED_WORK
 * also sets up its timer_list.
 */
import { KtimersError, typeError } from '../errors.js';
import * as S from '../internal/wq-shared.js';
import { allocItem } from '../internal/wq-items.js';
import { TIMER_DEFERRABLE, TIMER_IRQSAFE, timer_pending, timer_setup, type timer_list } from '../timer/index.js';
import { fieldsWritable } from '../timer/fields.js';
import { delayed_work, dworkArg, dworkOf, isRemote, pendOf, registerItem, runOf, setWorkFn, setWorkId, words, work_struct, workArg, workId } from './work.js';
import { fnArg, type BhWorkFn, type WorkFnRef } from './work-fn.js';
import { delayed_work_timer_fn } from './delayed.js';

function initWork(w: work_struct, fn: unknown): void {
  const f = fnArg(fn);
  if (isRemote(w)) throw new KtimersError('ERR_KTIMERS_WQ_WORKER_CONTEXT', 'INIT_WORK() on a work item handed to a work function');
  if (workId(w) >= 0) {
    const o = Atomics.load(words(), workId(w));
    if (o & (S.W_PENDING | S.W_RUNNING) || runOf(w) !== null) {
      throw new KtimersError('ERR_KTIMERS_WORK_BUSY', 'INIT_WORK() on a pending or running work item would corrupt its queue');
    }
  } else {
    setWorkId(w, allocItem());
    registerItem(w, workId(w));
  }
  w.func = f;
  setWorkFn(w, -1);
}

/**
 * `INIT_WORK(work, fn)` — prepare a work item. `fn` is `{ module, name }` (an
 * exported function of an ES module, by absolute path or URL; the worker
 * imports it) or, for WQ_BH queues, a plain function. A file that does not
 * exist is refused here; an export that is missing or not a function is
 * reported at first run (an 'error' event, ERR_KTIMERS_WORK_LOAD).
 * Context: any; the item must be idle.
 * @param work - a `new work_struct()` (or the `work` of a delayed_work).
 * @param fn - `{ module, name }` for worker queues, a plain function for WQ_BH queues.
 */
export function INIT_WORK(work: work_struct, fn: WorkFnRef | BhWorkFn): void {
  const w = workArg(work);
  if (dworkOf(w) !== null) {
    initWork(w, fn); // INIT_WORK(&dwork->work, fn) is legal in the kernel
    return;
  }
  initWork(w, fn);
}

/**
 * `DECLARE_WORK(name, fn)`: a new, initialised work item.
 *
 * Context: any.
 * Return: the new, idle work item.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function DECLARE_WORK(fn: WorkFnRef | BhWorkFn): work_struct {
  const w = new work_struct();
  INIT_WORK(w, fn);
  return w;
}

function initDelayed(dwork: unknown, fn: unknown, deferrable: boolean): delayed_work {
  const dw = dworkArg(dwork);
  const f = fnArg(fn); // validated before anything changes
  if (!fieldsWritable(dw.timer)) {
    throw typeError('ERR_INVALID_ARG_TYPE', 'delayed_work.timer was frozen, sealed or had its fields made read-only: INIT_DELAYED_WORK() sets it up');
  }
  if (workId(dw.work) >= 0 && (timer_pending(dw.timer) === 1 || pendOf(dw.work) !== null)) {
    throw new KtimersError('ERR_KTIMERS_WORK_BUSY', 'INIT_DELAYED_WORK() on a pending delayed_work would corrupt its timer');
  }
  initWork(dw.work, f);
  (dw.timer as timer_list & { _dw: delayed_work })._dw = dw;
  timer_setup(dw.timer, delayed_work_timer_fn, TIMER_IRQSAFE | (deferrable ? TIMER_DEFERRABLE : 0));
  return dw;
}

/**
 * `INIT_DELAYED_WORK(dwork, fn)`: its timer is TIMER_IRQSAFE. Context: any; idle item.
 * @param dwork - a `new delayed_work()`.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function INIT_DELAYED_WORK(dwork: delayed_work, fn: WorkFnRef | BhWorkFn): void {
  initDelayed(dwork, fn, false);
}

/**
 * `INIT_DEFERRABLE_WORK(dwork, fn)`: its timer is also TIMER_DEFERRABLE (does not wake an idle process).
 *
 * Context: any; the item must be idle.
 * @param dwork - a `new delayed_work()`.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function INIT_DEFERRABLE_WORK(dwork: delayed_work, fn: WorkFnRef | BhWorkFn): void {
  initDelayed(dwork, fn, true);
}

/**
 * `DECLARE_DELAYED_WORK(name, fn)`.
 *
 * Context: any.
 * Return: the new, idle delayed_work.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function DECLARE_DELAYED_WORK(fn: WorkFnRef | BhWorkFn): delayed_work {
  const dw = new delayed_work();
  initDelayed(dw, fn, false);
  return dw;
}

/**
 * `DECLARE_DEFERRABLE_WORK(name, fn)`.
 *
 * Context: any.
 * Return: the new, idle delayed_work with a TIMER_DEFERRABLE timer.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function DECLARE_DEFERRABLE_WORK(fn: WorkFnRef | BhWorkFn): delayed_work {
  const dw = new delayed_work();
  initDelayed(dw, fn, true);
  return dw;
}

/**
 * `to_delayed_work(work)`: the delayed_work a work item is embedded in (container_of).
 *
 * Context: any.
 * Return: the delayed_work; a TypeError if `work` is not embedded in one.
 * @param work - the `work` of a delayed_work.
 */
export function to_delayed_work(work: work_struct): delayed_work {
  const w = workArg(work);
  const dw = dworkOf(w);
  if (dw === null) throw typeError('ERR_INVALID_ARG_TYPE', 'work is not the work of a delayed_work');
  return dw;
}
