// Every example runs with plain `node`, ends by itself, and prints what it
// claims. A new file in examples/ without a check here fails the first test.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SLOWDOWN, spawnCollect } from './helpers.js';

const dir = fileURLToPath(new URL('../examples/', import.meta.url));

/** Runs an example; resolves with its exit status and output (async: examples run in parallel). */
const run = (file: string, args: string[] = []) => spawnCollect(process.execPath, [dir + file, ...args], { timeoutMs: 25_000 * SLOWDOWN });

const num = (re: RegExp, s: string): number[] => {
  const m = re.exec(s);
  expect(m, `${re} in:\n${s}`).not.toBeNull();
  return m!.slice(1).map(Number);
};

const CHECKS: Record<string, () => Promise<void>> = {
  'periodic-hrtimer.js': async () => {
    const r = await run('periodic-hrtimer.js', ['1', '1000']);
    expect(r.status, r.stderr).toBe(0);
    const [expiries, overruns, early, ranMs] = num(/(\d+) expiries, (\d+) overruns, (\d+) early .* in ([\d.]+) ms/, r.stdout);
    expect(early).toBe(0);
    // 1000 periods in 1 s (more if the 1 s setTimeout ran late): each is either run or counted as an overrun.
    expect(expiries! + overruns!).toBeGreaterThanOrEqual(990);
    expect(expiries! + overruns!).toBeLessThanOrEqual(Math.floor(ranMs!) + 1);
    expect(r.stdout).toMatch(/lateness: min +[\d.]+ us +p50 +[\d.]+ us/);
  },

  'kfifo-worker.js': async () => {
    const r = await run('kfifo-worker.js', ['20000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^20000 records, 0 out of order; the fifo was closed by the producer \(oldest record waited \d+ us\)$/m);
  },

  'periodic-timer-list.js': async () => {
    const r = await run('periodic-timer-list.js', ['12', '70']);
    expect(r.status, r.stderr).toBe(0);
    const ticks = [...r.stdout.matchAll(/^tick +(\d+) +jiffies (\d+) +(\d+) jiffies after expires$/gm)];
    expect(ticks.map((m) => Number(m[1]))).toEqual([...Array(12).keys()].map((i) => i + 1));
    // 70 jiffies is a level-1 timeout: 1..8 jiffies after expires (more only if the VM stalled).
    for (const m of ticks) expect(Number(m[3])).toBeGreaterThanOrEqual(1);
    // Re-armed from the callback with jiffies + 70: consecutive ticks are >= 71 jiffies apart.
    for (let i = 1; i < ticks.length; i++) expect(BigInt(ticks[i]![2]!) - BigInt(ticks[i - 1]![2]!) >= 71n).toBe(true);
    const [count, early] = num(/(\d+) ticks, (\d+) early, max \d+ jiffies after expires; timer_delete_sync\(\) = 0/, r.stdout);
    expect([count, early]).toEqual([12, 0]);
    expect(r.stdout).not.toMatch(/unexpected mod_timer/);
  },

  'stream-clock-48k.js': async () => {
    const r = await run('stream-clock-48k.js', ['1']);
    expect(r.status, r.stderr).toBe(0);
    const [periods, frames, callbacks, xruns, early] = num(
      /(\d+) periods \((\d+) frames\) signalled in (\d+) callbacks; (\d+) xruns; (\d+) early/,
      r.stdout,
    );
    expect(early).toBe(0);
    expect(frames).toBe(periods! * 64);
    expect(callbacks! + xruns!).toBe(periods); // every period is signalled or counted as an xrun
    // It ends in the callback that signals period 750 (1 s of 1.333 ms periods):
    // exactly 750, or more when that callback came late and counted the missed
    // periods as xruns.
    expect(periods).toBeGreaterThanOrEqual(750);
    expect(periods).toBeLessThanOrEqual(750 + xruns!);
    // The clock and the count are read in that same callback: only the period in progress is unsignalled.
    const [clockFrames, behind] = num(/clock says (\d+) frames: the stream is (-?\d+) frames behind \(the period in progress: no drift\)/, r.stdout);
    expect(clockFrames! - frames!).toBe(behind);
    expect(behind).toBeGreaterThanOrEqual(0);
    expect(behind).toBeLessThan(64);
  },

  'kthread-fifo.js': async () => {
    const r = await run('kthread-fifo.js', ['1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/worker "tick\/fifo" is thread \d+, (SCHED_FIFO 50|SCHED_OTHER)/);
    const [busyMs, fired] = num(/main thread busy for ([\d.]+) ms: its own 1 ms hrtimer fired (\d+) times meanwhile/, r.stdout);
    // Deterministic: a main-thread callback cannot run inside a synchronous loop.
    expect(fired).toBe(0);
    const [expiries, overruns, , notHard] = num(/worker hrtimer: (\d+) expiries, (\d+) overruns, max lateness (\d+) us, (\d+) outside hard-IRQ context/, r.stdout);
    expect(notHard).toBe(0);
    // The worker's timer kept running meanwhile: ~1 period per ms, each run or counted as an overrun
    // (half as a floor: a loaded machine may keep even the worker off the CPU for a while).
    expect(expiries! + overruns!).toBeGreaterThanOrEqual(Math.floor(busyMs! / 2));
    expect(expiries).toBeGreaterThan(0);
  },

  'realtime-thread.js': async () => {
    const r = await run('realtime-thread.js', ['1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^thread "sampler" is thread \d+, (SCHED_FIFO 50|SCHED_OTHER)$/m);
    const [count, overrun, chunks] = num(/^(\d+) samples in order, (\d+) periods overrun, while the main thread ran (\d+) busy chunks$/m, r.stdout);
    // The main thread was busy and the thread's timer kept going meanwhile; every period is a
    // sample or an overrun (no latency bound: the machine may be loaded).
    expect(chunks).toBeGreaterThan(0);
    expect(count).toBeGreaterThan(0);
    expect(overrun).toBeGreaterThanOrEqual(0);
  },

  'node-style.js': async () => {
    const r = await run('node-style.js');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/^sleep\([\d.]+ us\) took [\d.]+ us \(not early\)$/gm)).toHaveLength(3);
    const [ticks, periods] = num(/interval: (\d+) ticks covering (\d+) periods, then AbortError \(ABORT_ERR, cause: TimeoutError\)/, r.stdout);
    const [sinceStart] = num(/interval: the last tick ([\d.]+) ms after the start/, r.stdout);
    // Each tick counts the 10 ms grid points passed since the previous one, however late it ran:
    // at least one, never more than elapsed since the start. (How many ticks fit in the signal's
    // ~105 ms is the machine's: on a loaded VM the abort, a Node timer, and the ticks may each
    // come tens of ms late.)
    expect(periods).toBeGreaterThanOrEqual(ticks!);
    expect(periods).toBeLessThanOrEqual(Math.floor(sinceStart! / 10));
    if (ticks! > 3) {
      // The consumer slept 25 ms after tick 3: two grid points or more passed before the next
      // count, which reported the ones it missed.
      expect(periods).toBeGreaterThan(ticks!);
      expect(r.stdout).toMatch(/interval: tick \d+ reports \d+ periods \(\d+ missed while busy\)/);
    }
    const [runs, early] = num(/HighResTimer: (\d+) runs every 2 ms, lateness median [\d.]+ us, (\d+) early/, r.stdout);
    expect([runs, early]).toEqual([50, 0]);
    // Two at a time: at least two rounds of 40 ms.
    const [jobs, took, ok, bad] = num(/WorkQueue: (\d+) jobs of 40 ms, 2 at a time, in (\d+) ms; (\d+) fulfilled, (\d+) rejected with RangeError: job 3: input out of range/, r.stdout);
    expect([jobs, ok, bad]).toEqual([4, 3, 1]);
    expect(took).toBeGreaterThanOrEqual(79);
  },

  'timer-to-work.js': async () => {
    const r = await run('timer-to-work.js', ['1']);
    expect(r.status, r.stderr).toBe(0);
    const [ticks, missed, outside] = num(/timer: (\d+) ticks, (\d+) missed periods, max lateness [\d.]+ us, (\d+) outside hard-IRQ context/, r.stdout);
    expect(outside).toBe(0);
    expect(ticks! + missed!).toBeGreaterThanOrEqual(480); // 500 periods of 2 ms, run or counted (the end is a Node timer)
    const [queued, coalesced, runs] = num(/schedule_work\(\): (\d+) queued, (\d+) coalesced \(already pending\); the work ran (\d+) times in task context: true/, r.stdout);
    expect(queued! + coalesced!).toBe(Math.floor(ticks! / 10)); // every 10th tick hands off
    expect(runs).toBe(queued); // each successful queueing is exactly one run; flush_work waited for the last
    const [samples] = num(/(\d+) samples taken/, r.stdout);
    expect(samples).toBe(ticks);
  },

  'delayed-poller.js': async () => {
    const r = await run('delayed-poller.js', ['6', '70']);
    expect(r.status, r.stderr).toBe(0);
    const polls = [...r.stdout.matchAll(/^poll (\d+) +at jiffies (\d+) +\+(\d+) jiffies +loadavg [\d.]+ +worker tid (\d+)$/gm)];
    expect(polls.map((m) => Number(m[1]))).toEqual([1, 2, 3, 4, 5, 6]);
    for (const m of polls) expect(Number(m[3])).toBeGreaterThanOrEqual(70); // never early
    const [n, early, mainTid] = num(/(\d+) polls, (\d+) less than 70 jiffies apart; main thread tid (\d+); cancel_delayed_work_sync\(\) = false/, r.stdout);
    expect([n, early]).toEqual([6, 0]);
    for (const m of polls) expect(Number(m[4])).not.toBe(mainTid); // polled on worker threads
  },

  'legacy-timer.js': async () => {
    const r = await run('legacy-timer.js', ['4', '30']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    // The timer part runs on the virtual clock: every jiffy is exact. Level 0
    // fires the jiffy after expires, and each re-arm is jiffies + 30 from the
    // callback, so tick n is at start + 31 n and saw the dev as its data.
    const [start, delay] = num(/timer added at jiffies (\d+) for jiffies \+ (\d+)/, r.stdout).map(BigInt);
    const ticks = [...r.stdout.matchAll(/^xxx0: tick (\d+) at jiffies (\d+) \(expires was (\d+)\)$/gm)];
    expect(ticks.map((m) => [Number(m[1]), BigInt(m[2]!), BigInt(m[3]!)])).toEqual(
      [1, 2, 3, 4].map((n) => [n, start! + BigInt(n) * (delay! + 1n), start! + BigInt(n) * (delay! + 1n) - 1n]),
    );
    expect(r.stdout).toMatch(/^timer: 4 ticks; pending 0; del_timer_sync\(\) = 0$/m);
    // The delayed-work part runs on the real clock: never early.
    const runs = [...r.stdout.matchAll(/^work: run (\d) at jiffies \d+ \+(\d+) jiffies$/gm)];
    expect(runs.map((m) => Number(m[1]))).toEqual([1, 2, 3]);
    for (const m of runs) expect(Number(m[2])).toBeGreaterThanOrEqual(20);
    expect(r.stdout).toMatch(/work: 3 runs, 0 less than 20 jiffies after the last; cancel_delayed_work_sync\(\) = false/);
  },

  'workqueue.js': async () => {
    const r = await run('workqueue.js');
    expect(r.status, r.stderr).toBe(0);
    // The example waits for 20 polls and the delayed work's one run (events, not a
    // time); polls queued before the timer is deleted may add to the 20.
    const [polled, delayed] = num(/polled (\d+) times, delayed work ran (\d+) time\(s\); cancel_delayed_work_sync\(\) = false/, r.stdout);
    expect(polled).toBeGreaterThanOrEqual(20);
    expect(delayed).toBe(1);
  },
};

describe('examples/', () => {
  it('every example has a check', () => {
    const files = readdirSync(dir).filter((f) => /\.(c|m)?js$/.test(f));
    expect(files.filter((f) => !(f in CHECKS))).toEqual([]);
    expect(Object.keys(CHECKS).filter((f) => !files.includes(f))).toEqual([]);
  });

  for (const [file, check] of Object.entries(CHECKS)) {
    it.concurrent(`${file} runs to completion and prints what it claims`, check, 30_000);
  }
});
