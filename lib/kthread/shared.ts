/**
 * kthread_worker: the shared state word of a kthread_work, and the messages
 * between the creating thread and a worker thread. Both sides import this one
 * file (lib/kthread/worker.ts and ops.ts on the caller's side, lib/kthread/thread.ts
 * on the worker's).
 *
 * The state word. Every kthread_work has one Int32 in a process-wide
 * SharedArrayBuffer (the work table), changed only with compare-and-swap, so a
 * queueing call answers the kernel's bool at once and exactly from any thread
 * (the kernel takes `worker->lock` for the same test):
 *   bit 0      PENDING   queued: a queue message in flight, on the worker's
 *                        work_list, or its delayed timer armed
 *   bit 1      BOUND     queued at least once since kthread_init_work (the
 *                        kernel's `work->worker != NULL`)
 *   bit 2      RUNNING   its function is running on the worker thread
 *   bits 3..9  canceling the kernel's `work->canceling` count (0..127)
 *   bits 10..31 gen      bumped by every successful queueing: an instance's
 *                        identity. The worker runs a list entry (or lets a
 *                        timer append it) only while PENDING is set and the gen
 *                        still matches, so an instance cancelled or re-queued
 *                        elsewhere in the meantime is skipped: the list entry
 *                        or timer left behind is stale and is dropped.
 * Which thread owns what: the worker thread owns work_list, the delayed
 * timers and current_work; the word is the only state queueing needs.
 * @internal
 */

export const K_PENDING = 1;
export const K_BOUND = 2;
export const K_RUNNING = 4;
export const K_CANCEL_ONE = 8;
export const K_CANCEL_MASK = 0x3f8;
export const K_CANCEL_MAX = K_CANCEL_MASK / K_CANCEL_ONE;
export const K_GEN_SHIFT = 10;
const K_LOW = (1 << K_GEN_SHIFT) - 1;

/** Work table size: the most kthread_work objects alive at once (ids are recycled when one is collected). */
export const WORKS_MAX = 1 << 16;

/** Per-worker control block (Int32): written by the worker thread at start and as it runs. */
export const T_STATE = 0; // 0 starting, 1 ready, -errno or -1000 failed
export const T_TID = 1;
export const T_CURRENT = 2; // id + 1 of the work whose function runs, 0 between works
export const T_WORDS = 4;
export const T_FAILED = -1000;

export function genOf(word: number): number {
  return word >>> K_GEN_SHIFT;
}

function nextGen(word: number): number {
  return ((((word >>> K_GEN_SHIFT) + 1) << K_GEN_SHIFT) | (word & K_LOW)) | 0;
}

/**
 * queuing_blocked() + the queueing itself: -1 when the work is pending or a
 * cancel is in progress (the kernel's false), else the new instance's gen.
 */
export function tryQueue(t: Int32Array, id: number): number {
  for (;;) {
    const o = Atomics.load(t, id);
    if (o & (K_PENDING | K_CANCEL_MASK)) return -1;
    const n = nextGen(o) | K_PENDING | K_BOUND;
    if (Atomics.compareExchange(t, id, o, n) === o) return genOf(n);
  }
}

/**
 * kthread_mod_delayed_work's decision, in one step. Returns [ret, gen]: gen -1
 * means nothing is queued (a cancel or another mod is in progress: ret true).
 * Never queued since init: queued, false. Otherwise ret = it was pending; the
 * old instance (list entry or timer) becomes stale and a new one is queued.
 */
export function modQueue(t: Int32Array, id: number): [boolean, number] {
  for (;;) {
    const o = Atomics.load(t, id);
    if (o & K_BOUND && o & K_CANCEL_MASK) return [true, -1];
    const n = nextGen(o) | K_PENDING | K_BOUND;
    if (Atomics.compareExchange(t, id, o, n) === o) return [(o & K_BOUND) !== 0 && (o & K_PENDING) !== 0, genOf(n)];
  }
}

/**
 * The first half of a cancel: un-pends the work. Returns null when it was never
 * queued (false at once), else [wasPending, running]; when running, the
 * canceling count was raised and the caller must wait for the execution to end
 * and then call cancelEnd. 'full': K_CANCEL_MAX cancels of it already wait.
 */
export function cancelBegin(t: Int32Array, id: number): [boolean, boolean] | null | 'full' {
  for (;;) {
    const o = Atomics.load(t, id);
    if (!(o & K_BOUND)) return null;
    const running = (o & K_RUNNING) !== 0;
    if (running && (o & K_CANCEL_MASK) === K_CANCEL_MASK) return 'full';
    const n = (o & ~K_PENDING) + (running ? K_CANCEL_ONE : 0);
    if (Atomics.compareExchange(t, id, o, n) === o) return [(o & K_PENDING) !== 0, running];
  }
}

export function cancelEnd(t: Int32Array, id: number): void {
  Atomics.sub(t, id, K_CANCEL_ONE);
}

/** The worker claims instance `gen` to run it: PENDING -> RUNNING. False when stale. */
export function claim(t: Int32Array, id: number, gen: number): boolean {
  for (;;) {
    const o = Atomics.load(t, id);
    if (!(o & K_PENDING) || genOf(o) !== gen) return false;
    if (Atomics.compareExchange(t, id, o, (o & ~K_PENDING) | K_RUNNING) === o) return true;
  }
}

/** Still the live instance (pending, same gen)? */
export function live(t: Int32Array, id: number, gen: number): boolean {
  const o = Atomics.load(t, id);
  return (o & K_PENDING) !== 0 && genOf(o) === gen;
}

/** A delayed work's timer fired: may it go on work_list? (live and no cancel in progress) */
export function timerMayAppend(t: Int32Array, id: number, gen: number): boolean {
  const o = Atomics.load(t, id);
  return (o & K_PENDING) !== 0 && genOf(o) === gen && (o & K_CANCEL_MASK) === 0;
}

/** Un-pend a live instance that will never run (left on a destroyed worker). */
export function drop(t: Int32Array, id: number, gen: number): void {
  for (;;) {
    const o = Atomics.load(t, id);
    if (!(o & K_PENDING) || genOf(o) !== gen) return;
    if (Atomics.compareExchange(t, id, o, o & ~K_PENDING) === o) return;
  }
}

/** Messages to the worker thread. */
export type ToWorker =
  | { t: 'q'; id: number; gen: number; fn: [string, string]; dw: boolean; exp?: bigint; data?: unknown }
  | { t: 'wake'; fn?: boolean; name?: string; comm?: string }
  | { t: 'flushw'; seq: number }
  | { t: 'flush'; seq: number; id: number; gen: number; pending: boolean }
  | { t: 'cancel'; seq: number; id: number }
  | { t: 'stop'; seq: number };

/** Messages from the worker thread. */
export type FromWorker =
  | { t: 'done'; seq: number; error?: { code: string; message: string } }
  | { t: 'stopped'; seq: number; delayed: number; pending: number }
  | { t: 'err'; kind: 'threw' | 'load' | 'uncaught' | 'rejection'; fn?: string; error: unknown; props?: Record<string, unknown> }
  | { t: 'warn'; code: string; message: string };
