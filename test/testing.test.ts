// ktimers/testing: the virtual clock drives hrtimers and the wheel exactly and
// synchronously; uninstall returns to real time without touching real timers.
import { afterEach, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { installVirtualClock, type VirtualClock } from '../dist/testing.js';
import { SLOWDOWN, until } from './helpers.js';

let clock: VirtualClock | null = null;
afterEach(() => {
  clock?.uninstall();
  clock = null;
});

const hr = (fn: (t: k.hrtimer) => number | void, mode = k.HRTIMER_MODE_REL) => {
  const t = new k.hrtimer();
  k.hrtimer_setup(t, fn as k.HrtimerCallback, k.CLOCK_MONOTONIC, mode);
  return t;
};

describe('virtual clock', () => {
  it('starts at INITIAL_JIFFIES with monotonic 0, and every clock reads the virtual timeline', () => {
    const realMono = k.ktime_get();
    clock = installVirtualClock();
    expect(k.get_jiffies_64()).toBe(k.INITIAL_JIFFIES);
    expect(clock.jiffies()).toBe(k.INITIAL_JIFFIES);
    expect(k.ktime_get()).toBe(0n);
    clock.advanceNs(1234n);
    expect(k.ktime_get()).toBe(1234n);
    expect(k.ktime_get_real() - k.ktime_get()).toBeGreaterThan(0n); // real offset kept
    clock.uninstall();
    clock = null;
    expect(k.ktime_get() >= realMono).toBe(true);
  });

  it('kernel case 21 at the kernel\'s own start (J=0): a 60 s timeout fires at jiffy 61440', () => {
    clock = installVirtualClock({ startJiffies: 0n });
    let at = -1n;
    const t = new k.timer_list();
    k.timer_setup(t, () => (at = k.get_jiffies_64()), 0);
    expect(k.mod_timer(t, 60_000n)).toBe(0);
    clock.advanceJiffies(61_439);
    expect(at).toBe(-1n);
    clock.advanceJiffies(1);
    expect(at).toBe(61_440n);
  });

  it('advancing a billion jiffies costs only the expiries in it', () => {
    clock = installVirtualClock({ startJiffies: 0n });
    const fired: bigint[] = [];
    const t = new k.timer_list();
    k.timer_setup(t, () => fired.push(k.get_jiffies_64()), 0);
    k.mod_timer(t, 1_000_000_000n); // level 8, granularity 2^24
    const t0 = Date.now();
    clock.advanceJiffies(2_000_000_000n);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(fired).toEqual([((1_000_000_000n >> 24n) + 1n) << 24n]);
  });

  it('an hrtimer fires at its exact hard expiry, synchronously, never early', () => {
    clock = installVirtualClock();
    const seen: bigint[] = [];
    const t = hr((tm) => {
      seen.push(k.hrtimer_cb_get_time(tm));
    });
    k.hrtimer_start(t, 1_000_000n, k.HRTIMER_MODE_REL);
    clock.advanceNs(999_999n);
    expect(seen).toEqual([]);
    expect(k.hrtimer_is_queued(t)).toBe(true);
    clock.advanceNs(1n);
    expect(seen).toEqual([1_000_000n]);
  });

  it('a periodic hrtimer at 10 kHz runs exactly 10 times per virtual millisecond, with overrun 1', () => {
    clock = installVirtualClock();
    const oruns: bigint[] = [];
    const t = hr((tm) => {
      oruns.push(k.hrtimer_forward_now(tm, 100_000n));
      return k.HRTIMER_RESTART;
    }, k.HRTIMER_MODE_ABS);
    k.hrtimer_start(t, 100_000n, k.HRTIMER_MODE_ABS);
    clock.advanceNs(1_000_000n);
    expect(oruns).toEqual(Array(10).fill(1n));
    expect(k.hrtimer_get_expires(t)).toBe(1_100_000n);
  });

  it('at one instant: hard hrtimers, then timer_list (TIMER_SOFTIRQ), then SOFT hrtimers', () => {
    clock = installVirtualClock(); // monotonic 0 at INITIAL_JIFFIES: positive absolute times
    const order: string[] = [];
    const at = 10n * k.TICK_NSEC; // the instant of jiffy INITIAL_JIFFIES + 10
    const soft = hr(() => void order.push('soft'), k.HRTIMER_MODE_ABS_SOFT);
    const hard = hr(() => void order.push('hard'), k.HRTIMER_MODE_ABS_HARD);
    k.hrtimer_start(soft, at, k.HRTIMER_MODE_ABS_SOFT);
    k.hrtimer_start(hard, at, k.HRTIMER_MODE_ABS_HARD);
    const t = new k.timer_list();
    k.timer_setup(t, () => order.push('timer'), 0);
    k.mod_timer(t, k.INITIAL_JIFFIES + 9n); // level 0: fires at jiffy INITIAL_JIFFIES + 10
    clock.advanceJiffies(20);
    expect(order).toEqual(['hard', 'timer', 'soft']);
  });

  it('a callback exception is rethrown by the advance, after everything due ran', () => {
    clock = installVirtualClock();
    const ran: string[] = [];
    const bad = hr(() => {
      ran.push('bad');
      throw new Error('virtual boom');
    });
    const good = hr(() => void ran.push('good'));
    k.hrtimer_start(bad, 10n, k.HRTIMER_MODE_REL);
    k.hrtimer_start(good, 20n, k.HRTIMER_MODE_REL);
    expect(() => clock!.advanceNs(100n)).toThrow('virtual boom');
    expect(ran).toEqual(['bad', 'good']);
  });

  it('uninstall cancels virtual timers and leaves real ones running on real time', async () => {
    let realFired = false;
    const real = hr(() => void (realFired = true));
    k.hrtimer_start(real, 30_000_000n, k.HRTIMER_MODE_REL);
    clock = installVirtualClock();
    const v = hr(() => {});
    k.hrtimer_start(v, 1_000_000_000n, k.HRTIMER_MODE_REL);
    const vt = new k.timer_list();
    k.timer_setup(vt, () => {}, 0);
    k.mod_timer(vt, k.get_jiffies_64() + 100n);
    expect(clock.uninstall()).toBe(2);
    clock = null;
    expect(k.hrtimer_active(v)).toBe(false);
    expect(k.timer_pending(vt)).toBe(0);
    expect(k.hrtimer_is_queued(real)).toBe(true);
    await until(() => realFired, 2000 * SLOWDOWN); // the real 30 ms timer fires (SLOWDOWN: under valgrind)
    expect(realFired).toBe(true);
  });

  it('refuses a second install and bad arguments with codes', () => {
    clock = installVirtualClock();
    expect(() => installVirtualClock()).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_VIRTUAL_CLOCK_INSTALLED' }));
    expect(() => clock!.advanceNs(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => clock!.advanceJiffies(1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => clock!.advanceNs('1' as unknown as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    clock.uninstall();
    expect(() => clock!.advanceNs(1)).toThrow(expect.objectContaining({ code: 'ERR_KTIMERS_VIRTUAL_CLOCK_UNINSTALLED' }));
    clock = null;
    expect(() => installVirtualClock({ startJiffies: -1n })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => installVirtualClock({ startJiffies: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => installVirtualClock({ startJiffies: 1.5 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => installVirtualClock({ startJiffies: 2 ** 53 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => installVirtualClock({ startJiffies: 1n << 62n })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => installVirtualClock({ startJiffies: '5' as unknown as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('startJiffies takes a safe-integer number as every jiffies parameter does: the same timeline as the bigint', () => {
    const at: bigint[] = [];
    for (const start of [1_000_000, 1_000_000n]) {
      clock = installVirtualClock({ startJiffies: start });
      at.push(k.get_jiffies_64(), k.ktime_get());
      clock.uninstall();
      clock = null;
    }
    expect(at[0]).toBe(1_000_000n);
    expect(at.slice(0, 2)).toEqual(at.slice(2));
  });
});

describe('virtual clock and the real wheel', () => {
  it('real timer_list timers keep real time while a virtual clock far ahead is installed', async () => {
    const fired: string[] = [];
    const mk = (name: string, ms: number) => {
      const t = new k.timer_list();
      k.timer_setup(t, () => fired.push(name), 0);
      k.mod_timer(t, k.get_jiffies_64() + k.msecs_to_jiffies(ms));
      return t;
    };
    const soon = mk('soon', 40);
    const later = mk('later', 5000);
    clock = installVirtualClock({ startJiffies: k.get_jiffies_64() + 10_000_000n }); // virtual jiffies far ahead
    clock.advanceJiffies(5);
    await new Promise((r) => setTimeout(r, 150));
    // The real tick for `soon` ran the real wheel at the real jiffy, not at the
    // virtual one (which would have expired `later` too, ~5 s early).
    expect(fired).toEqual(['soon']);
    expect(k.timer_pending(soon)).toBe(0);
    expect(k.timer_pending(later)).toBe(1);
    expect(clock.uninstall()).toBe(0); // real timers are not the virtual clock's to cancel
    clock = null;
    expect(k.timer_delete(later)).toBe(1);
  });
});

describe('timer_list callback errors', () => {
  it('a throwing callback does not stop the rest of its pass; the advance rethrows it', () => {
    clock = installVirtualClock({ startJiffies: 0n });
    const ran: string[] = [];
    const mk = (name: string, fn: () => void) => {
      const t = new k.timer_list();
      k.timer_setup(t, fn, 0);
      k.mod_timer(t, 5n);
      return t;
    };
    mk('c', () => void ran.push('c'));
    const bad = mk('bad', () => {
      ran.push('bad');
      throw new Error('wheel boom');
    });
    mk('a', () => void ran.push('a')); // added last: runs first
    expect(() => clock!.advanceJiffies(10)).toThrow('wheel boom');
    expect(ran).toEqual(['a', 'bad', 'c']);
    expect(k.timer_delete_sync_try(bad)).toBe(0); // not running, not pending
  });
});

describe('wheel edge: a bucket expiry equal to the empty-base sentinel', () => {
  it('a callback re-arming to clk + TIMER_NEXT_MAX_DELTA (level 8) still fires there', () => {
    // J is a multiple of 2^24, so J + 2^30 (= clk + 2^30 - 1 inside the callback, the
    // sentinel next_expiry of an otherwise empty base) is a level-8 bucket boundary.
    const J = 300n << 24n;
    clock = installVirtualClock({ startJiffies: J - 10n });
    const fired: bigint[] = [];
    const t = new k.timer_list();
    k.timer_setup(t, (tm) => {
      fired.push(k.get_jiffies_64());
      if (fired.length === 1) k.mod_timer(tm, J + (1n << 30n) - (1n << 24n)); // level 8, bucket J + 2^30
    }, 0);
    k.mod_timer(t, J - 1n); // fires at J
    clock.advanceJiffies((1n << 30n) + 100n);
    expect(fired).toEqual([J, J + (1n << 30n)]);
  });
});
