// The workqueue: kernel return values and guarantees (kernel/workqueue.c,
// include/linux/workqueue.h), on real worker threads. Items
// are held mid-run with latches (SharedArrayBuffer + Atomics) so every "while
// running" / "while pending" state is reached for sure, not by timing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import * as k from '../dist/index.js';
import { installVirtualClock } from '../dist/testing.js';
import { poolThreads } from '../dist/internal/wq-pool.js';
import { SLOWDOWN, until } from './helpers.js';
import { trackedQueues } from './tracked.js';

const mod = new URL('./fixtures/wq/work.mjs', import.meta.url);
const fn = (name: string) => ({ module: mod, name });
const sab = (n = 8) => new Int32Array(new SharedArrayBuffer(4 * n));
const root = fileURLToPath(new URL('..', import.meta.url));

/** A latch: items wait until open(); started(n) resolves once n items entered. */
function latch() {
  const i32 = sab(8);
  return {
    i32,
    started: (n = 1) => until(() => Atomics.load(i32, 1) >= n),
    finished: (n = 1) => until(() => Atomics.load(i32, 2) >= n),
    open() {
      Atomics.store(i32, 0, 1);
      Atomics.notify(i32, 0);
    },
  };
}

function work(name: string, data?: unknown): k.work_struct {
  const w = new k.work_struct();
  k.INIT_WORK(w, fn(name));
  w.data = data;
  return w;
}

/** Records process warnings by code while a test runs. */
function warnings() {
  const codes: string[] = [];
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((_m: string, o: { code?: string }) => {
    codes.push(o?.code ?? '');
  }) as typeof process.emitWarning);
  return { codes, restore: () => spy.mockRestore() };
}

const { keep, wq } = trackedQueues();

const isSettled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 30));
  return done;
};

describe('queueing (case 74) and running', () => {
  it('queue_work twice before it runs: true then false, runs once', async () => {
    const q = wq('twice', 0, 0);
    const o = k.alloc_ordered_workqueue('hold', 0)!;
    keep(o);
    const L = latch();
    const blocker = work('latched', { i32: L.i32 });
    k.queue_work(o, blocker);
    await L.started();
    // Ordered: w waits behind the latched blocker, so it is certainly not running yet.
    const counts = sab(2);
    const w = work('count', { counts });
    expect(k.queue_work(o, w)).toBe(true);
    expect(k.queue_work(o, w)).toBe(false);
    expect(k.queue_work(q, w)).toBe(false); // pending anywhere: false
    expect(k.work_pending(w)).toBe(true);
    const p = k.flush_work(w); // while it is certainly still pending
    L.open();
    expect(await p).toBe(true);
    expect(counts[0]).toBe(1);
    expect(k.work_pending(w)).toBe(false);
    expect(await k.flush_work(w)).toBe(false); // idle
  });

  it('memory ordering: a plain write before queue_work is seen by the function (case 100)', async () => {
    const i32 = sab(4);
    i32[0] = 12345; // not atomic
    const w = work('copy', { i32 });
    expect(k.queue_work(wq('order'), w)).toBe(true);
    await k.flush_work(w);
    expect(i32[1]).toBe(12345);
  });

  it('data reaches the function; SharedArrayBuffers stay shared', async () => {
    const shared = sab(2);
    const w = work('echo', { shared, value: { a: 40, b: [1, 2] } });
    k.queue_work(wq('data'), w);
    await k.flush_work(w);
    expect([shared[0], shared[1]]).toEqual([42, 1]);
  });

  it('an async function is running until its promise settles', async () => {
    const i32 = sab(4);
    const w = work('asyncWork', { i32 });
    k.queue_work(wq('async'), w);
    await until(() => Atomics.load(i32, 1) === 1);
    expect(k.work_busy(w)).toBe(k.WORK_BUSY_RUNNING);
    expect(await k.flush_work(w)).toBe(true);
    expect(Atomics.load(i32, 2)).toBe(1);
    expect(k.work_busy(w)).toBe(0);
  });

  it('schedule_work queues on system_percpu_wq (case 99) and runs', async () => {
    const counts = sab(2);
    const w = work('count', { counts });
    expect(k.schedule_work(w)).toBe(true);
    await k.flush_work(w); // (true, or false if a worker already finished it: both kernel-legal)
    expect(counts[0]).toBe(1);
    expect(k.schedule_work_on(0, w)).toBe(true);
    await k.flush_work(w);
    expect(counts[0]).toBe(2);
  });

  it('100 items on a per-CPU queue each run exactly once', async () => {
    const counts = sab(100);
    const q = wq('percpu', 0, 0);
    const ws = Array.from({ length: 100 }, (_, i) => work('count', { counts, slot: i }));
    expect(ws.map((w) => k.queue_work(q, w)).every(Boolean)).toBe(true);
    await k.flush_workqueue(q);
    expect([...counts]).toEqual(new Array(100).fill(1));
  });
});

describe('introspection (case 94) and context (cases 103, 104)', () => {
  it('work_busy: idle 0, pending 1, running 2, running and re-queued 3; current_work', async () => {
    const o = k.alloc_ordered_workqueue('busy', 0)!;
    keep(o);
    const L = latch();
    const w = work('latched', { i32: L.i32 });
    expect(k.work_busy(w)).toBe(0);
    const L0 = latch();
    const first = work('latched', { i32: L0.i32 });
    k.queue_work(o, first);
    await L0.started();
    k.queue_work(o, w);
    expect(k.work_busy(w)).toBe(k.WORK_BUSY_PENDING);
    L0.open();
    await L.started();
    expect(k.work_busy(w)).toBe(k.WORK_BUSY_RUNNING);
    expect(k.work_pending(w)).toBe(false); // PENDING cleared just before the function ran
    expect(k.queue_work(o, w)).toBe(true); // re-queue while running: true
    expect(k.work_busy(w)).toBe(k.WORK_BUSY_PENDING | k.WORK_BUSY_RUNNING);
    expect(k.current_work()).toBe(null); // not a worker
    L.open();
    await L.finished(2); // ran again after, not concurrently
    expect(await k.flush_work(w)).toBe(false);
  });

  it('inside a work function: in_task, not in_interrupt, current_work is the item, not pending, RUNNING', async () => {
    const out = sab(8);
    const w = work('probe', { out });
    k.queue_work(wq('probe'), w);
    await k.flush_work(w);
    expect([...out.slice(0, 6)]).toEqual([1, 0, 1, 0, k.WORK_BUSY_RUNNING, 1]);
  });

  it('inside a work function, calls that need the main thread throw ERR_KTIMERS_WQ_WORKER_CONTEXT', async () => {
    const out = sab(8);
    const w = work('mainOnlyCalls', { out });
    k.queue_work(wq('mainonly'), w);
    await until(() => out[7] === 1);
    // flush_work, cancel_work, alloc_workqueue (a queue made there would exist only there),
    // queue_work of an item made in the worker (its state would exist only there).
    expect([...out.slice(0, 4)]).toEqual([1, 1, 1, 1]);
  });

  it('sleeping calls throw ERR_KTIMERS_SLEEP_IN_ATOMIC from timer and hrtimer callbacks', async () => {
    const w = work('noop');
    const dw = new k.delayed_work();
    k.INIT_DELAYED_WORK(dw, fn('noop'));
    // Ordered and held by a latched item: what the timer callback queues stays pending.
    const q = k.alloc_ordered_workqueue('atomic', 0)!;
    keep(q);
    const L = latch();
    k.queue_work(q, work('latched', { i32: L.i32 }));
    await L.started();
    const calls: [string, () => unknown][] = [
      ['flush_work', () => k.flush_work(w)],
      ['cancel_work_sync', () => k.cancel_work_sync(w)],
      ['flush_workqueue', () => k.flush_workqueue(q)],
      ['drain_workqueue', () => k.drain_workqueue(q)],
      ['destroy_workqueue', () => k.destroy_workqueue(q)],
      ['cancel_delayed_work_sync', () => k.cancel_delayed_work_sync(dw)],
      ['flush_delayed_work', () => k.flush_delayed_work(dw)],
      ['disable_work_sync', () => k.disable_work_sync(w)],
    ];
    const clock = installVirtualClock();
    const seen: string[] = [];
    try {
      const t = new k.timer_list();
      k.timer_setup(t, () => {
        for (const [name, f] of calls) {
          try {
            f();
            seen.push(`${name}: no throw`);
          } catch (e) {
            seen.push(`${name}: ${(e as { code?: string }).code}`);
          }
        }
        seen.push(`queue_work: ${k.queue_work(q, w)}`); // queueing is fine in atomic context
        seen.push(`cancel_work: ${k.cancel_work(w)}`);
      });
      k.mod_timer(t, k.get_jiffies_64() + 1n);
      const h = new k.hrtimer();
      k.hrtimer_setup(h, () => {
        try {
          k.flush_work(w);
        } catch (e) {
          seen.push(`hrtimer flush_work: ${(e as { code?: string }).code}`);
        }
        return k.HRTIMER_NORESTART;
      }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
      k.hrtimer_start(h, 1000n, k.HRTIMER_MODE_REL);
      clock.advanceJiffies(5);
    } finally {
      clock.uninstall();
    }
    expect(seen).toEqual([
      'hrtimer flush_work: ERR_KTIMERS_SLEEP_IN_ATOMIC',
      ...calls.map(([n]) => `${n}: ERR_KTIMERS_SLEEP_IN_ATOMIC`),
      'queue_work: true',
      'cancel_work: true',
    ]);
    L.open();
  });
});

describe('guarantees', () => {
  it('non-reentrancy: re-queued while running, it runs again after, never on two workers at once', async () => {
    const q = wq('nonreent', k.WQ_UNBOUND, 8); // 2+ workers available
    const L = latch();
    const log = sab(16);
    const w = work('latched', { i32: L.i32, log, tag: 1 });
    k.queue_work(q, w);
    await L.started();
    expect(k.queue_work(q, w)).toBe(true);
    await new Promise((r) => setTimeout(r, 50)); // a free worker exists; it must not start w
    expect(Atomics.load(L.i32, 1)).toBe(1);
    L.open();
    await L.finished(2);
    expect([...log.slice(0, 5)]).toEqual([4, 2, 3, 2, 3]); // start, end, start, end
  });

  it('max_active 1 on an unbound queue: one at a time; max_active 2: at most 2', async () => {
    for (const max of [1, 2]) {
      const q = wq(`max${max}`, k.WQ_UNBOUND, max);
      const i32 = sab(8);
      const ws = Array.from({ length: 6 }, () => work('concurrent', { i32, ms: 15 }));
      for (const w of ws) k.queue_work(q, w);
      await k.flush_workqueue(q);
      expect(Atomics.load(i32, 2)).toBe(6);
      expect(Atomics.load(i32, 4)).toBeLessThanOrEqual(max);
      if (max === 1) expect(Atomics.load(i32, 4)).toBe(1);
    }
  });

  it('ordered queue: strict FIFO, one at a time (case 77)', async () => {
    const o = k.alloc_ordered_workqueue('o', 0)!;
    keep(o);
    expect(o.max_active).toBe(1);
    const log = sab(16);
    const ws = [1, 2, 3].map((tag) => work('sleepLog', { log, tag, ms: 10 }));
    for (const w of ws) k.queue_work(o, w);
    await k.flush_workqueue(o);
    expect([...log.slice(0, 7)]).toEqual([6, 2, 3, 4, 5, 6, 7]);
  });

  it('flush_workqueue waits only for items queued before it', async () => {
    const q = wq('flushbefore', k.WQ_UNBOUND, 8);
    const A = latch();
    const B = latch();
    k.queue_work(q, work('latched', { i32: A.i32 }));
    await A.started();
    const p = k.flush_workqueue(q);
    k.queue_work(q, work('latched', { i32: B.i32 }));
    await B.started();
    expect(await isSettled(p)).toBe(false);
    A.open();
    await p; // B still blocked
    expect(Atomics.load(B.i32, 2)).toBe(0);
    B.open();
    await k.flush_workqueue(q);
    expect(Atomics.load(B.i32, 2)).toBe(1);
  });

  it('destroy_workqueue drains: returns after every queued item ran (case 96); later use throws', async () => {
    const q = k.alloc_workqueue('destroy', 0, 0)!;
    const log = sab(16);
    for (const tag of [1, 2, 3]) k.queue_work(q, work('sleepLog', { log, tag, ms: 10 }));
    await k.destroy_workqueue(q);
    expect(log[0]).toBe(6);
    expect(() => k.queue_work(q, work('noop'))).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_WQ_DESTROYED' }));
    expect(() => k.flush_workqueue(q)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_WQ_DESTROYED' }));
  });

  it('drain_workqueue refuses foreign queueing (true, not queued, warned) and accepts chained queueing (case 97)', async () => {
    const q = wq('drain', k.WQ_UNBOUND, 8);
    const L = latch();
    k.queue_work(q, work('latched', { i32: L.i32 }));
    await L.started();
    const chain = sab(4);
    const self = work('selfRequeue', { i32: chain, n: 3, wq: q });
    const W = warnings();
    try {
      const p = k.drain_workqueue(q);
      const counts = sab(2);
      const x = work('count', { counts });
      expect(k.queue_work(q, x)).toBe(true);
      expect(k.work_pending(x)).toBe(false); // not queued; PENDING cleared (Linux 7.1)
      expect(W.codes).toContain('KTIMERS_WARN_WQ_DRAINING');
      L.open();
      await p;
      expect(counts[0]).toBe(0);
      // Chained: an item of q re-queueing itself on q while q drains.
      k.queue_work(q, self);
      const p2 = k.drain_workqueue(q);
      await p2;
      expect(Atomics.load(chain, 0)).toBe(3);
    } finally {
      W.restore();
    }
  });

  it('self-requeue from the work function: true, and false while already pending', async () => {
    const i32 = sab(4);
    const q = wq('self');
    const w = work('selfRequeue', { i32, n: 5, wq: q });
    k.queue_work(q, w);
    await until(() => Atomics.load(i32, 0) === 5);
    await k.flush_workqueue(q);
    expect([Atomics.load(i32, 0), Atomics.load(i32, 1), Atomics.load(i32, 2)]).toEqual([5, 4, 0]);
  });

  it('a blocked per-CPU worker does not hold up its CPU\'s queue: after 10 ms another worker starts (concurrency management)', async () => {
    const q = wq('pcstall', 0, 0); // per-CPU
    const L = latch();
    k.queue_work_on(0, q, work('latched', { i32: L.i32 }));
    await L.started();
    const counts = sab(2);
    const w = work('count', { counts });
    k.queue_work_on(0, q, w);
    await until(() => Atomics.load(counts, 0) === 1, 5000); // ran while the first item still blocks
    expect(Atomics.load(L.i32, 2)).toBe(0);
    const cpu0 = poolThreads().find((p) => p.cpu === 0 && !p.highpri)!;
    expect(cpu0.tids.length).toBeGreaterThanOrEqual(2);
    await until(() => cpu0.tids.every((t) => t > 0));
    for (const tid of cpu0.tids) expect(k.sched_getaffinity(tid)).toEqual([0]); // the new worker is pinned too
    L.open();
    await k.flush_workqueue(q);
  });

  it('a 1 s blocking work item does not delay a 1 ms hrtimer', async () => {
    const log = sab(4);
    const w = work('sleepLog', { log, tag: 1, ms: 1000 });
    k.queue_work(wq('block'), w);
    await until(() => log[0] === 1);
    const late: bigint[] = [];
    const h = new k.hrtimer();
    k.hrtimer_setup(h, (t) => {
      late.push(k.ktime_get() - k.hrtimer_get_expires(t));
      k.hrtimer_forward_now(t, 1_000_000n);
      return late.length < 100 ? k.HRTIMER_RESTART : k.HRTIMER_NORESTART;
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(h, 1_000_000n, k.HRTIMER_MODE_REL);
    // 100 ticks take ~100 ms (a few hundred on a loaded VM): all inside the item's 1 s block.
    await until(() => late.length >= 100, 5000);
    expect(log[0]).toBe(1); // the item was still blocked throughout
    late.sort((a, b) => (a < b ? -1 : 1));
    expect(late[50]! < 20_000_000n).toBe(true); // median under 20 ms: loose, a noisy VM
    await k.flush_work(w);
  });
});

// The random-sequence model of return values, PENDING, the disable count and execution
// order: test/model-workqueue.test.ts.

describe('the main thread stays responsive', () => {
  it('a 1 ms hrtimer keeps firing while a stream of completions arrives', async () => {
    const q = wq('stream');
    const i32 = sab(4);
    const items = [0, 1, 2, 3].map(() => work('spin', { i32, wq: q })); // each re-queues itself: a record stream
    for (const w of items) k.queue_work(q, w);
    await until(() => Atomics.load(i32, 1) > 1000);
    const late: bigint[] = [];
    const h = new k.hrtimer();
    k.hrtimer_setup(h, (t) => {
      late.push(k.ktime_get() - k.hrtimer_get_expires(t));
      k.hrtimer_forward_now(t, 1_000_000n);
      return late.length < 200 ? k.HRTIMER_RESTART : k.HRTIMER_NORESTART;
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    const runsBefore = Atomics.load(i32, 1);
    k.hrtimer_start(h, 1_000_000n, k.HRTIMER_MODE_REL);
    await until(() => late.length >= 200, 10_000);
    const runs = Atomics.load(i32, 1) - runsBefore;
    Atomics.store(i32, 0, 1);
    for (const w of items) await k.cancel_work_sync(w);
    expect(runs).toBeGreaterThan(200); // the stream really flowed meanwhile (each re-queue is a round trip through this thread)
    late.sort((a, b) => (a < b ? -1 : 1));
    expect(late[100]! < 20_000_000n).toBe(true); // median under 20 ms: loose, a noisy VM
  });
});

describe('cancelling and disabling (cases 84, 91)', () => {
  it('cancel_work_sync on idle: false at once; cancel_work on running: false without waiting', async () => {
    const q = wq('cancel');
    const idle = work('noop');
    expect(await k.cancel_work_sync(idle)).toBe(false);
    const L = latch();
    const w = work('latched', { i32: L.i32 });
    k.queue_work(q, w);
    await L.started();
    expect(k.cancel_work(w)).toBe(false);
    expect(k.work_busy(w)).toBe(k.WORK_BUSY_RUNNING);
    L.open();
    await k.flush_work(w);
  });

  it('cancel_work on a pending item: true, and it never runs', async () => {
    const o = k.alloc_ordered_workqueue('cancelpend', 0)!;
    keep(o);
    const L = latch();
    k.queue_work(o, work('latched', { i32: L.i32 }));
    await L.started();
    const counts = sab(2);
    const w = work('count', { counts });
    k.queue_work(o, w);
    expect(k.cancel_work(w)).toBe(true);
    expect(k.cancel_work(w)).toBe(false);
    expect(k.work_pending(w)).toBe(false);
    L.open();
    await k.flush_workqueue(o);
    expect(counts[0]).toBe(0);
  });

  it('cancel_work_sync blocks re-queueing while it waits, and waits for the running instance', async () => {
    const q = wq('cancelsync', k.WQ_UNBOUND, 4);
    const L = latch();
    const w = work('latchedRequeue', { i32: L.i32, wq: q });
    k.queue_work(q, w);
    await L.started();
    const p = k.cancel_work_sync(w);
    expect(k.queue_work(q, w)).toBe(false); // disabled while cancel_work_sync waits
    expect(await isSettled(p)).toBe(false);
    L.open();
    expect(await p).toBe(false); // it was running, not pending
    expect(Atomics.load(L.i32, 5)).toBe(2); // the function's self-requeue returned false
    expect(k.work_busy(w)).toBe(0);
    expect(Atomics.load(L.i32, 1)).toBe(1); // ran once
    expect(k.queue_work(q, w)).toBe(true); // enabled again afterwards (it re-queues itself from now on)
    await k.cancel_work_sync(w); // which cancel_work_sync stops
    expect(k.work_busy(w)).toBe(0);
  });

  it('cancel_delayed_work_sync on a running, not re-queued item: false, after it finished (case 91)', async () => {
    const q = wq('cdws');
    const L = latch();
    const dw = new k.delayed_work();
    k.INIT_DELAYED_WORK(dw, fn('latched'));
    dw.work.data = { i32: L.i32 };
    expect(k.queue_delayed_work(q, dw, 0n)).toBe(true);
    await L.started();
    const p = k.cancel_delayed_work_sync(dw);
    expect(await isSettled(p)).toBe(false);
    L.open();
    expect(await p).toBe(false);
    expect(Atomics.load(L.i32, 2)).toBe(1);
  });

  it('disable_work / enable_work: counted; queueing refused while disabled', async () => {
    const q = wq('disable');
    const counts = sab(2);
    const w = work('count', { counts });
    expect(k.disable_work(w)).toBe(false);
    expect(k.disable_work(w)).toBe(false);
    expect(k.queue_work(q, w)).toBe(false);
    expect(k.enable_work(w)).toBe(false); // count 1
    expect(k.queue_work(q, w)).toBe(false);
    expect(k.enable_work(w)).toBe(true); // count 0
    expect(k.queue_work(q, w)).toBe(true);
    await k.flush_work(w);
    expect(counts[0]).toBe(1);
    const W = warnings();
    try {
      expect(k.enable_work(w)).toBe(true);
      expect(W.codes).toEqual(['KTIMERS_WARN_WORK_DISABLE_UNDERFLOW']);
    } finally {
      W.restore();
    }
    expect(k.enable_and_queue_work(q, w)).toBe(true);
    await k.flush_work(w);
    expect(counts[0]).toBe(2);
  });

  it('disable_work on a pending item cancels it (true); disable_work_sync waits for the running one', async () => {
    const o = k.alloc_ordered_workqueue('dis2', 0)!;
    keep(o);
    const L = latch();
    const running = work('latched', { i32: L.i32 });
    k.queue_work(o, running);
    await L.started();
    const counts = sab(2);
    const w = work('count', { counts });
    k.queue_work(o, w);
    expect(k.disable_work(w)).toBe(true);
    const p = k.disable_work_sync(running);
    expect(await isSettled(p)).toBe(false);
    L.open();
    expect(await p).toBe(false);
    expect(k.queue_work(o, running)).toBe(false); // still disabled
    await k.flush_workqueue(o);
    expect(counts[0]).toBe(0);
    expect(k.enable_work(running)).toBe(true);
  });
});

describe('delayed work on the timer wheel (virtual clock)', () => {
  it('delay 0 queues at once, no timer (case 87)', async () => {
    const o = k.alloc_ordered_workqueue('d0', 0)!;
    keep(o);
    const L = latch();
    k.queue_work(o, work('latched', { i32: L.i32 }));
    await L.started();
    const counts = sab(2);
    const dw = new k.delayed_work();
    k.INIT_DELAYED_WORK(dw, fn('count'));
    dw.work.data = { counts };
    expect(k.queue_delayed_work(o, dw, 0n)).toBe(true);
    expect(k.timer_pending(dw.timer)).toBe(0);
    expect(k.work_pending(dw.work)).toBe(true);
    expect(k.delayed_work_pending(dw)).toBe(true);
    const p = k.flush_delayed_work(dw); // before the blocker goes: it must wait
    L.open();
    expect(await p).toBe(true);
    expect(counts[0]).toBe(1);
  });

  it('fires on the wheel\'s rounding: delay 10 at jiffy 0 runs at 11; delay 100 at 104 (level 1)', async () => {
    const q = wq('dvirt');
    const clock = installVirtualClock({ startJiffies: 0n });
    try {
      const counts = sab(2);
      const a = new k.delayed_work();
      k.INIT_DELAYED_WORK(a, fn('count'));
      a.work.data = { counts, slot: 0 };
      const b = new k.delayed_work();
      k.INIT_DELAYED_WORK(b, fn('count'));
      b.work.data = { counts, slot: 1 };
      expect(k.queue_delayed_work(q, a, 10n)).toBe(true);
      expect(k.queue_delayed_work(q, a, 5n)).toBe(false); // pending: the timer is not modified
      expect(a.timer.expires).toBe(10n);
      expect(k.queue_delayed_work(q, b, 100n)).toBe(true);
      expect(await k.flush_work(a.work)).toBe(false); // timer pending counts as idle
      clock.advanceJiffies(10);
      expect(k.timer_pending(a.timer)).toBe(1);
      clock.advanceJiffies(1); // jiffy 11
      expect(k.timer_pending(a.timer)).toBe(0);
      await k.flush_workqueue(q); // (flush_work could find it already done: a fast worker)
      expect(counts[0]).toBe(1);
      clock.advanceJiffies(103 - 11);
      expect(k.timer_pending(b.timer)).toBe(1);
      clock.advanceJiffies(1); // 104
      expect(k.timer_pending(b.timer)).toBe(0);
      await k.flush_work(b.work);
      expect([counts[0], counts[1]]).toEqual([1, 1]);
    } finally {
      clock.uninstall();
    }
  });

  it('mod_delayed_work: true re-arms a pending one, false queues an idle one; cancel_delayed_work; flush_delayed_work', async () => {
    const q = wq('dmod');
    const clock = installVirtualClock({ startJiffies: 0n });
    try {
      const counts = sab(2);
      const dw = new k.delayed_work();
      k.INIT_DELAYED_WORK(dw, fn('count'));
      dw.work.data = { counts };
      expect(k.mod_delayed_work(q, dw, 50n)).toBe(false); // idle -> queued with delay
      expect(dw.timer.expires).toBe(50n);
      expect(k.mod_delayed_work(q, dw, 20n)).toBe(true); // pending -> re-armed
      expect(dw.timer.expires).toBe(20n);
      expect(k.cancel_delayed_work(dw)).toBe(true);
      expect(k.cancel_delayed_work(dw)).toBe(false);
      expect([k.timer_pending(dw.timer), k.delayed_work_pending(dw)]).toEqual([0, false]);
      clock.advanceJiffies(100);
      expect(counts[0]).toBe(0);
      k.queue_delayed_work(q, dw, 1000n);
      expect(await k.flush_delayed_work(dw)).toBe(true); // queued now, ran
      expect(counts[0]).toBe(1);
      expect(k.timer_pending(dw.timer)).toBe(0);
      expect(await k.cancel_delayed_work_sync(dw)).toBe(false);
      k.queue_delayed_work(q, dw, 1000n);
      expect(await k.cancel_delayed_work_sync(dw)).toBe(true);
      expect(k.mod_delayed_work(q, dw, 0n)).toBe(false); // idle, delay 0: queued at once
      await k.flush_work(dw.work);
      expect(counts[0]).toBe(2);
    } finally {
      clock.uninstall();
    }
  });

  it('on the real clock: never early (a delay of 20 jiffies runs at jiffies + 21 or later), BH delayed work too', async () => {
    const q = wq('dreal');
    const counts = sab(2);
    const dw = new k.delayed_work();
    k.INIT_DELAYED_WORK(dw, fn('count'));
    dw.work.data = { counts };
    let bhAt = 0n;
    const bh = new k.delayed_work();
    k.INIT_DELAYED_WORK(bh, () => (bhAt = k.get_jiffies_64()));
    const j0 = k.get_jiffies_64();
    expect(k.queue_delayed_work(q, dw, 20n)).toBe(true);
    expect(k.queue_delayed_work(k.system_bh_wq, bh, 20n)).toBe(true);
    const e = dw.timer.expires; // jiffies + 20 at the call (a tick may fall between j0 and it)
    expect(e - j0 === 20n || e - j0 === 21n).toBe(true);
    await until(() => Atomics.load(counts, 0) === 1 && bhAt !== 0n);
    expect(k.get_jiffies_64() >= e + 1n).toBe(true); // level 0: runs at expires + 1, never before
    expect(bhAt >= bh.timer.expires + 1n).toBe(true);
  });

  it('a delayed work re-queueing itself with a delay from its function', async () => {
    const q = wq('dself');
    const clock = installVirtualClock({ startJiffies: 0n });
    try {
      const i32 = sab(4);
      const dw = new k.delayed_work();
      k.INIT_DELAYED_WORK(dw, fn('delayedSelf'));
      dw.work.data = { i32, delay: 5n, n: 2, wq: q };
      k.queue_delayed_work(q, dw, 0n);
      await until(() => Atomics.load(i32, 0) === 1);
      await k.flush_workqueue(q); // the request record is processed
      expect(Atomics.load(i32, 1)).toBe(1);
      expect(k.timer_pending(dw.timer)).toBe(1);
      clock.advanceJiffies(6);
      await until(() => Atomics.load(i32, 0) === 2);
    } finally {
      clock.uninstall();
    }
  });
});

describe('queues: flags, max_active, BH (cases 79, 80, 81)', () => {
  it('max_active 0 → 1024; 5000 → 2048 and -3 → 1 with a warning; names truncated to 31', () => {
    const W = warnings();
    try {
      expect(wq('a', 0, 0).max_active).toBe(k.WQ_DFL_ACTIVE);
      expect(wq('b', 0, 5000).max_active).toBe(k.WQ_MAX_ACTIVE);
      expect(wq('c', 0, -3).max_active).toBe(1);
      expect(W.codes).toEqual(['KTIMERS_WARN_WQ_MAX_ACTIVE', 'KTIMERS_WARN_WQ_MAX_ACTIVE']);
      expect(wq('x'.repeat(40)).name).toBe('x'.repeat(31));
      const q = wq('set', 0, 4);
      k.workqueue_set_max_active(q, 16);
      expect(q.max_active).toBe(16);
      k.workqueue_set_max_active(q, 9999);
      expect(q.max_active).toBe(2048);
    } finally {
      W.restore();
    }
  });

  it('WQ_BH: max_active must be 0 and only HIGHPRI/PERCPU combine, else null + warning', () => {
    const W = warnings();
    try {
      expect(k.alloc_workqueue('b', k.WQ_BH, 1)).toBe(null);
      expect(k.alloc_workqueue('b', k.WQ_BH | k.WQ_UNBOUND, 0)).toBe(null);
      const ok = k.alloc_workqueue('b', k.WQ_BH | k.WQ_HIGHPRI, 0);
      expect(ok).toBeInstanceOf(k.workqueue_struct);
      keep(ok!);
      expect(W.codes).toEqual(['KTIMERS_WARN_WQ_BH', 'KTIMERS_WARN_WQ_BH']);
    } finally {
      W.restore();
    }
  });

  it('workqueue_set_max_active on an ordered queue warns and stays 1 (case 81)', () => {
    const o = k.alloc_ordered_workqueue('o', 0)!;
    keep(o);
    const W = warnings();
    try {
      k.workqueue_set_max_active(o, 4);
      expect(W.codes).toEqual(['KTIMERS_WARN_WQ_SET_MAX_ACTIVE']);
    } finally {
      W.restore();
    }
    expect(o.max_active).toBe(1);
  });

  it('BH work: plain functions on the main thread in softirq context, in queueing order', async () => {
    const seen: unknown[] = [];
    const a = new k.work_struct();
    const b = new k.work_struct();
    k.INIT_WORK(a, (w) => seen.push(['a', k.in_serving_softirq(), k.in_task(), k.current_work() === w, k.work_busy(w)]));
    k.INIT_WORK(b, () => seen.push(['b']));
    expect(k.queue_work(k.system_bh_wq, a)).toBe(true);
    expect(k.queue_work(k.system_bh_wq, a)).toBe(false);
    expect(k.queue_work(k.system_bh_wq, b)).toBe(true);
    expect(seen).toEqual([]); // not synchronously
    expect(await k.flush_work(b)).toBe(true);
    expect(seen).toEqual([['a', true, false, true, k.WORK_BUSY_RUNNING], ['b']]);
    // A cancelled BH item does not run.
    k.queue_work(k.system_bh_wq, a);
    expect(k.cancel_work(a)).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(seen.length).toBe(2);
  });

  it('a plain function on a worker queue, or a module export on a BH queue: ERR_KTIMERS_WORK_FN, nothing queued', () => {
    const plain = new k.work_struct();
    k.INIT_WORK(plain, () => {});
    expect(() => k.queue_work(wq('fnkind'), plain)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_WORK_FN' }));
    expect(k.work_pending(plain)).toBe(false);
    const named = work('noop');
    expect(() => k.queue_work(k.system_bh_wq, named)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_WORK_FN' }));
    expect(k.work_pending(named)).toBe(false);
  });
});

describe('errors in work functions', () => {
  it('a throw is an error event naming the function and the queue; the pool keeps working', async () => {
    const q = wq('errs');
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const bad = work('throws', { tag: 7 });
    k.queue_work(q, bad);
    await k.flush_workqueue(q);
    expect(errs.length).toBe(1);
    expect(errs[0]).toMatchObject({ code: 'ERR_KTIMERS_WORK_FAILED' });
    expect(errs[0]!.message).toMatch(/throws .*work\.mjs.* on workqueue "errs" threw: boom 7/);
    expect((errs[0] as { cause?: Error }).cause?.message).toBe('boom 7');
    const counts = sab(2);
    const good = work('count', { counts });
    k.queue_work(q, good);
    await k.flush_work(good);
    expect(counts[0]).toBe(1);
  });

  it('a missing export or a non-function export is reported at first run (ERR_KTIMERS_WORK_LOAD)', async () => {
    const q = wq('load');
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const a = work('nope');
    const b = work('notAFunction');
    k.queue_work(q, a);
    k.queue_work(q, b);
    await k.flush_workqueue(q);
    expect(errs.map((e) => (e as { code?: string }).code)).toEqual(['ERR_KTIMERS_WORK_LOAD', 'ERR_KTIMERS_WORK_LOAD']);
    const msgs = errs.map((e) => e.message).sort(); // two workers: either order
    expect(msgs[1]).toMatch(/^work function notAFunction .* on workqueue "load" could not be loaded: .*has no exported function "notAFunction" \(got number\)/);
    expect(msgs[0]).toMatch(/^work function nope .* could not be loaded: .*has no exported function "nope" \(got undefined\)/);
  });

  // The function calls queue_work(bh, itself) twice in a row. The worker can only set PENDING
  // and tell the main thread, which finds the queue cannot run the item, reports it and clears
  // PENDING again — concurrently with the function. So the second call returns false if it
  // comes before the main thread handled the first, and true (a second report) if after:
  // both happen (a stress run: 19 of 300 got two). What must hold either way: the first call
  // returned true, every true return is reported exactly once, nothing stays queued.
  it('a work function queueing itself on a queue that cannot run it: an error event on that queue per accepted call, nothing queued', async () => {
    const bh = k.alloc_workqueue('bhx', k.WQ_BH, 0)!;
    keep(bh);
    const errs: Error[] = [];
    bh.on('error', (e) => errs.push(e));
    const i32 = sab(4);
    const w = work('selfRequeue', { i32, n: 2, wq: bh });
    const q = wq('tobh');
    k.queue_work(q, w);
    await until(() => Atomics.load(i32, 0) === 1, 10_000);
    await k.flush_workqueue(q); // the run has ended: both calls' results are recorded
    const accepted = Atomics.load(i32, 1) + Atomics.load(i32, 2);
    expect(Atomics.load(i32, 1)).toBe(1); // the first queue_work returned true (PENDING was free)
    await until(() => errs.length >= accepted, 10_000);
    await new Promise((r) => setTimeout(r, 20)); // and no extra report follows
    expect(errs).toHaveLength(accepted);
    for (const e of errs) expect(e).toMatchObject({ code: 'ERR_KTIMERS_WORK_FN' });
    expect(k.work_pending(w)).toBe(false);
    expect(Atomics.load(i32, 0)).toBe(1); // never ran again
  });

  it('a module that does not exist is refused at INIT_WORK; relative paths are refused', () => {
    const w = new k.work_struct();
    expect(() => k.INIT_WORK(w, { module: '/nonexistent/x.mjs', name: 'f' })).toThrow(
      expect.objectContaining({ code: 'ERR_KTIMERS_WORK_MODULE_NOT_FOUND' }),
    );
    expect(() => k.INIT_WORK(w, { module: './x.mjs', name: 'f' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => k.INIT_WORK(w, { module: mod, name: '' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('a worker that exits mid-item: the item is reported (ERR_KTIMERS_WORKER_EXIT), the pool starts a new worker', async () => {
    const q = wq('exit', k.WQ_UNBOUND, 0);
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const bad = work('exitWorker');
    expect(k.queue_work(q, bad)).toBe(true);
    await until(() => errs.length === 1);
    expect(errs[0]).toMatchObject({ code: 'ERR_KTIMERS_WORKER_EXIT' });
    expect(errs[0]!.message).toMatch(/exitWorker .* on workqueue "exit" did not finish: its worker thread exited \(code 3\)/);
    expect(k.work_busy(bad)).toBe(0);
    expect(await k.flush_work(bad)).toBe(false);
    const counts = sab(4);
    const ws = [0, 1, 2, 3].map(() => work('count', { counts }));
    for (const w of ws) k.queue_work(q, w);
    await k.flush_workqueue(q);
    expect(counts[0]).toBe(4);
  });

  it('data that cannot be cloned is reported, not lost silently', async () => {
    const q = wq('clone');
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const w = work('noop', { f: () => 1 });
    expect(k.queue_work(q, w)).toBe(true);
    await k.flush_workqueue(q);
    expect(errs.map((e) => (e as { code?: string }).code)).toEqual(['ERR_KTIMERS_WORK_DATA']);
    expect(k.work_pending(w)).toBe(false);
  });
});

describe('worker threads: priority and affinity', () => {
  it('WQ_HIGHPRI workers run at nice -20; per-CPU workers are pinned to their CPU', async () => {
    const counts = sab(4);
    const hi = work('count', { counts, slot: 0 });
    const pc = work('count', { counts, slot: 1 });
    k.queue_work_on(0, k.system_highpri_wq, hi);
    k.queue_work_on(0, k.system_wq, pc);
    await k.flush_work(hi);
    await k.flush_work(pc);
    const pools = poolThreads();
    const hp = pools.find((p) => p.cpu === 0 && p.highpri)!;
    const np = pools.find((p) => p.cpu === 0 && !p.highpri)!;
    await until(() => hp.tids[0]! > 0 && np.tids[0]! > 0);
    const canNice = (() => {
      try {
        k.setpriority(0, k.getpriority(0));
        return process.getuid?.() === 0;
      } catch {
        return false;
      }
    })();
    if (canNice) expect(k.getpriority(hp.tids[0]!)).toBe(-20);
    expect(k.getpriority(np.tids[0]!)).toBe(k.getpriority(0)); // the process's own nice (npm test may run under `nice`)
    expect(k.sched_getaffinity(hp.tids[0]!)).toEqual([0]);
    expect(k.sched_getaffinity(np.tids[0]!)).toEqual([0]);
  });

  it.skipIf(!existsSync('/usr/bin/setpriv') || process.getuid?.() !== 0)(
    'where nice -20 is refused (no CAP_SYS_NICE), it warns once and the items still run',
    () => {
      const r = spawnSync('/usr/bin/setpriv', ['--bounding-set', '-sys_nice', process.execPath, 'test/fixtures/wq/child.mjs', 'highpri'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out.ran).toBe(4);
      expect(out.warnings).toEqual(['KTIMERS_WARN_WQ_HIGHPRI']);
    },
  );
});

describe('lifecycle', () => {
  const child = (stage: string) => {
    const r = spawnSync(process.execPath, ['test/fixtures/wq/child.mjs', stage], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    return { ...r, json: JSON.parse(r.stdout.trim().split('\n').pop() || 'null') };
  };

  it('a program that never queues work starts no thread', () => {
    const r = child('no-work');
    expect(r.status).toBe(0);
    expect(r.json.wq).toBe(true);
    expect(r.json.after).toBe(r.json.before);
  });

  it('an idle pool does not keep the process alive', () => {
    const r = child('idle-pool');
    expect(r.status).toBe(0);
    expect(r.json.grew).toBe(true);
    expect(r.json.elapsedMs).toBeLessThan(3000 * SLOWDOWN); // a backstop: held, it would never exit
  });

  it('a queued item keeps the process alive until it ran', () => {
    const r = child('queued-keeps-alive');
    expect(r.status).toBe(0);
    expect(r.json.log.slice(0, 3)).toEqual([2, 2, 3]);
    expect(r.json.elapsedMs).toBeGreaterThanOrEqual(250);
  });

  it('a delayed work\'s pending timer keeps the process alive until the item ran', () => {
    const r = child('delayed-keeps-alive');
    expect(r.status).toBe(0);
    expect(r.json.log.slice(0, 3)).toEqual([2, 2, 3]);
    expect(r.json.elapsedMs).toBeGreaterThanOrEqual(290);
  });

  it('the workqueue works inside a worker_thread (its own pool)', async () => {
    const w = new Worker(
      `import('${new URL('../dist/index.js', import.meta.url).href}').then(async (k) => {
        const { parentPort } = await import('node:worker_threads');
        const counts = new Int32Array(new SharedArrayBuffer(4));
        const w = k.DECLARE_WORK({ module: new URL('${mod.href}'), name: 'count' });
        w.data = { counts };
        const q = k.alloc_workqueue('inworker', k.WQ_UNBOUND, 0);
        k.queue_work(q, w);
        await k.destroy_workqueue(q);
        parentPort.postMessage(counts[0]);
      });`,
      { eval: true },
    );
    const got = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(got).toBe(1);
    await w.terminate();
  });

  it('a worker_thread that used the workqueue leaves no thread or fd behind when it ends', () => {
    const r = child('worker-leak');
    expect(r.status).toBe(0);
    expect(r.json.ran).toEqual([4, 4, 4, 4]);
    // Each run made 3 pool threads with their ports and epoll fds: a leak grows by that much per run.
    expect(r.json.after.tasks).toBeLessThanOrEqual(r.json.before.tasks);
    expect(r.json.after.fds).toBeLessThanOrEqual(r.json.before.fds);
  });
});
