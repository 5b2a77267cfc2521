// kthread_worker at process level, in child processes (test/fixtures/kthread/child.mjs):
// failures on a worker thread reported on the main thread by name; the privilege
// refusal of sched_set_fifo & co; keep-alive (ref/unref) and process.exit at every
// stage of a worker's life; no thread, fd or memory leak over create/destroy cycles.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SLOWDOWN, runFixture } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/kthread/child.mjs', import.meta.url));
const MB = 1024 * 1024;
/** Under the ASan run its quarantine holds freed memory: RSS is not checked there (as in test/leak.test.ts). */
const underAsan = (process.env.LD_PRELOAD ?? '').includes('libasan');

function child(args: string[], prefix: string[] = []) {
  return runFixture(fixture, args, { prefix, nodeArgs: ['--expose-gc'], timeoutMs: 120_000 * SLOWDOWN });
}

describe('kthread_worker: failures on the worker thread', () => {
  it('a throwing work, an unloadable one, a throwing timer callback: each reported once by name and worker; the worker goes on', async () => {
    const r = await child(['errors']);
    expect(r.status, r.stderr).toBe(0);
    const { errors, log } = r.json;
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatchObject({ name: 'KtimersError', code: 'ERR_KTIMERS_WORK_FAILED', cause: 'boom 1', causeCode: 'E_BOOM' });
    expect(errors[0].message).toMatch(/^work function thrower \(file:.*work\.mjs\) on kthread_worker "errs" threw: boom 1$/);
    expect(errors[1]).toMatchObject({ code: 'ERR_KTIMERS_WORK_LOAD', causeCode: 'ERR_KTIMERS_WORK_NOT_FUNCTION' });
    expect(errors[1].message).toMatch(/notAFunction .* on kthread_worker "errs" could not be loaded/);
    expect(errors[2]).toMatchObject({ code: 'ERR_KTIMERS_WORK_LOAD' });
    expect(errors[2].message).toMatch(/nosuchexport/);
    expect(errors[3]).toMatchObject({ code: 'ERR_KTIMERS_KTHREAD_UNCAUGHT', cause: 'timer boom' });
    expect(errors[3].message).toMatch(/on kthread_worker "errs"/);
    expect(log).toEqual([7]);
  });

  it('a work that ends its thread (process.exit): ERR_KTIMERS_WORKER_EXIT once; the works behind it are un-pended, not lost silently', async () => {
    const r = await child(['worker-exit']);
    expect(r.status, r.stderr).toBe(0);
    const { errors, q1, q2, destroyCode, task, log } = r.json;
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe('ERR_KTIMERS_WORKER_EXIT');
    expect(errors[0].message).toMatch(/kthread_worker "quitter": its thread exited \(code 3\) before kthread_destroy_worker\(\); 1 pending work\(s\) will not run/);
    expect(q1).toBe(true);
    expect(destroyCode).toBe('ERR_KTIMERS_KTHREAD_DESTROYED');
    expect(task).toBe(null);
    expect(q2).toBe(true); // no longer pending: it can go to another worker
    expect(log).toEqual([1]);
  });

  it('no uncaughtException listener: the process exits with code 1, stderr naming the function and the worker', async () => {
    const r = await child(['uncaught']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/KtimersError: work function thrower \(.*\) on kthread_worker "nolistener" threw: boom 5/);
    expect(r.stderr).toContain("code: 'ERR_KTIMERS_WORK_FAILED'");
  });
});

describe('kthread_worker: sched_set_fifo without the privilege', () => {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const root = process.getuid?.() === 0;
  it.skipIf(!setpriv || !root)('EPERM naming CAP_SYS_NICE and RLIMIT_RTPRIO; EACCES for a lower nice; the thread unchanged', async () => {
    const r = await child(['eperm'], [setpriv!, '--bounding-set', '-sys_nice,-ipc_lock', '--inh-caps', '-all', 'prlimit', '--rtprio=0', '--nice=0']);
    expect(r.status, r.stderr).toBe(0);
    const out = r.json;
    expect(out.fifo).toMatchObject({ code: 'EPERM', syscall: 'sched_setscheduler' });
    expect(out.fifo.message).toMatch(/SCHED_FIFO priority 50 needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 50 \(RLIMIT_RTPRIO is 0\)/);
    expect(out.low.code).toBe('EPERM');
    expect(out.low.message).toMatch(/SCHED_FIFO priority 1 needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 1/);
    expect(out.normal.code).toBe('EACCES');
    expect(out.normal.message).toMatch(/CAP_SYS_NICE or RLIMIT_NICE/);
    expect(out.after).toEqual({ policy: 0, priority: 0 });
  });
});

describe('kthread_worker: process lifetime', () => {
  it("a worker keeps the process alive until destroyed (an unref'd timer gets to run)", async () => {
    const r = await child(['refd']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ alive: true });
  });
  it("unref(): an idle worker lets the process end by itself", async () => {
    const r = await child(['unrefd']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ exit: 0, task: true });
  });
  it('unref() then ref() holds the process again', async () => {
    const r = await child(['unref-ref']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ alive: true });
  });
  for (const stage of ['exit-created', 'exit-idle', 'exit-running', 'exit-delayed', 'exit-destroying']) {
    it(`process.exit(0) with a worker ${stage.slice(5)}: code 0, no signal`, async () => {
      const r = await child([stage]);
      expect(r.signal).toBe(null);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json).toEqual({ exit: 0 });
    });
  }
});

describe('kthread_worker: leaks', () => {
  // Each cycle: a worker with a work run, a delayed work armed, an hrtimer armed by
  // a work, and a blocker running when destroy is called. Threads and fds must
  // return exactly to the baseline; RSS may move by allocator noise only (a leaked
  // worker isolate costs megabytes, so 40 of them would show; not under ASan).
  it('40 create/destroy cycles: threads and fds as before, RSS within 16 MB', async () => {
    const r = await child(['leak', '40']);
    expect(r.status, r.stderr).toBe(0);
    const { before, after } = r.json;
    expect(after.threads).toBe(before.threads);
    expect(after.fds).toBe(before.fds);
    if (!underAsan) expect(after.rss - before.rss).toBeLessThan(16 * MB);
  });
});
