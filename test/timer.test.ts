// timer_list and the wheel, against the kernel's rules (kernel/time/timer.c,
// include/linux/timer.h), on the virtual clock of ktimers/testing:
// `advanceTo(J)` runs every jiffy's expiry pass up to J exactly as a ticking
// kernel does, skipping idle stretches, so a billion-jiffy timeout costs only
// the passes that have something to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { installVirtualClock, type VirtualClock } from '../dist/testing.js';
import * as T from '../dist/timer/index.js';
import { wheelInfo } from '../dist/timer/driver.js';
import { native } from '../dist/binding.js';

const J0 = k.INITIAL_JIFFIES + 1_000_000n; // an arbitrary, unaligned start
let clock: VirtualClock;
let now = J0;

function advanceTo(target: bigint): void {
  clock.advanceJiffies(target - clock.jiffies());
  now = clock.jiffies();
}
const setJiffies = advanceTo;

const fires: [string, bigint][] = [];
function mk(name: string, flags = 0, fn?: (t: T.timer_list) => void): T.timer_list {
  const t = new T.timer_list();
  T.timer_setup(t, fn ?? (() => fires.push([name, k.get_jiffies_64()])), flags);
  return t;
}
function firedAt(name: string): bigint[] {
  return fires.filter(([n]) => n === name).map(([, j]) => j);
}

beforeAll(() => {
  clock = installVirtualClock({ startJiffies: J0 });
});
afterAll(() => clock.uninstall());

describe('return values (mod_timer, timer_delete, timer_shutdown: kernel/time/timer.c)', () => {
  it('1: mod_timer returns 0 on an inactive timer, 1 on a pending one', () => {
    const t = mk('a1');
    expect(T.mod_timer(t, now + 100n)).toBe(0);
    expect(T.mod_timer(t, now + 200n)).toBe(1);
    expect(T.timer_pending(t)).toBe(1);
    expect(t.expires).toBe(now + 200n);
    expect(T.timer_delete(t)).toBe(1);
  });

  it('3/4: mod_timer_pending never starts a timer; on a pending one it modifies it', () => {
    const t = mk('a3');
    expect(T.mod_timer_pending(t, now + 50n)).toBe(0);
    expect(T.timer_pending(t)).toBe(0);
    const start = now;
    const u = mk('a4');
    expect(T.mod_timer(u, start + 100n)).toBe(0);
    expect(T.mod_timer_pending(u, start + 50n)).toBe(1);
    advanceTo(start + 1000n);
    expect(firedAt('a3')).toEqual([]);
    expect(firedAt('a4')).toEqual([start + 51n]);
  });

  it('6: add_timer on a pending timer warns once and changes nothing', async () => {
    const warnings: string[] = [];
    const on = (w: any) => warnings.push(w.code);
    process.on('warning', on);
    const start = now;
    const t = mk('a6');
    t.expires = start + 10n;
    T.add_timer(t);
    t.expires = start + 500n;
    T.add_timer(t);
    advanceTo(start + 1000n);
    await new Promise((r) => setImmediate(r));
    process.off('warning', on);
    expect(warnings).toContain('KTIMERS_WARN_ADD_PENDING');
    expect(firedAt('a6')).toEqual([start + 11n]);
    expect(t.expires).toBe(start + 500n);
  });

  it('7: a past or current expiry fires at the next tick', () => {
    const start = now;
    const past = mk('a7p');
    past.expires = start - 10n;
    T.add_timer(past);
    const cur = mk('a7c');
    cur.expires = start;
    T.add_timer(cur);
    advanceTo(start + 5n);
    expect(firedAt('a7p')).toEqual([start + 1n]);
    expect(firedAt('a7c')).toEqual([start + 1n]);
  });

  it('8: timer_delete returns 1 then 0, and the callback never runs', () => {
    const start = now;
    const t = mk('a8');
    T.mod_timer(t, start + 30n);
    expect(T.timer_delete(t)).toBe(1);
    expect(T.del_timer(t)).toBe(0);
    advanceTo(start + 100n);
    expect(firedAt('a8')).toEqual([]);
  });

  it('9/10: in its own callback a timer is not pending; sync delete is refused, sync_try returns -1', () => {
    const seen: unknown[] = [];
    const t = mk('a9', 0, (tm) => {
      seen.push(T.timer_pending(tm), T.timer_delete_sync_try(tm), k.in_serving_softirq(), k.in_task());
      try {
        T.timer_delete_sync(tm);
      } catch (e: any) {
        seen.push(e.code);
      }
      try {
        T.timer_shutdown_sync(tm);
      } catch (e: any) {
        seen.push(e.code);
      }
    });
    T.mod_timer(t, now + 3n);
    advanceTo(now + 10n);
    expect(seen).toEqual([0, -1, true, false, 'ERR_KTIMERS_DEADLOCK', 'ERR_KTIMERS_DEADLOCK']);
  });

  it('12/15: timer_shutdown forbids re-arming until timer_setup again', () => {
    const start = now;
    const t = mk('a12');
    T.mod_timer(t, start + 5n);
    expect(T.timer_shutdown(t)).toBe(1);
    expect(T.mod_timer(t, start + 5n)).toBe(0);
    t.expires = start + 6n;
    T.add_timer(t);
    expect(T.timer_reduce(t, start + 1n)).toBe(0);
    expect(T.timer_pending(t)).toBe(0);
    advanceTo(start + 1000n);
    expect(firedAt('a12')).toEqual([]);
    const again = now;
    T.timer_setup(t, () => fires.push(['a15', k.get_jiffies_64()]), 0);
    expect(T.mod_timer(t, again + 3n)).toBe(0);
    advanceTo(again + 20n);
    expect(firedAt('a15')).toEqual([again + 4n]);
  });

  it('13: a running callback\'s re-arm after timer_shutdown is ignored', () => {
    const start = now;
    let x = -1;
    const t = mk('a13', 0, (tm) => {
      T.timer_shutdown(tm);
      x = T.mod_timer(tm, k.get_jiffies_64() + 5n);
    });
    T.mod_timer(t, start + 2n);
    advanceTo(start + 100n);
    expect(x).toBe(0);
    expect(T.timer_pending(t)).toBe(0);
  });

  it('16: flags outside TIMER_INIT_FLAGS are masked off with a warning', () => {
    const t = new T.timer_list();
    T.timer_setup(t, () => {}, 0x1 | T.TIMER_DEFERRABLE);
    expect(t.flags).toBe(T.TIMER_DEFERRABLE);
  });

  it('timer_reduce only moves a pending timer earlier', () => {
    const start = now;
    const t = mk('reduce');
    expect(T.timer_reduce(t, start + 100n)).toBe(0); // inactive: started
    expect(T.timer_reduce(t, start + 200n)).toBe(1);
    expect(t.expires).toBe(start + 100n);
    expect(T.timer_reduce(t, start + 40n)).toBe(1);
    expect(t.expires).toBe(start + 40n);
    advanceTo(start + 300n);
    expect(firedAt('reduce')).toEqual([start + 41n]);
  });

  // __mod_timer keeps the timer when time_before_eq(timer->expires, expires):
  // (long)(expires - timer->expires) >= 0. At a distance of exactly 2^63 that is
  // -2^63 in both directions, so the kernel moves the timer — to an expiry that,
  // as a long delta from clk, is in the past: it fires at the next tick.
  it('timer_reduce at a distance of exactly 2^63 moves the timer, as the kernel\'s signed test does', () => {
    const start = now;
    const t = mk('reduce63');
    const u = mk('reduce63b');
    expect(T.mod_timer(t, start + 100n)).toBe(0);
    expect(T.mod_timer(u, start + 100n)).toBe(0);
    const far = BigInt.asUintN(64, start + 100n + (1n << 63n));
    expect(T.timer_reduce(t, far)).toBe(1);
    expect(t.expires).toBe(far);
    expect(T.timer_reduce(u, far - 1n)).toBe(1); // (long)(2^63 - 1) >= 0: later, kept
    expect(u.expires).toBe(start + 100n);
    advanceTo(start + 1n);
    expect(firedAt('reduce63')).toEqual([start + 1n]);
    advanceTo(start + 200n);
    expect(firedAt('reduce63b')).toEqual([((start + 100n) / 8n + 1n) * 8n]); // level 1: the next multiple of 8
  });

  it('timer_reduce on a pending timer whose expires field was overwritten with a non-jiffies value: a coded error, nothing changed', () => {
    const start = now;
    const t = mk('reduceJunk');
    expect(T.mod_timer(t, start + 100n)).toBe(0);
    for (const [v, cls, code] of [
      [1.5, RangeError, 'ERR_OUT_OF_RANGE'], [-1, RangeError, 'ERR_OUT_OF_RANGE'], ['7', TypeError, 'ERR_INVALID_ARG_TYPE'],
      [null, TypeError, 'ERR_INVALID_ARG_TYPE'], [Object(3n), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ] as const) {
      t.expires = v as unknown as bigint;
      let err: any;
      try {
        T.timer_reduce(t, start + 5n);
      } catch (e) {
        err = e;
      }
      expect([err?.constructor, err?.code], String(v)).toEqual([cls, code]);
      expect(T.timer_pending(t)).toBe(1);
      expect(wheelInfo(t)!.level).toBe(1); // still in its level-1 bucket for start + 100
    }
    expect(T.mod_timer(t, start + 5n)).toBe(1); // mod_timer overwrites the field, as ever
    advanceTo(start + 10n);
    expect(firedAt('reduceJunk')).toEqual([start + 6n]);
  });
});

describe('wheel placement and firing jiffies (calc_wheel_index() in kernel/time/timer.c)', () => {
  // From an aligned start, as the kernel cases state them (J=0 there).
  function fireJiffy(delta: bigint, start: bigint): bigint {
    const t = mk(`d${delta}@${start}`);
    T.mod_timer(t, start + delta);
    advanceTo(start + delta + (1n << BigInt(3 * (T.LVL_DEPTH - 1))) * 2n);
    const f = firedAt(`d${delta}@${start}`);
    expect(f).toHaveLength(1);
    return f[0]!;
  }

  it('17/18: level 0 fires at expires + 1; the level-1 boundary at 63/64', () => {
    const s = now;
    const t0 = mk('b17a');
    const t1 = mk('b17b');
    const t62 = mk('b17c');
    T.mod_timer(t0, s + 0n);
    T.mod_timer(t1, s + 1n);
    T.mod_timer(t62, s + 62n);
    const t63 = mk('b18a');
    T.mod_timer(t63, s + 63n);
    advanceTo(s + 200n);
    expect(firedAt('b17a')).toEqual([s + 1n]);
    expect(firedAt('b17b')).toEqual([s + 2n]);
    expect(firedAt('b17c')).toEqual([s + 63n]);
    // level 1: the first multiple of 8 strictly after expires
    expect(firedAt('b18a')).toEqual([(((s + 63n) >> 3n) + 1n) << 3n]);
  });

  it('23: at every level boundary (±1) a timer fires in ((E >> 3L) + 1) << 3L, never early, at most 8^L late', () => {
    for (let L = 1; L < T.LVL_DEPTH; L++) {
      for (const d of [T.LVL_START(L) - 1n, T.LVL_START(L), T.LVL_START(L) + 1n]) {
        const start = now;
        const E = start + d;
        const lvl = d < T.LVL_START(L) ? L - 1 : L;
        const shift = BigInt(3 * lvl);
        const t = mk(`lvl${L}:${d}`);
        T.mod_timer(t, E);
        expect(wheelInfo(t)!.level).toBe(lvl);
        advanceTo(E + (1n << shift) + 1n);
        const f = firedAt(`lvl${L}:${d}`);
        expect(f).toEqual([((E >> shift) + 1n) << shift]);
        expect(f[0]! > E && f[0]! <= E + (1n << shift)).toBe(true);
      }
    }
  });

  it('huge timeouts are placed at the wheel capacity (WHEEL_TIMEOUT_MAX), timer->expires unchanged', () => {
    const start = now;
    const t = mk('huge');
    const E = start + (1n << 40n);
    T.mod_timer(t, E);
    expect(t.expires).toBe(E);
    expect(wheelInfo(t)!.level).toBe(T.LVL_DEPTH - 1);
    const shift = BigInt(3 * (T.LVL_DEPTH - 1));
    const capped = start + T.WHEEL_TIMEOUT_MAX;
    advanceTo(capped + (1n << shift));
    expect(firedAt('huge')).toEqual([((capped >> shift) + 1n) << shift]);
  });

  it('26: mod_timer to a different bucket re-queues: fires at the new expiry only', () => {
    const s = now;
    const t = mk('b26');
    T.mod_timer(t, s + 100n);
    expect(T.mod_timer(t, s + 50n)).toBe(1);
    advanceTo(s + 300n);
    expect(firedAt('b26')).toEqual([s + 51n]);
  });

  it('same-bucket mod_timer keeps the original bucket expiry', () => {
    // Level 1 (granularity 8): two expiries inside one bucket.
    const s = now;
    const base = ((s + 100n) >> 3n) << 3n; // aligned, level-1 distance
    const t = mk('same');
    T.mod_timer(t, base + 1n);
    const idx = wheelInfo(t)!.idx;
    expect(T.mod_timer(t, base + 6n)).toBe(1);
    expect(wheelInfo(t)!.idx).toBe(idx);
    expect(t.expires).toBe(base + 6n);
    advanceTo(base + 100n);
    expect(firedAt('same')).toEqual([base + 8n]);
  });

  it('27: inside one bucket, the most recently added runs first', () => {
    const s = now;
    const a = mk('A27');
    const b = mk('B27');
    const order: string[] = [];
    T.timer_setup(a, () => order.push('A'), 0);
    T.timer_setup(b, () => order.push('B'), 0);
    T.mod_timer(a, s + 5n);
    T.mod_timer(b, s + 5n);
    advanceTo(s + 10n);
    expect(order).toEqual(['B', 'A']);
  });

  it('a higher level\'s bucket runs before level 0 in the same tick', () => {
    const order: string[] = [];
    const s = ((now >> 6n) + 1n) << 6n; // start aligned to 64
    setJiffies(s);
    const hi = new T.timer_list();
    T.timer_setup(hi, () => order.push('L1'), 0);
    T.mod_timer(hi, s + 70n); // level 1, fires at 72 + s
    advanceTo(s + 10n);
    const lo = new T.timer_list();
    T.timer_setup(lo, () => order.push('L0'), 0);
    T.mod_timer(lo, s + 71n); // level 0 from s+10: fires at s+72
    advanceTo(s + 100n);
    expect(order).toEqual(['L1', 'L0']);
  });

  it('31: same expiry on pinned, plain and deferrable timers runs LOCAL, GLOBAL, DEF', () => {
    const order: string[] = [];
    const s = now;
    const def = new T.timer_list();
    T.timer_setup(def, () => order.push('def'), T.TIMER_DEFERRABLE);
    const plain = new T.timer_list();
    T.timer_setup(plain, () => order.push('plain'), 0);
    const pinned = new T.timer_list();
    T.timer_setup(pinned, () => order.push('pinned'), T.TIMER_PINNED);
    for (const t of [def, plain, pinned]) T.mod_timer(t, s + 7n);
    advanceTo(s + 20n);
    expect(order).toEqual(['pinned', 'plain', 'def']);
  });

  it('re-arming from the callback: jiffies fires at J+1, jiffies + 1 at J+2 (clk is one ahead)', () => {
    const runs: bigint[] = [];
    let mode: 'j' | 'j1' = 'j';
    const t = new T.timer_list();
    T.timer_setup(t, (tm) => {
      const j = k.get_jiffies_64();
      runs.push(j);
      if (runs.length === 1) T.mod_timer(tm, j);
      else if (runs.length === 2) {
        mode = 'j1';
        T.mod_timer(tm, j + 1n);
      }
    }, 0);
    const s = now;
    T.mod_timer(t, s + 3n);
    advanceTo(s + 20n);
    expect(mode).toBe('j1');
    expect(runs).toEqual([s + 4n, s + 5n, s + 7n]);
  });

  it('a callback deleting a timer collected in the same pass stops it (it was still pending)', () => {
    const order: string[] = [];
    const s0 = now;
    const b = new T.timer_list();
    const a = new T.timer_list();
    let r = -9;
    T.timer_setup(b, () => order.push('B'), 0);
    T.timer_setup(a, () => {
      order.push('A');
      r = T.timer_pending(b);
      r = r * 10 + T.timer_delete(b);
    }, 0);
    T.mod_timer(b, s0 + 5n);
    T.mod_timer(a, s0 + 5n); // added last: runs first
    advanceTo(s0 + 20n);
    expect(order).toEqual(['A']);
    expect(r).toBe(11); // pending, and timer_delete returned 1
  });

  it('mod_timer from a callback on a collected timer: same bucket index keeps it in this pass, another index moves it', () => {
    const s0 = now;
    const ran: [string, bigint][] = [];
    const mkPair = (delta: bigint) => {
      const b = new T.timer_list();
      const a = new T.timer_list();
      let ret = -1;
      T.timer_setup(b, (tm) => ran.push([`B${delta}`, tm.expires]), 0);
      T.timer_setup(a, () => {
        ret = T.mod_timer(b, s0 + 5n + delta);
      }, 0);
      T.mod_timer(b, s0 + 5n);
      T.mod_timer(a, s0 + 5n);
      return () => ret;
    };
    // Level 0, fired at s0+6 with clk now s0+7: expires + 64 lands on the same
    // index ((expires + 1) & 63), so the kernel just updates expires and the
    // timer still runs in this pass; + 65 is another bucket.
    const same = mkPair(64n);
    const other = mkPair(65n);
    advanceTo(s0 + 6n);
    expect(same()).toBe(1);
    expect(other()).toBe(1);
    expect(ran).toEqual([[`B64`, s0 + 69n]]);
    advanceTo(s0 + 200n);
    expect(ran).toEqual([[`B64`, s0 + 69n], [`B65`, s0 + 70n]]);
    expect(firedAt('unused')).toEqual([]);
  });

  it("a timer's wheel state cannot be forged: writing look-alike fields reaches no other timer", () => {
    const s0 = now;
    const a = mk('forgeA');
    const b = mk('forgeB');
    T.mod_timer(a, s0 + 10n);
    // The wheel slot lives in a private field: properties with the old internal
    // names are just properties, and b stays an inactive timer of its own.
    Object.assign(b as any, { _slot: 0, _st: 0x7fffffff, _bidx: 3, _ctx: {} });
    expect(T.timer_pending(b)).toBe(0);
    expect(T.timer_delete(b)).toBe(0);
    expect(T.timer_pending(a)).toBe(1);
    expect(T.mod_timer(b, s0 + 500n)).toBe(0);
    expect(T.timer_delete(b)).toBe(1);
    advanceTo(s0 + 20n);
    expect(firedAt('forgeA')).toEqual([s0 + 11n]);
  });
});


describe('timer.expires storage', () => {
  // expires is kept as a small-integer offset when it is near the load-time jiffy
  // (memory per timer), as the value itself otherwise: every value must read back
  // exactly as written, and equal expiries must compare equal across both forms.
  it('reads back exactly what was written, near, far, wrapped or not a bigint; a valid number reads back as its bigint', () => {
    const t = new T.timer_list();
    const j = k.get_jiffies_64();
    // The real jiffies too (this file runs on the virtual clock): the stored
    // offset is from the real jiffy at load, a few seconds ago at most.
    const r = k.INITIAL_JIFFIES + native.now(0) / k.TICK_NSEC;
    const M = 1_000_000n;
    const values: unknown[] = [
      r, r + 1n, r - 1n, r + (1n << 30n) - M, r + (1n << 30n) + M, r - (1n << 30n) + M, r - (1n << 30n) - M,
      0n, 1n, j, j + 1n, j - 1n, j + (1n << 30n) - 1n, j + (1n << 30n), j + (1n << 30n) + 1n, j - (1n << 30n),
      j - (1n << 30n) + 1n, (1n << 53n) - 1n, 1n << 53n, (1n << 64n) - 1n, 1n << 64n, -1n,
      1.5, -1, 2 ** 53, NaN, '7', null, undefined, Object(3n),
    ];
    for (const v of values) {
      t.expires = v as bigint;
      expect(Object.is(t.expires, v) || t.expires === v).toBe(true);
    }
    // A non-negative safe-integer number is a jiffies value: kept as its bigint.
    for (const v of [5, -0, 0, Number(r), Number(r) + 2 ** 31, Number(j) - 1, 2 ** 53 - 1]) {
      t.expires = v;
      expect(t.expires, `${v}`).toBe(BigInt(v));
    }
  });

  it('mod_timer treats an expiry the same whichever form it is stored in', () => {
    const t = mk('enc');
    const j = now;
    // Far ahead of the virtual clock, beyond the small-integer window: stored as a bigint.
    const far = j + (1n << 31n);
    expect(T.mod_timer(t, far)).toBe(0);
    expect(T.mod_timer(t, far)).toBe(1); // unchanged expiry: the early return
    expect(T.timer_reduce(t, far + 1n)).toBe(1); // later: REDUCE leaves it
    expect(t.expires).toBe(far);
    expect(T.timer_reduce(t, j + 5n)).toBe(1); // earlier: moves (now a small-integer form)
    expect(t.expires).toBe(j + 5n);
    expect(T.timer_reduce(t, far)).toBe(1);
    expect(t.expires).toBe(j + 5n);
    advanceTo(j + 6n);
    expect(firedAt('enc')).toEqual([j + 6n]);
  });

  // A jiffies argument may be a safe-integer number (the hot-path form: no bigint
  // per call). It must act exactly as its bigint: same return values, same
  // bucket at every level boundary (±1), same stored expiry, same firing jiffy.
  it('a number expiry acts exactly as its bigint: return values, bucket, expires, firing jiffy', () => {
    const j = now;
    const deltas: bigint[] = [0n, 1n];
    for (let lvl = 1; lvl <= k.LVL_DEPTH; lvl++) {
      const start = T.LVL_START(lvl);
      deltas.push(start - 1n, start, start + 1n);
    }
    deltas.push(k.WHEEL_TIMEOUT_MAX + 5n, (1n << 31n) + 7n); // capped; stored as a bigint (outside the ±2^30 window)
    const pairs = deltas.map((d, i) => [mk(`nb${i}`), mk(`nn${i}`), d] as const);
    const seen: string[] = [];
    for (const [tb, tn, d] of pairs) {
      const rets = [T.mod_timer(tb, j + d), T.mod_timer(tn, Number(j + d))];
      rets.push(T.mod_timer(tb, j + d + 3n), T.mod_timer(tn, Number(j + d + 3n)));
      rets.push(T.timer_reduce(tb, j + d), T.timer_reduce(tn, Number(j + d)));
      rets.push(T.mod_timer_pending(tb, j + d), T.mod_timer_pending(tn, Number(j + d)));
      expect(rets, `delta ${d}`).toEqual([0, 0, 1, 1, 1, 1, 1, 1]);
      expect(tn.expires).toBe(tb.expires);
      expect(wheelInfo(tn), `delta ${d}`).toEqual(wheelInfo(tb));
      seen.push(`${d}:${wheelInfo(tb)!.level}`);
    }
    // every level was reached
    expect(new Set(seen.map((x) => x.split(':')[1])).size).toBe(k.LVL_DEPTH);
    // add_timer with a number written to timer.expires: read back as its bigint, armed alike
    const ab = mk('ab'), an = mk('an');
    ab.expires = j + 700n;
    an.expires = Number(j + 700n);
    T.add_timer(ab);
    T.add_timer(an);
    expect([an.expires, wheelInfo(an)]).toEqual([ab.expires, wheelInfo(ab)]);
    advanceTo(j + 2n * T.LVL_START(3));
    for (const [i, [tb, tn]] of pairs.entries()) {
      expect(firedAt(`nn${i}`)).toEqual(firedAt(`nb${i}`));
      T.timer_delete(tb);
      T.timer_delete(tn);
    }
    expect(firedAt('an')).toEqual(firedAt('ab'));
    expect(firedAt('ab')).toHaveLength(1);
  });
});
