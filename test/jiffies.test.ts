// jiffies: exact kernel arithmetic for every HZ (include/linux/jiffies.h,
// kernel/time/time.c).
//
// HZ is fixed per process (env KTIMERS_HZ), so each of 100, 250, 300 and 1000
// runs in child processes (test/fixtures/jiffies-hz.mjs) that print their
// results over a fixed input table; the references below recompute them with
// plain BigInt math from the rules of kernel/time/time.c (jiffies_to_*/*_to_jiffies) and kernel/time/timer.c (round_jiffies) — the products wrapping at 64 bits
// and the unsigned int results truncated to 32 bits, as a 64-bit kernel's do —
// independently of lib/jiffies.ts. HZ=300's multiply-shift constants are
// rebuilt from kernel/time/timeconst.bc's formulas and checked against the
// ceiling rules. Clock reads are checked against CLOCK_MONOTONIC read around
// them (exact), across processes, and against elapsed time (loose).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { refreshJiffies } from '../dist/internal/jiffies-clock.js';
import { setMonotonicSource } from '../dist/internal/clock.js';
import { installVirtualClock } from '../dist/testing.js';
import { lastJsonLine, SLOWDOWN, spawnCollect } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/jiffies-hz.mjs', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

const U64 = (v: bigint) => BigInt.asUintN(64, v);
const S64 = (v: bigint) => BigInt.asIntN(64, v);
const U32 = (v: bigint) => BigInt.asUintN(32, v);
const U64_MAX = (1n << 64n) - 1n;
const MAXJ = 0x3ffffffffffffffen;
const HZS = [100, 250, 300, 1000] as const;

// --- references (include/linux/jiffies.h, kernel/time/time.c, kernel/time/timer.c) ---

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

function reference(HZ: number) {
  const hz = BigInt(HZ);
  // jiffies_to_*: (unit/HZ)·j when HZ divides the unit; HZ=300: DIV_ROUND_UP(10j, 3)
  // and 10000j/3. All in unsigned long (mod 2^64), returned as unsigned int.
  const j2ms = (j: bigint) => (hz === 300n ? U32(U64(U64(j * 10n) + 2n) / 3n) : U32(U64(j * (1000n / hz))));
  const j2us = (j: bigint) => (hz === 300n ? U32(U64(j * 10000n) / 3n) : U32(U64(j * (1_000_000n / hz))));
  const usecsLimit = j2us(MAXJ);
  const round = (j: bigint, cpu: bigint, up: boolean, now: bigint) => {
    let r = U64(j + 3n * cpu);
    const rem = r % hz;
    r = rem < hz / 4n && !up ? r - rem : U64(r - rem + hz);
    r = U64(r - 3n * cpu);
    return S64(now - r) < 0n ? r : j; // time_is_after_jiffies(r) ? r : original
  };
  return {
    TICK_NSEC: (1_000_000_000n + hz / 2n) / hz,
    TICK_USEC: (1_000_000n + hz / 2n) / hz,
    INITIAL_JIFFIES: (1n << 32n) - 300n * hz,
    usecsLimit,
    msecs_to_jiffies: (m: bigint) => (m >= 1n << 31n ? MAXJ : ceilDiv(m * hz, 1000n)),
    usecs_to_jiffies: (u: bigint) => (u > usecsLimit ? MAXJ : ceilDiv(u * hz, 1_000_000n)),
    jiffies_to_msecs: j2ms,
    jiffies_to_usecs: j2us,
    jiffies_to_nsecs: (j: bigint) => j2us(j) * 1000n,
    // HZ dividing 1e9: n / (1e9/HZ); HZ=300: the kernel's generic (u64)(n·9) / ((9e9 + HZ/2)/HZ).
    nsecs_to_jiffies64: (n: bigint) => (hz === 300n ? U64(n * 9n) / 30_000_000n : n / (1_000_000_000n / hz)),
    secs_to_jiffies: (s: bigint) => U64(s * hz),
    jiffies_delta_to_msecs: (d: bigint) => j2ms(d > 0n ? d : 0n),
    round,
    roundRel: (d: bigint, cpu: bigint, up: boolean, now: bigint) => U64(round(U64(d + now), cpu, up, now) - now),
  };
}

// --- the input table ----------------------------------------------------------

/** Deterministic xorshift64 samples. */
function samples(n: number, max: bigint, seed: bigint): bigint[] {
  let x = seed;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    x = U64(x ^ (x << 13n));
    x ^= x >> 7n;
    x = U64(x ^ (x << 17n));
    out.push(x % (max + 1n));
  }
  return out;
}
const around = (vs: bigint[], max = U64_MAX) =>
  [...new Set(vs.flatMap((v) => [v - 1n, v, v + 1n]).filter((v) => v >= 0n && v <= max))];

const P31 = 1n << 31n;
const P32 = 1n << 32n;
const INPUTS = {
  u32: around(
    [0n, 1n, 2n, 3n, 4n, 5n, 9n, 10n, 99n, 100n, 249n, 250n, 299n, 300n, 333n, 999n, 1000n, 3333n, 3334n, 3999n, 4000n,
      4001n, 9999n, 10000n, 33333n, 1_000_000n, P31 - 1n, P31, 1_431_649_098n, 2_605_480_000n, 4_294_947_296n,
      4_294_959_296n, 4_294_965_296n, P32 - 1n],
    P32 - 1n,
  ).concat(samples(200, P32 - 1n, 0x9e3779b97f4a7c15n)),
  jiffies: around(
    [0n, 1n, 3n, 100n, 250n, 300n, 1000n, 3333n, 429_496_729n, 1_073_741_823n, P31, P32, 4_294_667_296n, 1n << 53n,
      U64_MAX / 10000n, U64_MAX / 10n, MAXJ, 1n << 62n, 1n << 63n, U64_MAX],
  ).concat(samples(200, U64_MAX, 0x2545f4914f6cdd1dn), samples(100, P32 * 1000n, 0x1234567n)),
  nsecs: around(
    [0n, 999_999n, 1_000_000n, 1_999_999n, 3_333_333n, 3_333_334n, 3_999_999n, 4_000_000n, 10_000_000n,
      1_000_000_000n, 1n << 53n, U64_MAX / 9n, 1n << 63n, U64_MAX],
  ).concat(samples(200, U64_MAX, 0xdeadbeefn), samples(100, 1n << 50n, 0xfeedn)),
  secs: around([0n, 1n, P32, U64_MAX / 1000n, U64_MAX / 300n, U64_MAX / 100n, U64_MAX]).concat(samples(50, U64_MAX, 77n)),
  deltas: [-(1n << 63n), -1000n, -1n, 0n, 1n, 3n, 1000n, P32, (1n << 63n) - 1n],
};
const ROUND = {
  nows: [1000n, 2000n, 4_294_667_296n, 4_294_892_296n, 4_295_000_000n, 123_456_789_000n, 0n, 7n],
  // Absolute targets: both sides of each multiple of HZ and of its HZ/4 cut, near 0 and near 2^64.
  abs: [...new Set(HZS.flatMap((h) => [0n, 1n, 2n, 5n].flatMap((n) => [BigInt(h) * n, BigInt(h) * n + BigInt(h) / 4n])))]
    .flatMap((v) => around([v]))
    .flatMap((v) => [v, v + 1000n, v + 2000n, v + 4_294_667_296n, v + 4_295_000_000n, U64(v - 4n)]),
  rel: around([0n, 1n, 24n, 25n, 62n, 74n, 75n, 99n, 100n, 249n, 250n, 300n, 999n, 1000n, 1250n, 5000n, MAXJ, U64_MAX]),
  cpu: [0, 1, 2, 3, 7, 64].flatMap((c) => around([0n, 25n, 62n, 75n, 250n, 300n, 997n, 1000n]).map((d) => [d, c] as const)),
};

// --- children -----------------------------------------------------------------

type Sample = { t0: string; j: string; t1: string; snapshot: string; perf0: number; perf: number };
type Child = { status: number | null; stderr: string; json: any };

async function runChild(args: string[], env: Record<string, string | undefined>): Promise<Child> {
  const r = await spawnCollect(process.execPath, [fixture, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    timeoutMs: 20_000 * SLOWDOWN,
  });
  return { status: r.status, stderr: r.stderr, json: lastJsonLine(r.stdout) };
}

function loadWith(value: string | undefined) {
  const env = { ...process.env };
  if (value === undefined) delete env.KTIMERS_HZ;
  else env.KTIMERS_HZ = value;
  const r = spawnSync(process.execPath, [fixture, 'load'], { cwd: root, env, encoding: 'utf8', timeout: 20_000 * SLOWDOWN });
  let json: any = null;
  try {
    json = JSON.parse(r.stdout.trim());
  } catch {
    /* null */
  }
  return { status: r.status, stderr: r.stderr, json };
}

/** Two children per HZ, all started together, reading the clock at one shared deadline. */
const runs = new Map<number, [Child, Child]>();
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ktimers-jiffies-'));
  const file = join(dir, 'inputs.json');
  writeFileSync(file, JSON.stringify({ ...INPUTS, round: ROUND }, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
  const deadline = k.ktime_get_ns() + 2_000_000_000n;
  const all = await Promise.all(
    HZS.flatMap((hz) => [0, 1].map(() => runChild(['full', file, String(deadline)], { KTIMERS_HZ: String(hz) }))),
  ).finally(() => rmSync(dir, { recursive: true, force: true }));
  HZS.forEach((hz, i) => runs.set(hz, [all[2 * i]!, all[2 * i + 1]!]));
}, 60_000);

const pin = (j: bigint) => setMonotonicSource(() => (j - k.INITIAL_JIFFIES) * k.TICK_NSEC);
afterEach(() => setMonotonicSource(null));

function expectError(f: () => unknown, cls: typeof TypeError | typeof RangeError, code: string) {
  let e: any;
  try {
    f();
  } catch (err) {
    e = err;
  }
  expect(e, `expected ${cls.name} ${code}`).toBeInstanceOf(cls);
  expect(e.code).toBe(code);
}

// --- worked examples --------------------------------------------------------------

describe('worked examples', () => {
  it('33: wrap-safe compare (32-bit helpers, and the same on 64 bits)', () => {
    expect(k.time_after32(0x00000002, 0xfffffffe)).toBe(true);
    expect(k.time_after32(0xfffffffe, 0x00000002)).toBe(false);
    expect(k.time_before32(0xfffffffe, 0x00000002)).toBe(true);
    expect(k.time_after(2n, U64_MAX - 1n)).toBe(true);
    expect(k.time_after(U64_MAX - 1n, 2n)).toBe(false);
    expect(k.time_before(U64_MAX - 1n, 2n)).toBe(true);
    expect(k.time_after64(2n, U64_MAX - 1n)).toBe(true);
    expect(k.time_before64(U64_MAX - 1n, 2n)).toBe(true);
  });

  it('34: half-range ambiguity — both directions are "after"', () => {
    expect(k.time_after32(0, 0x80000000)).toBe(true);
    expect(k.time_after32(0x80000000, 0)).toBe(true);
    expect(k.time_after(0n, 1n << 63n)).toBe(true);
    expect(k.time_after(1n << 63n, 0n)).toBe(true);
    expect(k.time_after64(0n, 1n << 63n) && k.time_after64(1n << 63n, 0n)).toBe(true);
    // one short of half the range is unambiguous
    expect(k.time_after((1n << 63n) - 1n, 0n)).toBe(true);
    expect(k.time_after(0n, (1n << 63n) - 1n)).toBe(false);
  });

  it('35: equality', () => {
    expect(k.time_after(5n, 5n)).toBe(false);
    expect(k.time_before(5n, 5n)).toBe(false);
    expect(k.time_after_eq(5n, 5n)).toBe(true);
    expect(k.time_before_eq(5n, 5n)).toBe(true);
    expect(k.time_in_range(5n, 5n, 5n)).toBe(true);
    expect(k.time_in_range_open(5n, 5n, 5n)).toBe(false);
    expect([k.time_after64(5n, 5n), k.time_after_eq64(5n, 5n), k.time_before_eq64(5n, 5n)]).toEqual([false, true, true]);
    expect(k.time_in_range64(5n, 5n, 5n)).toBe(true);
    expect([k.time_after32(5, 5), k.time_before32(5, 5), k.time_between32(5, 5, 5)]).toEqual([false, false, true]);
  });

  it('36: range across the wrap', () => {
    // 32-bit time_in_range = after_eq(a,b) && before_eq(a,c), from the 32-bit helpers
    const inRange32 = (a: number, b: number, c: number) => !k.time_before32(a, b) && !k.time_after32(a, c);
    expect(inRange32(0x00000001, 0xfffffff0, 0x00000010)).toBe(true);
    expect(inRange32(0x00000011, 0xfffffff0, 0x00000010)).toBe(false);
    expect(k.time_between32(0x00000001, 0xfffffff0, 0x00000010)).toBe(true);
    expect(k.time_between32(0x00000011, 0xfffffff0, 0x00000010)).toBe(false);
    // the same across the 64-bit wrap
    expect(k.time_in_range(1n, U64_MAX - 15n, 16n)).toBe(true);
    expect(k.time_in_range(17n, U64_MAX - 15n, 16n)).toBe(false);
    expect(k.time_in_range_open(16n, U64_MAX - 15n, 16n)).toBe(false);
    expect(k.time_in_range_open(15n, U64_MAX - 15n, 16n)).toBe(true);
    expect(k.time_in_range64(1n, U64_MAX - 15n, 16n)).toBe(true);
  });

  it('37: INITIAL_JIFFIES per HZ, and 2^32 (no wrap) exactly 300·HZ ticks later', () => {
    const want: Record<number, bigint> = { 1000: 4_294_667_296n, 250: 4_294_892_296n, 300: 4_294_877_296n, 100: 4_294_937_296n };
    expect(want[1000]).toBe(0xfffb6c20n);
    expect(k.INITIAL_JIFFIES).toBe(want[k.HZ]);
    for (const hz of HZS) expect(BigInt(runs.get(hz)![0].json.INITIAL_JIFFIES)).toBe(want[hz]);
    setMonotonicSource(() => 300n * 1_000_000_000n); // 300 s of CLOCK_MONOTONIC
    if (k.TICK_NSEC * BigInt(k.HZ) === 1_000_000_000n) {
      expect(k.get_jiffies_64()).toBe(1n << 32n);
      expect(U32(k.jiffies)).toBe(0n); // a 32-bit kernel's jiffies would read 0
    }
    pin(k.INITIAL_JIFFIES + 300n * BigInt(k.HZ));
    expect(k.get_jiffies_64()).toBe(1n << 32n);
  });

  it('38: MAX_JIFFY_OFFSET', () => {
    expect(k.MAX_JIFFY_OFFSET).toBe(4_611_686_018_427_387_902n);
    expect(k.MAX_JIFFY_OFFSET).toBe(0x3ffffffffffffffen);
  });

  it('40: usecs_to_jiffies rounds up', () => {
    const at = (hz: number, u: number) =>
      BigInt(runs.get(hz)![0].json.conv.usecs_to_jiffies[INPUTS.u32.indexOf(BigInt(u))]);
    expect([0, 1, 999, 1000, 1001].map((u) => at(1000, u))).toEqual([0n, 1n, 1n, 1n, 2n]);
    expect([4000, 4001].map((u) => at(250, u))).toEqual([1n, 2n]);
    expect([3333, 3334, 10000].map((u) => at(300, u))).toEqual([1n, 2n, 3n]);
  });

  it('43: nsecs_to_jiffies rounds down, no MAX clamp', () => {
    const at = (hz: number, n: bigint) =>
      BigInt(runs.get(hz)![0].json.conv.nsecs_to_jiffies[INPUTS.nsecs.indexOf(n)]);
    expect([at(1000, 1_999_999n), at(1000, 999_999n)]).toEqual([1n, 0n]);
    expect([at(250, 3_999_999n), at(250, 4_000_000n)]).toEqual([0n, 1n]);
    expect(at(1000, U64_MAX)).toBe(U64_MAX / 1_000_000n);
    expect(at(100, U64_MAX)).toBe(U64_MAX / 10_000_000n);
  });

  it('47: CPU skew — __round_jiffies_relative(300, 1) == 997 at jiffies 1000, HZ=1000', () => {
    const row = runs.get(1000)![0].json.round.find((r: any) => r.now === '1000');
    const idx = ROUND.cpu.findIndex(([d, c]) => d === 300n && c === 1);
    expect(row.cpu[idx][0]).toBe('997');
    if (k.HZ === 1000) {
      pin(1000n);
      expect(k.__round_jiffies_relative(300n, 1)).toBe(997n);
      expect(k.jiffies).toBe(1000n);
    }
  });
});

// --- every HZ, in child processes -----------------------------------------------

describe.each(HZS)('HZ=%i (child processes)', (HZ) => {
  const ref = reference(HZ);
  const child = () => runs.get(HZ)![0];

  it('loads with that HZ and the kernel constants', () => {
    for (const c of runs.get(HZ)!) expect(c.status, c.stderr).toBe(0);
    const j = child().json;
    expect(j.HZ).toBe(HZ);
    expect(j.USER_HZ).toBe(100);
    const tick: Record<number, [bigint, bigint]> = {
      1000: [1_000_000n, 1000n], 250: [4_000_000n, 4000n], 300: [3_333_333n, 3333n], 100: [10_000_000n, 10_000n],
    };
    expect([BigInt(j.TICK_NSEC), BigInt(j.TICK_USEC)]).toEqual(tick[HZ]);
    expect([BigInt(j.TICK_NSEC), BigInt(j.TICK_USEC)]).toEqual([ref.TICK_NSEC, ref.TICK_USEC]);
    expect(BigInt(j.INITIAL_JIFFIES)).toBe(ref.INITIAL_JIFFIES);
    expect(BigInt(j.MAX_JIFFY_OFFSET)).toBe(MAXJ);
  });

  const table: [string, keyof typeof INPUTS, (v: bigint) => bigint][] = [
    ['msecs_to_jiffies', 'u32', ref.msecs_to_jiffies],
    ['usecs_to_jiffies', 'u32', ref.usecs_to_jiffies],
    ['jiffies_to_msecs', 'jiffies', ref.jiffies_to_msecs],
    ['jiffies_to_usecs', 'jiffies', ref.jiffies_to_usecs],
    ['jiffies_to_nsecs', 'jiffies', ref.jiffies_to_nsecs],
    ['nsecs_to_jiffies', 'nsecs', ref.nsecs_to_jiffies64],
    ['nsecs_to_jiffies64', 'nsecs', ref.nsecs_to_jiffies64],
    ['secs_to_jiffies', 'secs', ref.secs_to_jiffies],
    ['jiffies_delta_to_msecs', 'deltas', ref.jiffies_delta_to_msecs],
  ];
  it.each(table)('%s matches the reference on every input', (name, kind, f) => {
    const got: (string | number)[] = child().json.conv[name];
    const inputs = INPUTS[kind];
    expect(got.length).toBe(inputs.length);
    const bad = inputs.map((v, i) => [v, BigInt(got[i]!), f(v)] as const).filter(([, g, w]) => g !== w);
    expect(bad.map(([v, g, w]) => `${name}(${v}) = ${g}, want ${w}`)).toEqual([]);
    // unsigned int results are numbers; the rest bigints (as strings in JSON)
    const num = name === 'jiffies_to_msecs' || name === 'jiffies_to_usecs' || name === 'jiffies_delta_to_msecs';
    expect(got.every((g) => typeof g === (num ? 'number' : 'string'))).toBe(true);
  });

  it('number and bigint arguments agree; both children agree', () => {
    const [a, b] = runs.get(HZ)!;
    expect(a.json.conv.msecs_to_jiffies_num).toEqual(a.json.conv.msecs_to_jiffies);
    expect(a.json.conv.usecs_to_jiffies_num).toEqual(a.json.conv.usecs_to_jiffies);
    expect(b.json.conv).toEqual(a.json.conv);
    expect(b.json.round).toEqual(a.json.round);
  });

  it('round_jiffies family matches round_jiffies() of kernel/time/timer.c at pinned jiffies values', () => {
    const rows = child().json.round;
    expect(rows.length).toBe(ROUND.nows.length);
    const bad: string[] = [];
    const check = (label: string, got: string, want: bigint) => {
      if (BigInt(got) !== want) bad.push(`${label} = ${got}, want ${want}`);
    };
    rows.forEach((row: any, r: number) => {
      const now = ROUND.nows[r]!;
      expect([BigInt(row.jiffies), BigInt(row.snapshot)]).toEqual([now, now]);
      ROUND.abs.forEach((j, i) => {
        check(`round_jiffies(${j}) @${now}`, row.abs[i][0], ref.round(j, 0n, false, now));
        check(`round_jiffies_up(${j}) @${now}`, row.abs[i][1], ref.round(j, 0n, true, now));
      });
      ROUND.rel.forEach((d, i) => {
        check(`round_jiffies_relative(${d}) @${now}`, row.rel[i][0], ref.roundRel(d, 0n, false, now));
        check(`round_jiffies_up_relative(${d}) @${now}`, row.rel[i][1], ref.roundRel(d, 0n, true, now));
      });
      ROUND.cpu.forEach(([d, c], i) => {
        check(`__round_jiffies_relative(${d}, ${c}) @${now}`, row.cpu[i][0], ref.roundRel(d, BigInt(c), false, now));
        check(`__round_jiffies_up_relative(${d}, ${c}) @${now}`, row.cpu[i][1], ref.roundRel(d, BigInt(c), true, now));
      });
    });
    expect(bad).toEqual([]);
  });

  it('jiffies = INITIAL_JIFFIES + floor(CLOCK_MONOTONIC / TICK_NSEC), exactly', () => {
    for (const c of runs.get(HZ)!) {
      for (const s of [c.json.first, c.json.second] as Sample[]) {
        const lo = ref.INITIAL_JIFFIES + BigInt(s.t0) / ref.TICK_NSEC;
        const hi = ref.INITIAL_JIFFIES + BigInt(s.t1) / ref.TICK_NSEC;
        expect(BigInt(s.j)).toBeGreaterThanOrEqual(lo);
        expect(BigInt(s.j)).toBeLessThanOrEqual(hi);
        expect(s.snapshot).toBe(s.j); // get_jiffies_64() refreshed the live binding
      }
    }
  });

  it('two processes read the same function of CLOCK_MONOTONIC (INITIAL_JIFFIES + ns / TICK_NSEC)', () => {
    // Each jiffies read is bracketed by CLOCK_MONOTONIC reads t0 <= t1, so the
    // check is exact whatever the scheduling: both processes count the same ticks.
    for (const c of runs.get(HZ)!) {
      const { t0, j, t1 } = c.json.first as Sample & { t1: string };
      const lo = ref.INITIAL_JIFFIES + BigInt(t0) / ref.TICK_NSEC;
      const hi = ref.INITIAL_JIFFIES + BigInt(t1) / ref.TICK_NSEC;
      expect(BigInt(j) >= lo && BigInt(j) <= hi).toBe(true);
    }
  });

  it('advances by about HZ per second', () => {
    for (const c of runs.get(HZ)!) {
      const { first, second } = c.json as { first: Sample; second: Sample };
      const ticks = Number(BigInt(second.j) - BigInt(first.j));
      // Bracketed: the jiffies reads lie between perf0 and perf of their samples, so a
      // preemption between a jiffies read and its perf read cannot push ticks out.
      const least = ((second.perf0 - first.perf) / 1000) * HZ;
      const most = ((second.perf - first.perf0) / 1000) * HZ;
      expect(ticks).toBeGreaterThanOrEqual(least * 0.95 - 2);
      expect(ticks).toBeLessThanOrEqual(most * 1.05 + 2);
      expect(ticks).toBeGreaterThanOrEqual(Math.floor(0.3 * HZ) - 1); // slept >= 300 ms
    }
  });
});

// --- HZ=300: timeconst.bc and the ceiling rules -----------------------------------

describe('HZ=300 multiply-shift (kernel/time/timeconst.bc)', () => {
  const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
  const fmul = (b: bigint, n: bigint, d: bigint) => (2n ** b * n + d - 1n) / d;
  const fadj = (b: bigint, n: bigint, d: bigint) => {
    const dd = d / gcd(n, d);
    return (2n ** b * (dd - 1n)) / dd;
  };
  const fmuls = (b: bigint, n: bigint, d: bigint) => {
    for (let s = 0n; ; s++) if (fmul(s, n, d) >= 2n ** (b - 1n)) return s;
  };
  const msS = fmuls(32n, 300n, 1000n);
  const usS = fmuls(32n, 300n, 1_000_000n);
  const ms = (m: bigint) => U64(fmul(msS, 300n, 1000n) * m + fadj(msS, 300n, 1000n)) >> msS;
  const us = (u: bigint) => U64(fmul(usS, 300n, 1_000_000n) * u + fadj(usS, 300n, 1_000_000n)) >> usS;
  const limit = reference(300).usecsLimit;

  it('the generated constants', () => {
    expect([fmul(msS, 300n, 1000n), fadj(msS, 300n, 1000n), msS]).toEqual([0x9999999an, 0x1ccccccccn, 33n]);
    expect([fmul(usS, 300n, 1_000_000n), fadj(usS, 300n, 1_000_000n), usS]).toEqual([0x9d495183n, 0x7ffcb923a29n, 43n]);
    expect(limit).toBe(1_431_649_098n); // jiffies_to_usecs(MAX_JIFFY_OFFSET), truncated to 32 bits
  });

  it('msecs: equals ceil(3m/10) for m < 2^31', () => {
    const ms_ = [...Array(100_000).keys()].map(BigInt).concat(samples(100_000, P31 - 1n, 42n), around([P31 - 1n], P31 - 1n));
    expect(ms_.filter((m) => ms(m) !== ceilDiv(3n * m, 10n))).toEqual([]);
  });

  it('usecs: equals ceil(3u/10000) up to the MAX_JIFFY_OFFSET cut-off; off by one only beyond it', () => {
    const mult = [...Array(Number(limit / 10000n) + 1).keys()].map((i) => BigInt(i) * 10000n);
    const us_ = around(mult, limit).concat([...Array(50_000).keys()].map(BigInt), samples(100_000, limit, 43n), [limit]);
    expect(us_.filter((u) => us(u) !== ceilDiv(3n * u, 10000n))).toEqual([]);
    // timeconst.bc warns of off-by-one in the upper half of the u32 range: the first
    // such input lies above the cut-off, so usecs_to_jiffies() never returns it.
    let first = 0n;
    for (let u = 10000n; u < P32 && first === 0n; u += 10000n) if (us(u) !== ceilDiv(3n * u, 10000n)) first = u;
    expect(first).toBe(2_605_480_000n);
    expect(first).toBeGreaterThan(limit);
  });

  it('jiffies_to_msecs/usecs equal ceil(10j/3) / floor(10000j/3) (mod 2^32) while the products fit in 64 bits', () => {
    const ref = reference(300);
    const js = samples(2000, U64_MAX / 10000n, 5n).concat(around([0n, 3n, 1000n, P32]));
    expect(js.filter((j) => ref.jiffies_to_msecs(j) !== U32(ceilDiv(10n * j, 3n)))).toEqual([]);
    expect(js.filter((j) => ref.jiffies_to_usecs(j) !== U32((10000n * j) / 3n))).toEqual([]);
  });
});

// --- this process ---------------------------------------------------------------

describe('the counter in this process', () => {
  it('get_jiffies_64() reads the clock; jiffies is a live snapshot', () => {
    const t0 = k.ktime_get_ns();
    const j = k.get_jiffies_64();
    const t1 = k.ktime_get_ns();
    expect(j).toBeGreaterThanOrEqual(k.INITIAL_JIFFIES + t0 / k.TICK_NSEC);
    expect(j).toBeLessThanOrEqual(k.INITIAL_JIFFIES + t1 / k.TICK_NSEC);
    expect(k.jiffies).toBe(j);

    pin(12_345n);
    expect(k.get_jiffies_64()).toBe(12_345n);
    expect(k.jiffies).toBe(12_345n);
    pin(99n);
    expect(k.jiffies).toBe(12_345n); // stale until something reads the clock
    expect(refreshJiffies()).toBe(99n);
    expect(k.jiffies).toBe(99n);
    pin(500n);
    k.time_is_after_jiffies(0n);
    expect(k.jiffies).toBe(500n);
    pin(501n);
    k.round_jiffies_relative(5n);
    expect(k.jiffies).toBe(501n);
  });

  it('floor at tick boundaries, also for a virtual clock below zero', () => {
    const T = k.TICK_NSEC;
    const at = (ns: bigint) => {
      setMonotonicSource(() => ns);
      return k.get_jiffies_64() - k.INITIAL_JIFFIES;
    };
    expect([0n, T - 1n, T, 2n * T - 1n, -1n, -T, -T - 1n].map(at)).toEqual([0n, 0n, 1n, 1n, -1n, -1n, -2n]);
    setMonotonicSource(null);
    expect(k.get_jiffies_64()).toBeGreaterThan(k.INITIAL_JIFFIES);
  });

  it('time_is_*_jiffies compare with the clock', () => {
    pin(1000n);
    expect([k.time_is_before_jiffies(999n), k.time_is_before_jiffies(1000n)]).toEqual([true, false]);
    expect([k.time_is_before_eq_jiffies(1000n), k.time_is_before_eq_jiffies(1001n)]).toEqual([true, false]);
    expect([k.time_is_after_jiffies(1001n), k.time_is_after_jiffies(1000n)]).toEqual([true, false]);
    expect([k.time_is_after_eq_jiffies(1000n), k.time_is_after_eq_jiffies(999n)]).toEqual([true, false]);
    expect([k.time_is_before_jiffies64(999n), k.time_is_after_jiffies64(1001n)]).toEqual([true, true]);
    expect([k.time_is_before_eq_jiffies64(1000n), k.time_is_after_eq_jiffies64(1000n)]).toEqual([true, true]);
    // far "before" wraps to "after", as in the kernel
    expect(k.time_is_after_jiffies(1001n + (1n << 63n))).toBe(false);
    expect(k.time_is_after_jiffies(1000n + (1n << 63n))).toBe(true); // exactly half the range: ambiguous
  });

  it.runIf(k.HZ === 1000)('round_jiffies at HZ=1000: down below HZ/4, up from it, original if not after jiffies', () => {
    pin(1000n);
    expect(k.round_jiffies(2249n)).toBe(2000n);
    expect(k.round_jiffies(2250n)).toBe(3000n);
    expect(k.round_jiffies_up(2001n)).toBe(3000n);
    expect(k.round_jiffies_up(2000n)).toBe(3000n); // force_up rounds even a multiple up
    expect(k.round_jiffies(1100n)).toBe(1100n); // rounds to 1000 = jiffies: not after → original
    expect(k.round_jiffies(1001n)).toBe(1001n);
    expect(k.round_jiffies_relative(1249n)).toBe(1000n);
    expect(k.round_jiffies_up_relative(1n)).toBe(1000n);
    expect(k.__round_jiffies_up_relative(300n, 2)).toBe(994n);
  });

  it('round_jiffies* match the reference at this HZ', () => {
    const ref = reference(k.HZ);
    for (const now of [1000n, k.INITIAL_JIFFIES + 17n]) {
      pin(now);
      for (const j of ROUND.abs) {
        expect(k.round_jiffies(j)).toBe(ref.round(j, 0n, false, now));
        expect(k.round_jiffies_up(j)).toBe(ref.round(j, 0n, true, now));
      }
      for (const [d, c] of ROUND.cpu) {
        expect(k.__round_jiffies_relative(d, c)).toBe(ref.roundRel(d, BigInt(c), false, now));
        expect(k.__round_jiffies_up_relative(d, BigInt(c))).toBe(ref.roundRel(d, BigInt(c), true, now));
      }
    }
  });
});

// --- HZ from the environment ------------------------------------------------------

describe('KTIMERS_HZ', () => {
  it('unset → 1000; each allowed value loads', () => {
    expect(loadWith(undefined).json).toEqual({ HZ: 1000 });
    for (const hz of HZS) expect(loadWith(String(hz)).json).toEqual({ HZ: hz });
  });

  it.each(['500', 'abc', '', ' 1000', '1000 ', '1000.0', '1e3', '0x3e8', '0100', '-1000', '250hz'])(
    'KTIMERS_HZ=%j fails to load with ERR_KTIMERS_INVALID_HZ',
    (v) => {
      const r = loadWith(v);
      expect(r.status).not.toBe(0);
      expect(r.json?.error, r.stderr).toMatchObject({ name: 'RangeError', code: 'ERR_KTIMERS_INVALID_HZ' });
      expect(r.json.error.message).toContain(JSON.stringify(v));
      expect(r.json.error.message).toContain('100, 250, 300, 1000');
    },
  );
});

// --- bad input ------------------------------------------------------------------------

describe('bad input', () => {
  const T = TypeError;
  const R = RangeError;
  const ARG = 'ERR_INVALID_ARG_TYPE';
  const OOR = 'ERR_OUT_OF_RANGE';
  const notNumbers: unknown[] = ['1', undefined, null, {}, [1], Symbol('s'), true, Object(1n), () => 1n];
  const hostile = () => {
    const boom = () => {
      throw new Error('coerced');
    };
    return { valueOf: boom, toString: boom, [Symbol.toPrimitive]: boom };
  };

  it('jiffies parameters take a bigint or a safe-integer number, in [0, 2^64-1]; a number gives what its bigint gives', () => {
    const fns: ((v: any) => unknown)[] = [
      (v) => k.time_after(v, 0n), (v) => k.time_after(0n, v), (v) => k.time_before_eq(v, 0n),
      (v) => k.time_in_range(0n, 0n, v), (v) => k.time_in_range_open(v, 0n, 0n), (v) => k.time_after_eq64(0n, v),
      (v) => k.time_in_range64(v, 0n, 0n), (v) => k.time_is_before_jiffies(v), (v) => k.time_is_after_eq_jiffies64(v),
      (v) => k.jiffies_to_msecs(v), (v) => k.jiffies_to_usecs(v), (v) => k.jiffies_to_nsecs(v),
      (v) => k.round_jiffies(v), (v) => k.round_jiffies_up(v), (v) => k.round_jiffies_relative(v),
      (v) => k.round_jiffies_up_relative(v), (v) => k.__round_jiffies_relative(v, 0), (v) => k.__round_jiffies_up_relative(v, 0),
    ];
    // Frozen time (the virtual clock): the *_jiffies and round_jiffies* results depend on jiffies now.
    const clock = installVirtualClock({ startJiffies: k.get_jiffies_64() });
    try {
      const j = k.get_jiffies_64();
      for (const f of fns) {
        for (const v of [...notNumbers, hostile()]) expectError(() => f(v), T, ARG);
        for (const v of [-1n, 1n << 64n, -(1n << 63n), -1, NaN, 1.5, Infinity, 2 ** 53]) expectError(() => f(v), R, OOR);
        for (const v of [0n, 1n, 299_999n, j, j + 5000n, 2n ** 53n - 1n]) expect(f(Number(v)), `${v}`).toEqual(f(v));
        expect(f(-0)).toEqual(f(0n));
      }
    } finally {
      clock.uninstall();
    }
  });

  it('jiffies_delta_to_msecs takes a long: a bigint or a safe-integer number in the s64 range', () => {
    expect(k.jiffies_delta_to_msecs(-5n)).toBe(0);
    expect(k.jiffies_delta_to_msecs(-(1n << 63n))).toBe(0);
    expectError(() => k.jiffies_delta_to_msecs(1n << 63n), R, OOR);
    expectError(() => k.jiffies_delta_to_msecs(-(1n << 63n) - 1n), R, OOR);
    expect(k.jiffies_delta_to_msecs(-5)).toBe(0);
    expect(k.jiffies_delta_to_msecs(5)).toBe(k.jiffies_delta_to_msecs(5n));
    expectError(() => k.jiffies_delta_to_msecs(5.5), R, OOR);
    expectError(() => k.jiffies_delta_to_msecs('5' as any), T, ARG);
  });

  it('unsigned int counts take a bigint or a safe integer in [0, 2^32-1]', () => {
    const fns: ((v: any) => unknown)[] = [
      (v) => k.msecs_to_jiffies(v), (v) => k.usecs_to_jiffies(v), (v) => k.time_after32(v, 0), (v) => k.time_before32(0, v),
      (v) => k.time_between32(0, 0, v),
    ];
    for (const f of fns) {
      for (const v of [...notNumbers, hostile()]) expectError(() => f(v), T, ARG);
      for (const v of [NaN, -1, 1.5, Infinity, -Infinity, 2 ** 32, 2 ** 53, -1n, 1n << 32n]) expectError(() => f(v), R, OOR);
    }
    expect(k.msecs_to_jiffies(-0)).toBe(0n);
    expect(k.msecs_to_jiffies(2 ** 32 - 1)).toBe(k.MAX_JIFFY_OFFSET);
  });

  it('u64 counts (nsecs, secs) take a bigint or a safe integer in [0, 2^64-1]', () => {
    for (const f of [k.nsecs_to_jiffies, k.nsecs_to_jiffies64, k.secs_to_jiffies] as ((v: any) => unknown)[]) {
      for (const v of [...notNumbers, hostile()]) expectError(() => f(v), T, ARG);
      for (const v of [NaN, -1, 1.5, 2 ** 53, -1n, 1n << 64n]) expectError(() => f(v), R, OOR);
      expect(f(2 ** 53 - 1)).toBe(f(2n ** 53n - 1n));
    }
  });

  it('cpu is a non-negative int with 3·cpu within int', () => {
    expect(typeof k.__round_jiffies_relative(5n, 715_827_882)).toBe('bigint');
    for (const v of [-1, 715_827_883, 1.5, NaN, -1n]) expectError(() => k.__round_jiffies_relative(5n, v as any), R, OOR);
    for (const v of ['1', undefined, null]) expectError(() => k.__round_jiffies_up_relative(5n, v as any), T, ARG);
  });

  it('the monotonic source hook rejects bad sources and bad readings', () => {
    expectError(() => setMonotonicSource('x' as any), T, ARG);
    setMonotonicSource((() => 5) as any);
    expectError(() => k.get_jiffies_64(), T, 'ERR_INVALID_RETURN_VALUE');
    setMonotonicSource(() => 1n << 63n);
    expectError(() => k.get_jiffies_64(), R, OOR);
    setMonotonicSource(null);
    expect(k.get_jiffies_64()).toBeGreaterThan(k.INITIAL_JIFFIES);
  });
});
