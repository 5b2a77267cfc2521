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

/**
 * `struct workqueue_struct`. Made by {@link alloc_workqueue} /
 * {@link alloc_ordered_workqueue}, or one of the system queues. Work function
 * failures are emitted as `'error'` events (`wq.on('error', fn)`), a
 * KtimersError whose `cause` is what the function threw and whose `work` is
 * the failed work_struct; with no listener they go to the process's usual
 * error path (uncaughtException).
 */
export class workqueue_struct {
  #brand = true;
  /** @internal */
  static isWq(o: unknown): o is workqueue_struct {
    return typeof o === 'object' && o !== null && #brand in o;
  }
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
  /** @internal wq_adjust_max_active: the new (clamped) limit; instances waiting for a slot start now. */
  _setMaxActive(v: number): void {
    this.#max = v;
    for (const pwq of this.#pwqs) if (pwq !== undefined) pwq.activateInactive();
  }
  /** @internal the pool_workqueue of pool `cpu` (-1 unbound). */
  _pwq(cpu: number): pool_workqueue {
    return (this.#pwqs[cpu + 1] ??= new pool_workqueue(this, cpu));
  }
  /** @internal */ get _destroyed(): boolean {
    return this.#destroyed;
  }
  /** @internal */ _destroy(): void {
    this.#destroyed = true;
  }
  /** @internal */ get _system(): boolean {
    return this.#system;
  }
  /** @internal */ get _live(): number {
    return this.#live;
  }
  /** @internal */ _draining = 0;

  /** @internal a new instance of `work` on this queue (PENDING is held by the caller). */
  _newInst(work: work_struct, cpu: number): Inst {
    const inst: Inst = { work, wq: this, pwq: this._pwq(cpu), cpu, color: this.#color, state: 0, waiters: null };
    this.#colors.set(inst.color, (this.#colors.get(inst.color) ?? 0) + 1);
    this.#live++;
    holdRef(1);
    return inst;
  }

  /** @internal the instance is done or cancelled: colour, waiters, flushers. */
  _finish(inst: Inst, state: number): void {
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

  /** @internal waits for every instance queued before now. */
  _flush(): Promise<void> {
    if (this.#live === 0) return Promise.resolve();
    const color = this.#color++;
    return new Promise((resolve) => this.#flushers.push({ color, resolve }));
  }

  /** @internal reports a work failure: 'error' listeners, else uncaughtException. */
  _report(err: Error): void {
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
}

/** A queue argument on the main thread. */
export function wqArg(v: unknown, name = 'wq'): workqueue_struct {
  if (!workqueue_struct.isWq(v)) throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a workqueue_struct, got ${describe(v)}`);
  if (v._destroyed) throw new KtimersError('ERR_KTIMERS_WQ_DESTROYED', `workqueue "${v.name}" was destroyed`);
  return v;
}
