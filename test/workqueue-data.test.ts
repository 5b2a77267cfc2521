// Items with data on a pool whose workers block: an item with data is offered to a
// worker only until that worker starts it (lib/internal/wq-pool.ts, wq-shared.ts
// O_CLAIMS), so it never waits behind a blocked item while another worker idles or
// could be started (docs/design/workqueue-pool.md). Before that, a batch of
// data items handed to one worker ran there one after another while the others idled.
// This file runs in its own process (vitest forks): the first test sees a cold pool.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { poolThreads } from '../dist/internal/wq-pool.js';
import { SLOWDOWN, until } from './helpers.js';

const mod = new URL('./fixtures/wq/data-work.mjs', import.meta.url);
const MS = 200;

/** Workers the unbound normal-priority pool has now. */
const unboundWorkers = () => poolThreads().find((p) => p.cpu === -1 && !p.highpri)?.tids.length ?? 0;

/** Items per thread id, most first. */
function perThread(tids: Int32Array): number[] {
  const m = new Map<number, number>();
  for (const t of tids) m.set(t, (m.get(t) ?? 0) + 1);
  return [...m.values()].sort((a, b) => b - a);
}

const q = k.alloc_workqueue('data', k.WQ_UNBOUND, 0)!;
afterAll(() => k.destroy_workqueue(q));

/** n data items, each blocking its worker MS ms, through queue_work; the time until all ran. */
async function viaQueueWork(n: number) {
  const tids = new Int32Array(new SharedArrayBuffer(4 * n));
  const ws = Array.from({ length: n }, (_, i) => {
    const w = new k.work_struct();
    k.INIT_WORK(w, { module: mod, name: 'blockTid' });
    w.data = { tids, i, ms: MS };
    return w;
  });
  const t0 = performance.now();
  for (const w of ws) expect(k.queue_work(q, w)).toBe(true);
  await k.flush_workqueue(q);
  return { ms: performance.now() - t0, tids };
}

describe('items with data are not stranded behind a blocked worker', () => {
  it('cold pool: 6 items of 200 ms each (queue_work) run on at least 3 workers, at most 3 on one (not 5 behind one blocked worker)', async () => {
    expect(unboundWorkers()).toBe(0);
    const r = await viaQueueWork(6);
    expect(r.tids.every((t) => t > 0)).toBe(true);
    const counts = perThread(r.tids);
    // Before the fix: 1.12 s, five items on one worker. Now ~0.5 s here (the pool
    // grows while all its workers block); serial would be 6 x 200 ms. The time on a
    // cold pool is mostly the workers' start-up, which a loaded machine stretches past
    // the serial time (1.35-1.5 s with two CPU burners beside the suite): only how the
    // items were spread is asserted here, the time in the warm-pool tests below.
    expect(counts.length, `items per thread ${counts}, ${r.ms.toFixed(0)} ms`).toBeGreaterThanOrEqual(3);
    expect(counts[0], `items per thread ${counts}, ${r.ms.toFixed(0)} ms`).toBeLessThanOrEqual(3);
  });

  it('warm pool of W workers, W + 3 items: the 3 beyond W are not run one after another by the worker that got them: at most 2 per worker (queue_work)', async () => {
    if (unboundWorkers() === 0) await viaQueueWork(1);
    const W = unboundWorkers();
    const r = await viaQueueWork(W + 3);
    const counts = perThread(r.tids);
    // Before the fix the backlog's 3 went as one batch to one worker: 3 there, ~870 ms.
    // Now workers that finish their first item take them back: at most 2 each, ~300-400 ms.
    expect(counts.length, `items per thread ${counts}`).toBeGreaterThanOrEqual(Math.min(3, W + 1));
    expect(counts[0], `items per thread ${counts}`).toBeLessThanOrEqual(2);
    // A backstop, not the property (the counts are): the stranded batch took ~870 ms, under this
    // bound too, and a busy machine stretched a correct spread to 1.05 s under ASan.
    expect(r.ms).toBeLessThan(5 * MS * SLOWDOWN);
  });

  it('cold pool, through the WorkQueue facade (which always sends data), in a fresh process: 6 items of 200 ms on at least 3 workers, at most 3 on one', () => {
    const script = fileURLToPath(mod);
    const r = spawnSync(process.execPath, [script, 'facade', '6', String(MS)], { encoding: 'utf8', timeout: 20_000 * SLOWDOWN });
    expect(r.status, r.stderr).toBe(0);
    const { ms, tids } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; tids: number[] };
    expect(tids.every((t) => t > 0)).toBe(true);
    const counts = perThread(Int32Array.from(tids));
    // Before the fix: ~1.1 s, five items on one worker. (No time bound on a cold pool: see above.)
    expect(counts.length, `items per thread ${counts}, ${ms.toFixed(0)} ms`).toBeGreaterThanOrEqual(3);
    expect(counts[0], `items per thread ${counts}, ${ms.toFixed(0)} ms`).toBeLessThanOrEqual(3);
  });

  // (Before the fix this one failed only in some runs: whether the pool grew in time decided it.
  // The cold facade case above is the facade's regression test.)
  it('warm pool of W workers, W + 3 items through the WorkQueue facade: at most 2 per worker', async () => {
    const wq = new k.WorkQueue({ name: 'data-facade' });
    try {
      const W = unboundWorkers();
      expect(W).toBeGreaterThanOrEqual(1);
      const n = W + 3;
      const tids = new Int32Array(new SharedArrayBuffer(4 * n));
      const t0 = performance.now();
      await Promise.all(Array.from({ length: n }, (_, i) => wq.queue({ module: mod, name: 'blockTid' }, { tids, i, ms: MS })));
      const ms = performance.now() - t0;
      const counts = perThread(tids);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
      expect(tids.every((t) => t > 0)).toBe(true);
      expect(counts.length, `items per thread ${counts}`).toBeGreaterThanOrEqual(Math.min(3, W + 1));
      expect(counts[0], `items per thread ${counts}`).toBeLessThanOrEqual(2);
      expect(ms).toBeLessThan(5 * MS * SLOWDOWN); // a backstop: see the queue_work case above
    } finally {
      await wq.close();
    }
  });

  it('items with data a worker held unstarted when it exited run on another worker (only its running item is reported ERR_KTIMERS_WORKER_EXIT)', async () => {
    // CPU 0's pool has one worker, held by a latched item; the exiting item and three
    // more wait until the stall check starts a second worker, which is handed all four
    // as one batch and exits in the first.
    const q = k.alloc_workqueue('data-lost', 0, 0)!; // per-CPU
    const errs: Error[] = [];
    q.on('error', (e) => errs.push(e));
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const counts = new Int32Array(new SharedArrayBuffer(4));
    const mk = (name: string, data: unknown) => {
      const w = new k.work_struct();
      k.INIT_WORK(w, { module: mod, name });
      w.data = data;
      return w;
    };
    try {
      k.queue_work_on(0, q, mk('latched', { i32: gate }));
      await until(() => Atomics.load(gate, 1) === 1, 5000 * SLOWDOWN);
      k.queue_work_on(0, q, mk('exitNow', { x: 1 }));
      for (let i = 0; i < 3; i++) k.queue_work_on(0, q, mk('count', { counts }));
      await until(() => errs.length >= 1 && Atomics.load(counts, 0) === 3, 10_000 * SLOWDOWN);
      expect(errs.map((e) => (e as { code?: string }).code)).toEqual(['ERR_KTIMERS_WORKER_EXIT']);
      expect(errs[0]!.message).toMatch(/exitNow .* did not finish/);
    } finally {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await k.flush_workqueue(q);
      await k.destroy_workqueue(q);
    }
    expect(Atomics.load(counts, 0)).toBe(3);
    expect(errs).toHaveLength(1);
  });
});
