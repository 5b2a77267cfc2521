/**
 * The item's state word (the kernel's `work->data` flag bits, one Int32 of the
 * shared item table): PENDING taken with an exact test-and-set (queue_work),
 * or stolen whatever the item's state (try_to_grab_pending, for cancel and
 * mod_delayed_work). Layout: lib/internal/wq-shared.ts.
 */
import * as S from '../internal/wq-shared.js';
import { timer_delete, timer_pending } from '../timer/index.js';
import { dworkOf, I_BACKLOG, I_BH, I_CANCELLED, I_DEFERRED, I_DELAYED, I_DISPATCHED, I_INACTIVE, pendOf, setDeferred, setPend, setRun, words, workId, type work_struct } from './work.js';
import { finishInst } from './workqueue-struct.js';
import { delayedTimers, timerFiring } from './delayed.js';

/** Test-and-set PENDING; false if already pending or disabled (the kernel's queue_work_on result). */
export function grabIdle(w: work_struct): boolean {
  const t = words();
  const id = workId(w);
  for (;;) {
    const o = Atomics.load(t, id);
    if (o & S.W_PENDING || o >>> S.W_DISABLE_SHIFT) return false;
    if (Atomics.compareExchange(t, id, o, o | S.W_PENDING) === o) {
      forgetStarted(w, o);
      return true;
    }
  }
}

/** A dispatched instance the worker has started no longer owns PENDING. */
export function forgetStarted(w: work_struct, o: number): void {
  const p = pendOf(w);
  if (p !== null && p.state === I_DISPATCHED && !(o & S.W_ARMED)) setPend(w, null);
}

/**
 * The kernel's try_to_grab_pending: steal PENDING whatever the state.
 * Returns whether it was pending; removes the instance that held it.
 * With `keep`, PENDING stays set (owned by the caller, as mod_delayed_work needs).
 */
export function grabPending(w: work_struct, keep: boolean): boolean {
  const t = words();
  const id = workId(w);
  let o: number;
  for (;;) {
    o = Atomics.load(t, id);
    const n = (keep ? o | S.W_PENDING : o & ~S.W_PENDING) & ~(S.W_ARMED | S.W_XQUEUED);
    if (Atomics.compareExchange(t, id, o, n) === o) break;
  }
  if (!(o & S.W_PENDING)) return false;
  forgetStarted(w, o);
  const inst = pendOf(w);
  setPend(w, null);
  if (inst === null || o & S.W_XQUEUED) return true; // a worker's request not seen yet: it will be dropped
  switch (inst.state) {
    case I_DELAYED: {
      const dw = dworkOf(w)!;
      timer_delete(dw.timer);
      delayedTimers.delete(dw);
      return true;
    }
    case I_INACTIVE:
    case I_BH:
      finishInst(inst, I_CANCELLED); // lazily skipped where it sits
      return true;
    case I_DEFERRED:
      setDeferred(w, null);
      finishInst(inst, I_CANCELLED);
      inst.pwq!.deactivate();
      return true;
    case I_BACKLOG:
      setRun(w, null);
      finishInst(inst, I_CANCELLED);
      inst.pwq!.deactivate();
      return true;
    case I_DISPATCHED:
      // The worker will find ARMED clear and report a skip; the slot stays
      // active until then.
      finishInst(inst, I_CANCELLED);
      return true;
  }
  return true;
}

/** Completes the PENDING a delayed_work's virtual timer held when ktimers/testing uninstalled it. */
export function settle(w: work_struct): void {
  const p = pendOf(w);
  if (p !== null && p.state === I_DELAYED && timer_pending(dworkOf(w)!.timer) === 0 && !timerFiring()) {
    setPend(w, null);
    delayedTimers.delete(dworkOf(w)!);
    Atomics.and(words(), workId(w), ~S.W_PENDING);
  }
}

