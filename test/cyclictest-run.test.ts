// `ktimers cyclictest` options run for real, each in a child process whose
// stdout is a pipe (as a script driving cyclictest has it): the live T: lines
// without -q, -M, --mainaffinity, --latency, --tracemark, -A/--secaligned,
// and what a second SIGINT does. Every wait ends on an event (a line on
// stdout or stderr, the exit); LIMIT is a backstop only. No latency figure is
// asserted: the machine is a shared VM.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, readdirSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { installSignals } from '../dist/cyclictest/cli.js';
import { nr_cpu_ids } from '../dist/sched.js';
import { SLOWDOWN } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/ktimers.js', import.meta.url));
const NCPU = nr_cpu_ids();
const LIMIT = 120_000 * SLOWDOWN; // backstop only: every wait below ends on an event
const RUNNING = /measuring threads? running \(tids ([\d ]+);/;

/** A child `ktimers cyclictest ...` with its output gathered as it comes. */
class Child {
  readonly p: ChildProcessWithoutNullStreams;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;
  private readonly backstop: ReturnType<typeof setTimeout>;
  private waiters: (() => void)[] = [];

  constructor(args: string[], opts: { uid?: number; gid?: number } = {}) {
    this.p = spawn(process.execPath, [BIN, 'cyclictest', ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    const wake = () => { for (const w of this.waiters.splice(0)) w(); };
    this.p.stdout.on('data', (d) => { this.out += d; wake(); });
    this.p.stderr.on('data', (d) => { this.err += d; wake(); });
    this.exited = new Promise((resolve) => this.p.on('exit', (code) => { clearTimeout(this.backstop); wake(); resolve(code); }));
    this.backstop = setTimeout(() => this.p.kill('SIGKILL'), LIMIT);
  }

  /** Resolves once `pred()` holds (checked on every chunk of output); rejects if the child exits first. */
  async until(pred: () => boolean, what: string): Promise<void> {
    while (!pred()) {
      if (this.p.exitCode !== null || this.p.signalCode !== null) throw new Error(`exited before ${what}:\n${this.err}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** The tids of the measuring threads, once they run and the signal handlers are in place. */
  async running(): Promise<number[]> {
    await this.until(() => RUNNING.test(this.err), 'the threads ran');
    return RUNNING.exec(this.err)![1]!.trim().split(' ').map(Number);
  }
}

/** The draws of cyclictest's live status: each is the T: lines after a `policy:` line. */
function draws(out: string): { c: number[]; max: number[] }[] {
  return out.split(/(?:\x1b\[\d+A)?policy: /).slice(1).map((d) => {
    const t = [...d.matchAll(/^T:\s*\d+ \(\s*\d+\) P:\s*\d+ I:\d+ C:\s*(\d+) Min:\s*-?\d+ Act:\s*-?\d+ Avg:\s*-?\d+ Max:\s*(-?\d+)$/gm)];
    return { c: t.map((m) => Number(m[1])), max: t.map((m) => Number(m[2])) };
  });
}

const cpusAllowed = (pid: number, tid: number): string =>
  /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]!;

describe('live T: lines without -q, on a pipe', () => {
  it.each([[[] as string[]], [['-t2']]])('%j: a T: line reaches the reader while the run goes on; SIGINT then ends it, exit 0', async (extra) => {
    const c = new Child(['-i', '1000', '--no-dma-latency', ...extra]);
    const n = extra.length ? 2 : 1;
    // Without -l/-D the run never ends by itself: a draw with samples seen here came through the pipe mid-run.
    await c.until(() => draws(c.out).some((d) => d.c.length === n && d.c.every((x) => x > 0)), 'a T: line with samples');
    expect(c.p.exitCode).toBeNull();
    expect(c.out).toMatch(/^policy: \w+(\/\w+)?: loadavg: /m);
    c.p.kill('SIGINT');
    expect(await c.exited, c.err).toBe(0);
    // The last draw is made with the final counts, after the run stopped.
    const all = draws(c.out);
    const last = all[all.length - 1]!;
    expect(last.c).toHaveLength(n);
    for (let i = 0; i < n; i++) expect(last.c[i]!).toBeGreaterThanOrEqual(Math.max(...all.map((d) => d.c[i] ?? 0)));
  });

  it('-q: no live T: lines, one T: line per thread at the end', async () => {
    const c = new Child(['-q', '-t2', '--no-dma-latency']);
    await c.running();
    c.p.kill('SIGINT');
    expect(await c.exited, c.err).toBe(0);
    expect(c.out).not.toMatch(/policy: /);
    expect(c.out.match(/^T: [01] \(/gm)).toHaveLength(2);
  });
});

describe('-M / --refresh_on_max: the status is redrawn only when some thread has a new maximum', () => {
  it.each([[['-M']], [['--refresh_on_max', '-t2']]])('%j', async (flags) => {
    const n = flags.includes('-t2') ? 2 : 1;
    const c = new Child([...flags, '-i', '500', '--no-dma-latency']);
    // A draw with samples: the signal handlers are in place by then (single-thread runs print no running line).
    await c.until(() => draws(c.out).some((d) => d.c.length === n && d.c.every((x) => x > 0)), 'a draw with samples');
    // Let several 100 ms refresh periods pass, counted in samples (SIGUSR1 reports them on stderr):
    // without -M each one would redraw.
    const counted = () => {
      const last = [...c.err.matchAll(/^T:\s*\d+ \(\s*\d+\) P:\s*\d+ I:\d+ C:\s*(\d+)/gm)].map((m) => Number(m[1])).slice(-n);
      return last.length === n ? Math.min(...last) : 0;
    };
    while (!(counted() >= 2000)) {
      const seen = c.err.length;
      c.p.kill('SIGUSR1');
      await c.until(() => /^T:/m.test(c.err.slice(seen)), 'a SIGUSR1 report');
      await new Promise((r) => setTimeout(r, 100));
    }
    c.p.kill('SIGINT');
    expect(await c.exited, c.err).toBe(0);
    const all = draws(c.out);
    expect(all.length).toBeGreaterThanOrEqual(2); // the first and the last (final counts)
    // Every draw between the first and the last was made for a new maximum.
    for (let i = 1; i < all.length - 1; i++) {
      expect(all[i]!.max.some((m, t) => m > (all[i - 1]!.max[t] ?? -Infinity)), JSON.stringify(all.slice(0, i + 1))).toBe(true);
    }
    expect(all[all.length - 1]!.c.every((x) => x >= 2000), JSON.stringify(all) + c.err).toBe(true);
  });
});

describe('--mainaffinity: the main thread only', () => {
  // The CPUs this test may use (a child inherits them): the measuring thread must keep them all.
  const own = cpusAllowed(process.pid, process.pid);
  const ownCpus = own.split(',').flatMap((r) => {
    const [a, b] = r.split('-').map(Number);
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
  });
  it.skipIf(ownCpus.length < 2)('-t1 --mainaffinity=<a CPU>: Cpus_allowed_list of the main thread is that CPU, the measuring thread keeps every CPU', async () => {
    const cpu = ownCpus[ownCpus.length - 1]!;
    const c = new Child(['-t1', '-q', '--no-dma-latency', `--mainaffinity=${cpu}`]);
    const [tid] = await c.running();
    const pid = c.p.pid!;
    const main = cpusAllowed(pid, pid);
    const measuring = cpusAllowed(pid, tid!);
    c.p.kill('SIGINT');
    expect(await c.exited, c.err).toBe(0);
    expect(main).toBe(String(cpu));
    expect(measuring).toBe(own); // no -a: left on every CPU it was started with
    expect(c.err).not.toMatch(/main thread affinity .* refused/);
  });
});

describe('--latency: the value held in /dev/cpu_dma_latency while the run lasts', () => {
  const dev = '/dev/cpu_dma_latency';
  const writable = (() => {
    try {
      closeSync(openSync(dev, 'r+'));
      return true;
    } catch {
      return false;
    }
  })();
  const holds = (pid: number) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === dev;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  };

  it.skipIf(!writable).each([[[] as string[]], [['-t1']]])('writable here, %j: "# /dev/cpu_dma_latency set to 7us" on stdout, the device held open, the value in force at most 7', async (extra) => {
    const c = new Child(['--latency=7', '-i', '1000', ...extra]);
    // A live draw with samples: the device is held and the signal handlers are in place by then.
    await c.until(() => draws(c.out).some((d) => d.c.length === 1 && d.c[0]! > 0), 'a draw with samples');
    const held = holds(c.p.pid!);
    // The value in force is the smallest request of all holders: ours, or a smaller one of another process.
    const fd = openSync(dev, 'r');
    const b = Buffer.alloc(4);
    const got = readSync(fd, b, 0, 4, null);
    closeSync(fd);
    c.p.kill('SIGINT');
    expect(await c.exited, c.err).toBe(0);
    expect(held).toBe(true);
    expect(got).toBe(4);
    expect(b.readInt32LE(0)).toBeLessThanOrEqual(7);
    expect(c.out.split('\n')[0]).toBe('# /dev/cpu_dma_latency set to 7us'); // first, as cyclictest prints it
    expect(c.err).not.toMatch(/cpu_dma_latency not held/);
  });

  // Not writable: as an unprivileged user (as root, the child runs as nobody to make it so,
  // where nobody can run this tree: `ktimers --help` loads the addon).
  const nobody = { uid: 65534, gid: 65534 };
  const nobodyRuns = () => spawnSync(process.execPath, [BIN, '--help'], { ...nobody, timeout: LIMIT }).status === 0;
  const asUser = !writable ? {} : process.getuid?.() === 0 && nobodyRuns() ? nobody : null;
  it.skipIf(asUser === null).each([[[] as string[]], [['-t1']]])('not writable, %j: one stderr line says it is not held and why, no "set to" line, the run goes on', async (extra) => {
    const c = new Child(['-q', '-l', '20', '--latency=7', ...extra], asUser ?? {});
    expect(await c.exited, c.err).toBe(0);
    expect(c.err.match(/^ktimers cyclictest: cpu_dma_latency not held, running without it: \/dev\/cpu_dma_latency: .+$/gm)).toHaveLength(1);
    expect(c.out).not.toMatch(/cpu_dma_latency set to/);
    expect(c.out).toMatch(/^T: 0 \(\s*\d+\) P:\s*\d+ I:1000 C:\s+20 /m);
  });
});

describe('--tracemark', () => {
  const mounted = ['/sys/kernel/tracing/trace_marker', '/sys/kernel/debug/tracing/trace_marker'].some((f) => existsSync(f));
  it.each([[[] as string[]], [['-t2']]])('%j -b 1 --tracemark: -b trips and prints its lines; where tracing is not mounted one stderr line says the mark is not written', (extra) => {
    const c = new Child(['-q', '-b', '1', '--tracemark', '-l', '1000000', '--no-dma-latency', ...extra]);
    return c.exited.then((code) => {
      expect(code, c.err).toBe(0);
      expect(c.out).toMatch(/^# Break thread: \d+$/m);
      expect(c.out).toMatch(/^# Break value: \d+$/m);
      const lines = c.err.match(/^ktimers cyclictest: ignored --tracemark: .+$/gm) ?? [];
      expect(lines).toHaveLength(mounted ? 0 : 1);
    });
  });
});

describe('-A / --aligned and --secaligned: accepted, not implemented, said once on stderr', () => {
  it.each([[['-A', '100']], [['--aligned=100']], [['--secaligned']], [['--secaligned', '100']]])('%j', async (flag) => {
    const c = new Child(['-t2', '-q', '-l', '10', '--no-dma-latency', ...flag]);
    expect(await c.exited, c.err).toBe(0);
    const said = c.err.match(/^ktimers cyclictest: ignored (-A|--aligned|--secaligned): .+$/gm) ?? [];
    expect(said, c.err).toHaveLength(1);
    expect(said[0]).toMatch(flag[0]!.startsWith('--secaligned') ? /ignored --secaligned: .*not aligned to a second/ : /ignored (-A|--aligned): .*not aligned/);
    expect(c.out.match(/^T: [01] \(/gm)).toHaveLength(2);
  });
});

describe('signals as the run installs them', () => {
  it('SIGINT stops; a second SIGINT leaves at once with 130; SIGTERM twice only stops; SIGUSR1 reports; removed after', () => {
    const stop = vi.fn();
    const written: string[] = [];
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const before = process.listenerCount('SIGINT');
    const remove = installSignals(stop, () => 'T: status\n', { stdout: { write: () => true }, stderr: { write: (s: string) => written.push(s) } });
    try {
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGTERM', 'SIGTERM');
      expect(stop).toHaveBeenCalledTimes(2);
      expect(exit).not.toHaveBeenCalled();
      process.emit('SIGUSR1', 'SIGUSR1');
      expect(written).toEqual(['T: status\n']);
      // After SIGTERM the run is stopping: a SIGINT now is the second signal.
      process.emit('SIGINT', 'SIGINT');
      expect(exit).toHaveBeenCalledWith(130);
    } finally {
      remove();
      exit.mockRestore();
    }
    expect(process.listenerCount('SIGINT')).toBe(before);

    const stop2 = vi.fn();
    const exit2 = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const remove2 = installSignals(stop2, () => '', { stdout: { write: () => true }, stderr: { write: () => true } });
    try {
      process.emit('SIGINT', 'SIGINT');
      expect(stop2).toHaveBeenCalledTimes(1);
      expect(exit2).not.toHaveBeenCalled();
      process.emit('SIGINT', 'SIGINT');
      expect(exit2).toHaveBeenCalledWith(130);
    } finally {
      remove2();
      exit2.mockRestore();
    }
  });
});
