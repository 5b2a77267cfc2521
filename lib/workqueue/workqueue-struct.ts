/**
 * `struct workqueue_struct`: what a queue is to its users (name, flags, the
 * max_active limit, 'error' listeners) and the bookkeeping that spans its
 * pools: the live instances, flush colours and flushers, draining and
 * destruction. Counting against max_active is its pool_workqueues' job
 * (lib/workqueue/pool-workqueue.ts), one per pool it uses, as the kernel keeps
 * `struct pool_workqueue` apart from `struct workqueue_struct`.
 */
import { KtimersError, describe, rangeError, typeError } from '../errors.js';
import { reportError } from '../internal/virtual.js';
import { holdRef } from '../internal/wq-items.js';
import { pool_workqueue } from './pool-workqueue.js';
import type { Inst, work_struct } from './work.js';
import type { alloc_ordered_workqueue, alloc_workqueue } from './alloc.js'; // for the {@link}s

type ErrorListener = (err: Error) => void;

let nextWqId = 32;
/** J: every live queue by id: a work function names the queue it queues on by id. */
export const wqById = new Map<number, workqueue_struct>();

// Module-private accessors, handed out by workqueue_struct's static block
// (timer_list's style): the files of lib/workqueue/ import them.
export let isWq: (o: unknown) => o is workqueue_struct;
/** wq_adjust_max_active: the new (clamped) limit; instances waiting for a slot start now. */
export let setMaxActive: (wq: workqueue_struct, v: number) => void;
export let isDestroyed: (wq: workqueue_struct) => boolean;
export let markDestroyed: (wq: workqueue_struct) => void;
export let isSystem: (wq: workqueue_struct) => boolean;
/** Instances queued and not yet done or cancelled. */
export let liveCount: (wq: workqueue_struct) => number;
/** drain_workqueue calls in progress (while > 0 only chained queueing is accepted). */
export let draining: (wq: workqueue_struct) => number;
export let addDraining: (wq: workqueue_struct, d: number) => void;
/** A new instance of `work` on `wq`, for pool `cpu` (PENDING is held by the caller). */
export let newInst: (wq: workqueue_struct, work: work_struct, cpu: number) => Inst;
/** The instance is done or cancelled: colour, waiters, flushers. */
export let finishInst: (inst: Inst, state: number) => void;
/** Waits for every instance queued on `wq` before now (flush colours). */
export let flushInsts: (wq: workqueue_struct) => Promise<void>;
/** Reports a work failure: 'error' listeners, else uncaughtException. */
export let reportFailure: (wq: workqueue_struct, err: Error) => void;

/**
 * `struct workqueue_struct`. Made by {@link alloc_workqueue} /
 * {@link alloc_ordered_workqueue}, or one of the system queues. Work function
 * failures are emitted as `'error'` events (`wq.on('error', fn)`), a
 * KtimersError whose `cause` is what the function threw and whose `work` is
 * the failed work_struct; with no listener they go to the process's usual
 * error path (uncaughtException).
 */
export class workqueue_struct {
  /** Identifies the queue across threads (a clone of this object in `work.data` can be queued on from a worker). */
  readonly id: number;
  /** The name given to alloc_workqueue (truncated to WQ_NAME_LEN - 1 characters). */
  readonly name: string;
  /** The WQ_* flags it was created with. */
  readonly flags: number;
  #max: number;
  /** pool_workqueues by pool slot (0 = unbound, cpu + 1), made on first use */
  #pwqs: pool_workqueue[] = [];
  #colors = new Map<number, number>();
  #color = 0;
  #live = 0;
  #flushers: { color: number; resolve: () => void }[] = [];
  #listeners: ErrorListener[] = [];
  #destroyed = false;
  #system = false;
  #draining = 0;

  /** @internal use alloc_workqueue */
  constructor(name: string, flags: number, max: number, id = 0, system = false) {
    this.id = id !== 0 ? id : nextWqId++;
    this.name = name;
    this.flags = flags;
    this.#max = max;
    this.#system = system;
  }

  /**
   * Adds an 'error' listener (the only event). Returns this.
   * @param event - 'error'.
   * @param listener - called with the KtimersError of a failed work function.
   */
  on(event: 'error', listener: ErrorListener): this {
    if (event !== 'error') throw rangeError('ERR_INVALID_ARG_VALUE', `workqueue_struct emits only 'error', got ${describe(event)}`);
    if (typeof listener !== 'function') throw typeError('ERR_INVALID_ARG_TYPE', `listener must be a function, got ${describe(listener)}`);
    this.#listeners.push(listener);
    return this;
  }
  /**
   * Removes an 'error' listener. Returns this.
   * @param event - 'error'.
   * @param listener - a listener added with `on`.
   */
  off(event: 'error', listener: ErrorListener): this {
    const i = this.#listeners.indexOf(listener);
    if (event === 'error' && i >= 0) this.#listeners.splice(i, 1);
    return this;
  }

  /** The effective max_active (after clamping; Infinity for WQ_BH queues). */
  get max_active(): number {
    return this.#max;
  }
  /** The pool_workqueue of pool `cpu` (-1 unbound), made on first use. */
  #pwq(cpu: number): pool_workqueue {
    return (this.#pwqs[cpu + 1] ??= new pool_workqueue(this, cpu));
  }

  #newInst(work: work_struct, cpu: number): Inst {
    const inst: Inst = { work, wq: this, pwq: this.#pwq(cpu), cpu, color: this.#color, state: 0, waiters: null };
    this.#colors.set(inst.color, (this.#colors.get(inst.color) ?? 0) + 1);
    this.#live++;
    holdRef(1);
    return inst;
  }

  #finish(inst: Inst, state: number): void {
    inst.state = state;
    const n = this.#colors.get(inst.color)! - 1;
    if (n === 0) this.#colors.delete(inst.color);
    else this.#colors.set(inst.color, n);
    this.#live--;
    holdRef(-1);
    if (inst.waiters !== null) for (const w of inst.waiters.splice(0)) w();
    if (this.#flushers.length > 0) {
      // Map keys iterate in insertion order, and colours only grow: the first is the oldest live colour.
      const oldest = this.#colors.keys().next();
      while (this.#flushers.length > 0 && (oldest.done || oldest.value > this.#flushers[0]!.color)) {
        this.#flushers.shift()!.resolve();
      }
    }
  }

  #flush(): Promise<void> {
    if (this.#live === 0) return Promise.resolve();
    const color = this.#color++;
    return new Promise((resolve) => this.#flushers.push({ color, resolve }));
  }

  #report(err: Error): void {
    if (this.#listeners.length === 0) {
      reportError(err);
      return;
    }
    for (const l of [...this.#listeners]) {
      try {
        l.call(this, err);
      } catch (e) {
        reportError(e);
      }
    }
  }
  static {
    isWq = (o): o is workqueue_struct => typeof o === 'object' && o !== null && #max in o;
    setMaxActive = (wq, v) => {
      wq.#max = v;
      for (const pwq of wq.#pwqs) if (pwq !== undefined) pwq.activateInactive();
    };
    isDestroyed = (wq) => wq.#destroyed;
    markDestroyed = (wq) => {
      wq.#destroyed = true;
    };
    isSystem = (wq) => wq.#system;
    liveCount = (wq) => wq.#live;
    draining = (wq) => wq.#draining;
    addDraining = (wq, d) => {
      wq.#draining += d;
    };
    newInst = (wq, work, cpu) => wq.#newInst(work, cpu);
    finishInst = (inst, state) => inst.wq.#finish(inst, state);
    flushInsts = (wq) => wq.#flush();
    reportFailure = (wq, err) => wq.#report(err);
  }
}

/** A queue argument on the main thread. */
export function wqArg(v: unknown, name = 'wq'): workqueue_struct {
  if (!isWq(v)) throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a workqueue_struct, got ${describe(v)}`);
  if (isDestroyed(v)) throw new KtimersError('ERR_KTIMERS_WQ_DESTROYED', `workqueue "${v.name}" was destroyed`);
  return v;
}
