// The workqueue's edge paths: every coded error and warning of lib/workqueue/ and
// lib/internal/wq-*.ts that test/workqueue.test.ts does not reach, triggered as a user
// would, with the state each leaves behind (kernel/workqueue.c, docs/guide/workqueue.md).
// Once-warnings are once per process per code (lib/errors.ts kwarn) and vitest runs
// this file in its own process: each once-warning is triggered by one test only, and
// what needs a fresh process (the process's error path, a cpuset) runs in a child.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { installVirtualClock } from '../dist/testing.js';
import { SLOWDOWN, until } from './helpers.js';
import { trackedQueues } from './tracked.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const mod = new URL('./fixtures/wq/work.mjs', import.meta.url);
const edgesMod = new URL('./fixtures/wq/edges-work.mjs', import.meta.url);
const fn = (name: string) => ({ module: mod, name });
const sab = (n = 8) => new Int32Array(new SharedArrayBuffer(4 * n));

/** A latch: items wait until open(); started(n) resolves once n items entered. */
function latch() {
  const i32 = sab(8);
  return {
    i32,
    started: (n = 1) => until(() => Atomics.load(i32, 1) >= n, 5000 * SLOWDOWN),
    open() {
      Atomics.store(i32, 0, 1);
      Atomics.notify(i32, 0);
    },
  };
}

function work(name: string, data?: unknown, m: URL = mod): k.work_struct {
  const w = new k.work_struct();
  k.INIT_WORK(w, { module: m, name });
  w.data = data;
  return w;
}

/** A latched item queued on `q` and running: its worker waits in the latch until `L.open()`. */
async function running(q: k.workqueue_struct) {
  const L = latch();
  const w = work('latched', { i32: L.i32 });
  k.queue_work(q, w);
  await L.started();
  return { L, w };
}

const { keep, wq } = trackedQueues();

/** Process warnings (the real 'warning' events, emitted on nextTick) while a test runs. */
function warnings() {
  const list: Error[] = [];
  const on = (w: Error) => list.push(w);
  process.on('warning', on);
  return {
    /** The warnings of `code` seen so far (after letting nextTick run). */
    async of(code: string) {
      await new Promise((r) => setImmediate(r));
      return list.filter((w) => (w as { code?: string }).code === code);
    },
    stop: () => process.off('warning', on),
  };
}

const isSettled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 30));
  return done;
};

function child(stage: string, wrap: string[] = []) {
  const argv = [...wrap, process.execPath, 'test/fixtures/wq/edges.mjs', stage];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: root, encoding: 'utf8', timeout: 20_000 * SLOWDOWN });
  const last = r.stdout.trim().split('\n').pop() || 'null';
  return { ...r, json: JSON.parse(last) };
}

describe("a work function's failure with no 'error' listener: the process's usual error path", () => {
  it('no uncaughtException listener either: the process exits with code 1, stderr naming the error, the function and the queue', () => {
    const r = child('uncaught');
    expect(r.status, r.stderr).toBe(1);
    expect(r.json).toEqual({ exit: 1 });
    expect(r.stderr).toMatch(/KtimersError: work function throws \(file:.*work\.mjs\) on workqueue "nolistener" threw: boom 5/);
    expect(r.stderr).toContain("code: 'ERR_KTIMERS_WORK_FAILED'");
    expect(r.stderr).toMatch(/cause: Error: boom 5/);
  });

  it('the same for a BH work function (main thread, softirq context)', () => {
    const r = child('uncaught-bh');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/KtimersError: work function bhThrows on workqueue "events_bh" threw: bh boom/);
    expect(r.stderr).toContain("code: 'ERR_KTIMERS_WORK_FAILED'");
    expect(r.stderr).toMatch(/cause: RangeError: bh boom/);
  });

  it("an uncaughtException listener gets each failure once and the pool keeps working; a throwing 'error' listener's own error goes there, the next listener still runs", () => {
    const r = child('handled');
    expect(r.status, r.stderr).toBe(0);
    const { errors, ran, secondListener, pending } = r.json;
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ name: 'KtimersError', code: 'ERR_KTIMERS_WORK_FAILED', cause: 'boom 1', isKtimersError: true });
    expect(errors[0].message).toMatch(/^work function throws .* on workqueue "handled" threw: boom 1$/);
    expect(errors[1]).toMatchObject({ name: 'KtimersError', code: 'ERR_KTIMERS_WORK_FAILED', cause: 'bh boom' });
    expect(errors[1].message).toBe('work function bhThrows on workqueue "events_bh" threw: bh boom');
    expect(errors[2]).toMatchObject({ name: 'Error', message: 'listener boom', isKtimersError: false });
    expect(ran).toBe(1);
    expect(secondListener).toEqual(['ERR_KTIMERS_WORK_FAILED']);
    expect(pending).toEqual([0, 0, 0]);
  });

  it('a promise a work function left rejected and unhandled: ERR_KTIMERS_WORK_UNHANDLED_REJECTION through uncaughtException; the worker carries on and the next item is not blamed', () => {
    const r = child('rejection');
    expect(r.status, r.stderr).toBe(0);
    const { errors, idleErrors, events, ran, ranAfter } = r.json;
    expect(errors).toHaveLength(1);
    // Reported while nothing was in flight (it surfaces after the completion record of the item
    // that ran last), not held until the next item woke the main thread's completion wait.
    expect(idleErrors).toBe(1);
    expect(errors[0]).toMatchObject({ name: 'KtimersError', code: 'ERR_KTIMERS_WORK_UNHANDLED_REJECTION', cause: 'floating 9', isKtimersError: true });
    expect(errors[0].message).toBe('a work function left a promise rejection unhandled (it must await what it starts): floating 9');
    expect(events).toEqual([]); // no item reported as failed (ERR_KTIMERS_WORKER_EXIT)
    expect([ran, ranAfter]).toEqual([1, 1]);
  });

  it('with the virtual clock installed and no advance after the failure, it still reaches uncaughtException (not lost at uninstall)', () => {
    const r = child('virtual');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.errors).toHaveLength(1);
    expect(r.json.errors[0]).toMatchObject({ name: 'KtimersError', code: 'ERR_KTIMERS_WORK_FAILED', cause: 'boom 3' });
    expect(r.json.beforeUninstall).toBe(1); // reported when it happened, not held for an advance
  });
});

describe('queues: system queues, flags', () => {
  it('destroy_workqueue on every system queue throws ERR_KTIMERS_WQ_SYSTEM (a KtimersError, synchronously); the queue keeps working', async () => {
    const systemQueues = [
      k.system_wq, k.system_percpu_wq, k.system_highpri_wq, k.system_long_wq, k.system_unbound_wq, k.system_dfl_wq,
      k.system_freezable_wq, k.system_power_efficient_wq, k.system_bh_wq, k.system_bh_highpri_wq,
    ];
    for (const q of systemQueues) {
      let err: unknown;
      try {
        k.destroy_workqueue(q);
      } catch (e) {
        err = e;
      }
      expect(err, q.name).toBeInstanceOf(k.KtimersError);
      expect(err).toMatchObject({ code: 'ERR_KTIMERS_WQ_SYSTEM', message: `${q.name} is a system workqueue: it cannot be destroyed` });
    }
    const counts = sab(2);
    const w = work('count', { counts });
    expect(k.queue_work(k.system_unbound_wq, w)).toBe(true);
    await k.flush_work(w);
    let bhRan = 0;
    const b = k.DECLARE_WORK(() => void bhRan++);
    expect(k.queue_work(k.system_bh_wq, b)).toBe(true);
    await k.flush_work(b);
    expect([counts[0], bhRan]).toEqual([1, 1]);
  });

  it('flush_workqueue on a system queue warns KTIMERS_WARN_FLUSH_SYSTEM_WQ once per process, and still flushes', async () => {
    const W = warnings();
    try {
      const L = latch();
      const held = work('latched', { i32: L.i32 });
      k.queue_work(k.system_unbound_wq, held);
      await L.started();
      const p = k.flush_workqueue(k.system_unbound_wq);
      const first = await W.of('KTIMERS_WARN_FLUSH_SYSTEM_WQ');
      expect(first).toHaveLength(1);
      expect(first[0]!.name).toBe('KtimersWarning');
      expect(first[0]!.message).toBe('WARNING: Flushing system-wide workqueues will be prohibited in near future.');
      expect(await isSettled(p)).toBe(false); // it waits for the held item
      L.open();
      await p;
      expect(k.work_busy(held)).toBe(0);
      await k.flush_workqueue(k.system_wq);
      await k.flush_workqueue(k.system_bh_wq);
      await k.flush_workqueue(wq('own'));
      expect(await W.of('KTIMERS_WARN_FLUSH_SYSTEM_WQ')).toHaveLength(1);
    } finally {
      W.stop();
    }
  });

  it('flags outside WQ_* warn KTIMERS_WARN_WQ_FLAGS once and are masked off (internal bits do not make a queue ordered)', async () => {
    const W = warnings();
    try {
      // __WQ_DESTROYING 0x8000, __WQ_ORDERED 0x20000, and bit 31.
      const q = k.alloc_workqueue('masked', (k.WQ_UNBOUND | 0x8000 | 0x20000 | 0x80000000) >>> 0, 4)!;
      keep(q);
      const first = await W.of('KTIMERS_WARN_WQ_FLAGS');
      expect(first).toHaveLength(1);
      expect(first[0]!.name).toBe('KtimersWarning');
      expect(first[0]!.message).toBe('alloc_workqueue(): flags 0x80028000 are not WQ_* flags; masked off');
      expect(q.flags).toBe(k.WQ_UNBOUND);
      expect(q.max_active).toBe(4);
      // Not ordered: max_active can change (an ordered queue refuses with a warning) and two items run at once.
      k.workqueue_set_max_active(q, 2);
      expect(q.max_active).toBe(2);
      expect(await W.of('KTIMERS_WARN_WQ_SET_MAX_ACTIVE')).toHaveLength(0);
      const L = latch();
      const a = work('latched', { i32: L.i32 });
      const b = work('latched', { i32: L.i32 });
      k.queue_work(q, a);
      k.queue_work(q, b);
      await L.started(2);
      L.open();
      await k.flush_workqueue(q);
      // Not destroying: queueing still works.
      const counts = sab(2);
      const c = work('count', { counts });
      expect(k.queue_work(q, c)).toBe(true);
      await k.flush_work(c);
      expect(counts[0]).toBe(1);
      // Once per process.
      const q2 = k.alloc_ordered_workqueue('masked2', 0x40000)!;
      keep(q2);
      expect(q2.max_active).toBe(1);
      expect(await W.of('KTIMERS_WARN_WQ_FLAGS')).toHaveLength(1);
    } finally {
      W.stop();
    }
  });

  it("workqueue_struct#on accepts only 'error' and a function", () => {
    const q = wq('listeners');
    expect(() => q.on('message' as 'error', () => {})).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => q.on('error', 42 as unknown as () => void)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    const l = () => {};
    expect(q.on('error', l)).toBe(q);
    expect(q.off('error', l)).toBe(q);
  });
});

describe('INIT_WORK / INIT_DELAYED_WORK on a busy item: ERR_KTIMERS_WORK_BUSY, nothing changes', () => {
  it('INIT_WORK on a pending item throws; it stays pending and runs its original function', async () => {
    const ord = k.alloc_ordered_workqueue('busy-hold', 0)!;
    keep(ord);
    const L = latch();
    k.queue_work(ord, work('latched', { i32: L.i32 }));
    await L.started();
    const counts = sab(2);
    const w = work('count', { counts });
    expect(k.queue_work(ord, w)).toBe(true); // behind the held item: pending
    const before = w.func;
    let err: unknown;
    try {
      k.INIT_WORK(w, fn('throws'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(k.KtimersError);
    expect(err).toMatchObject({ code: 'ERR_KTIMERS_WORK_BUSY', message: 'INIT_WORK() on a pending or running work item would corrupt its queue' });
    expect(w.func).toBe(before);
    expect(k.work_busy(w)).toBe(k.WORK_BUSY_PENDING);
    expect(k.queue_work(ord, w)).toBe(false); // still the one pending instance
    L.open();
    await k.flush_work(w);
    expect(counts[0]).toBe(1); // 'count' ran, once; 'throws' did not
  });

  it('INIT_WORK on a running item throws; once it finished, INIT_WORK works', async () => {
    const q = wq('busy-run');
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const { L, w } = await running(q);
    expect(k.work_busy(w)).toBe(k.WORK_BUSY_RUNNING);
    expect(() => k.INIT_WORK(w, fn('count'))).toThrow(expect.objectContaining({ name: 'KtimersError', code: 'ERR_KTIMERS_WORK_BUSY' }));
    expect(w.func).toMatchObject({ name: 'latched' });
    L.open();
    await k.flush_work(w);
    const counts = sab(2);
    k.INIT_WORK(w, fn('count'));
    w.data = { counts };
    k.queue_work(q, w);
    await k.flush_work(w);
    expect(counts[0]).toBe(1);
    expect(errs).toEqual([]);
  });

  it('INIT_DELAYED_WORK (and INIT_WORK of its work) on a pending delayed_work throws; the timer stays armed and fires the original function', async () => {
    const clock = installVirtualClock({ startJiffies: 0n });
    try {
      const q = wq('busy-dw');
      const counts = sab(2);
      const dw = new k.delayed_work();
      k.INIT_DELAYED_WORK(dw, fn('count'));
      dw.work.data = { counts };
      expect(k.queue_delayed_work(q, dw, 10n)).toBe(true);
      const before = dw.work.func;
      expect(() => k.INIT_DELAYED_WORK(dw, fn('throws'))).toThrow(
        expect.objectContaining({
          name: 'KtimersError',
          code: 'ERR_KTIMERS_WORK_BUSY',
          message: 'INIT_DELAYED_WORK() on a pending delayed_work would corrupt its timer',
        }),
      );
      expect(() => k.INIT_DEFERRABLE_WORK(dw, fn('throws'))).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_WORK_BUSY' }));
      expect(() => k.INIT_WORK(dw.work, fn('throws'))).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_WORK_BUSY' }));
      expect(dw.work.func).toBe(before);
      expect(k.timer_pending(dw.timer)).toBe(1);
      expect(k.delayed_work_pending(dw)).toBe(true);
      expect(dw.timer.expires).toBe(10n); // unchanged (jiffy 0 + 10; the wheel fires it at 11)
      clock.advanceJiffies(11n);
      await k.flush_work(dw.work); // (false if a fast worker already finished it)
      expect(counts[0]).toBe(1);
      // Idle again: re-initialising is allowed.
      k.INIT_DELAYED_WORK(dw, fn('noop'));
      expect(dw.work.func).toMatchObject({ name: 'noop' });
    } finally {
      clock.uninstall();
    }
  });
});

describe('the disable count (16 bits, as the kernel)', () => {
  const MAX = 65535;

  it('disable_work past 65535 warns KTIMERS_WARN_WORK_DISABLE_OVERFLOW once and stays at 65535: 65535 enable_work calls re-enable it', async () => {
    const W = warnings();
    try {
      const q = wq('overflow');
      const counts = sab(2);
      const w = work('count', { counts });
      for (let i = 0; i < MAX; i++) expect(k.disable_work(w)).toBe(false);
      expect(await W.of('KTIMERS_WARN_WORK_DISABLE_OVERFLOW')).toHaveLength(0);
      expect(k.disable_work(w)).toBe(false);
      expect(k.disable_work(w)).toBe(false);
      const ws = await W.of('KTIMERS_WARN_WORK_DISABLE_OVERFLOW');
      expect(ws).toHaveLength(1);
      expect(ws[0]!.name).toBe('KtimersWarning');
      expect(ws[0]!.message).toBe('work disable count overflowed');
      expect(k.queue_work(q, w)).toBe(false);
      expect(k.work_busy(w)).toBe(0);
      let trues = 0;
      for (let i = 0; i < MAX - 1; i++) if (k.enable_work(w)) trues++;
      expect(trues).toBe(0);
      expect(k.queue_work(q, w)).toBe(false);
      expect(k.enable_work(w)).toBe(true);
      expect(k.queue_work(q, w)).toBe(true);
      await k.flush_work(w);
      expect(counts[0]).toBe(1);
    } finally {
      W.stop();
    }
  });

  it('cancel_work_sync on an item disabled 65535 times: re-queueing stays refused while it waits and after (the count never wraps to 0)', async () => {
    const q = wq('sat-cancel');
    const { L, w } = await running(q);
    for (let i = 0; i < MAX; i++) k.disable_work(w);
    const p = k.cancel_work_sync(w);
    try {
      expect(await isSettled(p)).toBe(false); // waits for the running instance
      expect(k.queue_work(q, w)).toBe(false);
      expect(k.work_busy(w)).toBe(k.WORK_BUSY_RUNNING);
    } finally {
      L.open();
    }
    expect(await p).toBe(false);
    expect(k.work_busy(w)).toBe(0);
    expect(k.queue_work(q, w)).toBe(false);
    // The kernel's __cancel_work_sync: disable (saturated: WARN, stays 65535), wait, enable_work
    // (65534). So 65534 enables re-enable it.
    let trues = 0;
    for (let i = 0; i < MAX - 2; i++) if (k.enable_work(w)) trues++;
    expect(trues).toBe(0);
    expect(k.enable_work(w)).toBe(true);
  });

  it('disable_work_sync on an item disabled 65535 times still waits for the running instance', async () => {
    const q = wq('sat-disable');
    const { L, w } = await running(q);
    for (let i = 0; i < MAX; i++) k.disable_work(w);
    const p = k.disable_work_sync(w);
    try {
      expect(await isSettled(p)).toBe(false);
      expect(k.work_busy(w)).toBe(k.WORK_BUSY_RUNNING);
    } finally {
      L.open();
    }
    expect(await p).toBe(false);
    expect(k.work_busy(w)).toBe(0);
    expect(k.queue_work(q, w)).toBe(false);
  });

  it('enable_work while cancel_work_sync waits: the final re-enable underflows with a warning and the count stays 0 (not 65535)', async () => {
    const W = warnings();
    try {
      const q = wq('underflow');
      const { L, w } = await running(q);
      const p = k.cancel_work_sync(w);
      try {
        expect(k.queue_work(q, w)).toBe(false); // disabled while it waits
        expect(k.enable_work(w)).toBe(true); // a caller bug: the count cancel_work_sync took
      } finally {
        L.open();
      }
      expect(await p).toBe(false);
      const ws = await W.of('KTIMERS_WARN_WORK_DISABLE_UNDERFLOW');
      expect(ws).toHaveLength(1);
      expect(ws[0]!.message).toBe('work disable count underflowed');
      expect(k.work_busy(w)).toBe(0);
      // Enabled: it can be queued (and runs).
      const L2 = latch();
      w.data = { i32: L2.i32 };
      L2.open();
      expect(k.queue_work(q, w)).toBe(true);
      await k.flush_work(w);
      expect(Atomics.load(L2.i32, 2)).toBe(1);
    } finally {
      W.stop();
    }
  });
});

describe('inside a work function', () => {
  it('queueing itself on a destroyed queue: true for the function, then ERR_KTIMERS_WQ_DESTROYED on the queue it runs on; nothing pending', async () => {
    const gone = k.alloc_workqueue('gone', k.WQ_UNBOUND, 0)!;
    await k.destroy_workqueue(gone);
    const q = wq('runs-on');
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const out = sab(4);
    const w = work('queueOn', { out, wq: gone }, edgesMod);
    expect(k.queue_work(q, w)).toBe(true);
    await until(() => errs.length === 1, 5000 * SLOWDOWN);
    await k.flush_work(w); // the function has returned (it may still run when the error arrives)
    expect(out[0]).toBe(1); // the worker-side queue_work returned true (PENDING was free)
    expect(errs[0]).toBeInstanceOf(k.KtimersError);
    expect(errs[0]).toMatchObject({ code: 'ERR_KTIMERS_WQ_DESTROYED' });
    expect(errs[0]!.message).toBe(`a work function queued on workqueue #${gone.id}, which does not exist or was destroyed`);
    expect(k.work_busy(w)).toBe(0);
    // Not wedged: it can be queued again (and queue itself once on a live queue).
    const out2 = sab(4);
    w.data = { out: out2, wq: q };
    expect(k.queue_work(q, w)).toBe(true);
    await until(() => Atomics.load(out2, 1) >= 2, 5000 * SLOWDOWN);
    await k.flush_work(w);
    expect([out2[0], out2[1]]).toEqual([1, 2]);
    expect(k.work_busy(w)).toBe(0);
    expect(errs).toHaveLength(1);
  });

  it('INIT_WORK on the handle a work function got: ERR_KTIMERS_WQ_WORKER_CONTEXT; the item is unchanged', async () => {
    const q = wq('init-inside');
    const out = sab(4);
    const w = work('initInside', { out }, edgesMod);
    k.queue_work(q, w);
    await k.flush_work(w);
    expect([out[0], out[1]]).toEqual([1, 1]);
    expect(w.func).toMatchObject({ name: 'initInside' });
    expect(k.work_busy(w)).toBe(0);
  });
});

describe('other coded paths', () => {
  it('an item never passed to INIT_WORK: TypeError ERR_KTIMERS_NOT_SETUP from queueing and cancelling; introspection says idle', () => {
    const q = wq('unset');
    const w = new k.work_struct();
    const dw = new k.delayed_work();
    const calls: [string, () => unknown][] = [
      ['queue_work', () => k.queue_work(q, w)],
      ['queue_work_on', () => k.queue_work_on(k.WORK_CPU_UNBOUND, q, w)],
      ['schedule_work', () => k.schedule_work(w)],
      ['cancel_work', () => k.cancel_work(w)],
      ['disable_work', () => k.disable_work(w)],
      ['enable_work', () => k.enable_work(w)],
      ['queue_delayed_work', () => k.queue_delayed_work(q, dw, 1n)],
      ['mod_delayed_work', () => k.mod_delayed_work(q, dw, 1n)],
      ['cancel_delayed_work', () => k.cancel_delayed_work(dw)],
    ];
    for (const [name, call] of calls) {
      expect(call, name).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_KTIMERS_NOT_SETUP' }));
    }
    expect([k.work_pending(w), k.work_busy(w), k.delayed_work_pending(dw)]).toEqual([false, 0, false]);
  });

  it("a non-function export: ERR_KTIMERS_WORK_LOAD whose cause is the worker's TypeError ERR_KTIMERS_WORK_NOT_FUNCTION", async () => {
    const q = wq('notfn');
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const w = work('notAFunction');
    k.queue_work(q, w);
    await k.flush_work(w);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ code: 'ERR_KTIMERS_WORK_LOAD' });
    const cause = (errs[0] as { cause?: Error & { code?: string } }).cause;
    expect(cause).toBeInstanceOf(TypeError);
    expect(cause?.code).toBe('ERR_KTIMERS_WORK_NOT_FUNCTION');
    expect(k.work_busy(w)).toBe(0);
  });

  it("a thrown error's own properties (an fs error's code, errno, syscall, path) reach the cause on the main thread", async () => {
    const q = wq('errprops');
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const w = work('readMissing', { path: '/nonexistent/ktimers-edges' }, edgesMod);
    k.queue_work(q, w);
    await k.flush_work(w);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ code: 'ERR_KTIMERS_WORK_FAILED' });
    const cause = (errs[0] as { cause?: Error }).cause;
    expect(cause).toBeInstanceOf(Error);
    expect(cause).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'open', path: '/nonexistent/ktimers-edges' });
  });

  it('data that cannot be cloned, waiting in the backlog while every worker is busy: reported (ERR_KTIMERS_WORK_DATA) when a worker asks for it; the item is idle and can be re-queued', async () => {
    // A per-CPU WQ_HIGHPRI queue: its own pool in this process, one worker, held by a latch.
    const cpu = k.sched_getaffinity(0)[0]!;
    const q = wq('backlog', k.WQ_HIGHPRI, 0);
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const L = latch();
    const held = work('latched', { i32: L.i32 });
    k.queue_work_on(cpu, q, held);
    await L.started();
    const bad = work('count', { f: () => 1 });
    expect(k.queue_work_on(cpu, q, bad)).toBe(true); // no idle worker: it waits, not yet cloned
    expect(k.work_busy(bad)).toBe(k.WORK_BUSY_PENDING);
    // The held worker blocks > 10 ms: the pool starts another, which asks for the backlog.
    await until(() => errs.length === 1, 5000 * SLOWDOWN);
    expect(errs[0]).toBeInstanceOf(k.KtimersError);
    expect(errs[0]).toMatchObject({ code: 'ERR_KTIMERS_WORK_DATA' });
    expect(errs[0]!.message).toMatch(/^work count .* on workqueue "backlog": data cannot be sent to a worker: /);
    expect(k.work_busy(bad)).toBe(0);
    expect(await k.flush_work(bad)).toBe(false);
    const counts = sab(2);
    bad.data = { counts };
    expect(k.queue_work_on(cpu, q, bad)).toBe(true);
    await k.flush_work(bad);
    expect(counts[0]).toBe(1);
    L.open();
    await k.flush_work(held);
    expect(errs).toHaveLength(1);
  });
});

// Needs root, the cgroup-v1 cpuset hierarchy and two CPUs: a child in a cpuset without CPU 0.
const CPUSET = '/sys/fs/cgroup/cpuset';
const canCpuset =
  process.getuid?.() === 0 && existsSync(`${CPUSET}/tasks`) && k.sched_getaffinity(0).includes(0) && k.sched_getaffinity(0).includes(1);
describe('per-CPU workers outside the cpuset', () => {
  it.skipIf(!canCpuset)('pinning refused (EINVAL): KTIMERS_WARN_WQ_AFFINITY once for two pools; workers run unpinned and the items run', () => {
    const cg = `${CPUSET}/ktimers-test-${process.pid}`;
    mkdirSync(cg);
    try {
      writeFileSync(`${cg}/cpuset.cpus`, '1');
      writeFileSync(`${cg}/cpuset.mems`, '0');
      const r = child('affinity', ['/bin/sh', '-c', `echo $$ > ${cg}/tasks && exec "$0" "$@"`]);
      expect(r.status, r.stderr).toBe(0);
      const { affinity, ran, warnings: ws, workerAffinity } = r.json;
      expect(affinity).toEqual([1]);
      expect(ran).toBe(2);
      expect(ws).toHaveLength(1);
      expect(ws[0]).toMatchObject({ name: 'KtimersWarning', code: 'KTIMERS_WARN_WQ_AFFINITY' });
      expect(ws[0].message).toMatch(/^per-CPU workers of CPU 0 run unpinned: .*EINVAL/);
      expect(workerAffinity).toEqual([[1], [1]]); // both CPU-0 pools' workers: the cpuset's CPUs
    } finally {
      rmdirSync(cg);
    }
  });
});
