// Per-thread scheduling controls (lib/sched.ts, native/sched.cc).
//
// What matters: each call acts on one thread (tid 0 = the caller), a worker_thread
// can change itself without touching the main thread, refusals name what is
// missing, and bad input is a coded TypeError / RangeError before any syscall.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
/** A thread id that cannot exist (above PID_MAX_LIMIT, 4M). */
const NO_SUCH_TID = 0x7ffffff0;

function code(f: () => unknown): { cls: string; code: unknown; message: string } | null {
  try {
    f();
    return null;
  } catch (e: any) {
    return { cls: e?.constructor?.name, code: e?.code, message: String(e?.message) };
  }
}

describe('sched: the calling thread', () => {
  it('gettid() is the pid on the main thread; tid 0 and the own tid read the same settings', () => {
    expect(k.gettid()).toBe(process.pid);
    expect(k.sched_getscheduler(0)).toEqual(k.sched_getscheduler(k.gettid()));
    expect(k.getpriority(0)).toBe(k.getpriority(process.pid));
    const cpus = k.sched_getaffinity(0);
    expect(cpus.length).toBeGreaterThan(0);
    expect([...cpus].sort((a, b) => a - b)).toEqual(cpus);
    expect(cpus.length).toBeLessThanOrEqual(k.nr_cpu_ids());
    expect(k.num_online_cpus()).toBeGreaterThanOrEqual(1);
  });

  it('priority ranges are the kernel\'s: 1..99 for FIFO/RR, 0 for the others', () => {
    expect([k.sched_get_priority_min(k.SCHED_FIFO), k.sched_get_priority_max(k.SCHED_FIFO)]).toEqual([1, 99]);
    expect([k.sched_get_priority_min(k.SCHED_RR), k.sched_get_priority_max(k.SCHED_RR)]).toEqual([1, 99]);
    for (const p of [k.SCHED_OTHER, k.SCHED_BATCH, k.SCHED_IDLE]) {
      expect([k.sched_get_priority_min(p), k.sched_get_priority_max(p)]).toEqual([0, 0]);
    }
  });

  it('a thread that does not exist is ESRCH, with errno and syscall', () => {
    for (const f of [
      () => k.sched_getscheduler(NO_SUCH_TID),
      () => k.sched_getaffinity(NO_SUCH_TID),
      () => k.getpriority(NO_SUCH_TID),
      () => k.setpriority(NO_SUCH_TID, 1),
      () => k.sched_setaffinity(NO_SUCH_TID, [0]),
      () => k.sched_setscheduler(NO_SUCH_TID, k.SCHED_OTHER, 0),
    ]) {
      let err: any;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('ESRCH');
      expect(err.errno).toBe(-3);
      expect(err.syscall).toMatch(/^(sched_|getpriority|setpriority)/);
    }
  });
});

describe('sched: per thread, from a worker_thread', () => {
  it('a worker changes its own nice, affinity and policy; the main thread keeps its own', async () => {
    const mainBefore = { nice: k.getpriority(0), cpus: k.sched_getaffinity(0), sched: k.sched_getscheduler(0) };
    const cpu = mainBefore.cpus[mainBefore.cpus.length - 1]!;
    const w = new Worker(fixture('sched-worker.mjs'), { workerData: { nice: 7, cpu, rtprio: 3 } });
    try {
      const r: any = await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      expect(r.tid).not.toBe(process.pid);
      expect(r.nice).toBe('ok');
      expect(r.affinity).toBe('ok');
      // Read the worker's settings from the main thread, by its tid.
      expect(k.getpriority(r.tid)).toBe(7);
      expect(k.sched_getaffinity(r.tid)).toEqual([cpu]);
      if (r.fifo === 'ok') {
        expect(k.sched_getscheduler(r.tid)).toEqual({ policy: k.SCHED_FIFO, priority: 3 });
      } else {
        // Unprivileged: the refusal names the capability and the rlimit.
        expect(r.fifo).toBe('EPERM');
        expect(r.fifoMessage).toMatch(/CAP_SYS_NICE.*RLIMIT_RTPRIO/);
      }
      // The main thread did not change.
      expect({ nice: k.getpriority(0), cpus: k.sched_getaffinity(0), sched: k.sched_getscheduler(0) }).toEqual(mainBefore);
    } finally {
      w.postMessage('exit');
      await new Promise((r) => w.once('exit', r));
    }
  });
});

describe('sched: mlockall prefaults and never leaves memory locked', () => {
  // V8 aborts (SIGTRAP, "Check failed: 0 == ret") when it re-protects or frees a
  // locked page: at a regexp or function compile, in a worker's teardown, at exit.
  // Locking and keeping the lock took this process down in all three places here.
  it('after mlockall(MCL_CURRENT | MCL_FUTURE), code compiles, workers come and go, the process exits 0, nothing is locked', () => {
    const script = `
      import * as S from ${JSON.stringify(new URL('../dist/sched.js', import.meta.url).href)};
      import { readFileSync } from 'node:fs';
      import { Worker } from 'node:worker_threads';
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.code));
      const rss0 = process.memoryUsage().rss;
      S.mlockall(S.MCL_CURRENT | S.MCL_FUTURE);
      S.mlockall(S.MCL_CURRENT | S.MCL_FUTURE);
      const vmlck = /VmLck:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1];
      for (let i = 0; i < 200; i++) new RegExp('a{' + i + '}b|c' + i).test('x'.repeat(i));
      for (let i = 0; i < 2; i++) {
        const w = new Worker('let a=[];for(let i=0;i<2e5;i++){a.push({i});if(a.length>1e4)a=[]}new Function("return 1")()', { eval: true });
        await new Promise((r) => w.on('exit', r));
      }
      await new Promise((r) => setImmediate(r));
      console.log(JSON.stringify({ vmlck: Number(vmlck), warnings, rss0 }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.vmlck).toBe(0);
    // Asked twice, warned once: MCL_FUTURE was not kept.
    expect(out.warnings).toEqual(['KTIMERS_WARN_MLOCK_PREFAULT']);
  });

  it('MCL_CURRENT alone is done without a warning', () => {
    const script = `
      import * as S from ${JSON.stringify(new URL('../dist/sched.js', import.meta.url).href)};
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.code));
      S.mlockall(S.MCL_CURRENT);
      await new Promise((r) => setImmediate(r));
      console.log(JSON.stringify(warnings));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});

describe('sched: refusals name what is missing', () => {
  // Root here: drop CAP_SYS_NICE and CAP_IPC_LOCK from the bounding set so the
  // child runs as an unprivileged user would, with RLIMIT_RTPRIO/NICE 0.
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const root = process.getuid?.() === 0;
  it.skipIf(!setpriv || !root)('without CAP_SYS_NICE / CAP_IPC_LOCK: EPERM, EACCES, ENOMEM with the hint', () => {
    const script = `
      import * as S from ${JSON.stringify(new URL('../dist/sched.js', import.meta.url).href)};
      const out = {};
      for (const [name, f] of Object.entries({
        fifo: () => S.sched_setscheduler(0, S.SCHED_FIFO, 50),
        nice: () => S.setpriority(0, -5),
        mlock: () => S.mlockall(S.MCL_CURRENT | S.MCL_FUTURE),
      })) { try { f(); out[name] = 'ok'; } catch (e) { out[name] = { code: e.code, syscall: e.syscall, message: e.message }; } }
      out.after = S.sched_getscheduler(0);
      console.log(JSON.stringify(out));`;
    const stdout = execFileSync(
      setpriv!,
      ['--bounding-set', '-sys_nice,-ipc_lock', '--inh-caps', '-all', 'prlimit', '--rtprio=0', '--nice=0', '--memlock=65536',
        process.execPath, '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    const out = JSON.parse(stdout);
    expect(out.fifo.code).toBe('EPERM');
    expect(out.fifo.syscall).toBe('sched_setscheduler');
    expect(out.fifo.message).toMatch(/SCHED_FIFO priority 50 needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 50 \(RLIMIT_RTPRIO is 0\)/);
    expect(out.nice.code).toBe('EACCES');
    expect(out.nice.message).toMatch(/needs CAP_SYS_NICE or RLIMIT_NICE >= 25/);
    expect(['EPERM', 'ENOMEM']).toContain(out.mlock.code);
    expect(out.mlock.message).toMatch(/CAP_IPC_LOCK.*RLIMIT_MEMLOCK is 65536 bytes/);
    // A refused call changed nothing.
    expect(out.after).toEqual({ policy: k.SCHED_OTHER, priority: 0 });
  });
});

describe('sched: bad input', () => {
  const T = 'TypeError';
  const R = 'RangeError';
  const cases: [string, () => unknown, string, string][] = [
    ['tid string', () => k.sched_getscheduler('0' as any), T, 'ERR_INVALID_ARG_TYPE'],
    ['tid bigint', () => k.getpriority(0n as any), T, 'ERR_INVALID_ARG_TYPE'],
    ['tid -1', () => k.sched_getaffinity(-1), R, 'ERR_OUT_OF_RANGE'],
    ['tid 1.5', () => k.getpriority(1.5), R, 'ERR_OUT_OF_RANGE'],
    ['tid NaN', () => k.getpriority(NaN), R, 'ERR_OUT_OF_RANGE'],
    ['tid 2^31', () => k.getpriority(2 ** 31), R, 'ERR_OUT_OF_RANGE'],
    ['policy 4 (none)', () => k.sched_get_priority_max(4), R, 'ERR_OUT_OF_RANGE'],
    ['policy 6 (DEADLINE: needs sched_setattr)', () => k.sched_setscheduler(0, 6, 0), R, 'ERR_OUT_OF_RANGE'],
    ['policy undefined', () => k.sched_get_priority_min(undefined as any), T, 'ERR_INVALID_ARG_TYPE'],
    ['FIFO priority 0', () => k.sched_setscheduler(0, k.SCHED_FIFO, 0), R, 'ERR_OUT_OF_RANGE'],
    ['FIFO priority 100', () => k.sched_setscheduler(0, k.SCHED_FIFO, 100), R, 'ERR_OUT_OF_RANGE'],
    ['OTHER priority 1', () => k.sched_setscheduler(0, k.SCHED_OTHER, 1), R, 'ERR_OUT_OF_RANGE'],
    ['priority string', () => k.sched_setscheduler(0, k.SCHED_OTHER, '0' as any), T, 'ERR_INVALID_ARG_TYPE'],
    ['cpus not array', () => k.sched_setaffinity(0, 0 as any), T, 'ERR_INVALID_ARG_TYPE'],
    ['cpus typed array', () => k.sched_setaffinity(0, new Int32Array([0]) as any), T, 'ERR_INVALID_ARG_TYPE'],
    ['cpus empty', () => k.sched_setaffinity(0, []), R, 'ERR_OUT_OF_RANGE'],
    ['cpu -1', () => k.sched_setaffinity(0, [-1]), R, 'ERR_OUT_OF_RANGE'],
    ['cpu 8192', () => k.sched_setaffinity(0, [8192]), R, 'ERR_OUT_OF_RANGE'],
    ['cpu 0.5', () => k.sched_setaffinity(0, [0.5]), R, 'ERR_OUT_OF_RANGE'],
    ['cpu string', () => k.sched_setaffinity(0, ['0' as any]), T, 'ERR_INVALID_ARG_TYPE'],
    ['cpu hole', () => k.sched_setaffinity(0, new Array(2)), T, 'ERR_INVALID_ARG_TYPE'],
    ['nice -21', () => k.setpriority(0, -21), R, 'ERR_OUT_OF_RANGE'],
    ['nice 20', () => k.setpriority(0, 20), R, 'ERR_OUT_OF_RANGE'],
    ['mlockall 0', () => k.mlockall(0), R, 'ERR_OUT_OF_RANGE'],
    ['mlockall ONFAULT alone', () => k.mlockall(k.MCL_ONFAULT), R, 'ERR_OUT_OF_RANGE'],
    ['mlockall 8', () => k.mlockall(8), R, 'ERR_OUT_OF_RANGE'],
    ['mlockall bigint', () => k.mlockall(1n as any), T, 'ERR_INVALID_ARG_TYPE'],
  ];
  it.each(cases)('%s', (_label, f, cls, c) => {
    const before = { nice: k.getpriority(0), cpus: k.sched_getaffinity(0), sched: k.sched_getscheduler(0) };
    const e = code(f);
    expect(e && { cls: e.cls, code: e.code }).toEqual({ cls, code: c });
    expect({ nice: k.getpriority(0), cpus: k.sched_getaffinity(0), sched: k.sched_getscheduler(0) }).toEqual(before);
  });

  it('an array whose element getter lies is read once (no check-then-use gap)', () => {
    const before = k.sched_getaffinity(0);
    let reads = 0;
    const arr = [0];
    Object.defineProperty(arr, 0, {
      get() {
        return reads++ === 0 ? before[0] : 1e9;
      },
    });
    k.sched_setaffinity(0, arr);
    expect(reads).toBe(1);
    expect(k.sched_getaffinity(0)).toEqual([before[0]]);
    k.sched_setaffinity(0, before);
    expect(k.sched_getaffinity(0)).toEqual(before);
  });

  it('the native binding checks again (it is reachable without lib/)', async () => {
    const { native } = await import('../dist/binding.js');
    expect(code(() => native.schedSetScheduler(-1, 0, 0))?.code).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => native.schedSetScheduler(0, 4, 0))?.code).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => native.schedSetScheduler(0, 1, 0))?.code).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => native.schedSetAffinity(0, [] as number[]))?.code).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => native.schedSetAffinity(0, { length: 1 } as any))?.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(code(() => native.schedSetAffinity(0, [1e9]))?.code).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => native.setPriority(0, 20))?.code).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => native.mlockAll(4))?.code).toBe('ERR_OUT_OF_RANGE');
    expect(code(() => (native.getPriority as any)())?.code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('fuzz in a child process: only coded argument errors or errno errors, never a crash', () => {
    const r = spawnSync(process.execPath, [fixture('sched-fuzz.mjs'), '20261124', '4000'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.failures).toEqual([]);
    expect(out.calls).toBe(4000);
    // Some calls must get through, or the fuzz only tested the validators.
    expect(out.accepted).toBeGreaterThan(50);
  });
});
