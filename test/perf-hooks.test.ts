// monitorEventLoopDelay (lib/perf_hooks.ts): Node's IntervalHistogram interface
// (compared with Node's own monitor for shape, units and error codes), what one
// sample is on the real clock (established by a synchronous block of known
// length: lower bounds that any load only makes larger; upper limits are
// backstops), the loop watch's blocks, worker_threads, and the preload
// `node --import ktimers/loop-delay`. The histogram's arithmetic is exact and
// is checked value by value.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { monitorEventLoopDelay as nodeMonitor } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { monitorEventLoopDelay, EventLoopDelayMonitor, ms, us } from '../dist/index.js';
import * as sub from '../dist/perf_hooks.js';
import { LogHistogram } from '../dist/internal/histogram.js';
import { loopWatch, loopWokeAt } from '../dist/internal/engine.js';
import * as k from '../dist/index.js';
import { SLOWDOWN, mulberry32, until } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const T = 60_000 * SLOWDOWN;
const spin = (msec: number) => {
  const t = process.hrtime.bigint();
  while (process.hrtime.bigint() - t < BigInt(msec) * 1_000_000n);
};
function thrown(f: () => unknown): { name: string; code: unknown } | null {
  try {
    f();
    return null;
  } catch (e) {
    return { name: (e as Error).name, code: (e as { code?: unknown }).code };
  }
}

describe('LogHistogram: exact counts and moments, percentiles within 1/1024', () => {
  it('values below 2048 are exact; above, a percentile is within 1/1024 of the true one and inside [min, max]', () => {
    const rnd = mulberry32(17);
    const h = new LogHistogram();
    const vals: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const v = i % 3 === 0 ? Math.floor(rnd() * 2048) : Math.floor(2 ** (11 + rnd() * 30));
      vals.push(v);
      h.record(v);
    }
    vals.sort((a, b) => a - b);
    expect(h.count).toBe(vals.length);
    expect(h.min).toBe(vals[0]);
    expect(h.max).toBe(vals.at(-1));
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    expect(Math.abs(h.mean - mean) / mean).toBeLessThan(1e-9);
    expect(Math.abs(h.stddev - sd) / sd).toBeLessThan(1e-6);
    for (const p of [0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 100]) {
      const exact = vals[Math.max(1, Math.ceil((p / 100) * vals.length)) - 1]!;
      const got = h.percentile(p);
      if (exact < 2048) expect(got).toBe(exact);
      else expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(1 / 1024);
      expect(got).toBeGreaterThanOrEqual(h.min);
      expect(got).toBeLessThanOrEqual(h.max);
    }
  });

  it('record(v, n) is n records of v; reset empties; values at powers of two land in their own bucket', () => {
    const a = new LogHistogram();
    const b = new LogHistogram();
    a.record(5000, 7);
    for (let i = 0; i < 7; i++) b.record(5000);
    expect([a.count, a.mean, a.stddev, a.percentile(50)]).toEqual([b.count, b.mean, b.stddev, b.percentile(50)]);
    for (let e = 11; e < 53; e++) {
      const h = new LogHistogram();
      h.record(2 ** e - 1);
      h.record(2 ** e);
      expect(h.percentile(50)).toBeLessThan(2 ** e);
      expect(h.percentile(100)).toBe(2 ** e);
    }
    a.reset();
    expect([a.count, a.max, a.percentile(50), Number.isNaN(a.mean)]).toEqual([0, 0, 0, true]);
  });

  it("percentiles(): Node's levels (0, 50, 75, 87.5, ... 100) while a level separates values", () => {
    const h = new LogHistogram();
    for (let v = 1; v <= 47; v++) h.record(v * 1000);
    expect([...h.percentiles().keys()]).toEqual([0, 50, 75, 87.5, 93.75, 96.875, 98.4375, 100]);
    expect(h.percentiles().get(0)).toBe(1000);
    expect(h.percentiles().get(100)).toBe(47_000);
    expect([...new LogHistogram().percentiles()]).toEqual([[100, 0]]);
  });
});

describe("monitorEventLoopDelay: Node's interface", () => {
  it("has every member of Node's IntervalHistogram with the same types, and Node's empty values", () => {
    const k = monitorEventLoopDelay();
    const n = nodeMonitor();
    const members = ['count', 'countBigInt', 'min', 'minBigInt', 'max', 'maxBigInt', 'mean', 'stddev', 'exceeds', 'exceedsBigInt', 'percentiles', 'percentilesBigInt'];
    for (const m of members) {
      const nv = (n as any)[m];
      const kv = (k as any)[m];
      expect(typeof kv, m).toBe(typeof nv);
      if (nv instanceof Map) expect(kv).toBeInstanceOf(Map);
    }
    for (const m of ['enable', 'disable', 'reset', 'percentile', 'percentileBigInt', 'toJSON']) expect(typeof (k as any)[m], m).toBe('function');
    expect(typeof k[Symbol.dispose]).toBe('function');
    // empty, as Node's
    expect(k.min).toBe(n.min);
    expect(k.minBigInt).toBe(n.minBigInt);
    for (const m of ['max', 'count', 'exceeds'] as const) expect(k[m], m).toBe(n[m]);
    expect(k.mean).toBeNaN();
    expect(k.stddev).toBeNaN();
    expect([...k.percentiles]).toEqual([...n.percentiles]);
    expect(Object.keys(k.toJSON()).sort()).toEqual(expect.arrayContaining(['count', 'exceeds', 'max', 'mean', 'min', 'percentiles', 'stddev']));
    expect(sub.monitorEventLoopDelay).toBe(monitorEventLoopDelay);
    expect(k).toBeInstanceOf(EventLoopDelayMonitor);
    expect(k.period).toBe(ms(10));
    expect(monitorEventLoopDelay({ resolution: 3 }).period).toBe(ms(3));
    expect(monitorEventLoopDelay({ resolution: 3, period: us(250) }).period).toBe(us(250));
    expect(k.countWakeup).toBe(false);
    expect(monitorEventLoopDelay({ countWakeup: true }).countWakeup).toBe(true);
  });

  it("enable()/disable() return Node's booleans", () => {
    const k = monitorEventLoopDelay();
    const n = nodeMonitor();
    const seq = (h: { enable(): boolean; disable(): boolean }) => [h.disable(), h.enable(), h.enable(), h.disable(), h.disable()];
    expect(seq(k)).toEqual(seq(n));
  });

  it("bad options and percentiles: Node's error classes and codes, for the same inputs", () => {
    const opts: unknown[] = [1, 'x', null, [], { resolution: 0 }, { resolution: -1 }, { resolution: 1.5 }, { resolution: '1' }, { resolution: NaN }, { resolution: 2 ** 60 }];
    for (const o of opts) {
      const want = thrown(() => nodeMonitor(o as any));
      // Node accepts an array as an options object in some versions: follow it where it does.
      if (want === null) continue;
      expect(thrown(() => monitorEventLoopDelay(o as any)), JSON.stringify(o)).toEqual(want);
    }
    const n = nodeMonitor();
    const k = monitorEventLoopDelay();
    for (const p of [0, -1, 101, NaN, '50', 50n, undefined]) {
      const want = thrown(() => n.percentile(p as any));
      expect(want, String(p)).not.toBeNull();
      expect(thrown(() => k.percentile(p as any)), String(p)).toEqual(want);
    }
    // the ktimers options
    expect(thrown(() => monitorEventLoopDelay({ period: 1000 as any }))).toEqual({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => monitorEventLoopDelay({ period: us(5) }))).toEqual({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => monitorEventLoopDelay({ blocks: 1001 }))).toEqual({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => monitorEventLoopDelay({ blocks: '3' as any }))).toEqual({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => monitorEventLoopDelay({ countWakeup: 1 as any }))).toEqual({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => monitorEventLoopDelay({ countWakeup: 'yes' as any }))).toEqual({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    // a method taken off the object
    const { enable } = k;
    expect(thrown(() => enable.call({}))).toEqual({ name: 'TypeError', code: 'ERR_INVALID_THIS' });
  });
  it('fuzz: hostile options and percentile arguments give a coded TypeError/RangeError or a monitor, never anything else', () => {
    const rnd = mulberry32(4242);
    const vals: unknown[] = [undefined, null, 0, -1, 1, 1.5, 10, NaN, Infinity, 2 ** 53, 1n, us(9), us(10), ms(1), '', '10', {}, [], () => {}, Symbol('s'),
      new Proxy({}, { get() { throw new RangeError('trap'); } })];
    const pick = () => vals[Math.floor(rnd() * vals.length)];
    let made = 0;
    for (let i = 0; i < 2000; i++) {
      const o = rnd() < 0.2 ? pick() : {
        resolution: pick(),
        period: rnd() < 0.5 ? undefined : pick(),
        blocks: rnd() < 0.5 ? undefined : pick(),
        countWakeup: rnd() < 0.5 ? undefined : rnd() < 0.5 ? rnd() < 0.5 : pick(),
      };
      let m: EventLoopDelayMonitor | undefined;
      try {
        m = monitorEventLoopDelay(o as any);
        made++;
      } catch (e) {
        if ((e as Error).message === 'trap') continue; // the proxy's own throw, as Node's would pass it on
        expect(['TypeError', 'RangeError'], String(e)).toContain((e as Error).name);
        expect(typeof (e as { code?: unknown }).code, String(e)).toBe('string');
      }
      if (m) {
        const p = pick();
        try {
          m.percentile(p as any);
        } catch (e) {
          expect(['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']).toContain((e as { code?: unknown }).code);
        }
      }
    }
    expect(made).toBeGreaterThan(0);
  });
});

describe('monitorEventLoopDelay on the real clock', () => {
  it('a block of B ms at a 1 ms period: every deadline in it is a sample, the largest >= B - 1 ms; the longest block >= B', async () => {
    const B = 30;
    const k = monitorEventLoopDelay({ period: ms(1), blocks: 100 });
    k.enable();
    try {
      await until(() => k.count > 0, T); // sampling runs
      const c0 = k.count;
      const t0 = process.hrtime.bigint();
      spin(B);
      const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
      await until(() => k.count > c0, T); // the first callback after the block
      expect(k.count - c0).toBeGreaterThanOrEqual(Math.floor(elapsed) - 1);
      expect(k.max).toBeGreaterThanOrEqual((B - 1) * 1e6);
      // The spin's iteration is the block that ended after it began (on a loaded machine an
      // earlier iteration can be longer: a preempted one).
      const blocks = k.blocks();
      const mine = blocks.find((b) => b.endNs > t0);
      expect(mine, JSON.stringify(blocks, (_, v) => (typeof v === 'bigint' ? String(v) : v))).toBeDefined();
      expect(mine!.durationNs).toBeGreaterThanOrEqual(B * 1e6);
      // a backstop only: the block is the spin plus what the loop did around it
      expect(mine!.durationNs).toBeLessThan(B * 1e6 + 5_000 * 1e6 * SLOWDOWN);
      expect(blocks[0]!.durationNs).toBeGreaterThanOrEqual(mine!.durationNs);
      expect(k.iterations.count).toBeGreaterThan(0);
      expect(k.iterations.busyNs).toBeGreaterThanOrEqual(B * 1e6);
      // units: ns, as Node's
      expect(k.percentile(100)).toBe(k.max);
      expect(k.maxBigInt).toBe(BigInt(k.max));
    } finally {
      k.disable();
    }
  });

  it('two monitors watch the same loop: both see the block; reset() drops it from one only', async () => {
    const a = monitorEventLoopDelay({ period: ms(1) });
    const b = monitorEventLoopDelay({ period: ms(2), blocks: 3 });
    a.enable();
    b.enable();
    try {
      await until(() => a.count > 0 && b.count > 0, T);
      const [ca, cb] = [a.count, b.count];
      spin(20);
      await until(() => a.count > ca && b.count > cb, T);
      expect(a.blocks()[0]!.durationNs).toBeGreaterThanOrEqual(20e6);
      expect(b.blocks()[0]!.durationNs).toBeGreaterThanOrEqual(20e6);
      expect(b.blocks().length).toBeLessThanOrEqual(3);
      b.reset();
      expect(b.count).toBe(0);
      expect(b.blocks().every((x) => x.durationNs < 20e6)).toBe(true);
      expect(a.blocks()[0]!.durationNs).toBeGreaterThanOrEqual(20e6);
    } finally {
      a.disable();
      b.disable();
    }
  });

  it('blocks: 0 keeps no block and still counts the iterations (the watch runs for the wake-up time)', async () => {
    const m = monitorEventLoopDelay({ period: ms(1), blocks: 0 });
    m.enable();
    try {
      await until(() => m.count >= 3, T);
      const c = m.count;
      spin(5);
      await until(() => m.count > c, T); // a sample after the block: its iteration has ended
      expect(m.blocks()).toEqual([]);
      expect(m.iterations.busyNs).toBeGreaterThanOrEqual(5e6);
    } finally {
      m.disable();
    }
  });

  it('disable() stops sampling: the count stays', async () => {
    const k = monitorEventLoopDelay({ period: ms(1) });
    k.enable();
    await until(() => k.count >= 3, T);
    k.disable();
    const c = k.count;
    await new Promise((r) => setTimeout(r, 20));
    expect(k.count).toBe(c);
  });

  it('works in a worker_thread, and its unref\'d timer lets the worker end by itself', async () => {
    const w = new Worker(new URL('./fixtures/loop-delay/worker.mjs', import.meta.url), { workerData: { ms: 20 } });
    // Both listeners from the start: a worker that ends right after posting has its message
    // drained and 'exit' emitted in one go, before a listener added after the message would be.
    const exited = new Promise<number>((resolve) => w.once('exit', resolve));
    const msg = await new Promise<any>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    const code = await exited;
    expect(code).toBe(0);
    expect(msg.max).toBeGreaterThanOrEqual(19.5e6);
    expect(msg.count).toBeGreaterThanOrEqual(38);
    expect(msg.block).toBeGreaterThanOrEqual(20e6);
  });
});

function runApp(env: Record<string, string>, args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'ktimers/loop-delay', 'test/fixtures/loop-delay/app.mjs', ...args], { cwd: root, env: { ...process.env, ...env } });
    let stderr = '';
    let stdout = '';
    c.stderr.on('data', (d) => (stderr += d));
    c.stdout.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), T);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

// What the monitor takes as "when the loop woke" (native/loop_watch.cc): the
// last prepare's time plus the idle time added since, read from inside a
// callback of the loop's poll phase (an hrtimer's). Each case sets up the
// condition it is about and checks it, rather than assuming the loop's timing.
describe('loopWokeAt: when the loop came back from waiting for its events', () => {
  /** Arms an hrtimer `delayNs` out, runs `during` right after, and resolves with what its callback saw. */
  function fire(delayNs: bigint, during: () => void): Promise<{ armedAt: number; woke: number; now: number }> {
    return new Promise((resolve) => {
      const t = new k.hrtimer();
      const armedAt = Number(k.ktime_get());
      k.hrtimer_setup(t, () => {
        const woke = loopWokeAt();
        resolve({ armedAt, woke, now: Number(k.ktime_get()) });
        return k.HRTIMER_NORESTART;
      }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
      k.hrtimer_start(t, delayNs, k.HRTIMER_MODE_REL);
      during();
    });
  }

  it('-1 when the watch is off; -1 when the timer came due during a block (the loop found it ready, never slept)', async () => {
    expect(loopWokeAt()).toBe(-1);
    loopWatch(0);
    try {
      // Due 1 ms after arming, while the same callback spins 5 ms: by the next
      // poll the timerfd is ready, so the loop does not sleep before serving it.
      const r = await fire(1_000_000n, () => spin(5));
      expect(r.woke).toBe(-1);
    } finally {
      loopWatch(-1);
    }
  });

  it('after a sleep through the deadline: a time after the arming and no later than the callback', async () => {
    loopWatch(0);
    try {
      // The loop is idle for 20 ms: it sleeps until the timer wakes it (or
      // until something else does, after which it sleeps again). A run where
      // the deadline came while the loop happened to be busy reads -1; at
      // least one of a few runs sleeps through its deadline.
      const runs = [];
      for (let i = 0; i < 5; i++) runs.push(await fire(20_000_000n, () => {}));
      const slept = runs.filter((r) => r.woke !== -1);
      expect(slept.length, JSON.stringify(runs)).toBeGreaterThan(0);
      for (const r of slept) {
        expect(r.woke).toBeGreaterThan(r.armedAt);
        expect(r.woke).toBeLessThanOrEqual(r.now);
      }
    } finally {
      loopWatch(-1);
    }
  });

  it('monitors sharing a period come and go independently: one disabled, the other samples on; both disabled, enabled again, both sample', async () => {
    const a = monitorEventLoopDelay({ period: ms(1) });
    const b = monitorEventLoopDelay({ period: ms(1) });
    try {
      a.enable();
      b.enable();
      await until(() => a.count >= 2 && b.count >= 2, T);
      a.disable();
      const frozenA = a.count;
      const fromB = b.count;
      await until(() => b.count >= fromB + 5, T);
      expect(a.count).toBe(frozenA);
      b.disable();
      const stopped = b.count;
      await new Promise((r) => setTimeout(r, 10));
      expect(b.count).toBe(stopped);
      expect(a.enable()).toBe(true);
      expect(b.enable()).toBe(true);
      await until(() => a.count >= frozenA + 3 && b.count >= stopped + 3, T);
    } finally {
      a.disable();
      b.disable();
    }
  });

  it('two monitors of one period share their deadlines: the one that leaves out the wake-up reads less, deadline by deadline', async () => {
    // Monitors of one period share one sampling timer (lib/perf_hooks.ts, Sampler): at each
    // deadline both read the same clock, so `m`'s sample (from the deadline, or from the wake-up
    // if the loop slept through it) is at most `raw`'s (from the deadline), for every deadline.
    // The loop sleeps between samples, most deadlines come while it waits, and the time the
    // kernel took to wake it is in `raw`'s figures only: less in sum, never more in any one.
    const m = monitorEventLoopDelay({ period: ms(2) });
    const raw = monitorEventLoopDelay({ period: ms(2), countWakeup: true });
    m.enable();
    raw.enable();
    try {
      // Clear both in one synchronous step, between two deadlines: from then on they have the
      // same deadlines.
      await until(() => m.count >= 1 && raw.count >= 1, T);
      m.reset();
      raw.reset();
      await until(() => m.count >= 100, T);
      m.disable();
      raw.disable();
      expect(m.count).toBe(raw.count);
      expect(m.min).toBeLessThanOrEqual(raw.min);
      expect(m.percentile(50)).toBeLessThanOrEqual(raw.percentile(50));
      expect(m.max).toBeLessThanOrEqual(raw.max);
      expect(m.mean).toBeLessThan(raw.mean);
    } finally {
      m.disable();
      raw.disable();
    }
  });

});

describe('node --import ktimers/loop-delay', () => {
  it('measures an app from start to exit and prints the report at its natural end (JSON on stderr)', async () => {
    const r = await runApp({ KTIMERS_LOOP_DELAY_JSON: '-', KTIMERS_LOOP_DELAY_PERIOD_US: '1000' }, ['40']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(rep.period_ns).toBe(1_000_000);
    expect(rep.count_wakeup).toBe(false);
    expect(rep.count).toBeGreaterThan(30);
    expect(rep.max).toBeGreaterThanOrEqual(39e6);
    expect(rep.blocks[0].duration_ns).toBeGreaterThanOrEqual(40e6);
    expect(rep.blocks[0].end_ns).toBeLessThanOrEqual(rep.duration_ns);
    expect(Object.keys(rep.percentiles)).toEqual(['50', '90', '99', '99.9']);
    expect(rep.iterations).toBeGreaterThan(0);
  });

  it('prints the text report after process.exit(), at the default period', async () => {
    const r = await runApp({}, ['30', 'exit']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^# ktimers loop-delay: pid \d+ .*a sample every 10000\.0 us$/m);
    expect(r.stderr).toMatch(/^# Min: [\d.]+ {2}Avg: [\d.]+ {2}p50: [\d.]+ {2}p90: [\d.]+ {2}p99: [\d.]+ {2}p99\.9: [\d.]+ {2}Max: [\d.]+$/m);
    const first = /^# Longest blocks.*\n#\s+([\d.]+)\s+at ([\d.]+)$/m.exec(r.stderr);
    expect(first, r.stderr).not.toBeNull();
    expect(Number(first![1])).toBeGreaterThanOrEqual(30_000);
  });

  it('a bad setting is a coded error at start', async () => {
    const r = await runApp({ KTIMERS_LOOP_DELAY_PERIOD_US: '5' }, ['1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ERR_KTIMERS_BAD_ENV');
    expect(r.stderr).toContain('KTIMERS_LOOP_DELAY_PERIOD_US');
    const w = await runApp({ KTIMERS_LOOP_DELAY_COUNT_WAKEUP: 'yes' }, ['1']);
    expect(w.code).not.toBe(0);
    expect(w.stderr).toContain('ERR_KTIMERS_BAD_ENV');
    expect(w.stderr).toContain('KTIMERS_LOOP_DELAY_COUNT_WAKEUP');
  });

  it('KTIMERS_LOOP_DELAY_COUNT_WAKEUP=1 is the monitor with countWakeup, and the report says so', async () => {
    const r = await runApp({ KTIMERS_LOOP_DELAY_JSON: '-', KTIMERS_LOOP_DELAY_COUNT_WAKEUP: '1' }, ['10']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stderr.trim().split('\n').pop()!).count_wakeup).toBe(true);
    const t = await runApp({ KTIMERS_LOOP_DELAY_COUNT_WAKEUP: '1' }, ['10']);
    expect(t.stderr).toMatch(/^# Samples: \d+ {2}\(how long the loop kept each deadline of the period waiting, us, wake-up included\)$/m);
  });
});
