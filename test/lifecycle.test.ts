// Process-level behaviour: ref/unref and exit, callback errors, worker_threads,
// garbage collection, and the package loading through import and require.
// Each case runs in a child process (exit code and signal are the assertion).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { lastJsonLine, SLOWDOWN } from './helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

function run(args: string[], timeout = 20_000) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: timeout * SLOWDOWN, cwd: root });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, json: lastJsonLine(r.stdout) };
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('keeping the process alive', () => {
  it('a process with only an unref\'d armed timer exits at once, cleanly', () => {
    const r = run([fixture('exit-stage.mjs'), 'unrefd-only']);
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({ fired: 0 });
    expect(r.json.elapsedMs).toBeLessThan(10_000); // before the 10 s timer would have fired
  });

  it('a ref\'d timer keeps the process until it fires', () => {
    const r = run([fixture('exit-stage.mjs'), 'refd']);
    expect(r.status).toBe(0);
    expect(r.json.fired).toBe(1);
    expect(r.json.elapsedMs).toBeGreaterThanOrEqual(300);
  });

  it('unref() then ref() keeps the process alive again', () => {
    const r = run([fixture('exit-stage.mjs'), 'unref-then-ref']);
    expect(r.status).toBe(0);
    expect(r.json.fired).toBe(1);
    expect(r.json.elapsedMs).toBeGreaterThanOrEqual(200);
  });

  it('an unref\'d periodic timer runs while the loop is alive for other reasons, then lets go', () => {
    const r = run([fixture('exit-stage.mjs'), 'periodic-unrefd']);
    expect(r.status).toBe(0);
    expect(r.json.fired).toBeGreaterThan(20);
    expect(r.json.elapsedMs).toBeLessThan(3000 * SLOWDOWN); // a backstop: held, it would never exit
  });

  it('process.exit() from inside a callback with 1000 armed timers exits with code 0, no signal', () => {
    const r = run([fixture('exit-stage.mjs'), 'exit-in-callback']);
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({ fired: 0, code: 0 });
  });

  // process.exit(0) at each stage, with 34 timers armed: ref'd and unref'd hrtimers on every clock,
  // hard and SOFT, and ref'd, unref'd and deferrable timer_lists on every wheel level.
  const stages: [stage: string, context: string | null, fired: number][] = [
    ['exit-before-expiry', null, 0],
    ['exit-in-hard-callback', 'hardirq', 0],
    ['exit-in-soft-callback', 'softirq', 0],
    ['exit-in-timer-list-callback', 'softirq', 0],
    ['exit-in-restart-callback', 'hardirq', 5],
    ['exit-after-cancel', null, 0],
  ];
  for (const [stage, context, fired] of stages) {
    it(`process.exit(0) ${stage.replace(/^exit-/, '').replace(/-/g, ' ')}, timers of every kind armed: code 0, no signal`, () => {
      const r = run([fixture('exit-stage.mjs'), stage]);
      expect(r.signal, r.stderr).toBe(null);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ stage, code: 0, armed: 34, context, fired });
      if (stage === 'exit-after-cancel') expect(r.json.cancelled).toEqual(Array(14).fill(1));
      expect(r.json.elapsedMs).toBeLessThan(5000 * SLOWDOWN); // not held by the 60 s timers
    });
  }

  it('after the ref\'d timers are cancelled, the unref\'d and deferrable ones still armed do not hold the process', () => {
    const r = run([fixture('exit-stage.mjs'), 'end-after-cancel']);
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({ armed: 34, fired: 0, cancelled: Array(14).fill(1) });
    expect(r.json.elapsedMs).toBeLessThan(5000 * SLOWDOWN);
  });

  it('a cancelled timer does not hold the process', () => {
    const r = run([fixture('exit-stage.mjs'), 'cancelled']);
    expect(r.status).toBe(0);
    expect(r.json.elapsedMs).toBeLessThan(10_000); // before the cancelled 10 s timer's expiry
  });
});

describe('callback errors', () => {
  it('an exception reaches uncaughtException once; the pass completes and other timers keep firing', () => {
    const r = run([fixture('errors.mjs'), 'throw']);
    expect(r.status).toBe(0);
    expect(r.json.errors).toEqual([{ message: 'boom from callback', name: 'Error' }]);
    expect(r.json.runs).toBe(1);
    expect(r.json.others).toBe(20);
    expect(r.json.badActive).toBe(false);
  });

  it('an uncaught callback exception with no handler ends the process like a Node timer error', () => {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `
        import * as k from ${JSON.stringify(root + '/dist/index.js')};
        const t = new k.hrtimer();
        k.hrtimer_setup(t, () => { throw new Error('unhandled boom'); }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
        k.hrtimer_start(t, 1000000n, k.HRTIMER_MODE_REL);`],
      { encoding: 'utf8', timeout: 10_000 * SLOWDOWN },
    );
    expect(r.status).toBe(1);
    expect(r.signal).toBe(null);
    expect(r.stderr).toContain('unhandled boom');
  });

  it('RESTART without moving the expiry is stopped after RESTART_LOOP_LIMIT runs with ERR_KTIMERS_RESTART_LOOP', () => {
    const r = run([fixture('errors.mjs'), 'restart-loop']);
    expect(r.status).toBe(0);
    expect(r.json.errors).toHaveLength(1);
    expect(r.json.errors[0].code).toBe('ERR_KTIMERS_RESTART_LOOP');
    expect(r.json.runs).toBe(1000);
    expect(r.json.badActive).toBe(false);
    expect(r.json.others).toBe(20);
  });

  it('an async callback (returns a Promise) is reported with ERR_KTIMERS_INVALID_RESTART and not restarted', () => {
    const r = run([fixture('errors.mjs'), 'bad-return']);
    expect(r.status).toBe(0);
    expect(r.json.errors.map((e: any) => e.code)).toEqual(['ERR_KTIMERS_INVALID_RESTART']);
    expect(r.json.runs).toBe(1);
    expect(r.json.others).toBe(20);
  });
});

describe('worker_threads', () => {
  it('loads and runs in three workers at once; terminating them mid-flight leaves no fd behind', async () => {
    // Give the main thread's own engine a chance to exist first, so its fds are in the baseline.
    const before = openFds();
    const workers = [0, 1, 2].map((i) => new Worker(fixture('worker.mjs'), { workerData: { extra: i * 1000 } }));
    const ticks = [0, 0, 0];
    const hardirq: boolean[] = [];
    workers.forEach((w, i) =>
      w.on('message', (m) => {
        ticks[i] = m.ticks;
        hardirq.push(m.hardirq);
      }),
    );
    const deadline = Date.now() + 10_000 * SLOWDOWN;
    while (ticks.some((t) => t < 50) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ticks.every((t) => t >= 50)).toBe(true);
    expect(hardirq.every(Boolean)).toBe(true);
    const during = openFds();
    expect(during).toBeGreaterThanOrEqual(before + 3 * 5); // each env: 1 epoll + 4 timerfds
    const codes = await Promise.all(workers.map((w) => w.terminate()));
    expect(codes).toEqual([1, 1, 1]);
    await new Promise((r) => setTimeout(r, 50));
    expect(openFds()).toBe(before);
  });
});

describe('worker_threads terminated mid-callback', () => {
  it('four workers with hrtimers and timer_lists armed, each mostly inside a callback, terminated twice over: no fd left, the main thread unaffected', async () => {
    // The main thread's own 1 kHz timer keeps running through it all.
    const k = await import('../dist/index.js');
    let mainTicks = 0;
    const mt = new k.hrtimer();
    k.hrtimer_setup(mt, (tm) => (mainTicks++, k.hrtimer_forward_now(tm, 1_000_000n), k.HRTIMER_RESTART), k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(mt, 1_000_000n, k.HRTIMER_MODE_REL);
    const before = openFds(); // with the main thread's engine open
    try {
      for (let round = 0; round < 2; round++) {
        const workers = [0, 1, 2, 3].map((i) => new Worker(fixture('worker.mjs'), { workerData: { extra: 200 * (i + 1), busy: true } }));
        const ticks = [0, 0, 0, 0];
        workers.forEach((w, i) => w.on('message', (m) => (ticks[i] = m.ticks)));
        const deadline = Date.now() + 10_000 * SLOWDOWN;
        while (ticks.some((t) => t < 20) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        expect(ticks.every((t) => t >= 20)).toBe(true);
        // Terminate at staggered moments: each is most likely spinning inside its callback.
        const codes = await Promise.all(workers.map((w, i) => new Promise((r) => setTimeout(r, i * 3)).then(() => w.terminate())));
        expect(codes).toEqual([1, 1, 1, 1]);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(openFds()).toBe(before);
    } finally {
      k.hrtimer_cancel(mt);
    }
    expect(mainTicks).toBeGreaterThan(50);
  });
});

describe('process exit with workqueue work in flight (child processes)', () => {
  it('the pool starts its workers in a process run with V8 flags Worker refuses (--expose-gc --max-semi-space-size=16)', () => {
    const r = run([
      '--expose-gc', '--max-semi-space-size=16', '--input-type=module', '-e',
      `import * as k from ${JSON.stringify(root + '/dist/index.js')};
       const counts = new Int32Array(new SharedArrayBuffer(4));
       const w = k.DECLARE_WORK({ module: new URL(${JSON.stringify('file://' + fixture('wq/work.mjs'))}), name: 'count' });
       w.data = { counts };
       k.queue_work(k.system_unbound_wq, w);
       await k.flush_work(w);
       console.log(JSON.stringify({ ran: counts[0], gc: typeof gc }));`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ ran: 1, gc: 'function' });
  });

  it('process.exit(0) with an item running, 50 queued behind it and a delayed work on its timer: code 0, no signal, not held by the running item', () => {
    const r = run([fixture('wq/exit-stage.mjs'), 'exit-with-queued-work']);
    expect(r.signal, r.stderr).toBe(null);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ running: 1, queuedRan: 0, delayedPending: true, code: 0 });
    expect(r.json.elapsedMs).toBeLessThan(10_000 * SLOWDOWN); // the running item would block 30 s
  });

  it('process.exit(0) from a timer callback that just queued work (worker and BH queues): code 0, no signal', () => {
    const r = run([fixture('wq/exit-stage.mjs'), 'exit-in-timer-with-work']);
    expect(r.signal, r.stderr).toBe(null);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ queued: [true, true, true, true], bh: true, code: 0 });
    expect(r.json.bhRan).toBeUndefined(); // BH work runs after the callback: the process had exited
  });

  it('destroy_workqueue with items pending: they all run, the delayed one is cancelled with a warning, the queue is gone, the process ends by itself', () => {
    const r = run([fixture('wq/exit-stage.mjs'), 'destroy-with-pending']);
    expect(r.signal, r.stderr).toBe(null);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      ran: 20,
      latchedEnded: 1,
      delayedPending: false,
      warnings: ['KTIMERS_WARN_DESTROY_DELAYED'],
      after: 'ERR_KTIMERS_WQ_DESTROYED',
      code: 0,
    });
  });
});

describe('garbage collection', () => {
  it('dropped disarmed timers are all collected (cancelled, deleted or fired; hrtimer and timer_list); dropped armed ones still fire', () => {
    const r = run(['--expose-gc', fixture('gc.mjs')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.cleared).toEqual({ hrCancelled: 100, hrFired: 100, tlDeleted: 100, tlFired: 100 });
    expect(r.json.collected).toBeGreaterThanOrEqual(90); // FinalizationRegistry: a lower bound only
    expect(r.json.fired).toBe(200);
    expect(r.json.firedArmed).toBe(true);
    expect(r.json.firedArmedTl).toBe(true);
  });
});

describe('loading', () => {
  it('require() of the package works (require(esm), Node >= 20.19)', () => {
    const r = spawnSync(
      process.execPath,
      ['-e', `const k = require(${JSON.stringify(root)}); console.log(JSON.stringify({ ktime: typeof k.ktime_get(), mode: k.HRTIMER_MODE_REL }))`],
      { encoding: 'utf8', timeout: 10_000 * SLOWDOWN },
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ ktime: 'bigint', mode: 1 });
  });

  it('refuses to load off Linux with a clear error naming the platform', () => {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `
        Object.defineProperty(process, 'platform', { value: 'darwin' });
        try { await import(${JSON.stringify(root + '/dist/index.js')}); console.log('loaded'); }
        catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`],
      { encoding: 'utf8', timeout: 10_000 * SLOWDOWN },
    );
    const out = JSON.parse(r.stdout.trim());
    expect(out.code).toBe('ERR_KTIMERS_UNSUPPORTED_PLATFORM');
    expect(out.message).toContain('darwin');
    expect(out.message).toContain('timerfd');
  });
});
