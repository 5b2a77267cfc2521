// kthread_worker (lib/kthread/): the kernel's worked cases 110-125 and 134
// (include/linux/kthread.h, kernel/kthread.c, kernel/sched/syscalls.c) on real
// threads. Conditions are set up with latches (a blocker work waits on a
// SharedArrayBuffer word that the test releases) and every wait is on an event,
// with a SLOWDOWN-scaled backstop only.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as k from '../dist/index.js';
import { stateOf } from '../dist/kthread/worker.js';
import { BACKSTOP, dwork, entries, i32, reach, release, settled, within, work } from './kthread-helpers.js';
import { SLOWDOWN } from './helpers.js';

const workers: k.kthread_worker[] = [];
function run(name = 'w'): k.kthread_worker {
  const w = k.kthread_run_worker(0, name);
  workers.push(w);
  return w;
}
afterEach(async () => {
  for (const w of workers.splice(0)) if (w.task !== null && !stateOf(w).destroying) await k.kthread_destroy_worker(w);
});

function comm(tid: number): string {
  return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
}
/** Field 18 (prio) of /proc/<tid>/stat. */
function procPrio(tid: number): number {
  const s = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[15]);
}

/** A blocker work on latch slot s, logging tag (start) and tag + 1000 (end). */
function blocker(log: Int32Array, latch: Int32Array, slot: number, tag: number): k.kthread_work {
  return work('blocker', { log, latch, slot, tag });
}

describe('kthread_worker: creation (case 110)', () => {
  it('names, comm truncated to 15 characters, SCHED_NORMAL 0, flags, current_work null', () => {
    expect(() => k.kthread_run_worker(0, 'kt-%s')).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    const b = k.kthread_run_worker(0, 'kt-%s', 'io');
    workers.push(b);
    expect(b.name).toBe('kt-io');
    expect(comm(b.task!)).toBe('kt-io');
    expect(k.sched_getscheduler(b.task!)).toEqual({ policy: k.SCHED_OTHER, priority: 0 });
    expect(b.flags).toBe(0);
    expect(b.current_work).toBe(null);
    expect(b.task).not.toBe(process.pid);
    const d = run('abcdefghijklmnopqrst');
    expect(d.name).toBe('abcdefghijklmnopqrst');
    expect(d.comm).toBe('abcdefghijklmno');
    expect(comm(d.task!)).toBe('abcdefghijklmno');
  });

  it.skipIf(k.sched_getaffinity(0).length < 2 || !k.sched_getaffinity(0).includes(1))(
    'kthread_create_worker_on_cpu(1, 0, "helper/%u"): "helper/1", allowed on CPU 1 only, not woken',
    () => {
      const c = k.kthread_create_worker_on_cpu(1, 0, 'helper/%u');
      workers.push(c);
      expect(c.name).toBe('helper/1');
      expect(c.cpu).toBe(1);
      expect(k.sched_getaffinity(c.task!)).toEqual([1]);
      expect(stateOf(c).woken).toBe(false);
      const r = k.kthread_run_worker_on_cpu(0, k.KTW_FREEZABLE, 'r/%u');
      workers.push(r);
      expect([r.name, r.flags, stateOf(r).woken]).toEqual(['r/0', 1, true]);
      expect(k.sched_getaffinity(r.task!)).toEqual([0]);
    },
  );

  it('a created (not woken) worker runs its first queued work', async () => {
    const w = k.kthread_create_worker(0, 'lazy');
    workers.push(w);
    expect(stateOf(w).woken).toBe(false);
    const log = i32();
    expect(k.kthread_queue_work(w, work('log', { log, tag: 7 }))).toBe(true);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([7]);
  });
});

describe('kthread_worker: queueing and order (cases 111-113)', () => {
  it('111: queue twice while a blocker runs: true then false; runs once, after the blocker', async () => {
    const w = run();
    const log = i32(), latch = i32();
    const B = blocker(log, latch, 0, 1);
    k.kthread_queue_work(w, B);
    await reach(latch, 1, 1);
    expect(w.current_work).toBe(B); // seen from this thread too
    const a = work('log', { log, tag: 2 });
    expect(k.kthread_queue_work(w, a)).toBe(true);
    expect(k.kthread_queue_work(w, a)).toBe(false);
    release(latch, 0);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([1, 1001, 2]);
  });

  it('112: strict FIFO on one thread, in task context, current_work is the running work', async () => {
    const w = run();
    const log = i32(), latch = i32();
    k.kthread_queue_work(w, blocker(log, latch, 0, 1));
    await reach(latch, 1, 1);
    const outs = [i32(8), i32(8), i32(8)];
    outs.forEach((out, i) => expect(k.kthread_queue_work(w, work('probe', { out, log, tag: 2 + i }))).toBe(true));
    release(latch, 0);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([1, 1001, 2, 3, 4]);
    for (const out of outs) {
      expect(Array.from(out.subarray(0, 3))).toEqual([1, 0, 1]); // in_task, !in_interrupt, current_work === work
      expect(out[3]).toBe(outs[0]![3]); // same thread
      expect(out[3]).not.toBe(0);
      expect(out[4]).toBe(w.task);
      expect(out[6]).toBe(1);
    }
    expect(w.current_work).toBe(null);
  });

  it('113: re-queue while running (from the test, then from its own function): true, runs again only after', async () => {
    const w = run();
    const log = i32(), latch = i32();
    const W = work('blockFirst', { log, latch, slot: 0, tag: 10 });
    k.kthread_queue_work(w, W);
    await reach(latch, 1, 1);
    expect(k.kthread_queue_work(w, W)).toBe(true);
    release(latch, 0);
    await reach(log, 0, 4);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([10, 110, 11, 111]);

    const log2 = i32(), latch2 = i32();
    const V = work('blockFirst', { log: log2, latch: latch2, slot: 0, tag: 20, selfq: true });
    k.kthread_queue_work(w, V);
    await reach(latch2, 1, 1);
    release(latch2, 0);
    await reach(log2, 0, 4);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(latch2[2]).toBe(1); // its own kthread_queue_work returned true
    expect(entries(log2)).toEqual([20, 120, 21, 121]);
    expect(latch2[1]).toBe(2); // exactly twice
  });

  it('FIFO across threads: a work queued from here before a self-requeue on the worker runs first', async () => {
    // The worker's thread is blocked synchronously while A is queued, so A's request
    // has not been taken in when S re-queues itself: the self-requeue takes it in first.
    const w = run();
    const log = i32(), latch = i32();
    const S = work('syncBlockSelfq', { log, latch, slot: 0, tag: 10 });
    k.kthread_queue_work(w, S);
    await reach(latch, 1, 1);
    expect(k.kthread_queue_work(w, work('log', { log, tag: 5 }))).toBe(true);
    release(latch, 0);
    await reach(log, 0, 3);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(latch[2]).toBe(1);
    expect(entries(log)).toEqual([10, 5, 11]);
  });

  it('a self-requeue (twice in one run): true then false', async () => {
    const w = run();
    const a = i32();
    const W = work('requeue', { i32: a, n: 3, twice: true });
    k.kthread_queue_work(w, W);
    await reach(a, 0, 3);
    await within(k.kthread_flush_work(W), 'flush_work');
    expect([a[0], a[1], a[2]]).toEqual([3, 1, 2]);
  });
});

describe('kthread_worker: delayed works (cases 114, 115, 117, 118, 125)', () => {
  it('114: queue_delayed twice and queue_work: true, false, false; the timer keeps its first expiry; runs once', async () => {
    const w = run();
    const log = i32();
    const far = dwork('log', { log, tag: 1 });
    expect(k.kthread_queue_delayed_work(w, far, 1_000_000)).toBe(true);
    expect(k.kthread_queue_delayed_work(w, far, 1)).toBe(false);
    expect(k.kthread_queue_work(w, far.work)).toBe(false);
    // Still armed on the far timer: flush refuses (the kernel would hang), as it would not if the 1-jiffy request had taken.
    const near = dwork('log', { log, tag: 2 });
    const J = k.get_jiffies_64();
    expect(k.kthread_queue_delayed_work(w, near, 10)).toBe(true);
    await reach(log, 0, 1);
    expect(k.get_jiffies_64() - J).toBeGreaterThanOrEqual(10n);
    await expect(k.kthread_flush_work(far.work)).rejects.toMatchObject({ code: 'ERR_KTIMERS_KTHREAD_FLUSH_TIMER' });
    expect(await k.kthread_cancel_delayed_work_sync(far)).toBe(true);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([2]);
  });

  it('115: delay 0 queues at once, without a timer (flush_work waits for it rather than refusing)', async () => {
    const w = run();
    const log = i32();
    const d = dwork('log', { log, tag: 5 });
    expect(k.kthread_queue_delayed_work(w, d, 0)).toBe(true);
    await within(k.kthread_flush_work(d.work), 'flush_work');
    expect(entries(log)).toEqual([5]);
  });

  it('117: kthread_mod_delayed_work return values in every state', async () => {
    const w = run();
    const log = i32(), latch = i32();
    const d = dwork('log', { log, tag: 1 });
    // (a) never queued: false, queued with the delay
    expect(k.kthread_mod_delayed_work(w, d, 1_000_000)).toBe(false);
    await expect(k.kthread_flush_work(d.work)).rejects.toMatchObject({ code: 'ERR_KTIMERS_KTHREAD_FLUSH_TIMER' });
    // (b) timer armed: true, re-armed; runs once in total
    expect(k.kthread_mod_delayed_work(w, d, 2)).toBe(true);
    await reach(log, 0, 1);
    // (c) idle after that run: false, delay 0 runs at once
    await within(k.kthread_flush_worker(w), 'flush');
    expect(k.kthread_mod_delayed_work(w, d, 0)).toBe(false);
    await within(k.kthread_flush_work(d.work), 'flush_work');
    expect(entries(log)).toEqual([1, 1]);
    // (d) waiting on work_list behind a blocker: true; leaves the list for a new far timer
    k.kthread_queue_work(w, blocker(log, latch, 0, 50));
    await reach(latch, 1, 1);
    expect(k.kthread_queue_delayed_work(w, d, 0)).toBe(true);
    expect(k.kthread_mod_delayed_work(w, d, 1_000_000)).toBe(true);
    release(latch, 0);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([1, 1, 50, 1050]);
    expect(await k.kthread_cancel_delayed_work_sync(d)).toBe(true);
    // running, not pending: false, a new instance runs after the current one
    const b = dwork('blocker', { log, latch, slot: 2, tag: 60 });
    expect(k.kthread_queue_delayed_work(w, b, 0)).toBe(true);
    await reach(latch, 3, 1);
    expect(k.kthread_mod_delayed_work(w, b, 0)).toBe(false);
    // running and pending again: true
    expect(k.kthread_mod_delayed_work(w, b, 0)).toBe(true);
    release(latch, 2);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log).slice(4)).toEqual([60, 1060, 60, 1060]);
    // a cancel in progress: true, nothing queued
    const c = dwork('blocker', { log, latch, slot: 4, tag: 70 });
    k.kthread_queue_delayed_work(w, c, 0);
    await reach(latch, 5, 1);
    const H = k.kthread_cancel_delayed_work_sync(c);
    expect(k.kthread_mod_delayed_work(w, c, 0)).toBe(true);
    expect(k.kthread_queue_delayed_work(w, c, 0)).toBe(false);
    expect(await settled(H)).toBe(false);
    release(latch, 4);
    expect(await within(H, 'cancel')).toBe(false);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log).slice(8)).toEqual([70, 1070]);
  });

  it('118: mod with delay 0 moves a waiting work to the tail', async () => {
    const w = run();
    const log = i32(), latch = i32();
    k.kthread_queue_work(w, blocker(log, latch, 0, 1));
    await reach(latch, 1, 1);
    const d = dwork('log', { log, tag: 9 });
    k.kthread_queue_work(w, work('log', { log, tag: 2 }));
    expect(k.kthread_queue_delayed_work(w, d, 0)).toBe(true);
    k.kthread_queue_work(w, work('log', { log, tag: 3 }));
    expect(k.kthread_mod_delayed_work(w, d, 0)).toBe(true);
    release(latch, 0);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([1, 1001, 2, 3, 9]);
  });

  it("116, 117 timings, 125 exactly: appended at the wheel's granularity, on the worker thread's virtual clock", async () => {
    // The delayed works' timers live on the worker's own wheel, so the worker thread
    // runs ktimers/testing's virtual clock itself (fixture wheelCase) and each work
    // logs the jiffy it was appended at.
    const w = run('wheel');
    const log = i32(64);
    const tags = [1, 2, 3, 4, 5, 6, 7, 8];
    const dws = tags.map((tag) => dwork('wheelRun', { tag, log }));
    for (const d of dws) k.kthread_queue_delayed_work(w, d, 0); // registers each on the worker
    await within(k.kthread_flush_worker(w), 'register');
    const at = async (start: number, arms: [number, number][], span: number, ops: unknown[] = [], rets = i32(8)) => {
      Atomics.store(log, 0, 0);
      const done = i32(1);
      k.kthread_queue_work(w, work('wheelCase', { start, arms, span, done, ops, rets }));
      await reach(done, 0, 1);
      const e = entries(log);
      return Array.from({ length: e.length / 2 }, (_, i) => [e[2 * i]!, e[2 * i + 1]!]);
    };
    // Armed at J = 0: delay 1 -> 2; 62 -> 63; 63 -> 64; 100 -> 104; 1000 -> 1024; 5000 -> 5120.
    expect(await at(0, [[1, 1], [2, 62], [3, 63], [4, 100], [5, 1000], [6, 5000]], 5200)).toEqual([
      [1, 2], [2, 63], [3, 64], [4, 104], [5, 1024], [6, 5120],
    ]);
    // Armed at J = 1000: delay 10 -> 1011; 100 -> 1104. Case 125: A then B, same jiffy and delay: B first.
    expect(await at(1000, [[1, 10], [2, 100], [7, 10], [8, 10]], 200)).toEqual([[8, 1011], [7, 1011], [1, 1011], [2, 1104]]);
    // 117 (a)(b): mod at 0 with 50 -> false; at 5 with 20 -> true, expires 25, appended at 26, runs once.
    const rets = i32(8);
    expect(await at(0, [], 100, [[0, 'mod', 1, 50], [5, 'mod', 1, 20]], rets)).toEqual([[1, 26]]);
    expect([rets[0], rets[1]]).toEqual([2, 1]);
    // 117 (d): waiting on work_list (queued with delay 0 at 300, not run yet) and modded to 10 in the
    // same jiffy -> true; it leaves the list and is appended at 311, running once.
    const rets2 = i32(8);
    expect(await at(300, [], 50, [[300, 'queue', 2, 0], [300, 'mod', 2, 10]], rets2)).toEqual([[2, 311]]);
    expect([rets2[0], rets2[1]]).toEqual([1, 1]);
  });

  it('125: two delayed works armed in the same jiffy with the same delay: the later-armed runs first', async () => {
    const w = run();
    for (let attempt = 0; attempt < 20; attempt++) {
      const log = i32();
      const A = dwork('log', { log, tag: 1 });
      const B = dwork('log', { log, tag: 2 });
      // The thread's loop is held while both are queued, so it arms both before
      // any timer can run, however late it gets to them (a stalled thread could
      // otherwise arm A, fire it 10 jiffies on, and only then arm B).
      const latch = i32();
      k.kthread_queue_work(w, work('holdSync', { latch, slot: 0 }));
      await reach(latch, 1, 1);
      const j0 = k.get_jiffies_64();
      k.kthread_queue_delayed_work(w, A, 10);
      k.kthread_queue_delayed_work(w, B, 10);
      const same = k.get_jiffies_64() === j0;
      release(latch, 0);
      await reach(log, 0, 2);
      if (!same) continue; // a tick fell between the two calls: not the case's setup
      expect(entries(log)).toEqual([2, 1]);
      return;
    }
    throw new Error('never armed both in one jiffy');
  });
});

describe('kthread_worker: flush (cases 119, 120)', () => {
  it('119: flush_work: never queued and idle return at once; pending waits for it only; running waits for that execution only', async () => {
    const w = run();
    const log = i32(), latch = i32();
    const n = work('log', { log, tag: 1 });
    await within(k.kthread_flush_work(n), 'never queued');
    k.kthread_queue_work(w, n);
    await within(k.kthread_flush_work(n), 'pending');
    await within(k.kthread_flush_work(n), 'idle');
    // (c) B running, a queued, X queued behind: flush(a) returns while X blocks
    k.kthread_queue_work(w, blocker(log, latch, 0, 10));
    await reach(latch, 1, 1);
    const a = work('log', { log, tag: 2 });
    k.kthread_queue_work(w, a);
    k.kthread_queue_work(w, blocker(log, latch, 2, 30));
    const H = k.kthread_flush_work(a);
    release(latch, 0);
    await within(H, 'flush a');
    expect(entries(log)).toContain(2);
    expect(entries(log)).not.toContain(1030);
    // (d) X (slot 2) runs; a second blocker Y queued behind it; flush X returns when X ends, Y still blocked
    await reach(latch, 3, 1);
    k.kthread_queue_work(w, blocker(log, latch, 4, 40));
    release(latch, 2);
    await reach(latch, 5, 1);
    expect(entries(log)).toEqual([1, 10, 1010, 2, 30, 1030, 40]);
    release(latch, 4);
    await within(k.kthread_flush_worker(w), 'flush');
  });

  it('119(d): flush of a running work returns after that execution, before the works behind it', async () => {
    const w = run();
    const log = i32(), latch = i32();
    const a = blocker(log, latch, 0, 1);
    k.kthread_queue_work(w, a);
    await reach(latch, 1, 1);
    k.kthread_queue_work(w, blocker(log, latch, 2, 2));
    const H = k.kthread_flush_work(a);
    expect(await settled(H)).toBe(false);
    release(latch, 0);
    await within(H, 'flush running');
    expect(entries(log).slice(0, 2)).toEqual([1, 1001]);
    expect(entries(log)).not.toContain(1002);
    release(latch, 2);
    await within(k.kthread_flush_worker(w), 'flush');
  });

  it('120: flush_worker waits for what was queued before it, not for later works nor armed delayed works', async () => {
    const w = run();
    const log = i32(), latch = i32();
    k.kthread_queue_work(w, blocker(log, latch, 0, 1));
    k.kthread_queue_work(w, work('log', { log, tag: 2 }));
    const d = dwork('log', { log, tag: 9 });
    k.kthread_queue_delayed_work(w, d, 1_000_000);
    await reach(latch, 1, 1);
    const F = k.kthread_flush_worker(w);
    k.kthread_queue_work(w, blocker(log, latch, 2, 3));
    release(latch, 0);
    await within(F, 'flush_worker');
    expect(entries(log).slice(0, 3)).toEqual([1, 1001, 2]);
    expect(entries(log)).not.toContain(1003);
    await expect(k.kthread_flush_work(d.work)).rejects.toMatchObject({ code: 'ERR_KTIMERS_KTHREAD_FLUSH_TIMER' });
    release(latch, 2);
    expect(await k.kthread_cancel_delayed_work_sync(d)).toBe(true);
  });
});

describe('kthread_worker: cancel (cases 121, 122)', () => {
  it('121: pending -> true and never runs; never queued / idle -> false; running -> waits, refuses queueing meanwhile, false', async () => {
    const w = run();
    const log = i32(), latch = i32();
    k.kthread_queue_work(w, blocker(log, latch, 0, 1));
    await reach(latch, 1, 1);
    const a = work('log', { log, tag: 2 });
    k.kthread_queue_work(w, a);
    expect(await k.kthread_cancel_work_sync(a)).toBe(true);
    release(latch, 0);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([1, 1001]);
    expect(await k.kthread_cancel_work_sync(work('log', { log, tag: 3 }))).toBe(false);
    expect(await k.kthread_cancel_work_sync(a)).toBe(false); // idle (bound, not pending)
    const W = blocker(log, latch, 2, 4);
    k.kthread_queue_work(w, W);
    await reach(latch, 3, 1);
    const H = k.kthread_cancel_work_sync(W);
    expect(k.kthread_queue_work(w, W)).toBe(false);
    expect(await settled(H)).toBe(false);
    release(latch, 2);
    expect(await within(H, 'cancel')).toBe(false);
    expect(entries(log)).toEqual([1, 1001, 4, 1004]);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([1, 1001, 4, 1004]);
    expect(k.kthread_queue_work(w, W)).toBe(true);
    await within(k.kthread_flush_worker(w), 'flush');
  });

  it('a self-requeuing work is stopped by cancel: it runs no more afterwards, and can be queued again', async () => {
    const w = run();
    const a = i32();
    const W = work('requeue', { i32: a });
    k.kthread_queue_work(w, W);
    await reach(a, 0, 20);
    const r = await within(k.kthread_cancel_work_sync(W), 'cancel');
    expect(typeof r).toBe('boolean');
    const runs = Atomics.load(a, 0);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(Atomics.load(a, 0)).toBe(runs);
    if (!r) expect(a[1]).toBe(2); // stopped while running: its own re-queue was refused
    expect(k.kthread_queue_work(w, W)).toBe(true);
    expect(await k.kthread_cancel_work_sync(W)).toBeTypeOf('boolean');
  });

  it('122: cancel_delayed: armed -> true, never runs; on work_list -> true; never queued -> false', async () => {
    const w = run();
    const log = i32(), latch = i32();
    const d = dwork('log', { log, tag: 1 });
    // The thread arms d's timer and then takes the cancel: the delay must outlast any stall
    // between the two (a busy machine gave one of several jiffies), or d runs first and this is
    // not the case under test. A backstop, scaled like the others.
    const D = k.msecs_to_jiffies(250 * SLOWDOWN);
    k.kthread_queue_delayed_work(w, d, D);
    expect(await k.kthread_cancel_delayed_work_sync(d)).toBe(true);
    await within(k.kthread_flush_work(d.work), 'not armed any more');
    const later = dwork('log', { log, tag: 2 });
    k.kthread_queue_delayed_work(w, later, D + 5n); // fires after d's timer would have
    await reach(log, 0, 1);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([2]);
    k.kthread_queue_work(w, blocker(log, latch, 0, 3));
    await reach(latch, 1, 1);
    k.kthread_queue_delayed_work(w, d, 0);
    expect(await k.kthread_cancel_delayed_work_sync(d)).toBe(true);
    release(latch, 0);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([2, 3, 1003]);
    expect(await k.kthread_cancel_delayed_work_sync(dwork('log'))).toBe(false);
  });
});

describe('kthread_worker: destroy (case 123), one worker per work (case 124)', () => {
  it('123: destroy runs what is queued, in order, then the thread exits; no warning', async () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((_m: string, o: { code: string }) => {
      warnings.push(o.code);
    }) as typeof process.emitWarning);
    try {
      const w = k.kthread_run_worker(0, 'doomed');
      const tid = w.task!;
      const log = i32();
      for (const tag of [1, 2, 3]) k.kthread_queue_work(w, work('log', { log, tag }));
      await within(k.kthread_destroy_worker(w), 'destroy');
      expect(entries(log)).toEqual([1, 2, 3]);
      expect(w.task).toBe(null);
      expect(existsSync(`/proc/self/task/${tid}`)).toBe(false);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((c) => c.startsWith('KTIMERS_WARN_KTHREAD'))).toEqual([]);
      expect(() => k.kthread_queue_work(w, work('log', { log, tag: 4 }))).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_KTHREAD_DESTROYED' }));
      expect(() => k.kthread_flush_worker(w)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_KTHREAD_DESTROYED' }));
      expect(() => k.sched_set_fifo(w)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_KTHREAD_DESTROYED' }));
    } finally {
      spy.mockRestore();
    }
  });

  it('destroy with a delayed work armed: WARN, it never runs, and it is not left pending', async () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((_m: string, o: { code: string }) => {
      warnings.push(o.code);
    }) as typeof process.emitWarning);
    try {
      const w = k.kthread_run_worker(0, 'doomed2');
      const log = i32();
      const d = dwork('log', { log, tag: 1 });
      // Armed on the thread, then the destroy arrives and flushes first: a delay of 2 jiffies
      // expired during that on a quiet machine (the work ran, no WARN). The delay must outlast
      // the flush; the thread is gone once destroy settles, so it can never run after.
      k.kthread_queue_delayed_work(w, d, k.msecs_to_jiffies(1000 * SLOWDOWN));
      await within(k.kthread_destroy_worker(w), 'destroy');
      await new Promise((r) => setImmediate(r));
      expect(warnings).toContain('KTIMERS_WARN_KTHREAD_DESTROY_DELAYED');
      const w2 = run('other');
      k.kthread_init_delayed_work(d, { module: new URL('./fixtures/kthread/work.mjs', import.meta.url), name: 'log' }); // no longer pending: re-initialisable
      expect(k.kthread_queue_delayed_work(w2, d, 0)).toBe(true);
      await within(k.kthread_flush_worker(w2), 'flush');
      expect(entries(log)).toEqual([1]); // once: on w2, never on the destroyed worker
    } finally {
      spy.mockRestore();
    }
  });

  // The warning is WARN_ON_ONCE: once per process, so this is the only test that triggers it.
  it('124: a work queued on a second worker: one warning, true, runs there; re-initialised, no warning', async () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((_m: string, o: { code: string }) => {
      warnings.push(o.code);
    }) as typeof process.emitWarning);
    try {
      const w1 = run('w1');
      const w2 = run('w2');
      const out = i32(8);
      const a = work('probe', { out });
      k.kthread_queue_work(w1, a);
      await within(k.kthread_flush_worker(w1), 'flush');
      expect(out[4]).toBe(w1.task);
      expect(a.worker).toBe(w1);
      expect(k.kthread_queue_work(w2, a)).toBe(true);
      await within(k.kthread_flush_worker(w2), 'flush');
      expect(out[4]).toBe(w2.task);
      expect(a.worker).toBe(w2);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((c) => c === 'KTIMERS_WARN_KTHREAD_OTHER_WORKER')).toHaveLength(1);
      k.kthread_init_work(a, { module: new URL('./fixtures/kthread/work.mjs', import.meta.url), name: 'probe' });
      expect(a.worker).toBe(null);
      expect(k.kthread_queue_work(w1, a)).toBe(true);
      await within(k.kthread_flush_worker(w1), 'flush');
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((c) => c === 'KTIMERS_WARN_KTHREAD_OTHER_WORKER')).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('kthread_worker: RT helpers (case 134) and timers on the worker thread', () => {
  it.skipIf(process.getuid?.() !== 0)('134: sched_set_fifo, sched_set_fifo_low, sched_set_normal on the worker thread', () => {
    const w = run('rt');
    const tid = w.task!;
    // /proc/<tid>/timerslack_ns: the thread's own slack (a thread id works there, though not listed).
    const slack = () => Number(readFileSync(`/proc/${tid}/timerslack_ns`, 'utf8'));
    const defaultSlack = slack();
    expect(defaultSlack).toBeGreaterThan(0);
    k.sched_set_fifo(w);
    expect(k.sched_getscheduler(tid)).toEqual({ policy: k.SCHED_FIFO, priority: 50 });
    expect(procPrio(tid)).toBe(-51);
    expect(slack()).toBe(0); // an RT policy removes the slack
    expect(k.sched_getscheduler(process.pid).policy).toBe(k.SCHED_OTHER); // only that thread
    k.sched_set_fifo_low(w);
    expect(k.sched_getscheduler(tid)).toEqual({ policy: k.SCHED_FIFO, priority: 1 });
    expect(procPrio(tid)).toBe(-2);
    k.sched_set_normal(w, 5);
    expect(k.sched_getscheduler(tid)).toEqual({ policy: k.SCHED_OTHER, priority: 0 });
    expect(k.getpriority(tid)).toBe(5);
    expect(procPrio(tid)).toBe(25);
    expect(slack()).toBe(defaultSlack); // back to the thread's default
  });

  it('an hrtimer armed by a work function fires on the worker thread, in hard-IRQ context, while the main thread is busy; a timer_list there runs in softirq context', async () => {
    const w = run('ticks');
    const probeOut = i32(8);
    k.kthread_queue_work(w, work('probe', { out: probeOut }));
    const out = i32(8);
    k.kthread_queue_work(w, work('hrtimerTicks', { out, n: 50, periodNs: 1_000_000 }));
    await reach(probeOut, 5, 1);
    // Busy main thread until the worker's timer has fired 50 times (backstop only).
    const end = Date.now() + BACKSTOP;
    while (Atomics.load(out, 3) === 0 && Date.now() < end);
    expect(out[3]).toBe(1);
    expect(out[0]).toBe(50);
    expect(out[1]).toBe(probeOut[3]);
    expect(out[1]).not.toBe(0);
    expect(out[2]).toBe(1);
    // A timer_list armed there too: softirq context, on the worker thread.
    const tl = i32(8);
    k.kthread_queue_work(w, work('timerListContext', { out: tl }));
    await reach(tl, 3, 1);
    expect([tl[0], tl[1], tl[2]]).toEqual([probeOut[3], 1, 0]);
  });
});
