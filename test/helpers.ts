// Shared test helpers.
import { spawn } from 'node:child_process';

/** mulberry32: a small seeded PRNG (uniform in [0, 1)), so random tests replay from their seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves once `pred()` holds, polling every 2 ms on the event loop; rejects after `timeoutMs`. */
export function until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (pred()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error('timed out waiting'));
      setTimeout(poll, 2);
    };
    poll();
  });
}

/**
 * Scale for the time limits of tests that wait on child processes or workers:
 * KTIMERS_TEST_SLOWDOWN (default 1). `npm run test:valgrind` sets it, as memcheck
 * runs Node 20-50x slower. Only limits scale, never the bounds being asserted.
 */
export const SLOWDOWN = Math.max(1, Number(process.env.KTIMERS_TEST_SLOWDOWN ?? 1) || 1);

/**
 * Greedy delta debugging for the model tests: drops chunks of a failing operation
 * sequence while `run` still reports a mismatch, keeping each candidate's prefix up
 * to its first mismatch. `run` returns the mismatch (with `at`, the index of the
 * operation after which it showed) or null; it may be async.
 */
export async function minimizeOps<Op, F extends { at: number }>(
  ops: Op[],
  run: (ops: Op[]) => F | null | Promise<F | null>,
  deadline: number,
): Promise<{ ops: Op[]; failure: F }> {
  let fail = (await run(ops))!;
  let cur = ops.slice(0, fail.at + 1);
  let parts = 2;
  while (cur.length > 1 && Date.now() < deadline) {
    const size = Math.ceil(cur.length / parts);
    let reduced = false;
    for (let s = 0; s < cur.length && Date.now() < deadline; s += size) {
      const cand = cur.slice(0, s).concat(cur.slice(s + size));
      const f = await run(cand);
      if (f !== null) {
        cur = cand.slice(0, f.at + 1);
        fail = f;
        parts = Math.max(parts - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (parts >= cur.length) break;
      parts = Math.min(cur.length, parts * 2);
    }
  }
  return { ops: cur, failure: fail };
}

/** A model test's first mismatch: after operation `at`, what differed, and both records. */
export interface ModelFailure {
  at: number;
  what: string;
  expected: string[];
  actual: string[];
}

export function failureText(f: ModelFailure): string {
  return `${f.what}\n  expected (model):\n    ${f.expected.join('\n    ')}\n  actual (ktimers):\n    ${f.actual.join('\n    ')}`;
}

/**
 * A model test's base seed: `dflt` unless KTIMERS_SEED is set (a number replays a
 * run, `random` explores). Fixed by default, so CI is deterministic.
 */
export function modelSeed(dflt: number): number {
  const env = process.env.KTIMERS_SEED;
  if (env === 'random') return (Math.random() * 2 ** 32) >>> 0;
  return env !== undefined && env !== '' ? Number(env) >>> 0 : dflt;
}

/** What {@link spawnCollect} resolves to: how the child ended and everything it wrote. */
export interface Collected {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Spawns `cmd args` with stdout and stderr collected, and resolves when it has
 * exited (killed with SIGKILL after `timeoutMs`, a backstop: the caller scales it
 * by {@link SLOWDOWN}). Rejects only when the process could not be started.
 *
 * Not spawnSync: a test fork whose event loop does not turn cannot answer
 * vitest's own RPC, which gives up after a fixed 60 s ("Timeout calling
 * onTaskUpdate"), and a child that takes 45 s on a loaded machine under ASan,
 * run after another such test, got there.
 */
export function spawnCollect(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const backstop = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs);
    p.on('error', (err) => {
      clearTimeout(backstop);
      reject(err);
    });
    p.on('close', (status, signal) => {
      clearTimeout(backstop);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** The JSON object on the last line of `stdout`, or null when that line is missing or not JSON. */
export function lastJsonLine(stdout: string): any {
  try {
    return JSON.parse(stdout.trim().split('\n').pop() ?? '');
  } catch {
    return null; // the caller's assertion on it shows stdout and stderr
  }
}

/**
 * Runs a fixture in a child process: `[...prefix, node, ...nodeArgs, fixture,
 * ...args]` (a prefix such as setpriv/prlimit drops privileges first), through
 * {@link spawnCollect}. The fixtures print one JSON object as their last stdout
 * line; `json` is that object, or null (the callers assert it).
 */
export async function runFixture(
  fixture: string,
  args: string[],
  opts: { prefix?: string[]; nodeArgs?: string[]; timeoutMs: number; env?: Record<string, string> },
): Promise<ChildResult> {
  const argv = [...(opts.prefix ?? []), process.execPath, ...(opts.nodeArgs ?? []), fixture, ...args];
  const env = opts.env ? { ...process.env, ...opts.env } : process.env;
  const r = await spawnCollect(argv[0]!, argv.slice(1), { env, timeoutMs: opts.timeoutMs });
  return { ...r, json: lastJsonLine(r.stdout) };
}

/** What {@link runFixture} resolves to. */
export interface ChildResult extends Collected {
  json: any;
}

/** One turn of the event loop (a macrotask), for long synchronous loops to let I/O through. */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
