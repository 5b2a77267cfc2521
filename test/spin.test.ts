// hrtimer_set_spin_ns: the hybrid wake-up (native/addon.cc, "Spin").
// What must hold: the timerfd is programmed `spin` before the hard expiry (and
// only for spinning timers), a spinning timer is never run before its expiry,
// the run order of timers is the one without spin, the busy-wait is counted,
// and on the virtual clock spin changes nothing.
import { describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { engineState } from '../dist/internal/engine.js';
import { installVirtualClock } from '../dist/testing.js';
import { mulberry32, until } from './helpers.js';
import { trackedHrtimers } from './tracked.js';

const MS = 1_000_000n;
const US = 1_000n;
const { timer } = trackedHrtimers();

describe('hrtimer_set_spin_ns / hrtimer_get_spin_ns', () => {
  it('stores the spin as a bigint, 0n by default, up to HRTIMER_SPIN_MAX_NS', () => {
    const t = new k.hrtimer();
    expect(k.hrtimer_get_spin_ns(t)).toBe(0n);
    k.hrtimer_set_spin_ns(t, 50_000);
    expect(k.hrtimer_get_spin_ns(t)).toBe(50_000n);
    k.hrtimer_set_spin_ns(t, k.HRTIMER_SPIN_MAX_NS);
    expect(k.hrtimer_get_spin_ns(t)).toBe(1_000_000_000n);
    k.hrtimer_set_spin_ns(t, 0n);
    expect(k.hrtimer_get_spin_ns(t)).toBe(0n);
  });

  it('rejects a spin past 1 s, negative, fractional or not a number, and keeps the old value', () => {
    const t = new k.hrtimer();
    k.hrtimer_set_spin_ns(t, 7n);
    for (const [v, cls, code] of [
      [k.HRTIMER_SPIN_MAX_NS + 1n, RangeError, 'ERR_OUT_OF_RANGE'],
      [-1, RangeError, 'ERR_OUT_OF_RANGE'],
      [1.5, RangeError, 'ERR_OUT_OF_RANGE'],
      ['5', TypeError, 'ERR_INVALID_ARG_TYPE'],
    ] as const) {
      let err: any;
      try {
        k.hrtimer_set_spin_ns(t, v as any);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(cls);
      expect(err.code).toBe(code);
    }
    expect(k.hrtimer_get_spin_ns(t)).toBe(7n);
    expect(() => k.hrtimer_set_spin_ns({} as any, 1)).toThrow(TypeError);
  });
});

describe('arming a spinning timer (real clock)', () => {
  it('programs the timerfd spin_ns before the hard expiry; cancel and spin 0 restore the plain expiry', () => {
    const at = k.ktime_get() + 10_000n * MS; // far: nothing fires during the test
    const plain = timer();
    k.hrtimer_start(plain, at, k.HRTIMER_MODE_ABS);
    expect(engineState().programmed![0]).toBe(at);
    const s = timer();
    k.hrtimer_set_spin_ns(s, 300n * US);
    k.hrtimer_start(s, at + 100n * US, k.HRTIMER_MODE_ABS); // later hard expiry, earlier wake-up
    expect(engineState().programmed![0]).toBe(at - 200n * US);
    expect(engineState().spinners).toBe(1);
    // A spin change applies at the next start, not to the queued instance.
    k.hrtimer_set_spin_ns(s, 0);
    expect(engineState().programmed![0]).toBe(at - 200n * US);
    k.hrtimer_restart(s);
    expect(engineState().spinners).toBe(0);
    // (A timer moving later does not re-arm the timerfd, spin or not: the next
    // wake-up may come early and finds nothing due. A cancel re-computes it.)
    k.hrtimer_cancel(plain);
    expect(engineState().programmed![0]).toBe(at + 100n * US);
    k.hrtimer_set_spin_ns(s, 50n * US);
    k.hrtimer_restart(s);
    expect(engineState().programmed![0]).toBe(at + 50n * US);
    expect(engineState().spinners).toBe(1);
    k.hrtimer_cancel(s);
    expect(engineState().programmed![0]).toBe(null);
    expect(engineState().spinners).toBe(0);
  });

  it('a periodic spinning timer is never early, keeps its period, and the busy-wait is counted', async () => {
    const period = 2n * MS;
    const lat: bigint[] = [];
    const spun0 = engineState().spinNs!;
    const t = timer((tm) => {
      lat.push(k.ktime_get() - k.hrtimer_get_expires(tm));
      if (lat.length === 100) return k.HRTIMER_NORESTART;
      k.hrtimer_forward_now(tm, period);
      return k.HRTIMER_RESTART;
    });
    k.hrtimer_set_spin_ns(t, 500n * US);
    const t0 = k.ktime_get();
    k.hrtimer_start(t, t0 + period, k.HRTIMER_MODE_ABS);
    await until(() => lat.length === 100, 10_000);
    expect(lat.every((l) => l >= 0n)).toBe(true);
    const spun = engineState().spinNs! - spun0;
    // Each wake-up comes up to 500 us early and spins the rest: a positive total,
    // at most 500 us per expiry, plus 100 ms in all for the thread being preempted
    // mid-spin on a loaded 2-core VM (a spin that ran its whole 2 ms period every
    // time would be 200 ms).
    expect(spun > 0n).toBe(true);
    expect(spun <= 100n * 500n * US + 100n * MS).toBe(true);
    expect(engineState().spinners).toBe(0); // NORESTART: nothing left armed
  });

  it('run order with random spins and expiries is (hard expiry, arming order), as without spin', async () => {
    const rnd = mulberry32(0x5b1);
    const order: number[] = [];
    const expect_: { i: number; hard: bigint; seq: number }[] = [];
    const base = k.ktime_get() + 30n * MS;
    const ran = new Map<number, bigint>();
    for (let i = 0; i < 60; i++) {
      const hard = base + BigInt(Math.floor(rnd() * 8)) * 200n * US; // many equal expiries
      const t = timer(() => {
        order.push(i);
        ran.set(i, k.ktime_get());
      });
      if (rnd() < 0.5) k.hrtimer_set_spin_ns(t, BigInt(Math.floor(rnd() * 1500)) * US);
      k.hrtimer_start(t, hard, k.HRTIMER_MODE_ABS);
      expect_.push({ i, hard, seq: i });
    }
    await until(() => order.length === 60, 10_000);
    expect(order).toEqual(expect_.sort((a, b) => (a.hard < b.hard ? -1 : a.hard > b.hard ? 1 : a.seq - b.seq)).map((e) => e.i));
    for (const e of expect_) expect(ran.get(e.i)! >= e.hard).toBe(true);
  });

  it('a spinning range timer runs at or after its soft expiry, before its hard one', async () => {
    let ranAt = -1n;
    const t = timer(() => {
      ranAt = k.ktime_get();
    });
    k.hrtimer_set_spin_ns(t, 400n * US);
    const soft = k.ktime_get() + 20n * MS;
    k.hrtimer_start_range_ns(t, soft, 300n * US, k.HRTIMER_MODE_ABS);
    expect(engineState().programmed![0]).toBe(soft + 300n * US - 400n * US);
    await until(() => ranAt > 0n);
    expect(ranAt >= soft).toBe(true);
  });

  it('a spinning SOFT-mode timer runs in softirq context, not before its expiry', async () => {
    let ctx = '';
    let ranAt = -1n;
    const t = timer(() => {
      ranAt = k.ktime_get();
      ctx = k.in_serving_softirq() ? 'softirq' : k.in_hardirq() ? 'hardirq' : 'task';
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS_SOFT);
    k.hrtimer_set_spin_ns(t, 200n * US);
    const at = k.ktime_get() + 15n * MS;
    k.hrtimer_start(t, at, k.HRTIMER_MODE_ABS_SOFT);
    await until(() => ranAt > 0n);
    expect(ranAt >= at).toBe(true);
    expect(ctx).toBe('softirq');
  });

  it('works on CLOCK_REALTIME and CLOCK_TAI (their own clock decides when the spin ends)', async () => {
    const ran: Record<string, bigint> = {};
    const cases = [
      ['real', k.CLOCK_REALTIME, k.ktime_get_real],
      ['tai', k.CLOCK_TAI, k.ktime_get_clocktai],
    ] as const;
    const due: Record<string, bigint> = {};
    for (const [name, clock, now] of cases) {
      const t = timer(() => {
        ran[name] = now();
      }, clock);
      k.hrtimer_set_spin_ns(t, 300n * US);
      due[name] = now() + 10n * MS;
      k.hrtimer_start(t, due[name]!, k.HRTIMER_MODE_ABS);
    }
    await until(() => ran.real !== undefined && ran.tai !== undefined);
    expect(ran.real! >= due.real!).toBe(true);
    expect(ran.tai! >= due.tai!).toBe(true);
  });
});

describe('spin on the virtual clock', () => {
  it('has no effect: the timer runs at its exact expiry, never programs a wake-up, never spins', () => {
    const clock = installVirtualClock();
    try {
      const spun0 = engineState().spinNs!;
      const spinners0 = engineState().spinners;
      const seen: bigint[] = [];
      const t = timer((tm) => {
        seen.push(k.ktime_get() - k.hrtimer_get_expires(tm));
        k.hrtimer_forward_now(tm, 100n * US);
        return seen.length < 5 ? k.HRTIMER_RESTART : k.HRTIMER_NORESTART;
      });
      k.hrtimer_set_spin_ns(t, 50n * US);
      const at = clock.now() + 100n * US;
      k.hrtimer_start(t, at, k.HRTIMER_MODE_ABS);
      expect(engineState().spinners).toBe(spinners0);
      clock.advanceNs(100n * US - 1n); // one ns short: a spin would not make it run early
      expect(seen).toEqual([]);
      clock.advanceNs(1n + 4n * 100n * US);
      expect(seen).toEqual([0n, 0n, 0n, 0n, 0n]);
      expect(engineState().spinNs).toBe(spun0);
    } finally {
      clock.uninstall();
    }
  });
});
