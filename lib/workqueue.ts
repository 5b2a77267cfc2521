/**
 * workqueue: the kernel's deferred-work API, on a pool of worker_threads.
 *
 * Kernel names and return values (`include/linux/workqueue.h`,
 * `kernel/workqueue.c`, Linux 6.19 / 7.1). Timer callbacks run on the JS main
 * thread in atomic context; work items run on worker threads in task context,
 * where they may block (synchronous I/O, Atomics.wait, long loops) without
 * delaying any timer. Threads, rings and wake-ups are in
 * lib/internal/wq-pool.ts (main side) and lib/internal/wq-worker.ts (worker
 * side); the shared layouts in lib/internal/wq-shared.ts.
 *
 * Model. A work item's PENDING/RUNNING/disable state is one Int32 word in a
 * SharedArrayBuffer, changed only with atomic compare-and-swap, so
 * `queue_work` is an exact test-and-set of PENDING from the main thread and
 * from inside work functions alike. Everything else (which queue an instance
 * is on, max_active, flush colours, waiters) is main-thread state here. An
 * *instance* is one successful queueing; it is inactive (max_active reached),
 * deferred (the item is still running: non-reentrancy), in the backlog (ring
 * full), dispatched (in a ring or running), done or cancelled. Each instance
 * has a completion promise, created only when someone waits on it.
 *
 * Differences from the kernel (also in the README):
 * - Work functions are named, not passed: `{ module, name }`, imported by the
 *   worker. `WQ_BH` queues take plain functions, run on the main thread in
 *   softirq context (setImmediate after the queueing code), as the kernel runs
 *   BH work on the queueing CPU.
 * - Calls that sleep in the kernel return Promises on the main thread, and
 *   throw ERR_KTIMERS_SLEEP_IN_ATOMIC from timer callbacks (might_sleep).
 *   Inside a work function (a worker), only the queueing calls, work_pending,
 *   work_busy and current_work are available: the rest needs the main thread.
 * - Per-CPU queues: the JS thread has no fixed CPU, so `queue_work` on a
 *   per-CPU queue spreads items round-robin over the CPUs the process may run
 *   on; each CPU's pool starts with one worker pinned to that CPU. max_active is per
 *   CPU for per-CPU queues and per queue for unbound ones, as in the kernel.
 *   Concurrency management is approximated from outside: when items wait and
 *   every worker of a pool has been on one item for 10 ms, the pool grows by
 *   one worker (up to 32; lib/internal/wq-pool.ts).
 * - Queueing on a destroyed queue throws ERR_KTIMERS_WQ_DESTROYED (a
 *   use-after-free in the kernel). A queueing refused while the queue drains
 *   returns true and clears PENDING (Linux 7.1; 6.19 left it set).
 * - `destroy_workqueue` with delayed works still waiting on their timers
 *   (a caller bug in the kernel) warns and cancels them.
 * - WORK_CPU_UNBOUND is 8192 (NR_CPUS of the usual x86-64 configs).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAbsolute } from 'node:path';
import { KtimersError, describe, kwarn, rangeError, typeError } from './errors.js';
import { might_sleep } from './context.js';
import { enterIrq, exitIrq } from './internal/irq.js';
import { reportError } from './internal/virtual.js';
import { get_jiffies_64, jiffiesArg } from './jiffies.js';
import {
  timer_list,
  timer_setup,
  timer_delete,
  timer_pending,
  add_timer_global,
  fieldsWritable,
  TIMER_DEFERRABLE,
  TIMER_IRQSAFE,
} from './timer.js';
import * as S from './internal/wq-shared.js';
import { restoreProps } from './internal/thread-error.js';
import {
  allocItem,
  fnId,
  fnRef,
  freeItem,
  hasRecords,
  holdRef,
  itemTable,
  pool,
  reap,
  setRecordSink,
  type Pool,
} from './internal/wq-pool.js';
import { wside } from './internal/wq-ctx.js';
import { sched_getaffinity } from './sched.js';

// --- constants (enum wq_flags, S619 values) ---------------------------------------

/** Work runs on the main thread in softirq (BH) context, with plain functions (6.9+). */
export const WQ_BH = 1 << 0;
/** Not bound to a CPU: any worker of the unbound pool runs it; max_active is per queue. */
export const WQ_UNBOUND = 1 << 1;
/** Frozen during suspend in the kernel. Accepted; nothing freezes in a process. */
export const WQ_FREEZABLE = 1 << 2;
/** Guaranteed forward progress under memory pressure (a rescuer) in the kernel. Accepted; no effect here. */
export const WQ_MEM_RECLAIM = 1 << 3;
/** Runs on high-priority workers (their own pool, with a lower nice value where allowed). */
export const WQ_HIGHPRI = 1 << 4;
/** Exempt from concurrency management in the kernel. Accepted; no effect (the stall check treats every item alike). */
export const WQ_CPU_INTENSIVE = 1 << 5;
/** Visible in sysfs in the kernel. Accepted; no effect. */
export const WQ_SYSFS = 1 << 6;
/** Unbound when workqueue.power_efficient is set (it is not here): per-CPU. */
export const WQ_POWER_EFFICIENT = 1 << 7;
/** Explicitly per-CPU (6.17+; the default for queues without WQ_UNBOUND). */
export const WQ_PERCPU = 1 << 8;
const __WQ_DESTROYING = 1 << 15;
const __WQ_DRAINING = 1 << 16;
const __WQ_ORDERED = 1 << 17;
const __WQ_LEGACY = 1 << 18;
const WQ_PUBLIC_FLAGS =
  WQ_BH | WQ_UNBOUND | WQ_FREEZABLE | WQ_MEM_RECLAIM | WQ_HIGHPRI | WQ_CPU_INTENSIVE | WQ_SYSFS | WQ_POWER_EFFICIENT | WQ_PERCPU;
const WQ_BH_ALLOWS = WQ_BH | WQ_HIGHPRI | WQ_PERCPU;

/** The largest max_active: 2048. */
export const WQ_MAX_ACTIVE = 2048;
/** The largest max_active of an unbound queue: WQ_MAX_ACTIVE. */
export const WQ_UNBOUND_MAX_ACTIVE = WQ_MAX_ACTIVE;
/** max_active when 0 is passed: WQ_MAX_ACTIVE / 2 = 1024. */
export const WQ_DFL_ACTIVE = WQ_MAX_ACTIVE / 2;
/** The kernel's per-node floor of unbound max_active: 8 (one node here). */
export const WQ_DFL_MIN_ACTIVE = 8;
/** {@link work_busy} bit: the item is queued (or its delayed timer pending). */
export const WORK_BUSY_PENDING = 1;
/** {@link work_busy} bit: the item's function is running. */
export const WORK_BUSY_RUNNING = 2;
/** NR_CPUS of the common x86-64 configs: "no particular CPU". */
export const WORK_CPU_UNBOUND = 8192;
/** Workqueue names are truncated to WQ_NAME_LEN - 1 characters. */
export const WQ_NAME_LEN = 32;

/** A work function: an exported function of an ES module, imported by the worker. */
export interface WorkFnRef {
  /** The module: an absolute path, a `file:` URL string or a URL (e.g. `import.meta.url`). */
  module: string | URL;
  /** The name of the exported function. */
  name: string;
}
/** A BH work function: runs on the main thread in softirq context. */
export type BhWorkFn = (work: work_struct) => void;

// --- instances ---------------------------------------------------------------------

const I_DELAYED = 1; // its delayed_work timer is pending (not yet an instance on a queue)
const I_INACTIVE = 2;
const I_DEFERRED = 3;
const I_BACKLOG = 4;
const I_DISPATCHED = 5;
const I_BH = 6;
const I_DONE = 7;
const I_CANCELLED = 8;

interface Inst {
  work: work_struct;
  wq: workqueue_struct;
  /** pool CPU, -1 unbound */
  cpu: number;
  color: number;
  state: number;
  waiters: (() => void)[] | null;
}

/** FIFO with O(1) shift (Array#shift is O(n) on large arrays: 100,000 inactive items made it quadratic). */
class Fifo<T> {
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
const byId = new Map<number, work_struct>();

/**
 * `struct work_struct`. Initialise with {@link INIT_WORK}. Set `data` (any
 * structured-cloneable value; SharedArrayBuffers stay shared) before queueing:
 * the function receives a work item carrying it.
 */
export class work_struct {
  #brand = true;
  /** @internal */
  static isWork(o: unknown): o is work_struct {
    return typeof o === 'object' && o !== null && #brand in o;
  }
  /** The caller's payload, read when the item is dispatched. */
  data: unknown = undefined;
  /** The function set by INIT_WORK. */
  func: WorkFnRef | BhWorkFn | null = null;
  /** @internal item table slot, -1 until INIT_WORK */ _id = -1;
  /** @internal a handle inside a pool worker */ _remote = false;
  /** @internal fn id of a {module,name} function */ _fn = -1;
  /** @internal the delayed_work this is embedded in */ _dwork: delayed_work | null = null;
  /** @internal the instance owning PENDING, if any */ _pend: Inst | null = null;
  /** @internal the dispatched instance (in a ring, running, or in a pool backlog) */ _run: Inst | null = null;
  /** @internal an instance held back because _run has not finished (non-reentrancy) */ _deferred: Inst | null = null;
}

/**
 * `struct delayed_work`: a work item and the timer_list that queues it.
 * Initialise with {@link INIT_DELAYED_WORK} or {@link INIT_DEFERRABLE_WORK}.
 */
export class delayed_work {
  #brand = true;
  /** @internal */
  static isDelayed(o: unknown): o is delayed_work {
    return typeof o === 'object' && o !== null && #brand in o;
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
    this.work._dwork = this;
  }
}

type ErrorListener = (err: Error) => void;

let nextWqId = 32;

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
  /** active instances per pool slot (0 = unbound, cpu + 1) */
  #active: number[] = [];
  #inactive: Fifo<Inst>[] = [];
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
  /** @internal */ get _max(): number {
    return this.#max;
  }
  /** @internal */ set _max(v: number) {
    this.#max = v;
    for (let s = 0; s < this.#inactive.length; s++) this._activateNext(s - 1);
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
    const inst: Inst = { work, wq: this, cpu, color: this.#color, state: 0, waiters: null };
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

  /** @internal activates `inst` or parks it on the inactive list (max_active). */
  _activate(inst: Inst): void {
    const s = inst.cpu + 1;
    const a = this.#active[s] ?? 0;
    const list = this.#inactive[s];
    if (a < this.#max && (list === undefined || list.length === 0)) {
      this.#active[s] = a + 1;
      start(inst);
    } else {
      inst.state = I_INACTIVE;
      if (list === undefined) (this.#inactive[s] = new Fifo<Inst>()).push(inst);
      else list.push(inst);
      // At the limit: collect finished items now rather than after this
      // synchronous code returns (a tight queue_work loop).
      if (hasRecords()) reap();
    }
  }

  /** @internal an active instance left (finished, or cancelled before running). */
  _deactivate(cpu: number): void {
    const s = cpu + 1;
    this.#active[s]!--;
    this._activateNext(cpu);
  }

  /** @internal */
  _activateNext(cpu: number): void {
    const s = cpu + 1;
    const list = this.#inactive[s];
    if (list === undefined) return;
    while (list.length > 0 && (this.#active[s] ?? 0) < this.#max) {
      const inst = list.shift()!;
      if (inst.state !== I_INACTIVE) continue; // cancelled while inactive
      this.#active[s] = (this.#active[s] ?? 0) + 1;
      start(inst);
    }
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

// --- argument checks ---------------------------------------------------------------

function workArg(v: unknown, name = 'work'): work_struct {
  if (!work_struct.isWork(v)) throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a work_struct, got ${describe(v)}`);
  return v;
}

function initedWork(v: unknown, name = 'work'): work_struct {
  const w = workArg(v, name);
  if (w._id < 0) throw typeError('ERR_KTIMERS_NOT_SETUP', `${name} was never initialised: call INIT_WORK() first`);
  return w;
}

function dworkArg(v: unknown, name = 'dwork'): delayed_work {
  if (!delayed_work.isDelayed(v)) throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a delayed_work, got ${describe(v)}`);
  return v;
}

function initedDwork(v: unknown): delayed_work {
  const d = dworkArg(v);
  if (d.work._id < 0) throw typeError('ERR_KTIMERS_NOT_SETUP', 'dwork was never initialised: call INIT_DELAYED_WORK() first');
  return d;
}

/** A queue argument on the main thread. */
function wqArg(v: unknown, name = 'wq'): workqueue_struct {
  if (!workqueue_struct.isWq(v)) throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a workqueue_struct, got ${describe(v)}`);
  if (v._destroyed) throw new KtimersError('ERR_KTIMERS_WQ_DESTROYED', `workqueue "${v.name}" was destroyed`);
  return v;
}

let cpuIds: number | null = null;
function cpuArg(v: unknown): number {
  if (typeof v !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `cpu must be a number, got ${describe(v)}`);
  if (v === WORK_CPU_UNBOUND) return -1;
  cpuIds ??= allowedCpus().reduce((a, b) => Math.max(a, b), 0) + 1;
  if (!Number.isInteger(v) || v < 0 || v >= cpuIds) {
    throw rangeError('ERR_OUT_OF_RANGE', `cpu must be an integer in [0, ${cpuIds - 1}] or WORK_CPU_UNBOUND, got ${describe(v)}`);
  }
  return Object.is(v, -0) ? 0 : v;
}

function delayArg(v: unknown): bigint {
  return jiffiesArg(v, 'delay');
}

const checkedModules = new Set<string>();

/**
 * Normalises and checks a work function reference ({module, name}) or a BH function.
 * @internal (also used by the WorkQueue facade, lib/api/work-queue.ts)
 */
export function fnArg(v: unknown): WorkFnRef | BhWorkFn {
  if (typeof v === 'function') return v as BhWorkFn;
  if (typeof v !== 'object' || v === null) {
    throw typeError('ERR_INVALID_ARG_TYPE', `fn must be { module, name } (or a function, for WQ_BH queues), got ${describe(v)}`);
  }
  let mod: unknown;
  let name: unknown;
  try {
    mod = (v as WorkFnRef).module;
    name = (v as WorkFnRef).name;
  } catch {
    throw typeError('ERR_INVALID_ARG_TYPE', 'fn must be { module, name }: reading it threw');
  }
  let spec: string;
  if (mod instanceof URL) spec = mod.href;
  else if (typeof mod === 'string' && mod.length > 0) spec = mod;
  else throw typeError('ERR_INVALID_ARG_TYPE', `fn.module must be a module path or URL, got ${describe(mod)}`);
  if (typeof name !== 'string' || name.length === 0) {
    throw typeError('ERR_INVALID_ARG_TYPE', `fn.name must be the name of an exported function, got ${describe(name)}`);
  }
  if (spec.startsWith('./') || spec.startsWith('../')) {
    throw typeError(
      'ERR_INVALID_ARG_VALUE',
      `fn.module ${JSON.stringify(spec)} is relative: pass new URL(${JSON.stringify(spec)}, import.meta.url) or an absolute path`,
    );
  }
  if (!checkedModules.has(spec)) {
    let file: string | null = null;
    if (spec.startsWith('file:')) {
      try {
        file = fileURLToPath(spec);
      } catch {
        throw typeError('ERR_INVALID_ARG_VALUE', `fn.module is not a valid file URL: ${spec}`);
      }
    } else if (isAbsolute(spec)) file = spec;
    if (file !== null && !existsSync(file)) {
      throw new KtimersError('ERR_KTIMERS_WORK_MODULE_NOT_FOUND', `work function module not found: ${file}`);
    }
    checkedModules.add(spec);
  }
  return Object.freeze({ module: spec, name });
}

function fnName(w: work_struct): string {
  const f = w.func;
  if (typeof f === 'function') return f.name || '<anonymous>';
  if (f !== null) return `${f.name} (${f.module})`;
  return '<none>';
}

// --- CPUs of per-CPU queues --------------------------------------------------------

let cpus: number[] | null = null;
let rr = 0;
function allowedCpus(): number[] {
  if (cpus === null) {
    try {
      cpus = sched_getaffinity(0);
    } catch {
      cpus = [0];
    }
    if (cpus.length === 0) cpus = [0];
  }
  return cpus;
}

/** The pool CPU of a queueing: -1 for unbound queues; the asked CPU or round-robin for per-CPU ones. */
function poolCpu(wq: workqueue_struct, cpu: number): number {
  if (wq.flags & WQ_UNBOUND) return -1;
  if (cpu >= 0) return cpu;
  const c = allowedCpus();
  return c[rr++ % c.length]!;
}

// --- state word --------------------------------------------------------------------

function words(): Int32Array {
  return itemTable();
}

/** Test-and-set PENDING; false if already pending or disabled (the kernel's queue_work_on result). */
function grabIdle(w: work_struct): boolean {
  const t = words();
  const id = w._id;
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
function forgetStarted(w: work_struct, o: number): void {
  const p = w._pend;
  if (p !== null && p.state === I_DISPATCHED && !(o & S.W_ARMED)) w._pend = null;
}

/**
 * The kernel's try_to_grab_pending: steal PENDING whatever the state.
 * Returns whether it was pending; removes the instance that held it.
 * With `keep`, PENDING stays set (owned by the caller, as mod_delayed_work needs).
 */
function grabPending(w: work_struct, keep: boolean): boolean {
  const t = words();
  const id = w._id;
  let o: number;
  for (;;) {
    o = Atomics.load(t, id);
    const n = (keep ? o | S.W_PENDING : o & ~S.W_PENDING) & ~(S.W_ARMED | S.W_XQUEUED);
    if (Atomics.compareExchange(t, id, o, n) === o) break;
  }
  if (!(o & S.W_PENDING)) return false;
  forgetStarted(w, o);
  const inst = w._pend;
  w._pend = null;
  if (inst === null || o & S.W_XQUEUED) return true; // a worker's request not seen yet: it will be dropped
  const wq = inst.wq;
  switch (inst.state) {
    case I_DELAYED: {
      const dw = w._dwork!;
      timer_delete(dw.timer);
      delayedTimers.delete(dw);
      return true;
    }
    case I_INACTIVE:
    case I_BH:
      wq._finish(inst, I_CANCELLED); // lazily skipped where it sits
      return true;
    case I_DEFERRED:
      w._deferred = null;
      wq._finish(inst, I_CANCELLED);
      wq._deactivate(inst.cpu);
      return true;
    case I_BACKLOG:
      w._run = null;
      wq._finish(inst, I_CANCELLED);
      wq._deactivate(inst.cpu);
      return true;
    case I_DISPATCHED:
      // The worker will find ARMED clear and report a skip; the slot stays
      // active until then.
      wq._finish(inst, I_CANCELLED);
      return true;
  }
  return true;
}

/** Completes the PENDING a delayed_work's virtual timer held when ktimers/testing uninstalled it. */
function settle(w: work_struct): void {
  const p = w._pend;
  if (p !== null && p.state === I_DELAYED && timer_pending(w._dwork!.timer) === 0 && !firing) {
    w._pend = null;
    delayedTimers.delete(w._dwork!);
    Atomics.and(words(), w._id, ~S.W_PENDING);
  }
}

// --- queueing ----------------------------------------------------------------------

/** Delayed works whose timers are pending, per queue (destroy_workqueue warns about them). */
const delayedTimers = new Set<delayed_work>();
let firing = false;
/** The BH work running now on the main thread, for current_work() and chained queueing. */
let bhCurrent: work_struct | null = null;

/**
 * __queue_work: PENDING is held. Refused while draining unless chained (a work
 * item of the same queue queueing), as the kernel does.
 */
function enqueue(w: work_struct, wq: workqueue_struct, cpu: number, chained: boolean): void {
  if (wq._destroyed || (wq._draining > 0 && !chained)) {
    kwarn('KTIMERS_WARN_WQ_DRAINING', `workqueue: cannot queue ${fnName(w)} on wq ${wq.name}`, true);
    Atomics.and(words(), w._id, ~S.W_PENDING);
    return;
  }
  checkFnFor(w, wq);
  const inst = wq._newInst(w, wq.flags & WQ_BH ? -1 : poolCpu(wq, cpu));
  w._pend = inst;
  byId.set(w._id, w);
  if (wq.flags & WQ_BH) {
    inst.state = I_BH;
    bhList.push(inst);
    if (!bhScheduled) {
      bhScheduled = true;
      setImmediate(runBh);
    }
    return;
  }
  wq._activate(inst);
}

function checkFnFor(w: work_struct, wq: workqueue_struct): void {
  const bh = (wq.flags & WQ_BH) !== 0;
  if (bh !== (typeof w.func === 'function')) {
    Atomics.and(words(), w._id, ~S.W_PENDING);
    throw typeError(
      'ERR_KTIMERS_WORK_FN',
      bh
        ? `WQ_BH queue "${wq.name}" runs plain functions on the main thread; ${fnName(w)} names a module export`
        : `workqueue "${wq.name}" runs work on worker threads: its function must be { module, name }, not a plain function (plain functions run only on WQ_BH queues)`,
    );
  }
}

/** An active instance goes to its pool, or waits for the item's previous run (non-reentrancy). */
function start(inst: Inst): void {
  const w = inst.work;
  if (w._run !== null) {
    inst.state = I_DEFERRED;
    w._deferred = inst;
    return;
  }
  w._run = inst;
  const p = pool(inst.cpu, (inst.wq.flags & WQ_HIGHPRI) !== 0);
  const bl = backlogs.get(p);
  if ((bl !== undefined && bl.length > 0) || p.space() === 0) {
    inst.state = I_BACKLOG;
    if (bl === undefined) {
      const f = new Fifo<Inst>();
      f.push(inst);
      backlogs.set(p, f);
    } else bl.push(inst);
    return;
  }
  dispatch(p, inst);
}

function dispatch(p: Pool, inst: Inst): void {
  const w = inst.work;
  inst.state = I_DISPATCHED;
  Atomics.or(words(), w._id, S.W_ARMED);
  if (w._fn < 0) w._fn = fnId(w.func as { module: string; name: string }); // normalised by fnArg
  const fw = w._fn | (w._dwork !== null ? S.E_DELAYED : 0);
  const data = w.data;
  if (data === undefined) p.push(w._id, fw);
  else {
    try {
      p.pushDirect(w._id, fw, data);
    } catch (e) {
      // Not cloneable: the item cannot run. Report it and finish the instance.
      Atomics.and(words(), w._id, ~(S.W_ARMED | S.W_PENDING));
      w._pend = null;
      w._run = null;
      inst.wq._report(new KtimersError('ERR_KTIMERS_WORK_DATA', `work ${fnName(w)} on workqueue "${inst.wq.name}": data cannot be sent to a worker: ${(e as Error).message}`));
      inst.wq._finish(inst, I_CANCELLED);
      inst.wq._deactivate(inst.cpu);
    }
  }
}

const backlogs = new Map<Pool, Fifo<Inst>>();

function drainBacklog(p: Pool): void {
  const bl = backlogs.get(p);
  if (bl === undefined) return;
  while (bl.length > 0 && p.space() > 0) {
    const inst = bl.shift()!;
    if (inst.state === I_BACKLOG) dispatch(p, inst);
  }
}

// --- records from workers ----------------------------------------------------------

setRecordSink((type, id, a, b, c, msg) => {
  if (type === S.R_WARN) {
    const m = msg as { code: string; message: string };
    kwarn(m.code, m.message, true);
    return;
  }
  if (type === S.R_REJECTION) {
    const m = msg as { error: unknown; props?: Record<string, unknown> };
    const cause = restoreProps(m?.error, m?.props);
    const err = new KtimersError(
      'ERR_KTIMERS_WORK_UNHANDLED_REJECTION',
      `a work function left a promise rejection unhandled (it must await what it starts): ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    (err as { cause?: unknown }).cause = cause;
    reportError(err);
    return;
  }
  if (type === S.R_QUEUE || type === S.R_QUEUE_DELAYED) {
    workerQueue(id, a, b, c, type === S.R_QUEUE_DELAYED ? (msg as { delay: bigint }).delay : null);
    return;
  }
  const w = byId.get(id);
  if (w === undefined) return;
  const inst = w._run!;
  w._run = null;
  const wq = inst.wq;
  if (type === S.R_FAIL) {
    const m = msg as { error: unknown; kind: string; props?: Record<string, unknown> };
    const cause = restoreProps(m?.error, m?.props);
    const text = cause instanceof Error ? cause.message : String(cause);
    const err =
      m?.kind === 'load'
        ? new KtimersError('ERR_KTIMERS_WORK_LOAD', `work function ${fnName(w)} on workqueue "${wq.name}" could not be loaded: ${text}`)
        : m?.kind === 'data'
          ? new KtimersError('ERR_KTIMERS_WORK_DATA', `work ${fnName(w)} on workqueue "${wq.name}": data cannot be sent to a worker: ${text}`)
        : m?.kind === 'exit'
          ? new KtimersError('ERR_KTIMERS_WORKER_EXIT', `work function ${fnName(w)} on workqueue "${wq.name}" did not finish: ${text}`)
          : new KtimersError('ERR_KTIMERS_WORK_FAILED', `work function ${fnName(w)} on workqueue "${wq.name}" threw: ${text}`);
    (err as { cause?: unknown }).cause = cause;
    // Which item failed (non-enumerable): 'error' listeners, and the WorkQueue
    // facade, can tell the items of one queue apart.
    Object.defineProperty(err, 'work', { value: w, enumerable: false, configurable: true, writable: true });
    wq._report(err);
  }
  if (inst.state === I_DISPATCHED) wq._finish(inst, I_DONE);
  if (w._pend === inst) w._pend = null;
  const d = w._deferred;
  if (d !== null) {
    w._deferred = null;
    start(d);
  }
  if (w._pend === null && w._run === null) byId.delete(id);
  wq._deactivate(inst.cpu);
  drainBacklog(pool(inst.cpu, (wq.flags & WQ_HIGHPRI) !== 0));
});

/** A work function queued an item (PENDING and XQUEUED already set by the worker). */
function workerQueue(id: number, wqId: number, cpu: number, from: number, delay: bigint | null): void {
  const t = words();
  for (;;) {
    const o = Atomics.load(t, id);
    if (!(o & S.W_XQUEUED)) return; // stolen by a cancel meanwhile
    if (Atomics.compareExchange(t, id, o, o & ~S.W_XQUEUED) === o) break;
  }
  const w = byId.get(id);
  if (w !== undefined) forgetStarted(w, Atomics.load(t, id) & ~S.W_ARMED);
  const wq = wqById.get(wqId);
  if (w === undefined || wq === undefined || wq._destroyed) {
    Atomics.and(t, id, ~S.W_PENDING);
    const err = new KtimersError('ERR_KTIMERS_WQ_DESTROYED', `a work function queued on workqueue #${wqId}, which does not exist or was destroyed`);
    if (w !== undefined && w._run !== null) w._run.wq._report(err);
    else reportError(err);
    return;
  }
  const fromW = from > 0 ? byId.get(from - 1) : undefined;
  const chained = fromW !== undefined && fromW._run !== null && fromW._run.wq === wq;
  try {
    if (delay === null || delay === 0n) enqueue(w, wq, cpu, chained);
    else arm(w._dwork!, wq, cpu, delay);
  } catch (e) {
    // The work function already got true: the failure goes to the queue it named.
    wq._report(e as Error);
  }
}

// --- BH work -----------------------------------------------------------------------

const bhList: Inst[] = [];
let bhScheduled = false;

function runBh(): void {
  bhScheduled = false;
  const batch = bhList.splice(0);
  const t = words();
  enterIrq(true);
  try {
    for (const inst of batch) {
      if (inst.state !== I_BH) continue; // cancelled
      const w = inst.work;
      for (;;) {
        const o = Atomics.load(t, w._id);
        if (Atomics.compareExchange(t, w._id, o, (o & ~S.W_PENDING) | S.W_RUNNING) === o) break;
      }
      w._pend = null;
      w._run = inst;
      bhCurrent = w;
      try {
        (w.func as BhWorkFn)(w);
      } catch (e) {
        const err = new KtimersError('ERR_KTIMERS_WORK_FAILED', `work function ${fnName(w)} on workqueue "${inst.wq.name}" threw: ${e instanceof Error ? e.message : String(e)}`);
        (err as { cause?: unknown }).cause = e;
        inst.wq._report(err);
      }
      bhCurrent = null;
      w._run = null;
      Atomics.and(t, w._id, ~S.W_RUNNING);
      inst.wq._finish(inst, I_DONE);
    }
  } finally {
    exitIrq(true);
  }
}

// --- delayed work timers -----------------------------------------------------------

function delayed_work_timer_fn(timer: timer_list): void {
  const dw = (timer as timer_list & { _dw: delayed_work })._dw;
  delayedTimers.delete(dw);
  const w = dw.work;
  if (w._pend !== null && w._pend.state === I_DELAYED) w._pend = null;
  firing = true;
  try {
    enqueue(w, dw.wq!, dw.cpu === WORK_CPU_UNBOUND ? -1 : dw.cpu, false);
  } finally {
    firing = false;
  }
}

/** __queue_delayed_work with PENDING held: delay 0 queues at once, else arms the timer. */
function arm(dw: delayed_work, wq: workqueue_struct, cpu: number, delay: bigint): void {
  if (delay === 0n) {
    enqueue(dw.work, wq, cpu, false);
    return;
  }
  if (wq._destroyed) {
    Atomics.and(words(), dw.work._id, ~S.W_PENDING);
    throw new KtimersError('ERR_KTIMERS_WQ_DESTROYED', `workqueue "${wq.name}" was destroyed`);
  }
  checkFnFor(dw.work, wq);
  const was = dw.timer.expires;
  dw.timer.expires = BigInt.asUintN(64, get_jiffies_64() + delay);
  try {
    // First: it writes the timer's flags, refused for a frozen timer. The timer cannot fire
    // before this call returns, so the item's state can be set after it.
    add_timer_global(dw.timer);
  } catch (err) {
    dw.timer.expires = was;
    Atomics.and(words(), dw.work._id, ~S.W_PENDING);
    throw err;
  }
  dw.wq = wq;
  dw.cpu = cpu < 0 ? WORK_CPU_UNBOUND : cpu;
  dw.work._pend = { work: dw.work, wq, cpu, color: -1, state: I_DELAYED, waiters: null };
  delayedTimers.add(dw);
}

// --- the API: initialisers ---------------------------------------------------------

function initWork(w: work_struct, fn: unknown): void {
  const f = fnArg(fn);
  if (w._remote) throw new KtimersError('ERR_KTIMERS_WQ_WORKER_CONTEXT', 'INIT_WORK() on a work item handed to a work function');
  if (w._id >= 0) {
    const o = Atomics.load(words(), w._id);
    if (o & (S.W_PENDING | S.W_RUNNING) || w._run !== null) {
      throw new KtimersError('ERR_KTIMERS_WORK_BUSY', 'INIT_WORK() on a pending or running work item would corrupt its queue');
    }
  } else {
    w._id = allocItem();
    registry.register(w, w._id);
  }
  w.func = f;
  w._fn = -1;
}

/**
 * `INIT_WORK(work, fn)` — prepare a work item. `fn` is `{ module, name }` (an
 * exported function of an ES module, by absolute path or URL; the worker
 * imports it) or, for WQ_BH queues, a plain function. A file that does not
 * exist is refused here; an export that is missing or not a function is
 * reported at first run (an 'error' event, ERR_KTIMERS_WORK_LOAD).
 * Context: any; the item must be idle.
 * @param work - a `new work_struct()` (or the `work` of a delayed_work).
 * @param fn - `{ module, name }` for worker queues, a plain function for WQ_BH queues.
 */
export function INIT_WORK(work: work_struct, fn: WorkFnRef | BhWorkFn): void {
  const w = workArg(work);
  if (w._dwork !== null) {
    initWork(w, fn); // INIT_WORK(&dwork->work, fn) is legal in the kernel
    return;
  }
  initWork(w, fn);
}

/**
 * `DECLARE_WORK(name, fn)`: a new, initialised work item.
 *
 * Context: any.
 * Return: the new, idle work item.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function DECLARE_WORK(fn: WorkFnRef | BhWorkFn): work_struct {
  const w = new work_struct();
  INIT_WORK(w, fn);
  return w;
}

function initDelayed(dwork: unknown, fn: unknown, deferrable: boolean): delayed_work {
  const dw = dworkArg(dwork);
  const f = fnArg(fn); // validated before anything changes
  if (!fieldsWritable(dw.timer)) {
    throw typeError('ERR_INVALID_ARG_TYPE', 'delayed_work.timer was frozen, sealed or had its fields made read-only: INIT_DELAYED_WORK() sets it up');
  }
  if (dw.work._id >= 0 && (timer_pending(dw.timer) === 1 || dw.work._pend !== null)) {
    throw new KtimersError('ERR_KTIMERS_WORK_BUSY', 'INIT_DELAYED_WORK() on a pending delayed_work would corrupt its timer');
  }
  initWork(dw.work, f);
  (dw.timer as timer_list & { _dw: delayed_work })._dw = dw;
  timer_setup(dw.timer, delayed_work_timer_fn, TIMER_IRQSAFE | (deferrable ? TIMER_DEFERRABLE : 0));
  return dw;
}

/**
 * `INIT_DELAYED_WORK(dwork, fn)`: its timer is TIMER_IRQSAFE. Context: any; idle item.
 * @param dwork - a `new delayed_work()`.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function INIT_DELAYED_WORK(dwork: delayed_work, fn: WorkFnRef | BhWorkFn): void {
  initDelayed(dwork, fn, false);
}

/**
 * `INIT_DEFERRABLE_WORK(dwork, fn)`: its timer is also TIMER_DEFERRABLE (does not wake an idle process).
 *
 * Context: any; the item must be idle.
 * @param dwork - a `new delayed_work()`.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function INIT_DEFERRABLE_WORK(dwork: delayed_work, fn: WorkFnRef | BhWorkFn): void {
  initDelayed(dwork, fn, true);
}

/**
 * `DECLARE_DELAYED_WORK(name, fn)`.
 *
 * Context: any.
 * Return: the new, idle delayed_work.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function DECLARE_DELAYED_WORK(fn: WorkFnRef | BhWorkFn): delayed_work {
  const dw = new delayed_work();
  initDelayed(dw, fn, false);
  return dw;
}

/**
 * `DECLARE_DEFERRABLE_WORK(name, fn)`.
 *
 * Context: any.
 * Return: the new, idle delayed_work with a TIMER_DEFERRABLE timer.
 * @param fn - `{ module, name }`, or a plain function for WQ_BH queues.
 */
export function DECLARE_DEFERRABLE_WORK(fn: WorkFnRef | BhWorkFn): delayed_work {
  const dw = new delayed_work();
  initDelayed(dw, fn, true);
  return dw;
}

/**
 * `to_delayed_work(work)`: the delayed_work a work item is embedded in (container_of).
 *
 * Context: any.
 * Return: the delayed_work; a TypeError if `work` is not embedded in one.
 * @param work - the `work` of a delayed_work.
 */
export function to_delayed_work(work: work_struct): delayed_work {
  const w = workArg(work);
  if (w._dwork === null) throw typeError('ERR_INVALID_ARG_TYPE', 'work is not the work of a delayed_work');
  return w._dwork;
}

// --- the API: queues ---------------------------------------------------------------

const wqById = new Map<number, workqueue_struct>();

/**
 * The kernel's wq_clamp_max_active: [1, WQ_MAX_ACTIVE] with a pr_warn outside it.
 * No "0 means default" here: that rule is alloc_workqueue's own (`max_active ?:
 * WQ_DFL_ACTIVE` before the clamp), so workqueue_set_max_active(wq, 0) gives 1.
 */
function clampActive(max: number, name: string): number {
  if (max < 1 || max > WQ_MAX_ACTIVE) {
    kwarn(
      'KTIMERS_WARN_WQ_MAX_ACTIVE',
      `workqueue: max_active ${max} requested for ${name} is out of range, clamping between 1 and ${WQ_MAX_ACTIVE}`,
    );
    return max < 1 ? 1 : WQ_MAX_ACTIVE;
  }
  return max;
}

function intArg(v: unknown, name: string, lo: number, hi: number): number {
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
  q._max = clampActive(max, q.name);
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

// --- the API: queueing -------------------------------------------------------------

/** A queue argument in a pool worker: a system queue, or the clone of one a work function got in its data. */
function remoteWqId(v: unknown): number {
  if (workqueue_struct.isWq(v)) return v.id;
  if (typeof v === 'object' && v !== null) {
    let id: unknown;
    try {
      id = (v as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
    if (typeof id === 'number' && Number.isInteger(id) && id > 0) return id;
  }
  throw typeError('ERR_INVALID_ARG_TYPE', `wq must be a workqueue_struct (or its clone, inside a work function), got ${describe(v)}`);
}

function remoteWorkArg(v: unknown): work_struct {
  const w = workArg(v);
  if (!w._remote) {
    throw new KtimersError(
      'ERR_KTIMERS_WQ_WORKER_CONTEXT',
      'inside a work function only the work item handed to it can be queued (its state lives on the main thread)',
    );
  }
  return w;
}

function mainOnly(what: string): void {
  if (wside.worker !== null) {
    throw new KtimersError('ERR_KTIMERS_WQ_WORKER_CONTEXT', `${what}() is available on the main thread only, not inside a work function`);
  }
}

/**
 * `queue_work_on(cpu, wq, work)` — queue on a CPU's pool (per-CPU queues;
 * a hint for unbound ones). Context: any, including timer callbacks and work
 * functions (self-requeue).
 * Return: false if `work` was already pending (nothing changes) or is
 * disabled; true if it was queued.
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param wq - the queue.
 * @param work - an initialised work item.
 */
export function queue_work_on(cpu: number, wq: workqueue_struct, work: work_struct): boolean {
  const c = cpuArg(cpu);
  if (wside.worker !== null) {
    const id = remoteWqId(wq);
    return wside.worker.queue(remoteWorkArg(work)._id, id, c, null);
  }
  const q = wqArg(wq);
  const w = initedWork(work);
  settle(w);
  if (!grabIdle(w)) return false;
  enqueue(w, q, c, bhCurrent !== null && bhCurrent._run?.wq === q);
  return true;
}

/**
 * `queue_work(wq, work)` = queue_work_on(WORK_CPU_UNBOUND, wq, work). Return: as queue_work_on.
 *
 * Context: any, including timer callbacks and work functions.
 * @param wq - the queue.
 * @param work - an initialised work item.
 */
export function queue_work(wq: workqueue_struct, work: work_struct): boolean {
  return queue_work_on(WORK_CPU_UNBOUND, wq, work);
}

/**
 * `schedule_work(work)` = queue_work(system_percpu_wq, work).
 *
 * Context: any, including timer callbacks and work functions.
 * Return: as queue_work_on.
 * @param work - an initialised work item.
 */
export function schedule_work(work: work_struct): boolean {
  return queue_work_on(WORK_CPU_UNBOUND, system_percpu_wq, work);
}

/**
 * `schedule_work_on(cpu, work)` = queue_work_on(cpu, system_percpu_wq, work).
 *
 * Context: any, including timer callbacks and work functions.
 * Return: as queue_work_on.
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param work - an initialised work item.
 */
export function schedule_work_on(cpu: number, work: work_struct): boolean {
  return queue_work_on(cpu, system_percpu_wq, work);
}

/**
 * `enable_and_queue_work(wq, work)`: enable_work, and queue it if that made it enabled. Return: true if the disable count reached 0 (and it was queued), else false.
 *
 * Context: any.
 * @param wq - the queue.
 * @param work - an initialised work item.
 */
export function enable_and_queue_work(wq: workqueue_struct, work: work_struct): boolean {
  mainOnly('enable_and_queue_work');
  wqArg(wq);
  // As the kernel's inline: true whenever the count reached 0, whatever queue_work says
  // (it can say false only after an underflow, with the item still pending).
  if (enable_work(work)) {
    queue_work(wq, work);
    return true;
  }
  return false;
}

/**
 * `queue_delayed_work_on(cpu, wq, dwork, delay)` — queue after `delay` jiffies
 * (a bigint), on the timer_list wheel: delay 0 queues at once without a timer;
 * otherwise `timer.expires = jiffies + delay` with the wheel's rounding (a
 * delay of d ≤ 62 fires at jiffy now + d + 1). Follows ktimers/testing's
 * virtual clock. Context: any.
 * Return: false if already pending (the existing timer is not modified), true if queued.
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param wq - the queue.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number).
 */
export function queue_delayed_work_on(cpu: number, wq: workqueue_struct, dwork: delayed_work, delay: bigint | number): boolean {
  const c = cpuArg(cpu);
  if (wside.worker !== null) {
    const id = remoteWqId(wq);
    const dw = dworkArg(dwork);
    const d = delayArg(delay);
    return wside.worker.queue(remoteWorkArg(dw.work)._id, id, c, d);
  }
  const q = wqArg(wq);
  const dw = initedDwork(dwork);
  const d = delayArg(delay);
  settle(dw.work);
  if (!grabIdle(dw.work)) return false;
  arm(dw, q, c, d);
  return true;
}

/**
 * `queue_delayed_work(wq, dwork, delay)`. Return: as queue_delayed_work_on.
 *
 * Context: any.
 * @param wq - the queue.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number).
 */
export function queue_delayed_work(wq: workqueue_struct, dwork: delayed_work, delay: bigint | number): boolean {
  return queue_delayed_work_on(WORK_CPU_UNBOUND, wq, dwork, delay);
}

/**
 * `schedule_delayed_work(dwork, delay)` on system_percpu_wq.
 *
 * Context: any.
 * Return: as queue_delayed_work_on.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number).
 */
export function schedule_delayed_work(dwork: delayed_work, delay: bigint | number): boolean {
  return queue_delayed_work_on(WORK_CPU_UNBOUND, system_percpu_wq, dwork, delay);
}

/**
 * `schedule_delayed_work_on(cpu, dwork, delay)` on system_percpu_wq.
 *
 * Context: any.
 * Return: as queue_delayed_work_on.
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number).
 */
export function schedule_delayed_work_on(cpu: number, dwork: delayed_work, delay: bigint | number): boolean {
  return queue_delayed_work_on(cpu, system_percpu_wq, dwork, delay);
}

/**
 * `mod_delayed_work_on(cpu, wq, dwork, delay)` — take the item whatever its
 * state (timer pending, queued, or idle) and queue it with the new delay
 * (0 = now). Context: any (main thread).
 * Return: true if it was pending (and is re-armed), false if it was idle (and is now queued).
 * @param cpu - a CPU id, or WORK_CPU_UNBOUND.
 * @param wq - the queue.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number); 0 queues at once.
 */
export function mod_delayed_work_on(cpu: number, wq: workqueue_struct, dwork: delayed_work, delay: bigint | number): boolean {
  mainOnly('mod_delayed_work_on');
  const c = cpuArg(cpu);
  const q = wqArg(wq);
  const dw = initedDwork(dwork);
  const d = delayArg(delay);
  settle(dw.work);
  const was = grabPending(dw.work, true);
  const t = words();
  if (Atomics.load(t, dw.work._id) >>> S.W_DISABLE_SHIFT) {
    Atomics.and(t, dw.work._id, ~S.W_PENDING);
    return was;
  }
  arm(dw, q, c, d);
  return was;
}

/**
 * `mod_delayed_work(wq, dwork, delay)`. Return: as mod_delayed_work_on.
 *
 * Context: any (main thread).
 * @param wq - the queue.
 * @param dwork - an initialised delayed_work.
 * @param delay - jiffies (a bigint, or a safe-integer number); 0 queues at once.
 */
export function mod_delayed_work(wq: workqueue_struct, dwork: delayed_work, delay: bigint | number): boolean {
  return mod_delayed_work_on(WORK_CPU_UNBOUND, wq, dwork, delay);
}

// --- the API: introspection --------------------------------------------------------

function stateOf(w: work_struct): number {
  if (w._id < 0) return 0;
  if (wside.worker !== null) return wside.worker.state(w._id);
  settle(w);
  return Atomics.load(words(), w._id);
}

/**
 * `work_pending(work)`: PENDING (queued, or its delayed timer pending; cleared just before the function runs).
 *
 * Context: any.
 * Return: true while PENDING.
 * @param work - the work item.
 */
export function work_pending(work: work_struct): boolean {
  return (stateOf(workArg(work)) & S.W_PENDING) !== 0;
}

/**
 * `delayed_work_pending(dwork)` = work_pending(&dwork->work).
 *
 * Context: any.
 * Return: true while its timer is pending or its work is queued.
 * @param dwork - the delayed_work.
 */
export function delayed_work_pending(dwork: delayed_work): boolean {
  return (stateOf(dworkArg(dwork).work) & S.W_PENDING) !== 0;
}

/**
 * `work_busy(work)`: WORK_BUSY_PENDING | WORK_BUSY_RUNNING (advisory, racy by nature).
 *
 * Context: any.
 * Return: a bit mask of WORK_BUSY_PENDING and WORK_BUSY_RUNNING (0: idle).
 * @param work - the work item.
 */
export function work_busy(work: work_struct): number {
  const o = stateOf(workArg(work));
  return (o & S.W_PENDING ? WORK_BUSY_PENDING : 0) | (o & S.W_RUNNING ? WORK_BUSY_RUNNING : 0);
}

/**
 * `current_work()`: the item the calling worker runs (in a work function, or BH work), else null.
 *
 * Context: any.
 * Return: the running work item, or null outside work functions.
 */
export function current_work(): work_struct | null {
  if (wside.worker !== null) return wside.worker.current as work_struct | null;
  return bhCurrent;
}

// --- the API: waiting (Promises on the main thread) --------------------------------

function waitInst(inst: Inst): Promise<void> {
  if (inst.state === I_DONE || inst.state === I_CANCELLED) return Promise.resolve();
  return new Promise((resolve) => (inst.waiters ??= []).push(resolve));
}

/** The instance flush_work waits for: the pending one (not a pending timer), else the running one. */
function lastInst(w: work_struct): Inst | null {
  const o = Atomics.load(words(), w._id);
  forgetStarted(w, o);
  const p = w._pend;
  if (p !== null && p.state !== I_DELAYED) return p;
  const r = w._run;
  if (r !== null && r.state !== I_CANCELLED) return r;
  return null;
}

function sleeping(what: string): void {
  mainOnly(what);
  might_sleep(`${what}()`);
}

/**
 * `flush_work(work)` — wait for the last queueing instance to finish.
 * Context: may sleep: a Promise; throws ERR_KTIMERS_SLEEP_IN_ATOMIC in timer callbacks.
 * Return: true if it waited (pending or running), false if idle (a delayed_work
 * whose timer is still pending counts as idle; the timer stays armed).
 * @param work - the work item.
 */
export function flush_work(work: work_struct): Promise<boolean> {
  sleeping('flush_work');
  const w = initedWork(work);
  reap();
  settle(w);
  const inst = lastInst(w);
  if (inst === null) return Promise.resolve(false);
  return waitInst(inst).then(() => true);
}

/**
 * `flush_delayed_work(dwork)` — if its timer is pending, queue it now, then flush_work.
 * Return: as flush_work.
 *
 * Context: may sleep: a Promise; throws ERR_KTIMERS_SLEEP_IN_ATOMIC in timer callbacks.
 * @param dwork - the delayed_work.
 */
export function flush_delayed_work(dwork: delayed_work): Promise<boolean> {
  sleeping('flush_delayed_work');
  const dw = initedDwork(dwork);
  settle(dw.work);
  const p = dw.work._pend;
  if (p !== null && p.state === I_DELAYED && timer_delete(dw.timer) === 1) {
    delayedTimers.delete(dw);
    dw.work._pend = null;
    enqueue(dw.work, dw.wq!, dw.cpu === WORK_CPU_UNBOUND ? -1 : dw.cpu, false);
    // Wait for the instance queued here (a fast worker may finish it before flush_work looks).
    const inst = dw.work._pend;
    if (inst !== null) return waitInst(inst).then(() => true);
  }
  return flush_work(dw.work);
}

/**
 * The kernel's __cancel_work_sync: disable (blocks re-queueing, self-requeue too,
 * while we wait), steal PENDING, wait for the running instance, and, unless
 * disabling, enable again. The count saturates both ways as the kernel's
 * (work_offqd_disable/enable): at 65535 the disable warns and adds nothing, so
 * the final enable leaves 65534, as in the kernel; a plain add would wrap the
 * 16-bit field to 0 and let the item be queued during the wait.
 */
async function cancelSync(w: work_struct, disable: boolean): Promise<boolean> {
  disableCount(w);
  reap();
  const was = grabPending(w, false);
  try {
    const r = w._run;
    if (r !== null && r.state !== I_CANCELLED) await waitInst(r);
    // A deferred re-run queued before the disable started after r: wait for it too.
    for (let r2 = w._run; r2 !== null && r2.state !== I_CANCELLED; r2 = w._run) await waitInst(r2);
  } finally {
    if (!disable) enableCount(w);
  }
  return was;
}

/**
 * `cancel_work_sync(work)` — cancel and wait for a running instance. While it
 * waits the item is disabled, so re-queueing (self-requeue included) returns false.
 * Context: may sleep (a Promise). Return: true if it was pending.
 * @param work - the work item.
 */
export function cancel_work_sync(work: work_struct): Promise<boolean> {
  sleeping('cancel_work_sync');
  const w = initedWork(work);
  settle(w);
  return cancelSync(w, false);
}

/**
 * `cancel_delayed_work_sync(dwork)`: as cancel_work_sync, timer included. Return: true if it was pending.
 *
 * Context: may sleep (a Promise).
 * @param dwork - the delayed_work.
 */
export function cancel_delayed_work_sync(dwork: delayed_work): Promise<boolean> {
  sleeping('cancel_delayed_work_sync');
  const dw = initedDwork(dwork);
  settle(dw.work);
  return cancelSync(dw.work, false);
}

/**
 * `cancel_work(work)` — steal PENDING; does not wait for a running instance.
 * Context: any. Return: true if it was pending (and is no longer queued).
 * @param work - the work item.
 */
export function cancel_work(work: work_struct): boolean {
  mainOnly('cancel_work');
  const w = initedWork(work);
  settle(w);
  reap();
  return grabPending(w, false);
}

/**
 * `cancel_delayed_work(dwork)`: timer or queue. Context: any. Return: true if it was pending.
 * @param dwork - the delayed_work.
 */
export function cancel_delayed_work(dwork: delayed_work): boolean {
  mainOnly('cancel_delayed_work');
  const dw = initedDwork(dwork);
  settle(dw.work);
  reap();
  return grabPending(dw.work, false);
}

/** work_offqd_disable: the disable count + 1; at 65535 it warns (WARN_ONCE) and stays. */
function disableCount(w: work_struct): void {
  const t = words();
  for (;;) {
    const o = Atomics.load(t, w._id);
    if (o >>> S.W_DISABLE_SHIFT >= S.W_DISABLE_MAX) {
      kwarn('KTIMERS_WARN_WORK_DISABLE_OVERFLOW', 'work disable count overflowed', true);
      return;
    }
    if (Atomics.compareExchange(t, w._id, o, o + S.W_DISABLE_ONE) === o) return;
  }
}

/** work_offqd_enable: the disable count - 1; at 0 it warns (WARN_ONCE) and stays. Returns whether it is 0 now. */
function enableCount(w: work_struct): boolean {
  const t = words();
  for (;;) {
    const o = Atomics.load(t, w._id);
    if (o >>> S.W_DISABLE_SHIFT === 0) {
      kwarn('KTIMERS_WARN_WORK_DISABLE_UNDERFLOW', 'work disable count underflowed', true);
      return true;
    }
    const n = o - S.W_DISABLE_ONE;
    if (Atomics.compareExchange(t, w._id, o, n) === o) return n >>> S.W_DISABLE_SHIFT === 0;
  }
}

/**
 * `disable_work(work)` — increment the disable count (max 65535) and cancel;
 * while disabled every queueing returns false. Context: any.
 * Return: true if it was pending.
 * @param work - the work item.
 */
export function disable_work(work: work_struct): boolean {
  mainOnly('disable_work');
  const w = initedWork(work);
  settle(w);
  reap();
  disableCount(w); // saturated: warns, and still cancels (the kernel's __cancel_work)
  return grabPending(w, false);
}

/**
 * `disable_work_sync(work)`: disable_work, then wait for a running instance. Context: may sleep (a Promise).
 *
 * Return: a Promise of true if it was pending.
 * @param work - the work item.
 */
export function disable_work_sync(work: work_struct): Promise<boolean> {
  sleeping('disable_work_sync');
  const w = initedWork(work);
  settle(w);
  return cancelSync(w, true); // saturated: warns, and still waits for the running instance
}

/**
 * `enable_work(work)` — decrement the disable count (an underflow WARNs).
 * Context: any. Return: true when the count is now 0 (the item can be queued).
 * @param work - the work item.
 */
export function enable_work(work: work_struct): boolean {
  mainOnly('enable_work');
  return enableCount(initedWork(work));
}

/**
 * `disable_delayed_work(dwork)`. Return: true if it was pending.
 *
 * Context: any.
 * @param dwork - the delayed_work.
 */
export function disable_delayed_work(dwork: delayed_work): boolean {
  return disable_work(dworkArg(dwork).work);
}
/**
 * `disable_delayed_work_sync(dwork)`.
 *
 * Context: may sleep (a Promise).
 * Return: a Promise of true if it was pending.
 * @param dwork - the delayed_work.
 */
export function disable_delayed_work_sync(dwork: delayed_work): Promise<boolean> {
  return disable_work_sync(dworkArg(dwork).work);
}
/**
 * `enable_delayed_work(dwork)`.
 *
 * Context: any.
 * Return: true when the disable count is now 0.
 * @param dwork - the delayed_work.
 */
export function enable_delayed_work(dwork: delayed_work): boolean {
  return enable_work(dworkArg(dwork).work);
}

/**
 * `flush_workqueue(wq)` — wait for every item queued before the call (not
 * those queued later; not delayed works whose timers are still pending).
 * Flushing a system queue warns, as the kernel does.
 * Context: may sleep (a Promise).
 * Return: a Promise that resolves once those items have finished.
 * @param wq - the queue.
 */
export function flush_workqueue(wq: workqueue_struct): Promise<void> {
  sleeping('flush_workqueue');
  const q = wqArg(wq);
  if (q._system) kwarn('KTIMERS_WARN_FLUSH_SYSTEM_WQ', 'WARNING: Flushing system-wide workqueues will be prohibited in near future.', true);
  reap();
  return q._flush();
}

/**
 * `flush_scheduled_work()` (deprecated): flush_workqueue(system_percpu_wq) and system_wq.
 * Warns as flushing a system queue does (`KTIMERS_WARN_FLUSH_SYSTEM_WQ`, once): the
 * kernel's macro calls __warn_flushing_systemwide_wq() ("Flushing system-wide
 * workqueues will be prohibited in near future") on every use since 6.17.
 *
 * Context: may sleep (a Promise).
 * Return: a Promise that resolves once the items queued before the call have finished.
 */
export function flush_scheduled_work(): Promise<void> {
  sleeping('flush_scheduled_work');
  kwarn('KTIMERS_WARN_FLUSH_SYSTEM_WQ', 'WARNING: Flushing system-wide workqueues will be prohibited in near future.', true);
  reap();
  return Promise.all([system_percpu_wq._flush(), system_wq._flush()]).then(() => undefined);
}

async function drain(q: workqueue_struct): Promise<void> {
  q._draining++;
  try {
    do {
      reap();
      await q._flush();
    } while (q._live > 0);
  } finally {
    q._draining--;
  }
}

/**
 * `drain_workqueue(wq)` — flush until empty. While it drains only chained
 * queueing (by an item of this queue) is accepted; other queueing warns and is
 * dropped (the call still returns true). Context: may sleep (a Promise).
 * Return: a Promise that resolves once the queue is empty.
 * @param wq - the queue.
 */
export function drain_workqueue(wq: workqueue_struct): Promise<void> {
  sleeping('drain_workqueue');
  return drain(wqArg(wq));
}

/**
 * `destroy_workqueue(wq)` — drain, then destroy; any later use throws
 * ERR_KTIMERS_WQ_DESTROYED. Delayed works still waiting on their timers are a
 * caller bug in the kernel: here they are cancelled with a warning.
 * Context: may sleep (a Promise).
 * Return: a Promise that resolves once the queue is drained and destroyed.
 * @param wq - the queue.
 */
export function destroy_workqueue(wq: workqueue_struct): Promise<void> {
  sleeping('destroy_workqueue');
  const q = wqArg(wq);
  if (q._system) throw new KtimersError('ERR_KTIMERS_WQ_SYSTEM', `${q.name} is a system workqueue: it cannot be destroyed`);
  return drain(q).then(() => {
    for (const dw of [...delayedTimers]) {
      if (dw.wq === q && dw.work._pend?.state === I_DELAYED) {
        kwarn('KTIMERS_WARN_DESTROY_DELAYED', `destroy_workqueue(${q.name}): delayed work ${fnName(dw.work)} still pending; cancelled`);
        grabPending(dw.work, false);
      }
    }
    q._destroy();
    wqById.delete(q.id);
  });
}

// --- worker-side handles -----------------------------------------------------------

/** @internal the handle a pool worker passes to a work function. */
export function remoteWork(id: number, delayed: boolean, data: unknown): work_struct {
  if (delayed) {
    const dw = new delayed_work();
    dw.work._id = id;
    dw.work._remote = true;
    dw.work.data = data;
    return dw.work;
  }
  const w = new work_struct();
  w._id = id;
  w._remote = true;
  w.data = data;
  return w;
}
