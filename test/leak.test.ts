// Leaks: 4,000,000 create / arm / cancel cycles of each timer kind (1,000,000
// under ASan, where memory is not bounded) and 100,000 work items (below), in a child
// process (--expose-gc, so the figures are its own and after a full GC), in
// rounds of 1,000 timers so the native slot pools must be reused, not grown.
// The long soak (10 M cycles, firing timers, RSS sampled over time) is
// `npm run soak` (scripts/soak.js), with its figures in docs/reliability.md.
//
// Bounds, and why:
// - open fds (/proc/self/fd): exactly the start count (the engine's epoll fd and
//   4 timerfds are opened once per environment, in the baseline).
// - memory outside V8's heap (RSS − the heap's resident bytes, v8's
//   total_physical_size: the addon's heaps, slot pools and
//   wheel, libuv, malloc, V8's compiler zones): grows ≤ 8 MB over the second
//   half (2,000,000 cycles), i.e. under 4 bytes per cycle, so any per-cycle native
//   leak fails it; ≤ 16 MB over all (the JIT still tiers up in the first half).
//   RSS − heapTotal, the measure before, moved by megabytes with no leak at all
//   (heapTotal counts committed pages, not all of them resident: see
//   docs/testing.md). The resident size takes most of that out, and the cycles
//   are many enough for a leak of 4 bytes each to stand well clear of the rest.
// - V8 heapUsed after GC: grows ≤ 1 MB (a retained timer is ≥ 100 bytes: 1 M of
//   them would be 100 MB).
// - total RSS: grows ≤ 40 MB. V8's young generation grows under allocation
//   pressure up to two 16 MB semi-spaces and keeps them (heapTotal, not a
//   leak); 8 MB above that is slack.
// - every native slot released: hrtimer slots 0 (timer_list: at most 1, the
//   wheel's own tick hrtimer, armed for a bucket whose timers were deleted,
//   as the kernel leaves next_expiry stale), wheel slots 0, loop ref count 0.
// Under the ASan run (LD_PRELOAD has libasan) ASan's quarantine holds freed
// memory (up to 256 MB) and its allocator has its own overhead, so the RSS
// bounds are not checked there; fds, heapUsed and slots are.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SLOWDOWN, runFixture } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/leak.mjs', import.meta.url));
const underAsan = (process.env.LD_PRELOAD ?? '').includes('libasan');
const MB = 1024 * 1024;
const CYCLES = underAsan ? 1_000_000 : 4_000_000;

interface Mem {
  fds: number;
  threads: number;
  rss: number;
  heapTotal: number;
  heapPhysical: number;
  heapUsed: number;
}
interface LeakRun {
  kind: string;
  cycles: number;
  cancelled: number;
  ms: number;
  before: Mem;
  mid: Mem;
  after: Mem;
  hrtimerSlotsInUse: number;
  refCount: number;
  wheelSlotsInUse: number;
  workQueued: number;
  workRan: number;
  workCancelled: number;
}

async function leakRun(kind: string, cycles = CYCLES, warmup = 200_000): Promise<LeakRun> {
  const r = await runFixture(fixture, [kind, String(cycles)], {
    nodeArgs: ['--expose-gc'],
    timeoutMs: 120_000 * SLOWDOWN,
    env: { KTIMERS_LEAK_WARMUP: String(warmup) },
  });
  expect(r.signal, r.stderr).toBe(null);
  expect(r.status, r.stderr).toBe(0);
  expect(r.json, `no JSON report on the child's last line:\n${r.stdout}\n${r.stderr}`).not.toBe(null);
  return r.json as LeakRun;
}

/** Resident memory outside V8's heap. */
const outside = (m: Mem) => m.rss - m.heapPhysical;

function fmt(r: LeakRun): string {
  const d = (a: number, b: number) => `${((b - a) / MB).toFixed(1)} MB`;
  return (
    `${r.kind}: ${r.cycles} cycles in ${r.ms} ms; fds ${r.before.fds} -> ${r.after.fds}; ` +
    `RSS ${(r.before.rss / MB).toFixed(1)} -> ${(r.after.rss / MB).toFixed(1)} MB (+${d(r.before.rss, r.after.rss)}), ` +
    `outside V8's heap +${d(outside(r.before), outside(r.after))}, ` +
    `second half +${d(outside(r.mid), outside(r.after))}, heapUsed +${d(r.before.heapUsed, r.after.heapUsed)}`
  );
}

describe(`no leaks over ${CYCLES.toLocaleString('en')} create / arm / cancel cycles (child process, --expose-gc)`, () => {
  for (const kind of ['hrtimer', 'timer_list']) {
    it(`${kind}: fds back to the start count, memory bounded, every slot released`, async () => {
      const r = await leakRun(kind);
      console.log(`leak ${fmt(r)}${underAsan ? ' (ASan: RSS not bounded)' : ''}`);
      expect(r.cycles).toBe(CYCLES);
      expect(r.cancelled).toBe(CYCLES); // each cancel / delete found its timer armed
      expect(r.mid.fds).toBe(r.before.fds);
      expect(r.after.fds).toBe(r.before.fds);
      expect(r.after.heapUsed - r.before.heapUsed).toBeLessThanOrEqual(1 * MB);
      if (!underAsan) {
        // The second half against the higher of the two earlier readings: a leak only grows, so a
        // halfway reading below the baseline (an RSS dip after a GC, seen up to 5 MB here) is not
        // where the trend stands, and measuring from it would blame the second half for the dip.
        expect(outside(r.after) - Math.max(outside(r.mid), outside(r.before))).toBeLessThanOrEqual(8 * MB);
        expect(outside(r.after) - outside(r.before)).toBeLessThanOrEqual(16 * MB);
        expect(r.after.rss - r.before.rss).toBeLessThanOrEqual(40 * MB);
      }
      expect(r.hrtimerSlotsInUse).toBeLessThanOrEqual(kind === 'timer_list' ? 1 : 0);
      expect(r.wheelSlotsInUse).toBe(0);
      expect(r.refCount).toBe(0);
    }, 150_000 * SLOWDOWN);
  }
});

// 100,000 work items: created, queued on an unbound queue, every 4th cancelled while
// pending, the rest run on the pool's worker threads, in flushed rounds of 1,000.
// Bounds: fds and threads exactly back (the pool's workers, started in the warm-up,
// stay); every item queued either ran or was cancelled; heapUsed ≤ 8 MB (a retained
// item or completion record of ≥ 80 bytes would exceed it); RSS ≤ 64 MB, since each
// pool worker is a V8 isolate whose young generation also grows to its cap, outside
// the main heap's figures. The 10x longer run with its trend is in the soak.
describe('no leaks over 100,000 work items (child process, --expose-gc)', () => {
  it('workqueue: fds and threads back to the start count, every item ran or was cancelled, memory bounded', async () => {
    const r = await leakRun('workqueue', 100_000, 50_000);
    console.log(`leak ${fmt(r)}; threads ${r.before.threads} -> ${r.after.threads}; ${r.workRan} ran + ${r.workCancelled} cancelled of ${r.workQueued}${underAsan ? ' (ASan: RSS not bounded)' : ''}`);
    expect(r.cycles).toBe(100_000);
    expect(r.mid.fds).toBe(r.before.fds);
    expect(r.after.fds).toBe(r.before.fds);
    expect(r.after.threads).toBe(r.before.threads);
    expect(r.workRan + r.workCancelled).toBe(r.workQueued);
    expect(r.workCancelled).toBeGreaterThan(0);
    expect(r.after.heapUsed - r.before.heapUsed).toBeLessThanOrEqual(8 * MB);
    if (!underAsan) expect(r.after.rss - r.before.rss).toBeLessThanOrEqual(64 * MB);
  }, 150_000 * SLOWDOWN);
});
