// The kernel's WARN_ON_ONCE cases and the virtual clock's livelock stop.
//
// Each warning fires once per process (as the kernel warns once per call site),
// and vitest runs every test file in its own process: this file is where each
// is first triggered, so each test sees its warning exactly once, and what the
// call did (the kernel's behaviour after the WARN) is checked alongside.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as k from '../dist/index.js';
import { installVirtualClock, type VirtualClock } from '../dist/testing.js';

let warnings: { code: string; type: string }[] = [];
let clock: VirtualClock;
beforeEach(() => {
  warnings = [];
  vi.spyOn(process, 'emitWarning').mockImplementation(((_msg: string, o: { type: string; code: string }) => {
    warnings.push({ code: o.code, type: o.type });
  }) as typeof process.emitWarning);
  clock = installVirtualClock();
});
afterEach(() => {
  clock.uninstall();
  vi.restoreAllMocks();
});
const codes = () => warnings.map((w) => `${w.type} ${w.code}`);

describe('WARN_ON_ONCE cases', () => {
  it('hrtimer_update_function on a queued timer: warned once, ignored (the old callback runs)', () => {
    const ran: string[] = [];
    const t = new k.hrtimer();
    k.hrtimer_setup(t, () => (ran.push('old'), k.HRTIMER_NORESTART), k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(t, 1000n, k.HRTIMER_MODE_REL);
    k.hrtimer_update_function(t, () => (ran.push('new'), k.HRTIMER_NORESTART));
    k.hrtimer_update_function(t, () => (ran.push('newer'), k.HRTIMER_NORESTART));
    clock.advanceNs(1000n);
    expect(ran).toEqual(['old']);
    expect(codes()).toEqual(['KtimersWarning KTIMERS_WARN_UPDATE_QUEUED']);
    // Not queued: it takes effect.
    k.hrtimer_update_function(t, () => (ran.push('new'), k.HRTIMER_NORESTART));
    k.hrtimer_start(t, 10n, k.HRTIMER_MODE_REL);
    clock.advanceNs(10n);
    expect(ran).toEqual(['old', 'new']);
  });

  it('a SOFT bit at start that differs from setup: warned once; the timer keeps its setup base', () => {
    const ctx: boolean[] = [];
    const t = new k.hrtimer();
    k.hrtimer_setup(t, () => (ctx.push(k.in_hardirq()), k.HRTIMER_NORESTART), k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(t, 100n, k.HRTIMER_MODE_REL_SOFT);
    k.hrtimer_start(t, 100n, k.HRTIMER_MODE_REL_SOFT);
    clock.advanceNs(100n);
    expect(ctx).toEqual([true]); // still a hard-IRQ timer, as set up
    expect(codes()).toEqual(['KtimersWarning KTIMERS_WARN_SOFT_MISMATCH']);
  });

  it('hrtimer_set_expires on a queued timer: warned once; the queued instance keeps its expiry', () => {
    const at: bigint[] = [];
    const t = new k.hrtimer();
    k.hrtimer_setup(t, () => (at.push(k.ktime_get()), k.HRTIMER_NORESTART), k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
    const t0 = k.ktime_get();
    k.hrtimer_start(t, t0 + 500n, k.HRTIMER_MODE_ABS);
    k.hrtimer_set_expires(t, t0 + 100n);
    k.hrtimer_set_expires(t, t0 + 200n);
    clock.advanceNs(1000n);
    expect(at).toEqual([t0 + 500n]);
    expect(codes()).toEqual(['KtimersWarning KTIMERS_WARN_EXPIRES_QUEUED']);
    k.hrtimer_start_expires(t, k.HRTIMER_MODE_ABS); // the written expiry applies at the next start
    expect(k.hrtimer_get_expires(t)).toBe(t0 + 200n);
  });

  it('timer_delete_sync from hard IRQ on a timer without TIMER_IRQSAFE: warned once, still deleted', () => {
    const plain = k.DEFINE_TIMER(() => {});
    const safe = new k.timer_list();
    k.timer_setup(safe, () => {}, k.TIMER_IRQSAFE);
    const j = k.get_jiffies_64();
    k.mod_timer(plain, j + 100n);
    k.mod_timer(safe, j + 100n);
    const results: number[] = [];
    const h = new k.hrtimer();
    k.hrtimer_setup(h, () => {
      results.push(k.timer_delete_sync(safe), k.timer_delete_sync(plain), k.timer_delete_sync(plain));
      return k.HRTIMER_NORESTART;
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL_HARD);
    k.hrtimer_start(h, 10n, k.HRTIMER_MODE_REL_HARD);
    clock.advanceNs(10n);
    expect(results).toEqual([1, 1, 0]);
    expect(codes()).toEqual(['KtimersWarning KTIMERS_WARN_SYNC_IN_HARDIRQ']);
    expect([k.timer_pending(plain), k.timer_pending(safe)]).toEqual([0, 0]);
  });
});

describe('livelocks the kernel would hang in', () => {
  it('a callback re-arming itself (hrtimer_start) at its own expiry is stopped after RESTART_LOOP_LIMIT runs', () => {
    let runs = 0;
    const t = new k.hrtimer();
    k.hrtimer_setup(t, (tm) => {
      runs++;
      k.hrtimer_start(tm, k.hrtimer_get_expires(tm), k.HRTIMER_MODE_ABS); // the same instant, again
      return k.HRTIMER_NORESTART;
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
    const t0 = k.ktime_get();
    k.hrtimer_start(t, t0 + 5n, k.HRTIMER_MODE_ABS);
    let err: { code?: string; message?: string } = {};
    try {
      clock.advanceNs(100n);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('ERR_KTIMERS_RESTART_LOOP');
    expect(err.message).toMatch(/re-armed itself/);
    expect(runs).toBe(k.RESTART_LOOP_LIMIT);
    expect(k.hrtimer_is_queued(t)).toBe(false); // stopped, not left queued
    expect(k.ktime_get()).toBe(t0 + 100n); // and the clock moved on
  });

  it('two timers re-arming each other at the same instant across passes stop the advance with ERR_KTIMERS_VIRTUAL_LIVELOCK', () => {
    // Each runs once per pass (a hard one arms a SOFT one, which arms the hard
    // one): no single pass loops, but virtual time can never move.
    let runs = 0;
    const hard = new k.hrtimer();
    const soft = new k.hrtimer();
    k.hrtimer_setup(hard, (tm) => {
      runs++;
      k.hrtimer_start(soft, k.hrtimer_get_expires(tm), k.HRTIMER_MODE_ABS_SOFT);
      return k.HRTIMER_NORESTART;
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS_HARD);
    k.hrtimer_setup(soft, (tm) => {
      runs++;
      k.hrtimer_start(hard, k.hrtimer_get_expires(tm), k.HRTIMER_MODE_ABS_HARD);
      return k.HRTIMER_NORESTART;
    }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS_SOFT);
    const t0 = k.ktime_get();
    k.hrtimer_start(hard, t0 + 5n, k.HRTIMER_MODE_ABS_HARD);
    expect(() => clock.advanceNs(100n)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_VIRTUAL_LIVELOCK' }));
    expect(runs).toBeGreaterThan(k.RESTART_LOOP_LIMIT * 2);
    expect(k.ktime_get()).toBe(t0 + 5n); // time stopped at the livelocked instant
    k.hrtimer_cancel(hard);
    k.hrtimer_cancel(soft);
  }, 60_000);
});
