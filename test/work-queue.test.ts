// WorkQueue: the promise facade over the workqueue (lib/api/work-queue.ts).
// Items are held mid-run with a gate (SharedArrayBuffer + Atomics), so "queued"
// and "running" states are reached for sure, not by timing.
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { AbortError, HighResTimer, WorkQueue, ms } from '../dist/index.js';
import { until } from './helpers.js';

const mod = new URL('./fixtures/wq/facade.mjs', import.meta.url);
const fn = (name: string) => ({ module: mod, name });
const i32 = (n = 8) => new Int32Array(new SharedArrayBuffer(4 * n));

const made: WorkQueue[] = [];
function queue(options?: k.WorkQueueOptions): WorkQueue {
  const wq = new WorkQueue(options);
  made.push(wq);
  return wq;
}
afterEach(async () => {
  for (const wq of made.splice(0)) await wq.close();
});

/** A gate the 'gated' work function waits on. */
function gate() {
  const g = i32(8);
  return {
    g,
    started: (n = 1) => until(() => Atomics.load(g, 1) >= n),
    open() {
      Atomics.store(g, 0, 1);
      Atomics.notify(g, 0);
    },
  };
}

const settledState = async (p: Promise<unknown>) => {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('WorkQueue', () => {
  it('queue() resolves after the function ran on a worker, in task context, with the data', async () => {
    const wq = queue();
    const c = i32();
    const p = wq.queue(fn('add'), { i32: c, add: 5 });
    expect(wq.size).toBe(1);
    await expect(p).resolves.toBeUndefined();
    expect([c[0], c[1]]).toEqual([5, 1]);
    expect(wq.size).toBe(0);
  });

  it('an async work function is awaited; each queue() call is its own run (no PENDING coalescing)', async () => {
    const wq = queue();
    const c = i32();
    await Promise.all([1, 2, 3].map(() => wq.queue(fn('later'), { i32: c, ms: 20 })));
    expect(c[0]).toBe(3);
  });

  it('rejects with the error the function threw (class, message, code kept); other items are unaffected', async () => {
    const wq = queue();
    const c = i32();
    const [bad, good, str, odd] = await Promise.allSettled([
      wq.queue(fn('fail'), { kind: 'range' }),
      wq.queue(fn('add'), { i32: c }),
      wq.queue(fn('fail'), { kind: 'string' }),
      wq.queue(fn('fail'), { kind: 'uncloneable' }),
    ]);
    expect(bad.status).toBe('rejected');
    const e = (bad as PromiseRejectedResult).reason;
    expect(e).toBeInstanceOf(RangeError);
    expect(e).toMatchObject({ message: 'value out of range', code: 'ERR_DEMO' });
    expect(good.status).toBe('fulfilled');
    expect(c[0]).toBe(1);
    expect((str as PromiseRejectedResult).reason).toBe('plain string');
    expect((odd as PromiseRejectedResult).reason).toMatchObject({ message: 'has a function' });
  });

  it('an item whose worker exits mid-run rejects with the queue\'s ERR_KTIMERS_WORKER_EXIT (err.work is the item); the queue goes on', async () => {
    const wq = queue();
    const e = await wq.queue(fn('exitWorker')).catch((x) => x);
    expect(e).toBeInstanceOf(k.KtimersError);
    expect(e.code).toBe('ERR_KTIMERS_WORKER_EXIT');
    expect(e.work).toBeInstanceOf(k.work_struct);
    const c = i32();
    await wq.queue(fn('add'), { i32: c });
    expect(c[0]).toBe(1);
  });

  it('a missing export rejects with ERR_KTIMERS_WORK_NOT_FUNCTION; a missing module without queueing', async () => {
    const wq = queue();
    await expect(wq.queue(fn('notAFunction'))).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_KTIMERS_WORK_NOT_FUNCTION' });
    await expect(wq.queue({ module: '/nonexistent/jobs.mjs', name: 'x' })).rejects.toMatchObject({
      code: 'ERR_KTIMERS_WORK_MODULE_NOT_FOUND',
    });
    expect(wq.size).toBe(0);
  });

  it('bad arguments reject (never throw) and queue nothing', async () => {
    const wq = queue();
    const cases: [() => Promise<void>, string][] = [
      [() => wq.queue((() => {}) as any), 'ERR_INVALID_ARG_TYPE'],
      [() => wq.queue('add' as any), 'ERR_INVALID_ARG_TYPE'],
      [() => wq.queue({ module: './x.mjs', name: 'f' }), 'ERR_INVALID_ARG_VALUE'],
      [() => wq.queue(fn('add'), { f: () => 1 }), 'ERR_KTIMERS_WORK_DATA'],
      [() => wq.queue(fn('add'), undefined, null as any), 'ERR_INVALID_ARG_TYPE'],
      [() => wq.queue(fn('add'), undefined, { signal: {} as any }), 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [call, code] of cases) {
      let p: Promise<void> | undefined;
      expect(() => (p = call())).not.toThrow();
      await expect(p).rejects.toMatchObject({ code });
    }
    expect(wq.size).toBe(0);
  });

  it('constructor options are checked', () => {
    const bad: [unknown, string][] = [
      [null, 'ERR_INVALID_ARG_TYPE'], [{ name: 5 }, 'ERR_INVALID_ARG_TYPE'], [{ ordered: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
      [{ highpri: 1 }, 'ERR_INVALID_ARG_TYPE'], [{ maxActive: '2' }, 'ERR_INVALID_ARG_TYPE'], [{ maxActive: 1.5 }, 'ERR_OUT_OF_RANGE'],
      [{ ordered: true, maxActive: 4 }, 'ERR_INVALID_ARG_VALUE'],
    ];
    for (const [o, code] of bad) expect(() => new WorkQueue(o as any), JSON.stringify(o)).toThrow(expect.objectContaining({ code }));
  });

  it('maxActive 1 runs one at a time; ordered runs in queueing order', async () => {
    const wq = queue({ maxActive: 1 });
    const g = gate();
    const all = [0, 1, 2].map(() => wq.queue(fn('gated'), { i32: g.g }));
    await g.started(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(Atomics.load(g.g, 1)).toBe(1); // the others wait for the one active slot
    g.open();
    await Promise.all(all);
    expect([g.g[2], g.g[4]]).toEqual([3, 1]);

    const oq = queue({ ordered: true, name: 'ordered' });
    const o = gate();
    o.open();
    const log = i32(16);
    await Promise.all([1, 2, 3, 4, 5].map((tag) => oq.queue(fn('gated'), { i32: o.g, log, tag })));
    expect([...log.slice(0, 6)]).toEqual([5, 1, 2, 3, 4, 5]);
    expect(oq.name).toBe('ordered');
  });

  it('abort before start: the item is taken back and never runs; the promise rejects with AbortError', async () => {
    const wq = queue({ maxActive: 1 });
    const g = gate();
    const first = wq.queue(fn('gated'), { i32: g.g });
    await g.started(1);
    const c = i32();
    const ac = new AbortController();
    const second = wq.queue(fn('add'), { i32: c }, { signal: ac.signal });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort('changed my mind');
    const e = await second.catch((x) => x);
    expect(e).toBeInstanceOf(AbortError);
    expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'changed my mind' });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    g.open();
    await first;
    await wq.close();
    expect(c[0]).toBe(0);
    // Already aborted: rejected without queueing.
    const c2 = i32();
    const wq2 = queue();
    await expect(wq2.queue(fn('add'), { i32: c2 }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    await wq2.close();
    expect(c2[0]).toBe(0);
  });

  it('abort while running rejects at once; the function still finishes and close() waits for it', async () => {
    const wq = queue();
    const g = gate();
    const ac = new AbortController();
    const p = wq.queue(fn('gated'), { i32: g.g }, { signal: ac.signal });
    await g.started(1);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
    expect(Atomics.load(g.g, 2)).toBe(0); // still running
    const closed = wq.close();
    expect(await settledState(closed)).toBe('pending');
    g.open();
    await closed;
    expect(Atomics.load(g.g, 2)).toBe(1);
  });

  it('close() drains queued items, refuses new ones, and is idempotent; asyncDispose is close', async () => {
    const wq = queue({ maxActive: 2 });
    const c = i32();
    const items = [1, 2, 3, 4, 5].map(() => wq.queue(fn('block'), { i32: c, ms: 20 }));
    const closing = wq.close();
    expect(wq.closed).toBe(true);
    expect(wq.close()).toBe(closing);
    await expect(wq.queue(fn('add'), { i32: c })).rejects.toMatchObject({ code: 'ERR_KTIMERS_WQ_CLOSED' });
    await closing;
    expect(c[0]).toBe(5);
    await expect(Promise.all(items)).resolves.toHaveLength(5);

    const wq2 = new WorkQueue();
    const c2 = i32();
    const item = wq2.queue(fn('block'), { i32: c2, ms: 10 });
    await wq2[Symbol.asyncDispose]();
    expect(c2[0]).toBe(1);
    await item;
    expect(wq2.closed).toBe(true);
  });

  it('flush() waits for the items queued before it', async () => {
    const wq = queue();
    const c = i32();
    for (let i = 0; i < 4; i++) void wq.queue(fn('block'), { i32: c, ms: 10 });
    await wq.flush();
    expect(c[0]).toBe(4);
  });

  it('queue() from a timer callback hands the blocking work off; the timer keeps its period', async () => {
    const wq = queue();
    const c = i32();
    const done: Promise<void>[] = [];
    const lateness: bigint[] = [];
    await new Promise<void>((resolve) => {
      const t = new HighResTimer((timer, _o, deadline) => {
        lateness.push(k.ktime_get() - deadline);
        expect(k.in_hardirq()).toBe(true);
        done.push(wq.queue(fn('block'), { i32: c, ms: 30 })); // 30 ms of blocking per 5 ms tick
        if (done.length === 6) {
          timer.cancel();
          resolve();
        }
      });
      t.start(ms(5), ms(5));
    });
    await Promise.all(done);
    expect(c[0]).toBe(6);
    // Six ticks in ~30 ms while 180 ms of blocking work ran elsewhere: never early.
    expect(lateness.every((l) => l >= 0n)).toBe(true);
  });
});
