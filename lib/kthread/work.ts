/**
 * kthread_work and kthread_delayed_work (`struct kthread_work`, `struct kthread_delayed_work`):
 * the objects, their set-up (`kthread_init_work`, `kthread_init_delayed_work`), and the map from
 * a work's slot in the process-wide state table back to this thread's object.
 *
 * A work's state lives in one word of the table (lib/kthread/shared.ts), not in the object: the
 * object is this thread's handle on it, so a work function on the worker thread and its owner on
 * another thread queue the same work. The slot is freed when the owner's object is collected.
 */
import { KtimersError, describe, typeError } from '../errors.js';
import { fnArg, type WorkFnRef } from '../workqueue/work-fn.js';
import * as K from './shared.js';
import { table, allocId, freeId, kside } from './state.js';
import type { kthread_worker } from './worker.js';

// --- works -------------------------------------------------------------------------

/**
 * `struct kthread_work`: a work for a kthread_worker. Set it up with
 * {@link kthread_init_work}. Its function receives it when it runs (on the
 * worker thread, as a handle of its own with the same identity for queueing).
 */
// What the other files of lib/kthread/ (queueing, the worker thread's loop) need of a work, handed
// out by kthread_work's static block: its fields are true private fields, so that a forged or
// scribbled object cannot point a queueing at another work's slot, and only these functions
// reach them (timer_list's style).
/** The work's slot in the work table, -1 before kthread_init_work. */
export let workId: (w: kthread_work) => number;
/** The worker thread gives its own handle of a work the slot it was queued with. */
export let setWorkId: (w: kthread_work, id: number) => void;
/** The kthread_delayed_work a work is embedded in, or null. */
export let dworkOf: (w: kthread_work) => kthread_delayed_work | null;
let setDwork: (w: kthread_work, d: kthread_delayed_work) => void;
/** The worker a work was last queued on (this thread's view), or null. */
export let workerOf: (w: kthread_work) => kthread_worker | null;
export let setWorkerOf: (w: kthread_work, k: kthread_worker | null) => void;

/**
 * `struct kthread_work`: a work for a kthread_worker. Set it up with
 * {@link kthread_init_work}. Its function receives it when it runs (on the
 * worker thread, as a handle of its own with the same identity for queueing).
 */
export class kthread_work {
  #id = -1;
  #dwork: kthread_delayed_work | null = null;
  #worker: kthread_worker | null = null;
  /** The work function, `{ module, name }`; null before kthread_init_work. */
  func: WorkFnRef | null = null;
  /**
   * Anything structured-cloneable (SharedArrayBuffers stay shared) that the work
   * function should see as `work.data`: sent to the worker thread with each
   * queueing made on this thread (a ktimers addition, as the workqueue's; the
   * kernel embeds the work in the caller's struct instead).
   */
  data: unknown = undefined;
  /** The worker it was last queued on since kthread_init_work (the kernel's `work->worker`), or null. */
  get worker(): kthread_worker | null {
    return this.#worker;
  }

  static {
    workId = (w) => w.#id;
    setWorkId = (w, id) => {
      w.#id = id;
    };
    dworkOf = (w) => w.#dwork;
    setDwork = (w, d) => {
      w.#dwork = d;
    };
    workerOf = (w) => w.#worker;
    setWorkerOf = (w, k) => {
      w.#worker = k;
    };
  }
}

/** `struct kthread_delayed_work`: a work plus the timer that queues it later. */
export class kthread_delayed_work {
  /** The embedded work (what its function receives). */
  readonly work: kthread_work = new kthread_work();
  /** A delayed work, not set up yet: see {@link kthread_init_delayed_work}. */
  constructor() {
    setDwork(this.work, this);
  }
}

/**
 * `to_kthread_delayed_work()` (container_of): the delayed work a work belongs to.
 * @param work - a work (what a work function receives)
 *
 * Context: any. Return: the kthread_delayed_work, or null for a plain work.
 */
export function to_kthread_delayed_work(work: kthread_work): kthread_delayed_work | null {
  return dworkOf(workArg(work));
}

/** A work's slot → this thread's object for it (current_work, and un-pending on a lost thread). */
export const byId = new Map<number, WeakRef<kthread_work>>();
const freer = new FinalizationRegistry<number>((id) => {
  byId.delete(id);
  freeId(id);
});

export function workArg(v: unknown, name = 'work'): kthread_work {
  if (!(v instanceof kthread_work)) throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a kthread_work, got ${describe(v)}`);
  return v;
}
function kfnArg(v: unknown): WorkFnRef {
  if (typeof v === 'function') {
    throw typeError('ERR_INVALID_ARG_TYPE', 'fn must be { module, name }: kthread work functions run on the worker thread and are imported there');
  }
  return fnArg(v) as WorkFnRef;
}

function initWork(w: kthread_work, fn: unknown): void {
  if (kside.local !== null) {
    throw new KtimersError('ERR_KTIMERS_KTHREAD_CONTEXT', 'kthread_init_work() is not available on a kthread_worker thread: initialise works on the thread that creates them');
  }
  const f = kfnArg(fn);
  const id = workId(w);
  if (id >= 0) {
    const t = table();
    for (;;) {
      const o = Atomics.load(t, id);
      if (o & (K.K_PENDING | K.K_CANCEL_MASK)) {
        throw new KtimersError('ERR_KTIMERS_WORK_BUSY', 'kthread_init_work() on a pending work (or one being cancelled) would corrupt its worker\'s list');
      }
      // Keep RUNNING (an execution may still be under way) and the gen (stale entries stay stale).
      if (Atomics.compareExchange(t, id, o, o & ~K.K_BOUND) === o) break;
    }
  } else {
    const n = allocId();
    setWorkId(w, n);
    freer.register(w, n);
    byId.set(n, new WeakRef(w));
  }
  w.func = f;
  setWorkerOf(w, null);
}

/**
 * `kthread_init_work(work, fn)`: set up (or reset) a work. Re-initialising an idle
 * work is how it moves to another worker.
 * @param work - the work
 * @param fn - `{ module, name }`: an exported function of an ES module (absolute path or URL)
 *
 * Context: any thread but a kthread_worker's. Return: nothing. Throws
 * ERR_KTIMERS_WORK_BUSY on a pending work (the kernel corrupts its lists),
 * ERR_KTIMERS_WORK_MODULE_NOT_FOUND when the module file does not exist.
 */
export function kthread_init_work(work: kthread_work, fn: WorkFnRef): void {
  const w = workArg(work);
  if (dworkOf(w) !== null) throw typeError('ERR_INVALID_ARG_TYPE', 'work belongs to a kthread_delayed_work: use kthread_init_delayed_work()');
  initWork(w, fn);
}

/**
 * `kthread_init_delayed_work(dwork, fn)`: set up (or reset) a delayed work.
 * @param dwork - the delayed work
 * @param fn - `{ module, name }`
 *
 * Context: as {@link kthread_init_work}. Return: nothing.
 */
export function kthread_init_delayed_work(dwork: kthread_delayed_work, fn: WorkFnRef): void {
  if (!(dwork instanceof kthread_delayed_work)) throw typeError('ERR_INVALID_ARG_TYPE', `dwork must be a kthread_delayed_work, got ${describe(dwork)}`);
  initWork(dwork.work, fn);
}
