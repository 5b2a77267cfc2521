/**
 * `struct work_struct` and `struct delayed_work`, and the *instances* the rest
 * of lib/workqueue/ moves between lists.
 *
 * A work item's PENDING/RUNNING/disable state is not a field here but one
 * Int32 word of the pool's shared item table (lib/internal/wq-shared.ts),
 * changed only with atomic compare-and-swap, so that `queue_work` is the same
 * exact test-and-set of PENDING on the main thread and inside a work function
 * (another thread). What only the main thread needs (which instance owns
 * PENDING, which one runs) is in the object.
 *
 * An instance (`Inst`) is one successful queueing of an item: inactive
 * (max_active reached), deferred (the item is still running: non-reentrancy),
 * in a pool's backlog (its ring full), dispatched (in a ring, or running),
 * BH, done or cancelled. It carries the flush colour it was queued under and
 * the promises waiting for it (created only when someone waits).
 */
import { KtimersError, describe, typeError } from '../errors.js';
import { timer_list } from '../timer/index.js';
import { freeItem, itemTable } from '../internal/wq-items.js';
import { wside } from '../internal/wq-ctx.js';
import { WORK_CPU_UNBOUND } from './flags.js';
import type { BhWorkFn, WorkFnRef } from './work-fn.js';
import type { workqueue_struct } from './workqueue-struct.js';
import type { pool_workqueue } from './pool-workqueue.js';
import type { INIT_DELAYED_WORK, INIT_DEFERRABLE_WORK, INIT_WORK } from './init.js'; // for the {@link}s

// --- instances ---------------------------------------------------------------------

export const I_DELAYED = 1; // its delayed_work timer is pending (not yet an instance on a queue)
export const I_INACTIVE = 2;
export const I_DEFERRED = 3;
export const I_BACKLOG = 4;
export const I_DISPATCHED = 5;
export const I_BH = 6;
export const I_DONE = 7;
export const I_CANCELLED = 8;

export interface Inst {
  work: work_struct;
  wq: workqueue_struct;
  /** the pool_workqueue that counts it against max_active (null for a pending delayed timer) */
  pwq: pool_workqueue | null;
  /** pool CPU, -1 unbound */
  cpu: number;
  color: number;
  state: number;
  waiters: (() => void)[] | null;
}

/** FIFO with O(1) shift (Array#shift is O(n): a long inactive list made queueing quadratic). */
export class Fifo<T> {
  #a: (T | undefined)[] = [];
  #h = 0;
  get length(): number {
    return this.#a.length - this.#h;
  }
  push(v: T): void {
    this.#a.push(v);
  }
  shift(): T | undefined {
    if (this.#h >= this.#a.length) return undefined;
    const v = this.#a[this.#h];
    this.#a[this.#h++] = undefined;
    if (this.#h > 1024 && this.#h * 2 > this.#a.length) {
      this.#a = this.#a.slice(this.#h);
      this.#h = 0;
    }
    return v;
  }
}

// --- objects -----------------------------------------------------------------------

const registry = new FinalizationRegistry<number>((id) => freeItem(id));
/** J: id -> work for items with a live instance (records carry ids). */
export const byId = new Map<number, work_struct>();

/** The shared item table: one state word per work_struct (lib/internal/wq-shared.ts). */
export function words(): Int32Array {
  return itemTable();
}

// Module-private accessors to work_struct's private fields, handed out by its
// static block (timer_list's style): the files of lib/workqueue/ import them;
// users see no `_x` fields to read, forge or corrupt.
export let isWork: (o: unknown) => o is work_struct;
/** Item table slot (its state word), -1 until INIT_WORK. */
export let workId: (w: work_struct) => number;
export let setWorkId: (w: work_struct, v: number) => void;
/** A handle inside a pool worker (remoteWork), not the main thread's object. */
export let isRemote: (w: work_struct) => boolean;
let setRemote: (w: work_struct) => void;
/** The pool's id of its {module, name} function, -1 until first dispatched. */
export let workFn: (w: work_struct) => number;
export let setWorkFn: (w: work_struct, v: number) => void;
/** The delayed_work it is embedded in, or null. */
export let dworkOf: (w: work_struct) => delayed_work | null;
export let isDelayed: (o: unknown) => o is delayed_work;
let setDwork: (w: work_struct, v: delayed_work) => void;
/** The instance owning PENDING, if any. */
export let pendOf: (w: work_struct) => Inst | null;
export let setPend: (w: work_struct, v: Inst | null) => void;
/** The dispatched instance (in a ring, running, or in a pool backlog), if any. */
export let runOf: (w: work_struct) => Inst | null;
export let setRun: (w: work_struct, v: Inst | null) => void;
/** An instance held back because the run has not finished (non-reentrancy), if any. */
export let deferredOf: (w: work_struct) => Inst | null;
export let setDeferred: (w: work_struct, v: Inst | null) => void;

/**
 * `struct work_struct`. Initialise with {@link INIT_WORK}. Set `data` (any
 * structured-cloneable value; SharedArrayBuffers stay shared) before queueing:
 * the function receives a work item carrying it.
 */
export class work_struct {
  /** The caller's payload, read when the item is dispatched. */
  data: unknown = undefined;
  /** The function set by INIT_WORK. */
  func: WorkFnRef | BhWorkFn | null = null;
  #id = -1;
  #remote = false;
  #fn = -1;
  #dwork: delayed_work | null = null;
  #pend: Inst | null = null;
  #run: Inst | null = null;
  #deferred: Inst | null = null;
  static {
    // `#id in o` runs no Proxy trap and cannot be faked by a duck-typed object.
    isWork = (o): o is work_struct => typeof o === 'object' && o !== null && #id in o;
    workId = (w) => w.#id;
    setWorkId = (w, v) => {
      w.#id = v;
    };
    isRemote = (w) => w.#remote;
    setRemote = (w) => {
      w.#remote = true;
    };
    workFn = (w) => w.#fn;
    setWorkFn = (w, v) => {
      w.#fn = v;
    };
    dworkOf = (w) => w.#dwork;
    setDwork = (w, v) => {
      w.#dwork = v;
    };
    pendOf = (w) => w.#pend;
    setPend = (w, v) => {
      w.#pend = v;
    };
    runOf = (w) => w.#run;
    setRun = (w, v) => {
      w.#run = v;
    };
    deferredOf = (w) => w.#deferred;
    setDeferred = (w, v) => {
      w.#deferred = v;
    };
  }
}

/**
 * `struct delayed_work`: a work item and the timer_list that queues it.
 * Initialise with {@link INIT_DELAYED_WORK} or {@link INIT_DEFERRABLE_WORK}.
 */
export class delayed_work {
  #brand = true;
  static {
    isDelayed = (o): o is delayed_work => typeof o === 'object' && o !== null && #brand in o;
  }
  /** The work item the timer queues (what the work function receives). */
  readonly work = new work_struct();
  /** The TIMER_IRQSAFE timer_list that queues `work` when the delay has passed. */
  readonly timer = new timer_list();
  /** The queue the timer will queue the work on. */
  wq: workqueue_struct | null = null;
  /** The CPU the timer will queue on (WORK_CPU_UNBOUND: none in particular). */
  cpu = WORK_CPU_UNBOUND;
  /** An uninitialised delayed_work: call {@link INIT_DELAYED_WORK} next. */
  constructor() {
    setDwork(this.work, this);
  }
}

/** Frees an item's state word when its work_struct is collected (INIT_WORK registers it). */
export function registerItem(w: work_struct, id: number): void {
  registry.register(w, id);
}

// --- argument checks ---------------------------------------------------------------

export function workArg(v: unknown, name = 'work'): work_struct {
  if (!isWork(v)) throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a work_struct, got ${describe(v)}`);
  return v;
}

export function initedWork(v: unknown, name = 'work'): work_struct {
  const w = workArg(v, name);
  if (workId(w) < 0) throw typeError('ERR_KTIMERS_NOT_SETUP', `${name} was never initialised: call INIT_WORK() first`);
  return w;
}

export function dworkArg(v: unknown, name = 'dwork'): delayed_work {
  if (!isDelayed(v)) throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a delayed_work, got ${describe(v)}`);
  return v;
}

export function initedDwork(v: unknown): delayed_work {
  const d = dworkArg(v);
  if (workId(d.work) < 0) throw typeError('ERR_KTIMERS_NOT_SETUP', 'dwork was never initialised: call INIT_DELAYED_WORK() first');
  return d;
}

export function fnName(w: work_struct): string {
  const f = w.func;
  if (typeof f === 'function') return f.name || '<anonymous>';
  if (f !== null) return `${f.name} (${f.module})`;
  return '<none>';
}

/** Calls that need the main thread's state refuse to run inside a work function. */
export function mainOnly(what: string): void {
  if (wside.worker !== null) {
    throw new KtimersError('ERR_KTIMERS_WQ_WORKER_CONTEXT', `${what}() is available on the main thread only, not inside a work function`);
  }
}

// --- worker-side handles -----------------------------------------------------------

/** The handle a pool worker passes to a work function (lib/workqueue/worker.ts). */
export function remoteWork(id: number, delayed: boolean, data: unknown): work_struct {
  if (delayed) {
    const dw = new delayed_work();
    setWorkId(dw.work, id);
    setRemote(dw.work);
    dw.work.data = data;
    return dw.work;
  }
  const w = new work_struct();
  setWorkId(w, id);
  setRemote(w);
  w.data = data;
  return w;
}
