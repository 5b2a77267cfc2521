// HighResTimer (a Node-style handle over one hrtimer) and the duration helpers.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { HighResTimer, ms, ns, s, us } from '../dist/index.js';
import { installVirtualClock, type VirtualClock } from '../dist/testing.js';
import { engineState } from '../dist/internal/engine.js';
import { SLOWDOWN } from './helpers.js';

let clock: VirtualClock | null = null;
const made: HighResTimer[] = [];
afterEach(() => {
  for (const t of made.splice(0)) t.cancel();
  clock?.uninstall();
  clock = null;
});

type Run = { at: bigint; overruns: bigint; deadline: bigint; expires: bigint; pending: boolean };
/** A timer that records each run (virtual ktime_get, the callback's arguments, its state in the callback). */
function recorder(extra?: (t: HighResTimer, runs: Run[]) => void, options?: k.HighResTimerOptions) {
  const runs: Run[] = [];
  const t = new HighResTimer((timer, overruns, deadline) => {
    expect(timer).toBe(t);
    runs.push({ at: k.ktime_get(), overruns, deadline, expires: timer.expires, pending: timer.pending });
    extra?.(timer, runs);
  }, options);
  made.push(t);
  return { t, runs };
}

describe('duration helpers', () => {
  it('build bigint nanoseconds; fractions round to the nearest ns', () => {
    expect([ns(250), ns(250n), us(20.5), us(3n), ms(1.5), ms(0.1), ms(7n), s(2), s(1.1), s(0.000_000_000_4)]).toEqual([
      250n, 250n, 20_500n, 3_000n, 1_500_000n, 100_000n, 7_000_000n, 2_000_000_000n, 1_100_000_000n, 0n,
    ]);
    expect(ns(-0)).toBe(0n);
    expect(s(9_223_372_036n)).toBe(9_223_372_036_000_000_000n); // just under KTIME_MAX
    expect(ns(k.KTIME_MAX)).toBe(k.KTIME_MAX);
  });

  const bad: [string, () => unknown, typeof TypeError, string][] = [
    ['ms(-1)', () => ms(-1), RangeError, 'ERR_OUT_OF_RANGE'],
    ['ms(-1n)', () => ms(-1n), RangeError, 'ERR_OUT_OF_RANGE'],
    ['ms(NaN)', () => ms(NaN), RangeError, 'ERR_OUT_OF_RANGE'],
    ['us(Infinity)', () => us(Infinity), RangeError, 'ERR_OUT_OF_RANGE'],
    ['ns(1.5): whole nanoseconds only', () => ns(1.5), RangeError, 'ERR_OUT_OF_RANGE'],
    ['s(2^53): not exact as a number', () => s(2 ** 53), RangeError, 'ERR_OUT_OF_RANGE'],
    ['s(9223372037n): past KTIME_MAX', () => s(9_223_372_037n), RangeError, 'ERR_OUT_OF_RANGE'],
    ['ns(2^63)', () => ns(1n << 63n), RangeError, 'ERR_OUT_OF_RANGE'],
    ['ms(1e12 + 0.5): past 2^53 ns with a fraction', () => ms(1e12 + 0.5), RangeError, 'ERR_OUT_OF_RANGE'],
    ['ms("5")', () => ms('5' as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['s(undefined)', () => s(undefined as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['us(Object(1))', () => us(Object(1)), TypeError, 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [label, f, cls, code] of bad) {
    it(`${label} → ${cls.name} ${code}`, () => {
      let e: any;
      try {
        f();
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(cls);
      expect(e.code).toBe(code);
    });
  }
});

describe('HighResTimer (virtual clock)', () => {
  it('one-shot: runs once at its deadline with overruns 1n, then is idle', () => {
    clock = installVirtualClock();
    const { t, runs } = recorder();
    expect(t.start(ms(5))).toBe(t);
    expect(t.pending).toBe(true);
    expect(t.expires).toBe(ms(5));
    expect(t.period).toBe(0n);
    clock.advanceNs(ms(5) - 1n);
    expect(runs).toEqual([]);
    clock.advanceNs(ms(100));
    expect(runs).toEqual([{ at: ms(5), overruns: 1n, deadline: ms(5), expires: ms(5), pending: false }]);
    expect(t.pending).toBe(false);
    expect(t.overruns).toBe(1n);
  });

  it('periodic: absolute deadlines first + k·period; inside the callback `expires` is already the next one', () => {
    clock = installVirtualClock();
    const { t, runs } = recorder();
    t.start(ms(1), ms(2));
    clock.advanceNs(ms(7));
    expect(runs.map((r) => [r.at, r.overruns, r.deadline, r.expires, r.pending])).toEqual([
      [ms(1), 1n, ms(1), ms(3), false],
      [ms(3), 1n, ms(3), ms(5), false],
      [ms(5), 1n, ms(5), ms(7), false],
      [ms(7), 1n, ms(7), ms(9), false],
    ]);
    expect(t.pending).toBe(true);
    expect(t.period).toBe(ms(2));
  });

  it('missed periods are one run with their count (hrtimer_forward), not a burst', () => {
    clock = installVirtualClock();
    clock.advanceNs(ms(100));
    const { t, runs } = recorder();
    t.startAt(ms(75), ms(10)); // 75, 85, 95 are past
    clock.advanceNs(0);
    expect(runs).toEqual([{ at: ms(100), overruns: 3n, deadline: ms(75), expires: ms(105), pending: false }]);
    expect(t.overruns).toBe(3n);
    clock.advanceNs(ms(5));
    expect(runs[1]).toMatchObject({ at: ms(105), overruns: 1n, deadline: ms(105) });
  });

  it('cancel(): true when armed, false when idle; from its own periodic callback it stops the timer (true)', () => {
    clock = installVirtualClock();
    const idle = recorder().t;
    expect(idle.cancel()).toBe(false);
    const armed = recorder().t.start(ms(1));
    expect(armed.cancel()).toBe(true);
    expect(armed.pending).toBe(false);
    const results: boolean[] = [];
    const { t, runs } = recorder((timer, r) => {
      if (r.length === 3) results.push(timer.cancel(), timer.cancel());
    });
    t.start(us(10), us(10));
    clock.advanceNs(ms(1));
    expect(runs.map((r) => r.at)).toEqual([us(10), us(20), us(30)]);
    expect(results).toEqual([true, false]);
    expect(t.pending).toBe(false);
    // A one-shot cancelled from its own callback had nothing left to cancel.
    let oneShot: boolean | undefined;
    const o = recorder((timer) => (oneShot = timer.cancel())).t.start(0n);
    clock.advanceNs(0);
    expect(oneShot).toBe(false);
    expect(o.pending).toBe(false);
  });

  it('start() inside the callback replaces the schedule; cancel() then removes the re-armed one', () => {
    clock = installVirtualClock();
    const { t, runs } = recorder((timer, r) => {
      if (r.length === 1) timer.start(ms(5)); // periodic → one-shot in 5 ms
      if (r.length === 2) {
        timer.start(ms(1));
        expect(timer.cancel()).toBe(true);
      }
    });
    t.start(ms(1), ms(1));
    clock.advanceNs(ms(20));
    expect(runs.map((r) => r.at)).toEqual([ms(1), ms(6)]);
    expect(t.pending).toBe(false);
  });

  it('restart() resumes at the stored deadline; refresh() re-arms now + the last delay (Node)', () => {
    clock = installVirtualClock();
    const { t, runs } = recorder();
    t.start(ms(10));
    clock.advanceNs(ms(4));
    t.cancel();
    clock.advanceNs(ms(2));
    t.restart(); // same deadline: 10 ms
    expect(t.expires).toBe(ms(10));
    clock.advanceNs(ms(3)); // 9 ms
    t.refresh(); // now + 10 ms = 19 ms
    expect(t.expires).toBe(ms(19));
    clock.advanceNs(ms(20));
    expect(runs.map((r) => r.at)).toEqual([ms(19)]);
    t.refresh(); // after it fired: armed again
    expect(t.expires).toBe(ms(39));
    // startAt: refresh reuses the time that was left at the start
    t.startAt(ms(45));
    clock.advanceNs(ms(2)); // 41
    t.refresh();
    expect(t.expires).toBe(ms(47));
  });

  it('restart() / refresh() before any start → KtimersError ERR_KTIMERS_NOT_STARTED', () => {
    const t = recorder().t;
    for (const f of [() => t.restart(), () => t.refresh()]) {
      let e: any;
      try {
        f();
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(k.KtimersError);
      expect(e.code).toBe('ERR_KTIMERS_NOT_STARTED');
    }
    expect(t.pending).toBe(false);
  });

  it('[Symbol.dispose] cancels: `using` leaves nothing armed', () => {
    clock = installVirtualClock();
    const before = engineState().slotsInUse!;
    const { t, runs } = recorder();
    t.start(ms(1));
    expect(engineState().slotsInUse).toBe(before + 1);
    t[Symbol.dispose]();
    expect(engineState().slotsInUse).toBe(before);
    clock.advanceNs(ms(2));
    expect(runs).toEqual([]);
  });

  it('slack: never before the deadline, at most slack after, and shares an earlier wake-up', () => {
    clock = installVirtualClock();
    const { t, runs } = recorder(undefined, { slack: ms(1) });
    t.start(ms(5));
    clock.advanceNs(ms(10));
    expect(runs.map((r) => r.at)).toEqual([ms(6)]); // alone: at its hard expiry
    const other = recorder().t;
    t.start(ms(5)); // 15 ms, may run until 16 ms
    other.start(us(5500)); // 15.5 ms: t rides along
    clock.advanceNs(ms(10));
    expect(runs.map((r) => r.at)).toEqual([ms(6), ms(15) + us(500)]);
  });

  it('clock: deadlines on CLOCK_REALTIME; `clock` reports it', () => {
    clock = installVirtualClock();
    const { t, runs } = recorder(undefined, { clock: k.CLOCK_REALTIME });
    expect(t.clock).toBe(k.CLOCK_REALTIME);
    const at = k.ktime_get_real() + us(300);
    t.startAt(at);
    clock.advanceNs(us(300));
    expect(runs).toHaveLength(1);
    expect(runs[0]!.deadline).toBe(at);
  });

  it('a throwing callback stops a periodic timer; the error reaches the advance (uncaughtException for real)', () => {
    clock = installVirtualClock();
    const boom = new Error('boom');
    const { t, runs } = recorder((_t, r) => {
      if (r.length === 2) throw boom;
    });
    t.start(ms(1), ms(1));
    expect(() => clock!.advanceNs(ms(10))).toThrow(boom);
    expect(runs).toHaveLength(2);
    expect(t.pending).toBe(false);
  });

  it('ref() / unref() / hasRef() toggle and chain', () => {
    const t = recorder(undefined, { ref: false }).t;
    expect(t.hasRef()).toBe(false);
    expect(t.ref()).toBe(t);
    expect(t.hasRef()).toBe(true);
    expect(t.unref()).toBe(t);
    expect(t.hasRef()).toBe(false);
  });

  const bad: [string, () => unknown, typeof TypeError, string][] = [
    ['new HighResTimer(1)', () => new HighResTimer(1 as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['options null', () => new HighResTimer(() => {}, null as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['clock 5', () => new HighResTimer(() => {}, { clock: 5 }), RangeError, 'ERR_KTIMERS_INVALID_CLOCK'],
    ['ref "no"', () => new HighResTimer(() => {}, { ref: 'no' as any }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['slack -1n', () => new HighResTimer(() => {}, { slack: -1n }), RangeError, 'ERR_OUT_OF_RANGE'],
    ['slack 5', () => new HighResTimer(() => {}, { slack: 5 as any }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['start(5)', () => new HighResTimer(() => {}).start(5 as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['start(-1n)', () => new HighResTimer(() => {}).start(-1n), RangeError, 'ERR_OUT_OF_RANGE'],
    ['start(1n, -1n)', () => new HighResTimer(() => {}).start(1n, -1n), RangeError, 'ERR_OUT_OF_RANGE'],
    ['start(1n, 2)', () => new HighResTimer(() => {}).start(1n, 2 as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['startAt(2^63)', () => new HighResTimer(() => {}).startAt(1n << 63n), RangeError, 'ERR_OUT_OF_RANGE'],
    ['startAt("1")', () => new HighResTimer(() => {}).startAt('1' as any), TypeError, 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [label, f, cls, code] of bad) {
    it(`bad input: ${label} → ${cls.name} ${code}, nothing armed`, () => {
      const before = engineState().slotsInUse ?? 0;
      let e: any;
      try {
        f();
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(cls);
      expect(e.code).toBe(code);
      expect(engineState().slotsInUse ?? 0).toBe(before);
    });
  }
  it('a rejected start leaves an armed timer as it was', () => {
    clock = installVirtualClock();
    const { t } = recorder();
    t.start(ms(3), ms(3));
    expect(() => t.start(ms(1), -5n)).toThrow(RangeError);
    expect([t.pending, t.expires, t.period]).toEqual([true, ms(3), ms(3)]);
  });
});

describe('HighResTimer (real clock)', () => {
  it('periodic at 1 kHz: never early, overruns add up to the periods elapsed', async () => {
    const seen: [bigint, bigint][] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const t = new HighResTimer((timer, overruns, deadline) => {
      seen.push([k.ktime_get() - deadline, overruns]);
      if (seen.reduce((a, [, o]) => a + o, 0n) >= 50n) {
        timer.cancel();
        done();
      }
    });
    made.push(t);
    const first = k.ktime_get() + ms(1);
    t.startAt(first, ms(1));
    await finished;
    const periods = seen.reduce((a, [, o]) => a + o, 0n);
    expect(seen.every(([late]) => late >= 0n)).toBe(true);
    // The last run answered deadline first + (periods - 1) ms and left the next one after now.
    const last = first + (periods - 1n) * ms(1);
    expect(k.ktime_get() >= last).toBe(true);
    expect(t.pending).toBe(false);
  });

  it('an unref()d armed timer lets the process exit; a ref()d one keeps it alive', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const run = (code: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', `import * as k from ${JSON.stringify(dist)};\n${code}`], {
        encoding: 'utf8',
        timeout: 20_000 * SLOWDOWN,
      });
    const unrefd = run(`new k.HighResTimer(() => console.log('ran')).unref().start(k.s(30));`);
    expect([unrefd.status, unrefd.stdout]).toEqual([0, '']);
    const refd = run(`const t0 = k.ktime_get(); new k.HighResTimer(() => console.log('ran', k.ktime_get() - t0 >= k.ms(200))).start(k.ms(200));`);
    expect([refd.status, refd.stdout.trim()]).toEqual([0, 'ran true']);
  });
});
