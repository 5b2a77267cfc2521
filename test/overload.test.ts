// Overload on the real clock: a stalled JS thread and a burst of simultaneous
// expiries. Nothing may fire twice, nothing may be lost, and the overrun count
// must be exactly what hrtimer_forward computes from the clock reading
// (kernel/time/hrtimer.c hrtimer_forward: the new expiry is the first expires + k·interval strictly
// after now, and k is returned).
import { describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { until } from './helpers.js';

/** Busy-waits `ms` milliseconds on the JS thread: no callback can run meanwhile. */
function block(ms: number): void {
  const end = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  while (process.hrtime.bigint() < end);
}

describe('overload: the JS thread blocked for 200 ms under a 10 kHz hrtimer', () => {
  it('on resume the overrun count is exact, every period is run or counted once, and one-shot timers due meanwhile each fire once, in order', async () => {
    const I = 100_000n; // 10 kHz
    interface Tick {
      exp: bigint; // the expiry this run was due at
      now: bigint; // the clock reading passed to hrtimer_forward
      orun: bigint;
      next: bigint; // the expiry after forwarding
    }
    const ticks: Tick[] = [];
    let blockAt = -1;
    const t = new k.hrtimer();
    k.hrtimer_setup(
      t,
      (tm) => {
        const exp = k.hrtimer_get_expires(tm);
        const now = k.ktime_get();
        const orun = k.hrtimer_forward(tm, now, I);
        ticks.push({ exp, now, orun, next: k.hrtimer_get_expires(tm) });
        if (ticks.length === 50) {
          blockAt = ticks.length;
          // One-shot timers due inside the stall, armed from here (hard IRQ context).
          for (let i = 0; i < 100; i++) k.hrtimer_start(shots[i]!, now + 1_000_000n + BigInt(i) * 1_500_000n, k.HRTIMER_MODE_ABS);
          block(200);
        }
        return ticks.length >= 200 ? k.HRTIMER_NORESTART : k.HRTIMER_RESTART;
      },
      k.CLOCK_MONOTONIC,
      k.HRTIMER_MODE_ABS,
    );
    const fired: number[] = [];
    const shots = Array.from({ length: 100 }, (_, i) => {
      const s = new k.hrtimer();
      k.hrtimer_setup(s, () => (fired.push(i), k.HRTIMER_NORESTART), k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
      return s;
    });
    const start = k.ktime_get() + I;
    k.hrtimer_start(t, start, k.HRTIMER_MODE_ABS);
    await until(() => !k.hrtimer_active(t) && fired.length === 100, 20_000);
    await new Promise((r) => setTimeout(r, 20)); // a double fire would show up here

    expect(ticks).toHaveLength(200);
    let covered = 0n;
    for (let i = 0; i < ticks.length; i++) {
      const { exp, now, orun, next } = ticks[i]!;
      expect(now).toBeGreaterThanOrEqual(exp); // never early
      // hrtimer_forward, exactly: the missed periods from the clock reading.
      expect(orun).toBe((now - exp) / I + 1n);
      expect(next).toBe(exp + orun * I);
      expect(next).toBeGreaterThan(now);
      expect(next - I).toBeLessThanOrEqual(now);
      // Each run is due at the previous run's forwarded expiry: no period twice, none skipped uncounted.
      expect(exp).toBe(i === 0 ? start : ticks[i - 1]!.next);
      covered += orun;
    }
    expect(covered).toBe((ticks.at(-1)!.next - start) / I);
    // The stall: the run right after it reports the ~2,000 periods it missed.
    const resumed = ticks[blockAt]!;
    expect(resumed.orun).toBeGreaterThanOrEqual(1990n);
    expect(resumed.now - ticks[blockAt - 1]!.now).toBeGreaterThanOrEqual(200_000_000n);
    // Every one-shot due during the stall ran once, in expiry order.
    expect(fired).toEqual([...Array(100).keys()]);
    expect(shots.every((s) => !k.hrtimer_active(s))).toBe(true);
  }, 30_000);
});

describe('overload: 100,000 timers due in the same instant (real clock)', () => {
  it('hrtimer: each fires exactly once, in arming order (FIFO among equal expiries)', async () => {
    const N = 100_000;
    const order: number[] = [];
    const count = new Uint8Array(N);
    const ts = new Array<k.hrtimer>(N);
    for (let i = 0; i < N; i++) {
      const t = new k.hrtimer();
      k.hrtimer_setup(t, () => (count[i]!++, order.push(i), k.HRTIMER_NORESTART), k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
      ts[i] = t;
    }
    // Arming is synchronous: no expiry pass can run until all 100,000 are queued with
    // the same expiry, even if the instant passes while arming on a loaded machine.
    const at = k.ktime_get() + 50_000_000n;
    for (let i = 0; i < N; i++) k.hrtimer_start(ts[i]!, at, k.HRTIMER_MODE_ABS);
    await until(() => order.length >= N, 20_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(order.length).toBe(N);
    expect(count.every((c) => c === 1)).toBe(true);
    let fifo = true;
    for (let i = 0; i < N; i++) if (order[i] !== i) fifo = false;
    expect(fifo).toBe(true);
    expect(ts.some((t) => k.hrtimer_active(t))).toBe(false);
  }, 30_000);

  it('timer_list: each fires exactly once, newest first (the kernel\'s bucket order: insertion at the head)', async () => {
    const N = 100_000;
    const order: number[] = [];
    const count = new Uint8Array(N);
    const ts = new Array<k.timer_list>(N);
    for (let i = 0; i < N; i++) {
      const t = new k.timer_list();
      k.timer_setup(t, () => (count[i]!++, order.push(i)), 0);
      ts[i] = t;
    }
    // 20 jiffies ahead: level 0 (one bucket per jiffy), so all share one bucket.
    const j = k.get_jiffies_64() + 20n;
    for (let i = 0; i < N; i++) k.mod_timer(ts[i]!, j);
    const armedBy = k.get_jiffies_64();
    await until(() => order.length >= N, 20_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(order.length).toBe(N);
    expect(count.every((c) => c === 1)).toBe(true);
    if (armedBy < j) {
      // Armed within 20 jiffies: one bucket, run newest first.
      let lifo = true;
      for (let i = 0; i < N; i++) if (order[i] !== N - 1 - i) lifo = false;
      expect(lifo).toBe(true);
    }
    expect(ts.some((t) => k.timer_pending(t))).toBe(false);
  }, 30_000);
});
