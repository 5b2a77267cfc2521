/**
 * Loads the native addon through node-gyp-build (a matching prebuild from
 * `prebuilds/` when present, else the local `build/`), after refusing any
 * platform without timerfd and epoll.
 * @internal
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { KtimersError } from './errors.js';

if (process.platform !== 'linux') {
  throw new KtimersError(
    'ERR_KTIMERS_UNSUPPORTED_PLATFORM',
    `ktimers runs only on Linux: it is built on timerfd and epoll, which ${process.platform} does not have`,
  );
}

/** The addon's surface (native/binding.cc). */
export interface NativeBinding {
  init(onWake: (firedMask: number) => void): { io: BigInt64Array };
  /**
   * Programs clock `clock`'s timerfd (0..3) for `wake` (absolute ns on that clock; null: none)
   * and, while spinning timers are armed on it, their spin: when the earliest of them wakes,
   * when the first of them is due, and how long the waking one may busy-wait (ns).
   */
  program(clock: number, wake: bigint | null, spinWake?: bigint | null, spinDue?: bigint, spinBudget?: number): void;
  /** Whether this environment's loop is kept alive (while ref'd timers are armed). */
  setRef(refd: boolean): void;
  /** 0 MONOTONIC, 1 REALTIME, 2 BOOTTIME, 3 TAI, 4 MONOTONIC_RAW */
  now(clock: number): bigint;
  clockRes(clock: number): bigint;
  state(): NativeState;
  /** Starts the loop watch (native/loop_watch.cc) or changes its threshold; -1 stops it. */
  loopWatch(thresholdNs: number): void;
  /** [iterations, busy ns, lost, then (busy ns, end ns) pairs] since the last read. */
  loopWatchRead(): Float64Array;
  /** When the loop last woke from waiting for events, if it waited since its last prepare (ns), else -1. */
  loopWokeAt(): number;
  // Per-thread scheduling (native/sched.cc); tid 0 = the calling thread.
  gettid(): number;
  schedSetScheduler(tid: number, policy: number, priority: number): void;
  schedGetScheduler(tid: number): { policy: number; priority: number };
  schedPriorityMin(policy: number): number;
  schedPriorityMax(policy: number): number;
  schedSetAffinity(tid: number, cpus: readonly number[]): void;
  schedGetAffinity(tid: number): number[];
  setPriority(tid: number, nice: number): void;
  getPriority(tid: number): number;
  mlockAll(flags: number): void;
  munlockAll(): void;
  cpuCounts(): { configured: number; online: number };
}

/** Introspection of the per-environment engine (tests, benches). */
export interface NativeState {
  initialized: boolean;
  epollFd?: number;
  timerFds?: number[];
  programmed?: (bigint | null)[];
  /** whether the loop is kept alive by armed timers */
  refd?: boolean;
  /** total CLOCK_MONOTONIC ns this environment spent busy-waiting for spinning timers */
  spinNs?: bigint;
  /** wake-ups of the timerfds so far */
  wakeups?: number;
}

const require = createRequire(import.meta.url);
const load = require('node-gyp-build') as (dir: string) => NativeBinding;

/**
 * node-gyp-build's own failures name neither the cause nor the way out: a
 * prebuild linked against a newer glibc than the machine's (the armv7 one
 * needs 2.34 for its 64-bit time_t, docs/prebuilds.md), or no prebuild for
 * this platform and no local build (musl, armv6, an install with
 * --ignore-scripts). Both say which, and that a build from source is the cure.
 */
function loadAddon(dir: string): NativeBinding {
  try {
    return load(dir);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const needs = /version [`']((?:GLIBC|GLIBCXX)_[\d.]+)' not found/.exec(msg);
    if (needs) {
      throw new KtimersError(
        'ERR_KTIMERS_GLIBC_TOO_OLD',
        `ktimers' prebuild for linux-${process.arch} needs ${needs[1]}, which this system's C library does not have ` +
          `(see docs/prebuilds.md for each prebuild's floor). Build it from source instead: ` +
          `\`npm rebuild ktimers --build-from-source\` (needs a C++ compiler, make and python3). (${msg})`,
      );
    }
    if (/No native build was found/.test(msg)) {
      throw new KtimersError(
        'ERR_KTIMERS_NO_BUILD',
        `ktimers has no prebuild for linux-${process.arch}` +
          `${process.arch === 'arm' ? ` (ARMv${(process.config.variables as { arm_version?: string }).arm_version ?? '?'})` : ''} with this C library, ` +
          `and no local build: run \`npm rebuild ktimers\` (needs a C++ compiler, make and python3) ` +
          `and do not install with --ignore-scripts. (${msg.split('\n')[0]})`,
      );
    }
    throw err;
  }
}

/** @internal */
export const native: NativeBinding = loadAddon(fileURLToPath(new URL('..', import.meta.url)));
