// The wheel's level arithmetic (lib/internal/wheel-levels.ts) against tables,
// in the manner of tokio's wheel tests: every expected value below is a
// literal, worked out from kernel/time/timer.c's formulas (LVL_START(n) =
// (LVL_SIZE − 1) << LVL_SHIFT(n − 1), WHEEL_TIMEOUT_MAX = LVL_START(LVL_DEPTH)
// − LVL_GRAN(LVL_DEPTH − 1), calc_index(): ((expires >> LVL_SHIFT(lvl)) + 1)
// into LVL_OFFS(lvl) + (… & LVL_MASK)) in 64-bit unsigned arithmetic outside
// this code, never by calling the code under test. The functions take the
// depth as an argument, so one process checks every HZ (HZ > 100: 9 levels,
// HZ = 100: 8).
import { describe, expect, it } from 'vitest';
import * as L from '../dist/internal/wheel-levels.js';
import { Wheel } from '../dist/internal/wheel.js';
import * as k from '../dist/index.js';

/** The kernel's CONFIG_HZ choices ktimers supports, and LVL_DEPTH for each. */
const DEPTH_OF_HZ: [hz: number, depth: 8 | 9][] = [
  [100, 8],
  [250, 9],
  [300, 9],
  [1000, 9],
];

/** Per depth: WHEEL_TIMEOUT_CUTOFF, WHEEL_TIMEOUT_MAX and the level table. */
const LEVELS: Record<8 | 9, { cutoff: number; max: number; levels: [number, number, number, number, number][] }> = {
  8: {
    cutoff: 132120576,
    max: 130023424,
    // [level, first bucket, granularity, first delta, last delta] (jiffies; delta = expires − clk)
    levels: [
      [0, 0, 1, 0, 62],
      [1, 64, 8, 63, 503],
      [2, 128, 64, 504, 4031],
      [3, 192, 512, 4032, 32255],
      [4, 256, 4096, 32256, 258047],
      [5, 320, 32768, 258048, 2064383],
      [6, 384, 262144, 2064384, 16515071],
      [7, 448, 2097152, 16515072, 132120575],
    ],
  },
  9: {
    cutoff: 1056964608,
    max: 1040187392,
    // [level, first bucket, granularity, first delta, last delta] (jiffies; delta = expires − clk)
    levels: [
      [0, 0, 1, 0, 62],
      [1, 64, 8, 63, 503],
      [2, 128, 64, 504, 4031],
      [3, 192, 512, 4032, 32255],
      [4, 256, 4096, 32256, 258047],
      [5, 320, 32768, 258048, 2064383],
      [6, 384, 262144, 2064384, 16515071],
      [7, 448, 2097152, 16515072, 132120575],
      [8, 512, 16777216, 132120576, 1056964607],
    ],
  },
};

/**
 * calc_wheel_index() at a clk, per depth: [delta, level, bucket index, bucket
 * expiry] for expires = clk + delta, at delta −1 (already due), 0, 1, every
 * LVL_START(n) − 1, + 0, + 1, and at the cap: WHEEL_TIMEOUT_CUTOFF − 1, + 0,
 * + 1, WHEEL_TIMEOUT_MAX itself and 2^40.
 */
const CASES: [clk: number, depth: 8 | 9, rows: [number, number, number, number][]][] = [
  // clk = INITIAL_JIFFIES (HZ=1000) + 5: below 2^32, aligned to no level; depth 8
  [4294667301, 8, [
    [-1, 0, 37, 4294667301],
    [0, 0, 38, 4294667302],
    [1, 0, 39, 4294667303],
    [62, 0, 36, 4294667364],
    [63, 1, 77, 4294667368],
    [64, 1, 77, 4294667368],
    [503, 1, 68, 4294667808],
    [504, 2, 185, 4294667840],
    [505, 2, 185, 4294667840],
    [4031, 2, 176, 4294671360],
    [4032, 3, 254, 4294671360],
    [4033, 3, 254, 4294671360],
    [32255, 3, 246, 4294700032],
    [32256, 4, 319, 4294701056],
    [32257, 4, 319, 4294701056],
    [258047, 4, 310, 4294926336],
    [258048, 5, 383, 4294934528],
    [258049, 5, 383, 4294934528],
    [2064383, 5, 374, 4296736768],
    [2064384, 6, 391, 4296802304],
    [2064385, 6, 391, 4296802304],
    [16515071, 6, 446, 4311220224],
    [16515072, 7, 456, 4311744512],
    [16515073, 7, 456, 4311744512],
    [132120575, 7, 511, 4427087872],
    [132120576, 7, 510, 4424990720],
    [132120577, 7, 510, 4424990720],
    [130023424, 7, 510, 4424990720],
    [1099511627776, 7, 510, 4424990720],
  ]],
  // clk = INITIAL_JIFFIES (HZ=1000) + 5: below 2^32, aligned to no level; depth 9
  [4294667301, 9, [
    [-1, 0, 37, 4294667301],
    [0, 0, 38, 4294667302],
    [1, 0, 39, 4294667303],
    [62, 0, 36, 4294667364],
    [63, 1, 77, 4294667368],
    [64, 1, 77, 4294667368],
    [503, 1, 68, 4294667808],
    [504, 2, 185, 4294667840],
    [505, 2, 185, 4294667840],
    [4031, 2, 176, 4294671360],
    [4032, 3, 254, 4294671360],
    [4033, 3, 254, 4294671360],
    [32255, 3, 246, 4294700032],
    [32256, 4, 319, 4294701056],
    [32257, 4, 319, 4294701056],
    [258047, 4, 310, 4294926336],
    [258048, 5, 383, 4294934528],
    [258049, 5, 383, 4294934528],
    [2064383, 5, 374, 4296736768],
    [2064384, 6, 391, 4296802304],
    [2064385, 6, 391, 4296802304],
    [16515071, 6, 446, 4311220224],
    [16515072, 7, 456, 4311744512],
    [16515073, 7, 456, 4311744512],
    [132120575, 7, 511, 4427087872],
    [132120576, 8, 520, 4429185024],
    [132120577, 8, 520, 4429185024],
    [1056964607, 8, 575, 5351931904],
    [1056964608, 8, 574, 5335154688],
    [1056964609, 8, 574, 5335154688],
    [1040187392, 8, 574, 5335154688],
    [1099511627776, 8, 574, 5335154688],
  ]],
  // clk = 0x5_0000_02A5: above 2^32, where `& LVL_MASK` must still see the low bits; depth 8
  [21474837157, 8, [
    [-1, 0, 37, 21474837157],
    [0, 0, 38, 21474837158],
    [1, 0, 39, 21474837159],
    [62, 0, 36, 21474837220],
    [63, 1, 93, 21474837224],
    [64, 1, 93, 21474837224],
    [503, 1, 84, 21474837664],
    [504, 2, 147, 21474837696],
    [505, 2, 147, 21474837696],
    [4031, 2, 138, 21474841216],
    [4032, 3, 202, 21474841600],
    [4033, 3, 202, 21474841600],
    [32255, 3, 193, 21474869760],
    [32256, 4, 265, 21474873344],
    [32257, 4, 265, 21474873344],
    [258047, 4, 256, 21475098624],
    [258048, 5, 328, 21475098624],
    [258049, 5, 328, 21475098624],
    [2064383, 5, 320, 21476933632],
    [2064384, 6, 392, 21476933632],
    [2064385, 6, 392, 21476933632],
    [16515071, 6, 384, 21491613696],
    [16515072, 7, 456, 21491613696],
    [16515073, 7, 456, 21491613696],
    [132120575, 7, 448, 21609054208],
    [132120576, 7, 511, 21606957056],
    [132120577, 7, 511, 21606957056],
    [130023424, 7, 511, 21606957056],
    [1099511627776, 7, 511, 21606957056],
  ]],
  // clk = 0x5_0000_02A5: above 2^32, where `& LVL_MASK` must still see the low bits; depth 9
  [21474837157, 9, [
    [-1, 0, 37, 21474837157],
    [0, 0, 38, 21474837158],
    [1, 0, 39, 21474837159],
    [62, 0, 36, 21474837220],
    [63, 1, 93, 21474837224],
    [64, 1, 93, 21474837224],
    [503, 1, 84, 21474837664],
    [504, 2, 147, 21474837696],
    [505, 2, 147, 21474837696],
    [4031, 2, 138, 21474841216],
    [4032, 3, 202, 21474841600],
    [4033, 3, 202, 21474841600],
    [32255, 3, 193, 21474869760],
    [32256, 4, 265, 21474873344],
    [32257, 4, 265, 21474873344],
    [258047, 4, 256, 21475098624],
    [258048, 5, 328, 21475098624],
    [258049, 5, 328, 21475098624],
    [2064383, 5, 320, 21476933632],
    [2064384, 6, 392, 21476933632],
    [2064385, 6, 392, 21476933632],
    [16515071, 6, 384, 21491613696],
    [16515072, 7, 456, 21491613696],
    [16515073, 7, 456, 21491613696],
    [132120575, 7, 448, 21609054208],
    [132120576, 8, 520, 21609054208],
    [132120577, 8, 520, 21609054208],
    [1056964607, 8, 512, 22548578304],
    [1056964608, 8, 575, 22531801088],
    [1056964609, 8, 575, 22531801088],
    [1040187392, 8, 575, 22531801088],
    [1099511627776, 8, 575, 22531801088],
  ]],
];

describe('the wheel levels (kernel/time/timer.c LVL_*)', () => {
  it('derives its constants as the kernel does', () => {
    expect([L.LVL_CLK_SHIFT, L.LVL_CLK_DIV, L.LVL_CLK_MASK]).toEqual([3, 8, 7]);
    expect([L.LVL_BITS, L.LVL_SIZE, L.LVL_MASK]).toEqual([6, 64, 63]);
    expect([0, 1, 2, 8].map(L.LVL_SHIFT)).toEqual([0, 3, 6, 24]);
  });

  for (const [hz, depth] of DEPTH_OF_HZ) {
    it(`HZ=${hz}: LVL_DEPTH ${depth}, each level's granularity and range, the cap`, () => {
      expect(L.LVL_DEPTH(hz)).toBe(depth);
      const t = LEVELS[depth];
      expect(L.WHEEL_TIMEOUT_CUTOFF(depth)).toBe(t.cutoff);
      expect(L.WHEEL_TIMEOUT_MAX(depth)).toBe(t.max);
      const got = t.levels.map(([n]) => [
        n,
        L.LVL_OFFS(n),
        L.LVL_GRAN(n),
        L.LVL_START(n),
        (n + 1 < depth ? L.LVL_START(n + 1) : L.WHEEL_TIMEOUT_CUTOFF(depth)) - 1,
      ]);
      expect(got).toEqual(t.levels);
    });
  }

  it("this process's public constants are its HZ's row", () => {
    const depth = DEPTH_OF_HZ.find(([hz]) => hz === k.HZ)![1];
    const t = LEVELS[depth];
    expect(k.LVL_DEPTH).toBe(depth);
    expect([k.LVL_SIZE, k.LVL_CLK_SHIFT]).toEqual([64, 3]);
    expect(k.WHEEL_TIMEOUT_CUTOFF).toBe(BigInt(t.cutoff));
    expect(k.WHEEL_TIMEOUT_MAX).toBe(BigInt(t.max));
    for (const [n, , , start] of t.levels) expect(k.LVL_START(n)).toBe(BigInt(start));
    expect(k.LVL_START(depth)).toBe(BigInt(t.cutoff));
  });
});

describe('calc_wheel_index()', () => {
  for (const [clk, depth, rows] of CASES) {
    it(`clk ${clk}, depth ${depth}: every LVL_START(n) −1, 0, +1 and the cap`, () => {
      const out = { bucketExpiry: -1 };
      const got = rows.map(([delta]) => {
        const idx = L.calc_wheel_index(clk + delta, clk, depth, out);
        return [delta, Math.floor(idx / L.LVL_SIZE), idx, out.bucketExpiry];
      });
      expect(got).toEqual(rows);
    });
  }

  it('never places a timer early, and at most one granularity late (the cap aside)', () => {
    const out = { bucketExpiry: -1 };
    for (const [clk, depth, rows] of CASES) {
      for (const [delta, lvl] of rows) {
        if (delta < 0 || delta >= L.WHEEL_TIMEOUT_CUTOFF(depth)) continue;
        L.calc_wheel_index(clk + delta, clk, depth, out);
        expect(out.bucketExpiry, `clk ${clk} delta ${delta}`).toBeGreaterThan(clk + delta);
        expect(out.bucketExpiry - (clk + delta), `clk ${clk} delta ${delta}`).toBeLessThanOrEqual(L.LVL_GRAN(lvl));
      }
    }
  });

  it('is what the Wheel places timers by', () => {
    for (const [clk, depth, rows] of CASES) {
      const w = new Wheel<object>(depth, clk, () => clk, false);
      for (const [delta, , idx, bucketExpiry] of rows) {
        expect([w.calcWheelIndex(clk + delta, clk), w.bucketExpiry], `clk ${clk} delta ${delta}`).toEqual([idx, bucketExpiry]);
      }
    }
  });
});
