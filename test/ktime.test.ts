// ktime: exact kernel arithmetic (include/linux/ktime.h, include/vdso/ktime.h).
//
// ktime_t is an s64 and the kernel is built with -fno-strict-overflow, so every
// sum/product wraps modulo 2^64; u64 parameters (ns/us/ms counts) are reduced
// modulo 2^64 before being reinterpreted as s64. The references below are
// written with BigInt.asIntN / asUintN, independently of lib/ktime.ts.
// Clock reads are checked against other views of the same OS clocks with
// loose bounds (they are different reads, microseconds apart).
import { afterEach, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';

const S64 = (v: bigint) => BigInt.asIntN(64, v);
const U64 = (v: bigint) => BigInt.asUintN(64, v);
const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;
const MS = 1_000_000n;

/** Captures process warnings emitted by ktimers (delivered on a later tick). */
function captureWarnings() {
  const seen: Error[] = [];
  const on = (w: Error) => {
    if (w.name === 'KtimersWarning') seen.push(w);
  };
  process.on('warning', on);
  return {
    seen,
    async settle() {
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    },
    stop() {
      process.off('warning', on);
    },
  };
}

let warnCapture: ReturnType<typeof captureWarnings> | null = null;
afterEach(() => {
  warnCapture?.stop();
  warnCapture = null;
});

describe('constants', () => {
  it('KTIME_MAX / KTIME_MIN / KTIME_SEC_MAX', () => {
    expect(k.KTIME_MAX).toBe(2n ** 63n - 1n);
    expect(k.KTIME_MIN).toBe(-(2n ** 63n));
    expect(k.KTIME_SEC_MAX).toBe(9_223_372_036n);
    expect(k.KTIME_SEC_MAX).toBe(k.KTIME_MAX / k.NSEC_PER_SEC);
  });

  it('unit constants are bigints with the kernel values', () => {
    const want: Record<string, bigint> = {
      MSEC_PER_SEC: 1000n,
      USEC_PER_MSEC: 1000n,
      NSEC_PER_USEC: 1000n,
      NSEC_PER_MSEC: 1_000_000n,
      USEC_PER_SEC: 1_000_000n,
      NSEC_PER_SEC: 1_000_000_000n,
      PSEC_PER_SEC: 1_000_000_000_000n,
      FSEC_PER_SEC: 1_000_000_000_000_000n,
      PSEC_PER_NSEC: 1000n,
    };
    const got = Object.fromEntries(Object.keys(want).map((n) => [n, (k as Record<string, unknown>)[n]]));
    expect(got).toEqual(want);
  });

  it('CLOCK_* ids are the Linux uapi numbers', () => {
    expect({
      CLOCK_REALTIME: k.CLOCK_REALTIME,
      CLOCK_MONOTONIC: k.CLOCK_MONOTONIC,
      CLOCK_PROCESS_CPUTIME_ID: k.CLOCK_PROCESS_CPUTIME_ID,
      CLOCK_THREAD_CPUTIME_ID: k.CLOCK_THREAD_CPUTIME_ID,
      CLOCK_MONOTONIC_RAW: k.CLOCK_MONOTONIC_RAW,
      CLOCK_REALTIME_COARSE: k.CLOCK_REALTIME_COARSE,
      CLOCK_MONOTONIC_COARSE: k.CLOCK_MONOTONIC_COARSE,
      CLOCK_BOOTTIME: k.CLOCK_BOOTTIME,
      CLOCK_REALTIME_ALARM: k.CLOCK_REALTIME_ALARM,
      CLOCK_BOOTTIME_ALARM: k.CLOCK_BOOTTIME_ALARM,
      CLOCK_TAI: k.CLOCK_TAI,
    }).toEqual({
      CLOCK_REALTIME: 0,
      CLOCK_MONOTONIC: 1,
      CLOCK_PROCESS_CPUTIME_ID: 2,
      CLOCK_THREAD_CPUTIME_ID: 3,
      CLOCK_MONOTONIC_RAW: 4,
      CLOCK_REALTIME_COARSE: 5,
      CLOCK_MONOTONIC_COARSE: 6,
      CLOCK_BOOTTIME: 7,
      CLOCK_REALTIME_ALARM: 8,
      CLOCK_BOOTTIME_ALARM: 9,
      CLOCK_TAI: 11,
    });
  });
});

describe('ktime_set', () => {
  it('secs * NSEC_PER_SEC + nsecs, with bigint or number arguments', () => {
    expect(k.ktime_set(1n, 500n)).toBe(1_000_000_500n);
    expect(k.ktime_set(1, 500)).toBe(1_000_000_500n);
    expect(k.ktime_set(0, 0)).toBe(0n);
    expect(k.ktime_set(-0, -0)).toBe(0n);
  });

  it('does not normalise nsecs', () => {
    expect(k.ktime_set(0, 2_000_000_000)).toBe(2_000_000_000n);
    expect(k.ktime_set(3n, 5_000_000_001n)).toBe(8_000_000_001n);
    // nsecs is an unsigned long: 2^64 - 1 is -1 once the sum is back in s64.
    expect(k.ktime_set(1n, U64_MAX)).toBe(999_999_999n);
  });

  it('clamps to KTIME_MAX when secs >= KTIME_SEC_MAX (ignoring nsecs)', () => {
    expect(k.ktime_set(k.KTIME_SEC_MAX, 0)).toBe(k.KTIME_MAX);
    expect(k.ktime_set(k.KTIME_SEC_MAX, 999_999_999n)).toBe(k.KTIME_MAX);
    expect(k.ktime_set(k.KTIME_SEC_MAX + 1n, 0)).toBe(k.KTIME_MAX);
    expect(k.ktime_set(MAX, U64_MAX)).toBe(k.KTIME_MAX);
    // One below the clamp is plain arithmetic, and its nsecs may still overflow s64.
    expect(k.ktime_set(k.KTIME_SEC_MAX - 1n, 0)).toBe(9_223_372_035_000_000_000n);
    expect(k.ktime_set(k.KTIME_SEC_MAX - 1n, 999_999_999n)).toBe(9_223_372_035_999_999_999n);
    expect(k.ktime_set(k.KTIME_SEC_MAX - 1n, 2_000_000_000n)).toBe(S64(9_223_372_037_000_000_000n));
    expect(k.ktime_set(k.KTIME_SEC_MAX - 1n, 2_000_000_000n)).toBeLessThan(0n);
  });

  it('negative secs: no clamp, wrapping s64 arithmetic', () => {
    expect(k.ktime_set(-1, 5)).toBe(-999_999_995n);
    expect(k.ktime_set(-5n, 0n)).toBe(-5_000_000_000n);
    expect(k.ktime_set(-(k.KTIME_SEC_MAX), 0)).toBe(-9_223_372_036_000_000_000n);
    // -9,223,372,037 s is below KTIME_MIN: wraps.
    expect(k.ktime_set(-(k.KTIME_SEC_MAX + 1n), 0)).toBe(S64(-9_223_372_037_000_000_000n));
    expect(k.ktime_set(-(k.KTIME_SEC_MAX + 1n), 0)).toBeGreaterThan(0n);
    // 10^9 is even, so KTIME_MIN * 10^9 ≡ 0 (mod 2^64).
    expect(k.ktime_set(MIN, 0)).toBe(0n);
  });
});

describe('ns/us/ms_to_ktime (u64 arguments)', () => {
  it('ns_to_ktime reinterprets the u64', () => {
    expect(k.ns_to_ktime(0)).toBe(0n);
    expect(k.ns_to_ktime(5)).toBe(5n);
    expect(k.ns_to_ktime(MAX)).toBe(MAX);
    expect(k.ns_to_ktime(2n ** 63n)).toBe(MIN);
    expect(k.ns_to_ktime(U64_MAX)).toBe(-1n);
  });

  it('us_to_ktime / ms_to_ktime multiply in u64', () => {
    expect(k.us_to_ktime(1)).toBe(1000n);
    expect(k.us_to_ktime(7n)).toBe(7000n);
    expect(k.ms_to_ktime(1)).toBe(1_000_000n);
    expect(k.ms_to_ktime(3n)).toBe(3_000_000n);
    expect(k.us_to_ktime(U64_MAX)).toBe(-1000n);
    expect(k.ms_to_ktime(U64_MAX)).toBe(-1_000_000n);
    // Largest count that still fits, and the first that overflows into negative.
    expect(k.us_to_ktime(MAX / 1000n)).toBe((MAX / 1000n) * 1000n);
    expect(k.us_to_ktime(MAX / 1000n + 1n)).toBe(S64((MAX / 1000n + 1n) * 1000n));
    expect(k.us_to_ktime(MAX / 1000n + 1n)).toBeLessThan(0n);
    expect(k.ms_to_ktime(2n ** 64n / 1_000_000n + 1n)).toBe(S64(U64((2n ** 64n / 1_000_000n + 1n) * 1_000_000n)));
  });
});

describe('ktime_add / ktime_sub wrap at the s64 bounds', () => {
  it('plain sums', () => {
    expect(k.ktime_add(2n, 3n)).toBe(5n);
    expect(k.ktime_sub(2n, 3n)).toBe(-1n);
    expect(k.ktime_add(-7n, 3n)).toBe(-4n);
  });
  it('wraps', () => {
    expect(k.ktime_add(MAX, 1n)).toBe(MIN);
    expect(k.ktime_add(MAX, MAX)).toBe(-2n);
    expect(k.ktime_add(MIN, MIN)).toBe(0n);
    expect(k.ktime_add(MIN, -1n)).toBe(MAX);
    expect(k.ktime_sub(MIN, 1n)).toBe(MAX);
    expect(k.ktime_sub(MAX, -1n)).toBe(MIN);
    expect(k.ktime_sub(0n, MIN)).toBe(MIN);
    expect(k.ktime_sub(-1n, MAX)).toBe(MIN);
  });
});

describe('ktime_add_ns / sub_ns / add_us / add_ms / sub_us / sub_ms', () => {
  it('exact values', () => {
    expect(k.ktime_add_ns(10n, 5)).toBe(15n);
    expect(k.ktime_add_ns(10n, 5n)).toBe(15n);
    expect(k.ktime_sub_ns(10n, 15)).toBe(-5n);
    expect(k.ktime_add_us(1n, 2)).toBe(2001n);
    expect(k.ktime_add_ms(1n, 2)).toBe(2_000_001n);
    expect(k.ktime_sub_us(1n, 2n)).toBe(-1999n);
    expect(k.ktime_sub_ms(1n, 2n)).toBe(-1_999_999n);
    expect(k.ktime_add_us(-5000n, 5)).toBe(0n);
    expect(k.ktime_sub_ms(5_000_000n, 5)).toBe(0n);
  });
  it('u64 operands and wrapping', () => {
    expect(k.ktime_add_ns(MAX, 1)).toBe(MIN);
    expect(k.ktime_sub_ns(MIN, 1)).toBe(MAX);
    expect(k.ktime_add_ns(0n, U64_MAX)).toBe(-1n);
    expect(k.ktime_sub_ns(0n, U64_MAX)).toBe(1n);
    expect(k.ktime_add_ns(5n, 2n ** 63n)).toBe(S64(5n + 2n ** 63n));
    expect(k.ktime_add_us(0n, U64_MAX)).toBe(-1000n);
    expect(k.ktime_sub_us(0n, U64_MAX)).toBe(1000n);
    expect(k.ktime_add_ms(0n, U64_MAX)).toBe(-1_000_000n);
    expect(k.ktime_sub_ms(0n, U64_MAX)).toBe(1_000_000n);
    expect(k.ktime_add_ms(MAX, 1)).toBe(S64(MAX + 1_000_000n));
    expect(k.ktime_sub_us(MIN, 1)).toBe(S64(MIN - 1000n));
  });
});

describe('ktime_add_safe', () => {
  it('adds non-negative operands and saturates at KTIME_MAX', () => {
    expect(k.ktime_add_safe(0n, 0n)).toBe(0n);
    expect(k.ktime_add_safe(1n, 2n)).toBe(3n);
    expect(k.ktime_add_safe(MAX - 1n, 1n)).toBe(MAX);
    expect(k.ktime_add_safe(MAX, 1n)).toBe(MAX);
    expect(k.ktime_add_safe(MAX, MAX)).toBe(MAX);
    expect(k.ktime_add_safe(1n << 62n, 1n << 62n)).toBe(MAX);
  });
  it('keeps the kernel quirk with negative operands', () => {
    expect(k.ktime_add_safe(5n, -3n)).toBe(k.KTIME_MAX);
    expect(k.ktime_add_safe(-3n, 5n)).toBe(k.KTIME_MAX);
    expect(k.ktime_add_safe(-1n, 0n)).toBe(k.KTIME_MAX);
    expect(k.ktime_add_safe(0n, -1n)).toBe(k.KTIME_MAX);
    expect(k.ktime_add_safe(-1n, -1n)).toBe(k.KTIME_MAX);
    // Two negatives that wrap to a non-negative sum are larger than both: returned as is.
    expect(k.ktime_add_safe(MIN, MIN)).toBe(0n);
    expect(k.ktime_add_safe(MIN, -1n)).toBe(MAX);
    expect(k.ktime_add_safe(MIN + 1n, MIN + 5n)).toBe(6n);
  });
});

describe('ktime_divns', () => {
  it('truncates toward zero', () => {
    expect(k.ktime_divns(1500n, 1000)).toBe(1n);
    expect(k.ktime_divns(-1500n, 1000)).toBe(-1n);
    expect(k.ktime_divns(-1n, 2)).toBe(0n);
    expect(k.ktime_divns(-7n, 2n)).toBe(-3n);
    expect(k.ktime_divns(7n, 7n)).toBe(1n);
    expect(k.ktime_divns(MAX, 1)).toBe(MAX);
    expect(k.ktime_divns(MIN, 1n)).toBe(MIN);
    expect(k.ktime_divns(MIN, 1_000_000_000)).toBe(-9_223_372_036n);
    expect(k.ktime_divns(123n, MAX)).toBe(0n);
  });

  it('zero divisor is a RangeError with code ERR_OUT_OF_RANGE', () => {
    for (const d of [0, 0n, -0]) {
      let err: unknown;
      try {
        k.ktime_divns(10n, d);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RangeError);
      expect((err as { code?: unknown }).code).toBe('ERR_OUT_OF_RANGE');
    }
  });

  it('negative divisor WARNs (KtimersWarning, KTIMERS_WARN_NEGATIVE_DIVISOR) and still divides', async () => {
    warnCapture = captureWarnings();
    expect(k.ktime_divns(7n, -2)).toBe(-3n);
    expect(k.ktime_divns(-7n, -2n)).toBe(3n);
    expect(k.ktime_divns(-1500n, -1000)).toBe(1n);
    // C would trap here; ktimers wraps like the other arithmetic.
    expect(k.ktime_divns(MIN, -1)).toBe(MIN);
    await warnCapture.settle();
    const ours = warnCapture.seen.filter((w) => (w as { code?: string }).code === 'KTIMERS_WARN_NEGATIVE_DIVISOR');
    // The kernel's WARN_ON(div < 0) fires on every call, not once.
    expect(ours).toHaveLength(4);
    expect(ours[0]!.name).toBe('KtimersWarning');
  });

  it('a positive divisor does not warn', async () => {
    warnCapture = captureWarnings();
    k.ktime_divns(-7n, 2);
    k.ktime_divns(7n, 1n);
    await warnCapture.settle();
    expect(warnCapture.seen).toHaveLength(0);
  });
});

describe('ktime_to_ns / to_us / to_ms and deltas', () => {
  it('to_ns is the identity', () => {
    for (const v of [0n, 1n, -1n, MAX, MIN]) expect(k.ktime_to_ns(v)).toBe(v);
  });
  it('to_us / to_ms truncate toward zero', () => {
    expect(k.ktime_to_us(1999n)).toBe(1n);
    expect(k.ktime_to_us(-1999n)).toBe(-1n);
    expect(k.ktime_to_us(-999n)).toBe(0n);
    expect(k.ktime_to_ms(1_999_999n)).toBe(1n);
    expect(k.ktime_to_ms(-1_999_999n)).toBe(-1n);
    expect(k.ktime_to_ms(-999_999n)).toBe(0n);
    expect(k.ktime_to_us(MIN)).toBe(-9_223_372_036_854_775n);
    expect(k.ktime_to_ms(MAX)).toBe(9_223_372_036_854n);
  });
  it('us_delta / ms_delta = to_us/to_ms(ktime_sub(later, earlier)), wrapping sub', () => {
    expect(k.ktime_us_delta(5000n, 1000n)).toBe(4n);
    expect(k.ktime_us_delta(1000n, 5000n)).toBe(-4n);
    expect(k.ktime_us_delta(1000n, 2999n)).toBe(-1n);
    expect(k.ktime_ms_delta(3_500_000n, 1_000_000n)).toBe(2n);
    expect(k.ktime_ms_delta(1_000_000n, 3_500_000n)).toBe(-2n);
    expect(k.ktime_us_delta(MIN, 1n)).toBe(MAX / 1000n);
    expect(k.ktime_ms_delta(MAX, -1n)).toBe(MIN / 1_000_000n);
  });
});

describe('ktime_compare / after / before (worked example)', () => {
  it('case 72', () => {
    expect(k.ktime_compare(1n, 2n)).toBe(-1);
    expect(k.ktime_compare(2n, 2n)).toBe(0);
    expect(k.ktime_compare(3n, 2n)).toBe(1);
    expect(k.ktime_after(3n, 2n)).toBe(true);
    expect(k.ktime_before(2n, 2n)).toBe(false);
  });
  it('exactly -1 / 0 / 1 at the extremes, no wrap', () => {
    expect(k.ktime_compare(MIN, MAX)).toBe(-1);
    expect(k.ktime_compare(MAX, MIN)).toBe(1);
    expect(k.ktime_compare(MAX, MAX)).toBe(0);
    expect(k.ktime_after(MAX, MIN)).toBe(true);
    expect(k.ktime_after(MIN, MAX)).toBe(false);
    expect(k.ktime_after(2n, 2n)).toBe(false);
    expect(k.ktime_before(MIN, MAX)).toBe(true);
    expect(k.ktime_before(-1n, 0n)).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Property tests against BigInt references, seeded PRNG (no dependencies).

/** splitmix64 over BigInt: deterministic 64-bit values. */
function prng(seed: bigint) {
  let s = U64(seed);
  const next64 = (): bigint => {
    s = U64(s + 0x9e3779b97f4a7c15n);
    let z = s;
    z = U64((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = U64((z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  };
  const int = (n: number) => Number(next64() % BigInt(n));
  const EDGES_S64 = [0n, 1n, -1n, 2n, MAX, MIN, MAX - 1n, MIN + 1n, 999n, 1000n, 1001n, -999n, -1000n, -1001n,
    1_000_000n, -1_000_000n, 1_000_000_000n, -1_000_000_000n, 1n << 32n, -(1n << 32n), 1n << 53n, -(1n << 53n),
    MAX / 1000n, MAX / 1_000_000n, MAX / 1000n + 1n, MIN / 1000n - 1n, 1n << 62n, -(1n << 62n)];
  const s64 = (): bigint => {
    switch (int(5)) {
      case 0:
        return EDGES_S64[int(EDGES_S64.length)]!;
      case 1: // near an edge
        return S64(EDGES_S64[int(EDGES_S64.length)]! + BigInt(int(2001) - 1000));
      case 2: // small magnitude
        return BigInt(int(2_000_001) - 1_000_000);
      case 3: // ~ realistic times (up to a few days in ns, either sign)
        return S64(next64() % (1n << 49n)) * (int(2) ? 1n : -1n);
      default:
        return S64(next64());
    }
  };
  const u64 = (): bigint => U64(s64());
  return { next64, int, s64, u64 };
}

const SEED = BigInt(process.env.KTIMERS_SEED ?? 0x6b74696d65n);
const N = 3000;

/** Runs a property N times; on failure the message names the seed, iteration and inputs. */
function property(name: string, seedOffset: bigint, body: (r: ReturnType<typeof prng>, note: (s: string) => void) => void) {
  it(name, () => {
    const r = prng(SEED + seedOffset);
    let ctx = '';
    const note = (s: string) => {
      ctx = s;
    };
    for (let i = 0; i < N; i++) {
      try {
        body(r, note);
      } catch (e) {
        throw new Error(`property "${name}" failed at iteration ${i} (KTIMERS_SEED=${SEED}): ${ctx}\n${(e as Error).message}`);
      }
    }
  });
}

const eq = (got: unknown, want: unknown) => {
  if (got !== want) throw new Error(`got ${String(got)}, want ${String(want)}`);
};

describe('properties vs. BigInt references', () => {
  property('ktime_add / ktime_sub', 1n, (r, note) => {
    const a = r.s64();
    const b = r.s64();
    note(`a=${a} b=${b}`);
    eq(k.ktime_add(a, b), S64(a + b));
    eq(k.ktime_sub(a, b), S64(a - b));
  });

  property('ktime_add_ns / sub_ns / add_us / sub_us / add_ms / sub_ms', 2n, (r, note) => {
    const kt = r.s64();
    const n = r.u64();
    note(`kt=${kt} n=${n}`);
    eq(k.ktime_add_ns(kt, n), S64(kt + n));
    eq(k.ktime_sub_ns(kt, n), S64(kt - n));
    eq(k.ktime_add_us(kt, n), S64(kt + U64(n * 1000n)));
    eq(k.ktime_sub_us(kt, n), S64(kt - U64(n * 1000n)));
    eq(k.ktime_add_ms(kt, n), S64(kt + U64(n * 1_000_000n)));
    eq(k.ktime_sub_ms(kt, n), S64(kt - U64(n * 1_000_000n)));
  });

  property('ns / us / ms_to_ktime', 3n, (r, note) => {
    const n = r.u64();
    note(`n=${n}`);
    eq(k.ns_to_ktime(n), S64(n));
    eq(k.us_to_ktime(n), S64(n * 1000n));
    eq(k.ms_to_ktime(n), S64(n * 1_000_000n));
    if (n <= BigInt(Number.MAX_SAFE_INTEGER)) eq(k.us_to_ktime(Number(n)), S64(n * 1000n));
  });

  property('ktime_set', 4n, (r, note) => {
    // secs: full s64 range, and around ±KTIME_SEC_MAX where the clamp and the wrap happen.
    const secs = r.int(2) ? r.s64() : k.KTIME_SEC_MAX * (r.int(2) ? 1n : -1n) + BigInt(r.int(7) - 3);
    const nsecs = r.int(2) ? BigInt(r.int(2_000_000_000)) : r.u64();
    note(`secs=${secs} nsecs=${nsecs}`);
    eq(k.ktime_set(secs, nsecs), secs >= 9_223_372_036n ? MAX : S64(secs * 1_000_000_000n + nsecs));
  });

  property('ktime_add_safe = kernel formula, and its closed form', 5n, (r, note) => {
    const a = r.s64();
    const b = r.s64();
    note(`a=${a} b=${b}`);
    const res = S64(a + b);
    const kernel = res < 0n || res < a || res < b ? MAX : res;
    // Closed form of the same rule, derived by cases rather than copied:
    // both >= 0 → saturating add; both < 0 → the wrapped sum only if it wrapped
    // to >= 0, else KTIME_MAX; mixed signs → always KTIME_MAX.
    let closed: bigint;
    if (a >= 0n && b >= 0n) closed = a + b > MAX ? MAX : a + b;
    else if (a < 0n && b < 0n) closed = a + b < MIN ? a + b + (1n << 64n) : MAX;
    else closed = MAX;
    eq(kernel, closed);
    eq(k.ktime_add_safe(a, b), kernel);
  });

  property('ktime_divns / to_us / to_ms truncate toward zero (positive divisors)', 6n, (r, note) => {
    const kt = r.s64();
    const jitter = r.int(4) === 0 ? r.u64() % 1000n : 0n;
    const base = [1n, 2n, 3n, 7n, 1000n, 1_000_000n, 1_000_000_000n, MAX][r.int(8)]!;
    const d = base === MAX ? MAX - jitter : base + jitter;
    note(`kt=${kt} d=${d}`);
    const mag = (kt < 0n ? -kt : kt) / d;
    const want = S64(kt < 0n ? -mag : mag);
    eq(k.ktime_divns(kt, d), want);
    const us = (kt < 0n ? -kt : kt) / 1000n;
    eq(k.ktime_to_us(kt), kt < 0n ? -us : us);
    const ms = (kt < 0n ? -kt : kt) / 1_000_000n;
    eq(k.ktime_to_ms(kt), kt < 0n ? -ms : ms);
  });

  property('ktime_us_delta / ms_delta', 7n, (r, note) => {
    const a = r.s64();
    const b = r.s64();
    note(`a=${a} b=${b}`);
    const d = S64(a - b);
    const abs = d < 0n ? -d : d;
    eq(k.ktime_us_delta(a, b), d < 0n ? -(abs / 1000n) : abs / 1000n);
    eq(k.ktime_ms_delta(a, b), d < 0n ? -(abs / 1_000_000n) : abs / 1_000_000n);
  });

  property('ktime_compare / after / before agree with bigint order', 8n, (r, note) => {
    const a = r.s64();
    const b = r.int(8) === 0 ? a : r.s64();
    note(`a=${a} b=${b}`);
    const c = k.ktime_compare(a, b);
    eq(c, a < b ? -1 : a > b ? 1 : 0);
    eq(k.ktime_compare(b, a), -c === 0 ? 0 : -c);
    eq(k.ktime_after(a, b), a > b);
    eq(k.ktime_before(a, b), a < b);
  });
});

// ---------------------------------------------------------------------------
// Clock reads

describe('clock reads', () => {
  const spinUntil = (ns: bigint) => {
    const end = process.hrtime.bigint() + ns;
    while (process.hrtime.bigint() < end);
  };

  it('every read returns a bigint; the _ns forms read the same clocks', () => {
    const pairs: [() => bigint, () => bigint][] = [
      [k.ktime_get, k.ktime_get_ns],
      [k.ktime_get_real, k.ktime_get_real_ns],
      [k.ktime_get_boottime, k.ktime_get_boottime_ns],
      [k.ktime_get_clocktai, k.ktime_get_clocktai_ns],
      [k.ktime_get_raw, k.ktime_get_raw_ns],
    ];
    for (const [kt, ns] of pairs) {
      const a = kt();
      const n = ns();
      const b = kt();
      expect(typeof a).toBe('bigint');
      expect(typeof n).toBe('bigint');
      expect(n).toBeGreaterThan(0n);
      // Same clock, consecutive reads (1 ms slack for a wall-clock step).
      expect(n).toBeGreaterThanOrEqual(a - MS);
      expect(n).toBeLessThanOrEqual(b + MS);
    }
  });

  it('ktime_get is non-decreasing over many reads and advances', () => {
    let prev = k.ktime_get();
    const first = prev;
    for (let i = 0; i < 20_000; i++) {
      const now = k.ktime_get();
      if (now < prev) throw new Error(`ktime_get went backwards: ${prev} -> ${now}`);
      prev = now;
    }
    spinUntil(MS);
    expect(k.ktime_get() - first).toBeGreaterThanOrEqual(MS);
  });

  it('ktime_get agrees with process.hrtime.bigint() (both CLOCK_MONOTONIC)', () => {
    for (let i = 0; i < 100; i++) {
      const a = k.ktime_get();
      const hr = process.hrtime.bigint();
      const b = k.ktime_get();
      expect(a).toBeLessThanOrEqual(hr + MS);
      expect(hr).toBeLessThanOrEqual(b + MS);
    }
  });

  it('ktime_get_real agrees with Date.now() (both CLOCK_REALTIME)', () => {
    // Bracketed by two Date.now() reads, so no preemption between the reads can fail it: the
    // real clock lies between them, give or take Date.now()'s truncation to 1 ms.
    const d0 = BigInt(Date.now()) * MS;
    const real = k.ktime_get_real();
    const d1 = BigInt(Date.now()) * MS;
    expect(real).toBeGreaterThanOrEqual(d0);
    expect(real).toBeLessThan(d1 + MS);
  });

  it('boottime >= monotonic (monotonic + time in suspend)', () => {
    for (let i = 0; i < 100; i++) {
      const mono = k.ktime_get();
      const boot = k.ktime_get_boottime();
      expect(boot).toBeGreaterThanOrEqual(mono);
    }
  });

  it('clocktai - real is the TAI offset: 0..40 s', () => {
    // TAI read between two real-clock reads: offset + r0 <= tai <= offset + r1, whatever ran between.
    const r0 = k.ktime_get_real();
    const tai = k.ktime_get_clocktai();
    const r1 = k.ktime_get_real();
    expect(tai - r0).toBeGreaterThanOrEqual(0n);
    expect(tai - r1).toBeLessThanOrEqual(40n * k.NSEC_PER_SEC);
  });

  it('ktime_get_raw is a bigint, non-decreasing, and advances', () => {
    const r0 = k.ktime_get_raw();
    expect(typeof r0).toBe('bigint');
    let prev = r0;
    for (let i = 0; i < 5000; i++) {
      const now = k.ktime_get_raw();
      if (now < prev) throw new Error(`ktime_get_raw went backwards: ${prev} -> ${now}`);
      prev = now;
    }
    spinUntil(2n * MS);
    const r1 = k.ktime_get_raw();
    expect(r1 - r0).toBeGreaterThanOrEqual(MS);
    // Raw and NTP-slewed monotonic advance at (almost) the same rate: < 0.1% apart over the spin.
    // Each monotonic read is bracketed by two raw reads, so the raw interval it spans is known
    // within [q1a - q0b, q1b - q0a] however long a preemption between two reads lasted.
    const q0a = k.ktime_get_raw();
    const m0 = k.ktime_get();
    const q0b = k.ktime_get_raw();
    spinUntil(5n * MS);
    const q1a = k.ktime_get_raw();
    const m1 = k.ktime_get();
    const q1b = k.ktime_get_raw();
    const dm = m1 - m0;
    const slack = dm / 1000n;
    expect(dm).toBeGreaterThanOrEqual(q1a - q0b - slack);
    expect(dm).toBeLessThanOrEqual(q1b - q0a + slack);
  });

  it('clock reads ignore arguments (they take none, like the kernel)', () => {
    const a = k.ktime_get();
    const b = (k.ktime_get as (...x: unknown[]) => bigint)('x', 1, Symbol());
    expect(typeof b).toBe('bigint');
    expect(b).toBeGreaterThanOrEqual(a);
  });
});
