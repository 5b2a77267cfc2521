/**
 * WorkQueue: the workqueue for Node users — `await wq.queue(fn, data)`.
 *
 * A facade over one kernel-style queue of lib/workqueue/ (alloc_workqueue,
 * queue_work, flush_work, cancel_work, destroy_workqueue), not a second pool:
 * items run on the same worker_threads pools, in task context, where they may
 * block. What it adds is what Node code expects of a task queue:
 *
 * - `queue()` returns a promise of the item's completion that rejects with
 *   the error the work function threw (the kernel API reports failures per
 *   queue, as 'error' events). Each call is a new work item, so two calls are
 *   two runs (the kernel's `queue_work` on a pending item is a no-op instead).
 * - an AbortSignal takes a queued item back (`cancel_work`) and rejects with
 *   an AbortError like Node's. A running item cannot be interrupted (kernel
 *   work cannot either): the promise rejects at once, the function finishes
 *   in the background, and `close()` still waits for it.
 * - `close()` / `await using` drains: items already queued run to the end,
 *   new ones are refused (ERR_KTIMERS_WQ_CLOSED), then the queue is destroyed.
 *
 * Work functions are named, not passed: `{ module: import.meta.url, name: 'resize' }`
 * for `export function resize(work) { … work.data … }` (a worker imports the
 * module; a closure cannot cross threads). `data` is structured-cloned to the
 * worker; SharedArrayBuffers are shared, not copied.
 */
import { AbortError, describe, KtimersError, typeError } from '../errors.js';
import { reportError } from '../internal/virtual.js';
import { in_atomic } from '../context.js';
import {
  alloc_ordered_workqueue,
  alloc_workqueue,
  cancel_work,
  destroy_workqueue,
  flush_work,
  flush_workqueue,
  INIT_WORK,
  queue_work,
  work_struct,
  WQ_HIGHPRI,
  WQ_UNBOUND,
  type WorkFnRef,
  type workqueue_struct,
} from '../workqueue/index.js';
import { fnArg } from '../workqueue/work-fn.js';
import { workId } from '../workqueue/work.js';
import { booleanOption } from '../internal/validate.js';
import { TOKEN } from './work-runner.js';

/** Instances made by the constructor: a method called on anything else (a detached method) is refused. */
const instances = new WeakSet<object>();
/** Node's answer to a method called with a foreign `this`: TypeError ERR_INVALID_THIS. */
function thisArg(o: unknown): void {
  if (typeof o !== 'object' || o === null || !instances.has(o)) {
    throw typeError('ERR_INVALID_THIS', `Value of "this" must be of type WorkQueue, got ${describe(o)}`);
  }
}

/** Options of the {@link WorkQueue} constructor. */
export interface WorkQueueOptions {
  /** The queue's name, in warnings and errors (default 'ktimers'). */
  name?: string;
  /**
   * Items that may run at once (the kernel's max_active; default 0: the
   * kernel's default, 1024). The pool has one worker per CPU, so more than
   * the number of CPUs only queues.
   */
  maxActive?: number;
  /** One item at a time, in queueing order (`alloc_ordered_workqueue`). Default false. */
  ordered?: boolean;
  /** Run on high-priority workers (WQ_HIGHPRI: nice −20 where allowed). Default false. */
  highpri?: boolean;
}

/** Options of {@link WorkQueue.queue}. */
export interface QueueOptions {
  /** Takes the item back if it has not started, and rejects the promise with an AbortError. */
  signal?: AbortSignal;
}

const RUNNER = new URL('./work-runner.js', import.meta.url).href;
/** The runner reference of each target function ({ module, name }), checked once. */
const runners = new Map<string, WorkFnRef>();

function runnerFor(ref: { module: string; name: string }): WorkFnRef {
  const key = `${ref.module}\0${ref.name}`;
  let r = runners.get(key);
  if (r === undefined) {
    const url = `${RUNNER}?m=${encodeURIComponent(ref.module)}&n=${encodeURIComponent(ref.name)}`;
    r = fnArg({ module: url, name: 'run' }) as WorkFnRef;
    runners.set(key, r);
  }
  return r;
}

/** One queue() call: its work item, its promise, its abort listener. */
class Item {
  readonly id: number;
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (e: unknown) => void;
  #settled = false;
  #onAbort: (() => void) | null = null;

  constructor(
    readonly owner: WorkQueue,
    readonly work: work_struct,
    readonly signal: AbortSignal | undefined,
  ) {
    this.id = workId(work); // unique while the item lives; the runner tags failures with it
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signal !== undefined) {
      this.#onAbort = () => {
        cancel_work(work); // takes it back if it has not started; a running one finishes unobserved
        this.settle(new AbortError(undefined, { cause: signal.reason }));
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  flush(): void {
    try {
      flush_work(this.work).then(
        () => this.settle(this.owner._forget(this.id)),
        (e: unknown) => this.settle(e),
      );
    } catch (e) {
      this.settle(e);
    }
  }

  settle(err: unknown): void {
    if (this.#settled) {
      this.owner._forget(this.id); // an aborted item finished: drop what it left
      return;
    }
    this.#settled = true;
    if (this.#onAbort !== null) this.signal!.removeEventListener('abort', this.#onAbort);
    if (err === undefined) this.#resolve();
    else this.#reject(err);
  }
}

/** Per caller's reference object: its fields when last checked, and its runner (queue() is hot). */
const refCache = new WeakMap<object, { module: unknown; name: unknown; runner: WorkFnRef }>();

/** The runner of `{ module, name }`, validated (fnArg) unless this object was already, unchanged. */
function runnerOf(fn: unknown): WorkFnRef {
  if (typeof fn === 'object' && fn !== null) {
    const c = refCache.get(fn);
    if (c !== undefined) {
      try {
        if ((fn as WorkFnRef).module === c.module && (fn as WorkFnRef).name === c.name) return c.runner;
      } catch {
        // a throwing getter: fnArg reports it
      }
    }
  }
  const ref = fnArg(fn) as { module: string; name: string };
  const runner = runnerFor(ref);
  refCache.set(fn as object, { module: (fn as WorkFnRef).module, name: (fn as WorkFnRef).name, runner });
  return runner;
}

/**
 * A queue of blocking work for worker threads, with promise results.
 * @example
 * // jobs.js: export function compress(work) { writeFileSync(`${work.data}.gz`, gzipSync(readFileSync(work.data))); }
 * const jobs = new URL('./jobs.js', import.meta.url);
 * await using wq = new WorkQueue({ maxActive: 2 });
 * await Promise.all(files.map((f) => wq.queue({ module: jobs, name: 'compress' }, f)));
 */
export class WorkQueue {
  readonly #wq: workqueue_struct;
  #closing: Promise<void> | null = null;
  readonly #entries = new Map<number, Item>();
  /** failures matched to their item id, read when the item's flush returns */
  readonly #errors = new Map<number, unknown>();

  /**
   * Creates the queue. No thread starts until the first item is queued.
   * @param options - name, maxActive, ordered, highpri (see {@link WorkQueueOptions}).
   * @throws TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE for bad options.
   */
  constructor(options?: WorkQueueOptions) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw typeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
    }
    const o = options ?? {};
    const name = o.name === undefined ? 'ktimers' : o.name;
    if (typeof name !== 'string') throw typeError('ERR_INVALID_ARG_TYPE', `options.name must be a string, got ${describe(name)}`);
    const ordered = booleanOption(o.ordered, 'options.ordered', false);
    const highpri = booleanOption(o.highpri, 'options.highpri', false);
    const flags = WQ_UNBOUND | (highpri ? WQ_HIGHPRI : 0);
    if (ordered && o.maxActive !== undefined && o.maxActive !== 1) {
      throw typeError('ERR_INVALID_ARG_VALUE', 'options.maxActive must be 1 or absent for an ordered queue');
    }
    // alloc_workqueue validates maxActive (a number; RangeError outside the int range) and clamps it as the kernel does.
    this.#wq = (ordered ? alloc_ordered_workqueue(name, flags) : alloc_workqueue(name, flags, o.maxActive ?? 0))!;
    this.#wq.on('error', (err) => this.#onError(err));
    instances.add(this);
  }

  #onError(err: Error): void {
    const c = (err as { cause?: unknown }).cause as Record<string, unknown> | undefined;
    if (c !== null && typeof c === 'object' && typeof c[TOKEN] === 'number' && this.#entries.has(c[TOKEN] as number)) {
      // The function threw (or could not be loaded): reject with its own error.
      let e = c.error;
      if (typeof c.code === 'string' && e instanceof Error && (e as { code?: unknown }).code === undefined) {
        Object.defineProperty(e, 'code', { value: c.code, enumerable: true, configurable: true, writable: true });
      }
      this.#errors.set(c[TOKEN] as number, e);
      return;
    }
    const w = (err as { work?: unknown }).work;
    if (w instanceof work_struct && this.#entries.has(workId(w))) {
      this.#errors.set(workId(w), err); // the item failed outside the function (its worker exited): the queue's error
      return;
    }
    reportError(err); // not one of this facade's items: the usual error path
  }

  /**
   * Queues `fn(work)` on a worker thread, with `work.data` = `data`.
   *
   * Works from any context, timer callbacks included (that is the point: hand
   * blocking work off the timer path). The promise settles in task context.
   * @param fn - `{ module, name }`: an exported function of an ES module
   *   (absolute path, `file:` URL or URL: `import.meta.url` works). It may be async.
   * @param data - any structured-cloneable value (SharedArrayBuffers are shared).
   * @param options - `signal` (see {@link QueueOptions}).
   * @returns a promise that resolves once the function returned (or its promise
   *   resolved), and rejects with what it threw; with an AbortError when the
   *   signal aborts; with a TypeError (ERR_INVALID_ARG_TYPE, ERR_KTIMERS_WORK_DATA)
   *   or KtimersError (ERR_KTIMERS_WORK_MODULE_NOT_FOUND, ERR_KTIMERS_WQ_CLOSED) without queueing.
   */
  queue(fn: WorkFnRef, data?: unknown, options?: QueueOptions): Promise<void> {
    thisArg(this);
    try {
      if (this.#closing !== null) {
        throw new KtimersError('ERR_KTIMERS_WQ_CLOSED', `WorkQueue "${this.#wq.name}" is closed`);
      }
      if (typeof fn === 'function') {
        throw typeError(
          'ERR_INVALID_ARG_TYPE',
          'fn must be { module, name }: a function cannot cross to a worker thread. Export it and pass { module: import.meta.url, name: "…" }',
        );
      }
      const runner = runnerOf(fn);
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw typeError('ERR_INVALID_ARG_TYPE', `options must be an object, got ${describe(options)}`);
      }
      const signal = options?.signal;
      if (signal !== undefined && !(signal instanceof AbortSignal)) {
        throw typeError('ERR_INVALID_ARG_TYPE', `options.signal must be an AbortSignal, got ${describe(signal)}`);
      }
      if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
      try {
        // The worker gets a clone: refuse what cannot be cloned now, not in a worker later.
        if (data !== undefined) structuredClone(data);
      } catch (e) {
        throw typeError('ERR_KTIMERS_WORK_DATA', `data cannot be sent to a worker thread: ${(e as Error).message}`);
      }
      return this.#queue(runner, data, signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #queue(runner: WorkFnRef, data: unknown, signal: AbortSignal | undefined): Promise<void> {
    const w = new work_struct();
    INIT_WORK(w, runner);
    w.data = data;
    const item = new Item(this, w, signal);
    this.#entries.set(item.id, item);
    queue_work(this.#wq, w);
    // flush_work may sleep: from a timer callback, call it once in task context.
    if (in_atomic()) queueMicrotask(() => item.flush());
    else item.flush();
    return item.promise;
  }

  /** @internal an item finished: forget it, and hand over the failure recorded for it, if any. */
  _forget(id: number): unknown {
    this.#entries.delete(id);
    const err = this.#errors.get(id);
    this.#errors.delete(id);
    return err;
  }

  /**
   * Waits for every item queued before the call (`flush_workqueue`); items
   * queued later are not waited for.
   * @returns a promise that resolves once they have finished (whether they succeeded or not).
   */
  flush(): Promise<void> {
    thisArg(this);
    if (this.#closing !== null) return this.#closing;
    return flush_workqueue(this.#wq);
  }

  /**
   * Stops accepting items, runs the queued ones to the end, then destroys the
   * queue (`destroy_workqueue`, which drains). Idempotent: every call returns
   * the same promise.
   * @returns a promise that resolves once the queue is drained and destroyed.
   */
  close(): Promise<void> {
    thisArg(this);
    this.#closing ??= destroy_workqueue(this.#wq);
    return this.#closing;
  }

  /** Same as {@link WorkQueue.close}, for `await using wq = new WorkQueue()`. */
  [Symbol.asyncDispose](): Promise<void> {
    thisArg(this);
    return this.close();
  }

  /** The queue's name. */
  get name(): string {
    thisArg(this);
    return this.#wq.name;
  }

  /** True once {@link WorkQueue.close} was called. */
  get closed(): boolean {
    thisArg(this);
    return this.#closing !== null;
  }

  /** Items queued or running (an aborted item that is still running counts until it ends). */
  get size(): number {
    thisArg(this);
    return this.#entries.size;
  }
}
