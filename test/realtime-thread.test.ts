// RealtimeThread (lib/api/realtime-thread.ts): a module's function on a dedicated
// thread at SCHED_FIFO, its results streamed through a kfifo, its failures named
// after it, stop/asyncDispose/ref. Real threads: conditions are established with
// latches (SharedArrayBuffer + Atomics) and events; time limits are backstops only.
// Process-level behaviour (exit, keep-alive, leaks, no privilege) runs in children
// (test/fixtures/realtime-thread/child.mjs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { threadId as mainThreadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RealtimeThread, kfifo_alloc, kfifo_is_closed, sched_getaffinity, sched_getscheduler, SCHED_FIFO, SCHED_RR, nr_cpu_ids } from '../dist/index.js';
import { SLOWDOWN, runFixture } from './helpers.js';

const mod = new URL('./fixtures/realtime-thread/sampler.mjs', import.meta.url);
const childFixture = fileURLToPath(new URL('./fixtures/realtime-thread/child.mjs', import.meta.url));
const root = process.getuid?.() === 0;
const T = 60_000 * SLOWDOWN;

function child(args: string[], prefix: string[] = []) {
  return runFixture(childFixture, args, { prefix, timeoutMs: 2 * T });
}

/** A `forever` thread (periodic hrtimer until stopped) and its stats, once its first expiry ran. */
async function started(opts: Record<string, unknown> = {}) {
  const stats = new SharedArrayBuffer(32);
  const s = new Int32Array(stats);
  const t = new RealtimeThread(mod, { export: 'forever', data: { stats }, ...opts });
  await Atomics.waitAsync(s, 6, 0, T).value;
  expect(s[6]).toBe(1);
  return { t, s };
}

describe('RealtimeThread: a 1 kHz hrtimer on the thread, read through a kfifo while the main thread is busy', () => {
  it('samples arrive in order, every expiry accounted for, on another thread, SCHED_FIFO 50 (as root)', { timeout: 2 * T }, async () => {
    const limit = 300;
    const out = kfifo_alloc('u32', 4096);
    const stats = new SharedArrayBuffer(32);
    const s = new Int32Array(stats);
    const t = new RealtimeThread(mod, { name: 'sampler', fifos: { out }, data: { stats, limit } });
    expect(t.name).toBe('sampler');
    expect(t.tid).toBeGreaterThan(0);
    // The main thread keeps itself busy with back-to-back synchronous chunks meanwhile.
    let busy = true;
    let chunks = 0;
    const spin = () => {
      const end = performance.now() + 20;
      while (performance.now() < end);
      chunks++;
      if (busy) setImmediate(spin);
    };
    setImmediate(spin);
    const got: number[] = [];
    for await (const v of t.read('out')) got.push(v as number);
    busy = false;
    await t.done; // the function armed nothing more after `limit` periods: the thread ended by itself
    expect(chunks).toBeGreaterThan(0);
    // In order: strictly increasing period indexes.
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1]!);
    // Every expiry is either read here or counted as dropped (fifo full); the
    // last index covers `limit` periods, counting overruns (hrtimer_forward_now).
    expect(got.length + s[1]!).toBe(s[0]);
    expect(s[0]).toBeGreaterThan(0);
    expect(s[0]).toBeLessThanOrEqual(limit);
    expect(got.at(-1)).toBeGreaterThanOrEqual(limit);
    expect(kfifo_is_closed(out)).toBe(true);
    expect(s[4]).not.toBe(mainThreadId);
    expect(s[4]).toBe(t.threadId);
    if (root) {
      expect(t.policy).toBe('fifo');
      expect(t.priority).toBe(50);
      expect([s[2], s[3]]).toEqual([SCHED_FIFO, 50]);
    }
  });

  it.skipIf(!root)('an explicit policy and a CPU: SCHED_RR 10, pinned to CPU 0, both in force before the function runs', async () => {
    const { t, s } = await started({ policy: 'rr', priority: 10, cpu: [0] });
    expect([s[2], s[3]]).toEqual([SCHED_RR, 10]);
    expect(sched_getscheduler(t.tid)).toMatchObject({ policy: SCHED_RR, priority: 10 });
    expect(sched_getaffinity(t.tid)).toEqual([0]);
    expect(t.cpus).toEqual([0]);
    await t.stop();
  });
});

describe('RealtimeThread: stop and dispose', () => {
  it('stop() aborts the signal on the thread, ends it and what it armed, closes the fifos; idempotent', async () => {
    const out = kfifo_alloc('u32', 1024);
    const { t, s } = await started({ fifos: { out } });
    expect(t.running).toBe(true);
    const reading = (async () => {
      let n = 0;
      for await (const _ of t.read('out')) n++;
      return n;
    })();
    const p = t.stop();
    expect(t.stop()).toBe(p);
    await p;
    expect(s[5]).toBe(1); // the abort listener ran on the thread
    expect(t.running).toBe(false);
    expect(t.hasRef()).toBe(false);
    expect(kfifo_is_closed(out)).toBe(true);
    expect(await reading).toBeGreaterThan(0); // the reader ended after draining
    await expect(t.done).resolves.toBeUndefined();
    await t.stop(); // after the end: fulfils
  });

  it('Symbol.asyncDispose stops the thread (await using)', async () => {
    const { t, s } = await started();
    await t[Symbol.asyncDispose]();
    expect(t.running).toBe(false);
    expect(s[5]).toBe(1);
  });

  it('stop() of a thread stuck in synchronous code: terminated after the backstop, no hang', { timeout: 3 * T }, async () => {
    // SCHED_OTHER: a real-time thread spinning for the whole backstop would starve this shared machine.
    const { t } = await started({ export: 'spins', policy: 'other' });
    await t.stop();
    expect(t.running).toBe(false);
    await expect(t.done).resolves.toBeUndefined();
  });

  it('in a child: after stop() nothing holds the process, which exits by itself', async () => {
    const r = await child(['stop']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ aborted: 1, running: false, hasRef: false, read: true });
  });
});

describe('RealtimeThread: keep-alive', () => {
  it('ref() / unref() / hasRef()', async () => {
    const { t } = await started({ ref: false });
    expect(t.hasRef()).toBe(false);
    expect(t.ref().hasRef()).toBe(true);
    expect(t.unref().hasRef()).toBe(false);
    await t.stop();
  });

  it('in a child: ref: false, or unref(), lets the process exit while the thread runs', async () => {
    for (const stage of ['unref', 'unref-method']) {
      const r = await child([stage]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json).toEqual({ exit: 0, running: true, hasRef: false });
    }
  });

  it('in a child: process.exit() while the thread runs exits at once with its code', async () => {
    const r = await child(['exit-running']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ running: true });
  });

  it('in a child: no thread or fd left over 20 start/stop and start/fail cycles', async () => {
    const r = await child(['leak']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.after).toEqual(r.json.before);
  });
});

describe('RealtimeThread: failures on the thread carry its name', () => {
  const cases: [string, RegExp][] = [
    ['throws', /boom in the function/],
    ['rejects', /boom after an await/],
    ['throwsInTimer', /boom in a timer callback/],
    ['notAFunction', /has no export "notAFunction" that is a function/],
  ];
  for (const [exp, text] of cases) {
    it(`${exp}: 'error' event and done rejected with ERR_KTIMERS_RT_THREAD_FAILED, once; fifos closed`, async () => {
      const out = kfifo_alloc('u8', 16);
      const t = new RealtimeThread(mod, { name: `fail-${exp}`, export: exp, fifos: { out } });
      const errors: any[] = [];
      t.on('error', (e) => errors.push(e));
      const err: any = await t.done.then(() => null, (e) => e);
      expect(err).toMatchObject({ name: 'KtimersError', code: 'ERR_KTIMERS_RT_THREAD_FAILED' });
      expect(err.message).toMatch(new RegExp(`^RealtimeThread "fail-${exp}" failed: `));
      expect(err.message).toMatch(text);
      expect(err.cause).toBeInstanceOf(Error);
      expect(errors).toEqual([err]);
      expect(t.running).toBe(false);
      expect(kfifo_is_closed(out)).toBe(true);
    });
  }

  it('in a child: no listener and nobody awaiting done: an uncaught exception naming the thread, exit code 1', async () => {
    const r = await child(['uncaught']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERR_KTIMERS_RT_THREAD_FAILED/);
    expect(r.stderr).toMatch(/RealtimeThread "loud" failed: boom in the function/);
  });
});

describe('RealtimeThread without real-time privilege (child under setpriv: no CAP_SYS_NICE, RLIMIT_RTPRIO 0)', () => {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  it.skipIf(!setpriv || !root)('the default runs SCHED_OTHER with one warning per thread naming what is missing; an explicit policy throws', async () => {
    const r = await child(['noprivilege'], [setpriv!, '--bounding-set', '-sys_nice', '--inh-caps', '-all', 'prlimit', '--rtprio=0']);
    expect(r.status, r.stderr).toBe(0);
    const { warnings, policies, explicit } = r.json;
    expect(policies).toEqual(['other', 0, 'other', 0]);
    expect(warnings).toHaveLength(2);
    for (const [i, name] of ['first', 'second'].entries()) {
      expect(warnings[i]).toMatchObject({ name: 'KtimersWarning', code: 'KTIMERS_WARN_RT_THREAD_SCHED_OTHER' });
      expect(warnings[i].message).toMatch(new RegExp(`^RealtimeThread "${name}" runs SCHED_OTHER, not SCHED_FIFO 50`));
      expect(warnings[i].message).toMatch(/CAP_SYS_NICE/);
      expect(warnings[i].message).toMatch(/RLIMIT_RTPRIO/);
    }
    expect(explicit).toMatchObject({ code: 'ERR_KTIMERS_RT_THREAD_SCHED', causeCode: 'EPERM', errno: 1 });
    expect(explicit.message).toMatch(/^RealtimeThread "asked": SCHED_FIFO 60 refused: .*CAP_SYS_NICE/);
  });
});

describe('RealtimeThread: bad arguments are coded errors, and start no thread', () => {
  const fifo = kfifo_alloc('u8', 16);
  const bad: [string, unknown, Record<string, unknown>, string, string][] = [
    ['module a number', 42, {}, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['module an http URL', new URL('http://example.com/x.js'), {}, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['module missing', new URL('./fixtures/realtime-thread/nope.mjs', import.meta.url), {}, 'KtimersError', 'ERR_KTIMERS_WORK_MODULE_NOT_FOUND'],
    ['name not a string', mod, { name: 3 }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['name empty', mod, { name: '' }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['policy unknown', mod, { policy: 'deadline' }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['policy not a string', mod, { policy: 1 }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['priority 0 for fifo', mod, { priority: 0 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['priority 100', mod, { policy: 'rr', priority: 100 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['priority 1.5', mod, { priority: 1.5 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['priority a string', mod, { priority: '50' }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['priority with other', mod, { policy: 'other', priority: 5 }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['a CPU that does not exist', mod, { cpu: nr_cpu_ids() }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['a negative CPU', mod, { cpu: [0, -1] }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['no CPU', mod, { cpu: [] }, 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['cpu a string', mod, { cpu: '0' }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['fifos not an object', mod, { fifos: 1 }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['a fifo that is not one', mod, { fifos: { out: new Uint8Array(4) } }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['data not cloneable', mod, { data: () => 1, fifos: { fifo } }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['export empty', mod, { export: '' }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['ref not a boolean', mod, { ref: 1 }, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [what, m, opts, name, code] of bad) {
    it(what, () => {
      let err: any;
      try {
        new RealtimeThread(m as string, opts as never);
      } catch (e) {
        err = e;
      }
      expect(err?.name).toBe(name);
      expect(err?.code).toBe(code);
    });
  }

  it('a method or getter called on another object: TypeError ERR_INVALID_THIS (stop rejects with it)', async () => {
    const { t } = await started();
    try {
      const P = RealtimeThread.prototype;
      for (const other of [{}, null, undefined, Object.create(P)]) {
        for (const m of ['read', 'ref', 'unref', 'hasRef'] as const) {
          expect(() => (P[m] as Function).call(other, 'out'), m).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_THIS' }));
        }
        for (const g of ['done', 'running']) {
          expect(() => Object.getOwnPropertyDescriptor(P, g)!.get!.call(other), g).toThrow(expect.objectContaining({ code: 'ERR_INVALID_THIS' }));
        }
        await expect(P.stop.call(other)).rejects.toMatchObject({ code: 'ERR_INVALID_THIS' });
        await expect(P[Symbol.asyncDispose].call(other)).rejects.toMatchObject({ code: 'ERR_INVALID_THIS' });
      }
      expect(t.running).toBe(true); // the real one is untouched
    } finally {
      await t.stop();
    }
  });

  it('read() of a fifo it was not given: RangeError naming the ones it has', async () => {
    const { t } = await started({ fifos: { out: fifo } });
    try {
      expect(() => t.read('in')).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(/has no fifo "in" \(it has: out\)/) }));
      expect(() => t.read(1 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    } finally {
      await t.stop();
    }
  });
});
