// hrtimer semantics, checked against the kernel's rules (kernel/time/hrtimer.c:
// hrtimer_start_range_ns, hrtimer_forward, hrtimer_try_to_cancel, hrtimer_cancel). Pure arithmetic (forward, accessors) is exact;
// real-clock tests assert order, counts and "never early", with loose upper bounds.
import { describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { engineState } from '../dist/internal/engine.js';
import { until } from './helpers.js';
import { installVirtualClock } from '../dist/testing.js';
import { trackedHrtimers } from './tracked.js';

const MS = 1_000_000n;
const { timer, keep } = trackedHrtimers();


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('constants', () => {
  it('has the kernel values for modes and restart codes', () => {
    expect(k.HRTIMER_NORESTART).toBe(0);
    expect(k.HRTIMER_RESTART).toBe(1);
    expect([k.HRTIMER_MODE_ABS, k.HRTIMER_MODE_REL, k.HRTIMER_MODE_PINNED, k.HRTIMER_MODE_SOFT, k.HRTIMER_MODE_HARD]).toEqual([0, 1, 2, 4, 8]);
    expect(k.HRTIMER_MODE_REL_PINNED_SOFT).toBe(0x07);
    expect(k.HRTIMER_MODE_ABS_PINNED_HARD).toBe(0x0a);
    expect(k.HRTIMER_MODE_REL_PINNED_HARD).toBe(0x0b);
    expect(k.HRTIMER_MODE_ABS_PINNED_SOFT).toBe(0x06);
    expect(k.hrtimer_resolution).toBe(1n);
  });
});

describe('hrtimer_forward (exact)', () => {
  it('kernel case 48: forward(10500, 1000) from 1000 returns 10 and expires 11000', () => {
    const t = timer();
    k.hrtimer_set_expires(t, 1000n);
    expect(k.hrtimer_forward(t, 10500n, 1000n)).toBe(10n);
    expect(k.hrtimer_get_expires(t)).toBe(11000n);
    expect(k.hrtimer_get_softexpires(t)).toBe(11000n);
  });

  it('returns 1 when now == expires, 0 when now is before it', () => {
    const t = timer();
    k.hrtimer_set_expires(t, 5000n);
    expect(k.hrtimer_forward(t, 4999n, 100n)).toBe(0n);
    expect(k.hrtimer_get_expires(t)).toBe(5000n);
    expect(k.hrtimer_forward(t, 5000n, 100n)).toBe(1n);
    expect(k.hrtimer_get_expires(t)).toBe(5100n);
  });

  it('lands on the first period strictly after now, exact multiples included', () => {
    const t = timer();
    for (const [start, now, iv] of [
      [0n, 999n, 1000n],
      [0n, 1000n, 1000n],
      [0n, 1001n, 1000n],
      [7n, 7n + 5n * 333n, 333n],
      [-10_000n, 123_456n, 7n],
    ] as const) {
      k.hrtimer_set_expires(t, start);
      const orun = k.hrtimer_forward(t, now, iv);
      const exp = k.hrtimer_get_expires(t);
      expect(exp > now).toBe(true);
      expect(exp - iv <= now).toBe(true);
      expect(exp).toBe(start + orun * iv);
    }
  });

  it('keeps the soft/hard distance and clamps the interval to the resolution', () => {
    const t = timer();
    k.hrtimer_set_expires_range_ns(t, 1000n, 50n);
    expect(k.hrtimer_forward(t, 1100n, 0n)).toBe(51n); // interval 0 -> 1 ns
    expect(k.hrtimer_get_expires(t)).toBe(1101n);
    expect(k.hrtimer_get_softexpires(t)).toBe(1051n);
  });

  it('saturates at KTIME_MAX instead of wrapping', () => {
    const t = timer();
    k.hrtimer_set_expires(t, k.KTIME_MAX - 10n);
    expect(k.hrtimer_forward(t, k.KTIME_MAX - 10n, 100n)).toBe(1n);
    expect(k.hrtimer_get_expires(t)).toBe(k.KTIME_MAX);
  });

  it('kernel case 53: on a queued timer it warns and returns 0, expiries unchanged', async () => {
    const warnings: any[] = [];
    const onWarn = (w: any) => warnings.push(w);
    process.on('warning', onWarn);
    const t = timer();
    const at = k.ktime_get() + 10_000n * MS;
    k.hrtimer_start(t, at, k.HRTIMER_MODE_ABS);
    expect(k.hrtimer_forward(t, k.KTIME_MAX - 1n, 1000n)).toBe(0n);
    expect(k.hrtimer_get_expires(t)).toBe(at);
    await sleep(5);
    process.off('warning', onWarn);
    expect(warnings.some((w) => w.code === 'KTIMERS_WARN_FORWARD_QUEUED')).toBe(true);
  });
});

describe('starting', () => {
  it('kernel case 54: start_range_ns sets soft and hard expiry and queues', () => {
    const t = timer();
    const base = k.ktime_get() + 10_000n * MS;
    k.hrtimer_start_range_ns(t, base, 1000, k.HRTIMER_MODE_ABS);
    expect(k.hrtimer_get_softexpires(t)).toBe(base);
    expect(k.hrtimer_get_expires(t)).toBe(base + 1000n);
    expect(k.hrtimer_is_queued(t)).toBe(true);
    expect(k.hrtimer_active(t)).toBe(true);
  });

  it('kernel case 55: REL adds the clock time at start', () => {
    const t = timer(undefined, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    const before = k.ktime_get();
    k.hrtimer_start(t, 500n * MS, k.HRTIMER_MODE_REL);
    const after = k.ktime_get();
    const exp = k.hrtimer_get_expires(t);
    expect(exp >= before + 500n * MS && exp <= after + 500n * MS).toBe(true);
    const rem = k.hrtimer_get_remaining(t);
    expect(rem <= 500n * MS && rem > 400n * MS).toBe(true);
    expect(k.hrtimer_expires_remaining(t) <= rem).toBe(true);
  });

  it('a negative REL time saturates to KTIME_MAX (ktime_add_safe quirk)', () => {
    const t = timer(undefined, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(t, -1n, k.HRTIMER_MODE_REL);
    expect(k.hrtimer_get_expires(t)).toBe(k.KTIME_MAX);
  });

  it('REL + CLOCK_REALTIME is switched to CLOCK_MONOTONIC; ABS keeps REALTIME', () => {
    const rel = timer(undefined, k.CLOCK_REALTIME, k.HRTIMER_MODE_REL);
    const abs = timer(undefined, k.CLOCK_REALTIME, k.HRTIMER_MODE_ABS);
    expect(rel.clockid).toBe(k.CLOCK_MONOTONIC);
    expect(abs.clockid).toBe(k.CLOCK_REALTIME);
    const mono = k.ktime_get();
    const t = k.hrtimer_cb_get_time(rel);
    expect(t - mono < 1000n * MS && t >= mono).toBe(true);
    const real = k.hrtimer_cb_get_time(abs);
    expect(real - k.ktime_get_real() < 1000n * MS).toBe(true);
  });

  it('kernel case 58: restarting a queued timer leaves one instance at the new time', async () => {
    const fired: bigint[] = [];
    const t = timer((tm) => {
      fired.push(k.ktime_get());
      return k.HRTIMER_NORESTART;
    });
    const now = k.ktime_get();
    k.hrtimer_start(t, now + 10n * MS, k.HRTIMER_MODE_ABS);
    k.hrtimer_start(t, now + 40n * MS, k.HRTIMER_MODE_ABS);
    await sleep(120);
    expect(fired.length).toBe(1);
    expect(fired[0]! >= now + 40n * MS).toBe(true);
  });

  it('start_expires and restart reuse the stored soft expiry and range', () => {
    const t = timer();
    const at = k.ktime_get() + 10_000n * MS;
    k.hrtimer_set_expires_range(t, at, 777n);
    k.hrtimer_restart(t);
    expect(k.hrtimer_get_softexpires(t)).toBe(at);
    expect(k.hrtimer_get_expires(t)).toBe(at + 777n);
    k.hrtimer_add_expires_ns(t, 3);
    k.hrtimer_start_expires(t, k.HRTIMER_MODE_ABS);
    expect(k.hrtimer_get_expires(t)).toBe(at + 780n);
  });

  it('hrtimer_init + assigning .function (old API) works; no function is refused at start', async () => {
    const t = new k.hrtimer();
    keep(t);
    k.hrtimer_init(t, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    expect(() => k.hrtimer_start(t, 1n, k.HRTIMER_MODE_REL)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_NO_FUNCTION' }));
    let ran = 0;
    t.function = () => {
      ran++;
      return k.HRTIMER_NORESTART;
    };
    k.hrtimer_start(t, 1n * MS, k.HRTIMER_MODE_REL);
    await until(() => ran === 1);
    k.hrtimer_update_function(t, () => {
      ran += 10;
    });
    k.hrtimer_start(t, 1n * MS, k.HRTIMER_MODE_REL);
    await until(() => ran === 11);
  });

  it('setup of a queued timer is refused instead of corrupting the queue', () => {
    const t = timer();
    k.hrtimer_start(t, k.ktime_get() + 10_000n * MS, k.HRTIMER_MODE_ABS);
    expect(() => k.hrtimer_setup(t, () => 0, k.CLOCK_MONOTONIC, 0)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_TIMER_ACTIVE' }));
  });
});

describe('cancelling', () => {
  it('kernel case 59: try_to_cancel returns 0 inactive, 1 queued, -1 running', async () => {
    const seen: number[] = [];
    const t = timer((tm) => {
      k.hrtimer_start(tm, k.ktime_get() + 10_000n * MS, k.HRTIMER_MODE_ABS); // running and queued
      seen.push(k.hrtimer_try_to_cancel(tm));
      seen.push(Number(k.hrtimer_callback_running(tm)), Number(k.hrtimer_is_queued(tm)), Number(k.hrtimer_active(tm)));
      return k.HRTIMER_NORESTART;
    });
    expect(k.hrtimer_try_to_cancel(t)).toBe(0);
    k.hrtimer_start(t, k.ktime_get() + 10_000n * MS, k.HRTIMER_MODE_ABS);
    expect(k.hrtimer_try_to_cancel(t)).toBe(1);
    expect(k.hrtimer_active(t)).toBe(false);
    expect(k.hrtimer_cancel(t)).toBe(0);
    k.hrtimer_start(t, 0n, k.HRTIMER_MODE_ABS);
    await until(() => seen.length === 4);
    expect(seen).toEqual([-1, 1, 1, 1]);
    // NORESTART leaves the instance started from inside the callback queued.
    expect(k.hrtimer_is_queued(t)).toBe(true);
    expect(k.hrtimer_cancel(t)).toBe(1);
  });

  it('hrtimer_cancel from the own callback throws ERR_KTIMERS_DEADLOCK (the kernel would hang)', async () => {
    let err: any;
    const t = timer((tm) => {
      try {
        k.hrtimer_cancel(tm);
      } catch (e) {
        err = e;
      }
    });
    k.hrtimer_start(t, 0n, k.HRTIMER_MODE_ABS);
    await until(() => err !== undefined);
    expect(err.code).toBe('ERR_KTIMERS_DEADLOCK');
    expect(k.hrtimer_active(t)).toBe(false);
  });

  it('a callback cancelling a later timer of the same pass stops it (it was still queued)', async () => {
    const order: string[] = [];
    let r = 99;
    const b = timer(() => {
      order.push('b');
    });
    const a = timer(() => {
      order.push('a');
      r = k.hrtimer_try_to_cancel(b);
    });
    const past = k.ktime_get() - 10n * MS;
    k.hrtimer_start(a, past, k.HRTIMER_MODE_ABS);
    k.hrtimer_start(b, past + 1n, k.HRTIMER_MODE_ABS);
    await until(() => order.length >= 1);
    await sleep(20);
    expect(order).toEqual(['a']);
    expect(r).toBe(1);
  });

  it('hrtimer_cancel in another timer\'s callback returns 1 for a queued timer', async () => {
    let r = -5;
    const other = timer();
    k.hrtimer_start(other, k.ktime_get() + 10_000n * MS, k.HRTIMER_MODE_ABS);
    const t = timer(() => {
      r = k.hrtimer_cancel(other);
    });
    k.hrtimer_start(t, 0n, k.HRTIMER_MODE_ABS);
    await until(() => r !== -5);
    expect(r).toBe(1);
    expect(k.hrtimer_active(other)).toBe(false);
  });
});

describe('expiry order and batching', () => {
  it('equal expiries run in arming order (FIFO), across 200 timers', async () => {
    const order: number[] = [];
    const at = k.ktime_get() + 20n * MS;
    for (let i = 0; i < 200; i++) {
      const t = timer(() => {
        order.push(i);
      });
      k.hrtimer_start(t, at, k.HRTIMER_MODE_ABS);
    }
    await until(() => order.length === 200);
    expect(order).toEqual([...Array(200).keys()]);
  });

  it('different expiries run in expiry order whatever the arming order', async () => {
    const order: number[] = [];
    const base = k.ktime_get() - 100n * MS; // all already due: one pass
    const offsets = [50, 3, 99, 1, 42, 7, 77, 0, 64, 12];
    for (const off of offsets) {
      const t = timer(() => {
        order.push(off);
      });
      k.hrtimer_start(t, base + BigInt(off) * 1000n, k.HRTIMER_MODE_ABS);
    }
    await until(() => order.length === offsets.length);
    expect(order).toEqual([...offsets].sort((x, y) => x - y));
  });

  it('a timer started into the past from a callback runs next in key order, inside the same pass', async () => {
    const order: string[] = [];
    const now = k.ktime_get();
    const c = timer(() => {
      order.push('C');
    });
    const a = timer(() => {
      order.push('A');
      k.hrtimer_start(c, now - 250n * MS, k.HRTIMER_MODE_ABS); // between A and B
    });
    const b = timer(() => {
      order.push('B');
    });
    k.hrtimer_start(a, now - 300n * MS, k.HRTIMER_MODE_ABS);
    k.hrtimer_start(b, now - 200n * MS, k.HRTIMER_MODE_ABS);
    await until(() => order.length === 3);
    expect(order).toEqual(['A', 'C', 'B']);
  });

  it('a range timer shares an earlier wake-up once its soft expiry has passed, and never runs before it', async () => {
    const ran: Record<string, bigint> = {};
    const now = k.ktime_get();
    const a = timer(() => {
      ran.a = k.ktime_get();
    });
    const b = timer(() => {
      ran.b = k.ktime_get();
    });
    const c = timer(() => {
      ran.c = k.ktime_get();
    });
    k.hrtimer_start(a, now + 30n * MS, k.HRTIMER_MODE_ABS);
    k.hrtimer_start_range_ns(b, now + 10n * MS, 2000n * MS, k.HRTIMER_MODE_ABS); // hard: +2 s
    k.hrtimer_start_range_ns(c, now + 400n * MS, 2000n * MS, k.HRTIMER_MODE_ABS); // soft after a
    await until(() => ran.a !== undefined && ran.b !== undefined);
    expect(ran.b! >= now + 10n * MS).toBe(true);
    expect(ran.b! - ran.a! < 5n * MS).toBe(true); // same pass as a, far before its hard expiry
    expect(ran.c).toBeUndefined();
    expect(k.hrtimer_is_queued(c)).toBe(true);
  });

  it('hard bases run before soft bases in one pass; predicates match the mode', async () => {
    const seen: string[] = [];
    const at = k.ktime_get() + 15n * MS;
    const soft = timer(() => {
      seen.push(`soft:${k.in_serving_softirq()}:${k.in_hardirq()}:${k.in_interrupt()}:${k.in_task()}`);
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS_SOFT);
    const hard = timer(() => {
      seen.push(`hard:${k.in_serving_softirq()}:${k.in_hardirq()}:${k.in_interrupt()}:${k.in_task()}`);
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS_HARD);
    k.hrtimer_start(soft, at, k.HRTIMER_MODE_ABS_SOFT); // armed first...
    k.hrtimer_start(hard, at, k.HRTIMER_MODE_ABS_HARD); // ...but the hard base runs first
    await until(() => seen.length === 2);
    expect(seen).toEqual(['hard:false:true:true:false', 'soft:true:false:true:false']);
    expect(k.in_task()).toBe(true);
    expect(k.in_interrupt()).toBe(false);
  });

  it('runs on every clock: REALTIME, BOOTTIME and TAI absolute timers fire at or after their expiry', async () => {
    const results: [number, bigint, bigint][] = [];
    for (const [clock, now] of [
      [k.CLOCK_REALTIME, k.ktime_get_real],
      [k.CLOCK_BOOTTIME, k.ktime_get_boottime],
      [k.CLOCK_TAI, k.ktime_get_clocktai],
    ] as const) {
      const at = now() + 15n * MS;
      const t = timer((tm) => {
        results.push([clock, k.hrtimer_cb_get_time(tm), at]);
      }, clock, k.HRTIMER_MODE_ABS);
      k.hrtimer_start(t, at, k.HRTIMER_MODE_ABS);
    }
    await until(() => results.length === 3);
    for (const [, firedAt, at] of results) {
      expect(firedAt >= at).toBe(true);
      expect(firedAt - at < 1000n * MS).toBe(true);
    }
  });
});

describe('periodic timers (HRTIMER_RESTART + hrtimer_forward_now)', () => {
  it('fires every period, never before its expiry, and counts overruns after a stall', async () => {
    const lateness: bigint[] = [];
    const overruns: bigint[] = [];
    let stallDone = false;
    const t = timer((tm) => {
      const now = k.ktime_get();
      lateness.push(now - k.hrtimer_get_softexpires(tm));
      if (lateness.length === 20 && !stallDone) {
        stallDone = true;
        const end = Date.now() + 30;
        while (Date.now() < end); // block the thread for 30 periods
      }
      overruns.push(k.hrtimer_forward_now(tm, 1n * MS));
      return lateness.length >= 60 ? k.HRTIMER_NORESTART : k.HRTIMER_RESTART;
    });
    k.hrtimer_start(t, k.ktime_get() + 1n * MS, k.HRTIMER_MODE_ABS);
    await until(() => lateness.length >= 60);
    expect(lateness.every((l) => l >= 0n)).toBe(true);
    // The forward right after the stall skips the ~30 missed periods.
    expect(overruns[19]! >= 25n).toBe(true);
    expect(overruns.filter((o) => o >= 1n).length).toBe(60);
    expect(k.hrtimer_active(t)).toBe(false);
  });
});

describe('engine', () => {
  it('uses one timerfd per clock however many timers are armed, programmed to the earliest', () => {
    const fdsBefore = (() => {
      k.hrtimer_start(timer(), k.ktime_get() + 100_000n * MS, k.HRTIMER_MODE_ABS);
      return engineState();
    })();
    const base = k.ktime_get() + 50_000n * MS;
    const ts: k.hrtimer[] = [];
    for (let i = 0; i < 100_000; i++) {
      const t = new k.hrtimer();
      k.hrtimer_setup(t, () => 0, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
      k.hrtimer_start(t, base + BigInt((i * 7919) % 100_000) * 1000n, k.HRTIMER_MODE_ABS);
      ts.push(t);
    }
    const st = engineState();
    expect(st.timerFds).toEqual(fdsBefore.timerFds);
    expect(st.timerFds!.length).toBe(4);
    expect(st.queued![0]! >= 100_000).toBe(true);
    expect(st.programmed![0]).toBe(base); // offset 0 is i = 0
    k.hrtimer_cancel(ts[0]!); // the earliest: re-programmed to the next
    expect(engineState().programmed![0]).toBe(base + 1000n);
    for (const t of ts) k.hrtimer_cancel(t);
    expect(engineState().queued![0]).toBe(fdsBefore.queued![0]);
  });

  it('a cancel leaves a dead entry: not queued at once, not referenced, never the programmed wake-up, and compacted', async () => {
    const Q = await import('../dist/internal/hrtimer-queue.js');
    const { timerFields } = await import('../dist/internal/engine.js');
    const st0 = engineState();
    const base = k.ktime_get() + 60_000n * MS;
    const ts: k.hrtimer[] = [];
    for (let i = 0; i < 5000; i++) {
      const t = new k.hrtimer();
      k.hrtimer_setup(t, () => k.HRTIMER_NORESTART, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
      k.hrtimer_start(t, base + BigInt((i * 7919) % 5000) * 1000n, k.HRTIMER_MODE_ABS); // out of order
      ts.push(t);
    }
    // Cancel every other timer but the earliest: most die in place (dead entries).
    const byExp = [...ts].sort((a, b) => (k.hrtimer_get_expires(a) < k.hrtimer_get_expires(b) ? -1 : 1));
    const earliest = byExp[0]!;
    let live = 5000;
    for (let i = 1; i < 5000; i += 2) {
      const t = byExp[i]!;
      const s = timerFields.slot(t);
      expect(k.hrtimer_cancel(t)).toBe(1);
      expect(k.hrtimer_is_queued(t)).toBe(false);
      expect(k.hrtimer_cancel(t)).toBe(0);
      expect(Q.timers[s]).toBeUndefined(); // the queue no longer holds the object
      live--;
    }
    let st = engineState();
    expect(st.queued![0]).toBe(st0.queued![0]! + live); // live entries only
    expect(st.slotsInUse).toBe(st0.slotsInUse! + live);
    expect(st.deadEntries!).toBeGreaterThan(0);
    expect(st.programmed![0]).toBe(k.hrtimer_get_expires(earliest));
    // The top cancelled: the wake-up moves to the next live one, never to a dead entry.
    k.hrtimer_cancel(earliest);
    live--;
    expect(engineState().programmed![0]).toBe(k.hrtimer_get_expires(byExp[2]!));
    // More dead than live (and at least COMPACT_MIN): the base is compacted.
    for (let i = 2; i < 4000; i += 2) {
      k.hrtimer_cancel(byExp[i]!);
      live--;
    }
    st = engineState();
    expect(st.queued![0]).toBe(st0.queued![0]! + live);
    expect(st.deadEntries!).toBeLessThanOrEqual(Math.max(st.queued![0]!, Q.COMPACT_MIN - 1));
    expect(st.programmed![0]).toBe(k.hrtimer_get_expires(byExp[4000]!));
    for (const t of ts) k.hrtimer_cancel(t);
    st = engineState();
    expect(st.queued![0]).toBe(st0.queued![0]);
    expect(st.slotsInUse).toBe(st0.slotsInUse);
  });

  it('cancels that take entries out at once (the last of the heap array) keep the dead bound too', async () => {
    const Q = await import('../dist/internal/hrtimer-queue.js');
    // In key order, the heap array is the expiry order: cancelling the last entry removes it at
    // once, and lowers the live count with no entry marked dead; the bound must still hold.
    const base = k.ktime_get() + 600_000n * MS;
    const ts: k.hrtimer[] = [];
    for (let i = 0; i < 3000; i++) {
      const t = timer();
      k.hrtimer_start(t, base + BigInt(i) * 1000n, k.HRTIMER_MODE_ABS);
      ts.push(t);
    }
    for (let i = 1; i <= 1500; i++) k.hrtimer_cancel(ts[i]!); // behind the top, not last: dead
    expect(engineState().deadEntries!).toBeGreaterThanOrEqual(1024);
    for (let i = 2999; i > 1500; i--) k.hrtimer_cancel(ts[i]!); // each the last entry: out at once
    const st = engineState();
    expect(st.deadEntries!).toBeLessThanOrEqual(Math.max(1, Q.COMPACT_MIN - 1));
    expect(st.programmed![0]! <= k.hrtimer_get_expires(ts[0]!)).toBe(true);
    expect(k.hrtimer_cancel(ts[0]!)).toBe(1);
  });

  it('ref counting follows armed ref\'d timers only', () => {
    const a = timer();
    const b = timer();
    const rc0 = engineState().refCount ?? 0;
    k.hrtimer_start(a, k.ktime_get() + 10_000n * MS, 0);
    k.hrtimer_start(b, k.ktime_get() + 10_000n * MS, 0);
    expect(engineState().refCount).toBe(rc0 + 2);
    expect(b.unref()).toBe(b);
    expect(b.hasRef()).toBe(false);
    expect(engineState().refCount).toBe(rc0 + 1);
    k.hrtimer_cancel(a);
    expect(engineState().refCount).toBe(rc0);
    b.ref();
    expect(engineState().refCount).toBe(rc0 + 1);
    k.hrtimer_cancel(b);
    expect(engineState().refCount).toBe(rc0);
  });

  it('a timer moved later costs one early wake-up: that wake-up programs the timerfd for its new expiry', async () => {
    // arm() only ever moves a timerfd earlier; the wake-up at the old expiry finds nothing due and
    // must re-program the clock for the real earliest expiry, not re-arm it for the past.
    const t = timer();
    k.hrtimer_start(t, 5n * MS, k.HRTIMER_MODE_REL);
    const w0 = engineState().wakeups!;
    k.hrtimer_start(t, 60_000n * MS, k.HRTIMER_MODE_REL);
    expect(engineState().programmed![0]! < k.hrtimer_get_expires(t)).toBe(true); // still the old wake-up
    await until(() => engineState().wakeups! > w0);
    await sleep(30);
    const st = engineState();
    expect(st.programmed![0]).toBe(k.hrtimer_get_expires(t));
    // a timerfd re-armed for the past would have woken the loop on every turn meanwhile
    expect(st.wakeups! - w0).toBeLessThanOrEqual(2);
    expect(k.hrtimer_is_queued(t)).toBe(true);
  });

  it('a timer that was its clock\'s earliest, moved onto the virtual timeline, takes its wake-up with it', () => {
    const t = timer();
    k.hrtimer_start(t, 50n * MS, k.HRTIMER_MODE_REL);
    expect(engineState().programmed![0]).toBe(k.hrtimer_get_expires(t));
    const clock = installVirtualClock();
    try {
      k.hrtimer_start(t, 1n * MS, k.HRTIMER_MODE_REL);
      expect(engineState().queued![8]).toBeGreaterThan(0);
      expect(engineState().programmed![0]).toBeNull();
    } finally {
      clock.uninstall();
    }
  });

  it('a hand-written _slot never reaches another timer\'s native entry', async () => {
    let aFired = false;
    const a = timer(() => void (aFired = true));
    const b = timer();
    k.hrtimer_start(a, 20n * MS, k.HRTIMER_MODE_REL);
    (b as any)._slot = (a as any)._slot;
    (b as any)._queued = true;
    k.hrtimer_cancel(b);
    expect(k.hrtimer_is_queued(a)).toBe(true);
    await until(() => aFired);
  });
});

