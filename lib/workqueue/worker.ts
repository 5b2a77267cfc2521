/**
 * A workqueue pool worker (a worker_thread; kernel: a kworker).
 *
 * Loop: take an item (a data message announced by O_DIRECT first, claimed by
 * a CAS on its claim word, dropped when the main thread took it back for
 * another worker; else an entry of the pool's shared ring, claimed by CAS), start it with one CAS on
 * its state word (ARMED|PENDING -> RUNNING: a cancelled entry is skipped),
 * import its function on first use, call it (awaiting it if it returns a
 * promise), clear RUNNING, append a record for the main thread and ring the
 * doorbell. With nothing to do it spins briefly (a burst usually continues),
 * asks for items with data if some wait unstarted (R_WANT: from the pool's
 * backlog, or taken back from a busy worker), then sleeps in Atomics.wait on
 * the pool's eventcount.
 *
 * While it sleeps its event loop is blocked: a work function must await what
 * it starts (as a kernel work function returns only when done). The loop is
 * let turn once before each sleep, so that what Node does only between turns
 * (reporting an unhandled rejection) happens on every Node version.
 * Work functions run in task context: in_task() is true here.
 * @internal
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import * as S from '../internal/wq-shared.js';
import { moduleSpecifier, postError } from '../internal/thread-error.js';
import { wside } from '../internal/wq-ctx.js';
import { remoteWork } from './work.js';
import { gettid, sched_setaffinity, setpriority } from '../sched.js';

interface Wd {
  items: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  pool: SharedArrayBuffer;
  out: SharedArrayBuffer;
  port: MessagePort;
  fns: [number, string, string][];
  cpu: number;
  highpri: boolean;
}
const wd = workerData as Wd;
const items = new Int32Array(wd.items);
const ctl = new Int32Array(wd.ctl);
const pool = new Int32Array(wd.pool);
const out = new Int32Array(wd.out);
const port = wd.port;

interface Fn {
  module: string;
  name: string;
  fn?: (work: unknown) => unknown;
  err?: unknown;
}
const fns = new Map<number, Fn>();
for (const [id, module, name] of wd.fns) fns.set(id, { module, name });
/** Item messages received, not yet claimed: s is the message's sequence number (its claim word). */
const direct: { id: number; fw: number; data: unknown; s: number }[] = [];

/** Spin this many ring checks before sleeping: a burst of items usually continues. */
const SPIN = 2000;

function handle(m: { t: string; id: number; module?: string; name?: string; fw?: number; data?: unknown; s?: number }): void {
  if (m.t === 'fn') fns.set(m.id, { module: m.module!, name: m.name! });
  else if (m.t === 'item') {
    direct.push({ id: m.id, fw: m.fw!, data: m.data, s: m.s! });
    Atomics.sub(out, S.O_DIRECT, 1);
  }
}

function pump(): void {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) handle(m.message);
}

let tail = 0;
function record(type: number, item: number, a = 0, b = 0, c = 0): void {
  while (tail - Atomics.load(out, S.O_HEAD) >= S.OUT_CAP) {
    // Full (the main thread is busy): wait for it to reap. 1 ms steps.
    Atomics.wait(out, S.O_HEAD, Atomics.load(out, S.O_HEAD), 1);
  }
  const base = S.O_RECORDS + (tail & (S.OUT_CAP - 1)) * S.REC_WORDS;
  out[base] = type;
  out[base + 1] = item;
  out[base + 2] = a;
  out[base + 3] = b;
  out[base + 4] = c;
  Atomics.store(out, S.O_TAIL, ++tail);
  if (Atomics.compareExchange(ctl, S.C_DOORBELL, 0, 1) === 0) Atomics.notify(ctl, S.C_DOORBELL);
}

function warn(code: string, message: string): void {
  port.postMessage({ code, message });
  record(S.R_WARN, 0);
}

/** Posts an error with its own primitive properties (see thread-error.ts). */
function postErr(error: unknown, extra: object): void {
  postError((m) => port.postMessage(m), error, extra);
}

function fail(id: number, fnId: number, error: unknown, kind: 'threw' | 'load'): void {
  postErr(error, { kind, fnId });
  record(S.R_FAIL, id, fnId);
}

async function load(f: Fn): Promise<void> {
  try {
    const ns = (await import(moduleSpecifier(f.module))) as Record<string, unknown>;
    const fn = ns[f.name];
    if (typeof fn !== 'function') {
      const e = new TypeError(`module ${f.module} has no exported function ${JSON.stringify(f.name)} (got ${typeof fn})`);
      (e as { code?: string }).code = 'ERR_KTIMERS_WORK_NOT_FUNCTION';
      f.err = e;
    } else f.fn = fn as (work: unknown) => unknown;
  } catch (e) {
    f.err = e;
  }
}

function fnFor(fnId: number): Fn {
  let f = fns.get(fnId);
  if (f === undefined) {
    pump(); // its registration was posted before the entry was written
    f = fns.get(fnId);
  }
  return f!;
}

function finish(id: number, fnId: number, err: unknown, threw: boolean): void {
  wside.worker!.current = null;
  Atomics.store(out, S.O_CURRENT, 0);
  Atomics.and(items, id, ~S.W_RUNNING);
  if (threw) fail(id, fnId, err, 'threw');
  else record(S.R_DONE, id);
}

/** Runs one item. Returns a promise only when it must wait (first import, async function). */
function run(id: number, fw: number, data: unknown): Promise<void> | undefined {
  for (;;) {
    const o = Atomics.load(items, id);
    if (!(o & S.W_ARMED)) {
      record(S.R_SKIP, id);
      return undefined;
    }
    if (Atomics.compareExchange(items, id, o, (o & ~(S.W_PENDING | S.W_ARMED)) | S.W_RUNNING) === o) break;
  }
  const fnId = fw & S.E_FN_MASK;
  const f = fnFor(fnId);
  if (f.fn === undefined && f.err === undefined) return load(f).then(() => call(id, fw, fnId, f, data));
  return call(id, fw, fnId, f, data);
}

function call(id: number, fw: number, fnId: number, f: Fn, data: unknown): Promise<void> | undefined {
  if (f.err !== undefined) {
    wside.worker!.current = null;
    Atomics.and(items, id, ~S.W_RUNNING);
    fail(id, fnId, f.err, 'load');
    return undefined;
  }
  const work = remoteWork(id, (fw & S.E_DELAYED) !== 0, data);
  wside.worker!.current = work;
  Atomics.store(out, S.O_CURRENT, id + 1);
  Atomics.add(out, S.O_RUNS, 1);
  let r: unknown;
  try {
    r = f.fn!(work);
  } catch (e) {
    finish(id, fnId, e, true);
    return undefined;
  }
  if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
    return Promise.resolve(r as Promise<unknown>).then(
      () => finish(id, fnId, undefined, false),
      (e: unknown) => finish(id, fnId, e, true),
    );
  }
  finish(id, fnId, undefined, false);
  return undefined;
}

let popId = 0;
let popFw = 0;
function pop(): boolean {
  for (;;) {
    const h = Atomics.load(pool, S.P_HEAD);
    if (h === Atomics.load(pool, S.P_TAIL)) return false;
    const base = S.P_RING + (h & S.RING_MASK) * 2;
    const id = pool[base]!;
    const fw = pool[base + 1]!;
    if (Atomics.compareExchange(pool, S.P_HEAD, h, h + 1) === h) {
      popId = id;
      popFw = fw;
      return true;
    }
  }
}

function idle(): boolean {
  return Atomics.load(pool, S.P_HEAD) === Atomics.load(pool, S.P_TAIL) && Atomics.load(out, S.O_DIRECT) === 0;
}

function setup(): void {
  Atomics.store(out, S.O_TID, gettid());
  if (wd.highpri) {
    try {
      setpriority(0, -20); // HIGHPRI_NICE_LEVEL = MIN_NICE
    } catch (e) {
      warn('KTIMERS_WARN_WQ_HIGHPRI', `WQ_HIGHPRI workers run at normal priority: ${(e as Error).message}`);
    }
  }
  if (wd.cpu >= 0) {
    try {
      sched_setaffinity(0, [wd.cpu]);
    } catch (e) {
      warn('KTIMERS_WARN_WQ_AFFINITY', `per-CPU workers of CPU ${wd.cpu} run unpinned: ${(e as Error).message}`);
    }
  }
}

async function main(): Promise<void> {
  // A promise a work function left rejected with no handler. Node would end this
  // thread at its next turn of the event loop, usually while it runs a later,
  // innocent item (reported as ERR_KTIMERS_WORKER_EXIT and never run), and hand
  // the main thread the bare rejection. It is reported instead, coded, through the
  // main thread's usual error path, and the worker carries on. (Which item left it
  // cannot be known: it surfaces only when this thread's event loop turns.)
  process.on('unhandledRejection', (reason) => {
    postErr(reason, {});
    record(S.R_REJECTION, 0);
  });
  wside.worker = {
    current: null,
    state: (id) => Atomics.load(items, id),
    queue(id, wqId, cpu, delay) {
      for (;;) {
        const o = Atomics.load(items, id);
        if (o & S.W_PENDING || o >>> S.W_DISABLE_SHIFT) return false;
        if (Atomics.compareExchange(items, id, o, o | S.W_PENDING | S.W_XQUEUED) === o) break;
      }
      const cur = Atomics.load(out, S.O_CURRENT);
      if (delay === null) record(S.R_QUEUE, id, wqId, cpu, cur);
      else {
        port.postMessage({ delay });
        record(S.R_QUEUE_DELAYED, id, wqId, cpu, cur);
      }
      return true;
    },
  };
  setup();
  let turned = false;
  for (;;) {
    if (Atomics.load(out, S.O_DIRECT) > 0) pump();
    if (direct.length > 0) {
      const m = direct.shift()!;
      // Claimed only now, when it is about to run: until here the main thread could
      // take it back for an idle worker (then it is not ours: drop it).
      const won = Atomics.compareExchange(out, S.O_CLAIMS + (m.s & S.CLAIM_MASK), S.D_LIVE, S.D_TAKEN) === S.D_LIVE;
      Atomics.store(out, S.O_DSEEN, (m.s + 1) | 0);
      if (!won) continue;
      Atomics.sub(pool, S.P_DATA_WAITING, 1);
      turned = false; // what this item leaves is reported at the turn before the next sleep
      const p = run(m.id, m.fw, m.data);
      if (p !== undefined) await p;
      continue;
    }
    if (pop()) {
      turned = false;
      const p = run(popId, popFw, undefined);
      if (p !== undefined) await p;
      continue;
    }
    for (let i = 0; i < SPIN && idle(); i++);
    if (!idle()) continue;
    if (Atomics.load(pool, S.P_STOP) !== 0) break;
    // Before each sleep the event loop turns once. Node reports unhandled
    // rejections (and runs what else waits for a turn) only when it does, and
    // nothing else here guarantees one: since Node 22 an `await import()` of a
    // module already loaded settles within the same turn, so a thread that
    // goes from work to Atomics.wait and back never turns it.
    if (!turned) {
      turned = true;
      await new Promise<void>((r) => setImmediate(r));
      continue;
    }
    turned = false;
    const seen = Atomics.load(pool, S.P_SEQ);
    Atomics.add(pool, S.P_SLEEPERS, 1);
    // Items with data wait unstarted (in the backlog, or held by a busy worker): ask for some (once per sleep).
    if (Atomics.load(pool, S.P_DATA_WAITING) > 0) record(S.R_WANT, 0);
    if (idle()) Atomics.wait(pool, S.P_SEQ, seen);
    Atomics.sub(pool, S.P_SLEEPERS, 1);
  }
}

void main();
