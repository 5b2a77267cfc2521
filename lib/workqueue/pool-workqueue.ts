/**
 * `struct pool_workqueue`: a queue's link to one worker pool, and the
 * max_active rule. As in kernel/workqueue.c, the limit is the queue's
 * (`wq->max_active`, set by alloc_workqueue and workqueue_set_max_active
 * through {@link clampActive}) and the counting is the pwq's: each pwq counts
 * the instances it has handed to its pool (`nr_active`, the kernel's
 * pwq_tryinc_nr_active / pwq_dec_nr_active) and parks the rest, in queueing
 * order, on its inactive list (`inactive_works`). A per-CPU queue has one pwq
 * per CPU, so the limit is per CPU; an unbound queue has one (cpu -1), so it is
 * per queue. Everything here is main-thread state.
 */
import { kwarn } from '../errors.js';
import { hasRecords, reap } from '../internal/wq-pool.js';
import { WQ_MAX_ACTIVE } from './flags.js';
import { Fifo, I_INACTIVE, type Inst } from './work.js';

/**
 * The kernel's wq_clamp_max_active: [1, WQ_MAX_ACTIVE] with a pr_warn outside it.
 * No "0 means default" here: that rule is alloc_workqueue's own (`max_active ?:
 * WQ_DFL_ACTIVE` before the clamp), so workqueue_set_max_active(wq, 0) gives 1.
 */
export function clampActive(max: number, name: string): number {
  if (max < 1 || max > WQ_MAX_ACTIVE) {
    kwarn(
      'KTIMERS_WARN_WQ_MAX_ACTIVE',
      `workqueue: max_active ${max} requested for ${name} is out of range, clamping between 1 and ${WQ_MAX_ACTIVE}`,
    );
    return max < 1 ? 1 : WQ_MAX_ACTIVE;
  }
  return max;
}

/**
 * How an activated instance goes to its pool: dispatch.ts's start, handed over
 * once by dispatch.ts (which reports back to the queue, so it imports
 * workqueue-struct.ts; importing it from here would close a cycle).
 */
let start: (inst: Inst) => void = () => {
  throw new Error('lib/workqueue/dispatch.ts was not loaded');
};
export function setStart(fn: (inst: Inst) => void): void {
  start = fn;
}

/** What a pwq reads of its queue: the limit (Infinity for WQ_BH queues, which have no pools). */
interface MaxActive {
  readonly max_active: number;
}

export class pool_workqueue {
  /** The pool's CPU, -1 for the unbound pool. */
  readonly cpu: number;
  readonly #wq: MaxActive;
  /** Instances handed to the pool and not finished (or cancelled) yet. */
  #nrActive = 0;
  /** Instances waiting for a slot, in queueing order; created on first use. */
  #inactive: Fifo<Inst> | null = null;

  constructor(wq: MaxActive, cpu: number) {
    this.#wq = wq;
    this.cpu = cpu;
  }

  /** __queue_work's last step: starts `inst` if a slot is free and nobody waits, else parks it. */
  activate(inst: Inst): void {
    const list = this.#inactive;
    if (this.#nrActive < this.#wq.max_active && (list === null || list.length === 0)) {
      this.#nrActive++;
      start(inst);
    } else {
      inst.state = I_INACTIVE;
      (this.#inactive ??= new Fifo<Inst>()).push(inst);
      // At the limit: collect finished items now rather than after this
      // synchronous code returns (a tight queue_work loop).
      if (hasRecords()) reap();
    }
  }

  /** pwq_dec_nr_active: an active instance left (finished, or cancelled before running). */
  deactivate(): void {
    this.#nrActive--;
    this.activateInactive();
  }

  /** pwq_activate_first_inactive, while slots are free (also after max_active was raised). */
  activateInactive(): void {
    const list = this.#inactive;
    if (list === null) return;
    while (list.length > 0 && this.#nrActive < this.#wq.max_active) {
      const inst = list.shift()!;
      if (inst.state !== I_INACTIVE) continue; // cancelled while inactive
      this.#nrActive++;
      start(inst);
    }
  }
}
