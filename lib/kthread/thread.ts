/**
 * The thread of a kthread_worker (the kernel's kthread_worker_fn loop).
 *
 * It owns work_list (an array of entries: a work instance {id, gen}, or a
 * flush / stop marker), the timers of delayed works (timer_lists of this
 * thread's own ktimers state, TIMER_IRQSAFE as the kernel's) and the running
 * work. Requests arrive as messages (lib/kthread/shared.ts); the
 * event loop is never blocked waiting for them, so the hrtimers and
 * timer_lists that work functions arm fire here. One work per round: after
 * each work the loop goes back to the event loop (setImmediate), so due timers
 * run between two works, as an interrupt would preempt a kthread.
 *
 * An entry runs only if the work's state word still says PENDING with the
 * entry's gen (claim): a cancel on another thread un-pends it at once, and a
 * re-queue makes older entries stale. Work functions, timer callbacks and
 * stray rejections that throw are reported to the owner's thread by name and
 * the loop goes on.
 * @internal
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { SCHED_OTHER, gettid, sched_setaffinity, sched_setscheduler } from '../sched.js';
import { TIMER_IRQSAFE, add_timer, timer_delete, timer_list, timer_pending, timer_setup } from '../timer/index.js';
import { kthread_delayed_work, kthread_work, dworkOf, setWorkId, setWorkerOf, workId } from './work.js';
import { kthread_worker, _localWorker, setTask, stateOf } from './worker.js';
import * as K from './shared.js';
import { moduleSpecifier, postError } from '../internal/thread-error.js';
import { installTable, kside } from './state.js';

interface Wd {
  table: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  name: string;
  comm: string;
  cpu: number;
  run: boolean;
  flags: number;
  /** kthread_init_worker: the loop does not run until kthread_worker_fn releases it. */
  hold?: boolean;
}
const wd = workerData as Wd;
const port = parentPort as MessagePort;
const ctl = new Int32Array(wd.ctl);
installTable(wd.table);
const tab = new Int32Array(wd.table);

type Entry = { id: number; gen: number; seq?: undefined } | { seq: number; stop: boolean };

interface Handle {
  work: kthread_work;
  key: string;
  timer: timer_list | null;
  tgen: number;
}

interface Fn {
  fn?: (work: kthread_work) => unknown;
  err?: unknown;
  loading?: Promise<void>;
}

const list: Entry[] = [];
const handles = new Map<number, Handle>();
const fns = new Map<string, Fn>();
/** Flush markers waiting for the end of the running execution (cancel of a running work). */
let afterRun: number[] = [];
let running = 0; // id of the work whose function runs, 0 between works
let runningWork: kthread_work | null = null;
let started = wd.run;
// A worker from kthread_init_worker: works are queued but nothing runs until kthread_worker_fn
// (a 'wake' with `fn`) starts the loop, as the kernel's queue fills before its thread exists.
let held = wd.hold === true;
let scheduled = false;
let busy = false; // an async work function or a first import is awaited
let stopped = false;

function post(m: K.FromWorker): void {
  port.postMessage(m);
}

function report(kind: 'threw' | 'load' | 'uncaught' | 'rejection', error: unknown, fn?: string): void {
  postError((m) => post(m as K.FromWorker), error, { t: 'err', kind, fn });
}

function handleFor(id: number, module: string, name: string, dw: boolean): Handle {
  const key = `${name} (${module})`;
  let h = handles.get(id);
  if (h !== undefined && h.key === key && (dworkOf(h.work) !== null) === dw) return h;
  if (h?.timer) timer_delete(h.timer);
  let work: kthread_work;
  if (dw) work = new kthread_delayed_work().work;
  else work = new kthread_work();
  setWorkId(work, id);
  work.func = Object.freeze({ module, name });
  setWorkerOf(work, self);
  h = { work, key, timer: null, tgen: 0 };
  handles.set(id, h);
  return h;
}

function kick(): void {
  if (!scheduled && started && !held && !busy && !stopped) {
    scheduled = true;
    setImmediate(step);
  }
}

function onTimer(h: Handle): void {
  // Softirq context on this thread (TIMER_IRQSAFE): the kernel's kthread_delayed_work_timer_fn.
  if (K.timerMayAppend(tab, workId(h.work), h.tgen)) {
    list.push({ id: workId(h.work), gen: h.tgen });
    kick();
  }
}

/** Append (exp undefined) or arm the timer of instance gen of a work this thread has a handle for. */
function enqueue(h: Handle, gen: number, exp: bigint | undefined): void {
  if (h.timer !== null && timer_pending(h.timer) === 1) timer_delete(h.timer); // an older instance's timer
  if (exp === undefined) {
    list.push({ id: workId(h.work), gen });
  } else {
    if (h.timer === null) {
      const t = new timer_list();
      timer_setup(t, () => onTimer(h), TIMER_IRQSAFE);
      h.timer = t;
    }
    h.tgen = gen;
    h.timer.expires = exp;
    add_timer(h.timer);
  }
  started = true;
  kick();
}

function handle(m: K.ToWorker): void {
  if (stopped) return;
  switch (m.t) {
    case 'q': {
      const h = handleFor(m.id, m.fn[0], m.fn[1], m.dw);
      h.work.data = m.data; // what the queueing thread set (undefined: none), never a recycled id's old data
      enqueue(h, m.gen, m.exp);
      return;
    }
    case 'wake':
      if (m.fn === true) {
        held = false;
        if (m.name !== undefined && m.comm !== undefined) {
          // kthread_run named the worker: its own view (work.worker on this thread) follows.
          Object.defineProperty(self, 'name', { value: m.name, enumerable: true, configurable: true, writable: false });
          Object.defineProperty(self, 'comm', { value: m.comm, enumerable: true, configurable: true, writable: false });
          nameThread(m.comm);
        }
      }
      started = true;
      kick();
      return;
    case 'flushw':
      list.push({ seq: m.seq, stop: false });
      started = true;
      kick();
      return;
    case 'stop':
      if (held) {
        // Destroyed before kthread_worker_fn ran: no loop to flush through. What was queued is
        // dropped and counted (the creator warns), as the kernel's destroy of a worker without
        // a task does nothing but WARN.
        stop(m.seq);
        return;
      }
      list.push({ seq: m.seq, stop: true });
      started = true;
      kick();
      return;
    case 'flush':
      flush(m.seq, m.id, m.gen, m.pending);
      return;
    case 'cancel': {
      const h = handles.get(m.id);
      if (h?.timer && timer_pending(h.timer) === 1 && !K.live(tab, m.id, h.tgen)) timer_delete(h.timer);
      if (running === m.id) afterRun.push(m.seq);
      else post({ t: 'done', seq: m.seq });
      return;
    }
  }
}

/**
 * kthread_flush_work: `gen`/`pending` are the work's state when the caller
 * asked (the caller's thread may have re-queued or cancelled it since). That
 * instance's list entry, stale or not, stays in the list until dequeued, so the
 * marker goes right after it, as the kernel inserts it after the work.
 */
function flush(seq: number, id: number, gen: number, pending: boolean): void {
  if (pending) {
    const i = list.findIndex((e) => e.seq === undefined && e.id === id && e.gen === gen);
    if (i >= 0) {
      list.splice(i + 1, 0, { seq, stop: false });
      started = true;
      kick();
      return;
    }
    const h = handles.get(id);
    if (h?.timer && timer_pending(h.timer) === 1 && h.tgen === gen) {
      post({
        t: 'done',
        seq,
        error: {
          code: 'ERR_KTIMERS_KTHREAD_FLUSH_TIMER',
          message: 'kthread_flush_work() on a delayed work whose timer is armed: the kernel would wait forever (flush after it was queued, or cancel it)',
        },
      });
      return;
    }
  }
  if (running === id) afterRun.push(seq); // the marker at the head: right after this execution
  else post({ t: 'done', seq });
}

function pump(): void {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) handle(m.message as K.ToWorker);
}

function load(h: Handle, f: Fn): Promise<void> {
  const { module, name } = h.work.func!;
  f.loading ??= (async () => {
    try {
      const ns = (await import(moduleSpecifier(String(module)))) as Record<string, unknown>;
      const fn = ns[name];
      if (typeof fn !== 'function') {
        const e = new TypeError(`module ${String(module)} has no exported function ${JSON.stringify(name)} (got ${typeof fn})`);
        (e as { code?: string }).code = 'ERR_KTIMERS_WORK_NOT_FUNCTION';
        f.err = e;
      } else f.fn = fn as (work: kthread_work) => unknown;
    } catch (e) {
      f.err = e;
    }
  })();
  return f.loading;
}

function finish(h: Handle, error: unknown, threw: boolean): void {
  running = 0;
  runningWork = null;
  Atomics.store(ctl, K.T_CURRENT, 0);
  Atomics.and(tab, workId(h.work), ~K.K_RUNNING);
  if (threw) report('threw', error, h.key);
  const a = afterRun;
  afterRun = [];
  for (const seq of a) post({ t: 'done', seq });
  busy = false;
  kick();
}

function call(h: Handle, f: Fn): void {
  if (f.err !== undefined) {
    report('load', f.err, h.key);
    finish(h, undefined, false);
    return;
  }
  let r: unknown;
  try {
    r = f.fn!(h.work);
  } catch (e) {
    finish(h, e, true);
    return;
  }
  if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
    busy = true;
    Promise.resolve(r).then(
      () => finish(h, undefined, false),
      (e: unknown) => finish(h, e, true),
    );
    return;
  }
  finish(h, undefined, false);
}

function stop(seq: number): void {
  stopped = true;
  let delayed = 0;
  let pending = 0;
  for (const h of handles.values()) {
    if (h.timer !== null && timer_pending(h.timer) === 1) {
      timer_delete(h.timer);
      if (K.live(tab, workId(h.work), h.tgen)) {
        delayed++;
        K.drop(tab, workId(h.work), h.tgen);
      }
    }
  }
  for (const e of list) {
    if (e.seq !== undefined) {
      post({ t: 'done', seq: e.seq });
    } else if (K.live(tab, e.id, e.gen)) {
      pending++;
      K.drop(tab, e.id, e.gen);
    }
  }
  list.length = 0;
  post({ t: 'stopped', seq, delayed, pending });
}

/** One round of kthread_worker_fn: take the first live entry and run it. */
function step(): void {
  scheduled = false;
  pump();
  if (busy || stopped) return;
  for (;;) {
    const e = list.shift();
    if (e === undefined) return;
    if (e.seq !== undefined) {
      if (e.stop) {
        stop(e.seq);
        return;
      }
      post({ t: 'done', seq: e.seq });
      continue;
    }
    if (!K.claim(tab, e.id, e.gen)) continue; // cancelled or re-queued since: stale
    const h = handles.get(e.id)!;
    running = e.id;
    runningWork = h.work;
    Atomics.store(ctl, K.T_CURRENT, e.id + 1);
    const f = fns.get(h.key) ?? (fns.set(h.key, {}), fns.get(h.key)!);
    if (f.fn === undefined && f.err === undefined) {
      busy = true;
      void load(h, f).then(() => call(h, f));
    } else call(h, f);
    return;
  }
}

const self: kthread_worker = _localWorker(wd.flags, wd.name, wd.cpu, ctl, {
  queue(id, gen, exp) {
    pump(); // requests posted before this call go first
    const h = handles.get(id);
    if (h === undefined) throw new Error(`kthread_work ${id} is unknown to this worker`);
    enqueue(h, gen, exp);
  },
  current: () => runningWork,
  get self() {
    return self;
  },
});
kside.local = stateOf(self).local;

process.on('uncaughtException', (e) => report('uncaught', e));
process.on('unhandledRejection', (e) => report('rejection', e));

function nameThread(comm: string): void {
  try {
    writeFileSync(`/proc/self/task/${gettid()}/comm`, comm);
  } catch {
    // a name is cosmetic: /proc may be mounted read-only
  }
}

function start(): void {
  const tid = gettid();
  try {
    // As the kernel's kthread(): do not inherit the creator's policy.
    sched_setscheduler(0, SCHED_OTHER, 0);
  } catch {
    // lowering one's own policy is always allowed; nothing to report
  }
  if (wd.cpu >= 0) {
    try {
      sched_setaffinity(0, [wd.cpu]);
    } catch (e) {
      Atomics.store(ctl, K.T_STATE, -((e as { errno?: number }).errno ?? 22));
      Atomics.notify(ctl, K.T_STATE);
      process.exit(0);
    }
  }
  nameThread(wd.comm);
  Atomics.store(ctl, K.T_TID, tid);
  setTask(self, tid);
  Atomics.store(ctl, K.T_STATE, 1);
  Atomics.notify(ctl, K.T_STATE);
}

port.on('message', (m: K.ToWorker) => {
  handle(m);
});
start();
