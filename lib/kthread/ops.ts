/**
 * kthread_worker operations: queueing (answered at once by a CAS on the work's
 * state word, lib/kthread/shared.ts), the sleeping calls (a request to the
 * worker thread and a Promise for its answer), destroy, and the RT scheduling
 * helpers applied to a worker's thread. The types are in lib/kthread/work.ts
 * and lib/kthread/worker.ts (with creation).
 *
 * Two paths per queueing call: on the thread that owns the worker object, the
 * CAS plus a message to the worker thread; on the worker thread itself (a work
 * function or a timer callback queueing on its own worker), the CAS plus a
 * direct append (kside.local.queue), after taking in messages already posted
 * so the order of the calls is the order on work_list.
 * @internal
 */
import { KtimersError, describe, kwarn, rangeError, typeError } from '../errors.js';
import { might_sleep } from '../context.js';
import { get_jiffies_64 } from '../jiffies.js';
import { jiffiesArg } from '../internal/jiffies-clock.js';
import { SCHED_FIFO, SCHED_OTHER, sched_setscheduler, setpriority } from '../sched.js';
import { kthread_delayed_work, kthread_work, dworkOf, workerOf, workId, setWorkerOf } from './work.js';
import { kthread_worker, MAX_RT_PRIO, ask, nextSeq, post, stateOf } from './worker.js';
import * as K from './shared.js';
import { kside, table } from './state.js';

function destroyed(w: kthread_worker): KtimersError {
  return new KtimersError('ERR_KTIMERS_KTHREAD_DESTROYED', `kthread_worker "${w.name}" has been destroyed`);
}

function workerArg(v: unknown): kthread_worker {
  if (!(v instanceof kthread_worker)) throw typeError('ERR_INVALID_ARG_TYPE', `worker must be a kthread_worker, got ${describe(v)}`);
  const s = stateOf(v);
  if (s.local !== null) return v;
  if (kside.local !== null) {
    throw new KtimersError('ERR_KTIMERS_KTHREAD_CONTEXT', 'a work function can only queue on its own kthread_worker (work.worker)');
  }
  if (s.destroying || s.thread === null) throw destroyed(v);
  return v;
}
function workArg(v: unknown, name = 'work'): kthread_work {
  if (!(v instanceof kthread_work)) throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a kthread_work, got ${describe(v)}`);
  if (workId(v) < 0) throw typeError('ERR_KTIMERS_NOT_SETUP', `${name} was never initialised: call kthread_init_work() first`);
  return v;
}
function dworkArg(v: unknown): kthread_delayed_work {
  if (!(v instanceof kthread_delayed_work)) throw typeError('ERR_INVALID_ARG_TYPE', `dwork must be a kthread_delayed_work, got ${describe(v)}`);
  if (workId(v.work) < 0) throw typeError('ERR_KTIMERS_NOT_SETUP', 'dwork was never initialised: call kthread_init_delayed_work() first');
  return v;
}

/** The kernel's WARN_ON_ONCE(work->worker && work->worker != worker). */
function checkWorker(w: kthread_work, worker: kthread_worker, what: string): void {
  const prev = workerOf(w);
  if (prev !== null && prev !== worker) {
    kwarn('KTIMERS_WARN_KTHREAD_OTHER_WORKER', `${what}: the work was last queued on kthread_worker "${prev.name}", now "${worker.name}" (re-initialise a work before using it with another worker)`, true);
  }
}

function send(worker: kthread_worker, w: kthread_work, gen: number, exp: bigint | undefined): void {
  setWorkerOf(w, worker);
  const s = stateOf(worker);
  if (s.local !== null) {
    s.local.queue(workId(w), gen, exp);
    return;
  }
  s.queued.add(workId(w));
  const f = w.func!;
  const m: K.ToWorker = { t: 'q', id: workId(w), gen, fn: [String(f.module), f.name], dw: dworkOf(w) !== null };
  if (exp !== undefined) m.exp = exp;
  if (w.data !== undefined) m.data = w.data;
  try {
    post(worker, m);
  } catch (e) {
    K.drop(table(), workId(w), gen); // never sent: not pending after all
    const err = new KtimersError('ERR_KTIMERS_WORK_DATA', `work.data cannot be sent to kthread_worker "${worker.name}": ${(e as Error)?.message ?? String(e)}`);
    (err as { cause?: unknown }).cause = e;
    throw err;
  }
}

/**
 * `kthread_queue_work(worker, work)`: append a work to the worker's list; it runs
 * after everything queued before it, one work at a time.
 * @param worker - the worker (a work function passes `work.worker`, its own)
 * @param work - an initialised work (a delayed work's `.work` too)
 *
 * Context: any, including timer callbacks and work functions on the worker.
 * Return: true if queued; false if it was already pending (queued or its timer
 * armed) or a cancel of it is in progress.
 */
export function kthread_queue_work(worker: kthread_worker, work: kthread_work): boolean {
  const k = workerArg(worker);
  const w = workArg(work);
  checkWorker(w, k, 'kthread_queue_work');
  const gen = K.tryQueue(table(), workId(w));
  if (gen < 0) return false;
  send(k, w, gen, undefined);
  return true;
}

function delayArg(v: unknown): bigint {
  return jiffiesArg(v, 'delay');
}

/**
 * `kthread_queue_delayed_work(worker, dwork, delay)`: queue after `delay` jiffies
 * (its timer runs on the worker thread, on that thread's timer wheel). `delay`
 * 0 queues at once, without a timer.
 * @param worker - the worker (in a work function: `work.worker`)
 * @param dwork - an initialised delayed work
 * @param delay - jiffies (bigint or safe integer); 0 queues at once
 *
 * Context: any. Return: true if queued; false if already pending or being
 * cancelled (the armed timer is not modified).
 */
export function kthread_queue_delayed_work(worker: kthread_worker, dwork: kthread_delayed_work, delay: number | bigint): boolean {
  const k = workerArg(worker);
  const dw = dworkArg(dwork);
  const d = delayArg(delay);
  checkWorker(dw.work, k, 'kthread_queue_delayed_work');
  const gen = K.tryQueue(table(), workId(dw.work));
  if (gen < 0) return false;
  send(k, dw.work, gen, d === 0n ? undefined : get_jiffies_64() + d);
  return true;
}

/**
 * `kthread_mod_delayed_work(worker, dwork, delay)`: (re)queue to run after `delay`
 * jiffies, whatever its state. 0 appends it to the tail of the list now (a work
 * already waiting there loses its place).
 * @param worker - the worker
 * @param dwork - an initialised delayed work
 * @param delay - jiffies; 0 appends it to the list now
 *
 * Context: any. Return: false if it was not pending (never queued, idle, or
 * only running: a new instance is queued); true if it was pending (its timer
 * or list place replaced), and true with nothing queued while a cancel (or
 * another mod) of it is in progress.
 */
export function kthread_mod_delayed_work(worker: kthread_worker, dwork: kthread_delayed_work, delay: number | bigint): boolean {
  const k = workerArg(worker);
  const dw = dworkArg(dwork);
  const d = delayArg(delay);
  checkWorker(dw.work, k, 'kthread_mod_delayed_work');
  const [ret, gen] = K.modQueue(table(), workId(dw.work));
  if (gen >= 0) send(k, dw.work, gen, d === 0n ? undefined : get_jiffies_64() + d);
  return ret;
}

function sleeping(what: string): void {
  might_sleep(`${what}()`);
  if (kside.local !== null) {
    throw new KtimersError('ERR_KTIMERS_KTHREAD_CONTEXT', `${what}() cannot be called on a kthread_worker thread (in the kernel it would wait behind the caller's own work: a deadlock)`);
  }
}

/** The worker a queued work went to, if it still has a thread. */
function liveWorker(w: kthread_work): kthread_worker | null {
  const k = workerOf(w);
  return k !== null && stateOf(k).thread !== null ? k : null;
}

/**
 * `kthread_flush_work(work)`: wait for the work's last queued instance, or its
 * running execution, to finish. Works queued behind it are not waited for.
 * @param work - an initialised work
 *
 * Context: may sleep: a Promise; throws ERR_KTIMERS_SLEEP_IN_ATOMIC in timer
 * callbacks. Return: a Promise for nothing (the kernel's is void), settled at
 * once when the work was never queued or is idle. Rejects with
 * ERR_KTIMERS_KTHREAD_FLUSH_TIMER when its delayed timer is armed: the kernel
 * would wait forever there.
 */
export function kthread_flush_work(work: kthread_work): Promise<void> {
  sleeping('kthread_flush_work');
  const w = workArg(work);
  const o = Atomics.load(table(), workId(w));
  const k = liveWorker(w);
  if (!(o & K.K_BOUND) || !(o & (K.K_PENDING | K.K_RUNNING)) || k === null) return Promise.resolve();
  const seq = nextSeq(k);
  // The state seen now travels with the request: the worker places the marker
  // after that instance, even if it has been re-queued or cancelled meanwhile.
  return ask(k, { t: 'flush', seq, id: workId(w), gen: K.genOf(o), pending: (o & K.K_PENDING) !== 0 }) as Promise<void>;
}

/**
 * `kthread_flush_worker(worker)`: wait until the running work and every work
 * queued before this call have finished. Works queued later and delayed works
 * whose timers have not fired are not waited for.
 * @param worker - the worker
 *
 * Context: may sleep: a Promise. Return: a Promise for nothing.
 */
export function kthread_flush_worker(worker: kthread_worker): Promise<void> {
  sleeping('kthread_flush_worker');
  const k = workerArg(worker);
  const seq = nextSeq(k);
  return ask(k, { t: 'flushw', seq }) as Promise<void>;
}

async function cancel(w: kthread_work): Promise<boolean> {
  const t = table();
  const r = K.cancelBegin(t, workId(w));
  if (r === null) return false;
  if (r === 'full') {
    throw new KtimersError('ERR_KTIMERS_KTHREAD_CANCEL_LIMIT', `more than ${K.K_CANCEL_MAX} cancels of one running work at once`);
  }
  const [wasPending, running] = r;
  const k = liveWorker(w);
  if (k === null) {
    if (running) K.cancelEnd(t, workId(w));
    return wasPending;
  }
  // Always told, so a stale timer is deleted now rather than firing for nothing;
  // waited for only while the work runs (the kernel's canceling window).
  const seq = nextSeq(k);
  const p = ask(k, { t: 'cancel', seq, id: workId(w) });
  if (!running) {
    p.catch(() => {});
    return wasPending;
  }
  try {
    await p;
  } catch {
    // the thread is gone: nothing runs any more
  } finally {
    K.cancelEnd(t, workId(w));
  }
  return wasPending;
}

/**
 * `kthread_cancel_work_sync(work)`: take the work off its worker and wait for a
 * running execution to finish. While it waits, queueing the work (including a
 * self-requeue from its own function) is refused: this stops a work that
 * re-queues itself. Not for delayed works (use the delayed variant).
 * @param work - an initialised work
 *
 * Context: may sleep: a Promise. Return: a Promise for true if the work was
 * pending, false if it was idle or only running.
 */
export function kthread_cancel_work_sync(work: kthread_work): Promise<boolean> {
  sleeping('kthread_cancel_work_sync');
  const w = workArg(work);
  if (dworkOf(w) !== null) {
    throw typeError('ERR_INVALID_ARG_TYPE', 'kthread_cancel_work_sync() on a delayed work: use kthread_cancel_delayed_work_sync() (the kernel forbids this)');
  }
  return cancel(w);
}

/**
 * `kthread_cancel_delayed_work_sync(dwork)`: as {@link kthread_cancel_work_sync},
 * also cancelling its timer.
 * @param dwork - an initialised delayed work
 *
 * Context: may sleep: a Promise. Return: a Promise for true if it was pending
 * (timer armed or queued).
 */
export function kthread_cancel_delayed_work_sync(dwork: kthread_delayed_work): Promise<boolean> {
  sleeping('kthread_cancel_delayed_work_sync');
  return cancel(dworkArg(dwork).work);
}

/**
 * `kthread_destroy_worker(worker)`: flush the worker, stop its thread and wait
 * for it to exit. Queueing on it throws ERR_KTIMERS_KTHREAD_DESTROYED from the
 * call on. Delayed works still armed get the kernel's WARN
 * (KTIMERS_WARN_KTHREAD_DESTROY_DELAYED) and are cancelled; works queued (by
 * the worker's own works) after the final flush get
 * KTIMERS_WARN_KTHREAD_DESTROY_PENDING and do not run.
 * @param worker - the worker
 *
 * Context: may sleep: a Promise. Return: a Promise for nothing, settled once the
 * thread has exited.
 */
export function kthread_destroy_worker(worker: kthread_worker): Promise<void> {
  sleeping('kthread_destroy_worker');
  const k = workerArg(worker);
  const s = stateOf(k);
  s.destroying = true;
  const th = s.thread!;
  const exited = new Promise<void>((resolve) => th.once('exit', () => resolve()));
  const seq = nextSeq(k);
  return (async () => {
    try {
      await ask(k, { t: 'stop', seq });
    } finally {
      await th.terminate();
      await exited;
    }
  })();
}

// --- RT scheduling helpers (kernel/sched/syscalls.c) --------------------------------

function taskArg(p: unknown): number {
  if (p instanceof kthread_worker) {
    const t = p.task;
    const s = stateOf(p);
    if (s.held && !s.destroying && s.thread !== null) {
      throw new KtimersError('ERR_KTIMERS_KTHREAD_CONTEXT', `kthread_worker "${p.name}" has no task yet: kthread_worker_fn (or kthread_run) has not started its loop`);
    }
    if (t === null || s.destroying) throw destroyed(p);
    return t;
  }
  if (typeof p === 'number' && Number.isInteger(p) && p > 0 && p <= 0x7fffffff) return p;
  throw typeError('ERR_INVALID_ARG_TYPE', `p must be a kthread_worker or a thread id, got ${describe(p)}`);
}

/**
 * `sched_set_fifo(p)`: SCHED_FIFO at MAX_RT_PRIO / 2 = 50, the kernel's one
 * priority for its own RT threads. Also removes the thread's timer slack.
 * @param p - a kthread_worker (its thread) or a thread id
 *
 * Context: any thread. Return: nothing. Unlike the kernel's (which cannot fail),
 * throws EPERM naming CAP_SYS_NICE and RLIMIT_RTPRIO when the process may not.
 */
export function sched_set_fifo(p: kthread_worker | number): void {
  sched_setscheduler(taskArg(p), SCHED_FIFO, MAX_RT_PRIO / 2);
}

/**
 * `sched_set_fifo_low(p)`: SCHED_FIFO at priority 1, just above every
 * SCHED_NORMAL thread.
 * @param p - a kthread_worker (its thread) or a thread id
 *
 * Context: any thread. Return: nothing; throws EPERM as {@link sched_set_fifo}.
 */
export function sched_set_fifo_low(p: kthread_worker | number): void {
  sched_setscheduler(taskArg(p), SCHED_FIFO, 1);
}

/**
 * `sched_set_normal(p, nice)`: back to SCHED_NORMAL with the given nice value.
 * @param p - a kthread_worker (its thread) or a thread id
 * @param nice - -20..19 (the kernel does not check it on this path; here a RangeError)
 *
 * Context: any thread. Return: nothing; lowering nice without CAP_SYS_NICE or
 * RLIMIT_NICE throws EACCES naming both.
 */
export function sched_set_normal(p: kthread_worker | number, nice: number): void {
  const tid = taskArg(p);
  if (typeof nice !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `nice must be a number, got ${describe(nice)}`);
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw rangeError('ERR_OUT_OF_RANGE', `nice must be an integer in [-20, 19], got ${describe(nice)}`);
  sched_setscheduler(tid, SCHED_OTHER, 0);
  setpriority(tid, nice);
}
