// kthread_worker input validation: every parameter of every kthread export
// rejects bad values with a coded TypeError / RangeError / KtimersError before
// anything changes, sleeping calls refuse atomic context and the worker's own
// thread, and a seeded fuzz of random hostile argument tuples never crashes,
// hangs or throws an uncoded error. (test/validation.test.ts lists these
// exports as covered here: a worker is a thread, which its synchronous fuzz
// cannot create for each call.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { mulberry32 } from './helpers.js';
import { dwork, fx, i32, reach, within, work } from './kthread-helpers.js';

function err(f: () => unknown): { cls: string; code: unknown; message: string } | null {
  try {
    f();
    return null;
  } catch (e: any) {
    return { cls: e?.constructor?.name, code: e?.code, message: String(e?.message) };
  }
}
function hostile(): object {
  const boom = () => {
    throw new Error('hostile coercion invoked');
  };
  return { valueOf: boom, toString: boom, [Symbol.toPrimitive]: boom, get constructor(): never { throw new Error('hostile constructor getter'); } };
}

let w: k.kthread_worker;
beforeAll(() => {
  w = k.kthread_run_worker(0, 'valid');
});
afterAll(async () => {
  await k.kthread_destroy_worker(w);
});

describe('kthread: bad arguments', () => {
  it('creation: flags, namefmt and its arguments, cpu', () => {
    for (const f of [2, -1, 1.5, NaN, 1 << 30]) expect(err(() => k.kthread_run_worker(f, 'x'))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    for (const f of ['0', 0n, null, undefined, hostile()]) expect(err(() => k.kthread_run_worker(f as never, 'x'))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    for (const n of [null, 1, undefined, hostile(), ['x']]) expect(err(() => k.kthread_run_worker(0, n as never))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(err(() => k.kthread_run_worker(0, ''))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(err(() => k.kthread_run_worker(0, 'a%q'))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(err(() => k.kthread_run_worker(0, 'a%'))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(err(() => k.kthread_run_worker(0, 'a%d'))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(err(() => k.kthread_run_worker(0, 'a', 1))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(err(() => k.kthread_run_worker(0, 'a%d', 'x'))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(err(() => k.kthread_run_worker(0, 'a%s', 1))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(err(() => k.kthread_run_worker(0, 'a%s', hostile()))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    const n = k.nr_cpu_ids();
    for (const c of [n, -1, 1.5, 8192, NaN]) {
      expect(err(() => k.kthread_run_worker_on_cpu(c, 0, 'c/%u'))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      expect(err(() => k.kthread_create_worker_on_cpu(c, 0, 'c/%u'))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    }
    expect(err(() => k.kthread_run_worker_on_cpu('0' as never, 0, 'c/%u'))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(err(() => k.kthread_run_worker_on_cpu(0, 0, 'c/%u/%u'))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(err(() => new (k.kthread_worker as any)())).toMatchObject({ cls: 'TypeError' });
  });

  it('works: init with a bad function reference, use before init, wrong kinds', () => {
    const bare = new k.kthread_work();
    for (const f of [null, 1, () => {}, {}, { module: fx }, { module: fx, name: '' }, { module: './x.mjs', name: 'f' }, hostile()]) {
      expect(err(() => k.kthread_init_work(new k.kthread_work(), f as never))).toMatchObject({ cls: 'TypeError' });
    }
    expect(err(() => k.kthread_init_work(new k.kthread_work(), { module: '/no/such/module.mjs', name: 'f' }))).toMatchObject({ code: 'ERR_KTIMERS_WORK_MODULE_NOT_FOUND' });
    expect(err(() => k.kthread_init_work({} as never, { module: fx, name: 'log' }))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(err(() => k.kthread_init_work(new k.kthread_delayed_work().work, { module: fx, name: 'log' }))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(err(() => k.kthread_init_delayed_work(new k.kthread_work() as never, { module: fx, name: 'log' }))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(err(() => k.kthread_queue_work(w, bare))).toMatchObject({ cls: 'TypeError', code: 'ERR_KTIMERS_NOT_SETUP' });
    expect(err(() => k.kthread_queue_delayed_work(w, new k.kthread_delayed_work(), 1))).toMatchObject({ cls: 'TypeError', code: 'ERR_KTIMERS_NOT_SETUP' });
    expect(err(() => k.kthread_mod_delayed_work(w, new k.kthread_delayed_work(), 1))).toMatchObject({ cls: 'TypeError', code: 'ERR_KTIMERS_NOT_SETUP' });
    expect(err(() => k.kthread_flush_work(bare))).toMatchObject({ code: 'ERR_KTIMERS_NOT_SETUP' });
    expect(err(() => k.kthread_cancel_work_sync(bare))).toMatchObject({ code: 'ERR_KTIMERS_NOT_SETUP' });
    expect(err(() => k.kthread_cancel_delayed_work_sync(new k.kthread_delayed_work()))).toMatchObject({ code: 'ERR_KTIMERS_NOT_SETUP' });
    const d = dwork('log');
    expect(err(() => k.kthread_queue_delayed_work(w, work('log') as never, 1))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(err(() => k.kthread_cancel_work_sync(d.work))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    for (const v of [-1, 1.5, '1', null, hostile(), 1n << 64n]) {
      const e = err(() => k.kthread_queue_delayed_work(w, d, v as never));
      expect(['TypeError', 'RangeError']).toContain(e?.cls);
      expect(typeof e?.code).toBe('string');
      const m = err(() => k.kthread_mod_delayed_work(w, d, v as never));
      expect(typeof m?.code).toBe('string');
    }
    expect(k.kthread_queue_delayed_work(w, d, 1_000_000)).toBe(true); // nothing was half-applied above
    expect(err(() => k.kthread_init_delayed_work(d, { module: fx, name: 'log' }))).toMatchObject({ code: 'ERR_KTIMERS_WORK_BUSY' });
    return k.kthread_cancel_delayed_work_sync(d);
  });

  it('workers: not a worker, a destroyed one; sched helpers: bad task and nice', async () => {
    const a = work('log', { log: i32(), tag: 1 });
    for (const v of [null, {}, 1, hostile(), w.task]) {
      expect(err(() => k.kthread_queue_work(v as never, a))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      expect(err(() => k.kthread_flush_worker(v as never))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      expect(err(() => k.kthread_destroy_worker(v as never))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    }
    for (const p of [null, {}, 0, -1, 1.5, '1', hostile()]) expect(err(() => k.sched_set_fifo(p as never))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    for (const n of [-21, 20, 1.5]) expect(err(() => k.sched_set_normal(w, n))).toMatchObject({ cls: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(err(() => k.sched_set_normal(w, '0' as never))).toMatchObject({ cls: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    const gone = k.kthread_run_worker(0, 'gone');
    await k.kthread_destroy_worker(gone);
    for (const f of [() => k.kthread_queue_work(gone, a), () => k.kthread_flush_worker(gone), () => k.sched_set_fifo_low(gone), () => k.sched_set_normal(gone, 0),
      () => k.kthread_queue_delayed_work(gone, dwork('log'), 0), () => k.kthread_mod_delayed_work(gone, dwork('log'), 0)]) {
      expect(err(f)).toMatchObject({ code: 'ERR_KTIMERS_KTHREAD_DESTROYED' });
    }
    expect(err(() => k.kthread_destroy_worker(gone))).toMatchObject({ code: 'ERR_KTIMERS_KTHREAD_DESTROYED' });
  });

  it('work.data that cannot be sent: ERR_KTIMERS_WORK_DATA, and the work is not left pending', () => {
    const a = work('log', { f: () => {} });
    expect(err(() => k.kthread_queue_work(w, a))).toMatchObject({ code: 'ERR_KTIMERS_WORK_DATA' });
    a.data = { log: i32(), tag: 1 };
    expect(k.kthread_queue_work(w, a)).toBe(true);
    return k.kthread_flush_work(a);
  });
});

describe('kthread: sleeping calls and context', () => {
  it('in a timer callback (atomic context): ERR_KTIMERS_SLEEP_IN_ATOMIC; queueing is allowed there', async () => {
    const a = work('log', { log: i32(), tag: 1 });
    const got = await new Promise<Record<string, unknown>>((resolve) => {
      const t = new k.hrtimer();
      k.hrtimer_setup(t, () => {
        const r: Record<string, unknown> = {};
        for (const [n, f] of Object.entries({
          flush_work: () => k.kthread_flush_work(a),
          flush_worker: () => k.kthread_flush_worker(w),
          cancel: () => k.kthread_cancel_work_sync(a),
          cancel_delayed: () => k.kthread_cancel_delayed_work_sync(dwork('log')),
          destroy: () => k.kthread_destroy_worker(w),
          create: () => k.kthread_run_worker(0, 'never'),
        })) r[n] = err(f as () => unknown)?.code;
        r.queue = k.kthread_queue_work(w, a);
        resolve(r);
        return k.HRTIMER_NORESTART;
      }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
      k.hrtimer_start(t, 1_000_000n, k.HRTIMER_MODE_REL);
    });
    expect(got).toEqual({
      flush_work: 'ERR_KTIMERS_SLEEP_IN_ATOMIC', flush_worker: 'ERR_KTIMERS_SLEEP_IN_ATOMIC', cancel: 'ERR_KTIMERS_SLEEP_IN_ATOMIC',
      cancel_delayed: 'ERR_KTIMERS_SLEEP_IN_ATOMIC', destroy: 'ERR_KTIMERS_SLEEP_IN_ATOMIC', create: 'ERR_KTIMERS_SLEEP_IN_ATOMIC', queue: true,
    });
    await within(k.kthread_flush_work(a), 'flush');
  });

  it("on the worker's own thread: ERR_KTIMERS_KTHREAD_CONTEXT (the kernel would deadlock)", async () => {
    const out = i32(4);
    k.kthread_queue_work(w, work('sleepingCall', { out }));
    await reach(out, 0, 1);
    expect(out[0]).toBe(1);
  });
});

describe('kthread: fuzz', () => {
  it('random hostile argument tuples: only coded errors, no hang, the worker still works', async () => {
    const rnd = mulberry32(20261206);
    const d = dwork('log', { log: i32(), tag: 1 });
    const a = work('log', { log: i32(), tag: 2 });
    const pool: unknown[] = [w, a, d, d.work, new k.kthread_work(), new k.kthread_delayed_work(), null, undefined, 0, 1, -1, 2.5, NaN, 2 ** 53, 1n, -1n,
      'x', '%s', '', {}, [], hostile(), () => {}, Symbol('s'), { module: fx, name: 'log' }, 1_000_000, 0n];
    const calls: [string, number][] = [
      ['kthread_queue_work', 2], ['kthread_queue_delayed_work', 3], ['kthread_mod_delayed_work', 3],
      ['kthread_flush_work', 1], ['kthread_flush_worker', 1], ['kthread_cancel_work_sync', 1], ['kthread_cancel_delayed_work_sync', 1],
      ['kthread_init_work', 2], ['kthread_init_delayed_work', 2], ['to_kthread_delayed_work', 1],
      // (not sched_set_*: a valid thread id from the pool, such as 1, would renice another process)
      ['kthread_run_worker_on_cpu', 3], ['kthread_create_worker', 2],
    ];
    const fns = k as unknown as Record<string, (...a: unknown[]) => unknown>;
    const bad: string[] = [];
    const pending: Promise<unknown>[] = [];
    const made: k.kthread_worker[] = [];
    for (let i = 0; i < 3000; i++) {
      const [name, n] = calls[Math.floor(rnd() * calls.length)]!;
      const args = Array.from({ length: n }, () => pool[Math.floor(rnd() * pool.length)]);
      try {
        const r = fns[name]!(...args);
        if (r instanceof k.kthread_worker) made.push(r);
        if (r instanceof Promise) {
          pending.push(r.catch((e) => {
            if (typeof e?.code !== 'string') bad.push(`${name} rejected uncoded: ${e?.message}`);
          }));
        }
      } catch (e: any) {
        if (typeof e?.code !== 'string' || !(e instanceof Error)) {
          bad.push(`${name}(${args.map((x) => typeof x).join(', ')}) threw uncoded: ${e?.message}`);
        }
      }
    }
    await within(Promise.all(pending), 'fuzzed sleeping calls settle');
    for (const m of made) await k.kthread_destroy_worker(m);
    expect(bad.slice(0, 5)).toEqual([]);
    await k.kthread_cancel_delayed_work_sync(d);
    const log = i32();
    const ok = work('log', { log, tag: 9 });
    expect(k.kthread_queue_work(w, ok)).toBe(true);
    await within(k.kthread_flush_work(ok), 'still works');
    expect(log[1]).toBe(9);
  });
});
