// kthread_init_worker / kthread_worker_fn / kthread_run (lib/kthread/): the kernel's way to run
// a worker loop on a thread the caller starts (kernel/kthread.c: kthread_worker_fn runs the
// queued works one at a time until kthread_should_stop, then returns 0). Every wait is on an
// event (a flush, a cancel's round trip through the thread, the thread's exit), with the
// SLOWDOWN-scaled backstop of kthread-helpers only.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as k from '../dist/index.js';
import { stateOf } from '../dist/kthread/worker.js';
import { entries, i32, settled, within, work } from './kthread-helpers.js';

const workers: k.kthread_worker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) if (stateOf(w).thread !== null && !stateOf(w).destroying) await k.kthread_destroy_worker(w);
});
function init(): k.kthread_worker {
  const w = k.kthread_init_worker();
  workers.push(w);
  return w;
}
function comm(tid: number): string {
  return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
}

describe('kthread_init_worker + kthread_run(kthread_worker_fn, ...)', () => {
  it('works queued before the loop runs wait for it, then run in order; kthread_run names the thread and returns its id', async () => {
    const w = init();
    expect(w.task).toBe(null); // the kernel's worker->task, NULL until kthread_worker_fn runs
    expect(w.name).toBe('kthread_worker');
    expect(w.flags).toBe(0);
    const log = i32();
    const a = work('log', { log, tag: 1 });
    const b = work('log', { log, tag: 2 });
    const c = work('log', { log, tag: 3 });
    expect(k.kthread_queue_work(w, a)).toBe(true);
    expect(k.kthread_queue_work(w, b)).toBe(true);
    expect(k.kthread_queue_work(w, a)).toBe(false); // already pending
    expect(k.kthread_queue_work(w, c)).toBe(true);
    const flushed = k.kthread_flush_worker(w);
    // A cancel's answer comes back through the thread after it handled the queueing messages:
    // the works reached the thread and none has run so far. (That none can run before the loop
    // starts is proven by the destroy test below, where a running loop would flush them.)
    expect(await within(k.kthread_cancel_work_sync(b), 'cancel')).toBe(true);
    expect(entries(log)).toEqual([]);
    expect(await settled(flushed)).toBe(false);
    expect(() => k.sched_set_fifo(w)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_KTHREAD_CONTEXT' }));

    const tid = k.kthread_run(k.kthread_worker_fn, w, 'ktw-%d', 3);
    expect(typeof tid).toBe('number');
    expect(tid).toBe(w.task);
    expect(tid).not.toBe(process.pid);
    expect(w.name).toBe('ktw-3');
    expect(w.comm).toBe('ktw-3');
    await within(flushed, 'flush');
    expect(entries(log)).toEqual([1, 3]);
    expect(comm(tid)).toBe('ktw-3');
    expect(k.kthread_queue_work(w, b)).toBe(true);
    await within(k.kthread_flush_worker(w), 'flush 2');
    expect(entries(log)).toEqual([1, 3, 2]);
    // The works ran on the thread kthread_run returned, which is the worker's task there too.
    const out = i32();
    expect(k.kthread_queue_work(w, work('probe', { out }))).toBe(true);
    await within(k.kthread_flush_worker(w), 'flush 3');
    expect([out[4], out[6]]).toEqual([tid, 1]);
  });

  it('kthread_worker_fn(worker) runs the loop and settles with 0 once the worker is stopped, not before', async () => {
    const w = init();
    const log = i32();
    expect(k.kthread_queue_work(w, work('log', { log, tag: 5 }))).toBe(true);
    const ret = k.kthread_worker_fn(w);
    expect(ret).toBeInstanceOf(Promise);
    expect(w.task).toBeGreaterThan(0);
    await within(k.kthread_flush_worker(w), 'flush');
    expect(entries(log)).toEqual([5]);
    expect(await settled(ret)).toBe(false);
    await within(k.kthread_destroy_worker(w), 'destroy');
    expect(await within(ret, 'kthread_worker_fn')).toBe(0);
    expect(w.task).toBe(null);
  });

  it('one loop per worker: a second kthread_worker_fn, or one on a kthread_run_worker worker, is refused', async () => {
    const w = init();
    void k.kthread_worker_fn(w);
    expect(() => k.kthread_worker_fn(w)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_KTHREAD_CONTEXT' }));
    expect(() => k.kthread_run(k.kthread_worker_fn, w, 'again')).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_KTHREAD_CONTEXT' }));
    const r = k.kthread_run_worker(0, 'has-loop');
    workers.push(r);
    expect(() => k.kthread_worker_fn(r)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_KTHREAD_CONTEXT' }));
  });

  it('destroyed before its loop ran: the queued works never run, with the pending-work warning; then refused', async () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(((_m: string, o: { code: string }) => {
      warnings.push(o.code);
    }) as typeof process.emitWarning);
    try {
      const w = k.kthread_init_worker();
      const log = i32();
      const a = work('log', { log, tag: 1 });
      expect(k.kthread_queue_work(w, a)).toBe(true);
      await within(k.kthread_destroy_worker(w), 'destroy');
      await new Promise((r) => setImmediate(r));
      expect(warnings).toContain('KTIMERS_WARN_KTHREAD_DESTROY_PENDING');
      expect(entries(log)).toEqual([]);
      expect(() => k.kthread_worker_fn(w)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_KTHREAD_DESTROYED' }));
      expect(() => k.kthread_queue_work(w, a)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_KTHREAD_DESTROYED' }));
    } finally {
      spy.mockRestore();
    }
  });

  it('bad input: coded errors', () => {
    expect(() => k.kthread_init_worker(2)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    expect(() => k.kthread_init_worker('0' as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => k.kthread_worker_fn({} as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    const w = init();
    expect(() => k.kthread_run((async () => 0) as never, w, 'x')).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => k.kthread_run(k.kthread_worker_fn, w, 5 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(w.task).toBe(null); // nothing started by the refused calls
  });
});
