// ktimers/promises: sleep, sleepUntil and interval on the hrtimer engine.
// Semantics are checked on the virtual clock (exact instants, deterministic);
// a few real-clock tests with loose bounds, and child processes for `ref`.
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { interval, ms, sleep, sleepUntil, us, AbortError } from '../dist/promises.js';
import { engineState } from '../dist/internal/engine.js';
import { installVirtualClock, type VirtualClock } from '../dist/testing.js';
import { SLOWDOWN } from './helpers.js';

let clock: VirtualClock | null = null;
afterEach(() => {
  clock?.uninstall();
  clock = null;
});

interface Tracked<T> {
  settled: boolean;
  value?: T;
  error?: any;
  at?: bigint;
}
/** Records when (virtual ktime_get) and how a promise settles. */
function track<T>(p: Promise<T>): Tracked<T> {
  const s: Tracked<T> = { settled: false };
  p.then(
    (value) => Object.assign(s, { settled: true, value, at: k.ktime_get() }),
    (error) => Object.assign(s, { settled: true, error, at: k.ktime_get() }),
  );
  return s;
}
/** Lets every promise job queued so far run (time does not move on the virtual clock). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
const slots = () => engineState().slotsInUse!;

function expectAbort(e: unknown, reason: unknown) {
  expect(e).toBeInstanceOf(AbortError);
  expect(e).toBeInstanceOf(Error);
  expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted' });
  expect((e as Error).cause).toBe(reason);
}

describe('sleep (virtual clock)', () => {
  it('resolves exactly at its deadline, never a nanosecond earlier', async () => {
    clock = installVirtualClock();
    const s = track(sleep(ms(10)));
    clock.advanceNs(ms(10) - 1n);
    await flush();
    expect(s.settled).toBe(false);
    clock.advanceNs(1n);
    await flush();
    expect(s).toMatchObject({ settled: true, value: undefined, at: ms(10) });
  });

  it('sleeps resolve in deadline order, equal deadlines in call order', async () => {
    clock = installVirtualClock();
    const order: string[] = [];
    const mk = (name: string, d: bigint) => sleep(d).then(() => order.push(name));
    const all = Promise.all([mk('c', us(30)), mk('a1', us(10)), mk('b', us(20)), mk('a2', us(10))]);
    clock.advanceNs(us(30));
    await all;
    expect(order).toEqual(['a1', 'a2', 'b', 'c']);
  });

  it('sleep(0n) resolves at the next expiry pass, not synchronously', async () => {
    clock = installVirtualClock();
    const s = track(sleep(0n));
    await flush();
    expect(s.settled).toBe(false);
    clock.advanceNs(0);
    await flush();
    expect(s).toMatchObject({ settled: true, at: 0n });
  });

  it('sleepUntil: an absolute deadline on the chosen clock; a past one resolves at the next pass', async () => {
    clock = installVirtualClock();
    clock.advanceNs(ms(1));
    const real = track(sleepUntil(k.ktime_get_real() + us(700), { clock: k.CLOCK_REALTIME }));
    const boot = track(sleepUntil(k.ktime_get_boottime() + us(300), { clock: k.CLOCK_BOOTTIME }));
    const past = track(sleepUntil(-5n));
    clock.advanceNs(0);
    await flush();
    expect(past).toMatchObject({ settled: true, at: ms(1) });
    expect(boot.settled).toBe(false);
    clock.advanceNs(us(300));
    await flush();
    expect(boot.at).toBe(ms(1) + us(300));
    expect(real.settled).toBe(false);
    clock.advanceNs(us(400));
    await flush();
    expect(real.at).toBe(ms(1) + us(700));
  });

  it('an already aborted signal rejects with AbortError (cause = reason) and arms nothing', async () => {
    clock = installVirtualClock();
    const before = slots();
    const reason = new Error('stop');
    const p = sleep(ms(1), { signal: AbortSignal.abort(reason) });
    expect(slots()).toBe(before);
    const e = await p.catch((x) => x);
    expectAbort(e, reason);
  });

  it('aborting a pending sleep rejects it at once and cancels its timer', async () => {
    clock = installVirtualClock();
    const before = slots();
    const ac = new AbortController();
    const s = track(sleep(ms(50), { signal: ac.signal }));
    expect(slots()).toBe(before + 1);
    clock.advanceNs(ms(10));
    ac.abort('enough');
    await flush();
    expect(s.settled).toBe(true);
    expect(s.at).toBe(ms(10));
    expectAbort(s.error, 'enough');
    expect(slots()).toBe(before);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('a resolved sleep removes its abort listener; aborting later changes nothing', async () => {
    clock = installVirtualClock();
    const ac = new AbortController();
    const s = track(sleep(ms(1), { signal: ac.signal }));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    clock.advanceNs(ms(1));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    ac.abort();
    await flush();
    expect(s).toMatchObject({ settled: true, value: undefined });
    expect('error' in s).toBe(false);
  });
});

describe('bad arguments reject (never throw), with codes', () => {
  const cases: [string, () => Promise<unknown>, typeof TypeError, string, RegExp?][] = [
    ['sleep(10): a number has no unit', () => sleep(10 as any), TypeError, 'ERR_INVALID_ARG_TYPE', /ms\(10\)/],
    ['sleep("10ms")', () => sleep('10ms' as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['sleep(-1n)', () => sleep(-1n), RangeError, 'ERR_OUT_OF_RANGE'],
    ['sleep(2^63)', () => sleep(1n << 63n), RangeError, 'ERR_OUT_OF_RANGE'],
    ['sleep(1n, null)', () => sleep(1n, null as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['sleep(1n, { clock: 5 })', () => sleep(1n, { clock: 5 }), RangeError, 'ERR_KTIMERS_INVALID_CLOCK'],
    ['sleep(1n, { clock: "1" })', () => sleep(1n, { clock: '1' as any }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['sleep(1n, { signal: {} })', () => sleep(1n, { signal: {} as any }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['sleep(1n, { ref: 1 })', () => sleep(1n, { ref: 1 as any }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['sleepUntil(5)', () => sleepUntil(5 as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['sleepUntil(2^63)', () => sleepUntil(1n << 63n), RangeError, 'ERR_OUT_OF_RANGE'],
    ['interval(0n)', () => interval(0n).next(), RangeError, 'ERR_OUT_OF_RANGE'],
    ['interval(10)', () => interval(10 as any).next(), TypeError, 'ERR_INVALID_ARG_TYPE', /ms\(10\)/],
    ['interval(1n, { start: 5 })', () => interval(1n, { start: 5 as any }).next(), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['interval(1n, { clock: 2 })', () => interval(1n, { clock: 2 }).next(), RangeError, 'ERR_KTIMERS_INVALID_CLOCK'],
  ];
  for (const [label, call, cls, code, msg] of cases) {
    it(label, async () => {
      const before = slots();
      let p: Promise<unknown> | undefined;
      expect(() => (p = call())).not.toThrow();
      const e = await p!.then(
        () => null,
        (x) => x,
      );
      expect(e).toBeInstanceOf(cls);
      expect(e.code).toBe(code);
      if (msg) expect(e.message).toMatch(msg);
      expect(slots()).toBe(before);
    });
  }

  it('a failed interval is done after reporting its error once', async () => {
    const it = interval(-1n);
    await expect(it.next()).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
  });
});

describe('interval (virtual clock)', () => {
  it('await using: leaving the block ends the iteration and cancels its timer (Symbol.asyncDispose), also for an iterator of bad arguments', async () => {
    clock = installVirtualClock();
    let it: AsyncIterableIterator<bigint> | undefined;
    {
      const i = interval(ms(10));
      it = i;
      const n = track(i.next());
      clock.advanceNs(ms(10));
      await flush();
      expect(n.value).toEqual({ value: 1n, done: false });
      const pending = track(i.next());
      await i[Symbol.asyncDispose]();
      await flush();
      expect(pending.value).toEqual({ value: undefined, done: true });
    }
    expect(await it.next()).toEqual({ value: undefined, done: true });
    clock.advanceNs(ms(100)); // nothing armed: no tick comes
    const bad = interval(0n);
    await bad[Symbol.asyncDispose]();
    expect(await bad.next()).toEqual({ value: undefined, done: true }); // disposed before its error was read
  });

  it('ticks on absolute deadlines start + k·period, yielding 1n while the consumer keeps up', async () => {
    clock = installVirtualClock();
    const it = interval(ms(10));
    const seen: [bigint, bigint][] = [];
    clock.advanceNs(ms(3)); // set-up latency before the first next(): deadlines stay at 10, 20, …
    for (let i = 0; i < 4; i++) {
      const n = track(it.next());
      clock.advanceNs(ms(7) - 1n);
      await flush();
      expect(n.settled).toBe(false);
      clock.advanceNs(1n);
      await flush();
      seen.push([(n.value as IteratorResult<bigint>).value!, n.at!]);
      clock.advanceNs(ms(3)); // the consumer's work: does not shift the next deadline
    }
    expect(seen).toEqual([
      [1n, ms(10)],
      [1n, ms(20)],
      [1n, ms(30)],
      [1n, ms(40)],
    ]);
    await it.return!();
  });

  it('a consumer slower than the period gets the overrun count, as timerfd / hrtimer_forward report it', async () => {
    clock = installVirtualClock();
    const it = interval(ms(10));
    const first = track(it.next());
    clock.advanceNs(ms(10));
    await flush();
    expect(first.value).toEqual({ value: 1n, done: false });
    clock.advanceNs(ms(35)); // busy until 45 ms: deadlines 20, 30, 40 passed
    const late = track(it.next());
    await flush();
    expect(late).toMatchObject({ settled: true, value: { value: 3n, done: false }, at: ms(45) });
    const next = track(it.next()); // next deadline: 50 ms, not 55
    clock.advanceNs(ms(5) - 1n);
    await flush();
    expect(next.settled).toBe(false);
    clock.advanceNs(1n);
    await flush();
    expect(next).toMatchObject({ value: { value: 1n, done: false }, at: ms(50) });
    await it.return!();
  });

  it('options.start sets the first deadline; one in the past counts every deadline already passed', async () => {
    clock = installVirtualClock();
    clock.advanceNs(ms(100));
    const future = interval(ms(10), { start: ms(101) });
    const f = track(future.next());
    clock.advanceNs(ms(1));
    await flush();
    expect(f).toMatchObject({ value: { value: 1n }, at: ms(101) });
    const past = interval(ms(10), { start: ms(65) }); // 65, 75, 85, 95 are past at 101
    await expect(past.next()).resolves.toEqual({ value: 4n, done: false });
    await Promise.all([future.return!(), past.return!()]);
  });

  it('concurrent next() calls take one tick each, in order', async () => {
    clock = installVirtualClock();
    const it = interval(us(100));
    const ns = [track(it.next()), track(it.next()), track(it.next())];
    for (let i = 0; i < 3; i++) {
      clock.advanceNs(us(100));
      await flush();
    }
    expect(ns.map((n) => [n.value?.value, n.at])).toEqual([
      [1n, us(100)],
      [1n, us(200)],
      [1n, us(300)],
    ]);
    await it.return!();
  });

  it('for await … break cancels the timer; pending next() calls of return() resolve done', async () => {
    clock = installVirtualClock();
    const before = slots();
    const it = interval(ms(1));
    const p = (async () => {
      let sum = 0n;
      for await (const o of it) {
        sum += o;
        if (sum === 3n) break;
      }
      return sum;
    })();
    for (let i = 0; i < 3; i++) {
      clock.advanceNs(ms(1));
      await flush();
    }
    await expect(p).resolves.toBe(3n);
    expect(slots()).toBe(before);
    const it2 = interval(ms(1));
    const pending = it2.next();
    expect(slots()).toBe(before + 1);
    await expect(it2.return!()).resolves.toEqual({ value: undefined, done: true });
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(slots()).toBe(before);
    await expect(it2.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('abort while a next() waits: it rejects with AbortError, the timer is cancelled, then done', async () => {
    clock = installVirtualClock();
    const before = slots();
    const ac = new AbortController();
    const it = interval(ms(1), { signal: ac.signal });
    const n = track(it.next());
    clock.advanceNs(us(500));
    ac.abort(42);
    await flush();
    expectAbort(n.error, 42);
    expect(slots()).toBe(before);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await expect(it.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('abort between ticks: the next next() rejects once; an aborted signal at creation likewise', async () => {
    clock = installVirtualClock();
    const ac = new AbortController();
    const it = interval(ms(1), { signal: ac.signal });
    const n = it.next();
    clock.advanceNs(ms(1));
    await expect(n).resolves.toEqual({ value: 1n, done: false });
    ac.abort('later');
    expectAbort(await it.next().catch((e) => e), 'later');
    await expect(it.next()).resolves.toMatchObject({ done: true });
    const dead = interval(ms(1), { signal: AbortSignal.abort('early') });
    expectAbort(await dead.next().catch((e) => e), 'early');
  });

  it('throw(err) ends the iteration and rejects with err', async () => {
    clock = installVirtualClock();
    const it = interval(ms(1));
    const pending = it.next();
    const err = new Error('consumer failed');
    await expect(it.throw!(err)).rejects.toBe(err);
    await expect(pending).resolves.toMatchObject({ done: true });
  });
});

describe('real clocks (loose bounds)', () => {
  it('sleep never resolves early', async () => {
    for (const d of [us(300), ms(2), ms(15)]) {
      const t0 = k.ktime_get();
      await sleep(d);
      const took = k.ktime_get() - t0;
      expect(took >= d).toBe(true);
      expect(took < d + k.NSEC_PER_SEC).toBe(true);
    }
  });

  it('interval: each tick is at or after its deadline, and the counts add up to the deadlines passed', async () => {
    const period = ms(2);
    const start = k.ktime_get() + period;
    let sum = 0n;
    for await (const o of interval(period, { start })) {
      expect(o >= 1n).toBe(true);
      sum += o;
      // The deadline this tick answered for is start + (sum - 1)·period: never in the future.
      expect(k.ktime_get() >= start + (sum - 1n) * period).toBe(true);
      if (sum >= 20n) break;
    }
    const elapsed = k.ktime_get() - start;
    expect(elapsed >= (sum - 1n) * period).toBe(true);
    expect(elapsed < sum * period + k.NSEC_PER_SEC).toBe(true);
  });

  it('a REALTIME relative sleep measures elapsed time, not wall-clock readings', async () => {
    const t0 = k.ktime_get();
    await sleep(ms(3), { clock: k.CLOCK_REALTIME });
    expect(k.ktime_get() - t0 >= ms(3)).toBe(true);
  });
});

describe('ref, as in node:timers/promises', () => {
  const dist = fileURLToPath(new URL('../dist/promises.js', import.meta.url));
  const run = (code: string) => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import * as p from ${JSON.stringify(dist)};\n${code}`], {
      encoding: 'utf8',
      timeout: 20_000 * SLOWDOWN,
    });
    return { ...r, ms: Date.now() - t0 };
  };

  it('ref: false lets the process exit while a sleep or an interval waits; the default keeps it alive', () => {
    const unrefd = run(`p.sleep(p.s(30), { ref: false }).then(() => console.log('woke'));
      p.interval(p.s(30), { ref: false }).next().then(() => console.log('ticked'));`);
    expect(unrefd.status).toBe(0);
    expect(unrefd.stdout).toBe('');
    expect(unrefd.ms).toBeLessThan(10_000 * SLOWDOWN); // a backstop: stdout shows whether the 30 s waits held it
    const refd = run(`const t0 = process.hrtime.bigint(); await p.sleep(p.ms(300));
      const it = p.interval(p.ms(100)); await it.next(); await it.return();
      console.log('woke after', (process.hrtime.bigint() - t0) >= 400_000_000n);`);
    expect(refd.status).toBe(0);
    expect(refd.stdout.trim()).toBe('woke after true');
  });
});

describe('in a worker_thread (the engine is per thread)', () => {
  it('sleep, interval and HighResTimer run on the worker\'s own engine', async () => {
    const dir = new URL('../dist/', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      (async () => {
        const k = await import('${dir}index.js');
        const p = await import('${dir}promises.js');
        const t0 = k.ktime_get();
        await p.sleep(k.ms(2));
        const slept = k.ktime_get() - t0 >= k.ms(2);
        let ticks = 0n;
        for await (const o of p.interval(k.ms(1))) { if (o >= 1n) ticks++; if (ticks >= 3n) break; } // iterations: a slow tick's overrun count is 2+ under load
        const ran = await new Promise((resolve) => new k.HighResTimer((_t, o) => resolve(o)).start(k.us(300)));
        parentPort.postMessage({ slept, ticks: Number(ticks), ran: Number(ran), hardirqOutside: k.in_hardirq() });
      })();`;
    const w = new Worker(code, { eval: true });
    const msg = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(msg).toEqual({ slept: true, ticks: 3, ran: 1, hardirqOutside: false });
    await w.terminate();
  });
});
