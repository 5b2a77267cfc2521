// The workqueue API calls the other workqueue tests leave out, each with the
// kernel's exact return values and its effect on execution (kernel/workqueue.c,
// include/linux/workqueue.h): workqueue_set_max_active (the kernel's wq_clamp_max_active, and its
// WARN_ON for BH and ordered queues), the per-CPU meaning of max_active, the
// legacy create_*workqueue, the *_on and schedule_* delayed variants on the
// virtual clock, flush_scheduled_work, DECLARE_*_WORK, the WQ_* values of
// include/linux/workqueue.h, and work-function modules that fail to load.
// "Not started" is shown with a latch holding the only slot and a 50 ms window
// in which a free worker could have started the item: never by timing alone.
import { describe, expect, it, vi } from 'vitest';
import * as k from '../dist/index.js';
import { installVirtualClock } from '../dist/testing.js';
import { until } from './helpers.js';
import { trackedQueues } from './tracked.js';

const workMod = new URL('./fixtures/wq/work.mjs', import.meta.url);
const apiMod = new URL('./fixtures/wq/api-work.mjs', import.meta.url);
const sab = (n = 8) => new Int32Array(new SharedArrayBuffer(4 * n));
const pause = (ms = 50) => new Promise((r) => setTimeout(r, ms));

/** A latch (fixtures/wq/work.mjs `latched`): items wait until open(); i32[1] counts starts, i32[2] ends. */
function latch() {
  const i32 = sab(8);
  return {
    i32,
    started: (n = 1) => until(() => Atomics.load(i32, 1) >= n),
    open() {
      Atomics.store(i32, 0, 1);
      Atomics.notify(i32, 0);
    },
  };
}

function work(module: URL, name: string, data?: unknown): k.work_struct {
  const w = new k.work_struct();
  k.INIT_WORK(w, { module, name });
  w.data = data;
  return w;
}
const latched = (L: ReturnType<typeof latch>) => work(workMod, 'latched', { i32: L.i32 });
/** fixtures/wq/api-work.mjs `tagged`: appends data.tag to log (log[0] counts). */
const tagged = (log: Int32Array, tag: number, out?: Int32Array) => work(apiMod, 'tagged', { log, tag, out });
const logOf = (log: Int32Array) => [...log.slice(1, 1 + Atomics.load(log, 0))];

/** Records process warnings (type, code, message) while a test runs. */
function warnings() {
  const seen: { type?: string; code?: string; message: string }[] = [];
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((m: string, o: { type?: string; code?: string }) => {
    seen.push({ type: o?.type, code: o?.code, message: String(m) });
  }) as typeof process.emitWarning);
  return { seen, codes: () => seen.map((w) => w.code), restore: () => spy.mockRestore() };
}

const latches: ReturnType<typeof latch>[] = [];
function held() {
  const L = latch();
  latches.push(L);
  return L;
}
// Latches open first: a failed assertion must not leave a worker blocked.
const { keep } = trackedQueues(() => {
  for (const L of latches.splice(0)) L.open();
});

const cpus = k.sched_getaffinity(0);

describe('WQ_* values (include/linux/workqueue.h, enum wq_flags)', () => {
  it('flags and limits are the kernel\'s numbers', () => {
    expect({
      WQ_BH: k.WQ_BH, WQ_UNBOUND: k.WQ_UNBOUND, WQ_FREEZABLE: k.WQ_FREEZABLE, WQ_MEM_RECLAIM: k.WQ_MEM_RECLAIM,
      WQ_HIGHPRI: k.WQ_HIGHPRI, WQ_CPU_INTENSIVE: k.WQ_CPU_INTENSIVE, WQ_SYSFS: k.WQ_SYSFS,
      WQ_POWER_EFFICIENT: k.WQ_POWER_EFFICIENT, WQ_PERCPU: k.WQ_PERCPU,
      WQ_MAX_ACTIVE: k.WQ_MAX_ACTIVE, WQ_UNBOUND_MAX_ACTIVE: k.WQ_UNBOUND_MAX_ACTIVE, WQ_DFL_ACTIVE: k.WQ_DFL_ACTIVE,
      WQ_DFL_MIN_ACTIVE: k.WQ_DFL_MIN_ACTIVE, WQ_NAME_LEN: k.WQ_NAME_LEN,
      WORK_BUSY_PENDING: k.WORK_BUSY_PENDING, WORK_BUSY_RUNNING: k.WORK_BUSY_RUNNING, WORK_CPU_UNBOUND: k.WORK_CPU_UNBOUND,
    }).toEqual({
      WQ_BH: 0x1, WQ_UNBOUND: 0x2, WQ_FREEZABLE: 0x4, WQ_MEM_RECLAIM: 0x8, WQ_HIGHPRI: 0x10, WQ_CPU_INTENSIVE: 0x20,
      WQ_SYSFS: 0x40, WQ_POWER_EFFICIENT: 0x80, WQ_PERCPU: 0x100,
      WQ_MAX_ACTIVE: 2048, WQ_UNBOUND_MAX_ACTIVE: 2048, WQ_DFL_ACTIVE: 1024, WQ_DFL_MIN_ACTIVE: 8, WQ_NAME_LEN: 32,
      WORK_BUSY_PENDING: 1, WORK_BUSY_RUNNING: 2, WORK_CPU_UNBOUND: 8192, // NR_CPUS of x86-64 defconfigs (docs/differences.md)
    });
  });
});

describe('workqueue_set_max_active (kernel: WARN_ON for BH/ordered, then wq_clamp_max_active)', () => {
  it('0 is not "the default" here: it is out of range and becomes 1, with the pr_warn; so do negatives; above 2048 → 2048', () => {
    const q = keep(k.alloc_workqueue('setmax', k.WQ_UNBOUND, 0))!;
    const W = warnings();
    const got: number[] = [];
    try {
      expect(q.max_active).toBe(1024); // alloc_workqueue: max_active ?: WQ_DFL_ACTIVE, no warning
      for (const v of [0, -5, 2049, 2048, 1, 7]) {
        k.workqueue_set_max_active(q, v);
        got.push(q.max_active);
      }
    } finally {
      W.restore();
    }
    expect(got).toEqual([1, 1, 2048, 2048, 1, 7]);
    expect(W.seen.map((w) => [w.type, w.code])).toEqual([
      ['KtimersWarning', 'KTIMERS_WARN_WQ_MAX_ACTIVE'],
      ['KtimersWarning', 'KTIMERS_WARN_WQ_MAX_ACTIVE'],
      ['KtimersWarning', 'KTIMERS_WARN_WQ_MAX_ACTIVE'],
    ]);
    // The kernel's text: "workqueue: max_active %d requested for %s is out of range, clamping between %d and %d".
    expect(W.seen[0]!.message).toBe('workqueue: max_active 0 requested for setmax is out of range, clamping between 1 and 2048');
  });

  it('after set_max_active(wq, 0) one item runs at a time; raising the limit starts a waiting item at once', async () => {
    const q = keep(k.alloc_workqueue('setmax0', k.WQ_UNBOUND, 4))!; // the unbound pool has >= 2 workers
    const W = warnings();
    try {
      k.workqueue_set_max_active(q, 0);
    } finally {
      W.restore();
    }
    expect(q.max_active).toBe(1);
    const L = held();
    expect(k.queue_work(q, latched(L))).toBe(true);
    await L.started();
    const log = sab(4);
    const w = tagged(log, 1);
    expect(k.queue_work(q, w)).toBe(true);
    await pause(); // a free worker exists: only max_active keeps w waiting
    expect([logOf(log), k.work_busy(w)]).toEqual([[], k.WORK_BUSY_PENDING]);
    k.workqueue_set_max_active(q, 2);
    await until(() => Atomics.load(log, 0) === 1); // while the first still holds its slot
    expect(Atomics.load(L.i32, 2)).toBe(0);
    L.open();
    await k.flush_workqueue(q);
    expect(logOf(log)).toEqual([1]);
  });

  it('on BH queues: warns (the kernel\'s WARN_ON) and changes nothing, before any clamping', () => {
    const bh = keep(k.alloc_workqueue('bhset', k.WQ_BH, 0))!;
    const W = warnings();
    try {
      k.workqueue_set_max_active(bh, 0);
      k.workqueue_set_max_active(k.system_bh_wq, 5000);
      k.workqueue_set_max_active(k.system_bh_highpri_wq, 4);
    } finally {
      W.restore();
    }
    expect(W.codes()).toEqual(['KTIMERS_WARN_WQ_SET_MAX_ACTIVE', 'KTIMERS_WARN_WQ_SET_MAX_ACTIVE', 'KTIMERS_WARN_WQ_SET_MAX_ACTIVE']);
    expect(W.seen[0]!.message).toMatch(/\bBH\b/);
    expect([bh.max_active, k.system_bh_wq.max_active, k.system_bh_highpri_wq.max_active]).toEqual([Infinity, Infinity, Infinity]);
  });

  it('on ordered queues (alloc_ordered_workqueue, create_singlethread_workqueue): warns, stays 1, no clamp warning', () => {
    const a = keep(k.alloc_ordered_workqueue('ordset', 0))!;
    const b = keep(k.create_singlethread_workqueue('stset'));
    const W = warnings();
    try {
      k.workqueue_set_max_active(a, 0);
      k.workqueue_set_max_active(b, 8);
    } finally {
      W.restore();
    }
    expect(W.codes()).toEqual(['KTIMERS_WARN_WQ_SET_MAX_ACTIVE', 'KTIMERS_WARN_WQ_SET_MAX_ACTIVE']);
    expect(W.seen[0]!.message).toMatch(/ordered/);
    expect([a.max_active, b.max_active]).toEqual([1, 1]);
  });
});

describe('legacy queues', () => {
  it('create_singlethread_workqueue: ordered (WQ_UNBOUND | WQ_MEM_RECLAIM, max_active 1): strictly FIFO, one at a time', async () => {
    const q = keep(k.create_singlethread_workqueue('single'));
    expect(q).toBeInstanceOf(k.workqueue_struct);
    expect([q.name, q.flags & (k.WQ_UNBOUND | k.WQ_MEM_RECLAIM | k.WQ_PERCPU | k.WQ_BH), q.max_active]).toEqual(['single', k.WQ_UNBOUND | k.WQ_MEM_RECLAIM, 1]);
    const L = held();
    k.queue_work(q, latched(L));
    await L.started();
    const log = sab(8);
    const items = [1, 2, 3, 4].map((t) => tagged(log, t));
    expect(items.map((w) => k.queue_work(q, w))).toEqual([true, true, true, true]);
    await pause(); // the unbound pool has a free worker: only ordering holds them
    expect(logOf(log)).toEqual([]);
    L.open();
    await k.flush_workqueue(q);
    expect(logOf(log)).toEqual([1, 2, 3, 4]);
  });

  it('create_workqueue: per-CPU (WQ_PERCPU), WQ_MEM_RECLAIM, max_active 1, not ordered (its limit can change)', () => {
    const q = keep(k.create_workqueue('legacy'));
    expect([q.name, q.flags & (k.WQ_UNBOUND | k.WQ_MEM_RECLAIM | k.WQ_PERCPU | k.WQ_BH), q.max_active]).toEqual(['legacy', k.WQ_MEM_RECLAIM | k.WQ_PERCPU, 1]);
    const W = warnings();
    try {
      k.workqueue_set_max_active(q, 3);
    } finally {
      W.restore();
    }
    expect([W.codes(), q.max_active]).toEqual([[], 3]);
  });

  it.skipIf(cpus.length < 2)('per-CPU max_active is per CPU: max_active 1 runs one item on each CPU at once (queue_work_on, and queue_work round-robin)', async () => {
    const q = keep(k.create_workqueue('percpu1'));
    const [c0, c1] = [cpus[0]!, cpus[1]!];
    const A = held();
    const B = held();
    expect(k.queue_work_on(c0, q, latched(A))).toBe(true);
    expect(k.queue_work_on(c1, q, latched(B))).toBe(true);
    await Promise.all([A.started(), B.started()]); // two at once: one per CPU
    const log = sab(8);
    const w0 = tagged(log, 1);
    const w1 = tagged(log, 2);
    k.queue_work_on(c0, q, w0);
    k.queue_work_on(c1, q, w1);
    await pause(); // each CPU's slot is held: neither starts
    expect(logOf(log)).toEqual([]);
    A.open(); // frees CPU c0's slot only
    await until(() => Atomics.load(log, 0) === 1);
    await pause();
    expect([logOf(log), k.work_busy(w1)]).toEqual([[1], k.WORK_BUSY_PENDING]);
    B.open();
    await k.flush_workqueue(q);
    expect(logOf(log)).toEqual([1, 2]);

    // queue_work (no CPU) spreads over the CPUs round-robin: one latched item per CPU all run at
    // once, the next one waits. (Up to 16 CPUs: one pool thread each.)
    if (cpus.length > 16) return;
    const q2 = keep(k.alloc_workqueue('percpu-rr', k.WQ_PERCPU, 1))!;
    const C = held();
    const log2 = sab(4);
    for (let i = 0; i < cpus.length; i++) k.queue_work(q2, work(workMod, 'latched', { i32: C.i32 }));
    await C.started(cpus.length);
    const next = tagged(log2, 3);
    k.queue_work(q2, next);
    await pause();
    expect(logOf(log2)).toEqual([]);
    C.open();
    await k.flush_workqueue(q2);
    expect(logOf(log2)).toEqual([3]);
  });

  it('an unbound queue\'s max_active is for the whole queue: max_active 1 holds a second item whatever CPU is asked', async () => {
    const q = keep(k.alloc_workqueue('unb1', k.WQ_UNBOUND, 1))!;
    const L = held();
    k.queue_work_on(cpus[0]!, q, latched(L));
    await L.started();
    const log = sab(4);
    k.queue_work_on(cpus[cpus.length - 1]!, q, tagged(log, 1));
    await pause();
    expect(logOf(log)).toEqual([]);
    L.open();
    await k.flush_workqueue(q);
    expect(logOf(log)).toEqual([1]);
  });
});

describe('delayed work variants on the virtual clock', () => {
  it('DECLARE_DELAYED_WORK / DECLARE_DEFERRABLE_WORK: idle items with the function, IRQSAFE (and DEFERRABLE) timers; they run', async () => {
    const log = sab(8);
    const d = k.DECLARE_DELAYED_WORK({ module: apiMod, name: 'tagged' });
    const f = k.DECLARE_DEFERRABLE_WORK({ module: apiMod, name: 'tagged' });
    expect(d).toBeInstanceOf(k.delayed_work);
    expect(f).toBeInstanceOf(k.delayed_work);
    expect(d).not.toBe(f);
    expect(d.work.func).toEqual({ module: apiMod.href, name: 'tagged' });
    expect([k.delayed_work_pending(d), k.work_busy(d.work), k.timer_pending(d.timer)]).toEqual([false, 0, 0]);
    expect(d.timer.flags & (k.TIMER_IRQSAFE | k.TIMER_DEFERRABLE)).toBe(k.TIMER_IRQSAFE);
    expect(f.timer.flags & (k.TIMER_IRQSAFE | k.TIMER_DEFERRABLE)).toBe(k.TIMER_IRQSAFE | k.TIMER_DEFERRABLE);
    expect(k.to_delayed_work(d.work)).toBe(d);
    expect(k.to_delayed_work(f.work)).toBe(f);
    const q = keep(k.alloc_workqueue('declared', k.WQ_UNBOUND, 0))!;
    d.work.data = { log, tag: 1 };
    f.work.data = { log, tag: 2 };
    const clock = installVirtualClock({ startJiffies: 0n });
    try {
      expect(k.queue_delayed_work(q, d, 3n)).toBe(true);
      expect(k.queue_delayed_work(q, f, 3)).toBe(true); // a delay may be a safe-integer number too
      expect([f.timer.expires, k.timer_pending(f.timer)]).toEqual([d.timer.expires, 1]);
      expect(k.work_busy(f.work)).toBe(k.WORK_BUSY_PENDING);
      clock.advanceJiffies(4); // level 0: a delay of 3 at jiffy 0 fires at 4
      await until(() => Atomics.load(log, 0) === 2);
    } finally {
      clock.uninstall();
    }
    expect(logOf(log).sort()).toEqual([1, 2]);
  });

  it('queue_delayed_work_on: true, then false while pending (timer untouched); fires on the wheel; delay 0 queues at once', async () => {
    const q = keep(k.alloc_workqueue('qdon', k.WQ_UNBOUND, 0))!;
    const log = sab(8);
    const dw = new k.delayed_work();
    k.INIT_DELAYED_WORK(dw, { module: apiMod, name: 'tagged' });
    dw.work.data = { log, tag: 1 };
    const clock = installVirtualClock({ startJiffies: 0n });
    try {
      expect(k.queue_delayed_work_on(cpus[0]!, q, dw, 10n)).toBe(true);
      expect(k.queue_delayed_work_on(cpus[0]!, q, dw, 2n)).toBe(false);
      expect(k.queue_delayed_work_on(k.WORK_CPU_UNBOUND, q, dw, 0n)).toBe(false); // pending: not even delay 0 queues it
      expect([dw.timer.expires, k.timer_pending(dw.timer), k.work_busy(dw.work)]).toEqual([10n, 1, k.WORK_BUSY_PENDING]);
      clock.advanceJiffies(10);
      expect(k.timer_pending(dw.timer)).toBe(1); // d <= 62 fires at now + d + 1
      clock.advanceJiffies(1);
      expect(k.timer_pending(dw.timer)).toBe(0);
      await until(() => Atomics.load(log, 0) === 1);
      await k.flush_workqueue(q);
      // Idle again: delay 0 queues without a timer (and without advancing the clock it runs;
      // PENDING itself may already be gone: a spinning idle worker can take it at once).
      expect(k.queue_delayed_work_on(cpus[0]!, q, dw, 0n)).toBe(true);
      expect(k.timer_pending(dw.timer)).toBe(0);
      await k.flush_workqueue(q);
    } finally {
      clock.uninstall();
    }
    expect(logOf(log)).toEqual([1, 1]);
  });

  it.skipIf(cpus.length < 2)('queue_delayed_work_on(cpu) on a per-CPU queue: the item joins that CPU\'s pool (held by that CPU\'s max_active, not the other\'s)', async () => {
    const q = keep(k.create_workqueue('dwcpu')); // max_active 1 per CPU
    const [c0, c1] = [cpus[0]!, cpus[1]!];
    const L = held();
    k.queue_work_on(c0, q, latched(L)); // CPU c0's slot is taken
    await L.started();
    const log = sab(8);
    const mk = (tag: number) => {
      const dw = new k.delayed_work();
      k.INIT_DELAYED_WORK(dw, { module: apiMod, name: 'tagged' });
      dw.work.data = { log, tag };
      return dw;
    };
    const on0 = mk(1);
    const on1 = mk(2);
    const clock = installVirtualClock({ startJiffies: 0n });
    try {
      expect(k.queue_delayed_work_on(c0, q, on0, 5n)).toBe(true);
      expect(k.queue_delayed_work_on(c1, q, on1, 5n)).toBe(true);
      clock.advanceJiffies(6);
      await until(() => Atomics.load(log, 0) === 1);
      await pause();
      expect([logOf(log), k.work_busy(on0.work)]).toEqual([[2], k.WORK_BUSY_PENDING]);
    } finally {
      clock.uninstall();
    }
    L.open();
    await k.flush_workqueue(q);
    expect(logOf(log)).toEqual([2, 1]);
  });

  it('schedule_delayed_work / schedule_delayed_work_on queue on system_percpu_wq; flush_scheduled_work waits for them', async () => {
    const A = held();
    const a = new k.delayed_work();
    k.INIT_DELAYED_WORK(a, { module: workMod, name: 'latched' });
    a.work.data = { i32: A.i32 };
    const log = sab(4);
    const b = new k.delayed_work();
    k.INIT_DELAYED_WORK(b, { module: apiMod, name: 'tagged' });
    b.work.data = { log, tag: 5 };
    const clock = installVirtualClock({ startJiffies: 0n });
    const W = warnings();
    try {
      expect(k.schedule_delayed_work(a, 5n)).toBe(true);
      expect(k.schedule_delayed_work(a, 1n)).toBe(false);
      expect(k.schedule_delayed_work_on(cpus[0]!, b, 7n)).toBe(true);
      expect(k.schedule_delayed_work_on(cpus[0]!, b, 7n)).toBe(false);
      expect([a.timer.expires, b.timer.expires]).toEqual([5n, 7n]);
      // A pending timer is not covered by a flush: resolves with nothing run.
      await k.flush_scheduled_work();
      expect([Atomics.load(A.i32, 1), logOf(log)]).toEqual([0, []]);
      clock.advanceJiffies(8); // both fire (5 + 1, 7 + 1)
    } finally {
      clock.uninstall();
    }
    let flushed = false;
    let p: Promise<unknown>;
    try {
      await A.started();
      await until(() => Atomics.load(log, 0) === 1);
      p = k.flush_scheduled_work().then(() => (flushed = true));
    } finally {
      W.restore();
    }
    // The kernel's __warn_flushing_systemwide_wq (ktimers: once per process).
    expect(W.codes()).toEqual(['KTIMERS_WARN_FLUSH_SYSTEM_WQ']);
    await pause();
    expect([flushed, k.work_busy(a.work)]).toEqual([false, k.WORK_BUSY_RUNNING]); // waits for the running item
    A.open();
    await p;
    expect([Atomics.load(A.i32, 2), logOf(log), k.work_busy(a.work)]).toEqual([1, [5], 0]);
  });

  it('mod_delayed_work_on: false for an idle item (now armed), true for a pending timer (re-armed), true for an item on the worklist (pulled off, delayed again)', async () => {
    const q = keep(k.alloc_ordered_workqueue('modon', 0))!;
    const log = sab(8);
    const dw = new k.delayed_work();
    k.INIT_DELAYED_WORK(dw, { module: apiMod, name: 'tagged' });
    dw.work.data = { log, tag: 1 };
    const L = held();
    const clock = installVirtualClock({ startJiffies: 0n });
    try {
      expect(k.mod_delayed_work_on(cpus[0]!, q, dw, 40n)).toBe(false);
      expect([dw.timer.expires, k.timer_pending(dw.timer)]).toEqual([40n, 1]);
      expect(k.mod_delayed_work_on(cpus[0]!, q, dw, 20n)).toBe(true);
      expect([dw.timer.expires, k.timer_pending(dw.timer)]).toEqual([20n, 1]);
      // On the worklist behind a latched blocker (ordered queue): delay 0 queues it now...
      k.queue_work(q, latched(L));
      await L.started();
      expect(k.mod_delayed_work_on(k.WORK_CPU_UNBOUND, q, dw, 0n)).toBe(true);
      expect([k.timer_pending(dw.timer), k.work_busy(dw.work)]).toEqual([0, k.WORK_BUSY_PENDING]);
      // ...and modding it again pulls it off the worklist and arms the timer.
      expect(k.mod_delayed_work_on(cpus[0]!, q, dw, 5n)).toBe(true);
      expect([dw.timer.expires, k.timer_pending(dw.timer)]).toEqual([5n, 1]);
      L.open();
      await k.flush_workqueue(q); // the blocker done; dw is on its timer, not on the queue
      expect(logOf(log)).toEqual([]);
      clock.advanceJiffies(6);
      await until(() => Atomics.load(log, 0) === 1);
      await k.flush_workqueue(q);
    } finally {
      clock.uninstall();
    }
    expect([logOf(log), k.work_busy(dw.work)]).toEqual([[1], 0]);
  });
});

describe('a delayed_work whose timer the user froze', () => {
  // The workqueue writes its timer's fields (timer_setup, add_timer_global clears TIMER_PINNED):
  // a frozen timer is refused up front with a code, and the item is left as it was.
  it('INIT_DELAYED_WORK and queue_delayed_work: TypeError ERR_INVALID_ARG_TYPE before any effect', async () => {
    const q = keep(k.alloc_workqueue('frozen-dw', k.WQ_UNBOUND, 0))!;
    const fresh = new k.delayed_work();
    Object.freeze(fresh.timer);
    let err: any;
    try {
      k.INIT_DELAYED_WORK(fresh, { module: apiMod, name: 'tagged' });
    } catch (e) {
      err = e;
    }
    expect([err?.constructor, err?.code]).toEqual([TypeError, 'ERR_INVALID_ARG_TYPE']);
    expect(fresh.work.func).toBe(null); // INIT_WORK did not run
    const dw = new k.delayed_work();
    k.INIT_DELAYED_WORK(dw, { module: apiMod, name: 'tagged' });
    Object.freeze(dw.timer);
    err = undefined;
    try {
      k.queue_delayed_work(q, dw, 10n);
    } catch (e) {
      err = e;
    }
    expect([err?.constructor, err?.code]).toEqual([TypeError, 'ERR_INVALID_ARG_TYPE']);
    expect([k.work_busy(dw.work), k.delayed_work_pending(dw), k.timer_pending(dw.timer)]).toEqual([0, false, 0]);
    const log = sab(8);
    dw.work.data = { log, tag: 7 };
    expect(k.queue_delayed_work(q, dw, 0n)).toBe(true); // delay 0 needs no timer: queued at once
    await until(() => Atomics.load(log, 0) === 1);
    expect(log[1]).toBe(7);
  });
});

describe('work-function modules that fail to load (docs/differences.md: ERR_KTIMERS_WORK_LOAD, the cause attached; the queue keeps working)', () => {
  const fixture = (f: string) => new URL(`./fixtures/wq/${f}`, import.meta.url);
  const cases: [string, string, (cause: Error & { code?: string }) => void][] = [
    ['a syntax error', 'load-syntax.mjs', (c) => expect(c).toBeInstanceOf(SyntaxError)],
    ['a throwing top level', 'load-throws.mjs', (c) => {
      expect(c).toBeInstanceOf(RangeError);
      expect(c.message).toBe('load-throws.mjs refuses to load');
      expect(c.code).toBe('EFIXTURE_TOP_LEVEL'); // its own properties survive the trip
    }],
    ['an import of a missing package', 'load-missing-dep.mjs', (c) => {
      expect(c.code).toBe('ERR_MODULE_NOT_FOUND');
      expect(c.message).toMatch(/ktimers-fixture-no-such-package/);
    }],
  ];
  for (const [what, file, checkCause] of cases) {
    it(`${what} (${file}): an error event per run, the item idle after, other items run`, async () => {
      const q = keep(k.alloc_workqueue(`load-${file.slice(5, 11)}`, k.WQ_UNBOUND, 0))!;
      const errs: (Error & { code?: string; cause?: Error & { code?: string }; work?: unknown })[] = [];
      q.on('error', (e) => errs.push(e));
      const out = sab(2);
      const bad = work(fixture(file), 'never', { out }); // the file exists: INIT_WORK accepts it
      expect(k.queue_work(q, bad)).toBe(true);
      await k.flush_workqueue(q);
      expect(errs).toHaveLength(1);
      expect(errs[0]).toBeInstanceOf(k.KtimersError);
      expect(errs[0]!.code).toBe('ERR_KTIMERS_WORK_LOAD');
      expect(errs[0]!.message).toContain(`work function never (${fixture(file).href}) on workqueue "${q.name}" could not be loaded: `);
      expect(errs[0]!.work).toBe(bad);
      checkCause(errs[0]!.cause!);
      expect(errs[0]!.message).toContain(errs[0]!.cause!.message);
      expect([k.work_busy(bad), out[0]]).toEqual([0, 0]);
      // Queued again: reported again (not silently dropped), the function never ran.
      expect(k.queue_work(q, bad)).toBe(true);
      await k.flush_workqueue(q);
      expect(errs.map((e) => e.code)).toEqual(['ERR_KTIMERS_WORK_LOAD', 'ERR_KTIMERS_WORK_LOAD']);
      expect(out[0]).toBe(0);
      // The queue and its pool keep working.
      const log = sab(4);
      const good = tagged(log, 9);
      expect(k.queue_work(q, good)).toBe(true);
      await k.flush_workqueue(q);
      expect([logOf(log), errs.length]).toEqual([[9], 2]);
    });
  }
});
