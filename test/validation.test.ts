// Input validation of every export, and of the native binding underneath.
//
// Rule: bad input is a TypeError or RangeError (or KtimersError) carrying a stable
// string `code` — never a crash, never a silent coercion, never a half-applied
// change. Hostile objects (throwing valueOf / toString / Symbol.toPrimitive /
// getters) must not be coerced.
//
// The signature table SIG names the kernel parameter kind of every argument of
// every exported function; the targeted tests and the fuzz below are driven by it.
// A new export without an entry fails the "covers every export" test.
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as k from '../dist/index.js';
import { native } from '../dist/binding.js';

const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

type Kind = 'ktime' | 'u64' | 's64' | 'div' | 'timer' | 'fn' | 'clock' | 'mode' | 'any';
type Ret = 'ktime' | 'u64' | 'cmp' | 'bool' | 'try' | 'cancel' | 'void' | 'now';

// prettier-ignore
const SIG: Record<string, [Kind[], Ret]> = {
  ktime_set: [['s64', 'u64'], 'ktime'],
  ns_to_ktime: [['u64'], 'ktime'], us_to_ktime: [['u64'], 'ktime'], ms_to_ktime: [['u64'], 'ktime'],
  ktime_add: [['ktime', 'ktime'], 'ktime'], ktime_sub: [['ktime', 'ktime'], 'ktime'],
  ktime_add_safe: [['ktime', 'ktime'], 'ktime'],
  ktime_add_ns: [['ktime', 'u64'], 'ktime'], ktime_sub_ns: [['ktime', 'u64'], 'ktime'],
  ktime_add_us: [['ktime', 'u64'], 'ktime'], ktime_sub_us: [['ktime', 'u64'], 'ktime'],
  ktime_add_ms: [['ktime', 'u64'], 'ktime'], ktime_sub_ms: [['ktime', 'u64'], 'ktime'],
  ktime_to_ns: [['ktime'], 'ktime'], ktime_to_us: [['ktime'], 'ktime'], ktime_to_ms: [['ktime'], 'ktime'],
  ktime_divns: [['ktime', 'div'], 'ktime'],
  ktime_us_delta: [['ktime', 'ktime'], 'ktime'], ktime_ms_delta: [['ktime', 'ktime'], 'ktime'],
  ktime_compare: [['ktime', 'ktime'], 'cmp'],
  ktime_after: [['ktime', 'ktime'], 'bool'], ktime_before: [['ktime', 'ktime'], 'bool'],
  ktime_get: [[], 'now'], ktime_get_real: [[], 'now'], ktime_get_boottime: [[], 'now'],
  ktime_get_clocktai: [[], 'now'], ktime_get_raw: [[], 'now'],
  ktime_get_ns: [[], 'now'], ktime_get_real_ns: [[], 'now'], ktime_get_boottime_ns: [[], 'now'],
  ktime_get_clocktai_ns: [[], 'now'], ktime_get_raw_ns: [[], 'now'],
  hrtimer_setup: [['timer', 'fn', 'clock', 'mode'], 'void'],
  hrtimer_init: [['timer', 'clock', 'mode'], 'void'],
  hrtimer_update_function: [['timer', 'fn'], 'void'],
  hrtimer_start_range_ns: [['timer', 'ktime', 'u64', 'mode'], 'void'],
  hrtimer_start: [['timer', 'ktime', 'mode'], 'void'],
  hrtimer_start_expires: [['timer', 'mode'], 'void'],
  hrtimer_restart: [['timer'], 'void'],
  hrtimer_try_to_cancel: [['timer'], 'try'],
  hrtimer_cancel: [['timer'], 'cancel'],
  hrtimer_forward: [['timer', 'ktime', 'ktime'], 'u64'],
  hrtimer_forward_now: [['timer', 'ktime'], 'u64'],
  hrtimer_cb_get_time: [['timer'], 'ktime'],
  hrtimer_get_remaining: [['timer'], 'ktime'], hrtimer_expires_remaining: [['timer'], 'ktime'],
  hrtimer_get_expires: [['timer'], 'ktime'], hrtimer_get_softexpires: [['timer'], 'ktime'],
  hrtimer_set_expires: [['timer', 'ktime'], 'void'],
  hrtimer_set_expires_range: [['timer', 'ktime', 'ktime'], 'void'],
  hrtimer_set_expires_range_ns: [['timer', 'ktime', 'u64'], 'void'],
  hrtimer_add_expires: [['timer', 'ktime'], 'void'],
  hrtimer_add_expires_ns: [['timer', 'u64'], 'void'],
  hrtimer_active: [['timer'], 'bool'], hrtimer_is_queued: [['timer'], 'bool'],
  hrtimer_callback_running: [['timer'], 'bool'],
  in_atomic: [[], 'bool'], in_hardirq: [[], 'bool'], in_irq: [[], 'bool'], in_interrupt: [[], 'bool'],
  in_nmi: [[], 'bool'], in_serving_softirq: [[], 'bool'], in_softirq: [[], 'bool'], in_task: [[], 'bool'],
  might_sleep: [['any'], 'void'],
};
/** Classes (constructors, not operations) and @internal helpers that leak through `export *` (see below). */
const NOT_FUZZED = new Set(['hrtimer', 'KtimersError']);
/** Functions that need a timer that went through hrtimer_setup()/hrtimer_init(). */
const NEEDS_SETUP = new Set([
  'hrtimer_start', 'hrtimer_start_range_ns', 'hrtimer_start_expires', 'hrtimer_restart', 'hrtimer_forward_now',
  'hrtimer_cb_get_time', 'hrtimer_get_remaining', 'hrtimer_expires_remaining', 'hrtimer_update_function',
]);

const fns = k as unknown as Record<string, (...a: unknown[]) => unknown>;

// --- helpers ---------------------------------------------------------------

let coercions = 0;
/** An object whose every coercion hook throws (and is counted), and whose `constructor` getter throws. */
function hostile(): object {
  const boom = () => {
    coercions++;
    throw new Error('hostile coercion invoked');
  };
  return {
    valueOf: boom,
    toString: boom,
    toJSON: boom,
    [Symbol.toPrimitive]: boom,
    get constructor(): never {
      throw new Error('hostile constructor getter');
    },
  };
}
/** A Proxy whose traps all throw, except getPrototypeOf (so `instanceof` answers false). */
function hostileProxy(): object {
  const trap = () => {
    throw new Error('hostile proxy trap');
  };
  return new Proxy(
    {},
    { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, apply: trap, set: trap, getPrototypeOf: () => Object.prototype },
  );
}

function thrown(f: () => unknown): any {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectError(f: () => unknown, cls: typeof TypeError | typeof RangeError, code: string, label = '') {
  const e = thrown(f);
  if (!(e instanceof cls) || e.code !== code) {
    throw new Error(
      `${label}: expected ${cls.name} ${code}, got ${e === undefined ? 'no throw' : `${e?.constructor?.name} ${e?.code} (${e?.message})`}`,
    );
  }
}

const made: k.hrtimer[] = [];
const noop = () => k.HRTIMER_NORESTART;
function setupTimer(clock = k.CLOCK_MONOTONIC, mode = k.HRTIMER_MODE_REL): k.hrtimer {
  const t = new k.hrtimer();
  k.hrtimer_setup(t, noop, clock, mode);
  made.push(t);
  return t;
}
function cancelAll(list: k.hrtimer[]) {
  for (const t of list) if (k.hrtimer_active(t) && !k.hrtimer_callback_running(t)) k.hrtimer_cancel(t);
}
afterEach(() => cancelAll(made.splice(0)));

/** A valid argument of each kind (a fresh set-up timer for 'timer'). */
function valid(kind: Kind): unknown {
  switch (kind) {
    case 'ktime': return 5_000_000_000n;
    case 'u64': return 3;
    case 's64': return -3;
    case 'div': return 7n;
    case 'timer': return setupTimer();
    case 'fn': return noop;
    case 'clock': return k.CLOCK_MONOTONIC;
    case 'mode': return k.HRTIMER_MODE_REL;
    case 'any': return undefined;
  }
}

type Bad = [label: string, value: () => unknown, cls: typeof TypeError | typeof RangeError, code: string];
const T = TypeError;
const R = RangeError;
const ARG = 'ERR_INVALID_ARG_TYPE';
const OOR = 'ERR_OUT_OF_RANGE';
const notNumbers = (code = ARG): Bad[] => [
  ['string', () => '1', T, code], ['undefined', () => undefined, T, code], ['null', () => null, T, code],
  ['object', () => ({}), T, code], ['array', () => [1], T, code], ['symbol', () => Symbol('s'), T, code],
  ['boolean', () => true, T, code], ['boxed bigint', () => Object(1n), T, code], ['boxed number', () => Object(1), T, code],
  ['function', () => () => 1n, T, code], ['hostile object', hostile, T, code], ['hostile proxy', hostileProxy, T, code],
];
const BAD: Record<Exclude<Kind, 'any'>, Bad[]> = {
  ktime: [
    ...notNumbers(),
    ['number 1', () => 1, T, ARG], ['number 0', () => 0, T, ARG], ['-0', () => -0, T, ARG], ['1.5', () => 1.5, T, ARG],
    ['NaN', () => NaN, T, ARG], ['Infinity', () => Infinity, T, ARG],
    ['2^63', () => 1n << 63n, R, OOR], ['KTIME_MIN-1', () => MIN - 1n, R, OOR], ['2^64', () => 1n << 64n, R, OOR],
    ['-2^64', () => -(1n << 64n), R, OOR],
  ],
  u64: [
    ...notNumbers(),
    ['-1', () => -1, R, OOR], ['-1n', () => -1n, R, OOR], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR],
    ['Infinity', () => Infinity, R, OOR], ['-Infinity', () => -Infinity, R, OOR], ['2^53 (unsafe)', () => 2 ** 53, R, OOR],
    ['1e300', () => 1e300, R, OOR], ['2^64', () => 1n << 64n, R, OOR], ['KTIME_MIN', () => MIN, R, OOR],
  ],
  s64: [
    ...notNumbers(),
    ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR], ['Infinity', () => Infinity, R, OOR],
    ['-2^53 (unsafe)', () => -(2 ** 53), R, OOR], ['2^63', () => 1n << 63n, R, OOR], ['KTIME_MIN-1', () => MIN - 1n, R, OOR],
  ],
  div: [],
  timer: [
    ['undefined', () => undefined, T, ARG], ['null', () => null, T, ARG], ['number', () => 1, T, ARG],
    ['bigint', () => 1n, T, ARG], ['string', () => 'timer', T, ARG], ['symbol', () => Symbol('t'), T, ARG],
    ['plain object', () => ({}), T, ARG],
    ['duck-typed timer', () => ({ function: noop, _base: 0, _slot: -1, _queued: false, _running: false, _soft: 0n, _hard: 0n }), T, ARG],
    ['the class itself', () => k.hrtimer, T, ARG], ['its prototype', () => k.hrtimer.prototype, T, ARG],
    ['hostile object', hostile, T, ARG], ['hostile proxy', hostileProxy, T, ARG], ['array', () => [], T, ARG],
  ],
  fn: [
    ['undefined', () => undefined, T, ARG], ['null', () => null, T, ARG], ['number', () => 1, T, ARG],
    ['string', () => 'noop', T, ARG], ['object', () => ({}), T, ARG], ['symbol', () => Symbol('f'), T, ARG],
    ['bigint', () => 1n, T, ARG], ['hostile object', hostile, T, ARG], ['hostile proxy', hostileProxy, T, ARG],
  ],
  clock: [
    ...[2, 3, 4, 5, 6, 8, 9, 10, 12, 99, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 32 + 1, 2 ** 32 + 7].map(
      (v): Bad => [`clock ${v}`, () => v, R, 'ERR_KTIMERS_INVALID_CLOCK'],
    ),
    ...notNumbers(),
    ['bigint 1n', () => 1n, T, ARG],
  ],
  mode: [
    ...[0x0c, 0x0d, 0x0e, 0x0f, 0x1c, 0x1f, 0x20, 0x21, 0x100, -1, 1.5, NaN, Infinity, 2 ** 32 + 1].map(
      (v): Bad => [`mode ${v}`, () => v, R, 'ERR_KTIMERS_INVALID_MODE'],
    ),
    ...notNumbers(),
    ['bigint 0n', () => 0n, T, ARG],
  ],
};
BAD.div = [...BAD.s64, ['0', () => 0, R, OOR], ['0n', () => 0n, R, OOR], ['-0', () => -0, R, OOR]];

function accepts(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'ktime': return typeof v === 'bigint' && v >= MIN && v <= MAX;
    case 'u64': return typeof v === 'bigint' ? v >= 0n && v <= U64_MAX : Number.isSafeInteger(v) && (v as number) >= 0;
    case 's64': return typeof v === 'bigint' ? v >= MIN && v <= MAX : Number.isSafeInteger(v);
    case 'div': return accepts('s64', v) && BigInt(v as bigint) !== 0n;
    case 'timer': return v instanceof k.hrtimer;
    case 'fn': return typeof v === 'function';
    case 'clock': return [0, 1, 7, 11].includes(v as number);
    case 'mode': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x1f && (v & 0x0c) !== 0x0c;
    case 'any': return true;
  }
}
function returnOk(ret: Ret, v: unknown): boolean {
  switch (ret) {
    case 'ktime': return typeof v === 'bigint' && v >= MIN && v <= MAX;
    case 'u64': return typeof v === 'bigint' && v >= 0n && v <= U64_MAX;
    case 'now': return typeof v === 'bigint' && v > 0n;
    case 'cmp': case 'try': return v === -1 || v === 0 || v === 1;
    case 'cancel': return v === 0 || v === 1;
    case 'bool': return typeof v === 'boolean';
    case 'void': return v === undefined;
  }
}

// --- the export surface ----------------------------------------------------

describe('export surface', () => {
  it('SIG covers every exported function', () => {
    const exported = Object.entries(k).filter(([, v]) => typeof v === 'function').map(([n]) => n);
    const missing = exported.filter((n) => !(n in SIG) && !NOT_FUZZED.has(n));
    expect(missing).toEqual([]);
    const stale = Object.keys(SIG).filter((n) => typeof fns[n] !== 'function');
    expect(stale).toEqual([]);
  });

  // @internal helpers must not be runtime exports: `enterIrq` would let user code
  // fake a context, `addSafe` skips validation.
  it('does not export @internal helpers at runtime', () => {
    expect(['addSafe', 'enterIrq', 'exitIrq'].filter((n) => n in k)).toEqual([]);
  });

});

// --- every argument of every function, one bad value at a time ------------

describe('each parameter rejects each bad value of its kind', () => {
  for (const [name, [kinds]] of Object.entries(SIG)) {
    kinds.forEach((kind, idx) => {
      if (kind === 'any') return;
      it(`${name} arg ${idx} (${kind})`, () => {
        const before = coercions;
        for (const [label, make, cls, code] of BAD[kind]) {
          const args = kinds.map((kd, j) => (j === idx ? make() : valid(kd)));
          expectError(() => fns[name]!(...args), cls, code, `${name}(arg ${idx} = ${label})`);
        }
        expect(coercions - before).toBe(0);
      });
    });
  }

  it('missing arguments are TypeErrors, not undefined-as-zero', () => {
    for (const [name, [kinds]] of Object.entries(SIG)) {
      if (kinds.length === 0 || kinds.every((x) => x === 'any')) continue;
      expectError(() => fns[name]!(), T, ARG, `${name}()`);
    }
  });
});

describe('-0 where a number is allowed', () => {
  it('is zero for counts', () => {
    expect(k.ktime_set(-0, -0)).toBe(0n);
    expect(k.us_to_ktime(-0)).toBe(0n);
    expect(k.ktime_add_ns(5n, -0)).toBe(5n);
    expect(k.ktime_sub_ms(5n, -0)).toBe(5n);
  });
  it('is CLOCK_REALTIME / HRTIMER_MODE_ABS for clock ids and modes', () => {
    const t = new k.hrtimer();
    made.push(t);
    k.hrtimer_setup(t, noop, -0, -0);
    expect(t.clockid).toBe(k.CLOCK_REALTIME);
    k.hrtimer_start_range_ns(t, k.ktime_get_real() + 10n * k.NSEC_PER_SEC, -0, -0);
    const hard = k.hrtimer_get_expires(t);
    expect(k.hrtimer_get_softexpires(t)).toBe(hard);
    expect(k.hrtimer_cancel(t)).toBe(1);
    k.hrtimer_add_expires_ns(t, -0);
    expect([k.hrtimer_get_softexpires(t), k.hrtimer_get_expires(t)]).toEqual([hard, hard]);
  });
});

describe('timers', () => {
  it('a timer never set up: hrtimer_start → TypeError ERR_KTIMERS_NOT_SETUP', () => {
    const t = new k.hrtimer();
    expectError(() => k.hrtimer_start(t, 1000n, k.HRTIMER_MODE_REL), T, 'ERR_KTIMERS_NOT_SETUP', 'hrtimer_start');
    for (const name of NEEDS_SETUP) {
      const [kinds] = SIG[name]!;
      const args = kinds.map((kd, j) => (j === 0 ? t : valid(kd)));
      expectError(() => fns[name]!(...args), T, 'ERR_KTIMERS_NOT_SETUP', name);
    }
    expect(k.hrtimer_is_queued(t)).toBe(false);
  });

  it('a timer never set up reads as the kernel\'s zeroed struct elsewhere', () => {
    const t = new k.hrtimer();
    expect(k.hrtimer_get_expires(t)).toBe(0n);
    expect(k.hrtimer_get_softexpires(t)).toBe(0n);
    expect(k.hrtimer_try_to_cancel(t)).toBe(0);
    expect(k.hrtimer_cancel(t)).toBe(0);
    expect([k.hrtimer_active(t), k.hrtimer_is_queued(t), k.hrtimer_callback_running(t)]).toEqual([false, false, false]);
    // forward on expiry 0: first 0 + n*3 strictly after 10 is 12, n = 4.
    expect(k.hrtimer_forward(t, 10n, 3n)).toBe(4n);
    expect(k.hrtimer_get_expires(t)).toBe(12n);
  });

  it('a subclass instance is a timer', () => {
    class MyTimer extends k.hrtimer {
      hits = 0;
    }
    const t = new MyTimer();
    made.push(t);
    k.hrtimer_setup(t, noop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(t, 10n * k.NSEC_PER_SEC, k.HRTIMER_MODE_REL);
    expect(k.hrtimer_is_queued(t)).toBe(true);
    expect(k.hrtimer_cancel(t)).toBe(1);
  });

  it('start of a timer with no function → TypeError ERR_KTIMERS_NO_FUNCTION', () => {
    const t = new k.hrtimer();
    made.push(t);
    k.hrtimer_init(t, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    expectError(() => k.hrtimer_start(t, 1000n, k.HRTIMER_MODE_REL), T, 'ERR_KTIMERS_NO_FUNCTION', 'start after init');
    expectError(() => k.hrtimer_start_range_ns(t, 1000n, 5n, k.HRTIMER_MODE_REL), T, 'ERR_KTIMERS_NO_FUNCTION', 'range');
    expectError(() => k.hrtimer_restart(t), T, 'ERR_KTIMERS_NO_FUNCTION', 'restart');
    for (const bad of ['noop', 1, {}, null, hostile()]) {
      (t as { function: unknown }).function = bad;
      expectError(() => k.hrtimer_start(t, 1000n, k.HRTIMER_MODE_REL), T, 'ERR_KTIMERS_NO_FUNCTION', `function=${typeof bad}`);
    }
    expect(k.hrtimer_is_queued(t)).toBe(false);
    // The old API's way: assign, then start.
    t.function = noop;
    k.hrtimer_start(t, 10n * k.NSEC_PER_SEC, k.HRTIMER_MODE_REL);
    expect(k.hrtimer_is_queued(t)).toBe(true);
    expect(k.hrtimer_cancel(t)).toBe(1);
  });

  it('hrtimer_setup clock ids: only 0, 1, 7, 11', () => {
    for (const c of [2, 3, 4, 99, -1, 1.5]) {
      expectError(() => k.hrtimer_setup(new k.hrtimer(), noop, c, 0), R, 'ERR_KTIMERS_INVALID_CLOCK', `clock ${c}`);
    }
    for (const c of ['1', 1n, null, undefined, {}]) {
      expectError(() => k.hrtimer_setup(new k.hrtimer(), noop, c as number, 0), T, ARG, `clock ${String(c)}`);
    }
    const got = [0, 1, 7, 11].map((c) => {
      const t = new k.hrtimer();
      k.hrtimer_setup(t, noop, c, k.HRTIMER_MODE_ABS);
      return t.clockid;
    });
    expect(got).toEqual([0, 1, 7, 11]);
  });

  it('modes: 0x0c, 0x20, -1, 1.5 are invalid; every other value in 0..0x1f is accepted', () => {
    for (const m of [0x0c, 0x20, -1, 1.5]) {
      expectError(() => k.hrtimer_setup(new k.hrtimer(), noop, 1, m), R, 'ERR_KTIMERS_INVALID_MODE', `mode ${m}`);
    }
    const accepted: number[] = [];
    for (let m = 0; m <= 0x1f; m++) {
      if (thrown(() => k.hrtimer_setup(new k.hrtimer(), noop, 1, m)) === undefined) accepted.push(m);
    }
    expect(accepted).toEqual([...Array(0x20).keys()].filter((m) => (m & 0x0c) !== 0x0c));
  });

  it('a rejected call changes nothing (validation before any effect)', () => {
    const t = setupTimer();
    k.hrtimer_start_range_ns(t, 10n * k.NSEC_PER_SEC, 500n, k.HRTIMER_MODE_REL);
    const soft = k.hrtimer_get_softexpires(t);
    const hard = k.hrtimer_get_expires(t);
    const state = native.state();
    expectError(() => k.hrtimer_start(t, 1.5 as unknown as bigint, k.HRTIMER_MODE_ABS), T, ARG, 'start bad tim');
    expectError(() => k.hrtimer_start(t, 1n, 0x0c), R, 'ERR_KTIMERS_INVALID_MODE', 'start bad mode');
    expectError(() => k.hrtimer_start_range_ns(t, 1n, -1, 0), R, OOR, 'range -1');
    expectError(() => k.hrtimer_set_expires_range(t, 1n, 'x' as unknown as bigint), T, ARG, 'set_expires_range');
    expectError(() => k.hrtimer_setup(t, noop, 1, 0x20), R, 'ERR_KTIMERS_INVALID_MODE', 'setup on queued, bad mode');
    expectError(() => k.hrtimer_update_function(t, 'x' as never), T, ARG, 'update_function');
    expect([k.hrtimer_get_softexpires(t), k.hrtimer_get_expires(t), k.hrtimer_is_queued(t)]).toEqual([soft, hard, true]);
    expect(t.function).toBe(noop);
    expect(native.state().slotsInUse).toBe(state.slotsInUse);
    expect(k.hrtimer_cancel(t)).toBe(1);

    const idle = new k.hrtimer();
    k.hrtimer_setup(idle, noop, k.CLOCK_BOOTTIME, k.HRTIMER_MODE_ABS);
    expectError(() => k.hrtimer_setup(idle, () => 1, 2, 0), R, 'ERR_KTIMERS_INVALID_CLOCK', 'setup bad clock');
    expectError(() => k.hrtimer_init(idle, 1, 0x0f), R, 'ERR_KTIMERS_INVALID_MODE', 'init bad mode');
    expect(idle.clockid).toBe(k.CLOCK_BOOTTIME);
    expect(idle.function).toBe(noop);
  });

  // The brand check is a #private field, not `instanceof`: with `instanceof`, an
  // object made with Object.create(hrtimer.prototype) got through with none of
  // the fields (hrtimer_get_expires returned undefined), and a forged `_slot`
  // could cancel another timer's native slot.
  it('an object with hrtimer.prototype but no timer state is rejected', () => {
    const forged = Object.create(k.hrtimer.prototype) as k.hrtimer;
    expectError(() => k.hrtimer_get_expires(forged), T, ARG, 'get_expires(forged)');
  });

  // `instanceof` would run a Proxy's getPrototypeOf trap, so a hostile Proxy's
  // own error would escape with no code; `#brand in obj` runs no traps.
  it('a Proxy whose getPrototypeOf throws is rejected with a code', () => {
    const p = new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } });
    expectError(() => k.hrtimer_cancel(p as k.hrtimer), T, ARG, 'cancel(proxy)');
  });
});

// --- fuzz ------------------------------------------------------------------

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzz: every export with random hostile argument tuples', () => {
  const SEED = Number(process.env.KTIMERS_FUZZ_SEED ?? 0x6b7469);
  const TUPLES = 2000;

  it(`${TUPLES} tuples per function, seed ${SEED}`, () => {
    const rnd = mulberry32(SEED);
    const pick = <V,>(a: readonly V[]): V => a[Math.floor(rnd() * a.length)]!;
    const timers: k.hrtimer[] = [];
    const fresh = () => {
      const t = new k.hrtimer();
      timers.push(t);
      return t;
    };
    const soft = fresh();
    k.hrtimer_setup(soft, noop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL_SOFT);
    const real = fresh();
    k.hrtimer_setup(real, noop, k.CLOCK_REALTIME, k.HRTIMER_MODE_ABS);
    const tai = fresh();
    k.hrtimer_setup(tai, noop, k.CLOCK_TAI, k.HRTIMER_MODE_ABS_HARD);
    const initOnly = fresh();
    k.hrtimer_init(initOnly, k.CLOCK_BOOTTIME, k.HRTIMER_MODE_REL);
    const unset = fresh();

    const pool: [string, unknown][] = [
      ['0n', 0n], ['1n', 1n], ['-1n', -1n], ['KTIME_MAX', MAX], ['KTIME_MIN', MIN], ['2^63', 1n << 63n], ['MIN-1', MIN - 1n],
      ['2^64-1', U64_MAX], ['2^64', 1n << 64n], ['1e9n', 1_000_000_000n], ['-1e6n', -1_000_000n],
      ['0', 0], ['-0', -0], ['1', 1], ['-1', -1], ['7', 7], ['11', 11], ['5', 5], ['0x0c', 0x0c], ['0x10', 0x10], ['0x20', 0x20],
      ['1.5', 1.5], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['2^53', 2 ** 53], ['1e300', 1e300],
      ['""', ''], ['"1"', '1'], ['undefined', undefined], ['null', null], ['true', true], ['{}', {}], ['[]', []],
      ['symbol', Symbol('fuzz')], ['boxed 1n', Object(1n)], ['hostile', hostile()], ['hostile proxy', hostileProxy()],
      ['noop', noop], ['restart', () => k.HRTIMER_RESTART], ['thrower', () => { throw new Error('cb'); }],
      ['hrtimer class', k.hrtimer], ['duck timer', { function: noop, _base: 0, _slot: 0, _queued: true }],
      ['soft timer', soft], ['realtime timer', real], ['tai timer', tai], ['init-only timer', initOnly], ['unset timer', unset],
    ];

    const warnings: unknown[][] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation((...a: unknown[]) => {
      warnings.push(a);
    });
    const slotsBefore = native.state().slotsInUse;
    const refBefore = native.state().refCount;
    const failures: string[] = [];
    const before = coercions;
    let calls = 0;
    let throws = 0;
    try {
      for (const [name, [kinds, ret]] of Object.entries(SIG)) {
        const f = fns[name]!;
        for (let i = 0; i < TUPLES && failures.length < 20; i++) {
          const n = Math.max(0, kinds.length + Math.floor(rnd() * 3) - 1);
          const drawn = Array.from({ length: n }, () => pick(pool));
          const args = drawn.map(([, v]) => v);
          const label = `${name}(${drawn.map(([l]) => l).join(', ')})`;
          calls++;
          let result: unknown;
          try {
            result = f(...args);
          } catch (e: any) {
            throws++;
            const okClass = e instanceof TypeError || e instanceof RangeError || e instanceof k.KtimersError;
            if (!okClass || typeof e.code !== 'string' || e.code === '') {
              failures.push(`${label} threw ${e?.constructor?.name} code=${String(e?.code)}: ${e?.message}`);
            }
            continue;
          }
          // It returned: then every declared argument must have been acceptable, and the result well-typed.
          const badArg = kinds.findIndex((kd, j) => !accepts(kd, args[j]));
          if (badArg >= 0) failures.push(`${label} accepted arg ${badArg} (${kinds[badArg]}) and returned ${String(result)}`);
          else if (!returnOk(ret, result)) failures.push(`${label} returned ${String(result)} (expected ${ret})`);
        }
      }
    } finally {
      cancelAll(timers);
      spy.mockRestore();
    }
    if (failures.length) throw new Error(`fuzz failures (KTIMERS_FUZZ_SEED=${SEED}):\n${failures.join('\n')}`);
    expect(coercions - before).toBe(0);
    expect(calls).toBeGreaterThan(100_000);
    expect(throws).toBeGreaterThan(calls / 2);
    expect(calls - throws).toBeGreaterThan(1000); // the pool does reach the success paths too
    // Every warning is a KtimersWarning with a KTIMERS_WARN_* code.
    for (const [, opts] of warnings) {
      expect(opts).toMatchObject({ type: 'KtimersWarning', code: expect.stringMatching(/^KTIMERS_WARN_/) });
    }
    // Nothing armed is left behind in the native heap, and the loop ref count is back.
    expect(timers.filter((t) => k.hrtimer_active(t))).toEqual([]);
    expect(native.state().slotsInUse).toBe(slotsBefore);
    expect(native.state().refCount).toBe(refBefore);
  });
});

// --- the native binding itself ----------------------------------------------

describe('native binding validates its own arguments', () => {
  let armedT: k.hrtimer;
  let slot: number;
  beforeAll(() => {
    // Arming through the public API initialises the engine (native.init) lazily.
    armedT = new k.hrtimer();
    k.hrtimer_setup(armedT, noop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(armedT, 60n * k.NSEC_PER_SEC, k.HRTIMER_MODE_REL);
    slot = (armedT as unknown as { _slot: number })._slot;
  });
  afterAll(() => {
    if (k.hrtimer_active(armedT)) k.hrtimer_cancel(armedT);
  });

  const BAD_SLOTS: [unknown, typeof TypeError | typeof RangeError, string][] = [
    [-5, R, OOR], [-1, R, OOR], [2 ** 31, R, OOR], [1.5, R, OOR], [NaN, R, OOR], [Infinity, R, OOR],
    [1e9, R, 'ERR_KTIMERS_BAD_SLOT'], [12345, R, 'ERR_KTIMERS_BAD_SLOT'],
    ['0', T, ARG], [0n, T, ARG], [undefined, T, ARG], [null, T, ARG], [{}, T, ARG],
  ];

  it('the engine is initialised and the armed timer owns a native slot', () => {
    expect(native.state().initialized).toBe(true);
    expect(typeof slot).toBe('number');
    expect(slot).toBeGreaterThanOrEqual(0);
  });

  it('init again → TypeError ERR_KTIMERS_ALREADY_INITIALIZED (whatever the argument)', () => {
    for (const a of [() => {}, 'x', undefined]) {
      expectError(() => (native.init as (x: unknown) => unknown)(a), T, 'ERR_KTIMERS_ALREADY_INITIALIZED', `init(${typeof a})`);
    }
    expect(k.hrtimer_is_queued(armedT)).toBe(true);
  });

  it('cancel / setRef: bad and unarmed slots', () => {
    const before = native.state();
    for (const [s, cls, code] of BAD_SLOTS) {
      expectError(() => (native.cancel as (x: unknown) => void)(s), cls, code, `cancel(${String(s)})`);
      expectError(() => (native.setRef as (x: unknown, r: unknown) => void)(s, true), cls, code, `setRef(${String(s)})`);
    }
    for (const r of [1, 'true', undefined, null]) {
      expectError(() => (native.setRef as (x: unknown, r: unknown) => void)(slot, r), T, ARG, `setRef(slot, ${String(r)})`);
    }
    const after = native.state();
    expect([after.slotsInUse, after.refCount]).toEqual([before.slotsInUse, before.refCount]);
    expect(k.hrtimer_is_queued(armedT)).toBe(true);
  });

  it('start: every argument checked, nothing armed or disturbed on rejection', () => {
    const before = native.state();
    const ok = [-1, 0, 1n, 2n, false, 1, true] as const;
    const bad: [number, unknown, typeof TypeError | typeof RangeError, string][] = [
      ...BAD_SLOTS.map(([s, c, code]) => [0, s, c, code] as [number, unknown, typeof TypeError, string]).filter(([, s]) => s !== -1),
      [1, 8, R, OOR], [1, -1, R, OOR], [1, 1.5, R, OOR], [1, NaN, R, OOR], [1, '0', T, ARG], [1, undefined, T, ARG],
      [2, 1, T, ARG], [2, '1', T, ARG], [2, undefined, T, ARG], [2, 1n << 63n, R, OOR], [2, MIN - 1n, R, OOR],
      [3, 2, T, ARG], [3, null, T, ARG], [3, 1n << 64n, R, OOR],
      [4, 1, T, ARG], [4, 'true', T, ARG], [4, undefined, T, ARG],
      [5, -1, R, OOR], [5, 2 ** 53 + 2, R, OOR], [5, 1.5, R, OOR], [5, '1', T, ARG], [5, 1n, T, ARG],
      [6, 1, T, ARG], [6, undefined, T, ARG],
    ];
    for (const [i, v, cls, code] of bad) {
      const args: unknown[] = [...ok];
      args[i] = v;
      expectError(() => (native.start as (...a: unknown[]) => unknown)(...args), cls, code, `start arg ${i} = ${String(v)}`);
    }
    // Re-arming the public timer's slot with a bad later argument must not remove it.
    expectError(() => (native.start as (...a: unknown[]) => unknown)(slot, 0, 'x', 1n, false, 1, true), T, ARG, 'start(slot, bad)');
    const after = native.state();
    expect([after.slotsInUse, after.refCount, after.queued]).toEqual([before.slotsInUse, before.refCount, before.queued]);
    expect(k.hrtimer_cancel(armedT)).toBe(1); // its native slot was still there to cancel
    expect(native.state().slotsInUse).toBe(before.slotsInUse! - 1);
    k.hrtimer_start(armedT, 60n * k.NSEC_PER_SEC, k.HRTIMER_MODE_REL);
    slot = (armedT as unknown as { _slot: number })._slot;
  });

  it('collect: bases 0..7 only', () => {
    for (const [b, cls, code] of [
      [8, R, OOR], [-1, R, OOR], [1.5, R, OOR], [NaN, R, OOR], [2 ** 31, R, OOR], ['0', T, ARG], [0n, T, ARG], [undefined, T, ARG],
    ] as const) {
      expectError(() => (native.collect as (x: unknown) => number)(b), cls, code, `collect(${String(b)})`);
    }
    expect(k.hrtimer_is_queued(armedT)).toBe(true);
  });

  it('now / clockRes: clock indices only', () => {
    for (const [c, cls, code] of [
      [-1, R, OOR], [5, R, OOR], [1.5, R, OOR], [NaN, R, OOR], [Infinity, R, OOR], ['0', T, ARG], [0n, T, ARG], [undefined, T, ARG], [null, T, ARG],
    ] as const) {
      expectError(() => (native.now as (x: unknown) => bigint)(c), cls, code, `now(${String(c)})`);
      expectError(() => (native.clockRes as (x: unknown) => bigint)(c), cls, code, `clockRes(${String(c)})`);
    }
    expect(typeof native.now(0)).toBe('bigint');
    expect(native.clockRes(0)).toBeGreaterThan(0n);
  });

  it('in a fresh environment (worker) every engine call before init is ERR_KTIMERS_NOT_INITIALIZED', async () => {
    const url = new URL('../dist/binding.js', import.meta.url).href;
    const src = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(url)}).then(({ native }) => {
        const codes = [];
        const tryit = (f) => { try { f(); codes.push('no throw'); } catch (e) { codes.push(e.constructor.name + ' ' + e.code); } };
        tryit(() => native.cancel(0));
        tryit(() => native.setRef(0, true));
        tryit(() => native.collect(0));
        tryit(() => native.start(-1, 0, 1n, 1n, false, 1, true));
        parentPort.postMessage({ codes, initialized: native.state().initialized, now: typeof native.now(0) });
      });`;
    const w = new Worker(src, { eval: true });
    const msg = await new Promise<any>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(msg).toEqual({
      codes: Array(4).fill('TypeError ERR_KTIMERS_NOT_INITIALIZED'),
      initialized: false,
      now: 'bigint',
    });
  });
});
