// Seeded, randomized, model-based test of kthread_worker (lib/kthread/) against
// a reference model written from the kernel's rules (kernel/kthread.c:
// kthread_queue_work, kthread_queue_delayed_work, kthread_mod_delayed_work,
// kthread_flush_work, kthread_flush_worker, kthread_cancel_*_sync).
//
// Work functions run on the worker thread, so when a work leaves PENDING is a
// race with this thread. To make every return value exact, each round starts
// with a gate work that holds the worker (it waits on a SharedArrayBuffer word,
// its event loop free): every work queued behind it is pending for sure. The
// operations — queue (plain works and delayed works' .work), queue_delayed and
// mod with delay 0 or a delay never reached within a sequence, cancel (the sync
// variants: nothing is running but the gate, so they answer at once), flush_work,
// flush_worker — are applied to both; return values are compared as they come.
// `release` opens the gate and waits for the worker to drain; then the order in
// which the works ran (each logs its index) is compared with the model's list,
// and every flush called in the round is checked: flush_work of an armed delayed
// work rejects (the kernel would hang); others resolve, never before the works
// ahead of their marker had run (they may resolve later: the answer travels back
// as a message).
//
// On a mismatch: the seed, the failing prefix, and a minimized sequence
// (minimizeOps). KTIMERS_SEED=<n> replays; KTIMERS_KTHREAD_MODEL_OPS sets the budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { failureText, minimizeOps, modelSeed, mulberry32, type ModelFailure } from './helpers.js';
import { dwork, i32, reach, release, within, work } from './kthread-helpers.js';

const N_PLAIN = 4;
const N_DELAYED = 3;
const N = N_PLAIN + N_DELAYED;
const FAR = 10_000_000;

type Op =
  | { k: 'queue'; i: number }
  | { k: 'qdelayed'; i: number; far: boolean }
  | { k: 'mod'; i: number; far: boolean }
  | { k: 'cancel'; i: number }
  | { k: 'flush'; i: number }
  | { k: 'flushw' }
  | { k: 'release' };

const fmt = (o: Op): string => JSON.stringify(o);

/** Entries of the model's work_list: a work index, or a flush marker (its number). */
type Entry = { w: number } | { m: number };

class Model {
  bound = new Array<boolean>(N).fill(false);
  timer = new Array<boolean>(N).fill(false);
  list: Entry[] = [];
  flushes = 0;
  pendingOnList(i: number): boolean {
    return this.list.some((e) => 'w' in e && e.w === i);
  }
  pending(i: number): boolean {
    return this.timer[i]! || this.pendingOnList(i);
  }
  unlink(i: number): boolean {
    const was = this.pending(i);
    this.timer[i] = false;
    this.list = this.list.filter((e) => !('w' in e && e.w === i));
    return was;
  }
  queue(i: number, far: boolean | null): boolean {
    if (this.pending(i)) return false;
    this.bound[i] = true;
    if (far) this.timer[i] = true;
    else this.list.push({ w: i });
    return true;
  }
  mod(i: number, far: boolean): boolean {
    if (!this.bound[i]) {
      this.queue(i, far);
      return false;
    }
    const ret = this.unlink(i);
    this.queue(i, far);
    return ret;
  }
  cancel(i: number): boolean {
    if (!this.bound[i]) return false;
    return this.unlink(i);
  }
  /** flush_work: 'timer' (rejects), 'now' (idle), or the marker number. */
  flush(i: number): 'timer' | 'now' | number {
    if (!this.bound[i]) return 'now';
    if (this.timer[i]) return 'timer';
    const at = this.list.findIndex((e) => 'w' in e && e.w === i);
    if (at < 0) return 'now';
    const m = this.flushes++;
    this.list.splice(at + 1, 0, { m });
    return m;
  }
  flushWorker(): number {
    const m = this.flushes++;
    this.list.push({ m });
    return m;
  }
  /** The round's run order, and for each marker how many works ran before it. */
  drain(): { order: number[]; before: Map<number, number> } {
    const order: number[] = [];
    const before = new Map<number, number>();
    for (const e of this.list) {
      if ('w' in e) order.push(e.w);
      else before.set(e.m, order.length);
    }
    this.list = [];
    return { order, before };
  }
}

let worker: k.kthread_worker;
beforeAll(() => {
  worker = k.kthread_run_worker(0, 'model');
});
afterAll(async () => {
  await k.kthread_destroy_worker(worker);
});

function genSequence(r: () => number, len: number): Op[] {
  const ops: Op[] = [];
  const int = (n: number) => Math.floor(r() * n);
  for (let j = 0; j < len; j++) {
    const x = r();
    const d = N_PLAIN + int(N_DELAYED);
    if (x < 0.25) ops.push({ k: 'queue', i: int(N) });
    else if (x < 0.4) ops.push({ k: 'qdelayed', i: d, far: r() < 0.4 });
    else if (x < 0.55) ops.push({ k: 'mod', i: d, far: r() < 0.4 });
    else if (x < 0.7) ops.push({ k: 'cancel', i: int(N) });
    else if (x < 0.8) ops.push({ k: 'flush', i: int(N) });
    else if (x < 0.85) ops.push({ k: 'flushw' });
    else ops.push({ k: 'release' });
  }
  ops.push({ k: 'release' });
  return ops;
}

async function runSequence(ops: Op[]): Promise<ModelFailure | null> {
  const m = new Model();
  const log = i32(4096);
  const plain = Array.from({ length: N_PLAIN }, (_, i) => work('log', { log, tag: i }));
  const delayed = Array.from({ length: N_DELAYED }, (_, i) => dwork('log', { log, tag: N_PLAIN + i }));
  const kw = (i: number) => (i < N_PLAIN ? plain[i]! : delayed[i - N_PLAIN]!.work);
  const dw = (i: number) => delayed[i - N_PLAIN]!;
  const actual: string[] = [];
  const expected: string[] = [];
  let roundStart = 0;
  let latch = i32(4);
  const gate = async () => {
    latch = i32(4);
    k.kthread_queue_work(worker, work('blocker', { latch, slot: 0, tag: 0 }));
    await reach(latch, 1, 1);
  };
  type Fl = { marker: number | 'timer' | 'now'; p: Promise<void>; at: number | 'rejected' | null; code?: string; op: number };
  let fl: Fl[] = [];
  const track = (marker: Fl['marker'], p: Promise<void>, op: number) => {
    const f: Fl = { marker, p, at: null, op };
    f.p = p.then(
      () => void (f.at = Atomics.load(log, 0)),
      (e) => {
        f.at = 'rejected';
        f.code = e?.code;
      },
    );
    fl.push(f);
  };
  const cleanup = async () => {
    release(latch, 0);
    for (let i = N_PLAIN; i < N; i++) await k.kthread_cancel_delayed_work_sync(dw(i));
    await k.kthread_flush_worker(worker);
  };
  await gate();
  try {
    for (let at = 0; at < ops.length; at++) {
      const o = ops[at]!;
      let a: unknown;
      let e: unknown;
      switch (o.k) {
        case 'queue':
          a = k.kthread_queue_work(worker, kw(o.i));
          e = m.queue(o.i, null);
          break;
        case 'qdelayed':
          a = k.kthread_queue_delayed_work(worker, dw(o.i), o.far ? FAR : 0);
          e = m.queue(o.i, o.far);
          break;
        case 'mod':
          a = k.kthread_mod_delayed_work(worker, dw(o.i), o.far ? FAR : 0);
          e = m.mod(o.i, o.far);
          break;
        case 'cancel':
          a = await (o.i < N_PLAIN ? k.kthread_cancel_work_sync(kw(o.i)) : k.kthread_cancel_delayed_work_sync(dw(o.i)));
          e = m.cancel(o.i);
          break;
        case 'flush': {
          const marker = m.flush(o.i);
          track(marker, k.kthread_flush_work(kw(o.i)), at);
          // Idle (or armed): answered without the worker, so while the gate still holds it.
          if (marker === 'now' || marker === 'timer') await within(fl[fl.length - 1]!.p, 'flush of an idle work');
          break;
        }
        case 'flushw':
          track(m.flushWorker(), k.kthread_flush_worker(worker), at);
          break;
        case 'release': {
          const { order, before } = m.drain();
          release(latch, 0);
          await within(k.kthread_flush_worker(worker), 'drain');
          await within(Promise.all(fl.map((f) => f.p)), 'flushes of the round');
          const ran = Array.from(log.subarray(1 + roundStart, 1 + Atomics.load(log, 0)));
          a = `ran ${ran.join(',')}`;
          e = `ran ${order.join(',')}`;
          const bad: string[] = [];
          for (const f of fl) {
            if (f.marker === 'timer') {
              if (f.at !== 'rejected' || f.code !== 'ERR_KTIMERS_KTHREAD_FLUSH_TIMER') bad.push(`flush #${f.op} should reject FLUSH_TIMER, got ${f.at} ${f.code}`);
            } else if (f.marker === 'now') {
              if (f.at !== roundStart) bad.push(`flush #${f.op} of an idle work should resolve at once, at ${roundStart}, got ${f.at}`);
            } else {
              const need = roundStart + before.get(f.marker)!;
              if (typeof f.at !== 'number' || f.at < need) bad.push(`flush #${f.op} resolved at ${f.at}, before ${need}`);
            }
          }
          if (bad.length > 0) {
            a = `${a}; ${bad.join('; ')}`;
          }
          roundStart = Atomics.load(log, 0);
          fl = [];
          await gate();
          break;
        }
      }
      actual.push(`#${at} ${fmt(o)} -> ${String(a)}`);
      expected.push(`#${at} ${fmt(o)} -> ${String(e)}`);
      if (a !== undefined && String(a) !== String(e)) {
        return { at, what: `${fmt(o)}: ${String(a)} instead of ${String(e)}`, expected, actual };
      }
    }
    return null;
  } finally {
    await cleanup();
  }
}

describe('kthread_worker against a reference model of the kernel rules', () => {
  it('model self-check by hand', () => {
    const m = new Model();
    expect([m.queue(0, null), m.queue(0, null)]).toEqual([true, false]);
    expect(m.mod(4, true)).toBe(false); // never queued
    expect(m.mod(4, false)).toBe(true); // timer armed -> on the list
    expect(m.queue(1, null)).toBe(true);
    expect(m.mod(4, false)).toBe(true); // loses its place
    expect(m.flush(5)).toBe('now');
    expect(m.flush(0)).toBe(0);
    expect(m.cancel(1)).toBe(true);
    expect(m.drain()).toEqual({ order: [0, 4], before: new Map([[0, 1]]) });
  });

  it('random sequences: every return value, run order and flush agree', async () => {
    const seed = modelSeed(20261206);
    const budget = Number(process.env.KTIMERS_KTHREAD_MODEL_OPS ?? 20000);
    const master = mulberry32(seed);
    let ops = 0;
    let seqs = 0;
    while (ops < budget) {
      const seqSeed = Math.floor(master() * 2 ** 32) >>> 0;
      const seq = genSequence(mulberry32(seqSeed), 60);
      const fail = await runSequence(seq);
      if (fail !== null) {
        const prefix = seq.slice(0, fail.at + 1);
        const min = await minimizeOps(prefix, (cand) => runSequence(cand), Date.now() + 20_000);
        expect.fail(
          [
            `kthread model mismatch: KTIMERS_SEED=${seed} (sequence #${seqs}, sequence seed ${seqSeed})`,
            `first mismatch after operation #${fail.at}: ${failureText(fail)}`,
            `minimized (${min.ops.length} operations):\n  ${min.ops.map((o, i) => `#${i} ${fmt(o)}`).join('\n  ')}`,
            `minimized mismatch: ${failureText(min.failure)}`,
          ].join('\n\n'),
        );
      }
      ops += seq.length;
      seqs++;
    }
    expect(ops).toBeGreaterThanOrEqual(budget);
  }, 300_000);
});
