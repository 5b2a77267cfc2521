/**
 * Making queues: alloc_workqueue and its ordered and legacy forms, the system
 * queues, and workqueue_set_max_active. "max_active 0 means the default" is
 * alloc_workqueue's rule; the clamp is pool-workqueue.ts's (clampActive).
 */
import { describe, kwarn, rangeError, typeError } from '../errors.js';
import {
  WQ_BH,
  WQ_BH_ALLOWS,
  WQ_DFL_ACTIVE,
  WQ_FREEZABLE,
  WQ_HIGHPRI,
  WQ_MAX_ACTIVE,
  WQ_MEM_RECLAIM,
  WQ_NAME_LEN,
  WQ_PERCPU,
  WQ_POWER_EFFICIENT,
  WQ_PUBLIC_FLAGS,
  WQ_UNBOUND,
  __WQ_LEGACY,
  __WQ_ORDERED,
} from './flags.js';
import { mainOnly } from './work.js';
import { setMaxActive, workqueue_struct, wqArg, wqById } from './workqueue-struct.js';
import { clampActive } from './pool-workqueue.js';

export function intArg(v: unknown, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < lo || v > hi) throw rangeError('ERR_OUT_OF_RANGE', `${name} must be an integer in [${lo}, ${hi}], got ${describe(v)}`);
  return Object.is(v, -0) ? 0 : v;
}

function newQueue(name: unknown, flags: unknown, max_active: unknown, extra: number): workqueue_struct | null {
  // A queue made in a pool worker would exist only there (its id means nothing to the main thread).
  mainOnly('alloc_workqueue');
  if (typeof name !== 'string') throw typeError('ERR_INVALID_ARG_TYPE', `name must be a string, got ${describe(name)}`);
  let f = intArg(flags, 'flags', 0, 0xffffffff);
  const max = intArg(max_active, 'max_active', -(2 ** 31), 2 ** 31 - 1);
  if (f & ~WQ_PUBLIC_FLAGS) {
    kwarn('KTIMERS_WARN_WQ_FLAGS', `alloc_workqueue(): flags 0x${((f & ~WQ_PUBLIC_FLAGS) >>> 0).toString(16)} are not WQ_* flags; masked off`, true);
    f &= WQ_PUBLIC_FLAGS;
  }
  f |= extra;
  const nm = name.slice(0, WQ_NAME_LEN - 1);
  if (f & WQ_BH) {
    if (f & ~(WQ_BH_ALLOWS | __WQ_ORDERED) || f & __WQ_ORDERED || max !== 0) {
      kwarn('KTIMERS_WARN_WQ_BH', `alloc_workqueue(${nm}): WQ_BH allows only WQ_HIGHPRI and WQ_PERCPU, and max_active 0`);
      return null;
    }
    const wq = new workqueue_struct(nm, f, Infinity);
    wqById.set(wq.id, wq);
    return wq;
  }
  const wq = new workqueue_struct(nm, f, clampActive(max === 0 ? WQ_DFL_ACTIVE : max, nm));
  wqById.set(wq.id, wq);
  return wq;
}

/**
 * `alloc_workqueue(name, flags, max_active)` — a new queue. max_active 0 means
 * WQ_DFL_ACTIVE (1024); outside [1, WQ_MAX_ACTIVE] it is clamped with a
 * warning. WQ_BH queues allow only WQ_HIGHPRI | WQ_PERCPU and max_active 0.
 * Creating a queue starts no thread: pools start workers on first use.
 * Context: any. Return: the queue, or null (with a warning) for invalid WQ_BH use.
 * @param name - the queue's name (truncated to WQ_NAME_LEN - 1 characters).
 * @param flags - WQ_* flags.
 * @param max_active - concurrent items (per CPU for per-CPU queues), 0 for the default.
 */
export function alloc_workqueue(name: string, flags: number, max_active: number): workqueue_struct | null {
  return newQueue(name, flags, max_active, 0);
}

/**
 * `alloc_ordered_workqueue(name, flags)` = alloc_workqueue(name, WQ_UNBOUND |
 * __WQ_ORDERED | flags, 1): at most one item at a time, in queueing order.
 *
 * Context: any.
 * Return: the queue, or null (with a warning) for invalid flags.
 * @param name - the queue's name.
 * @param flags - WQ_* flags (WQ_UNBOUND is implied).
 */
export function alloc_ordered_workqueue(name: string, flags: number): workqueue_struct | null {
  intArg(flags, 'flags', 0, 0xffffffff);
  return newQueue(name, flags, 1, WQ_UNBOUND | __WQ_ORDERED);
}

/**
 * `create_workqueue(name)` (legacy): per-CPU (WQ_PERCPU), WQ_MEM_RECLAIM, max_active 1 (per CPU).
 *
 * Context: any.
 * Return: the queue.
 * @param name - the queue's name.
 */
export function create_workqueue(name: string): workqueue_struct {
  // WQ_PERCPU as the kernel's macro since 6.17 (per-CPU either way: no WQ_UNBOUND).
  return newQueue(name, WQ_MEM_RECLAIM | WQ_PERCPU, 1, __WQ_LEGACY)!;
}

/**
 * `create_singlethread_workqueue(name)` (legacy) = ordered, WQ_MEM_RECLAIM.
 *
 * Context: any.
 * Return: the queue.
 * @param name - the queue's name.
 */
export function create_singlethread_workqueue(name: string): workqueue_struct {
  return newQueue(name, WQ_MEM_RECLAIM, 1, WQ_UNBOUND | __WQ_ORDERED | __WQ_LEGACY)!;
}

/**
 * `workqueue_set_max_active(wq, max_active)`: clamped to [1, WQ_MAX_ACTIVE]
 * with a warning (`KTIMERS_WARN_WQ_MAX_ACTIVE`) outside it, as the kernel's
 * wq_clamp_max_active. Unlike alloc_workqueue, 0 is not "the default": it is
 * out of range and becomes 1. On BH and ordered queues (alloc_ordered_workqueue,
 * create_singlethread_workqueue) it warns (`KTIMERS_WARN_WQ_SET_MAX_ACTIVE`, the
 * kernel's WARN_ON) and changes nothing. Items waiting for a slot start at once
 * when the limit is raised.
 *
 * Context: main thread.
 * @param wq - the queue.
 * @param max_active - the new limit (per CPU for per-CPU queues).
 */
export function workqueue_set_max_active(wq: workqueue_struct, max_active: number): void {
  mainOnly('workqueue_set_max_active');
  const q = wqArg(wq);
  const max = intArg(max_active, 'max_active', -(2 ** 31), 2 ** 31 - 1);
  if (q.flags & (WQ_BH | __WQ_ORDERED)) {
    kwarn('KTIMERS_WARN_WQ_SET_MAX_ACTIVE', `workqueue_set_max_active(${q.name}): not allowed on ${q.flags & WQ_BH ? 'BH' : 'ordered'} workqueues`);
    return;
  }
  setMaxActive(q, clampActive(max, q.name));
}

function system(name: string, flags: number, max: number, id: number): workqueue_struct {
  const wq = new workqueue_struct(name, flags, flags & WQ_BH ? Infinity : max, id, true);
  wqById.set(id, wq);
  return wq;
}

// Fixed ids 1..: a pool worker's own copy of this module makes the same objects,
// so `system_wq` inside a work function is the main thread's system_wq.
/** "events": per-CPU (kept for compatibility; schedule_work uses system_percpu_wq since 6.17). */
export const system_wq = system('events', 0, WQ_DFL_ACTIVE, 1);
/** "events": per-CPU; schedule_work() queues here. */
export const system_percpu_wq = system('events', WQ_PERCPU, WQ_DFL_ACTIVE, 2);
/** "events_highpri": per-CPU, WQ_HIGHPRI workers. */
export const system_highpri_wq = system('events_highpri', WQ_HIGHPRI, WQ_DFL_ACTIVE, 3);
/** "events_long": per-CPU, for long-running items. */
export const system_long_wq = system('events_long', 0, WQ_DFL_ACTIVE, 4);
/** "events_unbound": unbound, max_active WQ_MAX_ACTIVE. */
export const system_unbound_wq = system('events_unbound', WQ_UNBOUND, WQ_MAX_ACTIVE, 5);
/** "events_unbound" (6.17 name of system_unbound_wq's role). */
export const system_dfl_wq = system('events_unbound', WQ_UNBOUND, WQ_MAX_ACTIVE, 6);
/** "events_freezable": per-CPU, WQ_FREEZABLE (nothing freezes in a process). */
export const system_freezable_wq = system('events_freezable', WQ_FREEZABLE, WQ_DFL_ACTIVE, 7);
/** "events_power_efficient": per-CPU (workqueue.power_efficient is off). */
export const system_power_efficient_wq = system('events_power_efficient', WQ_POWER_EFFICIENT, WQ_DFL_ACTIVE, 8);
/** "events_bh": BH work on the main thread in softirq context. */
export const system_bh_wq = system('events_bh', WQ_BH, 0, 9);
/** "events_bh_highpri". */
export const system_bh_highpri_wq = system('events_bh_highpri', WQ_BH | WQ_HIGHPRI, 0, 10);
