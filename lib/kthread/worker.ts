/**
 * kthread_worker: one dedicated thread that runs queued works one at a time,
 * in queueing order, and that its owner may run at a real-time priority
 * (`include/linux/kthread.h`, `kernel/kthread.c`, Linux 6.19 / 7.1; the RT
 * helpers of `kernel/sched/syscalls.c`).
 *
 * Why: every other ktimers callback runs on the JS main thread, so a timer is
 * only as punctual as that thread is idle. A kthread_worker is a worker_thread
 * with its own event loop and its own ktimers state: the hrtimers and
 * timer_lists its works arm fire there, in the same contexts as on the main
 * thread, however busy the main thread is. `sched_set_fifo(worker)` makes that
 * thread SCHED_FIFO, as drivers pair `kthread_run_worker()` with
 * `sched_set_fifo()`.
 *
 * Model (details in lib/kthread/shared.ts). Each work has one state
 * word in a process-wide SharedArrayBuffer, changed only by compare-and-swap:
 * queueing answers the kernel's bool at once and exactly, on the main thread
 * and inside work functions (self-requeue). The worker thread owns work_list,
 * the delayed-work timers and current_work (lib/kthread/thread.ts):
 * queueing from another thread is the CAS plus a message, which the worker
 * appends in arrival order; a queueing on the worker itself first takes in the
 * messages already posted, so FIFO order follows the order of the calls. The
 * worker never blocks its event loop waiting for work: it is woken by
 * messages, and yields to its event loop between two works so that its timers
 * fire. Calls that sleep in the kernel (flush, cancel, destroy) are a message
 * to the worker and a Promise for its answer.
 *
 * Differences from the kernel (also in docs/kthread.md):
 * - Work functions are named, not passed: `{ module, name }`, imported by the
 *   worker thread (as the workqueue's). They may be async: the worker awaits
 *   them before it takes the next work.
 * - The create calls wait (synchronously, like the kernel's) for the thread to
 *   exist and report its thread id, so `worker.task` is known on return.
 *   A created, not woken worker has its thread but runs nothing until its first
 *   work arrives (or a flush or destroy wakes it), as in the kernel.
 * - `kthread_flush_work()` on a delayed work whose timer is armed never returns
 *   in the kernel; here its Promise rejects with ERR_KTIMERS_KTHREAD_FLUSH_TIMER.
 * - The sleeping calls return Promises and may only be made from a thread other
 *   than the worker's (in the kernel, from the worker itself they deadlock).
 * - `kthread_destroy_worker()` cancels the delayed works still armed (after the
 *   kernel's WARN) instead of leaving a timer on freed memory; queueing on a
 *   destroyed (or destroying) worker throws ERR_KTIMERS_KTHREAD_DESTROYED.
 * - `sched_set_fifo()` & co. throw the OS's refusal (EPERM naming
 *   CAP_SYS_NICE / RLIMIT_RTPRIO): the kernel's `_nocheck` variants cannot fail.
 * - `kthread_init_worker()` makes the worker's thread at once and holds it:
 *   `kthread_worker_fn()` / `kthread_run()` start its loop. KTW_FREEZABLE is
 *   accepted and has no effect.
 */
import { Worker } from 'node:worker_threads';
import { constants } from 'node:os';
import { KtimersError, describe, kwarn, rangeError, typeError } from '../errors.js';
import { might_sleep } from '../context.js';
import { reportError } from '../internal/virtual.js';
import { nr_cpu_ids } from '../sched.js';
import * as K from './shared.js';
import { restoreProps } from '../internal/thread-error.js';
import { formatName, table, kside, type LocalSide } from './state.js';
import { byId, type kthread_work } from './work.js';

/** kthread_worker flag: freezable during suspend in the kernel. Accepted; nothing freezes in a process. */
export const KTW_FREEZABLE = 1 << 0;
/** TASK_COMM_LEN: a thread's comm holds 15 characters and the NUL. */
export const TASK_COMM_LEN = 16;
/** MAX_RT_PRIO: sched_set_fifo() uses MAX_RT_PRIO / 2. */
export const MAX_RT_PRIO = 100;

const ENTRY = new URL('./entry.js', import.meta.url);
const TOKEN = Symbol('kthread_worker');
/** Backstop for a thread that never reports its start (a wedged machine), not a performance bound. */
const START_TIMEOUT_MS = 60_000;

// --- workers -----------------------------------------------------------------------

type Waiter = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

/**
 * What the other files of lib/kthread/ (the operations, the worker thread's loop) need of a worker
 * besides its public fields: its thread, its control block, where it is in its life.
 */
export interface WorkerState {
  /** The Worker running its loop; null once the thread has ended. */
  thread: Worker | null;
  /** Control block shared with the thread. */
  readonly ctl: Int32Array;
  destroying: boolean;
  /** Something (a work, a flush, destroy) has woken a created, not-run worker. */
  woken: boolean;
  /** From kthread_init_worker, and kthread_worker_fn has not started its loop yet. */
  held: boolean;
  /** Settles with kthread_worker_fn's return value once the thread has ended. */
  fnDone: Promise<number> | null;
  /** Ids of the works queued on it from this thread (to un-pend them if its thread dies). */
  readonly queued: Set<number>;
  /** Set when this object is the worker thread's view of itself. */
  local: LocalSide | null;
}

// Handed out by kthread_worker's static block (timer_list's style): the fields are true private
// fields, so user code can neither read a worker's thread nor mark it destroyed, and only these
// functions reach them.
/** A worker's private state. */
export let stateOf: (w: kthread_worker) => WorkerState;
/** Sets the worker's `task` (the thread id; null once the thread has ended). */
export let setTask: (w: kthread_worker, tid: number | null) => void;
/** The next request number of a worker. */
export let nextSeq: (w: kthread_worker) => number;
/** Posts a request to the worker thread; the Promise settles with its answer. */
export let ask: (w: kthread_worker, msg: K.ToWorker & { seq: number }) => Promise<unknown>;
/** Posts a message to the worker thread (a queueing, a wake-up). */
export let post: (w: kthread_worker, msg: K.ToWorker) => void;
let answer: (w: kthread_worker, seq: number, value: unknown, error?: unknown) => void;
let gone: (w: kthread_worker, err: unknown) => void;

/**
 * `struct kthread_worker`: a dedicated thread running queued works. Made by
 * {@link kthread_run_worker} and friends, never with `new`.
 *
 * Like a Node Worker, an undestroyed worker keeps the process alive; `unref()`
 * lets the process exit while it exists (its thread is then ended with the
 * process), `ref()` undoes that. A pending flush, cancel or destroy holds the
 * process alive until it is answered either way.
 */
export class kthread_worker {
  /** The flags given at creation (KTW_FREEZABLE or 0). */
  readonly flags: number;
  /** The full formatted name (the kernel keeps it for get_kthread_comm()). */
  readonly name: string;
  /** The thread's comm: the first TASK_COMM_LEN - 1 characters of the name. */
  readonly comm: string;
  /** The CPU it is bound to (`_on_cpu`), or -1. */
  readonly cpu: number;
  #s: WorkerState;
  #seq = 0;
  #waits = new Map<number, Waiter>();
  #refd = true;
  #task: number | null = null;

  /** @internal */
  constructor(token: symbol, flags: number, name: string, cpu: number, ctl: Int32Array) {
    if (token !== TOKEN) throw new TypeError('kthread_worker is made by kthread_run_worker() or kthread_create_worker()');
    this.flags = flags;
    this.name = name;
    this.comm = name.slice(0, TASK_COMM_LEN - 1);
    this.cpu = cpu;
    this.#s = { thread: null, ctl, destroying: false, woken: false, held: false, fnDone: null, queued: new Set<number>(), local: null };
  }

  /** The worker thread's kernel thread id (the kernel's `worker->task`), or null once destroyed. */
  get task(): number | null {
    return this.#task;
  }

  /**
   * The work whose function is running on the worker thread now, or null. On the
   * worker thread it is the very handle the function received; elsewhere, a
   * snapshot (the work object of this thread with that identity, when it has one).
   */
  get current_work(): kthread_work | null {
    if (this.#s.local !== null) return this.#s.local.current();
    const id = Atomics.load(this.#s.ctl, K.T_CURRENT) - 1;
    return id < 0 ? null : (byId.get(id)?.deref() ?? null);
  }

  /** Keep the process alive while this worker exists (the default). Return: this. */
  ref(): this {
    this.#refd = true;
    this.#s.thread?.ref();
    return this;
  }
  /** Let the process exit while this worker exists and is idle. Return: this. */
  unref(): this {
    this.#refd = false;
    if (this.#waits.size === 0) this.#s.thread?.unref();
    return this;
  }

  #ask(msg: K.ToWorker & { seq: number }): Promise<unknown> {
    const th = this.#s.thread;
    if (th === null) return Promise.reject(destroyed(this));
    return new Promise((resolve, reject) => {
      this.#waits.set(msg.seq, { resolve, reject });
      th.ref();
      this.#post(msg);
    });
  }
  #post(msg: K.ToWorker): void {
    if (msg.t === 'q' || msg.t === 'stop' || msg.t === 'flushw' || msg.t === 'flush') this.#s.woken = true;
    this.#s.thread!.postMessage(msg);
  }
  /** An answer from the thread. */
  #answer(seq: number, value: unknown, error?: unknown): void {
    const w = this.#waits.get(seq);
    if (w === undefined) return;
    this.#waits.delete(seq);
    if (this.#waits.size === 0 && !this.#refd) this.#s.thread?.unref();
    if (error !== undefined) w.reject(error);
    else w.resolve(value);
  }

  static {
    stateOf = (w) => w.#s;
    setTask = (w, tid) => {
      w.#task = tid;
    };
    nextSeq = (w) => ++w.#seq;
    ask = (w, msg) => w.#ask(msg);
    post = (w, msg) => w.#post(msg);
    answer = (w, seq, value, error) => w.#answer(seq, value, error);
    // The thread is gone: every pending request fails.
    gone = (w, err) => {
      for (const seq of [...w.#waits.keys()]) w.#answer(seq, undefined, err);
    };
  }
}

function destroyed(w: kthread_worker): KtimersError {
  return new KtimersError('ERR_KTIMERS_KTHREAD_DESTROYED', `kthread_worker "${w.name}" has been destroyed`);
}

function flagsArg(v: unknown): number {
  if (typeof v !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `flags must be a number, got ${describe(v)}`);
  if (!Number.isInteger(v) || (v & ~KTW_FREEZABLE) !== 0 || v < 0) {
    throw rangeError('ERR_OUT_OF_RANGE', `flags must be 0 or KTW_FREEZABLE, got ${describe(v)}`);
  }
  return v;
}

function cpuArg(v: unknown): number {
  if (typeof v !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `cpu must be a number, got ${describe(v)}`);
  const n = nr_cpu_ids();
  if (!Number.isInteger(v) || v < 0 || v >= n) {
    throw rangeError('ERR_OUT_OF_RANGE', `cpu must be a CPU id in [0, ${n - 1}] (nr_cpu_ids is ${n}), got ${describe(v)}`);
  }
  return v;
}

function errnoName(n: number): string {
  for (const [name, v] of Object.entries(constants.errno)) if (v === n) return name;
  return 'EIO';
}

function create(flags: number, name: string, cpu: number, wake: boolean, hold = false): kthread_worker {
  might_sleep(cpu >= 0 ? 'kthread_create_worker_on_cpu()' : 'kthread_create_worker()');
  if (kside.local !== null) {
    throw new KtimersError('ERR_KTIMERS_KTHREAD_CONTEXT', 'a kthread_worker cannot be created from a kthread_worker thread');
  }
  const ctlBuf = new SharedArrayBuffer(K.T_WORDS * 4);
  const ctl = new Int32Array(ctlBuf);
  const worker = new kthread_worker(TOKEN, flags, name, cpu, ctl);
  const th = new Worker(ENTRY, {
    workerData: { table: table().buffer, ctl: ctlBuf, name, comm: worker.comm, cpu, run: wake, flags, hold },
    stdout: false,
    stderr: false,
  });
  // The kernel's create sleeps until kthreadd made the thread: so does this one,
  // until the thread reports its tid (and, for _on_cpu, that it is bound).
  const r = Atomics.wait(ctl, K.T_STATE, 0, START_TIMEOUT_MS);
  const state = Atomics.load(ctl, K.T_STATE);
  if (r === 'timed-out' || state !== 1) {
    th.on('error', () => {}); // its cause is reported by the throw below; an unheard 'error' would end the process
    void th.terminate();
    if (state === K.T_FAILED || r === 'timed-out') {
      throw new KtimersError('ERR_KTIMERS_KTHREAD_START', `kthread_worker "${name}": its thread did not start`);
    }
    const code = errnoName(-state);
    throw new KtimersError(code, `kthread_worker "${name}": cannot bind its thread to CPU ${cpu} (${code}: not online or not allowed to this process)`, {
      syscall: 'sched_setaffinity',
      errno: -state,
    });
  }
  stateOf(worker).thread = th;
  // An initialised worker has no task until kthread_worker_fn runs on it (the kernel's
  // worker->task is set by kthread_worker_fn).
  setTask(worker, hold ? null : Atomics.load(ctl, K.T_TID));
  stateOf(worker).woken = wake;
  stateOf(worker).held = hold;
  th.on('message', (m: K.FromWorker) => onMessage(worker, m));
  let failure: unknown;
  th.on('error', (e) => {
    failure = e; // reported with the exit that follows
  });
  th.on('exit', (code) => {
    stateOf(worker).thread = null;
    setTask(worker, null);
    if (!stateOf(worker).destroying) lost(worker, code, failure);
    gone(worker, destroyed(worker));
  });
  return worker;
}

/**
 * The thread ended without kthread_destroy_worker (a work called process.exit(),
 * or the thread crashed): its works will never run. Say so, and un-pend them so
 * they can be queued elsewhere, rather than leave them pending forever.
 */
function lost(worker: kthread_worker, code: number, failure: unknown): void {
  const t = table();
  let dropped = 0;
  const queued = stateOf(worker).queued;
  for (const id of queued) {
    if (byId.get(id)?.deref()?.worker !== worker) continue;
    const o = Atomics.and(t, id, ~(K.K_PENDING | K.K_RUNNING));
    if (o & K.K_PENDING) dropped++;
  }
  queued.clear();
  const why = failure === undefined ? `exited (code ${code})` : `failed: ${(failure as Error)?.message ?? String(failure)}`;
  const err = new KtimersError(
    'ERR_KTIMERS_WORKER_EXIT',
    `kthread_worker "${worker.name}": its thread ${why} before kthread_destroy_worker(); ${dropped} pending work(s) will not run`,
  );
  if (failure !== undefined) (err as { cause?: unknown }).cause = failure;
  Object.defineProperty(err, 'worker', { value: worker, enumerable: false, configurable: true, writable: true });
  reportError(err);
}

function onMessage(worker: kthread_worker, m: K.FromWorker): void {
  switch (m.t) {
    case 'done':
      if (m.error !== undefined) answer(worker, m.seq, undefined, new KtimersError(m.error.code, m.error.message));
      else answer(worker, m.seq, undefined);
      return;
    case 'stopped':
      if (m.delayed > 0) {
        kwarn('KTIMERS_WARN_KTHREAD_DESTROY_DELAYED', `kthread_destroy_worker("${worker.name}"): ${m.delayed} delayed work(s) still armed; cancelled, they will not run`);
      }
      if (m.pending > 0) {
        kwarn('KTIMERS_WARN_KTHREAD_DESTROY_PENDING', `kthread_destroy_worker("${worker.name}"): ${m.pending} work(s) queued after the final flush were not run`);
      }
      answer(worker, m.seq, undefined);
      return;
    case 'warn':
      kwarn(m.code, m.message);
      return;
    case 'err': {
      const cause = restoreProps(m.error, m.props);
      const text = cause instanceof Error ? cause.message : String(cause);
      const where = `on kthread_worker "${worker.name}"`;
      const err =
        m.kind === 'load'
          ? new KtimersError('ERR_KTIMERS_WORK_LOAD', `work function ${m.fn} ${where} could not be loaded: ${text}`)
          : m.kind === 'threw'
            ? new KtimersError('ERR_KTIMERS_WORK_FAILED', `work function ${m.fn} ${where} threw: ${text}`)
            : m.kind === 'rejection'
              ? new KtimersError('ERR_KTIMERS_WORK_UNHANDLED_REJECTION', `code ${where} left a promise rejection unhandled: ${text}`)
              : new KtimersError('ERR_KTIMERS_KTHREAD_UNCAUGHT', `a timer callback or other code ${where} threw: ${text}`);
      (err as { cause?: unknown }).cause = cause;
      Object.defineProperty(err, 'worker', { value: worker, enumerable: false, configurable: true, writable: true });
      reportError(err);
      return;
    }
  }
}

function nameArgs(namefmt: unknown, args: unknown[]): string {
  if (typeof namefmt !== 'string') throw typeError('ERR_INVALID_ARG_TYPE', `namefmt must be a string, got ${describe(namefmt)}`);
  const name = formatName(namefmt, args);
  if (name.length === 0) throw rangeError('ERR_OUT_OF_RANGE', 'the worker name must not be empty');
  return name;
}

/**
 * `kthread_run_worker(flags, namefmt, ...)` (6.14+): create a worker and start
 * its thread. The thread starts at SCHED_NORMAL, priority 0; raise it with
 * {@link sched_set_fifo}.
 * @param flags - 0 or KTW_FREEZABLE
 * @param namefmt - printf-style name (`%s %d %i %u %x %%`); its comm is the first 15 characters
 * @param args - the format's arguments
 *
 * Context: task context; waits for the thread to exist. Return: the worker.
 */
export function kthread_run_worker(flags: number, namefmt: string, ...args: unknown[]): kthread_worker {
  return create(flagsArg(flags), nameArgs(namefmt, args), -1, true);
}

/**
 * `kthread_create_worker(flags, namefmt, ...)` with its 6.14+ meaning: created,
 * **not woken**: its first queued work (or a flush or destroy) starts it. Code
 * written for ≤ 6.13, where this call also woke the thread, wants
 * {@link kthread_run_worker}.
 * @param flags - 0 or KTW_FREEZABLE
 * @param namefmt - printf-style name, as {@link kthread_run_worker}'s
 * @param args - the format's arguments
 *
 * Context: as {@link kthread_run_worker}. Return: the worker.
 */
export function kthread_create_worker(flags: number, namefmt: string, ...args: unknown[]): kthread_worker {
  return create(flagsArg(flags), nameArgs(namefmt, args), -1, false);
}

/**
 * `kthread_run_worker_on_cpu(cpu, flags, namefmt)`: a worker whose thread is bound
 * to `cpu` (sched_setaffinity, before it runs anything) and started. The format
 * gets the CPU number as its single argument (`"name/%u"`).
 * @param cpu - a CPU id below nr_cpu_ids, allowed to this process
 * @param flags - 0 or KTW_FREEZABLE
 * @param namefmt - printf-style name with one integer conversion (or none)
 *
 * Context: as {@link kthread_run_worker}. Return: the worker. Throws RangeError
 * ERR_OUT_OF_RANGE for a CPU id at or above nr_cpu_ids, EINVAL when the CPU is
 * offline or not allowed to this process.
 */
export function kthread_run_worker_on_cpu(cpu: number, flags: number, namefmt: string): kthread_worker {
  const c = cpuArg(cpu);
  return create(flagsArg(flags), nameArgs(namefmt, [c]), c, true);
}

/**
 * `kthread_create_worker_on_cpu(cpu, flags, namefmt)` (6.14+ signature, no
 * variadic arguments): bound to `cpu`, not woken.
 * @param cpu - a CPU id below nr_cpu_ids, allowed to this process
 * @param flags - 0 or KTW_FREEZABLE
 * @param namefmt - printf-style name with one integer conversion (or none)
 *
 * Context: as {@link kthread_run_worker_on_cpu}. Return: the worker.
 */
export function kthread_create_worker_on_cpu(cpu: number, flags: number, namefmt: string): kthread_worker {
  const c = cpuArg(cpu);
  return create(flagsArg(flags), nameArgs(namefmt, [c]), c, false);
}

/**
 * `kthread_init_worker(worker)`: a worker whose loop does not run yet. The kernel initialises a
 * struct the caller owns and leaves its `task` NULL, to be run later by `kthread_worker_fn` on a
 * thread the caller creates (`kthread_run(kthread_worker_fn, worker, namefmt, ...)`). ktimers
 * returns the worker instead, with its thread already made and held: works can be queued on it
 * (and kthread_flush_* called, which then waits for the loop), and none runs until
 * {@link kthread_worker_fn} or {@link kthread_run} starts the loop. Its `task` is null until then.
 * Its name is `"kthread_worker"` until kthread_run names it.
 *
 * Destroying it before its loop ran drops what was queued, with the warning
 * KTIMERS_WARN_KTHREAD_DESTROY_PENDING (the kernel's destroy of a worker with no task WARNs and
 * does nothing).
 * @param flags - 0 or KTW_FREEZABLE (the kernel's `__kthread_init_worker` flags); default 0
 *
 * Context: task context; waits for the thread to exist. Return: the worker.
 */
export function kthread_init_worker(flags: number = 0): kthread_worker {
  return create(flagsArg(flags), 'kthread_worker', -1, false, true);
}

function heldArg(v: unknown, name: string): kthread_worker {
  if (!(v instanceof kthread_worker)) throw typeError('ERR_INVALID_ARG_TYPE', `worker must be a kthread_worker, got ${describe(v)}`);
  const s = stateOf(v);
  if (s.local !== null || kside.local !== null) {
    throw new KtimersError('ERR_KTIMERS_KTHREAD_CONTEXT', `${name}() cannot be called from a kthread_worker thread`);
  }
  if (s.destroying || s.thread === null) throw destroyed(v);
  if (!s.held) {
    // The kernel: WARN_ON(worker->task && worker->task != current), then a second loop on the
    // same list. Refused here: one worker, one loop.
    throw new KtimersError('ERR_KTIMERS_KTHREAD_CONTEXT', `${name}(): kthread_worker "${v.name}" already runs its loop (kthread_worker_fn runs a worker from kthread_init_worker once)`);
  }
  return v;
}

function startLoop(w: kthread_worker, named: boolean): Promise<number> {
  const s = stateOf(w);
  const th = s.thread!;
  s.held = false;
  setTask(w, Atomics.load(s.ctl, K.T_TID));
  const m: K.ToWorker = { t: 'wake', fn: true };
  if (named) {
    m.name = w.name;
    m.comm = w.comm;
  }
  th.postMessage(m);
  s.woken = true;
  s.fnDone = new Promise<number>((resolve) => th.once('exit', () => resolve(0)));
  return s.fnDone;
}

/**
 * `kthread_worker_fn(worker)`: the kthread_worker loop, on the worker's thread: it runs the
 * works queued on a worker from {@link kthread_init_worker} (those queued before this call first,
 * in order), one at a time, until the worker is stopped. In the kernel it is the thread function
 * of a thread the caller made, and returns 0 when `kthread_should_stop()`; here the thread is the
 * one kthread_init_worker made, this call starts the loop on it, and the Promise it returns
 * settles with 0 once the loop has returned and the thread ended ({@link kthread_destroy_worker}:
 * the kernel's `kthread_flush_worker` + `kthread_stop`).
 * @param worker - a worker from kthread_init_worker whose loop has not started
 *
 * Throws ERR_KTIMERS_KTHREAD_CONTEXT for a worker whose loop already runs (one from
 * kthread_run_worker / kthread_create_worker, or a second call), or when called on a worker
 * thread; ERR_KTIMERS_KTHREAD_DESTROYED for a destroyed worker.
 * Return: a Promise for 0.
 */
export function kthread_worker_fn(worker: kthread_worker): Promise<number> {
  return startLoop(heldArg(worker, 'kthread_worker_fn'), false);
}

/**
 * `kthread_run(kthread_worker_fn, worker, namefmt, ...)`: the kernel's way to give a worker from
 * {@link kthread_init_worker} its thread. Names the worker's thread (its comm, the first 15
 * characters) and starts its loop, as {@link kthread_worker_fn}. Only `kthread_worker_fn` is
 * accepted as the thread function: to run other code on a real-time thread, use
 * `RealtimeThread`.
 * @param threadfn - {@link kthread_worker_fn}
 * @param worker - a worker from kthread_init_worker whose loop has not started
 * @param namefmt - printf-style name, as {@link kthread_run_worker}'s
 * @param args - the format's arguments
 *
 * Return: the thread's id (the kernel returns its task_struct). Throws as kthread_worker_fn.
 */
export function kthread_run(threadfn: (worker: kthread_worker) => Promise<number>, worker: kthread_worker, namefmt: string, ...args: unknown[]): number {
  if (threadfn !== kthread_worker_fn) {
    throw typeError('ERR_INVALID_ARG_TYPE', `threadfn must be kthread_worker_fn (other thread functions: RealtimeThread), got ${describe(threadfn)}`);
  }
  const w = heldArg(worker, 'kthread_run');
  const name = nameArgs(namefmt, args);
  const comm = name.slice(0, TASK_COMM_LEN - 1);
  Object.defineProperty(w, 'name', { value: name, enumerable: true, configurable: true, writable: false });
  Object.defineProperty(w, 'comm', { value: comm, enumerable: true, configurable: true, writable: false });
  void startLoop(w, true);
  return w.task!;
}

/** @internal the worker thread's own view of its worker (lib/kthread/thread.ts) */
export function _localWorker(flags: number, name: string, cpu: number, ctl: Int32Array, side: LocalSide): kthread_worker {
  const w = new kthread_worker(TOKEN, flags, name, cpu, ctl);
  stateOf(w).local = side;
  setTask(w, Atomics.load(ctl, K.T_TID) || null);
  return w;
}
