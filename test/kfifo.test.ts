// kfifo (lib/kfifo/) against the kernel's include/linux/kfifo.h and lib/kfifo.c:
// the kernel's worked cases, every call's value in every state (empty, partial,
// full, wrapped) through a reference model, the 2^32 counter wrap, records,
// bad input, and the cross-thread paths (clones, 10^7 elements, wake-ups).
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import * as k from '../dist/index.js';
import { kfifo_set_counters } from '../dist/testing.js';
import { kfifoCounters } from '../dist/kfifo/alloc.js';
import { kfifoRaceHook } from '../dist/kfifo/wait.js';
import { mulberry32, SLOWDOWN } from './helpers.js';

const fixture = new URL('./fixtures/kfifo/worker.mjs', import.meta.url);
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const u8 = (...v: number[]) => Uint8Array.from(v);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    const err = e as { code?: string };
    return `${(e as Error).constructor.name} ${err.code}`;
  }
  return 'no throw';
}

function exited(w: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    w.once('error', reject);
    w.once('exit', resolve);
  });
}

describe('kernel cases', () => {
  it('kfifo_alloc rounds up; kfifo_free leaves size 1, not initialized (case 126)', () => {
    const sizes = [[100, 128], [128, 128], [129, 256], [3, 4], [2, 2]] as const;
    for (const [n, want] of sizes) {
      const f = k.kfifo_alloc('u8', n);
      expect([k.kfifo_size(f), k.kfifo_esize(f), k.kfifo_initialized(f)]).toEqual([want, 1, true]);
      k.kfifo_free(f);
      expect([k.kfifo_initialized(f), k.kfifo_size(f), k.kfifo_len(f), k.kfifo_esize(f)]).toEqual([false, 1, 0, 0]);
    }
    const g = k.kfifo_alloc('u32', 5);
    expect([k.kfifo_size(g), k.kfifo_esize(g), k.kfifo_recsize(g)]).toEqual([8, 4, 0]);
    expect(k.kfifo_size(k.kfifo_alloc('u8', 2n))).toBe(2);
    expect(k.kfifo_size(k.kfifo_alloc('u64', 2 ** 20 + 1))).toBe(2 ** 21);
    // -EINVAL: rounded size below 2 (0 and 1), or past 2^31 (2^32 truncates to 0)
    for (const n of [0, 1, 2 ** 31 + 1, 2 ** 32 - 1]) expect(codeOf(() => k.kfifo_alloc('u8', n)), String(n)).toBe('RangeError ERR_OUT_OF_RANGE');
  });

  it('kfifo_init rounds down, size in bytes (case 127)', () => {
    const sab = new SharedArrayBuffer(100);
    expect(k.kfifo_size(k.kfifo_init('u8', sab))).toBe(64);
    expect(k.kfifo_size(k.kfifo_init('u32', sab, 100))).toBe(16);
    expect(k.kfifo_size(k.kfifo_init('u32', sab, 8))).toBe(2);
    expect(codeOf(() => k.kfifo_init('u32', sab, 7))).toBe('RangeError ERR_OUT_OF_RANGE');
    expect(codeOf(() => k.kfifo_init('u8', sab, 1))).toBe('RangeError ERR_OUT_OF_RANGE');
    expect(codeOf(() => k.kfifo_init('u8', sab, 0))).toBe('RangeError ERR_OUT_OF_RANGE');
    // A view: its bytes, from its offset; the caller's bytes are used in place.
    const view = new Uint8Array(sab, 8, 40);
    const f = k.kfifo_init('u16', view);
    expect(k.kfifo_size(f)).toBe(16);
    k.kfifo_put(f, 0x0201);
    expect([new Uint8Array(sab)[8], new Uint8Array(sab)[9]]).toEqual([1, 2]);
    expect(codeOf(() => k.kfifo_init('u32', new Uint8Array(sab, 2, 40)))).toBe('RangeError ERR_OUT_OF_RANGE'); // misaligned
    expect(codeOf(() => k.kfifo_init('u8', sab, 101))).toBe('RangeError ERR_OUT_OF_RANGE');
    expect(codeOf(() => k.kfifo_init('u8', new ArrayBuffer(16) as unknown as SharedArrayBuffer))).toBe('TypeError ERR_INVALID_ARG_TYPE');
  });

  it('put/get/peek (case 128)', () => {
    const f = k.kfifo_alloc('u8', 4);
    expect(k.kfifo_get(f)).toBe(undefined);
    expect(k.kfifo_peek(f)).toBe(undefined);
    expect([3, 5, 11, 13].map((v) => k.kfifo_put(f, v))).toEqual([1, 1, 1, 1]);
    expect(k.kfifo_put(f, 17)).toBe(0);
    expect([k.kfifo_is_full(f), k.kfifo_len(f), k.kfifo_avail(f)]).toEqual([true, 4, 0]);
    expect(k.kfifo_peek(f)).toBe(3);
    expect(k.kfifo_len(f)).toBe(4);
    expect([k.kfifo_get(f), k.kfifo_get(f), k.kfifo_get(f), k.kfifo_get(f)]).toEqual([3, 5, 11, 13]);
    expect(k.kfifo_is_empty(f)).toBe(true);
    expect(k.kfifo_get(f)).toBe(undefined);
  });

  it('partial in/out (case 129)', () => {
    const f = k.kfifo_alloc('u8', 16);
    const src = Uint8Array.from({ length: 20 }, (_, i) => i);
    expect(k.kfifo_in(f, src, 10)).toBe(10);
    expect(k.kfifo_in(f, src, 10, 10)).toBe(6);
    expect([k.kfifo_avail(f), k.kfifo_len(f)]).toEqual([0, 16]);
    const dst = new Uint8Array(100);
    expect(k.kfifo_out(f, dst, 4)).toBe(4);
    expect([...dst.subarray(0, 4)]).toEqual([0, 1, 2, 3]);
    dst.fill(0xee);
    expect(k.kfifo_out_peek(f, dst, 100)).toBe(12);
    expect([...dst.subarray(0, 13)]).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0xee]);
    expect(k.kfifo_len(f)).toBe(12);
    dst.fill(0);
    expect(k.kfifo_out(f, dst, 50, 50)).toBe(12); // into dst[50..]
    expect([...dst.subarray(49, 63)]).toEqual([0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0]);
    expect(k.kfifo_is_empty(f)).toBe(true);
  });

  it('counters wrap at 2^32 (case 130)', () => {
    const f = k.kfifo_alloc('u8', 8);
    kfifo_set_counters(f, 0xfffffffe);
    expect(k.kfifo_in(f, u8(1, 2, 3, 4, 5), 5)).toBe(5);
    expect(kfifoCounters(f)).toEqual([3, 0xfffffffe]);
    expect([k.kfifo_len(f), k.kfifo_avail(f), k.kfifo_is_full(f)]).toEqual([5, 3, false]);
    expect([...(f.data as Uint8Array)]).toEqual([3, 4, 5, 0, 0, 0, 1, 2]); // slots 6, 7, 0, 1, 2
    const dst = new Uint8Array(8);
    expect(k.kfifo_out(f, dst, 8)).toBe(5);
    expect([...dst.subarray(0, 5)]).toEqual([1, 2, 3, 4, 5]);
    expect(kfifoCounters(f)).toEqual([3, 3]);
    expect(k.kfifo_is_empty(f)).toBe(true);
  });

  it('record fifo lengths, the kernel sample (case 131)', () => {
    const f = k.kfifo_alloc('rec_ptr_1', 128);
    expect(k.kfifo_in(f, enc('hello\0'))).toBe(6);
    expect(k.kfifo_peek_len(f)).toBe(6);
    for (let i = 1; i <= 10; i++) expect(k.kfifo_in(f, enc(String.fromCharCode(96 + i).repeat(i)))).toBe(i);
    expect(k.kfifo_len(f)).toBe(72);
    k.kfifo_skip(f);
    expect([k.kfifo_len(f), k.kfifo_avail(f)]).toEqual([65, 62]);
    const buf = new Uint8Array(100);
    expect(k.kfifo_out_peek(f, buf, 100)).toBe(1);
    expect(dec(buf.subarray(0, 1))).toBe('a');
    expect(k.kfifo_len(f)).toBe(65);
    for (let i = 1; i <= 10; i++) {
      expect(k.kfifo_out(f, buf, 100)).toBe(i);
      expect(dec(buf.subarray(0, i))).toBe(String.fromCharCode(96 + i).repeat(i));
    }
    expect(k.kfifo_is_empty(f)).toBe(true);
    expect(k.kfifo_out(f, buf, 100)).toBe(0);
  });

  it('records: no fit, truncated read, 2-byte headers, avail caps (case 132)', () => {
    const f = k.kfifo_alloc('rec_ptr_1', 16);
    expect(k.kfifo_in(f, new Uint8Array(10).fill(7))).toBe(10);
    expect(k.kfifo_len(f)).toBe(11);
    expect(k.kfifo_in(f, new Uint8Array(5))).toBe(0); // needs 6, 5 free
    expect(k.kfifo_len(f)).toBe(11);
    expect(k.kfifo_in(f, u8(1, 2, 3, 4))).toBe(4);
    expect([k.kfifo_len(f), k.kfifo_is_full(f), k.kfifo_avail(f)]).toEqual([16, true, 0]);
    const buf = new Uint8Array(3);
    expect(k.kfifo_out(f, buf, 3)).toBe(3);
    expect([...buf]).toEqual([7, 7, 7]);
    expect(k.kfifo_len(f)).toBe(5); // the whole 10-byte record went

    const g = k.kfifo_alloc('rec_ptr_2', 512);
    expect(k.kfifo_in(g, new Uint8Array(300))).toBe(300);
    expect([g.data[0], g.data[1]]).toEqual([0x2c, 0x01]);
    expect([k.kfifo_len(g), k.kfifo_peek_len(g), k.kfifo_avail(g)]).toEqual([302, 300, 208]);
    expect(k.kfifo_avail(k.kfifo_alloc('rec_ptr_1', 1024))).toBe(255);
    expect(k.kfifo_avail(k.kfifo_alloc('rec_ptr_2', 1024))).toBe(1022);
    expect(k.kfifo_avail(k.kfifo_alloc('u8', 1024))).toBe(1024);
  });

  it('reset vs reset_out, out_linear, skip (case 133)', () => {
    const tail = new Uint32Array(1);
    for (const reset of ['reset_out', 'reset'] as const) {
      const f = k.kfifo_alloc('u8', 8);
      k.kfifo_in(f, u8(1, 2, 3, 4, 5));
      k.kfifo_out(f, new Uint8Array(2));
      expect(kfifoCounters(f)).toEqual([5, 2]);
      if (reset === 'reset_out') k.kfifo_reset_out(f);
      else k.kfifo_reset(f);
      expect(k.kfifo_len(f)).toBe(0);
      expect(kfifoCounters(f)).toEqual(reset === 'reset_out' ? [5, 5] : [0, 0]);
      expect(k.kfifo_in(f, u8(1, 2, 3, 4, 5, 6))).toBe(6);
      expect(k.kfifo_out_linear(f, tail, 8)).toBe(reset === 'reset_out' ? 3 : 6);
      expect(tail[0]).toBe(reset === 'reset_out' ? 5 : 0);
      expect(k.kfifo_len(f)).toBe(6); // out_linear removes nothing
    }
    const f = k.kfifo_alloc('u8', 8);
    k.kfifo_in(f, u8(1, 2, 3));
    k.kfifo_skip(f);
    expect(k.kfifo_len(f)).toBe(2);
    expect(k.kfifo_get(f)).toBe(2);
  });
});

describe('every call in every state', () => {
  // A u8 fifo of 8 in each state; counters start at `base` (the wrapped states cross 2^32).
  const states = [
    { name: 'empty', base: 0, fill: 0 },
    { name: 'partial', base: 0, fill: 3 },
    { name: 'full', base: 0, fill: 8 },
    { name: 'wrapped partial', base: 0xfffffffd, fill: 5 },
    { name: 'wrapped full', base: 0xfffffffa, fill: 8 },
    { name: 'wrapped empty', base: 0xffffffff, fill: 0 },
  ];
  for (const st of states) {
    it(st.name, () => {
      const make = () => {
        const f = k.kfifo_alloc('u8', 8);
        kfifo_set_counters(f, st.base);
        expect(k.kfifo_in(f, Uint8Array.from({ length: st.fill }, (_, i) => 10 + i))).toBe(st.fill);
        return f;
      };
      const f = make();
      const len = st.fill;
      expect(k.kfifo_len(f)).toBe(len);
      expect(k.kfifo_avail(f)).toBe(8 - len);
      expect(k.kfifo_is_empty(f)).toBe(len === 0);
      expect(k.kfifo_is_full(f)).toBe(len === 8);
      expect(k.kfifo_size(f)).toBe(8);
      expect(k.kfifo_esize(f)).toBe(1);
      expect(k.kfifo_recsize(f)).toBe(0);
      expect(k.kfifo_peek_len(f)).toBe(len);
      expect(k.kfifo_peek(f)).toBe(len ? 10 : undefined);
      expect(k.kfifo_len(f)).toBe(len);
      const tail = new Uint32Array(1);
      const slot = (st.base >>> 0) & 7;
      expect(k.kfifo_out_linear(f, tail, 100)).toBe(Math.min(len, 8 - slot));
      expect(tail[0]).toBe(slot);
      const dst = new Uint8Array(10);
      expect(k.kfifo_out_peek(f, dst)).toBe(len);
      expect([...dst.subarray(0, len)]).toEqual(Array.from({ length: len }, (_, i) => 10 + i));
      expect(k.kfifo_put(f, 99)).toBe(len < 8 ? 1 : 0);
      expect(k.kfifo_in(f, u8(1, 2, 3))).toBe(Math.min(3, 8 - Math.min(8, len + 1)));
      // consumer side on a fresh copy of the state
      const g = make();
      expect(k.kfifo_get(g)).toBe(len ? 10 : undefined);
      expect(k.kfifo_out(g, dst, 2)).toBe(Math.max(0, Math.min(2, len - 1)));
      expect(k.kfifo_len(g)).toBe(Math.max(0, len - 3));
      k.kfifo_reset_out(g);
      expect([k.kfifo_len(g), kfifoCounters(g)[0], kfifoCounters(g)[1]]).toEqual([0, (st.base + len) >>> 0, (st.base + len) >>> 0]);
    });
  }

  it('kfifo_skip on an empty fifo advances out with no check, as the kernel: len wraps to 2^32 - 1', () => {
    const f = k.kfifo_alloc('u8', 8);
    k.kfifo_skip(f);
    expect(kfifoCounters(f)).toEqual([0, 1]);
    expect(k.kfifo_len(f)).toBe(0xffffffff);
    expect(k.kfifo_is_full(f)).toBe(true);
    expect(k.kfifo_is_empty(f)).toBe(false);
    k.kfifo_skip_count(f, 0xffffffff); // back to in == out
    expect(k.kfifo_is_empty(f)).toBe(true);
  });
});

/** A reference model: the kernel's arithmetic, on plain JS arrays. */
describe('model: random operations against a reference, every element type and record size', () => {
  const types: k.KfifoType[] = ['u8', 's8', 'u16', 's16', 'u32', 's32', 'f32', 'f64', 's64', 'u64'];
  const norm: Record<string, (v: number) => number | bigint> = {
    u8: (v) => v & 0xff, s8: (v) => (v << 24) >> 24, u16: (v) => v & 0xffff, s16: (v) => (v << 16) >> 16,
    u32: (v) => v >>> 0, s32: (v) => v | 0, f32: (v) => Math.fround(v / 8), f64: (v) => v / 8,
    s64: (v) => BigInt.asIntN(64, BigInt(v) * -3000000000n), u64: (v) => BigInt.asUintN(64, BigInt(v) * -3000000000n),
  };
  for (const type of types) {
    it(type, () => {
      const rnd = mulberry32(type.length * 7919 + type.charCodeAt(0));
      const big = type === 's64' || type === 'u64';
      const size = 16;
      const f = k.kfifo_alloc(type, 11);
      const base = [0, 0xfffffff0, 0x7ffffff8][Math.floor(rnd() * 3)]!;
      kfifo_set_counters(f, base);
      const Ctor = f.data.constructor as new (n: number) => k.KfifoArray;
      const q: (number | bigint)[] = [];
      let seq = 0;
      const value = () => norm[type]!(seq++ * 2654435761);
      for (let step = 0; step < 4000; step++) {
        const op = Math.floor(rnd() * 7.1); // 7: a reset now and then (the per-thread counter caches must follow)
        const n = Math.floor(rnd() * 24);
        if (op === 0) {
          const v = value();
          expect(k.kfifo_put(f, v as never)).toBe(q.length < size ? 1 : 0);
          if (q.length < size) q.push(v);
        } else if (op === 1) {
          const src = new Ctor(n);
          for (let i = 0; i < n; i++) (src as unknown as (number | bigint)[])[i] = value();
          const c = Math.min(n, size - q.length);
          expect(k.kfifo_in(f, src, n)).toBe(c);
          for (let i = 0; i < c; i++) q.push(src[i]!);
        } else if (op === 2 || op === 3) {
          const dst = new Ctor(n + 2);
          const c = Math.min(n, q.length);
          expect(op === 2 ? k.kfifo_out(f, dst, n, 2) : k.kfifo_out_peek(f, dst, n, 2)).toBe(c);
          expect([...dst.subarray(2, 2 + c)]).toEqual(q.slice(0, c));
          if (op === 2) q.splice(0, c);
        } else if (op === 4) {
          expect(k.kfifo_get(f)).toBe(q.length ? q.shift() : undefined);
        } else if (op === 5) {
          const c = Math.min(n, q.length);
          k.kfifo_skip_count(f, c);
          q.splice(0, c);
        } else if (op === 6) {
          expect(k.kfifo_peek(f)).toBe(q.length ? q[0] : undefined);
        } else {
          if (n & 1) k.kfifo_reset(f);
          else k.kfifo_reset_out(f);
          q.length = 0;
        }
        expect([k.kfifo_len(f), k.kfifo_avail(f), k.kfifo_is_empty(f), k.kfifo_is_full(f), k.kfifo_peek_len(f)])
          .toEqual([q.length, size - q.length, q.length === 0, q.length === size, q.length * f.data.BYTES_PER_ELEMENT]);
      }
      expect(big ? typeof q[0] : 'x').toBe(big && q.length ? 'bigint' : big ? 'undefined' : 'x');
    });
  }

  for (const type of ['rec_ptr_1', 'rec_ptr_2'] as const) {
    it(type, () => {
      const rs = type === 'rec_ptr_1' ? 1 : 2;
      const rnd = mulberry32(rs * 31);
      const size = 64;
      const f = k.kfifo_alloc(type, size);
      kfifo_set_counters(f, 0xffffffc0 + rs);
      const q: number[][] = [];
      let used = 0;
      let seq = 0;
      for (let step = 0; step < 4000; step++) {
        const op = Math.floor(rnd() * 5);
        const n = Math.floor(rnd() * 40);
        if (op === 0 || op === 4) {
          const rec = Array.from({ length: n }, () => seq++ & 0xff);
          const fits = n + rs <= size - used;
          expect(k.kfifo_in(f, Uint8Array.from(rec))).toBe(fits ? n : 0);
          if (fits) {
            q.push(rec);
            used += n + rs;
          }
        } else if (op === 1 || op === 2) {
          const dst = new Uint8Array(n);
          const want = q.length ? Math.min(n, q[0]!.length) : 0;
          expect(op === 1 ? k.kfifo_out(f, dst) : k.kfifo_out_peek(f, dst)).toBe(want);
          if (q.length) expect([...dst.subarray(0, want)]).toEqual(q[0]!.slice(0, want));
          if (op === 1 && q.length) used -= q.shift()!.length + rs;
        } else {
          const v = k.kfifo_get(f);
          expect(v).toBe(q.length && q[0]!.length ? q[0]![0] : undefined);
          if (q.length) used -= q.shift()!.length + rs;
        }
        const a = size - used;
        expect([k.kfifo_len(f), k.kfifo_avail(f), k.kfifo_is_empty(f)]).toEqual([used, a <= rs ? 0 : a - rs, used === 0]);
        if (q.length) expect(k.kfifo_peek_len(f)).toBe(q[0]!.length);
      }
    });
  }
});

describe('records', () => {
  it('kfifo_put / kfifo_get / kfifo_peek on a record fifo: 1-byte records; a zero-length record gives undefined and is consumed', () => {
    const f = k.kfifo_alloc('rec_ptr_2', 8);
    expect(k.kfifo_put(f, 0x141)).toBe(1); // stored as a byte: 0x41
    expect([...f.data.subarray(0, 3)]).toEqual([1, 0, 0x41]);
    expect(k.kfifo_in(f, new Uint8Array(0))).toBe(0); // a zero-length record: stored, and returns 0
    expect(k.kfifo_len(f)).toBe(5);
    expect(k.kfifo_put(f, 7)).toBe(1);
    expect(k.kfifo_put(f, 8)).toBe(0); // 3 bytes needed, 0 free
    expect(k.kfifo_peek(f)).toBe(0x41);
    expect(k.kfifo_get(f)).toBe(0x41);
    expect(k.kfifo_len(f)).toBe(5);
    expect(k.kfifo_get(f)).toBe(undefined); // the zero-length record
    expect(k.kfifo_len(f)).toBe(3);
    expect(k.kfifo_get(f)).toBe(7);
    expect(k.kfifo_get(f)).toBe(undefined);
    expect(k.kfifo_len(f)).toBe(0);
  });

  it('a record longer than its header can say is stored as the kernel stores it (truncated header), with a warning', async () => {
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const f = k.kfifo_alloc('rec_ptr_1', 1024);
    const rec = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    expect(k.kfifo_in(f, rec)).toBe(300);
    expect(k.kfifo_len(f)).toBe(301);
    expect(f.data[0]).toBe(300 & 0xff);
    expect(k.kfifo_peek_len(f)).toBe(44);
    const out = new Uint8Array(300);
    expect(k.kfifo_out(f, out)).toBe(44); // the reader misparses, as in the kernel
    expect(k.kfifo_len(f)).toBe(301 - 45);
    const w = (await warned) as Error & { code: string };
    expect([w.name, w.code]).toEqual(['KtimersWarning', 'KTIMERS_WARN_KFIFO_RECORD_TOO_LONG']);
  });

  it('out_linear on a record fifo: tail = out + recsize, unmasked (lib/kfifo.c __kfifo_out_linear_r)', () => {
    const f = k.kfifo_alloc('rec_ptr_2', 16);
    const tail = new Uint32Array(1);
    expect(k.kfifo_out_linear(f, tail, 100)).toBe(0);
    kfifo_set_counters(f, 0xffffffff);
    k.kfifo_in(f, u8(1, 2, 3, 4));
    expect(k.kfifo_out_linear(f, tail, 100)).toBe(4);
    expect(tail[0]).toBe(1); // 0xffffffff + 2 wraps to 1 (the u32 tail), not & mask
    expect(k.kfifo_out_linear(f, tail, 3)).toBe(3);
  });

  it('records wrap across the end of the buffer (header split, payload split)', () => {
    const f = k.kfifo_alloc('rec_ptr_2', 16);
    kfifo_set_counters(f, 15);
    expect(k.kfifo_in(f, u8(9, 8, 7, 6, 5))).toBe(5);
    expect([f.data[15], f.data[0]]).toEqual([5, 0]);
    const out = new Uint8Array(5);
    expect(k.kfifo_out(f, out)).toBe(5);
    expect([...out]).toEqual([9, 8, 7, 6, 5]);
  });

  // The record path copies through cached per-buffer DataViews once the same buffer comes twice
  // in a row, a word at a time; this drives it against a reference: reused buffers rewritten
  // between calls, alternating buffers, offsets, Buffers at a byte offset in a shared pool,
  // lengths on both sides of the word size, and records split across the end of the ring.
  for (const type of ['rec_ptr_1', 'rec_ptr_2'] as const) {
    it(`${type}: reused, alternating and offset buffers, across the end of the ring, against a reference`, () => {
      const rnd = mulberry32(type === 'rec_ptr_1' ? 4242 : 4343);
      const f = k.kfifo_alloc(type, 128);
      const rs = type === 'rec_ptr_1' ? 1 : 2;
      kfifo_set_counters(f, 0xffffffc0);
      const ins = [new Uint8Array(80), Buffer.alloc(80), Buffer.from(new Uint8Array(200).buffer, 37, 80)];
      const outs = [new Uint8Array(80), Buffer.from(new Uint8Array(200).buffer, 13, 80)];
      const q: number[][] = [];
      let used = 0;
      let seq = 1;
      let bi = 0;
      let bo = 0;
      for (let step = 0; step < 6000; step++) {
        if (rnd() < 0.52) {
          if (rnd() < 0.1) bi = (bi + 1) % ins.length;
          const src = ins[bi]!;
          const off = rnd() < 0.7 ? 0 : Math.floor(rnd() * 9);
          const n = Math.floor(rnd() * 71);
          for (let i = 0; i < n; i++) src[off + i] = seq++ & 0xff;
          const fits = n + rs <= 128 - used;
          expect(k.kfifo_in(f, src, n, off)).toBe(fits ? n : 0);
          if (fits) {
            q.push([...src.subarray(off, off + n)]);
            used += n + rs;
          }
        } else {
          if (rnd() < 0.1) bo = (bo + 1) % outs.length;
          const dst = outs[bo]!;
          dst.fill(0xee);
          const off = rnd() < 0.7 ? 0 : Math.floor(rnd() * 9);
          const cap = rnd() < 0.8 ? 80 - off : Math.floor(rnd() * 40);
          const want = q.shift();
          const got = k.kfifo_out(f, dst, cap, off);
          if (want === undefined) {
            expect(got).toBe(0);
            continue;
          }
          used -= want.length + rs;
          const l = Math.min(cap, want.length);
          expect(got).toBe(l);
          expect([...dst.subarray(off, off + l)]).toEqual(want.slice(0, l));
          expect(dst[off + l] ?? 0xee).toBe(0xee); // nothing past what was copied
        }
        expect(k.kfifo_len(f)).toBe(used);
      }
    });
  }
});

describe('bad input', () => {
  const f = k.kfifo_alloc('u32', 8);
  const r = k.kfifo_alloc('rec_ptr_1', 8);
  const b = k.kfifo_alloc('u64', 8);
  const cases: [string, () => unknown, string][] = [
    ['alloc type', () => k.kfifo_alloc('u128' as never, 8), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['alloc size type', () => k.kfifo_alloc('u8', '8' as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['alloc size negative', () => k.kfifo_alloc('u8', -1), 'RangeError ERR_OUT_OF_RANGE'],
    ['alloc size fraction', () => k.kfifo_alloc('u8', 2.5), 'RangeError ERR_OUT_OF_RANGE'],
    ['alloc size 2^32', () => k.kfifo_alloc('u8', 2 ** 32), 'RangeError ERR_OUT_OF_RANGE'],
    ['fifo null', () => k.kfifo_len(null as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['fifo forged', () => k.kfifo_len({ type: 'u8', ctrl: new Int32Array(32), data: new Uint8Array(8) } as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['fifo not pow2', () => k.kfifo_len({ ...f, data: new Uint32Array(new SharedArrayBuffer(24)) } as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['fifo ring over its own control words', () => k.kfifo_len({ ...f, data: new Uint32Array(f.ctrl.buffer as SharedArrayBuffer, 64, 8) } as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['fifo wrong data type', () => k.kfifo_len({ ...f, type: 'u8' } as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['fifo getter', () => k.kfifo_len({ type: 'u32', get ctrl() { return f.ctrl; }, data: f.data } as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['fifo proxy', () => k.kfifo_len(new Proxy({}, { getOwnPropertyDescriptor() { throw new Error('trap'); } }) as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['in buf type', () => k.kfifo_in(f, new Uint8Array(4)), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['in buf array', () => k.kfifo_in(f, [1, 2] as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['in n past buf', () => k.kfifo_in(f, new Uint32Array(4), 5), 'RangeError ERR_OUT_OF_RANGE'],
    ['in n + offset past buf', () => k.kfifo_in(f, new Uint32Array(4), 3, 2), 'RangeError ERR_OUT_OF_RANGE'],
    ['in offset past buf', () => k.kfifo_in(f, new Uint32Array(4), undefined, 5), 'RangeError ERR_OUT_OF_RANGE'],
    ['in n NaN', () => k.kfifo_in(f, new Uint32Array(4), NaN), 'RangeError ERR_OUT_OF_RANGE'],
    ['in n string', () => k.kfifo_in(f, new Uint32Array(4), '1' as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['out buf type', () => k.kfifo_out(f, new Int32Array(4)), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['out n negative', () => k.kfifo_out(f, new Uint32Array(4), -1), 'RangeError ERR_OUT_OF_RANGE'],
    ['rec in Int8Array', () => k.kfifo_in(r, new Int8Array(2)), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['put bigint into u32', () => k.kfifo_put(f, 1n as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['put number into u64', () => k.kfifo_put(b, 1 as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['put string', () => k.kfifo_put(f, '1' as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['out_linear tail', () => k.kfifo_out_linear(f, [0] as never, 1), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['out_linear tail empty', () => k.kfifo_out_linear(f, new Uint32Array(0), 1), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['skip_count negative', () => k.kfifo_skip_count(f, -1), 'RangeError ERR_OUT_OF_RANGE'],
    ['wait timeout', () => k.kfifo_wait(f, -1), 'RangeError ERR_OUT_OF_RANGE'],
    ['wait timeout type', () => k.kfifo_wait(f, 1n as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['wait_space n 0', () => k.kfifo_wait_space(f, 0, 0), 'RangeError ERR_OUT_OF_RANGE'],
    ['wait_space n > size', () => k.kfifo_wait_space(f, 9, 0), 'RangeError ERR_OUT_OF_RANGE'],
    ['init buffer', () => k.kfifo_init('u8', {} as never), 'TypeError ERR_INVALID_ARG_TYPE'],
    ['set_counters not empty', () => { k.kfifo_put(f, 1); try { kfifo_set_counters(f, 5); } finally { k.kfifo_reset(f); } }, 'TypeError ERR_KTIMERS_KFIFO_NOT_EMPTY'],
    ['set_counters range', () => kfifo_set_counters(f, 2 ** 32), 'RangeError ERR_OUT_OF_RANGE'],
  ];
  for (const [name, call, want] of cases) it(name, () => expect(codeOf(call)).toBe(want));

  it('rejected calls change nothing', () => {
    const g = k.kfifo_alloc('u32', 8);
    k.kfifo_in(g, Uint32Array.of(1, 2, 3));
    const before = [...kfifoCounters(g), ...g.data];
    for (const call of [
      () => k.kfifo_in(g, new Uint32Array(2), 3),
      () => k.kfifo_out(g, new Uint32Array(2), 3),
      () => k.kfifo_out(g, new Uint8Array(2)),
      () => k.kfifo_put(g, 'x' as never),
      () => k.kfifo_skip_count(g, NaN),
    ]) expect(codeOf(call)).not.toBe('no throw');
    expect([...kfifoCounters(g), ...g.data]).toEqual(before);
  });

  it('a freed fifo: queries answer as the kernel; ring calls throw ERR_KTIMERS_KFIFO_FREED; waits end', async () => {
    const g = k.kfifo_alloc('rec_ptr_1', 8);
    const clone = structuredClone(g);
    const pending = k.kfifo_wait_async(clone);
    k.kfifo_free(g);
    expect(await pending).toBe('closed');
    expect([k.kfifo_size(g), k.kfifo_len(g), k.kfifo_avail(g), k.kfifo_is_empty(g), k.kfifo_is_full(g), k.kfifo_recsize(g)]).toEqual([1, 0, 0, true, false, 1]);
    for (const call of [() => k.kfifo_in(g, u8(1)), () => k.kfifo_out(g, u8(1)), () => k.kfifo_get(g), () => k.kfifo_put(g, 1), () => k.kfifo_peek_len(g), () => k.kfifo_wait(g, 0)]) {
      expect(codeOf(call)).toBe('TypeError ERR_KTIMERS_KFIFO_FREED');
    }
    await expect(k.kfifo_wait_async(g)).rejects.toMatchObject({ code: 'ERR_KTIMERS_KFIFO_FREED' });
    k.kfifo_free(g); // twice: nothing
    // the clone is another object: it still works
    expect(k.kfifo_in(clone, u8(1, 2))).toBe(2);
    expect(k.kfifo_len(clone)).toBe(3);
  });

  // Every export, random arguments from a pool of valid and invalid values: each call
  // returns, or throws / rejects a coded TypeError or RangeError; nothing hangs.
  it('fuzz: every kfifo export, random arguments', async () => {
    const fns = { ...k, kfifo_set_counters } as unknown as Record<string, (...a: unknown[]) => unknown>;
    const names = Object.keys(fns).filter((n) => n.startsWith('kfifo_') && typeof fns[n] === 'function');
    expect(names.length).toBe(31);
    const rnd = mulberry32(4242);
    const pool = (): unknown[] => {
      const fifos = (['u8', 's16', 'f64', 'u64', 'rec_ptr_1', 'rec_ptr_2'] as const).map((t) => k.kfifo_alloc(t, 8));
      k.kfifo_in(fifos[0]!, u8(1, 2, 3));
      k.kfifo_in(fifos[4]!, u8(1, 2, 3));
      const freed = k.kfifo_alloc('u8', 4);
      k.kfifo_free(freed);
      return [
        ...fifos, freed, structuredClone(fifos[0]), { ...fifos[1] }, { type: 'u8' },
        new Proxy({}, { getOwnPropertyDescriptor() { throw new Error('trap'); }, get() { throw new Error('trap'); } }),
        undefined, null, 0, 1, 3, 8, 2 ** 31 + 1, 2 ** 32, -1, 0.5, NaN, Infinity, 1n, -1n, 2n ** 40n, 'u8', 'rec_ptr_2', 'x', {}, [],
        new Uint8Array(4), new Int16Array(4), new Float64Array(4), new BigUint64Array(4), new Uint32Array(1), new Uint8Array(new SharedArrayBuffer(16)),
        new SharedArrayBuffer(8), new ArrayBuffer(8), Buffer.alloc(3), () => 1, Symbol('s'),
      ];
    };
    const values = pool();
    const isWait = (n: string) => n.includes('wait');
    let calls = 0;
    let rejected = 0;
    for (let i = 0; i < 6000; i++) {
      const name = names[Math.floor(rnd() * names.length)]!;
      const argc = Math.floor(rnd() * 5);
      const args = Array.from({ length: argc }, () => values[Math.floor(rnd() * values.length)]);
      // a wait with no deadline would sleep: give it 0 ms where the timeout sits
      if (isWait(name)) {
        const ti = name.includes('space') ? 2 : 1;
        if (args.length <= ti || typeof args[ti] === 'number') args[ti] = 0;
      }
      calls++;
      let r: unknown;
      try {
        r = fns[name]!(...args);
        if (name === 'kfifo_reader') r = (r as AsyncIterator<unknown>).return?.();
        if (r instanceof Promise) await r;
      } catch (e) {
        rejected++;
        const ok = (e instanceof TypeError || e instanceof RangeError) && typeof (e as { code?: unknown }).code === 'string';
        if (!ok) throw new Error(`${name}(${args.map((a) => typeof a).join(', ')}) threw ${String(e)}`);
      }
    }
    expect(calls).toBe(6000);
    expect(rejected).toBeGreaterThan(1000);
  });
});

describe('across threads', () => {
  it('a fifo sent with workerData and postMessage works from both sides (records through two clones, both ways)', async () => {
    const from = k.kfifo_alloc('rec_ptr_1', 512);
    const to = k.kfifo_alloc('rec_ptr_2', 1024);
    const w = new Worker(fixture, { workerData: { mode: 'echo', from } });
    const msgs: unknown[] = [];
    const ready = new Promise((resolve) => w.once('message', resolve));
    w.on('message', (m) => msgs.push(m));
    const done = exited(w);
    await ready;
    w.postMessage({ to });
    const rnd = mulberry32(7);
    const sent: number[][] = [];
    const got: number[][] = [];
    const reader = (async () => {
      for await (const rec of k.kfifo_reader(to)) got.push([...(rec as Uint8Array)]);
    })();
    for (let i = 0; i < 2000; i++) {
      const rec = Array.from({ length: 1 + Math.floor(rnd() * 255) }, () => Math.floor(rnd() * 256));
      while (k.kfifo_in(from, Uint8Array.from(rec)) === 0) {
        expect(await k.kfifo_wait_space_async(from, rec.length + 1, 30_000 * SLOWDOWN)).toBe('ok');
      }
      sent.push(rec);
    }
    k.kfifo_close(from);
    await reader;
    expect(await done).toBe(0);
    expect(got.length).toBe(2000);
    expect(got).toEqual(sent.map((r) => [...r].reverse()));
    expect(msgs.at(-1)).toEqual({ size: 512, esize: 1, recsize: 2 });
  });

  it('10^7 sequence numbers from a worker to the main thread (batched, waitAsync consumer): none lost, duplicated or reordered', async () => {
    const COUNT = 10_000_000;
    const fifo = k.kfifo_alloc('u32', 1 << 16);
    const w = new Worker(fixture, { workerData: { mode: 'produce', fifo, count: COUNT, batch: 4096 } });
    const done = exited(w);
    const buf = new Uint32Array(8192);
    let expectNext = 0;
    let firstBad = -1;
    const t0 = performance.now();
    for (;;) {
      const n = k.kfifo_out(fifo, buf);
      for (let i = 0; i < n; i++) if (buf[i] !== expectNext + i && firstBad < 0) firstBad = expectNext + i;
      expectNext += n;
      if (n === 0) {
        const r = await k.kfifo_wait_async(fifo, 60_000 * SLOWDOWN);
        if (r !== 'ok') break;
      }
    }
    const ms = performance.now() - t0;
    expect(firstBad).toBe(-1);
    expect(expectNext).toBe(COUNT);
    expect(k.kfifo_is_closed(fifo)).toBe(true);
    expect(await done).toBe(0);
    console.log(`kfifo: 10^7 u32 worker -> main in ${ms.toFixed(0)} ms`);
  });

  it('10^6 from the main thread to a blocking consumer in a worker (Atomics.wait path)', async () => {
    const COUNT = 1_000_000;
    const fifo = k.kfifo_alloc('u32', 1024);
    const w = new Worker(fixture, { workerData: { mode: 'consume', fifo, batch: 300 } });
    const result = new Promise<{ received: number; firstBad: number; closed: boolean }>((resolve) => w.once('message', resolve));
    const done = exited(w);
    const buf = new Uint32Array(700);
    let next = 0;
    while (next < COUNT) {
      const n = Math.min(buf.length, COUNT - next);
      for (let i = 0; i < n; i++) buf[i] = next + i;
      let sent = 0;
      while (sent < n) {
        const c = k.kfifo_in(fifo, buf, n - sent, sent);
        sent += c;
        if (c === 0) expect(await k.kfifo_wait_space_async(fifo, 1, 30_000 * SLOWDOWN)).toBe('ok');
      }
      next += n;
    }
    k.kfifo_close(fifo);
    expect(await result).toEqual({ received: COUNT, firstBad: -1, closed: true });
    expect(await done).toBe(0);
  });

  // A lost wake-up leaves one side asleep until the backstop: the test fails by its error, well
  // within the test's own time limit.
  it('no lost wake-up: 20000 ping-pong rounds, each put landing at a varying moment around the other side registering as a sleeper (async and blocking)', async () => {
    const ROUNDS = 20_000;
    const backstop = 10_000 * SLOWDOWN;
    const ping = k.kfifo_alloc('u32', 2);
    const pong = k.kfifo_alloc('u32', 2);
    const w = new Worker(fixture, { workerData: { mode: 'pingpong', ping, pong, rounds: ROUNDS, seed: 99, backstop } });
    const done = exited(w);
    let r = 0;
    for (;;) {
      const v = k.kfifo_get(ping);
      if (v === undefined) {
        // Sleep: the worker's put races this registration. A lost wake-up shows as the backstop.
        const res = await k.kfifo_wait_async(ping, backstop);
        if (res === 'closed') break;
        expect(res, `round ${r}`).toBe('ok');
        continue;
      }
      expect(v).toBe(r);
      expect(k.kfifo_put(pong, r)).toBe(1);
      r++;
    }
    expect(r).toBe(ROUNDS);
    expect(await done).toBe(0);
  }, 60_000 * SLOWDOWN);

  // The other side's publish at each point of the registration, deterministically (the hook runs
  // it there): the sleeper must not sleep through it. The ping-pong stress above gives the
  // same races real concurrency, but on a loaded 2-core machine it cannot aim at a window of a
  // few instructions.
  for (const point of [0, 1] as const) {
    for (const how of ['wait', 'wait_async', 'wait_space', 'wait_space_async'] as const) {
      it(`no lost wake-up: a publish at registration point ${point} wakes kfifo_${how}`, async () => {
        const f = k.kfifo_alloc('u8', 2);
        const space = how.startsWith('wait_space');
        if (space) k.kfifo_in(f, u8(1, 2));
        let fired = 0;
        kfifoRaceHook((p) => {
          if (p !== point || fired++) return;
          if (space) k.kfifo_get(f);
          else k.kfifo_put(f, 7);
        });
        // A lost wake-up sleeps to the timeout: the bound is half of it, both scaled, so a busy
        // machine cannot make a prompt wake-up look lost.
        const T = 10_000 * SLOWDOWN;
        const t0 = performance.now();
        try {
          const r =
            how === 'wait' ? k.kfifo_wait(f, T) :
            how === 'wait_async' ? await k.kfifo_wait_async(f, T) :
            how === 'wait_space' ? k.kfifo_wait_space(f, 1, T) : await k.kfifo_wait_space_async(f, 1, T);
          expect(r).toBe('ok');
        } finally {
          kfifoRaceHook(undefined);
        }
        expect(fired).toBe(1);
        expect(performance.now() - t0).toBeLessThan(T / 2); // woke at once, not at the timeout
      });
    }
  }

  it('waiters: the producer notifies once per sleeper, not per element; kfifo_wait times out', async () => {
    const f = k.kfifo_alloc('u8', 4);
    const FLAG = 1;
    const SEQ = 2;
    // nobody waiting: put does not touch the sequence word (no notify)
    for (let i = 0; i < 3; i++) k.kfifo_put(f, i);
    expect(Atomics.load(f.ctrl, SEQ)).toBe(0);
    expect(k.kfifo_wait(f, 0)).toBe('ok');
    k.kfifo_reset(f);
    expect(k.kfifo_wait(f, 5)).toBe('timed-out');
    expect(await k.kfifo_wait_async(f, 5)).toBe('timed-out');
    // a registration left by the timeouts costs one notify, which takes it
    expect(Atomics.load(f.ctrl, FLAG)).toBe(1);
    k.kfifo_put(f, 1);
    expect([Atomics.load(f.ctrl, FLAG), Atomics.load(f.ctrl, SEQ)]).toEqual([0, 1]);
    k.kfifo_put(f, 2);
    expect(Atomics.load(f.ctrl, SEQ)).toBe(1);
    k.kfifo_reset(f);
    // a sleeping async waiter: registered; the first put wakes it, the next ones do not notify again
    const p = k.kfifo_wait_async(f);
    expect(Atomics.load(f.ctrl, FLAG)).toBe(1);
    k.kfifo_put(f, 9);
    k.kfifo_put(f, 10);
    k.kfifo_put(f, 11);
    expect(Atomics.load(f.ctrl, SEQ)).toBe(2);
    expect(await p).toBe('ok');
    expect(Atomics.load(f.ctrl, FLAG)).toBe(0);
    k.kfifo_reset(f);
    k.kfifo_put(f, 9);
    // close: data still drains first, then 'closed'
    k.kfifo_close(f);
    expect(k.kfifo_wait(f, 0)).toBe('ok');
    k.kfifo_get(f);
    expect(k.kfifo_wait(f)).toBe('closed');
    expect(await k.kfifo_wait_async(f)).toBe('closed');
    expect(k.kfifo_wait_space(f)).toBe('closed');
    // space waits
    const g = k.kfifo_alloc('u8', 2);
    k.kfifo_in(g, u8(1, 2));
    expect(k.kfifo_wait_space(g, 1, 5)).toBe('timed-out');
    const q = k.kfifo_wait_space_async(g, 2);
    expect(Atomics.load(g.ctrl, 17)).toBe(1);
    k.kfifo_get(g); // 1 free, 2 needed: the waiter wakes, re-checks and sleeps again
    k.kfifo_get(g);
    expect(await q).toBe('ok');
    expect(k.kfifo_len(g)).toBe(0);
  });

  it('the hot paths allocate nothing: no GC in 10^6 rounds of kfifo_in/kfifo_out (records, u32 batches) and kfifo_put/kfifo_get', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(new URL('./fixtures/kfifo/no-alloc.mjs', import.meta.url))], {
      encoding: 'utf8',
      timeout: 60_000 * SLOWDOWN,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ gcs: 0, sum: true });
  }, 60_000 * SLOWDOWN);

  it('the record path (whole and partial buffers) and a kfifo_wait_space that finds room allocate nothing before V8 optimises them either (--no-opt): no GC from the first call', async () => {
    // Unoptimised code boxes a value outside the small-integer range in a heap number; a copy
    // loop that moved such values would make a producer collect garbage while it warms up.
    // Bytes of 0xff make every wide word such a value.
    const { spawnSync } = await import('node:child_process');
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const src = `
      import { PerformanceObserver } from 'node:perf_hooks';
      import * as k from ${JSON.stringify(dist)};
      const f = k.kfifo_alloc('rec_ptr_2', 4096);
      const r = new Uint8Array(64).fill(0xff);
      const w = new Uint8Array(40).fill(0xff); // passed whole: kfifo_in's set() path
      const o = new Uint8Array(64);
      let gcs = 0;
      const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
      obs.observe({ entryTypes: ['gc'] });
      globalThis.gc();
      await new Promise((res) => setTimeout(res, 50));
      gcs = 0;
      let s = 0;
      for (let i = 0; i < 200000; i++) {
        // as a producer that waits for room after a full kfifo_in, and finds it at once
        if (k.kfifo_wait_space(f, 80, 1000) !== 'ok') s = (s + 1) | 0;
        s = (s + k.kfifo_in(f, r, 8 + (i & 31) + (i & 16)) - k.kfifo_out(f, o)) | 0;
        s = (s + k.kfifo_in(f, w) - k.kfifo_out(f, o)) | 0;
      }
      await new Promise((res) => setTimeout(res, 50));
      obs.disconnect();
      console.log(JSON.stringify({ gcs, s, last: o[7] }));
    `;
    const r = spawnSync(process.execPath, ['--no-opt', '--expose-gc', '--input-type=module', '-e', src], { encoding: 'utf8', timeout: 60_000 * SLOWDOWN });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ gcs: 0, s: 0, last: 0xff });
  }, 60_000 * SLOWDOWN);

  it('a pending kfifo_wait_async keeps the event loop alive until the worker produces', async () => {
    // A child process whose only pending work is the wait: it must not exit before the value arrives.
    const { spawnSync } = await import('node:child_process');
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const src = `
      import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
      import * as k from ${JSON.stringify(dist)};
      const f = k.kfifo_alloc('u32', 4);
      // (the eval'd worker is a module, as the --input-type of its parent)
      new Worker(\`
        import { workerData } from 'node:worker_threads';
        import * as k from ${JSON.stringify(dist)};
        const t = Date.now(); while (Date.now() - t < 200);
        k.kfifo_put(workerData, 42);
      \`, { eval: true, workerData: f }).unref();
      k.kfifo_wait_async(f).then((r) => console.log(r, k.kfifo_get(f)));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8', timeout: 30_000 * SLOWDOWN });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok 42');
  });
});
