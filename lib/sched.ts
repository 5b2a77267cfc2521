/**
 * Per-thread real-time controls: scheduling policy and priority, CPU affinity,
 * nice, and memory locking — what a latency-sensitive program sets up before
 * arming its timers (cyclictest's `-p`, `-a`, `-m`), and what the workqueue
 * uses to run `WQ_HIGHPRI` workers at a higher priority and per-CPU workers
 * pinned to their CPU.
 *
 * Every call takes a kernel thread id; `0` means the calling thread. Node runs
 * each worker_thread on its own OS thread, so a worker calling
 * `sched_setscheduler(0, SCHED_FIFO, 50)` changes only itself (Linux applies
 * these calls per thread, as `chrt -p` and `taskset -p` do). `mlockall` is
 * process-wide by nature, and prefaults rather than locks (see there: V8
 * cannot run with locked memory).
 *
 * Errors: bad arguments throw `TypeError` / `RangeError` (`ERR_INVALID_ARG_TYPE`,
 * `ERR_OUT_OF_RANGE`); a refusal by the OS throws an `Error` whose `code` is the
 * errno name (`EPERM`, `EINVAL`, `ESRCH`, ...), with `errno` and `syscall`, and a
 * message naming what is missing (for example `CAP_SYS_NICE or RLIMIT_RTPRIO >= 50`).
 */
import { native } from './binding.js';
import { describe, kwarn, rangeError, typeError } from './errors.js';

/** The default time-sharing policy. */
export const SCHED_OTHER = 0;
/** Real-time first-in first-out policy (priority 1..99). */
export const SCHED_FIFO = 1;
/** Real-time round-robin policy (priority 1..99). */
export const SCHED_RR = 2;
/** Time-sharing for batch (CPU-bound, non-interactive) work. */
export const SCHED_BATCH = 3;
/** Below nice 19: runs only when nothing else wants the CPU. */
export const SCHED_IDLE = 5;

/** mlockall(): lock the pages mapped now. */
export const MCL_CURRENT = 1;
/** mlockall(): lock pages mapped from now on. */
export const MCL_FUTURE = 2;
/** mlockall(): lock pages when they are first touched, not at once. */
export const MCL_ONFAULT = 4;

const POLICIES = new Set([SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE]);

function intIn(v: unknown, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number') throw typeError('ERR_INVALID_ARG_TYPE', `${name} must be a number, got ${describe(v)}`);
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw rangeError('ERR_OUT_OF_RANGE', `${name} must be an integer in [${lo}, ${hi}], got ${describe(v)}`);
  }
  return v;
}

function tidArg(v: unknown): number {
  return intIn(v, 'tid', 0, 0x7fffffff);
}

function policyArg(v: unknown): number {
  const p = intIn(v, 'policy', 0, 7);
  if (!POLICIES.has(p)) {
    throw rangeError('ERR_OUT_OF_RANGE', 'policy must be SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH or SCHED_IDLE');
  }
  return p;
}

/**
 * gettid - the kernel thread id of the calling thread.
 *
 * Context: any thread. Return: the TID (the process id on the main thread).
 */
export function gettid(): number {
  return native.gettid();
}

/**
 * sched_setscheduler - set a thread's scheduling policy and static priority.
 * @param tid - thread id, 0 for the calling thread
 * @param policy - `SCHED_OTHER`, `SCHED_FIFO`, `SCHED_RR`, `SCHED_BATCH` or `SCHED_IDLE`
 * @param priority - 1..99 for `SCHED_FIFO`/`SCHED_RR`, 0 for the others
 *
 * Context: any thread. Return: nothing; throws `EPERM` (naming CAP_SYS_NICE and
 * the current RLIMIT_RTPRIO) when the caller may not use the priority.
 */
export function sched_setscheduler(tid: number, policy: number, priority: number): void {
  const t = tidArg(tid);
  const p = policyArg(policy);
  const lo = native.schedPriorityMin(p);
  const hi = native.schedPriorityMax(p);
  native.schedSetScheduler(t, p, intIn(priority, 'priority', lo, hi));
}

/**
 * sched_getscheduler - a thread's scheduling policy and static priority.
 * @param tid - thread id, 0 for the calling thread
 *
 * Context: any thread. Return: `{ policy, priority }`.
 */
export function sched_getscheduler(tid: number): { policy: number; priority: number } {
  return native.schedGetScheduler(tidArg(tid));
}

/**
 * sched_get_priority_min - the lowest static priority of a policy.
 * @param policy - a `SCHED_*` policy
 *
 * Context: any thread. Return: 1 for the real-time policies, 0 for the others.
 */
export function sched_get_priority_min(policy: number): number {
  return native.schedPriorityMin(policyArg(policy));
}

/**
 * sched_get_priority_max - the highest static priority of a policy.
 * @param policy - a `SCHED_*` policy
 *
 * Context: any thread. Return: 99 for the real-time policies, 0 for the others.
 */
export function sched_get_priority_max(policy: number): number {
  return native.schedPriorityMax(policyArg(policy));
}

/**
 * sched_setaffinity - restrict a thread to a set of CPUs.
 * @param tid - thread id, 0 for the calling thread
 * @param cpus - CPU ids (0-based), at least one
 *
 * Context: any thread. Return: nothing; throws `EINVAL` when none of the CPUs is
 * online and allowed by the thread's cpuset.
 */
export function sched_setaffinity(tid: number, cpus: readonly number[]): void {
  const t = tidArg(tid);
  if (!Array.isArray(cpus)) throw typeError('ERR_INVALID_ARG_TYPE', `cpus must be an array of CPU ids, got ${describe(cpus)}`);
  if (cpus.length === 0) throw rangeError('ERR_OUT_OF_RANGE', 'cpus must name at least one CPU');
  // Copy first: the array is read once, so a getter cannot change it between
  // the check and the native call.
  const list = Array.from(cpus, (c, i) => intIn(c, `cpus[${i}]`, 0, 8191));
  native.schedSetAffinity(t, list);
}

/**
 * sched_getaffinity - the CPUs a thread may run on.
 * @param tid - thread id, 0 for the calling thread
 *
 * Context: any thread. Return: the CPU ids, ascending.
 */
export function sched_getaffinity(tid: number): number[] {
  return native.schedGetAffinity(tidArg(tid));
}

/**
 * setpriority - set a thread's nice value (Linux applies `PRIO_PROCESS` with a
 * thread id to that thread only).
 * @param tid - thread id, 0 for the calling thread
 * @param nice - -20 (most favourable) .. 19
 *
 * Context: any thread. Return: nothing; lowering nice without CAP_SYS_NICE or a
 * sufficient RLIMIT_NICE throws `EACCES`/`EPERM` naming both.
 */
export function setpriority(tid: number, nice: number): void {
  native.setPriority(tidArg(tid), intIn(nice, 'nice', -20, 19));
}

/**
 * getpriority - a thread's nice value.
 * @param tid - thread id, 0 for the calling thread
 *
 * Context: any thread. Return: -20..19.
 */
export function getpriority(tid: number): number {
  return native.getPriority(tidArg(tid));
}

/**
 * mlockall - fault the process's memory in, so page faults do not add latency
 * to the first expiries.
 *
 * Differs from the kernel/libc call: memory is **not left locked**. V8 aborts
 * the whole process ("Check failed: 0 == ret" in OS::SetPermissions) when it
 * changes the protection of, or discards, a locked page — it does so when it
 * compiles code, frees heap pages and tears an isolate down, so a locked Node
 * process dies within seconds or at exit. ktimers therefore locks everything
 * mapped now (`mlockall(MCL_CURRENT)`, which faults it all in and checks the
 * privilege), then unlocks at once. With no swap the pages stay resident;
 * what cyclictest's `-m` buys (no faults on memory that exists) is kept.
 * `MCL_FUTURE` / `MCL_ONFAULT` cannot be honoured: asking for them emits a
 * `KtimersWarning` (`KTIMERS_WARN_MLOCK_PREFAULT`) once per thread.
 *
 * @param flags - `MCL_CURRENT`, `MCL_FUTURE` (and optionally `MCL_ONFAULT`), or'ed
 *
 * Context: any thread; affects the whole process. Return: nothing; throws
 * `EPERM`/`ENOMEM` naming CAP_IPC_LOCK and RLIMIT_MEMLOCK when the lock is refused.
 */
export function mlockall(flags: number): void {
  const f = intIn(flags, 'flags', 1, MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT);
  if ((f & (MCL_CURRENT | MCL_FUTURE)) === 0) {
    throw rangeError('ERR_OUT_OF_RANGE', 'flags must include MCL_CURRENT or MCL_FUTURE');
  }
  native.mlockAll(MCL_CURRENT);
  native.munlockAll();
  if ((f & (MCL_FUTURE | MCL_ONFAULT)) !== 0) {
    kwarn(
      'KTIMERS_WARN_MLOCK_PREFAULT',
      'mlockall: memory was faulted in and unlocked again; MCL_FUTURE/MCL_ONFAULT are not kept ' +
        '(V8 aborts the process when its pages stay locked)',
      true,
    );
  }
}

/**
 * munlockall - undo mlockall().
 *
 * Context: any thread; affects the whole process. Return: nothing.
 */
export function munlockall(): void {
  native.munlockAll();
}

/**
 * nr_cpu_ids - the number of CPU ids the system is configured with (the
 * kernel's `nr_cpu_ids`; valid CPU ids are below it).
 *
 * Context: any thread. Return: a count ≥ 1.
 */
export function nr_cpu_ids(): number {
  return native.cpuCounts().configured;
}

/**
 * num_online_cpus - the number of CPUs online now.
 *
 * Context: any thread. Return: a count ≥ 1.
 */
export function num_online_cpus(): number {
  return native.cpuCounts().online;
}
