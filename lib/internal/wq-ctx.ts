/**
 * Which side of the workqueue this thread is on. A pool worker sets `worker`
 * before it imports any work function's module, so a work function that
 * imports ktimers and calls `queue_work` (self-requeue, chaining) reaches the
 * worker-side path: an atomic test-and-set of PENDING in the shared item table
 * and a request record to the main thread (lib/workqueue/worker.ts).
 * @internal
 */
export interface WorkerSide {
  /** Worker-side queue: returns the kernel's bool. delay null = queue_work. */
  queue(id: number, wqId: number, cpu: number, delay: bigint | null): boolean;
  /** State word of item `id`. */
  state(id: number): number;
  /** The item being run by this worker (its handle), or null. */
  current: object | null;
}

export const wside: { worker: WorkerSide | null } = { worker: null };
