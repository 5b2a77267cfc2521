// Shared helpers of the kthread_worker tests: works bound to the fixture
// functions of test/fixtures/kthread/work.mjs, SharedArrayBuffer latches, and
// event waits with a SLOWDOWN-scaled backstop (never a sleep standing in for an event).
import * as k from '../dist/index.js';
import { SLOWDOWN } from './helpers.js';

export const fx = new URL('./fixtures/kthread/work.mjs', import.meta.url);
export const BACKSTOP = 20_000 * SLOWDOWN;

export function i32(n = 16): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

export function work(name: string, data?: unknown): k.kthread_work {
  const w = new k.kthread_work();
  k.kthread_init_work(w, { module: fx, name });
  w.data = data;
  return w;
}

export function dwork(name: string, data?: unknown): k.kthread_delayed_work {
  const d = new k.kthread_delayed_work();
  k.kthread_init_delayed_work(d, { module: fx, name });
  d.work.data = data;
  return d;
}

/** Resolves when a[idx] >= v (Atomics.waitAsync: the event loop keeps running); rejects after the backstop. */
export async function reach(a: Int32Array, idx: number, v: number, what = `word ${idx} >= ${v}`): Promise<void> {
  const end = Date.now() + BACKSTOP;
  for (;;) {
    const cur = Atomics.load(a, idx);
    if (cur >= v) return;
    const left = end - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what} (at ${cur})`);
    const r = Atomics.waitAsync(a, idx, cur, Math.min(left, 50));
    if (r.async) await r.value;
  }
}

/** Settles with p, or rejects after the backstop (a hang is a failure, not a stuck run). */
export function within<T>(p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`timed out: ${what}`)), BACKSTOP);
    }),
  ]).finally(() => clearTimeout(t));
}

/** The log's entries (log[0] is the count). */
export function entries(log: Int32Array): number[] {
  return Array.from(log.subarray(1, 1 + Atomics.load(log, 0)));
}

/** A latch block: blocker slot s uses words s (release) and s + 1 (started). */
export function release(latch: Int32Array, slot: number): void {
  Atomics.store(latch, slot, 1);
  Atomics.notify(latch, slot);
}

/** Is promise p settled now (after the pending jobs ran)? */
export async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}
