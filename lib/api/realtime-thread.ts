/**
 * RealtimeThread: a module's function on a dedicated real-time thread, for
 * Node users — `new RealtimeThread(url, { fifos })`, `for await (… of t.read('out'))`,
 * `await t.stop()`.
 *
 * Why not a kthread_worker underneath (lib/kthread/)? A kthread_work is a
 * job that ends: kthread_destroy_worker() flushes, i.e. waits for the running
 * work, and failures on a worker thread are reported process-wide
 * (uncaughtException) because works belong to no single caller. Here the
 * function owns the thread for its whole life (it arms a periodic timer and
 * returns, or runs until its signal aborts), and its failures belong to this
 * object: an 'error' event and the `done` promise, as a Node Worker reports
 * its own. So this is a worker_thread of its own (lib/api/realtime-thread-entry.ts)
 * with what kthread_worker + sched_set_fifo() give: its tid known at
 * construction, its policy and affinity set before any user code runs on it.
 *
 * - Scheduling: by default SCHED_FIFO 50, sched_set_fifo()'s priority. Where
 *   the process may not (no CAP_SYS_NICE, RLIMIT_RTPRIO too low) the thread
 *   runs SCHED_OTHER and a KtimersWarning KTIMERS_WARN_RT_THREAD_SCHED_OTHER
 *   says so and why, once per thread: never silently. A policy asked for
 *   explicitly and refused throws ERR_KTIMERS_RT_THREAD_SCHED instead: the
 *   caller said what it needs.
 * - The constructor waits (Atomics.wait, as kthread_run_worker()) for the
 *   thread to report its tid, so that errors of affinity and policy are
 *   thrown by the constructor, not reported later.
 * - Results cross threads through kfifos (SharedArrayBuffer rings), not one
 *   message per result: `read(name)` is kfifo_reader() over the named fifo.
 *   When the thread ends, for any reason, every fifo is closed so that readers
 *   end after draining what was written.
 * - Failures (the function throws or rejects, a timer callback on the thread
 *   throws) end the thread, as an uncaught exception ends a Worker. They are
 *   reported once, as ERR_KTIMERS_RT_THREAD_FAILED naming the thread, with the
 *   original as `cause`: to the 'error' listeners if there are any, and as
 *   the rejection of `done`; with neither an 'error' listener nor anyone
 *   having looked at `done`, as an uncaught exception (Node's Worker without
 *   an 'error' listener does the same).
 * - Keeps the process alive while its thread runs, as a Worker; unref() lets
 *   the process exit around it (the thread ends with the process).
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { describe, KtimersError, kwarn, rangeError, typeError } from '../errors.js';
import { reportError } from '../internal/virtual.js';
import { kfifo_close, kfifo_reader, kfifo_size, type Kfifo } from '../kfifo/index.js';
import { nr_cpu_ids, sched_setaffinity, sched_setscheduler, SCHED_FIFO, SCHED_OTHER, SCHED_RR } from '../sched.js';
import { R_GO, R_STATE, R_TID, R_WORDS } from './realtime-thread-shared.js';

const ENTRY = new URL('./realtime-thread-entry.js', import.meta.url);
/** Backstop for a thread that never reports its start (a wedged machine), not a performance bound. */
const START_TIMEOUT_MS = 60_000;
/**
 * Backstop for stop(): a thread whose function is stuck in synchronous code
 * never reads the stop message; after this long it is terminated (which
 * interrupts running JavaScript). Not a performance bound.
 */
const STOP_GRACE_MS = 10_000;
/** Instances made by the constructor: a method called on anything else (a detached method) is refused. */
const instances = new WeakSet<object>();
/** Node's answer to a method called with a foreign `this`: TypeError ERR_INVALID_THIS. */
function thisArg(o: unknown): void {
  if (typeof o !== 'object' || o === null || !instances.has(o)) {
    throw typeError('ERR_INVALID_THIS', `Value of "this" must be of type RealtimeThread, got ${describe(o)}`);
  }
}
/** sched_set_fifo()'s priority: MAX_RT_PRIO / 2. */
const DEFAULT_PRIORITY = 50;

/** Scheduling policy of a RealtimeThread: SCHED_FIFO, SCHED_RR or SCHED_OTHER. */
export type RealtimeThreadPolicy = 'fifo' | 'rr' | 'other';

/** Options of {@link RealtimeThread}. */
export interface RealtimeThreadOptions {
  /** Name used in errors and warnings, and the thread's comm (first 15 characters). Default 'rt-thread'. */
  name?: string;
  /**
   * 'fifo' (SCHED_FIFO), 'rr' (SCHED_RR) or 'other' (SCHED_OTHER). Default: SCHED_FIFO 50
   * where permitted, else SCHED_OTHER with a KtimersWarning. Given explicitly, a refusal throws.
   */
  policy?: RealtimeThreadPolicy;
  /** 1..99 for 'fifo' and 'rr' (default 50); 0 for 'other'. Implies policy 'fifo' when policy is omitted. */
  priority?: number;
  /** Pin the thread (sched_setaffinity) to this CPU or these CPUs, below nr_cpu_ids. Default: unpinned. */
  cpu?: number | readonly number[];
  /** Kfifos handed to the thread (shared, not copied), and readable here with {@link RealtimeThread.read}. */
  fifos?: Record<string, Kfifo<number> | Kfifo<bigint>>;
  /** Anything structured-cloneable for the function's `ctx.data` (SharedArrayBuffers stay shared). */
  data?: unknown;
  /** The export of the module to call. Default 'default'. */
  export?: string;
  /** Keep the process alive while the thread runs (default true), as Worker's ref(). */
  ref?: boolean;
}

/**
 * What the thread's function receives.
 * @typeParam F - the fifos' record
 */
export interface RealtimeThreadContext<F = Record<string, Kfifo<number> | Kfifo<bigint>>> {
  /** The thread's name. */
  name: string;
  /** The kfifos given in the options (clones sharing the creator's memory). */
  fifos: F;
  /** The options' `data` (structured-cloned). */
  data: unknown;
  /** Aborted by stop(); the thread ends right after its abort listeners have run. */
  signal: AbortSignal;
  /** The thread's kernel thread id. */
  tid: number;
}

const POLICIES: Record<RealtimeThreadPolicy, number> = { fifo: SCHED_FIFO, rr: SCHED_RR, other: SCHED_OTHER };
const POLICY_NAMES: Record<RealtimeThreadPolicy, string> = { fifo: 'SCHED_FIFO', rr: 'SCHED_RR', other: 'SCHED_OTHER' };

function moduleArg(v: unknown): string {
  let url: URL;
  if (v instanceof URL) url = v;
  else if (typeof v === 'string' && v.length > 0) {
    if (v.startsWith('file:')) url = new URL(v);
    else url = pathToFileURL(isAbsolute(v) ? v : resolve(v));
  } else {
    throw typeError('ERR_INVALID_ARG_TYPE', `module must be a file URL or a path, got ${describe(v)}`);
  }
  if (url.protocol !== 'file:') throw typeError('ERR_INVALID_ARG_TYPE', `module must be a file: URL, got ${url.protocol} URL`);
  if (!existsSync(fileURLToPath(url))) {
    throw new KtimersError('ERR_KTIMERS_WORK_MODULE_NOT_FOUND', `RealtimeThread: module ${url.href} does not exist`);
  }
  return url.href;
}

function cpusArg(v: unknown): number[] | null {
  if (v === undefined) return null;
  const list = typeof v === 'number' ? [v] : Array.isArray(v) ? (v as unknown[]) : null;
  if (list === null) throw typeError('ERR_INVALID_ARG_TYPE', `options.cpu must be a CPU id or an array of them, got ${describe(v)}`);
  if (list.length === 0) throw rangeError('ERR_OUT_OF_RANGE', 'options.cpu must name at least one CPU');
  const n = nr_cpu_ids();
  for (const c of list) {
    if (typeof c !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `options.cpu: a CPU id must be a number, got ${describe(c)}`);
    if (!Number.isInteger(c) || c < 0 || c >= n) {
      throw rangeError('ERR_OUT_OF_RANGE', `options.cpu: CPU ${describe(c)} does not exist (CPU ids are 0..${n - 1}; nr_cpu_ids is ${n})`);
    }
  }
  return [...new Set(list as number[])];
}

function schedArgs(o: RealtimeThreadOptions): { policy: RealtimeThreadPolicy; priority: number; explicit: boolean } {
  const p = o.policy;
  if (p !== undefined && (typeof p !== 'string' || !Object.hasOwn(POLICIES, p))) {
    throw typeof p === 'string'
      ? rangeError('ERR_OUT_OF_RANGE', `options.policy must be 'fifo', 'rr' or 'other', got ${describe(p)}`)
      : typeError('ERR_INVALID_ARG_TYPE', `options.policy must be 'fifo', 'rr' or 'other', got ${describe(p)}`);
  }
  const policy: RealtimeThreadPolicy = p ?? 'fifo';
  const pr = o.priority;
  if (pr !== undefined && typeof pr !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `options.priority must be a number, got ${describe(pr)}`);
  if (policy === 'other') {
    if (pr !== undefined && pr !== 0) throw rangeError('ERR_OUT_OF_RANGE', `options.priority must be 0 with policy 'other', got ${describe(pr)}`);
    return { policy, priority: 0, explicit: true };
  }
  const priority = pr ?? DEFAULT_PRIORITY;
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) {
    throw rangeError('ERR_OUT_OF_RANGE', `options.priority must be an integer in [1, 99] for policy '${policy}', got ${describe(pr)}`);
  }
  return { policy, priority, explicit: p !== undefined || pr !== undefined };
}

function fifosArg(v: unknown): Record<string, Kfifo<number> | Kfifo<bigint>> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw typeError('ERR_INVALID_ARG_TYPE', `options.fifos must be an object of kfifos, got ${describe(v)}`);
  }
  const out: Record<string, Kfifo<number> | Kfifo<bigint>> = {};
  for (const [k, f] of Object.entries(v)) {
    try {
      kfifo_size(f as Kfifo<number>);
    } catch {
      throw typeError('ERR_INVALID_ARG_TYPE', `options.fifos.${k} must be a kfifo (kfifo_alloc / kfifo_init), got ${describe(f)}`);
    }
    out[k] = f as Kfifo<number>;
  }
  return out;
}

/**
 * A module's function running on a dedicated thread at a real-time priority,
 * with its own ktimers: the hrtimers and timer_lists it arms fire on that
 * thread, however busy the main thread is.
 *
 * ```js
 * const out = kfifo_alloc('u32', 1024);
 * await using t = new RealtimeThread(new URL('./sampler.js', import.meta.url), { fifos: { out } });
 * for await (const v of t.read('out')) console.log(v);
 * ```
 *
 * The module's default export (or `options.export`) is called on the thread
 * with a {@link RealtimeThreadContext}; it may be async. Events: 'online'
 * (the thread runs; emitted after the constructor has returned), 'error'
 * (ERR_KTIMERS_RT_THREAD_FAILED), 'exit' (exit code).
 */
export class RealtimeThread extends EventEmitter {
  /** The name given (or 'rt-thread'). */
  readonly name: string;
  /** The thread's kernel thread id (what sched_getscheduler() and /proc take). */
  readonly tid: number;
  /** The Worker's threadId (worker_threads numbering). */
  readonly threadId: number;
  /** The policy in force: the one asked for, or 'other' when the default SCHED_FIFO was refused. */
  readonly policy: RealtimeThreadPolicy;
  /** The priority in force (0 for 'other'). */
  readonly priority: number;
  /** The CPUs it is pinned to, or null. */
  readonly cpus: readonly number[] | null;
  /** The fifos given in the options. */
  readonly fifos: Readonly<Record<string, Kfifo<number> | Kfifo<bigint>>>;
  #worker: Worker | null;
  #refd: boolean;
  #done: Promise<void>;
  #doneSeen = false;
  #exited: Promise<void>;
  #stopping: Promise<void> | null = null;
  #failure: KtimersError | null = null;

  /**
   * Start `module`'s function on a new thread.
   * @param module - the module: a file URL (`new URL('./f.js', import.meta.url)`) or a path (relative to the cwd)
   * @param options - see {@link RealtimeThreadOptions}
   *
   * Throws TypeError/RangeError (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE) for bad options,
   * ERR_KTIMERS_WORK_MODULE_NOT_FOUND when the module file does not exist,
   * ERR_KTIMERS_RT_THREAD_SCHED when an explicit policy is refused, the OS error
   * (EINVAL) when a CPU is offline or not allowed to the process.
   */
  constructor(module: string | URL, options: RealtimeThreadOptions = {}) {
    super();
    const url = moduleArg(module);
    if (typeof options !== 'object' || options === null) throw typeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
    const name = options.name ?? 'rt-thread';
    if (typeof name !== 'string') throw typeError('ERR_INVALID_ARG_TYPE', `options.name must be a string, got ${describe(name)}`);
    if (name.length === 0) throw rangeError('ERR_OUT_OF_RANGE', 'options.name must not be empty');
    const exp = options.export ?? 'default';
    if (typeof exp !== 'string' || exp.length === 0) throw typeError('ERR_INVALID_ARG_TYPE', `options.export must be a non-empty string, got ${describe(exp)}`);
    const ref = options.ref ?? true;
    if (typeof ref !== 'boolean') throw typeError('ERR_INVALID_ARG_TYPE', `options.ref must be a boolean, got ${describe(ref)}`);
    const cpus = cpusArg(options.cpu);
    const sched = schedArgs(options);
    const fifos = fifosArg(options.fifos);
    this.name = name;
    this.cpus = cpus;
    this.fifos = Object.freeze(fifos);

    const ctlBuf = new SharedArrayBuffer(R_WORDS * 4);
    const ctl = new Int32Array(ctlBuf);
    let worker: Worker;
    try {
      worker = new Worker(ENTRY, {
        workerData: { ctl: ctlBuf, url, export: exp, name, fifos, data: options.data },
      });
    } catch (e) {
      if ((e as Error)?.name === 'DataCloneError') {
        throw typeError('ERR_INVALID_ARG_TYPE', `options.data (or a fifo) cannot be sent to the thread: ${(e as Error).message}`);
      }
      throw e;
    }
    const giveUp = (): void => {
      Atomics.store(ctl, R_GO, 2);
      Atomics.notify(ctl, R_GO);
      worker.on('error', () => {}); // the throw below reports why
      void worker.terminate();
    };
    if (Atomics.wait(ctl, R_STATE, 0, START_TIMEOUT_MS) === 'timed-out' && Atomics.load(ctl, R_STATE) === 0) {
      giveUp();
      throw new KtimersError('ERR_KTIMERS_RT_THREAD_START', `RealtimeThread "${name}": its thread did not start`);
    }
    const tid = Atomics.load(ctl, R_TID);
    // Affinity first, then policy: a real-time thread must never run on a CPU it was kept off.
    try {
      if (cpus !== null) sched_setaffinity(tid, cpus);
    } catch (e) {
      giveUp();
      throw e;
    }
    let { policy, priority } = sched;
    try {
      sched_setscheduler(tid, POLICIES[policy], priority);
    } catch (e) {
      const err = e as KtimersError;
      if (sched.explicit || err?.code !== 'EPERM') {
        giveUp();
        const w = new KtimersError(
          'ERR_KTIMERS_RT_THREAD_SCHED',
          `RealtimeThread "${name}": ${POLICY_NAMES[policy]} ${priority} refused: ${err?.message ?? String(e)}`,
          { syscall: err?.syscall ?? 'sched_setscheduler', errno: typeof err?.errno === 'number' ? Math.abs(err.errno) : undefined },
        );
        (w as { cause?: unknown }).cause = e;
        throw w;
      }
      policy = 'other';
      priority = 0;
      // Once per thread, not once per process: each thread that runs below the
      // priority its author expected is news.
      kwarn(
        'KTIMERS_WARN_RT_THREAD_SCHED_OTHER',
        `RealtimeThread "${name}" runs SCHED_OTHER, not SCHED_FIFO ${DEFAULT_PRIORITY} (the default; set options.policy to choose): ${err.message}`,
      );
    }
    this.tid = tid;
    this.threadId = worker.threadId;
    this.policy = policy;
    this.priority = priority;
    this.#worker = worker;
    this.#refd = ref;
    if (!ref) worker.unref();

    let failure: unknown;
    worker.on('error', (e) => {
      failure = e;
    });
    worker.on('online', () => this.emit('online'));
    let resolveDone!: () => void;
    let rejectDone!: (e: unknown) => void;
    this.#done = new Promise<void>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    this.#done.catch(() => {}); // reported through 'error' or uncaughtException when nobody looks at done
    this.#exited = new Promise<void>((res) => {
      worker.once('exit', (code) => {
        this.#worker = null;
        for (const f of Object.values(fifos)) kfifo_close(f);
        if (failure !== undefined) {
          const text = failure instanceof Error ? failure.message : String(failure);
          const err = new KtimersError('ERR_KTIMERS_RT_THREAD_FAILED', `RealtimeThread "${name}" failed: ${text}`);
          (err as { cause?: unknown }).cause = failure;
          this.#failure = err;
          rejectDone(err);
          if (this.listenerCount('error') > 0) this.emit('error', err);
          else if (!this.#doneSeen) reportError(err);
        } else {
          resolveDone();
        }
        this.emit('exit', code);
        res();
      });
    });
    instances.add(this);
    Atomics.store(ctl, R_GO, 1);
    Atomics.notify(ctl, R_GO);
  }

  /**
   * Settles when the thread has ended: fulfils after stop() or when the function
   * returned and nothing it armed is left; rejects with ERR_KTIMERS_RT_THREAD_FAILED
   * (the thread's name in the message, the original error as `cause`) when it failed.
   */
  get done(): Promise<void> {
    thisArg(this);
    this.#doneSeen = true;
    return this.#done;
  }

  /** True while the thread runs. */
  get running(): boolean {
    thisArg(this);
    return this.#worker !== null;
  }

  /**
   * The values written into the fifo `name` on the thread, in order, as an async
   * iterator (kfifo_reader: no message per value). It ends once the thread has
   * ended (the fifo is then closed) and what was written has been read.
   * @param name - a key of `options.fifos`
   */
  read(name: string): AsyncIterableIterator<number | bigint | Uint8Array> {
    thisArg(this);
    if (typeof name !== 'string') throw typeError('ERR_INVALID_ARG_TYPE', `name must be a string, got ${describe(name)}`);
    const f = Object.hasOwn(this.fifos, name) ? this.fifos[name] : undefined;
    if (f === undefined) {
      throw rangeError('ERR_OUT_OF_RANGE', `RealtimeThread "${this.name}" has no fifo "${name}" (it has: ${Object.keys(this.fifos).join(', ') || 'none'})`);
    }
    return kfifo_reader(f as Kfifo<number>);
  }

  /**
   * Stop the thread: abort its signal (its abort listeners run on the thread),
   * then end it, which cancels every timer it armed; the fifos are closed (their
   * readers end after draining). A thread stuck in synchronous code is terminated.
   * Return: a Promise fulfilled once the thread has exited (also after a failure:
   * that is `done`'s to report).
   */
  stop(): Promise<void> {
    try {
      thisArg(this);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#stopping !== null) return this.#stopping;
    const w = this.#worker;
    if (w === null) return (this.#stopping = this.#exited);
    w.ref(); // a stop in progress holds the process, as a pending destroy does
    w.postMessage({ t: 'stop' });
    const backstop = setTimeout(() => void w.terminate(), STOP_GRACE_MS);
    backstop.unref();
    return (this.#stopping = this.#exited.then(() => clearTimeout(backstop)));
  }

  /** `await using t = new RealtimeThread(...)`: stop() on scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    thisArg(this);
    await this.stop();
  }

  /** Keep the process alive while the thread runs (the default). Return: this. */
  ref(): this {
    thisArg(this);
    this.#refd = true;
    this.#worker?.ref();
    return this;
  }
  /** Let the process exit while the thread runs (the thread ends with it). Return: this. */
  unref(): this {
    thisArg(this);
    this.#refd = false;
    if (this.#stopping === null) this.#worker?.unref();
    return this;
  }
  /** Whether it keeps the process alive. */
  hasRef(): boolean {
    thisArg(this);
    return this.#refd && this.#worker !== null;
  }

  /** @internal the failure, once it has ended by one */
  get _failure(): KtimersError | null {
    return this.#failure;
  }
}
