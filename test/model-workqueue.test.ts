// Seeded, randomized, model-based test of the workqueue state machine.
//
// A reference model in plain TypeScript, written from the rules of
// kernel/workqueue.c (WORK_STRUCT_PENDING, queueing, flushing, cancelling and
// disabling, ordering), runs in lockstep with the real implementation on the virtual clock
// of ktimers/testing. Both get the same long random operation sequences:
// queue_work, queue_delayed_work, mod_delayed_work, cancel_work(_sync),
// cancel_delayed_work(_sync), flush_work, flush_delayed_work, flush_workqueue,
// disable_work(_sync), disable_delayed_work(_sync), enable_work,
// enable_delayed_work, enable_and_queue_work, work_pending / work_busy /
// delayed_work_pending probes, jiffies advances (delayed works' timers fire at
// their exact jiffy). Every return value, every work item's pending state,
// every delayed work's timer_pending and expires are compared after each
// operation, and the order in which work functions run.
//
// What is deterministic, and so what is compared:
//  - WQ_BH queues (two of them): work runs on this thread, at the next turn of
//    the event loop, in one FIFO across the BH queues (kernel: the CPU's BH pool
//    runs its worklist in queueing order). The model runs a "batch" (every item
//    queued so far, in order; what they queue waits for the next batch) where the
//    implementation yields once: at a `yield` operation, and inside an awaited
//    flush_work / flush_delayed_work / flush_workqueue that has something to wait
//    for. So here the exact order of every execution is compared, and BH work
//    functions themselves queue, re-queue themselves, mod_delayed_work, cancel,
//    disable and probe other items (what they do comes from a PRNG seeded with
//    (item, how many times it ran), so both sides decide alike).
//  - An ordered queue on the worker pool: work functions run on worker threads,
//    so when an item leaves PENDING is a race with the main thread. To make it
//    exact, each round starts with a gate item that blocks the queue's one
//    worker (Atomics.wait); everything queued behind it (by the operations, or
//    by delayed works' timers firing on the virtual clock) is inactive and
//    PENDING for sure, so every return value is exact. A `release` opens the
//    gate, waits for the queue to drain, and compares the order the items ran in
//    (each logs its id into a SharedArrayBuffer; an ordered queue runs strictly
//    FIFO, one at a time). flush_work / flush_delayed_work / flush_workqueue
//    called while gated are checked at the release: their value, and that they
//    resolved only after the instances they wait for had run. Work functions do
//    not queue here (their timing against the main thread is not deterministic;
//    the BH part covers queueing from work functions, test/workqueue.test.ts the
//    worker side of it).
// Delays are 0, 1..62 jiffies (level 0 of the wheel: a delay d fires at jiffy
// now + d + 1, __queue_delayed_work) or ≥ 2^20 (never reached within a sequence):
// the wheel's levels are test/model-wheel.test.ts's job.
//
// Where the model follows ktimers rather than the kernel, the kernel allows it:
// BH batches (the kernel only promises FIFO), flush waits (flush_work may return
// later than the instance it waits for, never before).
//
// On a mismatch the test prints the seed, the shortest failing prefix of the
// sequence, and a minimized sequence (greedy delta debugging) with both records.
// Environment: KTIMERS_SEED=<n> replays (fixed by default; KTIMERS_SEED=random
// explores); KTIMERS_WQ_MODEL_OPS=<n> sets the BH part's operation budget
// (default 200,000) and KTIMERS_WQ_MODEL_ORDERED_OPS the ordered part's (40,000;
// its sequences use the seed KTIMERS_SEED ^ 0x5bd1e995).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as k from '../dist/index.js';
import { installVirtualClock, type VirtualClock } from '../dist/testing.js';
import { failureText, minimizeOps, modelSeed, mulberry32, until, type ModelFailure } from './helpers.js';

type Rng = () => number;
const int = (r: Rng, n: number): number => Math.floor(r() * n);
const u32 = (r: Rng): number => Math.floor(r() * 4294967296) >>> 0;

const MOD = new URL('./fixtures/wq/model.mjs', import.meta.url);
const FAR = 2 ** 20;

type Mode = 'bh' | 'ordered';
/** w: work_struct; d: delayed_work; dd: deferrable delayed_work (its timer on the deferrable base). */
type Kind = 'w' | 'd' | 'dd';

interface Config {
  mode: Mode;
  start: number;
  cbSeed: number;
  kinds: Kind[];
}

type Op =
  | { k: 'queue'; i: number; q: number }
  | { k: 'qdelayed'; i: number; q: number; d: number }
  | { k: 'mod'; i: number; q: number; d: number }
  | { k: 'cancel' | 'cancel_sync' | 'flush' | 'flush_delayed' | 'disable' | 'disable_sync' | 'enable' | 'probe'; i: number }
  | { k: 'enable_queue'; i: number; q: number }
  | { k: 'flush_wq'; q: number }
  | { k: 'adv'; n: number }
  | { k: 'yield' }
  | { k: 'release' };

const isDelayed = (kind: Kind): boolean => kind !== 'w';
const nm = (cfg: Config, i: number): string => `${isDelayed(cfg.kinds[i]!) ? 'd' : 'w'}${i}`;
const wk = (cfg: Config, i: number): string => (isDelayed(cfg.kinds[i]!) ? `d${i}.work` : `w${i}`);

function fmtOp(cfg: Config, op: Op): string {
  const D = 'i' in op ? isDelayed(cfg.kinds[op.i]!) : false;
  switch (op.k) {
    case 'queue':
      return `queue_work(q${op.q}, ${nm(cfg, op.i)})`;
    case 'qdelayed':
      return `queue_delayed_work(q${op.q}, ${nm(cfg, op.i)}, ${op.d})`;
    case 'mod':
      return `mod_delayed_work(q${op.q}, ${nm(cfg, op.i)}, ${op.d})`;
    case 'cancel':
      return `${D ? 'cancel_delayed_work' : 'cancel_work'}(${nm(cfg, op.i)})`;
    case 'cancel_sync':
      return `await ${D ? 'cancel_delayed_work_sync' : 'cancel_work_sync'}(${nm(cfg, op.i)})`;
    case 'flush':
      return `${cfg.mode === 'bh' ? 'await ' : ''}flush_work(${wk(cfg, op.i)})`;
    case 'flush_delayed':
      return `${cfg.mode === 'bh' ? 'await ' : ''}flush_delayed_work(${nm(cfg, op.i)})`;
    case 'flush_wq':
      return `${cfg.mode === 'bh' ? 'await ' : ''}flush_workqueue(q${op.q})`;
    case 'disable':
      return `${D ? 'disable_delayed_work' : 'disable_work'}(${nm(cfg, op.i)})`;
    case 'disable_sync':
      return `await ${D ? 'disable_delayed_work_sync' : 'disable_work_sync'}(${nm(cfg, op.i)})`;
    case 'enable':
      return `${D ? 'enable_delayed_work' : 'enable_work'}(${nm(cfg, op.i)})`;
    case 'enable_queue':
      return `enable_and_queue_work(q${op.q}, ${nm(cfg, op.i)})`;
    case 'probe':
      return `probe ${nm(cfg, op.i)}: work_pending, work_busy${D ? ', delayed_work_pending, timer_pending' : ''}`;
    case 'adv':
      return `advanceJiffies(${op.n})`;
    case 'yield':
      return 'await one turn of the event loop (setImmediate)';
    case 'release':
      return 'open the gate; await flush_workqueue(q0)';
  }
}

/** Delays: 0 (queued at once), level 0 of the wheel, or never reached; half from a small palette, so timers meet in one jiffy. */
const PALETTE = [1, 2, 5, 62];
function genDelay(r: Rng): number {
  const x = r();
  if (x < 0.15) return 0;
  if (x < 0.5) return PALETTE[int(r, PALETTE.length)]!;
  if (x < 0.87) return 1 + int(r, 62);
  return FAR + int(r, 1000);
}

function genAdvance(r: Rng): number {
  const x = r();
  if (x < 0.3) return 1;
  if (x < 0.85) return 1 + int(r, 70);
  return 1 + int(r, 300);
}

function genSequence(r: Rng, mode: Mode, len: number): { cfg: Config; ops: Op[] } {
  const n = mode === 'bh' ? 3 + int(r, 6) : 4 + int(r, 9); // ordered: a round runs each item at most once
  const kinds: Kind[] = Array.from({ length: n }, () => {
    const x = r();
    return x < 0.45 ? 'w' : x < 0.85 ? 'd' : 'dd';
  });
  kinds[0] = 'w';
  kinds[1] = 'd';
  const cfg: Config = { mode, start: Number(k.INITIAL_JIFFIES) + int(r, 2 ** 33), cbSeed: u32(r), kinds };
  const nq = mode === 'bh' ? 2 : 1;
  const ops: Op[] = [];
  while (ops.length < len) {
    const x = r();
    const q = int(r, nq);
    if (x < 0.1) ops.push({ k: 'adv', n: genAdvance(r) });
    else if (x < 0.2) ops.push(mode === 'bh' ? { k: 'yield' } : r() < 0.5 ? { k: 'release' } : { k: 'adv', n: genAdvance(r) });
    else if (x < 0.22) ops.push({ k: 'flush_wq', q });
    else {
      const i = int(r, n);
      const y = r();
      if (!isDelayed(kinds[i]!)) {
        if (y < 0.38) ops.push({ k: 'queue', i, q });
        else if (y < 0.48) ops.push({ k: 'cancel', i });
        else if (y < 0.53) ops.push({ k: 'cancel_sync', i });
        else if (y < 0.62) ops.push({ k: 'flush', i });
        else if (y < 0.68) ops.push({ k: 'disable', i });
        else if (y < 0.71) ops.push({ k: 'disable_sync', i });
        else if (y < 0.81) ops.push({ k: 'enable', i });
        else if (y < 0.87) ops.push({ k: 'enable_queue', i, q });
        else ops.push({ k: 'probe', i });
      } else {
        if (y < 0.28) ops.push({ k: 'qdelayed', i, q, d: genDelay(r) });
        else if (y < 0.44) ops.push({ k: 'mod', i, q, d: genDelay(r) });
        else if (y < 0.53) ops.push({ k: 'cancel', i });
        else if (y < 0.57) ops.push({ k: 'cancel_sync', i });
        else if (y < 0.63) ops.push({ k: 'flush', i });
        else if (y < 0.7) ops.push({ k: 'flush_delayed', i });
        else if (y < 0.75) ops.push({ k: 'disable', i });
        else if (y < 0.78) ops.push({ k: 'disable_sync', i });
        else if (y < 0.88) ops.push({ k: 'enable', i });
        else ops.push({ k: 'probe', i });
      }
    }
  }
  return { cfg, ops };
}

// --- one interface over the model and the implementation ---------------------------

/** What BH work functions call: the same on both sides. */
interface Side {
  cfg: Config;
  log: string[];
  runs: number[];
  queueWork(i: number, q: number): boolean;
  queueDelayed(i: number, q: number, d: number): boolean;
  modDelayed(i: number, q: number, d: number): boolean;
  cancel(i: number): boolean;
  disable(i: number): boolean;
  busy(i: number): number;
}

/** The PRNG that decides the n-th run of item `i`. */
function cbRng(cbSeed: number, i: number, n: number): Rng {
  return mulberry32((cbSeed ^ Math.imul(i + 1, 0x85ebca6b) ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
}

/** A BH work function, identical on both sides. */
function onRun(s: Side, i: number): void {
  const n = s.runs[i]!++;
  s.log.push(`  run ${nm(s.cfg, i)} (#${n})`);
  const r = cbRng(s.cfg.cbSeed, i, n);
  const N = s.cfg.kinds.length;
  for (let a = int(r, 3); a > 0; a--) {
    const x = r();
    const j = r() < 0.3 ? i : int(r, N);
    const q = int(r, 2);
    const d = genDelay(r);
    const D = isDelayed(s.cfg.kinds[j]!);
    const act = (what: string) => s.log.push(`    ${nm(s.cfg, i)}: ${what}`);
    if (x < 0.45 && n < 8) {
      if (D) act(`queue_delayed_work(q${q}, d${j}, ${d}) = ${s.queueDelayed(j, q, d)}`);
      else act(`queue_work(q${q}, w${j}) = ${s.queueWork(j, q)}`);
    } else if (x < 0.6 && n < 8 && D) act(`mod_delayed_work(q${q}, d${j}, ${d}) = ${s.modDelayed(j, q, d)}`);
    else if (x < 0.75) act(`${D ? 'cancel_delayed_work' : 'cancel_work'}(${nm(s.cfg, j)}) = ${s.cancel(j)}`);
    else if (x < 0.8) act(`${D ? 'disable_delayed_work' : 'disable_work'}(${nm(s.cfg, j)}) = ${s.disable(j)}`);
    else act(`work_busy(${wk(s.cfg, j)}) = ${s.busy(j)}`);
  }
}

// --- the model (kernel/workqueue.c) ---------------------------------------------------

class ModelError extends Error {}

interface Entry {
  i: number;
  q: number;
  live: boolean;
  /** ordered mode: position in the round's run order once it ran */
  ord: number;
}

interface MItem {
  kind: Kind;
  /** 0 idle, 1 queued (an entry on the worklist), 2 its delayed_work timer is pending */
  pending: 0 | 1 | 2;
  entry: Entry | null;
  tq: number;
  expires: number;
  seq: number;
  disable: number;
}

class Model implements Side {
  J: number;
  items: MItem[];
  runs: number[];
  log: string[] = [];
  /** the worklist: one FIFO across the BH queues; the ordered queue's inactive list */
  list: Entry[] = [];
  seq = 0;
  running = -1;
  /** ordered: run positions, counted over the sequence; ordBase: where this round's began */
  ord = 0;
  ordBase = 0;
  /** delayed works' timers that fired */
  fired = 0;
  constructor(readonly cfg: Config) {
    this.J = cfg.start;
    this.items = cfg.kinds.map((kind) => ({ kind, pending: 0, entry: null, tq: 0, expires: 0, seq: 0, disable: 0 }));
    this.runs = cfg.kinds.map(() => 0);
  }
  pending(i: number): boolean {
    return this.items[i]!.pending !== 0;
  }
  timerPending(i: number): boolean {
    return this.items[i]!.pending === 2;
  }
  private enqueue(i: number, q: number): void {
    const it = this.items[i]!;
    const e: Entry = { i, q, live: true, ord: -1 };
    it.pending = 1;
    it.entry = e;
    this.list.push(e);
  }
  private arm(i: number, q: number, d: number): void {
    if (d === 0) return this.enqueue(i, q);
    const it = this.items[i]!;
    it.pending = 2;
    it.tq = q;
    it.expires = this.J + d; // timer.expires = jiffies + delay
    it.seq = ++this.seq;
  }
  /** try_to_grab_pending: steal PENDING whatever the state; true if it was pending. */
  private grab(i: number): boolean {
    const it = this.items[i]!;
    const was = it.pending !== 0;
    if (it.entry !== null) it.entry.live = false;
    it.entry = null;
    it.pending = 0;
    return was;
  }
  queueWork(i: number, q: number): boolean {
    const it = this.items[i]!;
    if (it.pending !== 0 || it.disable > 0) return false;
    this.enqueue(i, q);
    return true;
  }
  queueDelayed(i: number, q: number, d: number): boolean {
    const it = this.items[i]!;
    if (it.pending !== 0 || it.disable > 0) return false; // the existing timer is not modified
    this.arm(i, q, d);
    return true;
  }
  modDelayed(i: number, q: number, d: number): boolean {
    const was = this.grab(i);
    if (this.items[i]!.disable > 0) return was;
    this.arm(i, q, d);
    return was;
  }
  cancel(i: number): boolean {
    return this.grab(i);
  }
  disable(i: number): boolean {
    this.items[i]!.disable++;
    return this.grab(i);
  }
  enable(i: number): boolean {
    const it = this.items[i]!;
    if (it.disable === 0) return true; // underflow: WARN once, count stays 0, "enabled"
    it.disable--;
    return it.disable === 0;
  }
  enableAndQueue(i: number, q: number): boolean {
    if (!this.enable(i)) return false;
    this.queueWork(i, q); // the kernel returns true whatever queue_work says
    return true;
  }
  busy(i: number): number {
    return (this.items[i]!.pending !== 0 ? k.WORK_BUSY_PENDING : 0) | (this.running === i ? k.WORK_BUSY_RUNNING : 0);
  }
  /** flush_delayed_work's first step: a pending timer is deleted and the work queued now. */
  kickTimer(i: number): void {
    const it = this.items[i]!;
    if (it.pending === 2) this.enqueue(i, it.tq);
  }
  /** Jiffies pass; each due timer queues its work. Level 0: expires e fires at jiffy e + 1. */
  advance(n: number): void {
    const target = this.J + n;
    if (target - this.cfg.start >= FAR / 2) throw new ModelError('a sequence advanced too far for its far delays');
    const due = this.items
      .map((it, i) => ({ it, i }))
      .filter(({ it }) => it.pending === 2 && it.expires + 1 <= target)
      .sort((a, b) => a.it.expires - b.it.expires || (a.it.kind === 'dd' ? 1 : 0) - (b.it.kind === 'dd' ? 1 : 0) || b.it.seq - a.it.seq);
    // Per jiffy: the global base before the deferrable one; in a bucket, the newest first.
    for (const { it, i } of due) this.enqueue(i, it.tq);
    this.fired += due.length;
    this.J = target;
  }
  /** BH: one turn of the event loop runs everything queued so far, in order. */
  runBatch(): void {
    const batch = this.list.splice(0);
    for (const e of batch) {
      if (!e.live) continue;
      const it = this.items[e.i]!;
      e.live = false;
      it.entry = null;
      it.pending = 0; // cleared just before the function is called
      this.running = e.i;
      onRun(this, e.i);
      this.running = -1;
    }
  }
  /** Ordered: the gate opens; the queue runs its inactive list FIFO, one at a time. */
  runAll(): number[] {
    const order: number[] = [];
    for (const e of this.list.splice(0)) {
      if (!e.live) continue;
      const it = this.items[e.i]!;
      e.live = false;
      it.entry = null;
      it.pending = 0;
      e.ord = this.ord++;
      this.runs[e.i]!++;
      order.push(e.i);
    }
    return order;
  }
  liveOn(q: number): Entry[] {
    return this.list.filter((e) => e.live && e.q === q);
  }
}

// --- the implementation side ---------------------------------------------------------

class Real implements Side {
  log: string[] = [];
  runs: number[];
  works: k.work_struct[];
  dworks: (k.delayed_work | null)[];
  constructor(
    readonly cfg: Config,
    readonly Q: k.workqueue_struct[],
    runLog: Int32Array | null,
  ) {
    this.runs = cfg.kinds.map(() => 0);
    const fn = (i: number) => (cfg.mode === 'bh' ? () => onRun(this, i) : { module: MOD, name: 'logTag' });
    this.dworks = cfg.kinds.map((kind, i) => {
      if (kind === 'w') return null;
      const dw = new k.delayed_work();
      if (kind === 'dd') k.INIT_DEFERRABLE_WORK(dw, fn(i));
      else k.INIT_DELAYED_WORK(dw, fn(i));
      return dw;
    });
    this.works = cfg.kinds.map((_, i) => {
      const dw = this.dworks[i];
      if (dw) return dw.work;
      const w = new k.work_struct();
      k.INIT_WORK(w, fn(i));
      return w;
    });
    if (runLog !== null) this.works.forEach((w, i) => (w.data = { log: runLog, tag: i }));
  }
  dw(i: number): k.delayed_work {
    return this.dworks[i]!;
  }
  queueWork(i: number, q: number): boolean {
    return k.queue_work(this.Q[q]!, this.works[i]!);
  }
  queueDelayed(i: number, q: number, d: number): boolean {
    return k.queue_delayed_work(this.Q[q]!, this.dw(i), BigInt(d));
  }
  modDelayed(i: number, q: number, d: number): boolean {
    return k.mod_delayed_work(this.Q[q]!, this.dw(i), BigInt(d));
  }
  cancel(i: number): boolean {
    return this.dworks[i] ? k.cancel_delayed_work(this.dw(i)) : k.cancel_work(this.works[i]!);
  }
  disable(i: number): boolean {
    return this.dworks[i] ? k.disable_delayed_work(this.dw(i)) : k.disable_work(this.works[i]!);
  }
  busy(i: number): number {
    return k.work_busy(this.works[i]!);
  }
}

// --- running a sequence ------------------------------------------------------------------

type Failure = ModelFailure;

/** A pending flush of the ordered part, checked at the release. */
interface FlushRec {
  at: number;
  want: boolean;
  entries: Entry[];
  got: boolean | null;
  /** run-log length when it resolved */
  seen: number;
}

const TIMEOUT = Symbol('timeout');
function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<typeof TIMEOUT>((r) => (t = setTimeout(() => r(TIMEOUT), ms)))]).finally(() => clearTimeout(t));
}

const turn = () => new Promise<void>((r) => setImmediate(r));

function diffLogs(a: string[], b: string[], from: number): number {
  const n = Math.max(a.length, b.length);
  for (let j = from; j < n; j++) if (a[j] !== b[j]) return j;
  return -1;
}
const tail = (l: string[], j: number): string[] => l.slice(Math.max(0, j - 12), j + 4);

/** The shared environment of one `it`: its queues and, in the ordered part, the gate and the run log. */
interface Env {
  mode: Mode;
  Q: k.workqueue_struct[];
  gate: k.work_struct | null;
  gateI32: Int32Array;
  runLog: Int32Array;
}

async function closeGate(env: Env): Promise<void> {
  Atomics.store(env.gateI32, 0, 0);
  Atomics.store(env.gateI32, 1, 0);
  Atomics.store(env.runLog, 0, 0);
  if (!k.queue_work(env.Q[0]!, env.gate!)) throw new Error('the gate item is still pending');
  await until(() => Atomics.load(env.gateI32, 1) === 1, 10_000);
}

async function openGate(env: Env): Promise<boolean> {
  Atomics.store(env.gateI32, 0, 1);
  Atomics.notify(env.gateI32, 0);
  return (await within(k.flush_workqueue(env.Q[0]!), 15_000)) !== TIMEOUT;
}

async function runSequence(env: Env, cfg: Config, ops: Op[], stats?: Record<string, number>): Promise<Failure | null> {
  const model = new Model(cfg);
  const clock: VirtualClock = installVirtualClock({ startJiffies: BigInt(cfg.start) });
  const real = new Real(cfg, env.Q, env.mode === 'ordered' ? env.runLog : null);
  const flushes: { m: FlushRec[]; r: { at: number; p: Promise<boolean>; got: boolean | null; seen: number }[] } = { m: [], r: [] };
  let checked = 0;
  let gated = false;
  try {
    if (env.mode === 'ordered') {
      await closeGate(env);
      gated = true;
    }
    const all = env.mode === 'ordered' && ops[ops.length - 1]?.k !== 'release' ? [...ops, { k: 'release' } as Op] : ops;
    for (let at = 0; at < all.length; at++) {
      const op = all[at]!;
      if (stats) stats[op.k] = (stats[op.k] ?? 0) + 1;
      const head = `#${at} ${fmtOp(cfg, op)}`;
      try {
        execModel(model, op, at, head, flushes.m);
      } catch (e) {
        if (e instanceof ModelError) throw new Error(`model self-check failed at op #${at} (${fmtOp(cfg, op)}): ${e.message}`);
        throw e;
      }
      let fail: string | null = null;
      try {
        fail = await execReal(env, real, clock, op, at, head, flushes.r);
      } catch (e) {
        return { at, what: `the implementation threw: ${(e as Error)?.stack ?? e}`, expected: tail(model.log, real.log.length), actual: tail(real.log, real.log.length) };
      }
      if (op.k === 'release') {
        // Flushes called while gated: their values, and none resolved before what it waits for ran.
        for (let f = 0; f < flushes.m.length; f++) {
          const m = flushes.m[f]!;
          const need = m.entries.reduce((a, e) => (e.ord >= 0 ? Math.max(a, e.ord + 1 - model.ordBase) : a), 0);
          model.log.push(`  flush from #${m.at} = ${m.want}, after what it waits for`);
          const r = flushes.r[f]!;
          real.log.push(`  flush from #${r.at} = ${r.got}${r.got === null ? ' (never resolved)' : r.seen >= need ? ', after what it waits for' : `, resolved after ${r.seen} runs: before its instance (run ${need})`}`);
        }
        flushes.m.length = 0;
        flushes.r.length = 0;
        model.ordBase = model.ord;
        if (at < all.length - 1) await closeGate(env);
        else gated = false;
      }
      if (fail !== null) return { at, what: fail, expected: tail(model.log, model.log.length), actual: tail(real.log, real.log.length) };
      const j = diffLogs(model.log, real.log, checked);
      if (j >= 0) return { at, what: `records differ from entry ${j}`, expected: tail(model.log, j), actual: tail(real.log, j) };
      checked = model.log.length;
      const ij = Number(clock.jiffies());
      if (model.J !== ij) return { at, what: `jiffies: model ${model.J}, implementation ${ij}`, expected: [], actual: [] };
      for (let i = 0; i < cfg.kinds.length; i++) {
        const mp = model.pending(i);
        const rp = k.work_pending(real.works[i]!);
        let bad = mp !== rp;
        let desc = `${nm(cfg, i)}: model pending=${mp}, implementation pending=${rp}`;
        const dw = real.dworks[i];
        if (dw) {
          const mt = model.timerPending(i);
          const rt = k.timer_pending(dw.timer) === 1;
          const me = model.items[i]!.expires;
          bad ||= mt !== rt || (mt && BigInt(me) !== dw.timer.expires);
          desc += `; timer_pending model ${mt} (expires ${me}), implementation ${rt} (expires ${dw.timer.expires})`;
        }
        if (bad) return { at, what: `after the operation: ${desc}`, expected: tail(model.log, model.log.length), actual: tail(real.log, real.log.length) };
      }
    }
    if (stats) {
      stats.runs = (stats.runs ?? 0) + model.runs.reduce((a, b) => a + b, 0);
      stats.timersFired = (stats.timersFired ?? 0) + model.fired;
    }
    return null;
  } finally {
    // Leave nothing behind for the next sequence: open the gate, enable, cancel, drain.
    if (gated) await openGate(env);
    for (let i = 0; i < cfg.kinds.length; i++) {
      for (let c = model.items[i]!.disable; c > 0; c--) k.enable_work(real.works[i]!);
      if (real.dworks[i]) await k.cancel_delayed_work_sync(real.dworks[i]!);
      else await k.cancel_work_sync(real.works[i]!);
    }
    await turn();
    await turn();
    clock.uninstall();
  }
}

function execModel(m: Model, op: Op, at: number, head: string, flushes: FlushRec[]): void {
  const out = (v: unknown) => m.log.push(`${head} = ${v}`);
  const bh = m.cfg.mode === 'bh';
  switch (op.k) {
    case 'queue':
      return out(m.queueWork(op.i, op.q));
    case 'qdelayed':
      return out(m.queueDelayed(op.i, op.q, op.d));
    case 'mod':
      return out(m.modDelayed(op.i, op.q, op.d));
    case 'cancel':
    case 'cancel_sync':
      return out(m.cancel(op.i));
    case 'disable':
    case 'disable_sync':
      return out(m.disable(op.i));
    case 'enable':
      return out(m.enable(op.i));
    case 'enable_queue':
      return out(m.enableAndQueue(op.i, op.q));
    case 'probe': {
      const D = isDelayed(m.cfg.kinds[op.i]!);
      return out(`${m.pending(op.i)} ${m.busy(op.i)}${D ? ` ${m.pending(op.i)} ${m.timerPending(op.i) ? 1 : 0}` : ''}`);
    }
    case 'flush':
    case 'flush_delayed': {
      // flush_work: true iff it had to wait (queued; a pending timer counts as idle).
      // flush_delayed_work first turns a pending timer into a queued item.
      if (op.k === 'flush_delayed') m.kickTimer(op.i);
      const it = m.items[op.i]!;
      const want = it.pending === 1;
      if (bh) {
        m.log.push(`${head} = ${want}`);
        if (want) m.runBatch();
        return;
      }
      flushes.push({ at, want, entries: want ? [it.entry!] : [], got: null, seen: 0 });
      return m.log.push(`${head}: pending`);
    }
    case 'flush_wq': {
      const live = m.liveOn(op.q);
      if (bh) {
        m.log.push(`${head} = undefined`);
        if (live.length > 0) m.runBatch();
        return;
      }
      flushes.push({ at, want: true, entries: live, got: null, seen: 0 });
      return m.log.push(`${head}: pending`);
    }
    case 'adv':
      m.advance(op.n);
      return m.log.push(`${head} -> jiffies ${m.J}`);
    case 'yield':
      m.log.push(head);
      return m.runBatch();
    case 'release':
      return m.log.push(`${head}: ran ${m.runAll().map((i) => nm(m.cfg, i)).join(' ') || 'nothing'}`);
  }
}

/** Runs `op` on the implementation; returns a failure text for what the logs cannot show. */
async function execReal(env: Env, s: Real, clock: VirtualClock, op: Op, at: number, head: string, flushes: { at: number; p: Promise<boolean>; got: boolean | null; seen: number }[]): Promise<string | null> {
  const out = (v: unknown) => s.log.push(`${head} = ${v}`);
  const D = 'i' in op && s.dworks[op.i] !== null;
  const w = 'i' in op ? s.works[op.i]! : null;
  const bh = env.mode === 'bh';
  const wait = async <T>(p: Promise<T>): Promise<T> => {
    const v = await within(p, 10_000);
    if (v === TIMEOUT) throw new Error(`${head}: did not resolve within 10 s`);
    return v;
  };
  // An awaited call: its line goes first, what runs meanwhile after it (as the model logs it).
  const awaited = async (p: Promise<unknown>) => {
    const j = s.log.push(head) - 1;
    s.log[j] = `${head} = ${await wait(p)}`;
  };
  const later = (p: Promise<boolean>) => {
    const rec = { at, p, got: null as boolean | null, seen: 0 };
    void p.then((v) => {
      rec.got = v;
      rec.seen = Atomics.load(env.runLog, 0);
    });
    flushes.push(rec);
    s.log.push(`${head}: pending`);
  };
  switch (op.k) {
    case 'queue':
      out(s.queueWork(op.i, op.q));
      break;
    case 'qdelayed':
      out(s.queueDelayed(op.i, op.q, op.d));
      break;
    case 'mod':
      out(s.modDelayed(op.i, op.q, op.d));
      break;
    case 'cancel':
      out(s.cancel(op.i));
      break;
    case 'cancel_sync':
      await awaited(D ? k.cancel_delayed_work_sync(s.dw(op.i)) : k.cancel_work_sync(w!));
      break;
    case 'disable':
      out(s.disable(op.i));
      break;
    case 'disable_sync':
      await awaited(D ? k.disable_delayed_work_sync(s.dw(op.i)) : k.disable_work_sync(w!));
      break;
    case 'enable':
      out(D ? k.enable_delayed_work(s.dw(op.i)) : k.enable_work(w!));
      break;
    case 'enable_queue':
      out(k.enable_and_queue_work(env.Q[op.q]!, w!));
      break;
    case 'probe':
      out(`${k.work_pending(w!)} ${k.work_busy(w!)}${D ? ` ${k.delayed_work_pending(s.dw(op.i))} ${k.timer_pending(s.dw(op.i).timer)}` : ''}`);
      break;
    case 'flush':
      if (bh) await awaited(k.flush_work(w!));
      else later(k.flush_work(w!));
      break;
    case 'flush_delayed':
      if (bh) await awaited(k.flush_delayed_work(s.dw(op.i)));
      else later(k.flush_delayed_work(s.dw(op.i)));
      break;
    case 'flush_wq':
      if (bh) await awaited(k.flush_workqueue(env.Q[op.q]!));
      else later(k.flush_workqueue(env.Q[op.q]!).then(() => true));
      break;
    case 'adv':
      clock.advanceJiffies(op.n);
      s.log.push(`${head} -> jiffies ${clock.jiffies()}`);
      break;
    case 'yield':
      s.log.push(head);
      await turn();
      break;
    case 'release': {
      if (!(await openGate(env))) return 'the ordered queue did not drain within 15 s of opening the gate';
      await wait(Promise.all(flushes.map((f) => f.p)));
      const n = Atomics.load(env.runLog, 0);
      const order = Array.from(env.runLog.subarray(1, 1 + n));
      for (const i of order) s.runs[i]!++;
      s.log.push(`${head}: ran ${order.map((i) => nm(s.cfg, i)).join(' ') || 'nothing'}`);
      break;
    }
  }
  return null;
}

function cfgText(cfg: Config): string {
  const qs = cfg.mode === 'bh' ? 'q0, q1 = alloc_workqueue(name, WQ_BH, 0)' : 'q0 = alloc_ordered_workqueue(name, 0), a gate item blocking its worker each round';
  return [
    `installVirtualClock({ startJiffies: ${cfg.start}n }); ${qs}`,
    ...cfg.kinds.map((kd, i) => (kd === 'w' ? `INIT_WORK(w${i}, fn)` : kd === 'd' ? `INIT_DELAYED_WORK(d${i}, fn)` : `INIT_DEFERRABLE_WORK(d${i}, fn)`)),
    cfg.mode === 'bh' ? `work functions: the n-th run of item i decides with cbRng(${cfg.cbSeed}, i, n)` : 'work functions log their id',
  ].join('\n  ');
}

// --- the tests ----------------------------------------------------------------------------

const SEED = modelSeed(20261124);
const BH_OPS = Number(process.env.KTIMERS_WQ_MODEL_OPS ?? 200_000);
const ORDERED_OPS = Number(process.env.KTIMERS_WQ_MODEL_ORDERED_OPS ?? 40_000);

// enable_work below zero WARNs once (KTIMERS_WARN_WORK_DISABLE_UNDERFLOW): keep it off the output.
let warnSpy: { mockRestore(): void } | null = null;
beforeAll(() => {
  warnSpy = vi.spyOn(process, 'emitWarning').mockImplementation((() => undefined) as typeof process.emitWarning);
});
afterAll(() => warnSpy?.mockRestore());

/** `salt` makes the ordered part's sequences differ from the BH part's; failures report the KTIMERS_SEED that replays them. */
async function explore(env: Env, target: number, seqLen: number, seed: number, salt = 0): Promise<{ ops: number; seqs: number; kinds: Record<string, number>; ms: number }> {
  const t0 = Date.now();
  const master = mulberry32((seed ^ salt) >>> 0);
  const kinds: Record<string, number> = {};
  let ops = 0;
  let seqs = 0;
  while (ops < target) {
    const seqSeed = u32(master);
    const { cfg, ops: seq } = genSequence(mulberry32(seqSeed), env.mode, Math.min(seqLen, target - ops));
    const fail = await runSequence(env, cfg, seq, kinds);
    if (fail !== null) {
      const prefix = seq.slice(0, fail.at + 1);
      const min = await minimizeOps(prefix, (cand) => runSequence(env, cfg, cand), Date.now() + 20_000);
      const report = [
        `workqueue model mismatch (${env.mode}): KTIMERS_SEED=${seed} (sequence #${seqs}, sequence seed ${seqSeed})`,
        `reproduce: KTIMERS_SEED=${seed} npx vitest run test/model-workqueue.test.ts`,
        `setup:\n  ${cfgText(cfg)}`,
        `first mismatch after operation #${fail.at}: ${failureText(fail)}`,
        `shortest failing prefix (${prefix.length} operations):\n  ${prefix.map((o, i) => `#${i} ${fmtOp(cfg, o)}`).join('\n  ')}`,
        `minimized (${min.ops.length} operations, same setup):\n  ${min.ops.map((o, i) => `#${i} ${fmtOp(cfg, o)}`).join('\n  ')}`,
        `minimized mismatch after operation #${min.failure.at}: ${failureText(min.failure)}`,
      ].join('\n\n');
      expect.fail(report);
    }
    ops += seq.length;
    seqs++;
  }
  return { ops, seqs, kinds, ms: Date.now() - t0 };
}

describe('workqueue against a reference model of kernel/workqueue.c', () => {
  it('model self-check: return values and order by hand (queue, flush, cancel)', () => {
    const cfg: Config = { mode: 'bh', start: 0, cbSeed: 0, kinds: ['w', 'd', 'd', 'dd'] };
    const m = new Model(cfg);
    m.runs = [0, 0, 0, 0];
    // queue twice: true, false; disabled: false; enable returns true at 0
    expect([m.queueWork(0, 0), m.queueWork(0, 1)]).toEqual([true, false]);
    expect(m.disable(0)).toBe(true); // it was pending: cancelled
    expect([m.queueWork(0, 0), m.disable(0), m.enable(0), m.enable(0), m.queueWork(0, 0)]).toEqual([false, false, false, true, true]);
    // mod_delayed_work: false on idle (queued now), true on pending (re-armed)
    expect([m.modDelayed(1, 0, 10), m.modDelayed(1, 0, 5), m.queueDelayed(1, 0, 1)]).toEqual([false, true, false]);
    expect(m.items[1]!.expires).toBe(5);
    // d fires at jiffy J + d + 1; in one jiffy: global base first, newest first; the deferrable last
    m.queueDelayed(3, 0, 5);
    m.queueDelayed(2, 0, 5);
    m.advance(5);
    expect(m.timerPending(1)).toBe(true);
    m.advance(1);
    expect(m.list.filter((e) => e.live).map((e) => e.i)).toEqual([0, 2, 1, 3]);
  });

  it(`BH queues: random operation sequences agree with the model (seed ${SEED})`, async () => {
    const env: Env = {
      mode: 'bh',
      Q: [k.alloc_workqueue('model-bh0', k.WQ_BH, 0)!, k.alloc_workqueue('model-bh1', k.WQ_BH, 0)!],
      gate: null,
      gateI32: new Int32Array(0),
      runLog: new Int32Array(new SharedArrayBuffer(8)),
    };
    try {
      const r = await explore(env, BH_OPS, 600, SEED);
      console.log(`model-workqueue (BH): seed ${SEED}, ${r.seqs} sequences, ${r.ops} operations ${JSON.stringify(r.kinds)}, ${r.ms} ms`);
      expect(r.ops).toBeGreaterThanOrEqual(BH_OPS);
      expect(r.kinds.yield! + r.kinds.flush! > 1000).toBe(true);
    } finally {
      for (const q of env.Q) await k.destroy_workqueue(q);
    }
  }, 120_000);

  it(`ordered queue on the worker pool, gated: random operation sequences agree with the model (seed ${SEED})`, async () => {
    const gateI32 = new Int32Array(new SharedArrayBuffer(8));
    const gate = new k.work_struct();
    k.INIT_WORK(gate, { module: MOD, name: 'gate' });
    gate.data = { i32: gateI32 };
    const env: Env = {
      mode: 'ordered',
      Q: [k.alloc_ordered_workqueue('model-ord', 0)!],
      gate,
      gateI32,
      runLog: new Int32Array(new SharedArrayBuffer(4 * 65536)),
    };
    try {
      const r = await explore(env, ORDERED_OPS, 300, SEED, 0x5bd1e995);
      console.log(`model-workqueue (ordered): seed ${SEED}, ${r.seqs} sequences, ${r.ops} operations ${JSON.stringify(r.kinds)}, ${r.ms} ms`);
      expect(r.ops).toBeGreaterThanOrEqual(ORDERED_OPS);
      expect(r.kinds.release! > ORDERED_OPS / 100).toBe(true);
    } finally {
      Atomics.store(gateI32, 0, 1);
      Atomics.notify(gateI32, 0);
      await k.destroy_workqueue(env.Q[0]!);
    }
  }, 120_000);
});
