/**
 * The workqueue's worker pools, main-thread side: rings, wake-ups, the stall
 * check, completions. The semantics (PENDING, max_active, ordering, flush
 * colours, cancel) live in lib/workqueue/; this file only moves item ids to
 * worker threads and completion records back. Layouts and the lock-free
 * protocols are described in wq-shared.ts; the item table and keep-alive are
 * wq-items.ts's, one worker thread's record wq-thread.ts's.
 *
 * Why this design (bench/workqueue.js measures it; docs/performance.md has the figures):
 * - A postMessage per item costs a structured clone and a uv_async wake-up on
 *   each side, which is what bounds a pool built that way (piscina). Here a
 *   data-less item is two Int32 writes into a shared ring and, only when a
 *   worker sleeps, one Atomics.notify. Workers claim entries with a CAS and
 *   run them back to back without touching the main thread.
 * - Completions come back in batches: a worker appends a record to its own
 *   SPSC ring and rings a doorbell only on its 0 -> 1 transition; the main
 *   thread wakes once through Atomics.waitAsync and reaps every record of every
 *   worker. The main thread also reaps synchronously when a queue reaches
 *   max_active, so a tight queue_work loop never stalls on the event loop.
 * - An item with `data` goes as one message to one worker (structured clone
 *   keeps SharedArrayBuffers shared, which v8.serialize into a byte ring could
 *   not, and costs less than v8.serialize + deserialize of a small object),
 *   announced by a per-worker counter; the worker takes it with
 *   receiveMessageOnPort. With no worker idle it waits in the pool's backlog
 *   here and workers that run dry ask for a batch (R_WANT). A message is only
 *   an offer: the worker claims the item (a CAS on the message's claim word,
 *   wq-shared.ts O_CLAIMS) when it is about to run it, and until then this
 *   thread can take it back and post it to another worker. A worker that runs
 *   dry with the backlog empty gets half of what a busy worker holds unstarted,
 *   and the stall check (every STALL_MS) hands waiting items to idle workers
 *   and grows the pool, counting items held by busy workers as waiting. Without
 *   that, a batch handed to a worker that then blocked waited behind it while
 *   other workers idled (test/workqueue-data.test.ts).
 * - No thread exists until the first item is dispatched to a pool. A pool
 *   starts workers one at a time up to its base size (unbound: one per CPU;
 *   per-CPU: one) while entries wait and no worker sleeps, and beyond that, up
 *   to STALL_CAP, when every worker has been on one item for STALL_MS (the
 *   kernel's concurrency management seen from outside). Idle workers are
 *   unref'd: only outstanding work keeps the process alive (wq-items.ts
 *   holdRef). A worker that exits mid-item has the items it started reported
 *   (ERR_KTIMERS_WORKER_EXIT); items with data it held unstarted go to the
 *   other workers.
 *
 * Ownership: every field here is J: (JS main thread only) except the SABs,
 * which follow the protocols of wq-shared.ts (A: atomics only).
 * @internal
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import * as S from './wq-shared.js';
import { reportError } from './virtual.js';
import { control, itemTable, sharedBuffers } from './wq-items.js';
import { busy, idle, newPoolWorker, prune, unseen, type Held, type WorkerRec } from './wq-thread.js';

export interface FnRef {
  module: string;
  name: string;
}

/** What the workqueue layer does with records (set once by lib/workqueue/records.ts). */
export interface RecordSink {
  (type: number, item: number, a: number, b: number, c: number, msg: unknown): void;
}

let sink: RecordSink | null = null;
export function setRecordSink(s: RecordSink): void {
  sink = s;
}

// --- function registry -------------------------------------------------------------

const fnTable: FnRef[] = [];
const fnIds = new Map<string, number>();

/** Interns a work function reference; new ones are announced to every worker. */
export function fnId(ref: FnRef): number {
  const key = `${ref.name}\0${ref.module}`;
  let id = fnIds.get(key);
  if (id === undefined) {
    id = fnTable.length;
    fnTable.push(ref);
    fnIds.set(key, id);
    for (const p of pools.values()) for (const w of p.workers) w.port.postMessage({ t: 'fn', id, module: ref.module, name: ref.name });
  }
  return id;
}

export function fnRef(id: number): FnRef | undefined {
  return fnTable[id];
}

// --- pools ------------------------------------------------------------------------

export class Pool {
  /** J: */ readonly workers: WorkerRec[] = [];
  readonly ctl: Int32Array;
  /** J: tail, a local copy (the main thread is the only producer) */
  tail = 0;
  /** J: entries dispatched and not yet reported back (DONE/SKIP/FAIL) */
  inflight = 0;
  #rr = 0;
  #starting = 0;
  /** J: O_RUNS of each worker at the last stall check */
  #seen: number[] = [];
  /** J: workers allowed now: maxWorkers, plus one per stall found (up to STALL_CAP) */
  #limit: number;

  constructor(
    readonly cpu: number,
    readonly highpri: boolean,
    readonly maxWorkers: number,
  ) {
    this.#limit = maxWorkers;
    this.ctl = new Int32Array(new SharedArrayBuffer((S.P_RING + 2 * S.RING_CAP) * 4));
  }

  /** Free ring entries. */
  space(): number {
    return S.RING_CAP - (this.tail - Atomics.load(this.ctl, S.P_HEAD));
  }

  /** Writes one entry; the caller checked space(). Wakes a sleeper if any. */
  push(id: number, fw: number): void {
    const c = this.ctl;
    const base = S.P_RING + (this.tail & S.RING_MASK) * 2;
    c[base] = id;
    c[base + 1] = fw;
    Atomics.store(c, S.P_TAIL, ++this.tail);
    this.inflight++;
    if (Atomics.load(c, S.P_SLEEPERS) > 0) {
      Atomics.add(c, S.P_SEQ, 1);
      Atomics.notify(c, S.P_SEQ, 1);
    } else if (this.workers.length < this.#limit && this.#starting === 0) {
      this.#spawn();
    } else {
      watchStalls();
    }
    armDoorbell(); // after the wake-up: the worker starts while we set up the completion wait
  }

  /** J: items with data waiting for a worker to ask for them (R_WANT), FIFO from #dblHead */
  #dbl: { id: number; fw: number; data: unknown }[] = [];
  #dblHead = 0;

  /**
   * An item with data: to an idle worker at once; with none idle, into the
   * pool's data backlog, which workers pull from when they run dry (R_WANT).
   * Either way it is only offered to a worker until that worker starts it
   * (see want() and checkStall()). Throws (DataCloneError) only when sent at once.
   */
  pushDirect(id: number, fw: number, data: unknown): void {
    if (this.workers.length === 0) this.#spawn();
    let w: WorkerRec | undefined;
    if (this.#dbl.length === this.#dblHead) {
      for (let i = 0; i < this.workers.length; i++) {
        const c = this.workers[(this.#rr + i) % this.workers.length]!;
        if (idle(c)) {
          w = c;
          this.#rr++;
          break;
        }
      }
    }
    Atomics.add(this.ctl, S.P_DATA_WAITING, 1);
    if (w !== undefined) {
      try {
        this.#send(w, id, fw, data);
      } catch (e) {
        Atomics.sub(this.ctl, S.P_DATA_WAITING, 1);
        throw e;
      }
      this.inflight++;
    } else {
      this.#dbl.push({ id, fw, data });
      this.inflight++;
      if (this.workers.length < this.#limit && this.#starting === 0) this.#spawn();
    }
    // Held items and the backlog are watched: a worker that blocks must not strand them.
    watchStalls();
    armDoorbell();
    // Every sleeper wakes: the one an item is meant for takes it, the others may ask for the backlog.
    Atomics.add(this.ctl, S.P_SEQ, 1);
    Atomics.notify(this.ctl, S.P_SEQ);
  }

  /**
   * Offers an item to `w`: its claim word goes live before the message is
   * posted (the worker may read the message at once). Throws DataCloneError
   * with nothing changed (the worker never sees that sequence number).
   */
  #send(w: WorkerRec, id: number, fw: number, data: unknown): void {
    const s = w.sent;
    Atomics.store(w.out, S.O_CLAIMS + (s & S.CLAIM_MASK), S.D_LIVE);
    w.port.postMessage({ t: 'item', id, fw, data, s });
    w.sent = (s + 1) | 0;
    w.held.push({ s, id, fw, data });
    w.direct.add(id);
    Atomics.add(w.out, S.O_DIRECT, 1);
  }

  /** Sends or, not cloneable (found only now that it is sent), reports the item like a failed one. */
  #offer(w: WorkerRec, it: { id: number; fw: number; data: unknown }): boolean {
    try {
      this.#send(w, it.id, it.fw, it.data);
      return true;
    } catch (error) {
      Atomics.and(itemTable(), it.id, ~(S.W_ARMED | S.W_PENDING));
      Atomics.sub(this.ctl, S.P_DATA_WAITING, 1);
      this.inflight--;
      sink!(S.R_FAIL, it.id, 0, 0, 0, { error, kind: 'data' });
      return false;
    }
  }

  /**
   * A worker ran dry and asks for items with data (R_WANT; the stall check also
   * calls this for idle workers): a batch from the backlog or, with the backlog
   * empty, half of what the busy worker holding most has not started (the
   * oldest first), taken back from it. Returns how many it was given.
   */
  want(w: WorkerRec): number {
    if (!this.workers.includes(w)) return 0;
    let n = 0;
    while (this.#dblHead < this.#dbl.length && n < WANT_BATCH && unseen(w) < S.CLAIM_CAP) {
      const it = this.#dbl[this.#dblHead]!;
      this.#dbl[this.#dblHead++] = undefined as never;
      if (this.#offer(w, it)) n++;
    }
    if (this.#dblHead === this.#dbl.length) {
      this.#dbl.length = 0;
      this.#dblHead = 0;
    }
    if (n === 0) n = this.#steal(w);
    if (n > 0) {
      Atomics.add(this.ctl, S.P_SEQ, 1);
      Atomics.notify(this.ctl, S.P_SEQ);
    }
    return n;
  }

  /** Takes back up to half (rounded up) of the unstarted items of the busy worker holding most, for `to`. */
  #steal(to: WorkerRec): number {
    let v: WorkerRec | undefined;
    let most = 0;
    for (const c of this.workers) {
      if (c === to || !busy(c)) continue;
      prune(c);
      const k = c.held.length - c.heldHead;
      if (k > most) {
        most = k;
        v = c;
      }
    }
    if (v === undefined) return 0;
    const want = Math.min(Math.ceil(most / 2), WANT_BATCH, S.CLAIM_CAP - unseen(to));
    const got: Held[] = [];
    const h = v.held;
    for (let i = v.heldHead; i < h.length && got.length < want; i++) {
      const e = h[i]!;
      // Fails only for the one the worker is claiming right now (it claims in order).
      if (Atomics.compareExchange(v.out, S.O_CLAIMS + (e.s & S.CLAIM_MASK), S.D_LIVE, S.D_STOLEN) === S.D_LIVE) got.push(e);
    }
    if (got.length === 0) return 0;
    const taken = new Set(got);
    v.held = h.slice(v.heldHead).filter((e) => !taken.has(e!));
    v.heldHead = 0;
    let n = 0;
    for (const e of got) {
      v.direct.delete(e.id);
      if (this.#offer(to, e)) n++;
    }
    return n;
  }

  #spawn(): WorkerRec {
    const { items: itemsSab, ctl: ctlSab } = sharedBuffers();
    const { port1, port2 } = new MessageChannel();
    const outSab = new SharedArrayBuffer(S.O_WORDS * 4);
    const w = newPoolWorker({
      workerData: {
        items: itemsSab,
        ctl: ctlSab,
        pool: this.ctl.buffer,
        out: outSab,
        port: port2,
        fns: fnTable.map((f, id) => [id, f.module, f.name]),
        cpu: this.cpu,
        highpri: this.highpri,
      },
      transferList: [port2],
    } as ConstructorParameters<typeof Worker>[1]);
    const rec: WorkerRec = { w, out: new Int32Array(outSab), port: port1, online: false, direct: new Set(), sent: 0, held: [], heldHead: 0 };
    this.#starting++;
    w.once('online', () => {
      rec.online = true;
      this.#starting--;
    });
    w.on('error', (err) => {
      // Not a work function's exception (those are caught and reported per item,
      // and a rejection nobody handled is reported as ERR_KTIMERS_WORK_UNHANDLED_REJECTION):
      // something the worker could not survive.
      process.nextTick(() => {
        throw err;
      });
    });
    w.once('exit', (code) => this.#lost(rec, code));
    w.unref();
    port1.unref();
    this.workers.push(rec);
    return rec;
  }

  /** Items with data waiting for a worker: the backlog, plus what busy workers hold unstarted. */
  #stranded(): number {
    let n = this.#dbl.length - this.#dblHead;
    for (const w of this.workers) {
      prune(w);
      if (busy(w)) n += w.held.length - w.heldHead;
    }
    return n;
  }

  /**
   * The kernel's concurrency management, approximated. Items with data that
   * wait (in the backlog, or held unstarted by a busy worker) go to idle
   * workers. Then, while entries wait in the ring or items with data wait: the
   * pool starts workers up to its base size when none is idle, and beyond it
   * when every worker has been on the same item since the last check (≥ STALL_MS,
   * the kernel's wq_cpu_intensive_thresh_us: blocked, or CPU-bound long enough to
   * be treated as CPU-intensive); a new worker is pinned like the others and,
   * once up, asks for what waits. Returns whether anything still waits.
   */
  checkStall(): boolean {
    let stranded = this.#stranded();
    if (stranded > 0) {
      for (const w of this.workers) {
        if (w.online && idle(w) && this.want(w) > 0) stranded = this.#stranded();
        if (stranded === 0) break;
      }
    }
    const ring = Atomics.load(this.ctl, S.P_TAIL) !== Atomics.load(this.ctl, S.P_HEAD);
    if (!ring && stranded === 0) {
      this.#seen.length = 0;
      // Items offered to workers that have not reached them yet: keep watching.
      return Atomics.load(this.ctl, S.P_DATA_WAITING) > 0;
    }
    let stuck = this.workers.length > 0 && this.#starting === 0;
    let anyIdle = false;
    for (let i = 0; i < this.workers.length; i++) {
      const w = this.workers[i]!;
      const runs = Atomics.load(w.out, S.O_RUNS);
      if (Atomics.load(w.out, S.O_CURRENT) === 0 || this.#seen[i] !== runs) stuck = false;
      if (idle(w)) anyIdle = true;
      this.#seen[i] = runs;
    }
    if (this.#starting === 0 && !anyIdle && this.workers.length < this.#limit) this.#spawn();
    else if (stuck && this.workers.length < STALL_CAP) {
      this.#limit = Math.max(this.#limit, this.workers.length + 1);
      this.#spawn();
    }
    return true;
  }

  /**
   * A worker exited (a work function called process.exit, or the worker died):
   * what it had started is reported as failed, never silently dropped; items
   * with data it held unstarted go back to the front of the backlog, for the
   * other workers. The pool starts a new worker at the next dispatch or stall check.
   */
  #lost(rec: WorkerRec, code: number): void {
    if (!rec.online) this.#starting--;
    const i = this.workers.indexOf(rec);
    if (i < 0) return;
    reap(); // what it reported before dying
    this.workers.splice(i, 1);
    this.#seen.length = 0;
    const back: { id: number; fw: number; data: unknown }[] = [];
    for (let j = rec.heldHead; j < rec.held.length; j++) {
      const e = rec.held[j]!;
      if (Atomics.compareExchange(rec.out, S.O_CLAIMS + (e.s & S.CLAIM_MASK), S.D_LIVE, S.D_STOLEN) === S.D_LIVE) {
        rec.direct.delete(e.id);
        back.push({ id: e.id, fw: e.fw, data: e.data });
      }
    }
    rec.held = [];
    if (back.length > 0) {
      this.#dbl.splice(this.#dblHead, 0, ...back);
      watchStalls();
      Atomics.add(this.ctl, S.P_SEQ, 1);
      Atomics.notify(this.ctl, S.P_SEQ);
    }
    const lost = new Set(rec.direct);
    const cur = Atomics.load(rec.out, S.O_CURRENT);
    if (cur > 0) lost.add(cur - 1);
    const t = itemTable();
    for (const id of lost) {
      Atomics.and(t, id, ~(S.W_RUNNING | S.W_ARMED | S.W_PENDING));
      this.inflight--;
      const error = new Error(`its worker thread exited (code ${code}) before the item finished`);
      sink!(S.R_FAIL, id, 0, 0, 0, { error, kind: 'exit' });
    }
  }
}

/** How long every worker of a pool must be on one item before another starts (kernel: 10 ms). */
const STALL_MS = 10;
/** Most workers a pool grows to. Grown workers stay (idle, unref'd) until the process exits. */
const STALL_CAP = 32;
/** Backlog items handed to a worker per R_WANT: enough to keep it busy until its next request is served. */
const WANT_BATCH = 64;
let stallTimer: NodeJS.Timeout | null = null;

function watchStalls(): void {
  if (stallTimer !== null) return;
  stallTimer = setInterval(() => {
    let any = false;
    for (const p of pools.values()) if (p.checkStall()) any = true;
    if (!any) {
      clearInterval(stallTimer!);
      stallTimer = null;
    }
  }, STALL_MS);
  stallTimer.unref(); // outstanding work already keeps the process alive
}

const pools = new Map<string, Pool>();

/** Unbound pools hold one worker per CPU by default (KTIMERS_WQ_THREADS overrides). */
export function unboundThreads(): number {
  const env = Number(process.env.KTIMERS_WQ_THREADS);
  return Number.isInteger(env) && env > 0 && env <= 1024 ? env : availableParallelism();
}

/** By (cpu + 1) * 2 + highpri: the queueing hot path looks pools up without building keys. */
const poolIndex: (Pool | undefined)[] = [];

/** The pool for (cpu, highpri); cpu -1 = unbound. Created on first use, without threads. */
export function pool(cpu: number, highpri: boolean): Pool {
  const i = (cpu + 1) * 2 + (highpri ? 1 : 0);
  let p = poolIndex[i];
  if (p === undefined) {
    p = new Pool(cpu, highpri, cpu < 0 ? unboundThreads() : 1);
    pools.set(`${cpu}:${highpri ? 'H' : 'N'}`, p);
    poolIndex[i] = p;
  }
  return p;
}

/** @internal tests: every pool's worker thread ids (known once the worker started). */
export function poolThreads(): { cpu: number; highpri: boolean; tids: number[] }[] {
  return [...pools.values()].map((p) => ({
    cpu: p.cpu,
    highpri: p.highpri,
    tids: p.workers.map((w) => Atomics.load(w.out, S.O_TID)),
  }));
}

export function poolCount(): number {
  let n = 0;
  for (const p of pools.values()) n += p.workers.length;
  return n;
}

// --- completions -------------------------------------------------------------------

let waiting = false;

/**
 * Arms one Atomics.waitAsync on the doorbell. Armed while any worker lives, not
 * only while items are in flight: a worker reports a promise its work left
 * rejected only when its event loop turns, after the item's completion record,
 * so the report can come when nothing is in flight any more, and it must reach
 * the main thread then, not at the next item. A pending waitAsync does not keep
 * the process alive (outstanding work does: wq-items.ts).
 */
function armDoorbell(): void {
  const ctl = control();
  if (waiting || ctl === null) return;
  waiting = true;
  // Atomics.waitAsync is in Node >= 16 (V8), not yet in TypeScript's ES2022 lib.
  const r = (Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<unknown> | string };
  }).waitAsync(ctl, S.C_DOORBELL, 0);
  if (r.async) (r.value as Promise<unknown>).then(onDoorbell, onDoorbell);
  // Rung already: reap from a macrotask, not a microtask, so a steady stream of
  // completions cannot keep the main thread in a microtask loop (timers must run).
  else setImmediate(onDoorbell);
}

function onDoorbell(): void {
  waiting = false;
  reap();
  let any = false;
  for (const p of pools.values()) if (p.inflight > 0 || p.workers.length > 0) any = true;
  if (any) armDoorbell();
}

/**
 * Processes every record of every worker, in each worker's order. Safe to call
 * any time on the main thread (the workqueue layer calls it when a queue hits
 * max_active and before flushes).
 */
let reaping = false;
export function reap(): void {
  if (control() === null || reaping) return;
  reaping = true;
  try {
    reapAll();
  } finally {
    reaping = false;
  }
}

function reapAll(): void {
  Atomics.store(control()!, S.C_DOORBELL, 0);
  for (const p of pools.values()) {
    for (const w of p.workers) {
      const out = w.out;
      let h = out[S.O_HEAD]!;
      const t = Atomics.load(out, S.O_TAIL);
      if (h === t) continue;
      for (; h !== t; h++) {
        const base = S.O_RECORDS + (h & (S.OUT_CAP - 1)) * S.REC_WORDS;
        const type = out[base]!;
        if (type === S.R_WANT) {
          Atomics.store(out, S.O_HEAD, h + 1);
          p.want(w);
          continue;
        }
        let msg: unknown;
        if (type === S.R_FAIL || type === S.R_QUEUE_DELAYED || type === S.R_WARN || type === S.R_REJECTION) {
          msg = takeMessage(w.port);
        }
        if (type === S.R_DONE || type === S.R_SKIP || type === S.R_FAIL) {
          p.inflight--;
          if (w.direct.size > 0) w.direct.delete(out[base + 1]!);
        }
        // Free the record before handing it on: the sink may queue more work.
        Atomics.store(out, S.O_HEAD, h + 1);
        try {
          sink!(type, out[base + 1]!, out[base + 2]!, out[base + 3]!, out[base + 4]!, msg);
        } catch (e) {
          // e.g. a work function queueing itself on a queue that cannot run it: the
          // queueing already failed for it; the other records still get processed.
          reportError(e);
        }
      }
      Atomics.notify(out, S.O_HEAD);
      if (w.held.length > w.heldHead) prune(w); // let go of the data of items it claimed
    }
  }
}

/** True when some worker has records not reaped yet (cheap: two loads per worker). */
export function hasRecords(): boolean {
  for (const p of pools.values()) {
    for (const w of p.workers) if (w.out[S.O_HEAD] !== Atomics.load(w.out, S.O_TAIL)) return true;
  }
  return false;
}

function takeMessage(port: MessagePort): unknown {
  // The worker posts the payload before it writes the record: it is there.
  const m = receiveMessageOnPort(port);
  return m === undefined ? undefined : (m.message as unknown);
}
