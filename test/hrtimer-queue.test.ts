// The hrtimer queues (lib/internal/hrtimer-queue.ts) against a plain sorted list: random
// inserts (in key order, equal expiries, random), removals anywhere, re-keys and pops of the
// top, on several bases at once, through growth of the slot arrays and of the heaps, and
// through the in-order fast path (sorted heap, moving offset) and its loss.
import { describe, expect, it } from 'vitest';
import * as Q from '../dist/internal/hrtimer-queue.js';
import { mulberry32 } from './helpers.js';

interface Ref {
  slot: number;
  hard: bigint;
  soft: bigint;
  seq: number;
}
const byKey = (a: Ref, b: Ref) => (a.hard < b.hard ? -1 : a.hard > b.hard ? 1 : a.seq - b.seq);

describe('hrtimer queue (indexed min-heap on (hard, seq))', () => {
  it('pops in (hard, seq) order and removes any entry, whatever the mix of operations', () => {
    const rnd = mulberry32(0x16);
    const bases = [0, 4, 9];
    const ref = new Map<number, Ref[]>(bases.map((b) => [b, []]));
    let seq = 1;
    let ops = 0;
    const key = (mode: number, last: bigint): bigint => {
      if (mode < 0.35) return last + BigInt(Math.floor(rnd() * 3)); // in order, often equal
      if (mode < 0.5) return 1_000n; // all equal
      if (mode < 0.55) return -(1n << 62n) - BigInt(Math.floor(rnd() * 1e6)); // negative, far
      return BigInt(Math.floor(rnd() * 2 ** 40)) * (rnd() < 0.1 ? 1n << 20n : 1n);
    };
    let last = 0n;
    for (let round = 0; round < 30; round++) {
      const phase = rnd();
      const n = Math.floor(rnd() * 3000);
      for (let k = 0; k < n; k++, ops++) {
        const b = bases[Math.floor(rnd() * bases.length)]!;
        const list = ref.get(b)!;
        const op = rnd();
        if (op < 0.5 || list.length === 0) {
          const hard = key(phase, last);
          last = hard;
          const soft = rnd() < 0.3 ? hard - BigInt(Math.floor(rnd() * 100)) : hard;
          const s = Q.allocSlot(b);
          const s2 = seq++;
          Q.place(s, soft, hard, s2);
          list.push({ slot: s, hard, soft, seq: s2 });
        } else if (op < 0.7) {
          // pop the top
          list.sort(byKey);
          const e = list.shift()!;
          expect(Q.top(b)).toBe(e.slot);
          expect(Q.remove(e.slot)).toBe(true);
          Q.freeSlot(e.slot);
        } else if (op < 0.85) {
          // remove anywhere
          const idx = Math.floor(rnd() * list.length);
          const e = list.splice(idx, 1)[0]!;
          list.sort(byKey);
          const wasTop = list.length === 0 || byKey(e, list[0]!) < 0;
          expect(Q.remove(e.slot)).toBe(wasTop);
          Q.freeSlot(e.slot);
        } else {
          // re-key in place
          const e = list[Math.floor(rnd() * list.length)]!;
          e.hard = key(phase, last);
          e.soft = e.hard;
          e.seq = seq++;
          Q.place(e.slot, e.soft, e.hard, e.seq);
          list.sort(byKey);
          expect(Q.top(b)).toBe(list[0]!.slot);
        }
      }
      for (const b of bases) {
        const list = ref.get(b)!.sort(byKey);
        expect(Q.sizes[b]).toBe(list.length);
        expect(Q.top(b)).toBe(list.length ? list[0]!.slot : -1);
        for (const e of list) {
          expect(Q.hardOf(e.slot)).toBe(e.hard);
          expect(Q.softOf(e.slot)).toBe(e.soft);
          expect(Q.baseA[e.slot]).toBe(b);
        }
      }
    }
    // Drain everything: exactly the reference order.
    for (const b of bases) {
      const list = ref.get(b)!.sort(byKey);
      for (const e of list) {
        expect(Q.top(b)).toBe(e.slot);
        Q.remove(e.slot);
        Q.freeSlot(e.slot);
      }
      expect(Q.top(b)).toBe(-1);
    }
    expect(Q.slotsInUse()).toBe(0);
    expect(ops).toBeGreaterThan(30_000);
  });

  it('lazy deletion: cancels and re-arms leave dead entries that never pop, are compacted, and release their timers', () => {
    // Many cancels (most entries die where they are: only the top and the last entry of the
    // heap array leave at once) and re-arms, on a few bases, in phases that grow the queues
    // past COMPACT_MIN and then shrink them, so that dead entries outnumber live ones and
    // compaction runs, in key order (the sorted fast path) and out of it.
    for (const seed of [1, 2, 3, 0xbeef, 0x16016]) {
      const rnd = mulberry32(seed);
      const bases = [0, 5, 11];
      const ref = new Map<number, Ref[]>(bases.map((b) => [b, []]));
      const objs = new Map<number, object>();
      const slots0 = Q.slotsInUse();
      let seq = 1;
      let last = 0n;
      let compactions = 0;
      let deadSeen = 0;
      // expect() only on a mismatch: hundreds of thousands of checks, the same failure message
      const eq = (a: unknown, b: unknown) => {
        if (a !== b) expect(a).toBe(b);
      };
      // Each reference list is kept in key order (a binary-search insert), so no step sorts.
      const insert = (list: Ref[], e: Ref) => {
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (byKey(list[mid]!, e) < 0) lo = mid + 1;
          else hi = mid;
        }
        list.splice(lo, 0, e);
      };
      const check = () => {
        let live = 0;
        let bound = 0;
        for (const b of bases) {
          const list = ref.get(b)!;
          eq(Q.sizes[b], list.length); // live entries only
          live += list.length;
          // dead entries stay bounded: never more than the live ones once there are COMPACT_MIN
          expect(Q.deadIn(b)).toBeLessThanOrEqual(Math.max(list.length, Q.COMPACT_MIN - 1));
          bound += Q.deadIn(b);
        }
        eq(Q.slotsInUse(), slots0 + live);
        eq(Q.deadEntries(), bound);
      };
      for (let round = 0; round < 12; round++) {
        const inOrder = rnd() < 0.4;
        const grow = round % 2 === 0;
        const n = grow ? 6000 + Math.floor(rnd() * 6000) : 8000;
        for (let k = 0; k < n; k++) {
          const b = bases[Math.floor(rnd() * bases.length)]!;
          const list = ref.get(b)!;
          const op = rnd();
          if (list.length === 0 || op < (grow ? 0.6 : 0.05)) {
            const hard = inOrder ? last + BigInt(Math.floor(rnd() * 2)) : BigInt(Math.floor(rnd() * 1e9));
            if (inOrder) last = hard;
            const s = Q.allocSlot(b);
            const s2 = seq++;
            Q.place(s, hard, hard, s2);
            const o = { seed, s };
            Q.timers[s] = o;
            objs.set(s, o);
            insert(list, { slot: s, hard, soft: hard, seq: s2 });
          } else if (op < (grow ? 0.8 : 0.9)) {
            // cancel anywhere (lazily)
            const idx = Math.floor(rnd() * list.length);
            const e = list.splice(idx, 1)[0]!;
            const dead0 = Q.deadEntries();
            const deadB = Q.deadIn(b);
            eq(Q.timers[e.slot], objs.get(e.slot));
            eq(Q.cancel(e.slot), idx === 0);
            // the queue no longer references the cancelled timer's object
            eq(Q.timers[e.slot], undefined);
            objs.delete(e.slot);
            const dead1 = Q.deadEntries();
            if (dead1 > dead0) deadSeen++;
            if (deadB + 1 >= Q.COMPACT_MIN && Q.deadIn(b) === 0 && list.length > 0) compactions++; // a heap rebuilt
            eq(Q.top(b), list.length ? list[0]!.slot : -1);
          } else if (op < (grow ? 0.92 : 0.95)) {
            // re-arm in place, later or earlier
            const e = list.splice(Math.floor(rnd() * list.length), 1)[0]!;
            e.hard = rnd() < 0.5 ? e.hard + BigInt(Math.floor(rnd() * 1e6)) : BigInt(Math.floor(rnd() * 1e9));
            e.soft = e.hard;
            e.seq = seq++;
            Q.place(e.slot, e.soft, e.hard, e.seq);
            insert(list, e);
            eq(Q.top(b), list[0]!.slot);
          } else {
            // the expiry pass's pop: the first live entry, never a dead one
            const e = list.shift()!;
            eq(Q.top(b), e.slot);
            eq(Q.timers[e.slot], objs.get(e.slot));
            eq(Q.cancel(e.slot), true);
            eq(Q.timers[e.slot], undefined);
            objs.delete(e.slot);
          }
        }
        check();
        for (const b of bases) {
          for (const e of ref.get(b)!) {
            eq(Q.hardOf(e.slot), e.hard);
            eq(Q.baseA[e.slot], b);
            eq(Q.timers[e.slot], objs.get(e.slot));
          }
        }
        // every live slot is listed once by forEachSlot, and no dead one
        for (const b of bases) {
          const seen: number[] = [];
          Q.forEachSlot(b, b + 1, (s) => seen.push(s));
          expect(seen.sort((x, y) => x - y)).toEqual(ref.get(b)!.map((e) => e.slot).sort((x, y) => x - y));
        }
      }
      expect(deadSeen).toBeGreaterThan(1000);
      expect(compactions).toBeGreaterThan(0);
      // Drain in exactly the reference order: dead entries never surface.
      for (const b of bases) {
        const list = ref.get(b)!;
        for (const e of list) {
          eq(Q.top(b), e.slot);
          eq(Q.cancel(e.slot), true);
        }
        eq(Q.top(b), -1);
        eq(Q.sizes[b], 0);
      }
      eq(Q.slotsInUse(), slots0);
      eq(Q.deadEntries(), 0); // an empty base keeps no dead entry
    }
  });

  it('dropDead() frees every dead entry at once (the engine does it before refusing a slot)', () => {
    const slots: number[] = [];
    for (let i = 0; i < 100; i++) {
      const s = Q.allocSlot(3);
      Q.place(s, BigInt(1000 - i), BigInt(1000 - i), i + 1);
      slots.push(s);
    }
    // out of key order; cancel entries in the middle, neither the top nor the last
    const dead = slots.filter((s, i) => i % 2 === 1 && Q.top(3) !== s);
    let marked = 0;
    for (const s of dead) {
      const d0 = Q.deadEntries();
      Q.cancel(s);
      marked += Q.deadEntries() - d0;
    }
    expect(marked).toBeGreaterThan(0);
    expect(Q.dropDead()).toBe(marked);
    expect(Q.deadEntries()).toBe(0);
    const rest = slots.filter((s) => !dead.includes(s)).sort((a, b) => Number(Q.hardOf(a) - Q.hardOf(b)));
    expect(Q.sizes[3]).toBe(rest.length);
    for (const s of rest) {
      expect(Q.top(3)).toBe(s);
      expect(Q.cancel(s)).toBe(true);
    }
    expect(Q.top(3)).toBe(-1);
  });

  it('softDue / hardDue compare exactly at the 32-bit word boundaries and across the sign', () => {
    const s = Q.allocSlot(1);
    for (const v of [0n, 1n, -1n, (1n << 32n) - 1n, 1n << 32n, -(1n << 32n), (1n << 63n) - 1n, -(1n << 63n), 0xffffffffn << 31n]) {
      Q.place(s, v, v, 1);
      for (const d of [-1n, 0n, 1n]) {
        const now = v + d;
        if (now < -(1n << 63n) || now >= 1n << 63n) continue;
        Q.setNow(now);
        expect(Q.softDue(s)).toBe(v <= now);
        expect(Q.hardDue(s)).toBe(v <= now);
      }
    }
    Q.remove(s);
    Q.freeSlot(s);
  });

  it('placeRel computes ktime_add_safe(tim, now) and ktime_add_safe(soft, range) exactly, saturation included', () => {
    const MAX = (1n << 63n) - 1n;
    const addSafe = (a: bigint, b: bigint) => {
      const r = BigInt.asIntN(64, a + b);
      return r < 0n || r < a || r < b ? MAX : r;
    };
    const vals = [0n, 1n, -1n, 5n, (1n << 31n) - 1n, 1n << 31n, (1n << 32n) - 1n, 1n << 32n, (1n << 32n) + 1n, -(1n << 32n),
      MAX, MAX - 1n, -(1n << 63n), -(1n << 63n) + 1n, 0xffffffffn << 31n, 123456789012345678n, -987654321098765n];
    const s = Q.allocSlot(2);
    let seq = 1;
    for (const tim of vals) {
      for (const now of vals) {
        for (const range of [0n, 1n, 1000n, MAX, -1n]) {
          Q.placeRel(s, tim, now, range, seq++);
          const soft = addSafe(tim, now);
          expect(Q.softOf(s)).toBe(soft);
          expect(Q.hardOf(s)).toBe(range === 0n ? soft : addSafe(soft, range));
        }
      }
    }
    Q.remove(s);
    Q.freeSlot(s);
  });
});
