// ktimers/legacy, the pre-4.15 timer_list API (issue 18), on the virtual clock:
// a legacy timer fires at the jiffy a modern one with the same expires would
// (level 0: the jiffy after expires, as the kernel's non-cascading wheel does),
// hands its callback `data`, reads its fields at add and fire time, and is a
// timer_list to every modern call.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as L from '../dist/legacy.js';
import * as T from '../dist/timer/index.js';
import { get_jiffies_64, in_serving_softirq, INITIAL_JIFFIES } from '../dist/index.js';
import { installVirtualClock, type VirtualClock } from '../dist/testing.js';

const J0 = INITIAL_JIFFIES + 777_777n; // an arbitrary, unaligned start
let clock: VirtualClock;
const made: T.timer_list[] = [];

function advanceTo(target: bigint): void {
  clock.advanceJiffies(target - clock.jiffies());
}
function fresh<D = unknown>(): L.legacy_timer_list<D> {
  const t = new L.legacy_timer_list<D>();
  made.push(t);
  return t;
}
/** The code of what fn throws. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

beforeAll(() => {
  clock = installVirtualClock({ startJiffies: J0 });
});
afterEach(() => {
  for (const t of made.splice(0)) T.timer_delete(t);
});
afterAll(() => clock.uninstall());

describe('ktimers/legacy: the textbook template', () => {
  it('init_timer, .function, .data, .expires, add_timer: fires once with data, at the jiffy a modern timer fires', () => {
    const dev = { name: 'xxx' };
    const got: [unknown, bigint, boolean][] = [];
    const t = fresh<typeof dev>();
    L.init_timer(t);
    t.function = (arg) => got.push([arg, get_jiffies_64(), in_serving_softirq()]);
    t.data = dev;
    const start = clock.jiffies();
    t.expires = start + 10n;
    L.add_timer(t);
    expect(L.timer_pending(t)).toBe(1);

    const modernAt: bigint[] = [];
    const m = new T.timer_list();
    made.push(m);
    T.timer_setup(m, () => modernAt.push(get_jiffies_64()));
    T.mod_timer(m, start + 10n);

    advanceTo(start + 10n);
    expect(got).toEqual([]); // never early
    advanceTo(start + 100n);
    expect(got).toEqual([[dev, start + 11n, true]]); // level 0: the jiffy after expires
    expect(modernAt).toEqual([start + 11n]);
    expect(L.timer_pending(t)).toBe(0);
  });

  it('re-arms from its own callback with expires = jiffies + delay; add_timer; every period exact', () => {
    const delay = 25n;
    const dev = { ticks: [] as bigint[] };
    const t = fresh<typeof dev>();
    L.init_timer(t);
    t.function = (d) => {
      d.ticks.push(L.jiffies);
      expect(L.timer_pending(t)).toBe(0); // unlinked before the call, as in the kernel
      if (d.ticks.length < 5) {
        t.expires = L.jiffies + delay;
        L.add_timer(t);
      }
    };
    t.data = dev;
    const start = clock.jiffies();
    t.expires = start + delay;
    L.add_timer(t);
    advanceTo(start + 1000n);
    expect(dev.ticks).toEqual([1n, 2n, 3n, 4n, 5n].map((i) => start + i * (delay + 1n)));
    expect(L.timer_pending(t)).toBe(0);
  });

  it('function and data are read at fire time; expires at add time', () => {
    const seen: string[] = [];
    const t = fresh<string>();
    L.setup_timer(t, (d) => seen.push(`first:${d}`), 'a');
    const start = clock.jiffies();
    t.expires = start + 5n;
    L.add_timer(t);
    // Written after add_timer: function and data are taken at expiry; expires
    // is only a field until the next add (the queued expiry stays).
    t.function = (d) => seen.push(`second:${d}`);
    t.data = 'b';
    t.expires = start + 500n;
    advanceTo(start + 7n);
    expect(seen).toEqual(['second:b']);
  });
});

describe('ktimers/legacy: initialisers', () => {
  it('setup_timer sets function and data; TIMER_INITIALIZER and DEFINE_TIMER (with or without name) set all three', () => {
    const got: [string, unknown, bigint][] = [];
    const start = clock.jiffies();
    const a = fresh<number>();
    L.setup_timer(a, (d) => got.push(['a', d, get_jiffies_64()]), 42);
    a.expires = start + 3n;
    const b = L.TIMER_INITIALIZER((d) => got.push(['b', d, get_jiffies_64()]), start + 4n, 'bee');
    const c = L.DEFINE_TIMER('my_timer', (d) => got.push(['c', d, get_jiffies_64()]), start + 5n, null);
    const d = L.DEFINE_TIMER((x) => got.push(['d', x, get_jiffies_64()]), Number(start) + 6, 0);
    made.push(b, c, d);
    expect([b.expires, c.expires, d.expires]).toEqual([start + 4n, start + 5n, start + 6n]);
    for (const t of [b, c, d]) expect(L.timer_pending(t)).toBe(0); // initialised, not started
    for (const t of [a, b, c, d]) L.add_timer(t);
    advanceTo(start + 20n);
    expect(got).toEqual([
      ['a', 42, start + 4n],
      ['b', 'bee', start + 5n],
      ['c', null, start + 6n],
      ['d', 0, start + 7n],
    ]);
  });

  it('init_timer leaves function and data as they were (the kernel does not touch them)', () => {
    const f = () => {};
    const t = fresh<number>();
    t.function = f;
    t.data = 7;
    L.init_timer(t);
    expect(t.function).toBe(f);
    expect(t.data).toBe(7);
    expect(t.flags).toBe(0);
  });

  it('init_timer_deferrable sets TIMER_DEFERRABLE; the timer runs at the next wake-up at or after its expiry', () => {
    const got: bigint[] = [];
    const t = fresh();
    L.init_timer_deferrable(t);
    expect(t.flags & L.TIMER_DEFERRABLE).toBe(L.TIMER_DEFERRABLE);
    t.function = () => got.push(get_jiffies_64());
    const start = clock.jiffies();
    t.expires = start + 5n;
    L.add_timer(t);
    const wake = L.TIMER_INITIALIZER(() => {}, start + 40n, 0);
    made.push(wake);
    L.add_timer(wake);
    advanceTo(start + 100n);
    expect(got.length).toBe(1);
    expect(got[0]! > start + 5n).toBe(true);
  });

  it('setup_timer_on_stack / destroy_timer_on_stack: destroying a pending timer warns and deletes it', async () => {
    const t = fresh();
    L.setup_timer_on_stack(t, () => {}, 0);
    L.destroy_timer_on_stack(t); // idle: nothing to do
    t.expires = clock.jiffies() + 50n;
    L.add_timer(t);
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    L.destroy_timer_on_stack(t);
    expect(L.timer_pending(t)).toBe(0);
    expect(((await warned) as Error & { code?: string }).code).toBe('KTIMERS_WARN_DESTROY_ACTIVE');
  });
});

describe('ktimers/legacy: the kernel\'s BUG and bad input', () => {
  it('add_timer of a pending timer is the BUG_ON: ERR_KTIMERS_TIMER_ACTIVE, and the timer keeps its expiry', () => {
    const got: bigint[] = [];
    const t = fresh();
    L.setup_timer(t, () => got.push(get_jiffies_64()), 0);
    const start = clock.jiffies();
    t.expires = start + 10n;
    L.add_timer(t);
    t.expires = start + 2n;
    const err = (() => {
      try {
        L.add_timer(t);
      } catch (e) {
        return e as Error & { code: string };
      }
    })();
    expect(err?.code).toBe('ERR_KTIMERS_TIMER_ACTIVE');
    expect(err?.name).toBe('KtimersError');
    advanceTo(start + 30n);
    expect(got).toEqual([start + 11n]);
  });

  it('coded errors, nothing armed: no function, bad expires, not initialised, not a legacy timer, bad initialiser arguments', () => {
    const t = fresh();
    L.init_timer(t);
    t.expires = clock.jiffies() + 5n;
    expect(codeOf(() => L.add_timer(t))).toBe('ERR_KTIMERS_NO_FUNCTION'); // function never set
    expect(L.timer_pending(t)).toBe(0);
    t.function = 'xxx_do_timer' as never;
    expect(codeOf(() => L.add_timer(t))).toBe('ERR_KTIMERS_NO_FUNCTION');
    t.function = () => {};
    for (const bad of [-1, 1.5, 2 ** 53, NaN, '100', undefined, -1n, 2n ** 64n]) {
      t.expires = bad as never;
      expect(codeOf(() => L.add_timer(t)), String(bad)).toMatch(/^ERR_(INVALID_ARG_TYPE|OUT_OF_RANGE)$/);
      expect(L.timer_pending(t)).toBe(0);
    }
    const never = fresh();
    never.function = () => {};
    never.expires = clock.jiffies() + 5n;
    expect(codeOf(() => L.add_timer(never))).toBe('ERR_KTIMERS_NOT_SETUP');
    expect(L.timer_pending(never)).toBe(0);

    const modern = new T.timer_list();
    T.timer_setup(modern, () => {});
    for (const f of [L.init_timer, L.init_timer_deferrable, L.add_timer, L.destroy_timer_on_stack]) {
      expect(codeOf(() => f(modern as never))).toBe('ERR_INVALID_ARG_TYPE');
      expect(codeOf(() => f({} as never))).toBe('ERR_INVALID_ARG_TYPE');
    }
    expect(codeOf(() => L.setup_timer(fresh(), 'fn' as never, 0))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => L.TIMER_INITIALIZER(null as never, 10n, 0))).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => L.TIMER_INITIALIZER(() => {}, -5, 0))).toMatch(/^ERR_(INVALID_ARG_TYPE|OUT_OF_RANGE)$/);
    expect(codeOf(() => L.DEFINE_TIMER('n', () => {}, 'soon' as never, 0))).toMatch(/^ERR_(INVALID_ARG_TYPE|OUT_OF_RANGE)$/);
  });

  it('init_timer / setup_timer on a pending timer, or a frozen one, throw and change nothing', () => {
    const f = () => {};
    const t = fresh<number>();
    L.setup_timer(t, f, 1);
    t.expires = clock.jiffies() + 50n;
    L.add_timer(t);
    expect(codeOf(() => L.init_timer(t))).toBe('ERR_KTIMERS_TIMER_ACTIVE');
    expect(codeOf(() => L.setup_timer(t, () => {}, 2))).toBe('ERR_KTIMERS_TIMER_ACTIVE');
    expect([t.function, t.data, L.timer_pending(t)]).toEqual([f, 1, 1]);
    L.del_timer(t);
    const frozen = Object.freeze(new L.legacy_timer_list());
    expect(codeOf(() => L.setup_timer(frozen, f, 3))).toBe('ERR_INVALID_ARG_TYPE');
    expect(frozen.function).toBe(null);
  });
});

describe('ktimers/legacy: interop with the modern API', () => {
  it('modern mod_timer, timer_pending, timer_delete_sync work on a legacy timer; the legacy names on a modern one', () => {
    const got: unknown[] = [];
    const t = fresh<string>();
    L.setup_timer(t, (d) => got.push([d, get_jiffies_64()]), 'legacy');
    const start = clock.jiffies();
    expect(T.mod_timer(t, start + 20n)).toBe(0); // mod_timer starts it, as in every version
    expect(T.timer_pending(t)).toBe(1);
    expect(L.mod_timer(t, start + 8n)).toBe(1);
    advanceTo(start + 30n);
    expect(got).toEqual([['legacy', start + 9n]]);

    t.expires = clock.jiffies() + 5n;
    L.add_timer(t);
    expect(T.timer_delete_sync(t)).toBe(1);
    expect(L.del_timer_sync(t)).toBe(0);
    advanceTo(clock.jiffies() + 30n);
    expect(got.length).toBe(1);

    const m = new T.timer_list();
    made.push(m);
    const mgot: unknown[] = [];
    T.timer_setup(m, (x) => mgot.push(x));
    expect(L.mod_timer(m, clock.jiffies() + 3n)).toBe(0);
    expect(L.timer_pending(m)).toBe(1);
    expect(L.del_timer(m)).toBe(1);
    L.mod_timer(m, clock.jiffies() + 3n);
    advanceTo(clock.jiffies() + 10n);
    expect(mgot).toEqual([m]); // a modern callback still receives its timer
    // One implementation for both eras, not a copy.
    expect([L.del_timer, L.del_timer_sync, L.mod_timer, L.timer_pending]).toEqual([
      T.timer_delete,
      T.timer_delete_sync,
      T.mod_timer,
      T.timer_pending,
    ]);
  });

  it('del_timer_sync from the timer\'s own callback is the deadlock refusal; timer_shutdown silences it', () => {
    const codes: (string | undefined)[] = [];
    const t = fresh();
    L.setup_timer(t, () => codes.push(codeOf(() => L.del_timer_sync(t))), 0);
    t.expires = clock.jiffies() + 2n;
    L.add_timer(t);
    advanceTo(clock.jiffies() + 10n);
    expect(codes).toEqual(['ERR_KTIMERS_DEADLOCK']);

    T.timer_shutdown(t);
    expect(L.mod_timer(t, clock.jiffies() + 2n)).toBe(0);
    expect(L.timer_pending(t)).toBe(0);
  });
});

describe('ktimers/legacy: fuzz', () => {
  it('every function export, called with hostile arguments: a coded TypeError/RangeError/KtimersError or a normal return, and a refused add leaves nothing pending', () => {
    let seed = 0x1e6ac7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const pool: unknown[] = [
      undefined, null, 0, -1, 1.5, NaN, 2 ** 53, 10n, -1n, 2n ** 64n, '', 'x', {}, [], () => {}, Symbol('s'),
      new T.timer_list(), Object.freeze(new L.legacy_timer_list()), new Proxy({}, { get() { throw new Error('trap'); } }),
    ];
    // Every function export but the class (its constructor takes nothing).
    const fnsOf = Object.entries(L).filter(([n, v]) => typeof v === 'function' && n !== 'legacy_timer_list') as [string, (...a: unknown[]) => unknown][];
    let calls = 0;
    for (let i = 0; i < 3000; i++) {
      const [name, fn] = fnsOf[Math.floor(rnd() * fnsOf.length)]!;
      const t = fresh();
      const args = Array.from({ length: Math.floor(rnd() * 5) }, () => (rnd() < 0.3 ? t : pool[Math.floor(rnd() * pool.length)]));
      const before = Boolean(T.timer_pending(t));
      try {
        fn(...args);
      } catch (e) {
        const err = e as { name?: string; code?: unknown };
        expect(['TypeError', 'RangeError', 'KtimersError'], `${name}: ${String(e)}`).toContain(err.name);
        expect(typeof err.code, `${name}: ${String(e)}`).toBe('string');
        if (name === 'add_timer' && args[0] === t) expect(Boolean(T.timer_pending(t)), 'a refused add_timer armed the timer').toBe(before);
      }
      calls++;
    }
    expect(calls).toBeGreaterThan(2000);
  });
});
