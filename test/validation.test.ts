// Input validation of every export, and of the native binding underneath.
//
// Rule: bad input is a TypeError or RangeError (or KtimersError) carrying a stable
// string `code` — never a crash, never a silent coercion, never a half-applied
// change. Hostile objects (throwing valueOf / toString / Symbol.toPrimitive /
// getters) must not be coerced.
//
// The signature table SIG names the kernel parameter kind of every argument of
// every exported function; the targeted tests and the fuzz below are driven by it.
// A new export without an entry fails the "covers every export" test.
// Covered: ktime, hrtimer, context, jiffies (lib/jiffies.ts), timer_list
// (lib/timer/), workqueue, the durations, and at the end ktimers/testing's
// installVirtualClock. The idiomatic layer (ktimers/promises, HighResTimer,
// WorkQueue) and installVirtualClock with its clock have their own fuzz (after the
// kernel API's): options objects are read there, so an exception thrown by the
// caller's own getter or Proxy trap propagates unchanged (as Node's APIs let it);
// every other rejection carries a code.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as k from '../dist/index.js';
import { native } from '../dist/binding.js';
import * as TL from '../dist/timer/driver.js';
import { installVirtualClock, type VirtualClock, type VirtualClockOptions } from '../dist/testing.js';
import { virt } from '../dist/internal/virtual.js';
import { setMonotonicSource } from '../dist/internal/clock.js';
import { cancelVirtual, engineState, timerFields } from '../dist/internal/engine.js';
import { mulberry32, turn } from './helpers.js';
import * as SCHED from '../dist/sched.js';
import * as KTHREAD from '../dist/kthread/index.js';

const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 2 ** 32 - 1;
/** Largest cpu of __round_jiffies*_relative: the kernel's `int` product 3·cpu must not overflow. */
const SKEW_CPU_MAX = 715_827_882;
/** How far ahead (jiffies) the valid expiry of the targeted tests is: nothing armed there ever fires. */
const FAR = 1_000_000n;

type Kind =
  | 'ktime' | 'u64' | 's64' | 'div' | 'timer' | 'fn' | 'clock' | 'mode' | 'any'
  // an hrtimer the call writes (its `function`: refused when frozen or made read-only; the other calls take those too)
  | 'wtimer'
  // jiffies.h: `unsigned long` / `u64` jiffies (bigint or safe-integer number, [0, 2^64-1]); a `long` delta (s64);
  // `unsigned int` / `u32` counts (bigint or safe-integer number, [0, 2^32-1]); the `int cpu` of the round_jiffies skew.
  | 'jiffies' | 'delta' | 'u32' | 'skewcpu'
  // timer.h: a timer_list; one the call writes (its `function` or `flags`: refused when frozen or those
  // fields were made read-only; the others keep their state private and take those too); timer_setup's `unsigned int flags`;
  // add_timer_on's cpu (one CPU: 0); LVL_START's level.
  | 'tlist' | 'wtlist' | 'flags' | 'cpu' | 'level'
  // durations (lib/api/duration.ts): ns() takes whole ns; us/ms/s take a number (fractions round) or a bigint, >= 0.
  | 'dur_ns' | 'dur_us' | 'dur_ms' | 'dur_s'
  // workqueue.h: a work_struct (any), the work of a delayed_work, a delayed_work, a workqueue_struct; a work
  // function ({ module, name } or, for WQ_BH, a function); alloc_workqueue's name, `unsigned int flags` and
  // `int max_active`; queue_work_on's cpu (an id of an allowed CPU, or WORK_CPU_UNBOUND).
  | 'work' | 'dwwork' | 'dwork' | 'wq' | 'wfn' | 'wqname' | 'wqflags' | 'maxact' | 'wqcpu';
type Ret =
  | 'ktime' | 'u64' | 'cmp' | 'bool' | 'try' | 'cancel' | 'void' | 'now'
  | 'jiffies' | 'jnow' | 'u32' | 'tlist' | 'lvl' | 'dur'
  | 'promise' | 'wq' | 'wqornull' | 'work' | 'dwork' | 'null';

// prettier-ignore
const SIG: Record<string, [Kind[], Ret]> = {
  ktime_set: [['s64', 'u64'], 'ktime'],
  ns_to_ktime: [['u64'], 'ktime'], us_to_ktime: [['u64'], 'ktime'], ms_to_ktime: [['u64'], 'ktime'],
  ktime_add: [['ktime', 'ktime'], 'ktime'], ktime_sub: [['ktime', 'ktime'], 'ktime'],
  ktime_add_safe: [['ktime', 'ktime'], 'ktime'],
  ktime_add_ns: [['ktime', 'u64'], 'ktime'], ktime_sub_ns: [['ktime', 'u64'], 'ktime'],
  ktime_add_us: [['ktime', 'u64'], 'ktime'], ktime_sub_us: [['ktime', 'u64'], 'ktime'],
  ktime_add_ms: [['ktime', 'u64'], 'ktime'], ktime_sub_ms: [['ktime', 'u64'], 'ktime'],
  ktime_to_ns: [['ktime'], 'ktime'], ktime_to_us: [['ktime'], 'ktime'], ktime_to_ms: [['ktime'], 'ktime'],
  ktime_divns: [['ktime', 'div'], 'ktime'],
  ktime_us_delta: [['ktime', 'ktime'], 'ktime'], ktime_ms_delta: [['ktime', 'ktime'], 'ktime'],
  ktime_compare: [['ktime', 'ktime'], 'cmp'],
  ktime_after: [['ktime', 'ktime'], 'bool'], ktime_before: [['ktime', 'ktime'], 'bool'],
  ktime_get: [[], 'now'], ktime_get_real: [[], 'now'], ktime_get_boottime: [[], 'now'],
  ktime_get_clocktai: [[], 'now'], ktime_get_raw: [[], 'now'],
  ktime_get_ns: [[], 'now'], ktime_get_real_ns: [[], 'now'], ktime_get_boottime_ns: [[], 'now'],
  ktime_get_clocktai_ns: [[], 'now'], ktime_get_raw_ns: [[], 'now'],
  hrtimer_setup: [['wtimer', 'fn', 'clock', 'mode'], 'void'],
  hrtimer_init: [['wtimer', 'clock', 'mode'], 'void'],
  hrtimer_update_function: [['wtimer', 'fn'], 'void'],
  hrtimer_start_range_ns: [['timer', 'ktime', 'u64', 'mode'], 'void'],
  hrtimer_start: [['timer', 'ktime', 'mode'], 'void'],
  hrtimer_start_expires: [['timer', 'mode'], 'void'],
  hrtimer_restart: [['timer'], 'void'],
  hrtimer_try_to_cancel: [['timer'], 'try'],
  hrtimer_cancel: [['timer'], 'cancel'],
  hrtimer_forward: [['timer', 'ktime', 'ktime'], 'u64'],
  hrtimer_forward_now: [['timer', 'ktime'], 'u64'],
  hrtimer_cb_get_time: [['timer'], 'ktime'],
  hrtimer_get_remaining: [['timer'], 'ktime'], hrtimer_expires_remaining: [['timer'], 'ktime'],
  hrtimer_get_expires: [['timer'], 'ktime'], hrtimer_get_softexpires: [['timer'], 'ktime'],
  hrtimer_set_expires: [['timer', 'ktime'], 'void'],
  hrtimer_set_expires_range: [['timer', 'ktime', 'ktime'], 'void'],
  hrtimer_set_expires_range_ns: [['timer', 'ktime', 'u64'], 'void'],
  hrtimer_add_expires: [['timer', 'ktime'], 'void'],
  hrtimer_add_expires_ns: [['timer', 'u64'], 'void'],
  hrtimer_active: [['timer'], 'bool'], hrtimer_is_queued: [['timer'], 'bool'],
  hrtimer_callback_running: [['timer'], 'bool'],
  // ktimers extension: the hybrid wake-up (u64 ns, at most HRTIMER_SPIN_MAX_NS: larger is ERR_OUT_OF_RANGE)
  hrtimer_set_spin_ns: [['timer', 'u64'], 'void'], hrtimer_get_spin_ns: [['timer'], 'ktime'],
  in_atomic: [[], 'bool'], in_hardirq: [[], 'bool'], in_irq: [[], 'bool'], in_interrupt: [[], 'bool'],
  in_nmi: [[], 'bool'], in_serving_softirq: [[], 'bool'], in_softirq: [[], 'bool'], in_task: [[], 'bool'],
  might_sleep: [['any'], 'void'],
  // jiffies (the *64 forms take a u64, the same range as unsigned long on a 64-bit kernel)
  get_jiffies_64: [[], 'jnow'],
  time_after: [['jiffies', 'jiffies'], 'bool'], time_before: [['jiffies', 'jiffies'], 'bool'],
  time_after_eq: [['jiffies', 'jiffies'], 'bool'], time_before_eq: [['jiffies', 'jiffies'], 'bool'],
  time_in_range: [['jiffies', 'jiffies', 'jiffies'], 'bool'], time_in_range_open: [['jiffies', 'jiffies', 'jiffies'], 'bool'],
  time_after64: [['jiffies', 'jiffies'], 'bool'], time_before64: [['jiffies', 'jiffies'], 'bool'],
  time_after_eq64: [['jiffies', 'jiffies'], 'bool'], time_before_eq64: [['jiffies', 'jiffies'], 'bool'],
  time_in_range64: [['jiffies', 'jiffies', 'jiffies'], 'bool'],
  time_after32: [['u32', 'u32'], 'bool'], time_before32: [['u32', 'u32'], 'bool'],
  time_between32: [['u32', 'u32', 'u32'], 'bool'],
  time_is_before_jiffies: [['jiffies'], 'bool'], time_is_after_jiffies: [['jiffies'], 'bool'],
  time_is_before_eq_jiffies: [['jiffies'], 'bool'], time_is_after_eq_jiffies: [['jiffies'], 'bool'],
  time_is_before_jiffies64: [['jiffies'], 'bool'], time_is_after_jiffies64: [['jiffies'], 'bool'],
  time_is_before_eq_jiffies64: [['jiffies'], 'bool'], time_is_after_eq_jiffies64: [['jiffies'], 'bool'],
  jiffies_to_msecs: [['jiffies'], 'u32'], jiffies_to_usecs: [['jiffies'], 'u32'], jiffies_to_nsecs: [['jiffies'], 'u64'],
  jiffies_delta_to_msecs: [['delta'], 'u32'],
  msecs_to_jiffies: [['u32'], 'jiffies'], usecs_to_jiffies: [['u32'], 'jiffies'],
  nsecs_to_jiffies64: [['u64'], 'jiffies'], nsecs_to_jiffies: [['u64'], 'jiffies'], secs_to_jiffies: [['u64'], 'jiffies'],
  round_jiffies: [['jiffies'], 'jiffies'], round_jiffies_up: [['jiffies'], 'jiffies'],
  round_jiffies_relative: [['jiffies'], 'jiffies'], round_jiffies_up_relative: [['jiffies'], 'jiffies'],
  __round_jiffies_relative: [['jiffies', 'skewcpu'], 'jiffies'], __round_jiffies_up_relative: [['jiffies', 'skewcpu'], 'jiffies'],
  // timer_list ('cancel' is the kernel's 0/1 int, 'try' its -1/0/1)
  timer_setup: [['wtlist', 'fn', 'flags'], 'void'],
  DEFINE_TIMER: [['fn'], 'tlist'],
  add_timer: [['tlist'], 'void'], add_timer_local: [['wtlist'], 'void'], add_timer_global: [['wtlist'], 'void'],
  add_timer_on: [['wtlist', 'cpu'], 'void'],
  mod_timer: [['tlist', 'jiffies'], 'cancel'], mod_timer_pending: [['tlist', 'jiffies'], 'cancel'],
  timer_reduce: [['tlist', 'jiffies'], 'cancel'],
  timer_pending: [['tlist'], 'cancel'],
  timer_delete: [['tlist'], 'cancel'], timer_delete_sync: [['tlist'], 'cancel'], timer_delete_sync_try: [['tlist'], 'try'],
  timer_shutdown: [['wtlist'], 'cancel'], timer_shutdown_sync: [['wtlist'], 'cancel'],
  del_timer: [['tlist'], 'cancel'], del_timer_sync: [['tlist'], 'cancel'], try_to_del_timer_sync: [['tlist'], 'try'],
  LVL_START: [['level'], 'lvl'],
  // the idiomatic layer's duration helpers
  ns: [['dur_ns'], 'dur'], us: [['dur_us'], 'dur'], ms: [['dur_ms'], 'dur'], s: [['dur_s'], 'dur'],
  // workqueue (delays are jiffies: bigint; sleeping calls return Promises)
  INIT_WORK: [['work', 'wfn'], 'void'], DECLARE_WORK: [['wfn'], 'work'],
  INIT_DELAYED_WORK: [['dwork', 'wfn'], 'void'], INIT_DEFERRABLE_WORK: [['dwork', 'wfn'], 'void'],
  DECLARE_DELAYED_WORK: [['wfn'], 'dwork'], DECLARE_DEFERRABLE_WORK: [['wfn'], 'dwork'],
  to_delayed_work: [['dwwork'], 'dwork'],
  alloc_workqueue: [['wqname', 'wqflags', 'maxact'], 'wqornull'], alloc_ordered_workqueue: [['wqname', 'wqflags'], 'wqornull'],
  create_workqueue: [['wqname'], 'wq'], create_singlethread_workqueue: [['wqname'], 'wq'],
  destroy_workqueue: [['wq'], 'promise'], workqueue_set_max_active: [['wq', 'maxact'], 'void'],
  queue_work: [['wq', 'work'], 'bool'], queue_work_on: [['wqcpu', 'wq', 'work'], 'bool'],
  schedule_work: [['work'], 'bool'], schedule_work_on: [['wqcpu', 'work'], 'bool'],
  enable_and_queue_work: [['wq', 'work'], 'bool'],
  queue_delayed_work: [['wq', 'dwork', 'jiffies'], 'bool'], queue_delayed_work_on: [['wqcpu', 'wq', 'dwork', 'jiffies'], 'bool'],
  schedule_delayed_work: [['dwork', 'jiffies'], 'bool'], schedule_delayed_work_on: [['wqcpu', 'dwork', 'jiffies'], 'bool'],
  mod_delayed_work: [['wq', 'dwork', 'jiffies'], 'bool'], mod_delayed_work_on: [['wqcpu', 'wq', 'dwork', 'jiffies'], 'bool'],
  flush_work: [['work'], 'promise'], flush_delayed_work: [['dwork'], 'promise'], flush_workqueue: [['wq'], 'promise'],
  flush_scheduled_work: [[], 'promise'], drain_workqueue: [['wq'], 'promise'],
  cancel_work: [['work'], 'bool'], cancel_work_sync: [['work'], 'promise'],
  cancel_delayed_work: [['dwork'], 'bool'], cancel_delayed_work_sync: [['dwork'], 'promise'],
  disable_work: [['work'], 'bool'], disable_work_sync: [['work'], 'promise'], enable_work: [['work'], 'bool'],
  disable_delayed_work: [['dwork'], 'bool'], disable_delayed_work_sync: [['dwork'], 'promise'], enable_delayed_work: [['dwork'], 'bool'],
  work_pending: [['work'], 'bool'], delayed_work_pending: [['dwork'], 'bool'], work_busy: [['work'], 'u32'],
  current_work: [[], 'null'],
};
/**
 * The function exports of the package's entry points ('ktimers', 'ktimers/promises',
 * 'ktimers/testing') that are not in SIG: each is fuzzed by the idiomatic-layer fuzz
 * below (IDIOMATIC), or is here with the reason it is not.
 */
const NOT_FUZZED = new Map<string, string>([
  ['hrtimer', 'a class: `new hrtimer()` takes no arguments; its instances are in every fuzz pool'],
  ['timer_list', 'a class: `new timer_list()` takes no arguments; its instances are in every fuzz pool'],
  ['work_struct', 'a class without arguments; its instances are in the fuzz pool'],
  ['delayed_work', 'a class without arguments; its instances are in the fuzz pool'],
  ['workqueue_struct', '@internal constructor (alloc_workqueue makes them, fuzzed); instances are in the pool'],
  ['KtimersError', 'an error class: any (code, message) makes an error; instances are in the pool'],
  ['AbortError', 'an error class (Node\'s AbortError shape); instances are what aborts reject with'],
  ['monitorEventLoopDelay', 'options checked value by value against Node\'s own monitor (same error class and code) and fuzzed in test/perf-hooks.test.ts'],
  ['EventLoopDelayMonitor', 'made by monitorEventLoopDelay only; its methods with bad arguments and a foreign this are checked in test/perf-hooks.test.ts'],
  ['RealtimeThread', 'a valid construction starts a real-time thread: test/realtime-thread.test.ts checks each option by code (no thread is left for a bad one) and its methods with a foreign this'],
  // Per-thread scheduling (lib/sched.ts): valid calls would change this test process's
  // policy, affinity, nice or locked memory, so test/sched.test.ts validates them and
  // fuzzes them in a child process instead.
  // kfifo (lib/kfifo/): its arguments are fifo handles and typed arrays of the fifo's element
  // type, kinds this table does not have; test/kfifo.test.ts checks each bad value by code and
  // fuzzes every kfifo_* export (and the ktimers/testing hook) with a pool of valid and hostile values.
  ...Object.keys(k)
    .filter((n) => n.startsWith('kfifo_') && typeof (k as Record<string, unknown>)[n] === 'function')
    .map((n): [string, string] => [n, 'a kfifo call: fuzzed by test/kfifo.test.ts (fifo handles, typed arrays)']),
  ['kfifo_set_counters', 'the kfifo test hook of ktimers/testing: its bad values are checked in test/kfifo.test.ts'],
  ...Object.keys(SCHED)
    .filter((n) => typeof (SCHED as Record<string, unknown>)[n] === 'function')
    .map((n): [string, string] => [n, 'changes this process\'s scheduling: fuzzed in a child process by test/sched.test.ts']),
  // kthread_worker (lib/kthread/): a valid call creates a thread or talks to one, so
  // test/kthread-validation.test.ts checks every parameter of these and fuzzes them
  // against a live worker (sched_set_* there too, with worker objects only).
  ...Object.keys(KTHREAD)
    .filter((n) => typeof (KTHREAD as Record<string, unknown>)[n] === 'function' && n in k)
    .map((n): [string, string] => [n, 'kthread_worker API: validated and fuzzed against a live worker by test/kthread-validation.test.ts']),
]);
/** Fuzzed by 'fuzz: the idiomatic layer' (constructors with their methods and getters). */
const IDIOMATIC = new Set(['sleep', 'sleepUntil', 'interval', 'HighResTimer', 'WorkQueue', 'installVirtualClock']);
/**
 * Functions that need a timer that went through hrtimer_setup()/hrtimer_init(), or
 * a timer_list that went through timer_setup() (ERR_KTIMERS_NOT_SETUP otherwise).
 */
const NEEDS_SETUP = new Set([
  'hrtimer_start', 'hrtimer_start_range_ns', 'hrtimer_start_expires', 'hrtimer_restart', 'hrtimer_forward_now',
  'hrtimer_cb_get_time', 'hrtimer_get_remaining', 'hrtimer_expires_remaining', 'hrtimer_update_function',
  'add_timer', 'add_timer_local', 'add_timer_global', 'add_timer_on', 'mod_timer', 'mod_timer_pending', 'timer_reduce',
]);

const fns = k as unknown as Record<string, (...a: unknown[]) => unknown>;

// --- helpers ---------------------------------------------------------------

let coercions = 0;
/** An object whose every coercion hook throws (and is counted), and whose `constructor` getter throws. */
function hostile(): object {
  const boom = () => {
    coercions++;
    throw new Error('hostile coercion invoked');
  };
  return {
    valueOf: boom,
    toString: boom,
    toJSON: boom,
    [Symbol.toPrimitive]: boom,
    get constructor(): never {
      throw new Error('hostile constructor getter');
    },
  };
}
/** A Proxy whose traps all throw, except getPrototypeOf (so `instanceof` answers false). */
function hostileProxy(): object {
  const trap = () => {
    throw new Error('hostile proxy trap');
  };
  return new Proxy(
    {},
    { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, apply: trap, set: trap, getPrototypeOf: () => Object.prototype },
  );
}

function thrown(f: () => unknown): any {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectError(f: () => unknown, cls: typeof TypeError | typeof RangeError, code: string, label = '') {
  const e = thrown(f);
  if (!(e instanceof cls) || e.code !== code) {
    throw new Error(
      `${label}: expected ${cls.name} ${code}, got ${e === undefined ? 'no throw' : `${e?.constructor?.name} ${e?.code} (${e?.message})`}`,
    );
  }
}

const made: k.hrtimer[] = [];
const noop = () => k.HRTIMER_NORESTART;
function setupTimer(clock = k.CLOCK_MONOTONIC, mode = k.HRTIMER_MODE_REL): k.hrtimer {
  const t = new k.hrtimer();
  k.hrtimer_setup(t, noop, clock, mode);
  made.push(t);
  return t;
}
function cancelAll(list: k.hrtimer[]) {
  for (const t of list) if (k.hrtimer_active(t) && !k.hrtimer_callback_running(t)) k.hrtimer_cancel(t);
}
afterEach(() => cancelAll(made.splice(0)));

const madeTL: k.timer_list[] = [];
const tlNoop = () => {};
/** A set-up, idle timer_list whose `expires` is FAR ahead (so add_timer* would not fire it), deleted after each test. */
function setupTList(flags = 0): k.timer_list {
  const t = new k.timer_list();
  k.timer_setup(t, tlNoop, flags);
  t.expires = k.get_jiffies_64() + FAR;
  madeTL.push(t);
  return t;
}
afterEach(() => {
  for (const t of madeTL.splice(0)) k.timer_delete(t);
});

// Workqueue objects for the targeted tests: a real work function module, one unbound
// queue, fresh items (cancelled after each test, so nothing queued runs late).
const WQ_MOD = new URL('./fixtures/wq/work.mjs', import.meta.url);
let wqShared: k.workqueue_struct | null = null;
const wqQueue = () => (wqShared ??= k.alloc_workqueue('validation', k.WQ_UNBOUND, 0)!);
const madeWork: k.work_struct[] = [];
const madeDwork: k.delayed_work[] = [];
function wqWork(): k.work_struct {
  const w = new k.work_struct();
  k.INIT_WORK(w, { module: WQ_MOD, name: 'noop' });
  madeWork.push(w);
  return w;
}
function wqDwork(): k.delayed_work {
  const d = new k.delayed_work();
  k.INIT_DELAYED_WORK(d, { module: WQ_MOD, name: 'noop' });
  madeDwork.push(d);
  return d;
}
afterEach(() => {
  for (const w of madeWork.splice(0)) k.cancel_work(w);
  for (const d of madeDwork.splice(0)) k.cancel_delayed_work(d);
});

/** Set up, never armed, not tracked for cleanup (bad-argument cases: the calls refuse them, so nothing arms them). */
function bareTimer(): k.hrtimer {
  const t = new k.hrtimer();
  k.hrtimer_setup(t, noop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
  return t;
}
function bareTList(): k.timer_list {
  const t = new k.timer_list();
  k.timer_setup(t, tlNoop, 0);
  return t;
}

/** A valid argument of each kind (a fresh set-up timer for 'timer'). */
function valid(kind: Kind): unknown {
  switch (kind) {
    case 'ktime': return 5_000_000_000n;
    case 'u64': return 3;
    case 's64': return -3;
    case 'div': return 7n;
    case 'timer': case 'wtimer': return setupTimer();
    case 'fn': return noop;
    case 'clock': return k.CLOCK_MONOTONIC;
    case 'mode': return k.HRTIMER_MODE_REL;
    case 'any': return undefined;
    case 'jiffies': return k.get_jiffies_64() + FAR;
    case 'delta': return -5n;
    case 'u32': return 3;
    case 'skewcpu': return 1;
    case 'tlist': case 'wtlist': return setupTList();
    case 'flags': return k.TIMER_DEFERRABLE;
    case 'cpu': return 0;
    case 'level': return 2;
    case 'dur_ns': case 'dur_us': case 'dur_ms': case 'dur_s': return 3;
    case 'work': return wqWork();
    case 'dwwork': return wqDwork().work;
    case 'dwork': return wqDwork();
    case 'wq': return wqQueue();
    case 'wfn': return { module: WQ_MOD, name: 'noop' };
    case 'wqname': return 'v';
    case 'wqflags': return k.WQ_UNBOUND;
    case 'maxact': return 0;
    case 'wqcpu': return k.WORK_CPU_UNBOUND;
  }
}

type Bad = [label: string, value: () => unknown, cls: typeof TypeError | typeof RangeError, code: string];
const T = TypeError;
const R = RangeError;
const ARG = 'ERR_INVALID_ARG_TYPE';
const OOR = 'ERR_OUT_OF_RANGE';
const notNumbers = (code = ARG): Bad[] => [
  ['string', () => '1', T, code], ['undefined', () => undefined, T, code], ['null', () => null, T, code],
  ['object', () => ({}), T, code], ['array', () => [1], T, code], ['symbol', () => Symbol('s'), T, code],
  ['boolean', () => true, T, code], ['boxed bigint', () => Object(1n), T, code], ['boxed number', () => Object(1), T, code],
  ['function', () => () => 1n, T, code], ['hostile object', hostile, T, code], ['hostile proxy', hostileProxy, T, code],
];
const BAD: Record<Exclude<Kind, 'any'>, Bad[]> = {
  ktime: [
    ...notNumbers(),
    ['number 1', () => 1, T, ARG], ['number 0', () => 0, T, ARG], ['-0', () => -0, T, ARG], ['1.5', () => 1.5, T, ARG],
    ['NaN', () => NaN, T, ARG], ['Infinity', () => Infinity, T, ARG],
    ['2^63', () => 1n << 63n, R, OOR], ['KTIME_MIN-1', () => MIN - 1n, R, OOR], ['2^64', () => 1n << 64n, R, OOR],
    ['-2^64', () => -(1n << 64n), R, OOR],
  ],
  u64: [
    ...notNumbers(),
    ['-1', () => -1, R, OOR], ['-1n', () => -1n, R, OOR], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR],
    ['Infinity', () => Infinity, R, OOR], ['-Infinity', () => -Infinity, R, OOR], ['2^53 (unsafe)', () => 2 ** 53, R, OOR],
    ['1e300', () => 1e300, R, OOR], ['2^64', () => 1n << 64n, R, OOR], ['KTIME_MIN', () => MIN, R, OOR],
  ],
  s64: [
    ...notNumbers(),
    ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR], ['Infinity', () => Infinity, R, OOR],
    ['-2^53 (unsafe)', () => -(2 ** 53), R, OOR], ['2^63', () => 1n << 63n, R, OOR], ['KTIME_MIN-1', () => MIN - 1n, R, OOR],
  ],
  div: [],
  dur_ns: [], dur_us: [], dur_ms: [], dur_s: [], // filled in below
  timer: [
    ['undefined', () => undefined, T, ARG], ['null', () => null, T, ARG], ['number', () => 1, T, ARG],
    ['bigint', () => 1n, T, ARG], ['string', () => 'timer', T, ARG], ['symbol', () => Symbol('t'), T, ARG],
    ['plain object', () => ({}), T, ARG],
    ['duck-typed timer', () => ({ function: noop, _base: 0, _slot: -1, _queued: false, _running: false, _soft: 0n, _hard: 0n }), T, ARG],
    ['the class itself', () => k.hrtimer, T, ARG], ['its prototype', () => k.hrtimer.prototype, T, ARG],
    ['hostile object', hostile, T, ARG], ['hostile proxy', hostileProxy, T, ARG], ['array', () => [], T, ARG],
    ['a timer_list', () => setupTList(), T, ARG],
  ],
  wtimer: [], // below: timer's, plus a frozen one
  fn: [
    ['undefined', () => undefined, T, ARG], ['null', () => null, T, ARG], ['number', () => 1, T, ARG],
    ['string', () => 'noop', T, ARG], ['object', () => ({}), T, ARG], ['symbol', () => Symbol('f'), T, ARG],
    ['bigint', () => 1n, T, ARG], ['hostile object', hostile, T, ARG], ['hostile proxy', hostileProxy, T, ARG],
  ],
  clock: [
    ...[2, 3, 4, 5, 6, 8, 9, 10, 12, 99, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 32 + 1, 2 ** 32 + 7].map(
      (v): Bad => [`clock ${v}`, () => v, R, 'ERR_KTIMERS_INVALID_CLOCK'],
    ),
    ...notNumbers(),
    ['bigint 1n', () => 1n, T, ARG],
  ],
  mode: [
    ...[0x0c, 0x0d, 0x0e, 0x0f, 0x1c, 0x1f, 0x20, 0x21, 0x100, -1, 1.5, NaN, Infinity, 2 ** 32 + 1].map(
      (v): Bad => [`mode ${v}`, () => v, R, 'ERR_KTIMERS_INVALID_MODE'],
    ),
    ...notNumbers(),
    ['bigint 0n', () => 0n, T, ARG],
  ],
  // A jiffies value: a bigint, or a safe-integer number (never coerced), in [0, 2^64-1].
  jiffies: [
    ...notNumbers(),
    ['-1', () => -1, R, OOR], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR], ['Infinity', () => Infinity, R, OOR],
    ['-Infinity', () => -Infinity, R, OOR], ['2^53 number (unsafe)', () => 2 ** 53, R, OOR], ['1e300', () => 1e300, R, OOR],
    ['-1n', () => -1n, R, OOR], ['KTIME_MIN', () => MIN, R, OOR], ['2^64', () => 1n << 64n, R, OOR],
    ['-2^64', () => -(1n << 64n), R, OOR], ['2^100', () => 1n << 100n, R, OOR],
  ],
  delta: [],
  u32: [
    ...notNumbers(),
    ['-1', () => -1, R, OOR], ['-1n', () => -1n, R, OOR], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR],
    ['Infinity', () => Infinity, R, OOR], ['-Infinity', () => -Infinity, R, OOR], ['2^32', () => 2 ** 32, R, OOR],
    ['2^32n', () => 1n << 32n, R, OOR], ['2^53 (unsafe)', () => 2 ** 53, R, OOR], ['1e300', () => 1e300, R, OOR],
    ['2^64n', () => 1n << 64n, R, OOR],
  ],
  skewcpu: [
    ...notNumbers(),
    ['-1', () => -1, R, OOR], ['-1n', () => -1n, R, OOR], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR],
    ['Infinity', () => Infinity, R, OOR], ['715827883', () => SKEW_CPU_MAX + 1, R, OOR],
    ['715827883n', () => BigInt(SKEW_CPU_MAX + 1), R, OOR], ['2^31', () => 2 ** 31, R, OOR], ['2^53', () => 2 ** 53, R, OOR],
  ],
  tlist: [
    ['undefined', () => undefined, T, ARG], ['null', () => null, T, ARG], ['number', () => 1, T, ARG],
    ['bigint', () => 1n, T, ARG], ['string', () => 'timer', T, ARG], ['symbol', () => Symbol('t'), T, ARG],
    ['plain object', () => ({}), T, ARG],
    ['duck-typed timer_list', () => ({ expires: 0n, function: tlNoop, flags: 0, _setup: true, _slot: -1, _running: false, _refd: true, _ctx: null }), T, ARG],
    ['Object.create(timer_list.prototype)', () => Object.create(k.timer_list.prototype), T, ARG],
    ['the class itself', () => k.timer_list, T, ARG], ['its prototype', () => k.timer_list.prototype, T, ARG],
    ['an hrtimer', () => setupTimer(), T, ARG],
    ['hostile object', hostile, T, ARG], ['hostile proxy', hostileProxy, T, ARG], ['array', () => [], T, ARG],
  ],
  wtlist: [], // below: tlist's, plus frozen ones
  // timer_setup's flags: a u32 number (undefined is the default, 0). Out-of-range numbers are
  // TypeError ERR_INVALID_ARG_TYPE here, where the u32/u64 kinds give RangeError ERR_OUT_OF_RANGE (reported).
  flags: [
    ...notNumbers().filter(([label]) => label !== 'undefined'),
    ['bigint 0n', () => 0n, T, ARG], ['-1', () => -1, T, ARG], ['1.5', () => 1.5, T, ARG], ['NaN', () => NaN, T, ARG],
    ['Infinity', () => Infinity, T, ARG], ['2^32', () => 2 ** 32, T, ARG], ['2^53', () => 2 ** 53, T, ARG],
  ],
  // add_timer_on's cpu: ktimers has one CPU, so anything but the number 0 is RangeError ERR_KTIMERS_INVALID_CPU —
  // non-numbers included (where clock ids and modes give TypeError ERR_INVALID_ARG_TYPE: reported).
  cpu: [
    1, -1, 1.5, NaN, Infinity, 2 ** 18, 2 ** 32, 0n, 1n, '0', undefined, null, true, false, {}, [0], Object(0), Symbol('cpu'),
  ].map((v): Bad => [`cpu ${typeof v === 'symbol' ? 'symbol' : typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? String(v)}`, () => v, R, 'ERR_KTIMERS_INVALID_CPU'])
    .concat([['hostile object', hostile, R, 'ERR_KTIMERS_INVALID_CPU'], ['hostile proxy', hostileProxy, R, 'ERR_KTIMERS_INVALID_CPU'],
      ['function', () => () => 0, R, 'ERR_KTIMERS_INVALID_CPU']]),
  // LVL_START's level: an integer number in [0, LVL_DEPTH] (LVL_START(0) = 0: level 0 starts at delta 0;
  // LVL_START(LVL_DEPTH) = WHEEL_TIMEOUT_CUTOFF). Beyond that there are no levels.
  level: [
    ...notNumbers(),
    ['bigint 1n', () => 1n, T, ARG], ['-1', () => -1, R, OOR], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR],
    ['Infinity', () => Infinity, R, OOR], ['-Infinity', () => -Infinity, R, OOR], ['LVL_DEPTH+1', () => k.LVL_DEPTH + 1, R, OOR],
    ['64', () => 64, R, OOR], ['2^53', () => 2 ** 53, R, OOR], ['1e300', () => 1e300, R, OOR],
  ],
};
const DUR_UNIT = { dur_ns: 1n, dur_us: 1_000n, dur_ms: 1_000_000n, dur_s: 1_000_000_000n } as const;
for (const kd of ['dur_ns', 'dur_us', 'dur_ms', 'dur_s'] as const) {
  BAD[kd] = [
    ...notNumbers(),
    ['-1', () => -1, R, OOR], ['-1n', () => -1n, R, OOR], ['NaN', () => NaN, R, OOR], ['Infinity', () => Infinity, R, OOR],
    ['-Infinity', () => -Infinity, R, OOR], ['2^53 (unsafe)', () => 2 ** 53, R, OOR], ['1e300', () => 1e300, R, OOR],
    ['past KTIME_MAX', () => MAX / DUR_UNIT[kd] + 1n, R, OOR], ['2^64', () => 1n << 64n, R, OOR],
    ...(kd === 'dur_ns' ? [['1.5', () => 1.5, R, OOR] as Bad] : []),
  ];
}
BAD.div = [...BAD.s64, ['0', () => 0, R, OOR], ['0n', () => 0n, R, OOR], ['-0', () => -0, R, OOR]];
BAD.wtimer = [
  ...BAD.timer,
  ['a frozen set-up hrtimer', () => Object.freeze(bareTimer()), T, ARG],
  ['a set-up hrtimer with a read-only function', () => Object.defineProperty(bareTimer(), 'function', { writable: false }), T, ARG],
];
BAD.wtlist = [
  ...BAD.tlist,
  ['a frozen set-up timer_list', () => Object.freeze(bareTList()), T, ARG],
  ['a set-up timer_list with read-only function and flags', () => {
    const t = bareTList();
    Object.defineProperty(t, 'function', { writable: false });
    return Object.defineProperty(t, 'flags', { writable: false });
  }, T, ARG],
];
BAD.delta = BAD.s64; // a `long` jiffies delta: a bigint or a safe-integer number, s64
const notObjects = (what: string): Bad[] => [
  ['undefined', () => undefined, T, ARG], ['null', () => null, T, ARG], ['number', () => 1, T, ARG],
  ['bigint', () => 1n, T, ARG], ['string', () => what, T, ARG], ['symbol', () => Symbol(what), T, ARG],
  ['plain object', () => ({}), T, ARG], ['hostile object', hostile, T, ARG], ['hostile proxy', hostileProxy, T, ARG],
  ['array', () => [], T, ARG], ['a timer_list', () => setupTList(), T, ARG],
];
BAD.work = [
  ...notObjects('work'), ['Object.create(work_struct.prototype)', () => Object.create(k.work_struct.prototype), T, ARG],
  ['the class itself', () => k.work_struct, T, ARG], ['a delayed_work', () => wqDwork(), T, ARG],
  ['duck-typed work', () => ({ data: 1, func: null, _id: 0, _remote: false }), T, ARG],
];
BAD.dwork = [
  ...notObjects('dwork'), ['Object.create(delayed_work.prototype)', () => Object.create(k.delayed_work.prototype), T, ARG],
  ['a work_struct', () => wqWork(), T, ARG], ['duck-typed delayed_work', () => ({ work: wqWork(), timer: setupTList() }), T, ARG],
];
// to_delayed_work: the work of a delayed_work; a plain work_struct is not one.
BAD.dwwork = [...BAD.work.filter(([l]) => l !== 'a delayed_work'), ['a plain work_struct', () => wqWork(), T, ARG]];
BAD.wq = [
  ...notObjects('wq'), ['Object.create(workqueue_struct.prototype)', () => Object.create(k.workqueue_struct.prototype), T, ARG],
  ['duck-typed queue', () => ({ id: 1, name: 'events', flags: 0 }), T, ARG], ['a work_struct', () => wqWork(), T, ARG],
];
BAD.wfn = [
  ['undefined', () => undefined, T, ARG], ['null', () => null, T, ARG], ['number', () => 1, T, ARG],
  ['bigint', () => 1n, T, ARG], ['string', () => 'noop', T, ARG], ['symbol', () => Symbol('f'), T, ARG],
  ['plain object', () => ({}), T, ARG], ['hostile object', hostile, T, ARG], ['hostile proxy', hostileProxy, T, ARG],
  ['no name', () => ({ module: WQ_MOD }), T, ARG], ['empty name', () => ({ module: WQ_MOD, name: '' }), T, ARG],
  ['number module', () => ({ module: 1, name: 'noop' }), T, ARG], ['relative module', () => ({ module: './w.mjs', name: 'noop' }), T, 'ERR_INVALID_ARG_VALUE'],
];
BAD.wqname = [
  ['undefined', () => undefined, T, ARG], ['null', () => null, T, ARG], ['number', () => 1, T, ARG], ['boxed string', () => Object('q'), T, ARG],
  ['symbol', () => Symbol('q'), T, ARG], ['object', () => ({}), T, ARG], ['hostile object', hostile, T, ARG], ['hostile proxy', hostileProxy, T, ARG],
];
BAD.wqflags = [
  ...notNumbers(), ['bigint 0n', () => 0n, T, ARG], ['-1', () => -1, R, OOR], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR],
  ['2^32', () => 2 ** 32, R, OOR],
];
BAD.maxact = [
  ...notNumbers(), ['bigint 0n', () => 0n, T, ARG], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR],
  ['Infinity', () => Infinity, R, OOR], ['2^31', () => 2 ** 31, R, OOR], ['-2^31-1', () => -(2 ** 31) - 1, R, OOR],
];
BAD.wqcpu = [
  ...notNumbers(), ['bigint 0n', () => 0n, T, ARG], ['-1', () => -1, R, OOR], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR],
  ['Infinity', () => Infinity, R, OOR], ['WORK_CPU_UNBOUND - 1', () => k.WORK_CPU_UNBOUND - 1, R, OOR], ['2^31', () => 2 ** 31, R, OOR],
];

function accepts(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'ktime': return typeof v === 'bigint' && v >= MIN && v <= MAX;
    case 'u64': return typeof v === 'bigint' ? v >= 0n && v <= U64_MAX : Number.isSafeInteger(v) && (v as number) >= 0;
    case 's64': return typeof v === 'bigint' ? v >= MIN && v <= MAX : Number.isSafeInteger(v);
    case 'div': return accepts('s64', v) && BigInt(v as bigint) !== 0n;
    case 'timer': return v instanceof k.hrtimer;
    case 'wtimer': return v instanceof k.hrtimer && !Object.isFrozen(v); // (the pool has no read-only-field hrtimer)
    case 'fn': return typeof v === 'function';
    case 'clock': return [0, 1, 7, 11].includes(v as number);
    case 'mode': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x1f && (v & 0x0c) !== 0x0c;
    case 'any': return true;
    case 'jiffies': return accepts('u64', v);
    case 'delta': return accepts('s64', v);
    case 'u32': return typeof v === 'bigint' ? v >= 0n && v <= BigInt(U32_MAX) : Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= U32_MAX;
    case 'skewcpu': return typeof v === 'bigint' ? v >= 0n && v <= BigInt(SKEW_CPU_MAX) : Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= SKEW_CPU_MAX;
    case 'tlist': return v instanceof k.timer_list;
    case 'wtlist': return v instanceof k.timer_list && !Object.isFrozen(v); // (the pool has no read-only-field timer)
    case 'flags': return v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32_MAX);
    case 'cpu': return v === 0;
    case 'level': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= k.LVL_DEPTH;
    case 'dur_ns': case 'dur_us': case 'dur_ms': case 'dur_s': {
      const unit = DUR_UNIT[kind];
      if (typeof v === 'bigint') return v >= 0n && v * unit <= MAX;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return false;
      if (Number.isInteger(v)) return Number.isSafeInteger(v) && BigInt(v) * unit <= MAX;
      return unit !== 1n && Number.isSafeInteger(Math.round(v * Number(unit)));
    }
    case 'work': return v instanceof k.work_struct;
    case 'dwwork': return v instanceof k.work_struct && (v as { _dwork: unknown })._dwork !== null;
    case 'dwork': return v instanceof k.delayed_work;
    case 'wq': return v instanceof k.workqueue_struct;
    case 'wfn': return typeof v === 'function' || (typeof v === 'object' && v !== null && !Array.isArray(v));
    case 'wqname': return typeof v === 'string';
    case 'wqflags': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32_MAX;
    case 'maxact': return typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;
    case 'wqcpu': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && (v < 64 || v === k.WORK_CPU_UNBOUND);
  }
}
function returnOk(ret: Ret, v: unknown): boolean {
  switch (ret) {
    case 'ktime': return typeof v === 'bigint' && v >= MIN && v <= MAX;
    case 'u64': return typeof v === 'bigint' && v >= 0n && v <= U64_MAX;
    case 'now': return typeof v === 'bigint' && v > 0n;
    case 'cmp': case 'try': return v === -1 || v === 0 || v === 1;
    case 'cancel': return v === 0 || v === 1;
    case 'bool': return typeof v === 'boolean';
    case 'void': return v === undefined;
    case 'jiffies': return typeof v === 'bigint' && v >= 0n && v <= U64_MAX;
    case 'jnow': return typeof v === 'bigint' && v >= k.INITIAL_JIFFIES && v <= U64_MAX;
    case 'u32': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32_MAX;
    case 'tlist': return v instanceof k.timer_list && k.timer_pending(v) === 0;
    case 'lvl': return typeof v === 'bigint' && v >= 0n && v <= k.WHEEL_TIMEOUT_CUTOFF;
    case 'dur': return typeof v === 'bigint' && v >= 0n && v <= MAX;
    case 'promise': return v instanceof Promise;
    case 'wq': return v instanceof k.workqueue_struct;
    case 'wqornull': return v === null || v instanceof k.workqueue_struct;
    case 'work': return v instanceof k.work_struct;
    case 'dwork': return v instanceof k.delayed_work;
    case 'null': return v === null;
  }
}

// --- the export surface ----------------------------------------------------

describe('export surface', () => {
  it('SIG covers every exported function', () => {
    const exported = Object.entries(k).filter(([, v]) => typeof v === 'function').map(([n]) => n);
    const missing = exported.filter((n) => !(n in SIG) && !NOT_FUZZED.has(n) && !IDIOMATIC.has(n));
    expect(missing).toEqual([]);
    const stale = Object.keys(SIG).filter((n) => typeof fns[n] !== 'function');
    expect(stale).toEqual([]);
  });

  it('every function export of every entry point is fuzzed or listed in NOT_FUZZED with a reason', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    const entries = Object.keys(pkg.exports).filter((e) => !e.endsWith('.json'));
    expect(entries).toEqual(['.', './testing', './promises', './legacy', './perf_hooks', './loop-delay']);
    // ktimers/loop-delay is a preload: importing it starts measuring this process, and it exports nothing.
    expect(readFileSync(new URL('../dist/loop-delay.d.ts', import.meta.url), 'utf8').replace(/\/\/.*$/gm, '').trim()).toBe('export {};');
    const missing: string[] = [];
    for (const e of entries.filter((x) => x !== './loop-delay')) {
      const mod = (await import(e === '.' ? '../dist/index.js' : `../dist/${e.slice(2)}.js`)) as Record<string, unknown>;
      for (const [n, v] of Object.entries(mod)) {
        if (typeof v !== 'function') continue;
        // ktimers/legacy keeps the pre-4.15 meaning of names the modern API also has (add_timer,
        // DEFINE_TIMER): its own fuzz in test/legacy-timer.test.ts covers every function it exports.
        if (e === './legacy' && (!(n in SIG) || v !== fns[n])) continue;
        if (!(n in SIG) && !IDIOMATIC.has(n) && !NOT_FUZZED.has(n)) missing.push(`${e}: ${n}`);
        // The same name is the same function on every entry point (ktimers/promises re-exports ms, …).
        if (n in SIG && v !== fns[n]) missing.push(`${e}: ${n} is not the fuzzed function`);
      }
    }
    expect(missing).toEqual([]);
    for (const [n, why] of NOT_FUZZED) expect(why.length, n).toBeGreaterThan(20);
  });

  // @internal helpers must not be runtime exports: `enterIrq` would let user code
  // fake a context, `addSafe` skips validation, `refreshJiffies` and the wheel hooks
  // belong to the timer wheel and ktimers/testing.
  it('does not export @internal helpers at runtime', () => {
    const internal = [
      'addSafe', 'enterIrq', 'exitIrq',
      'refreshJiffies', 'monotonicNs', 'setMonotonicSource', 'runTimers', 'installVirtualWheel', 'uninstallVirtualWheel',
      'virtualNextExpiry', 'wheelInfo', 'wheelState', 'virt', 'reportError', 'cancelVirtual', 'installVirtualClock',
    ];
    expect(internal.filter((n) => n in k)).toEqual([]);
  });

});

// --- every argument of every function, one bad value at a time ------------

describe('each parameter rejects each bad value of its kind', () => {
  for (const [name, [kinds]] of Object.entries(SIG)) {
    kinds.forEach((kind, idx) => {
      if (kind === 'any') return;
      it(`${name} arg ${idx} (${kind})`, () => {
        const before = coercions;
        const failures: string[] = [];
        for (const [label, make, cls, code] of BAD[kind]) {
          const args = kinds.map((kd, j) => (j === idx ? make() : valid(kd)));
          const e = thrown(() => expectError(() => fns[name]!(...args), cls, code, `${name}(arg ${idx} = ${label})`));
          if (e !== undefined) failures.push(e.message);
        }
        expect(failures).toEqual([]);
        expect(coercions - before).toBe(0);
      });
    });
  }

  it('missing arguments are TypeErrors, not undefined-as-zero', () => {
    const failures: string[] = [];
    for (const [name, [kinds]] of Object.entries(SIG)) {
      if (kinds.length === 0 || kinds.every((x) => x === 'any')) continue;
      const e = thrown(() => expectError(() => fns[name]!(), T, ARG, `${name}()`));
      if (e !== undefined) failures.push(e.message);
    }
    expect(failures).toEqual([]);
  });
});

describe('-0 where a number is allowed', () => {
  it('is zero for counts', () => {
    expect(k.ktime_set(-0, -0)).toBe(0n);
    expect(k.us_to_ktime(-0)).toBe(0n);
    expect(k.ktime_add_ns(5n, -0)).toBe(5n);
    expect(k.ktime_sub_ms(5n, -0)).toBe(5n);
  });
  it('is CLOCK_REALTIME / HRTIMER_MODE_ABS for clock ids and modes', () => {
    const t = new k.hrtimer();
    made.push(t);
    k.hrtimer_setup(t, noop, -0, -0);
    expect(t.clockid).toBe(k.CLOCK_REALTIME);
    k.hrtimer_start_range_ns(t, k.ktime_get_real() + 10n * k.NSEC_PER_SEC, -0, -0);
    const hard = k.hrtimer_get_expires(t);
    expect(k.hrtimer_get_softexpires(t)).toBe(hard);
    expect(k.hrtimer_cancel(t)).toBe(1);
    k.hrtimer_add_expires_ns(t, -0);
    expect([k.hrtimer_get_softexpires(t), k.hrtimer_get_expires(t)]).toEqual([hard, hard]);
  });
  it('is zero for jiffies counts, u32 timestamps and the round_jiffies cpu', () => {
    expect([k.msecs_to_jiffies(-0), k.usecs_to_jiffies(-0), k.nsecs_to_jiffies(-0), k.nsecs_to_jiffies64(-0), k.secs_to_jiffies(-0)])
      .toEqual([0n, 0n, 0n, 0n, 0n]);
    expect([k.time_after32(-0, 0), k.time_before32(0, -0), k.time_between32(-0, -0, -0)]).toEqual([false, false, true]);
    // Relative rounding reads jiffies: pin time so both calls see the same jiffy.
    const clock = installVirtualClock();
    try {
      expect(k.__round_jiffies_relative(10_000n, -0)).toBe(k.__round_jiffies_relative(10_000n, 0));
      expect(k.__round_jiffies_up_relative(10_000n, -0)).toBe(k.__round_jiffies_up_relative(10_000n, 0));
    } finally {
      clock.uninstall();
    }
  });
  it('is flags 0 for timer_setup and CPU 0 for add_timer_on', () => {
    const t = setupTList(k.TIMER_PINNED);
    k.timer_setup(t, tlNoop, -0);
    expect(t.flags).toBe(0);
    k.add_timer_on(t, -0);
    expect([k.timer_pending(t), t.flags]).toEqual([1, k.TIMER_PINNED]);
    expect(k.timer_delete(t)).toBe(1);
  });
});

describe('timers', () => {
  it('a timer never set up: hrtimer_start → TypeError ERR_KTIMERS_NOT_SETUP', () => {
    const t = new k.hrtimer();
    expectError(() => k.hrtimer_start(t, 1000n, k.HRTIMER_MODE_REL), T, 'ERR_KTIMERS_NOT_SETUP', 'hrtimer_start');
    const tl = new k.timer_list();
    for (const name of NEEDS_SETUP) {
      const [kinds] = SIG[name]!;
      const args = kinds.map((kd, j) => (j === 0 ? (kd === 'tlist' || kd === 'wtlist' ? tl : t) : valid(kd)));
      expectError(() => fns[name]!(...args), T, 'ERR_KTIMERS_NOT_SETUP', name);
    }
    expect(k.hrtimer_is_queued(t)).toBe(false);
    expect(k.timer_pending(tl)).toBe(0);
  });

  it('a timer never set up reads as the kernel\'s zeroed struct elsewhere', () => {
    const t = new k.hrtimer();
    expect(k.hrtimer_get_expires(t)).toBe(0n);
    expect(k.hrtimer_get_softexpires(t)).toBe(0n);
    expect(k.hrtimer_try_to_cancel(t)).toBe(0);
    expect(k.hrtimer_cancel(t)).toBe(0);
    expect([k.hrtimer_active(t), k.hrtimer_is_queued(t), k.hrtimer_callback_running(t)]).toEqual([false, false, false]);
    // forward on expiry 0: first 0 + n*3 strictly after 10 is 12, n = 4.
    expect(k.hrtimer_forward(t, 10n, 3n)).toBe(4n);
    expect(k.hrtimer_get_expires(t)).toBe(12n);
  });

  it('a subclass instance is a timer', () => {
    class MyTimer extends k.hrtimer {
      hits = 0;
    }
    const t = new MyTimer();
    made.push(t);
    k.hrtimer_setup(t, noop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(t, 10n * k.NSEC_PER_SEC, k.HRTIMER_MODE_REL);
    expect(k.hrtimer_is_queued(t)).toBe(true);
    expect(k.hrtimer_cancel(t)).toBe(1);
  });

  it('start of a timer with no function → TypeError ERR_KTIMERS_NO_FUNCTION', () => {
    const t = new k.hrtimer();
    made.push(t);
    k.hrtimer_init(t, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    expectError(() => k.hrtimer_start(t, 1000n, k.HRTIMER_MODE_REL), T, 'ERR_KTIMERS_NO_FUNCTION', 'start after init');
    expectError(() => k.hrtimer_start_range_ns(t, 1000n, 5n, k.HRTIMER_MODE_REL), T, 'ERR_KTIMERS_NO_FUNCTION', 'range');
    expectError(() => k.hrtimer_restart(t), T, 'ERR_KTIMERS_NO_FUNCTION', 'restart');
    for (const bad of ['noop', 1, {}, null, hostile()]) {
      (t as { function: unknown }).function = bad;
      expectError(() => k.hrtimer_start(t, 1000n, k.HRTIMER_MODE_REL), T, 'ERR_KTIMERS_NO_FUNCTION', `function=${typeof bad}`);
    }
    expect(k.hrtimer_is_queued(t)).toBe(false);
    // The old API's way: assign, then start.
    t.function = noop;
    k.hrtimer_start(t, 10n * k.NSEC_PER_SEC, k.HRTIMER_MODE_REL);
    expect(k.hrtimer_is_queued(t)).toBe(true);
    expect(k.hrtimer_cancel(t)).toBe(1);
  });

  it('hrtimer_setup clock ids: only 0, 1, 7, 11', () => {
    for (const c of [2, 3, 4, 99, -1, 1.5]) {
      expectError(() => k.hrtimer_setup(new k.hrtimer(), noop, c, 0), R, 'ERR_KTIMERS_INVALID_CLOCK', `clock ${c}`);
    }
    for (const c of ['1', 1n, null, undefined, {}]) {
      expectError(() => k.hrtimer_setup(new k.hrtimer(), noop, c as number, 0), T, ARG, `clock ${String(c)}`);
    }
    const got = [0, 1, 7, 11].map((c) => {
      const t = new k.hrtimer();
      k.hrtimer_setup(t, noop, c, k.HRTIMER_MODE_ABS);
      return t.clockid;
    });
    expect(got).toEqual([0, 1, 7, 11]);
  });

  it('modes: 0x0c, 0x20, -1, 1.5 are invalid; every other value in 0..0x1f is accepted', () => {
    for (const m of [0x0c, 0x20, -1, 1.5]) {
      expectError(() => k.hrtimer_setup(new k.hrtimer(), noop, 1, m), R, 'ERR_KTIMERS_INVALID_MODE', `mode ${m}`);
    }
    const accepted: number[] = [];
    for (let m = 0; m <= 0x1f; m++) {
      if (thrown(() => k.hrtimer_setup(new k.hrtimer(), noop, 1, m)) === undefined) accepted.push(m);
    }
    expect(accepted).toEqual([...Array(0x20).keys()].filter((m) => (m & 0x0c) !== 0x0c));
  });

  it('a rejected call changes nothing (validation before any effect)', () => {
    const t = setupTimer();
    k.hrtimer_start_range_ns(t, 10n * k.NSEC_PER_SEC, 500n, k.HRTIMER_MODE_REL);
    const soft = k.hrtimer_get_softexpires(t);
    const hard = k.hrtimer_get_expires(t);
    const state = engineState();
    expectError(() => k.hrtimer_start(t, 1.5 as unknown as bigint, k.HRTIMER_MODE_ABS), T, ARG, 'start bad tim');
    expectError(() => k.hrtimer_start(t, 1n, 0x0c), R, 'ERR_KTIMERS_INVALID_MODE', 'start bad mode');
    expectError(() => k.hrtimer_start_range_ns(t, 1n, -1, 0), R, OOR, 'range -1');
    expectError(() => k.hrtimer_set_expires_range(t, 1n, 'x' as unknown as bigint), T, ARG, 'set_expires_range');
    expectError(() => k.hrtimer_setup(t, noop, 1, 0x20), R, 'ERR_KTIMERS_INVALID_MODE', 'setup on queued, bad mode');
    expectError(() => k.hrtimer_update_function(t, 'x' as never), T, ARG, 'update_function');
    expect([k.hrtimer_get_softexpires(t), k.hrtimer_get_expires(t), k.hrtimer_is_queued(t)]).toEqual([soft, hard, true]);
    expect(t.function).toBe(noop);
    expect(engineState().slotsInUse).toBe(state.slotsInUse);
    expect(k.hrtimer_cancel(t)).toBe(1);

    const idle = new k.hrtimer();
    k.hrtimer_setup(idle, noop, k.CLOCK_BOOTTIME, k.HRTIMER_MODE_ABS);
    expectError(() => k.hrtimer_setup(idle, () => 1, 2, 0), R, 'ERR_KTIMERS_INVALID_CLOCK', 'setup bad clock');
    expectError(() => k.hrtimer_init(idle, 1, 0x0f), R, 'ERR_KTIMERS_INVALID_MODE', 'init bad mode');
    expect(idle.clockid).toBe(k.CLOCK_BOOTTIME);
    expect(idle.function).toBe(noop);
  });

  // The brand check is a #private field, not `instanceof`: with `instanceof`, an
  // object made with Object.create(hrtimer.prototype) got through with none of
  // the fields (hrtimer_get_expires returned undefined), and a forged `_slot`
  // could cancel another timer's native slot.
  it('an object with hrtimer.prototype but no timer state is rejected', () => {
    const forged = Object.create(k.hrtimer.prototype) as k.hrtimer;
    expectError(() => k.hrtimer_get_expires(forged), T, ARG, 'get_expires(forged)');
  });

  // `instanceof` would run a Proxy's getPrototypeOf trap, so a hostile Proxy's
  // own error would escape with no code; `#brand in obj` runs no traps.
  it('a Proxy whose getPrototypeOf throws is rejected with a code', () => {
    const p = new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } });
    expectError(() => k.hrtimer_cancel(p as k.hrtimer), T, ARG, 'cancel(proxy)');
  });
});

// Freezing an object does not reach its private fields, where both timer kinds
// keep their state: a frozen, sealed or non-extensible timer works with every
// call, except those that write its public fields (an hrtimer's `function`, a
// timer_list's `function` or `flags`), which refuse it before any effect.
describe('timers frozen by the user', () => {
  it('a frozen hrtimer: hrtimer_setup, hrtimer_init and hrtimer_update_function are refused before any effect; every other call works (sealed or non-extensible: all work)', () => {
    for (const lock of [Object.freeze, Object.seal, Object.preventExtensions]) {
      const h = setupTimer();
      lock(h);
      const writers = [
        (t: k.hrtimer) => k.hrtimer_setup(t, () => k.HRTIMER_NORESTART, k.CLOCK_REALTIME, k.HRTIMER_MODE_ABS),
        (t: k.hrtimer) => k.hrtimer_init(t, k.CLOCK_REALTIME, k.HRTIMER_MODE_ABS),
        (t: k.hrtimer) => k.hrtimer_update_function(t, () => k.HRTIMER_NORESTART),
      ];
      if (lock === Object.freeze) {
        for (const [i, f] of writers.entries()) expectError(() => f(h), T, ARG, `writer ${i} (frozen hrtimer)`);
        expect([h.function, h.clockid]).toEqual([noop, k.CLOCK_MONOTONIC]);
      } else {
        for (const f of writers.slice(0, 2)) f(h);
        expect([h.function, h.clockid]).toEqual([null, k.CLOCK_REALTIME]);
        k.hrtimer_setup(h, noop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
      }
      // the rest act on its private state as on any timer
      k.hrtimer_start(h, 10n ** 12n, k.HRTIMER_MODE_REL);
      expect([k.hrtimer_active(h), k.hrtimer_is_queued(h)]).toEqual([true, true]);
      const at = k.hrtimer_get_expires(h);
      k.hrtimer_restart(h);
      expect(k.hrtimer_get_expires(h)).toBe(at);
      expect(k.hrtimer_try_to_cancel(h)).toBe(1);
      expect(k.hrtimer_cancel(h)).toBe(0);
      expect(k.hrtimer_active(h)).toBe(false);
    }
  });

  it('a frozen timer_list: the calls that write its function or flags are refused before any effect; the others work (sealed or non-extensible: all work)', () => {
    for (const lock of [Object.freeze, Object.seal, Object.preventExtensions]) {
      const tl = setupTList();
      const far = k.get_jiffies_64() + FAR;
      tl.expires = far;
      lock(tl);
      if (lock === Object.freeze) {
        // idle: each writer is refused at its write, before it arms or changes anything
        const writers = [k.timer_shutdown, k.timer_shutdown_sync, k.add_timer_local, k.add_timer_global, (t: k.timer_list) => k.add_timer_on(t, 0),
          (t: k.timer_list) => k.timer_setup(t, () => {}, 0)];
        for (const f of writers) expectError(() => f(tl), T, ARG, `${f.name || 'writer'}(frozen idle timer_list)`);
        expect([tl.function, tl.flags, k.timer_pending(tl), tl.expires]).toEqual([tlNoop, 0, 0, far]);
      }
      expect(k.mod_timer(tl, far)).toBe(0);
      if (lock === Object.freeze) {
        // pending: timer_shutdown is refused before it detaches
        for (const f of [k.timer_shutdown, k.timer_shutdown_sync]) expectError(() => f(tl), T, ARG, `${f.name}(frozen pending timer_list)`);
        expect([tl.function, k.timer_pending(tl)]).toEqual([tlNoop, 1]);
      }
      // the rest act on its private state as on any timer
      expect(k.mod_timer(tl, far + 1n)).toBe(1);
      expect(tl.expires).toBe(far + 1n);
      expect(k.timer_reduce(tl, far)).toBe(1);
      expect(k.mod_timer_pending(tl, Number(far) + 2)).toBe(1); // a number expiry, too
      expect(tl.expires).toBe(far + 2n);
      expect(k.timer_delete(tl)).toBe(1);
      expect(k.timer_pending(tl)).toBe(0);
      k.add_timer(tl);
      expect(k.timer_pending(tl)).toBe(1);
      expect(k.timer_delete_sync(tl)).toBe(1);
      expect(k.timer_delete_sync_try(tl)).toBe(0);
      if (lock !== Object.freeze) {
        // sealed / non-extensible: its existing fields stay writable, so the writers work
        k.add_timer_local(tl);
        expect([k.timer_pending(tl), tl.flags]).toEqual([1, k.TIMER_PINNED]);
        expect(k.timer_shutdown(tl)).toBe(1);
        expect(tl.function).toBe(null);
      }
    }
  });

  it('a timer_list whose function or flags was made read-only (or a throwing accessor): the calls writing that field are refused before any effect', () => {
    const shut = [k.timer_shutdown, k.timer_shutdown_sync];
    const pin = [k.add_timer_local, k.add_timer_global, (t: k.timer_list) => k.add_timer_on(t, 0)];
    const setup = function timer_setup_(t: k.timer_list) {
      k.timer_setup(t, () => {}, k.TIMER_DEFERRABLE);
    };
    const cases: [string, (t: k.timer_list) => void, ((t: k.timer_list) => unknown)[]][] = [
      ['read-only function', (t) => Object.defineProperty(t, 'function', { writable: false }), [...shut, setup]],
      ['read-only flags', (t) => Object.defineProperty(t, 'flags', { writable: false }), [...pin, setup]],
      ['throwing function setter', (t) => Object.defineProperty(t, 'function', {
        get: () => tlNoop, set: () => { throw new Error('no'); }, configurable: true,
      }), [...shut, setup]],
    ];
    for (const [label, lock, refused] of cases) {
      const tl = setupTList();
      const far = k.get_jiffies_64() + FAR;
      tl.expires = far;
      lock(tl);
      // idle: refused at the write, nothing armed; timer_setup writes function, then flags, and puts
      // the function back when the flags write is refused
      for (const f of refused) expectError(() => f(tl), T, ARG, `${f.name || 'writer'} (${label}, idle)`);
      expect([k.timer_pending(tl), tl.function, tl.flags, tl.expires]).toEqual([0, tlNoop, 0, far]);
      // pending: timer_shutdown used to detach before its write failed (deleted, not shut down)
      expect(k.mod_timer(tl, far)).toBe(0);
      for (const f of refused.filter((f) => shut.includes(f as never))) expectError(() => f(tl), T, ARG, `${f.name} (${label}, pending)`);
      expect([k.timer_pending(tl), tl.function]).toEqual([1, tlNoop]);
      expect(k.timer_delete(tl)).toBe(1);
    }
  });


  it('an hrtimer frozen while armed runs at its expiry as any other, in order; one frozen by its own callback restarts as asked', () => {
    const clock = installVirtualClock();
    try {
      const ran: number[] = [];
      const ts = [0, 1, 2].map((i) => {
        const t = new k.hrtimer();
        k.hrtimer_setup(t, () => (ran.push(i), k.HRTIMER_NORESTART), k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
        k.hrtimer_start(t, clock.now() + 1000n, k.HRTIMER_MODE_ABS);
        return t;
      });
      // A callback that freezes its own timer, then asks for a restart: it runs again 1000 ns later.
      const selfFreeze = new k.hrtimer();
      let runs = 0;
      k.hrtimer_setup(selfFreeze, (t) => {
        ran.push(3);
        k.hrtimer_forward_now(t, 1000n);
        Object.freeze(t);
        return ++runs < 3 ? k.HRTIMER_RESTART : k.HRTIMER_NORESTART;
      }, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_ABS);
      k.hrtimer_start(selfFreeze, clock.now() + 1000n, k.HRTIMER_MODE_ABS);
      Object.freeze(ts[1]);
      clock.advanceNs(1000n);
      expect(ran).toEqual([0, 1, 2, 3]);
      expect(k.hrtimer_is_queued(selfFreeze)).toBe(true);
      clock.advanceNs(5000n);
      expect(ran).toEqual([0, 1, 2, 3, 3, 3]);
      expect([...ts, selfFreeze].map((t) => k.hrtimer_active(t))).toEqual([false, false, false, false]);
    } finally {
      clock.uninstall();
    }
  });

  // timer_list keeps its engine state in a private field, which freezing does not touch:
  // a timer_list frozen while pending still runs, with its bucket, in order.
  it('a timer_list frozen while pending still runs, in its place in the bucket', () => {
    const clock = installVirtualClock();
    try {
      const ran: number[] = [];
      const j = clock.jiffies();
      const ts = [0, 1, 2, 3].map((i) => {
        const t = new k.timer_list();
        k.timer_setup(t, () => ran.push(i), 0);
        k.mod_timer(t, j + 5n);
        return t;
      });
      Object.freeze(ts[2]);
      clock.advanceJiffies(10n);
      expect(ran).toEqual([3, 2, 1, 0]); // newest first in a bucket
      expect([0, 1, 3].map((i) => k.timer_pending(ts[i]!))).toEqual([0, 0, 0]);
    } finally {
      clock.uninstall();
    }
  });
});

// --- timer_list and jiffies, beyond one bad argument at a time ----------------

describe('timer_list', () => {
  it("a timer_list never set up reads as the kernel's zeroed struct outside the arm calls", () => {
    const t = new k.timer_list();
    expect([t.expires, t.function, t.flags]).toEqual([0n, null, 0]);
    expect([k.timer_pending(t), k.timer_delete(t), k.timer_delete_sync(t), k.timer_delete_sync_try(t)]).toEqual([0, 0, 0, 0]);
    expect([k.del_timer(t), k.del_timer_sync(t), k.try_to_del_timer_sync(t)]).toEqual([0, 0, 0]);
    expect([k.timer_shutdown(t), k.timer_shutdown_sync(t)]).toEqual([0, 0]);
    // Shutting it down did not set it up.
    expectError(() => k.mod_timer(t, k.get_jiffies_64() + FAR), T, 'ERR_KTIMERS_NOT_SETUP', 'mod_timer after shutdown of an unset timer');
  });

  it('DEFINE_TIMER(fn) is a set-up, idle timer with flags 0', () => {
    const t = k.DEFINE_TIMER(tlNoop);
    madeTL.push(t);
    expect(t).toBeInstanceOf(k.timer_list);
    expect([t.function, t.flags, t.expires, k.timer_pending(t)]).toEqual([tlNoop, 0, 0n, 0]);
    expect(k.mod_timer(t, k.get_jiffies_64() + FAR)).toBe(0);
    expect(k.timer_delete(t)).toBe(1);
  });

  // WARN_ON_ONCE: this must be the file's first timer_setup with such bits (the fuzz comes later).
  it('timer_setup flags outside TIMER_INIT_FLAGS are masked off with a KtimersWarning, not an error', () => {
    const warnings: unknown[][] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation((...a: unknown[]) => void warnings.push(a));
    try {
      const t = setupTList();
      k.timer_setup(t, tlNoop, 0xffffffff);
      expect(t.flags).toBe(k.TIMER_INIT_FLAGS);
      k.timer_setup(t, tlNoop, k.TIMER_MIGRATING | 5 | k.TIMER_PINNED);
      expect(t.flags).toBe(k.TIMER_PINNED);
      k.timer_setup(t, tlNoop, k.TIMER_INIT_FLAGS);
      expect(t.flags).toBe(k.TIMER_INIT_FLAGS);
    } finally {
      spy.mockRestore();
    }
    expect(warnings.map(([, o]) => o)).toEqual([{ type: 'KtimersWarning', code: 'KTIMERS_WARN_TIMER_FLAGS' }]);
  });

  it('timer_setup on a pending timer → KtimersError ERR_KTIMERS_TIMER_ACTIVE, nothing changed', () => {
    const t = setupTList(k.TIMER_PINNED);
    const e0 = k.get_jiffies_64() + FAR;
    k.mod_timer(t, e0);
    const other = () => {};
    const err = thrown(() => k.timer_setup(t, other, k.TIMER_DEFERRABLE));
    expect(err).toBeInstanceOf(k.KtimersError);
    expect(err.code).toBe('ERR_KTIMERS_TIMER_ACTIVE');
    expect([t.function, t.flags, t.expires, k.timer_pending(t)]).toEqual([tlNoop, k.TIMER_PINNED, e0, 1]);
    expect(k.timer_delete(t)).toBe(1);
  });

  it('a rejected call changes nothing (validation before any effect)', () => {
    const t = setupTList(k.TIMER_DEFERRABLE);
    const e0 = k.get_jiffies_64() + FAR;
    expect(k.mod_timer(t, e0)).toBe(0);
    const wheel = TL.wheelState().slotsInUse;
    for (const f of [k.mod_timer, k.mod_timer_pending, k.timer_reduce]) {
      expectError(() => f(t, -1n), R, OOR, `${f.name}(-1n)`);
      expectError(() => f(t, 5.5 as unknown as bigint), R, OOR, `${f.name}(5.5)`);
      expectError(() => f(t, -1), R, OOR, `${f.name}(-1)`);
      expectError(() => f(t, '5' as unknown as bigint), T, ARG, `${f.name}('5')`);
      expectError(() => f(t, hostile() as unknown as bigint), T, ARG, `${f.name}(hostile)`);
    }
    expectError(() => k.add_timer_on(t, 1), R, 'ERR_KTIMERS_INVALID_CPU', 'add_timer_on(pending, 1)');
    expectError(() => k.timer_setup(t, 'x' as never, 0), T, ARG, 'timer_setup(pending, bad fn)');
    expectError(() => k.timer_setup(t, tlNoop, -1), T, ARG, 'timer_setup(pending, bad flags)');
    expect([t.expires, t.function, t.flags, k.timer_pending(t)]).toEqual([e0, tlNoop, k.TIMER_DEFERRABLE, 1]);
    expect(TL.wheelState().slotsInUse).toBe(wheel);
    expect(k.timer_delete(t)).toBe(1);

    const idle = setupTList(k.TIMER_IRQSAFE);
    expectError(() => k.add_timer_on(idle, 1), R, 'ERR_KTIMERS_INVALID_CPU', 'add_timer_on(idle, 1)');
    expectError(() => k.timer_setup(idle, hostile() as never, 0), T, ARG, 'timer_setup(idle, hostile fn)');
    expectError(() => k.timer_setup(idle, tlNoop, 2 ** 32), T, ARG, 'timer_setup(idle, 2^32)');
    expect([idle.function, idle.flags, k.timer_pending(idle)]).toEqual([tlNoop, k.TIMER_IRQSAFE, 0]);
  });

  // add_timer_local/_global/_on set or clear TIMER_PINNED, then add_timer reads
  // timer.expires: a bad expires must be refused before the flag is touched.
  it('add_timer_local / add_timer_global / add_timer_on with a bad timer.expires change nothing, flags included', () => {
    const cases: [string, (t: k.timer_list) => void, number][] = [
      ['add_timer_local', (t) => k.add_timer_local(t), 0],
      ['add_timer_global', (t) => k.add_timer_global(t), k.TIMER_PINNED],
      ['add_timer_on', (t) => k.add_timer_on(t, 0), 0],
    ];
    const got = cases.map(([name, call, flags]) => {
      const t = setupTList(flags);
      t.expires = 'soon' as unknown as bigint;
      const e = thrown(() => call(t));
      return `${name}: ${e?.constructor?.name} ${e?.code}, flags 0x${t.flags.toString(16)}, pending ${k.timer_pending(t)}`;
    });
    expect(got).toEqual(cases.map(([name, , flags]) => `${name}: TypeError ${ARG}, flags 0x${flags.toString(16)}, pending 0`));
  });

  // A number written to timer.expires is kept as its bigint when it is a valid jiffies
  // value (timer.test.ts 'timer.expires storage'); any other number is kept as written
  // and refused here with mod_timer's RangeError.
  it('add_timer checks timer.expires as mod_timer checks its argument, without coercing it', () => {
    const before = coercions;
    const t = setupTList();
    for (const [label, v, cls, code] of [
      ['number 5.5', 5.5, R, OOR], ['number -1', -1, R, OOR], ['string', '5', T, ARG], ['null', null, T, ARG],
      ['hostile', hostile(), T, ARG], ['boxed bigint', Object(5n), T, ARG], ['-1n', -1n, R, OOR], ['2^64', 1n << 64n, R, OOR],
    ] as const) {
      t.expires = v as unknown as bigint;
      for (const f of [k.add_timer, k.add_timer_local, k.add_timer_global]) expectError(() => f(t), cls, code, `${f.name}(expires = ${label})`);
      expectError(() => k.add_timer_on(t, 0), cls, code, `add_timer_on(expires = ${label})`);
      expect(k.timer_pending(t)).toBe(0);
    }
    expect(coercions - before).toBe(0);
  });

  // timer.flags and timer.function are public, writable fields: arming reads
  // them. A hostile or wrong-typed value must be refused with a code when armed,
  // not coerced (flags & TIMER_DEFERRABLE) and not called later from the tick
  // (where "fn is not a function" would reach uncaughtException). hrtimer_start
  // refuses a non-function with ERR_KTIMERS_NO_FUNCTION; timer_list should match.
  it('hand-written timer.flags / timer.function are checked when the timer is armed, never coerced', () => {
    const before = coercions;
    const cases: [string, keyof k.timer_list, () => unknown, string][] = [
      ['flags = hostile', 'flags', hostile, `TypeError ${ARG}`],
      ['flags = "abc"', 'flags', () => 'abc', `TypeError ${ARG}`],
      ['function = "noop"', 'function', () => 'noop', 'TypeError ERR_KTIMERS_NO_FUNCTION'],
      ['function = 5', 'function', () => 5, 'TypeError ERR_KTIMERS_NO_FUNCTION'],
      ['function = hostile', 'function', hostile, 'TypeError ERR_KTIMERS_NO_FUNCTION'],
    ];
    const got = cases.map(([label, field, make]) => {
      const t = setupTList();
      (t as unknown as Record<string, unknown>)[field] = make();
      const e = thrown(() => k.mod_timer(t, k.get_jiffies_64() + FAR));
      const pending = k.timer_pending(t);
      k.timer_delete(t);
      return `${label}: ${e === undefined ? 'accepted' : `${e?.constructor?.name} ${e?.code}`}, pending ${pending}`;
    });
    expect(got).toEqual(cases.map(([label, , , want]) => `${label}: ${want}, pending 0`));
    expect(coercions - before).toBe(0);
  });

  // The brand check is a #private field, as for hrtimer: an object with the
  // prototype and none of the state, or a Proxy, is not a timer_list.
  it('an object with timer_list.prototype but no timer state, or a trapping Proxy, is rejected with a code', () => {
    const forged = Object.create(k.timer_list.prototype) as k.timer_list;
    expectError(() => k.timer_pending(forged), T, ARG, 'timer_pending(forged)');
    expectError(() => k.timer_delete(forged), T, ARG, 'timer_delete(forged)');
    const p = new Proxy({}, { getPrototypeOf() { throw new Error('trap'); }, has() { throw new Error('trap'); } });
    expectError(() => k.timer_delete(p as k.timer_list), T, ARG, 'timer_delete(proxy)');
    expectError(() => k.mod_timer(p as k.timer_list, 1n), T, ARG, 'mod_timer(proxy)');
  });

  it('a subclass instance is a timer_list, and its callback gets the same object', () => {
    class MyTimer extends k.timer_list {
      hits = 0;
    }
    const t = new MyTimer();
    madeTL.push(t);
    k.timer_setup(t, (self: MyTimer) => void self.hits++, 0);
    expect(k.mod_timer(t, k.get_jiffies_64() + FAR)).toBe(0);
    expect(k.timer_pending(t)).toBe(1);
    expect(k.timer_delete(t)).toBe(1);
  });

  it('a shut-down timer ignores every arm (0, not pending) until timer_setup again', () => {
    const t = setupTList();
    k.mod_timer(t, k.get_jiffies_64() + FAR);
    expect(k.timer_shutdown(t)).toBe(1);
    expect(t.function).toBe(null);
    const j = k.get_jiffies_64() + FAR;
    expect([k.mod_timer(t, j), k.mod_timer_pending(t, j), k.timer_reduce(t, j)]).toEqual([0, 0, 0]);
    for (const f of [k.add_timer, k.add_timer_local, k.add_timer_global]) f(t);
    k.add_timer_on(t, 0);
    expect(k.timer_pending(t)).toBe(0);
    // Bad arguments are still bad arguments.
    expectError(() => k.mod_timer(t, -1n), R, OOR, 'mod_timer(shut down, -1n)');
    expectError(() => k.add_timer_on(t, 1), R, 'ERR_KTIMERS_INVALID_CPU', 'add_timer_on(shut down, 1)');
    k.timer_setup(t, tlNoop, 0);
    expect(k.mod_timer(t, j)).toBe(0);
    expect(k.timer_pending(t)).toBe(1);
    expect(k.timer_shutdown_sync(t)).toBe(1);
  });

  it('LVL_START(n) is 63 << 3(n-1) for the levels of this HZ, 0 for level 0, and pure', () => {
    const kernel = [63n, 504n, 4032n, 32256n, 258048n, 2064384n, 16515072n, 132120576n, 1056964608n];
    const levels = Array.from({ length: k.LVL_DEPTH }, (_, i) => i + 1);
    expect(levels.map((n) => k.LVL_START(n))).toEqual(kernel.slice(0, k.LVL_DEPTH));
    expect(levels.map((n) => k.LVL_START(n))).toEqual(levels.map((n) => k.LVL_START(n)));
    expect(k.LVL_START(k.LVL_DEPTH)).toBe(k.WHEEL_TIMEOUT_CUTOFF);
    expect([k.LVL_START(0), k.LVL_START(-0)]).toEqual([0n, 0n]);
  });
});

describe('jiffies', () => {
  it('u32 timestamps and unsigned int counts take a bigint or a number, with the same result', () => {
    for (const [a, b] of [[0, 1], [U32_MAX, 0], [2 ** 31, 0], [5, 2 ** 31 + 5]]) {
      expect(k.time_after32(a!, b!)).toBe(k.time_after32(BigInt(a!), BigInt(b!)));
      expect(k.time_before32(a!, BigInt(b!))).toBe(k.time_before32(BigInt(a!), b!));
      expect(k.time_between32(a!, b!, U32_MAX)).toBe(k.time_between32(BigInt(a!), BigInt(b!), BigInt(U32_MAX)));
    }
    for (const m of [0, 1, 999, 2 ** 31 - 1, 2 ** 31, U32_MAX]) {
      expect(k.msecs_to_jiffies(m)).toBe(k.msecs_to_jiffies(BigInt(m)));
      expect(k.usecs_to_jiffies(m)).toBe(k.usecs_to_jiffies(BigInt(m)));
    }
    // Relative rounding reads jiffies: pin time so both calls see the same jiffy.
    const clock = installVirtualClock();
    try {
      expect(k.__round_jiffies_relative(12_345n, SKEW_CPU_MAX)).toBe(k.__round_jiffies_relative(12_345n, BigInt(SKEW_CPU_MAX)));
    } finally {
      clock.uninstall();
    }
  });

  it('arguments are checked left to right, and every one is checked', () => {
    expectError(() => k.time_after(-1n, 'x' as never), R, OOR, 'time_after(-1n, "x")');
    expectError(() => k.time_after('x' as never, -1n), T, ARG, 'time_after("x", -1n)');
    expectError(() => k.time_in_range(0n, 0n, -1n), R, OOR, 'time_in_range(0n, 0n, -1n)');
    expectError(() => k.time_in_range64(0n, 1n << 64n, 'x' as never), R, OOR, 'time_in_range64(0n, 2^64, "x")');
    expectError(() => k.time_between32(0, 0, 2 ** 32), R, OOR, 'time_between32(0, 0, 2^32)');
    expectError(() => k.time_between32(-1, 'x' as never, 0), R, OOR, 'time_between32(-1, "x", 0)');
    expectError(() => k.__round_jiffies_relative(-1n, 'x' as never), R, OOR, '__round_jiffies_relative(-1n, "x")');
    expectError(() => k.__round_jiffies_up_relative(0n, -1), R, OOR, '__round_jiffies_up_relative(0n, -1)');
  });

  it('the extremes of each range are accepted', () => {
    for (const name of Object.keys(SIG)) {
      const [kinds, ret] = SIG[name]!;
      if (!kinds.length || !kinds.every((kd) => kd === 'jiffies' || kd === 'u32' || kd === 'delta' || kd === 'skewcpu')) continue;
      const extremes = (kd: Kind): unknown[] =>
        kd === 'jiffies' ? [0n, U64_MAX, 1n << 63n] : kd === 'u32' ? [0, U32_MAX, 0n, BigInt(U32_MAX)]
          : kd === 'delta' ? [MIN, MAX, 0n] : [0, SKEW_CPU_MAX];
      for (const v of extremes(kinds[0]!)) {
        const args = kinds.map((kd, j) => (j === 0 ? v : extremes(kd)[1]));
        const r = fns[name]!(...args);
        expect(returnOk(ret, r), `${name}(${args.map(String).join(', ')}) returned ${String(r)}`).toBe(true);
      }
    }
  });
});

// --- fuzz ------------------------------------------------------------------


/**
 * Brings the real wheel's NO_HZ tick to rest: a probe timer_list one jiffy ahead
 * makes the tick fire, run the probe, and disarm (the wheel being otherwise
 * empty). Deleting timers does not re-program the tick (as in the kernel), so
 * without this the tick's hrtimer slot may or may not be in the native heap.
 */
async function settleWheelTick(): Promise<void> {
  const probe = new k.timer_list();
  let fired!: () => void;
  const done = new Promise<'fired'>((resolve) => (fired = () => resolve('fired')));
  k.timer_setup(probe, () => fired(), 0);
  k.mod_timer(probe, k.get_jiffies_64() + 1n);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 2000)));
  const r = await Promise.race([done, late]);
  clearTimeout(timer);
  if (r !== 'fired') {
    k.timer_delete(probe);
    throw new Error('the probe timer_list did not fire within 2 s');
  }
  await new Promise((resolve) => setImmediate(resolve)); // the tick's pass (and its rearm) has returned
}

describe('fuzz: every export with random hostile argument tuples', () => {
  const SEED = Number(process.env.KTIMERS_FUZZ_SEED ?? 0x6b7469);
  const TUPLES = 2000;
  /** Failures reported per function; the fuzz goes on with the other functions. */
  const PER_FUNCTION = 3;

  it(`${TUPLES} tuples per function, seed ${SEED}`, async () => {
    const rnd = mulberry32(SEED);
    const pick = <V,>(a: readonly V[]): V => a[Math.floor(rnd() * a.length)]!;
    const timers: k.hrtimer[] = [];
    const fresh = () => {
      const t = new k.hrtimer();
      timers.push(t);
      return t;
    };
    const soft = fresh();
    k.hrtimer_setup(soft, noop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL_SOFT);
    const real = fresh();
    k.hrtimer_setup(real, noop, k.CLOCK_REALTIME, k.HRTIMER_MODE_ABS);
    const tai = fresh();
    k.hrtimer_setup(tai, noop, k.CLOCK_TAI, k.HRTIMER_MODE_ABS_HARD);
    const initOnly = fresh();
    k.hrtimer_init(initOnly, k.CLOCK_BOOTTIME, k.HRTIMER_MODE_REL);
    const unset = fresh();

    // The callbacks the fuzz can install (hrtimer_update_function, timer_setup,
    // DEFINE_TIMER) count their runs: the fuzz is synchronous and cancels or
    // deletes everything it armed, so none may ever run.
    let callbackRuns = 0;
    const cbNoop = () => {
      callbackRuns++;
      return k.HRTIMER_NORESTART;
    };
    const cbRestart = () => {
      callbackRuns++;
      return k.HRTIMER_RESTART;
    };
    const cbThrower = () => {
      callbackRuns++;
      throw new Error('fuzzed callback ran');
    };

    const tls: k.timer_list[] = [];
    const tl = (flags: number | null, expires = 0n) => {
      const t = new k.timer_list();
      if (flags !== null) k.timer_setup(t, cbNoop, flags);
      t.expires = expires;
      tls.push(t);
      return t;
    };
    class SubTimer extends k.timer_list {}
    const sub = new SubTimer();
    k.timer_setup(sub, cbNoop, 0);
    tls.push(sub);
    const shut = tl(0);
    k.timer_shutdown(shut);
    // Workqueue objects the fuzz may queue, flush, cancel or destroy: valid calls run the
    // no-op function; what they leave armed is cancelled at the end.
    const fuzzWork = new k.work_struct();
    k.INIT_WORK(fuzzWork, { module: WQ_MOD, name: 'noop' });
    const fuzzBh = new k.work_struct();
    k.INIT_WORK(fuzzBh, () => {});
    const fuzzDw = new k.delayed_work();
    k.INIT_DELAYED_WORK(fuzzDw, { module: WQ_MOD, name: 'noop' });
    const fuzzWq = k.alloc_workqueue('fuzz', k.WQ_UNBOUND, 0)!;
    const fuzzOrdered = k.alloc_ordered_workqueue('fuzz-ordered', 0)!;
    const j0 = k.get_jiffies_64();
    // "Destroyed" timers: armed on a virtual clock that was then uninstalled (which
    // cancels them), and the uninstalled clock object itself.
    const vclock = installVirtualClock();
    const vh = fresh();
    k.hrtimer_setup(vh, cbNoop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(vh, 1000n, k.HRTIMER_MODE_REL);
    const vtl = tl(0);
    k.mod_timer(vtl, vclock.jiffies() + 10n);
    vclock.uninstall();
    // A frozen hrtimer and a sealed timer_list (refused by the calls that write their fields; see
    // 'timers frozen by the user'; the others may arm them).
    const frozenT = fresh();
    k.hrtimer_setup(frozenT, cbNoop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    Object.freeze(frozenT);
    const sealedTL = new k.timer_list();
    k.timer_setup(sealedTL, cbNoop, 0);
    Object.seal(sealedTL);
    tls.push(sealedTL);
    // Getters that throw for every field name the engine or a validator could read.
    const getterBag: Record<string, unknown> = {};
    const getterHits: Record<string, number> = {};
    for (const name of ['function', 'expires', 'flags', '_base', '_nbase', '_slot', '_queued', '_running', '_soft', '_hard', '_seq',
      '_refd', '_setup', '_ctx', '_bidx', 'clockid', 'then', 'length', 'constructor', 'valueOf', 'toString']) {
      Object.defineProperty(getterBag, name, {
        get() {
          // describe() may read `constructor` (inside a try) to name the type in an error message.
          if (name !== 'constructor') (getterHits[name] = (getterHits[name] ?? 0) + 1), coercions++;
          throw new Error(`hostile getter ${name}`);
        },
        enumerable: true,
      });
    }

    const pool: [string, unknown][] = [
      ['0n', 0n], ['1n', 1n], ['-1n', -1n], ['KTIME_MAX', MAX], ['KTIME_MIN', MIN], ['2^63', 1n << 63n], ['MIN-1', MIN - 1n],
      ['2^64-1', U64_MAX], ['2^64', 1n << 64n], ['1e9n', 1_000_000_000n], ['-1e6n', -1_000_000n],
      ['0', 0], ['-0', -0], ['1', 1], ['-1', -1], ['7', 7], ['11', 11], ['5', 5], ['0x0c', 0x0c], ['0x10', 0x10], ['0x20', 0x20],
      ['1.5', 1.5], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['2^53', 2 ** 53], ['1e300', 1e300],
      ['""', ''], ['"1"', '1'], ['undefined', undefined], ['null', null], ['true', true], ['{}', {}], ['[]', []],
      ['symbol', Symbol('fuzz')], ['boxed 1n', Object(1n)], ['hostile', hostile()], ['hostile proxy', hostileProxy()],
      ['noop', cbNoop], ['restart', cbRestart], ['thrower', cbThrower],
      ['hrtimer class', k.hrtimer], ['duck timer', { function: noop, _base: 0, _slot: 0, _queued: true }],
      ['soft timer', soft], ['realtime timer', real], ['tai timer', tai], ['init-only timer', initOnly], ['unset timer', unset],
      // jiffies and timer_list
      ['jiffies now', j0], ['jiffies +100', j0 + 100n], ['jiffies +FAR', j0 + FAR], ['INITIAL_JIFFIES', k.INITIAL_JIFFIES],
      ['MAX_JIFFY_OFFSET', k.MAX_JIFFY_OFFSET], ['2^32-1', U32_MAX], ['2^32', 2 ** 32], ['2^31', 2 ** 31], ['2^32n', 1n << 32n],
      ['CPU_MAX', SKEW_CPU_MAX], ['TIMER_DEFERRABLE', k.TIMER_DEFERRABLE], ['PINNED|IRQSAFE', k.TIMER_PINNED | k.TIMER_IRQSAFE],
      ['0xffffffff', 0xffffffff], ['LVL_DEPTH', k.LVL_DEPTH],
      ['timer_list class', k.timer_list], ['forged timer_list', Object.create(k.timer_list.prototype)],
      ['duck timer_list', { expires: 0n, function: tlNoop, flags: 0, _setup: true, _slot: 0, _running: false, _refd: true, _ctx: null }],
      ['timer_list', tl(0)], ['timer_list expires +FAR', tl(0, j0 + FAR)], ['deferrable timer_list', tl(k.TIMER_DEFERRABLE, j0 + 100n)],
      ['pinned irqsafe timer_list', tl(k.TIMER_PINNED | k.TIMER_IRQSAFE, 1n << 63n)], ['unset timer_list', tl(null)],
      ['shut-down timer_list', shut], ['subclass timer_list', sub],
      // workqueue
      ['work', fuzzWork], ['bh work', fuzzBh], ['uninit work', new k.work_struct()], ['delayed work', fuzzDw], ['dwork.work', fuzzDw.work],
      ['queue', fuzzWq], ['ordered queue', fuzzOrdered], ['system_bh_wq', k.system_bh_wq], ['fn ref', { module: WQ_MOD, name: 'noop' }],
      ['WQ_UNBOUND', k.WQ_UNBOUND], ['WQ_BH', k.WQ_BH], ['WORK_CPU_UNBOUND', k.WORK_CPU_UNBOUND], ['"q"', 'q'],

      // huge and odd numbers
      ['2^1000', 1n << 1000n], ['-2^200', -(1n << 200n)], ['-2^64', -(1n << 64n)], ['-2^63-2^62', MIN - (1n << 62n)],
      ['MAX_VALUE', Number.MAX_VALUE], ['MIN_VALUE', Number.MIN_VALUE], ['-2^53', -(2 ** 53)], ['2^64 number', 2 ** 64],
      // destroyed, frozen, hostile
      ['virtual-destroyed hrtimer', vh], ['virtual-destroyed timer_list', vtl], ['uninstalled virtual clock', vclock],
      ['frozen hrtimer', frozenT], ['sealed timer_list', sealedTL], ['getter bag', getterBag],
      // other exports' and built-ins' objects
      ['KtimersError', new k.KtimersError('ERR_X', 'x')], ['TypeError', new TypeError('t')], ['module namespace', k],
      ['Int32Array', new Int32Array(4)], ['BigInt64Array', new BigInt64Array(2)], ['ArrayBuffer', new ArrayBuffer(8)],
      ['Date', new Date(0)], ['Map', new Map()], ['Promise', Promise.resolve(1)], ['WeakRef', new WeakRef(soft)],
      ['bound noop', cbNoop.bind(null)], ['class', class {}], ['async fn', async () => 0],
    ];

    await settleWheelTick();
    const warnings: unknown[][] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation((...a: unknown[]) => {
      warnings.push(a);
    });
    const slotsBefore = engineState().slotsInUse;
    const refBefore = engineState().refCount;
    const wheelBefore = TL.wheelState().slotsInUse;
    const failures: string[] = [];
    const before = coercions;
    let calls = 0;
    let throws = 0;
    // Three times in the run, everything armed is cancelled and the event loop turns once: the
    // whole fuzz is one synchronous stretch otherwise, and under ASan on a loaded machine it took
    // over half of the minute within which this fork must answer vitest's RPC (test/setup.ts).
    // Nothing armed may run (callbackRuns), so nothing stays armed across a turn; the random
    // sequence is the same.
    const entries = Object.entries(SIG);
    const chunk = Math.ceil(entries.length / 4);
    try {
      for (const [fi, [name, [kinds, ret]]] of entries.entries()) {
        if (fi > 0 && fi % chunk === 0) {
          cancelAll(timers);
          for (const t of tls) k.timer_delete(t);
          await turn();
        }
        const f = fns[name]!;
        let bad = 0;
        const fail = (msg: string) => {
          failures.push(msg);
          bad++;
        };
        for (let i = 0; i < TUPLES && bad < PER_FUNCTION; i++) {
          const n = Math.max(0, kinds.length + Math.floor(rnd() * 3) - 1);
          const drawn = Array.from({ length: n }, () => pick(pool));
          const args = drawn.map(([, v]) => v);
          const label = `${name}(${drawn.map(([l]) => l).join(', ')})`;
          calls++;
          let result: unknown;
          try {
            result = f(...args);
          } catch (e: any) {
            throws++;
            const okClass = e instanceof TypeError || e instanceof RangeError || e instanceof k.KtimersError;
            if (!okClass || typeof e.code !== 'string' || e.code === '') {
              fail(`${label} threw ${e?.constructor?.name} code=${String(e?.code)}: ${e?.message}`);
            }
            continue;
          }
          // It returned: then every declared argument must have been acceptable, and the result well-typed.
          const badArg = kinds.findIndex((kd, j) => !accepts(kd, args[j]));
          if (badArg >= 0) fail(`${label} accepted arg ${badArg} (${kinds[badArg]}) and returned ${String(result)}`);
          else if (!returnOk(ret, result)) fail(`${label} returned ${String(result)} (expected ${ret})`);
        }
      }
    } finally {
      cancelAll(timers);
      for (const t of tls) k.timer_delete(t);
      for (let i = 0; i < 0x10000 && k.enable_work(fuzzDw.work) === false; i++);
      k.cancel_delayed_work(fuzzDw);
      for (let i = 0; i < 0x10000 && k.enable_work(fuzzWork) === false; i++);
      k.cancel_work(fuzzWork);
      spy.mockRestore();
    }
    if (failures.length) throw new Error(`fuzz failures (KTIMERS_FUZZ_SEED=${SEED}):\n${failures.join('\n')}`);
    console.log(
      `fuzz: seed ${SEED}, ${Object.keys(SIG).length} functions, ${calls} calls (${throws} rejected with a code, ` +
        `${calls - throws} accepted), pool of ${pool.length} values, ${warnings.length} warnings`,
    );
    expect(getterHits).toEqual({});
    expect(coercions - before).toBe(0);
    expect(calls).toBeGreaterThan(Object.keys(SIG).length * TUPLES * 0.99);
    expect(throws).toBeGreaterThan(calls / 2);
    expect(calls - throws).toBeGreaterThan(1000); // the pool does reach the success paths too
    // Every warning is a KtimersWarning with a KTIMERS_WARN_* code.
    for (const [, opts] of warnings) {
      expect(opts).toMatchObject({ type: 'KtimersWarning', code: expect.stringMatching(/^KTIMERS_WARN_/) });
    }
    // Nothing armed is left behind in the native heap or the wheel, and the loop ref count is back.
    expect(timers.filter((t) => k.hrtimer_active(t))).toEqual([]);
    expect(tls.filter((t) => k.timer_pending(t))).toEqual([]);
    expect(TL.wheelState().slotsInUse).toBe(wheelBefore);
    await settleWheelTick();
    expect(engineState().slotsInUse).toBe(slotsBefore);
    expect(engineState().refCount).toBe(refBefore);
    expect(callbackRuns).toBe(0);
  });
});

// --- the idiomatic layer and ktimers/testing -----------------------------------

describe('fuzz: the idiomatic layer (ktimers/promises, HighResTimer, WorkQueue) and ktimers/testing', () => {
  const SEED = (Number(process.env.KTIMERS_FUZZ_SEED ?? 0x6b7469) ^ 0x1d10) >>> 0;
  const TUPLES = 2000;
  const PER_TARGET = 3;

  it('a HighResTimer / WorkQueue method or getter called on another object → TypeError ERR_INVALID_THIS', async () => {
    const t = new k.HighResTimer(() => {});
    const q = new k.WorkQueue({ name: 'this' });
    const { start } = t;
    expectError(() => start(1000n), T, 'ERR_INVALID_THIS', 'detached start');
    for (const other of [{}, null, undefined, Object.create(k.HighResTimer.prototype), q]) {
      expectError(() => k.HighResTimer.prototype.cancel.call(other), T, 'ERR_INVALID_THIS', 'cancel');
      expectError(() => Object.getOwnPropertyDescriptor(k.HighResTimer.prototype, 'expires')!.get!.call(other), T, 'ERR_INVALID_THIS', 'expires');
    }
    for (const other of [{}, Object.create(k.WorkQueue.prototype), t]) {
      expectError(() => k.WorkQueue.prototype.queue.call(other, { module: WQ_MOD, name: 'noop' }), T, 'ERR_INVALID_THIS', 'queue');
      expectError(() => Object.getOwnPropertyDescriptor(k.WorkQueue.prototype, 'size')!.get!.call(other), T, 'ERR_INVALID_THIS', 'size');
    }
    expect(t.pending).toBe(false); // the real ones still work
    expect(q.size).toBe(0);
    await q.close();
  });

  it(`${TUPLES} tuples per function, method and getter, seed ${SEED}`, async () => {
    const P = await import('../dist/promises.js');
    const rnd = mulberry32(SEED);
    const pick = <V,>(a: readonly V[]): V => a[Math.floor(rnd() * a.length)]!;
    /** What a caller's own getter or Proxy trap throws: it may propagate unchanged. */
    class CallerError extends Error {}
    const callerErrors = new Set(['hostile proxy trap', 'hostile constructor getter']);
    const getterHits: Record<string, number> = {};
    const optBag: Record<string, unknown> = {};
    for (const name of ['signal', 'clock', 'ref', 'slack', 'start', 'name', 'maxActive', 'ordered', 'highpri', 'startJiffies', 'module', 'then']) {
      Object.defineProperty(optBag, name, {
        get() {
          getterHits[name] = (getterHits[name] ?? 0) + 1;
          throw new CallerError(`caller's getter ${name}`);
        },
        enumerable: true,
      });
    }
    let callbackRuns = 0;
    const cb = () => void callbackRuns++;
    const ac = new AbortController();
    const abortedSignal = AbortSignal.abort('fuzz');
    const timers: InstanceType<typeof k.HighResTimer>[] = [];
    const queues: InstanceType<typeof k.WorkQueue>[] = [];
    const fnRef = { module: WQ_MOD, name: 'noop' };
    const pool: [string, unknown][] = [
      ['0n', 0n], ['1n', 1n], ['-1n', -1n], ['1000n', 1000n], ['ms(5)', P.ms(5)], ['s(1)', P.s(1)], ['KTIME_MAX', MAX], ['KTIME_MIN', MIN],
      ['2^64', 1n << 64n], ['2^1000', 1n << 1000n], ['0', 0], ['-0', -0], ['1', 1], ['5', 5], ['7', 7], ['11', 11], ['-1', -1], ['1.5', 1.5],
      ['NaN', NaN], ['Infinity', Infinity], ['2^53', 2 ** 53], ['1e300', 1e300], ['true', true], ['false', false],
      ['""', ''], ['"x"', 'x'], ['undefined', undefined], ['null', null], ['{}', {}], ['[]', []], ['symbol', Symbol('fuzz')],
      ['boxed 1n', Object(1n)], ['hostile', hostile()], ['hostile proxy', hostileProxy()], ['getter bag', optBag],
      // options
      ['{clock: REALTIME}', { clock: k.CLOCK_REALTIME }], ['{clock: TAI}', { clock: k.CLOCK_TAI }], ['{clock: 5}', { clock: 5 }],
      ['{clock: 1n}', { clock: 1n }], ['{ref: false}', { ref: false }], ['{ref: 1}', { ref: 1 }], ['{signal}', { signal: ac.signal }],
      ['{aborted signal}', { signal: abortedSignal }], ['{signal: {}}', { signal: {} }], ['{start: 0n}', { start: 0n }],
      ['{start: KTIME_MAX}', { start: MAX }], ['{start: -5n}', { start: -5n }], ['{start: 1}', { start: 1 }],
      ['{slack: 1000n}', { slack: 1000n }], ['{slack: -1n}', { slack: -1n }], ['{slack: 1.5}', { slack: 1.5 }],
      ['{name}', { name: 'fuzz' }], ['{name: 5}', { name: 5 }], ['{maxActive: 2}', { maxActive: 2 }], ['{maxActive: -1}', { maxActive: -1 }],
      ['{maxActive: 2^40}', { maxActive: 2 ** 40 }], ['{maxActive: "2"}', { maxActive: '2' }], ['{ordered}', { ordered: true }],
      ['{ordered, maxActive: 2}', { ordered: true, maxActive: 2 }], ['{highpri}', { highpri: true }], ['{ordered: 1}', { ordered: 1 }],
      ['{startJiffies: 0n}', { startJiffies: 0n }], ['{startJiffies: -1n}', { startJiffies: -1n }], ['{startJiffies: 2^62}', { startJiffies: 1n << 62n }],
      ['{startJiffies: 5}', { startJiffies: 5 }],
      // work functions and data
      ['fn ref', fnRef], ['fn ref (href)', { module: WQ_MOD.href, name: 'noop' }], ['fn ref, missing export', { module: WQ_MOD, name: 'missing' }],
      ['fn ref, no file', { module: '/nonexistent/x.mjs', name: 'x' }], ['fn ref, module 5', { module: 5, name: 'noop' }],
      ['fn ref, relative', { module: './x.mjs', name: 'x' }], ['SharedArrayBuffer', new SharedArrayBuffer(8)], ['{a: 1}', { a: 1 }],
      // callbacks, classes, other exports' objects
      ['callback', cb], ['async fn', async () => 0], ['class', class {}], ['module namespace', k],
      ['hrtimer', new k.hrtimer()], ['timer_list', new k.timer_list()], ['work_struct', new k.work_struct()],
      ['KtimersError', new k.KtimersError('ERR_X', 'x')], ['AbortError', new P.AbortError()], ['Date', new Date(0)], ['Promise', Promise.resolve(1)],
    ];
    const failures: string[] = [];
    const perTarget: Record<string, number> = {};
    const fail = (target: string, msg: string) => {
      perTarget[target] = (perTarget[target] ?? 0) + 1;
      if (perTarget[target]! <= PER_TARGET) failures.push(msg); // (rejections arrive later: counted, not all listed)
    };
    const coded = (e: any): boolean =>
      (e instanceof TypeError || e instanceof RangeError || e instanceof k.KtimersError || e instanceof P.AbortError) &&
      typeof e.code === 'string' && e.code !== '';
    const callers = (e: any): boolean => e instanceof CallerError || (e instanceof Error && callerErrors.has(e.message));
    const describeE = (e: any) => `${e?.constructor?.name} code=${String(e?.code)}: ${e?.message}`;
    let calls = 0;
    let throws = 0;
    let rejected = 0;
    let accepted = 0;
    /** Promises the fuzz got: every rejection must be coded; `mustSettle` ones must settle by the end. */
    const tracked: { label: string; settled: boolean; mustSettle: boolean }[] = [];
    const track = (target: string, label: string, p: unknown, value: (v: unknown) => boolean, mustSettle = false) => {
      if (!(p instanceof Promise)) return fail(target, `${label} returned ${String(p)}, not a Promise`);
      const rec = { label, settled: false, mustSettle };
      tracked.push(rec);
      p.then(
        (v) => {
          rec.settled = true;
          if (!value(v)) fail(target, `${label} resolved with ${String(v)}`);
        },
        (e) => {
          rec.settled = true;
          rejected++;
          if (!coded(e) && !callers(e)) fail(target, `${label} rejected with ${describeE(e)}`);
        },
      );
    };
    /** Calls `f` with a random tuple around `arity` arguments; checks a throw, or the result with `check`. */
    const fuzz = (target: string, arity: number, n: number, f: (...a: unknown[]) => unknown, check: (r: unknown, label: string) => string | null) => {
      for (let i = 0; i < n && (perTarget[target] ?? 0) < PER_TARGET; i++) {
        const len = Math.max(0, arity + Math.floor(rnd() * 3) - 1);
        const drawn = Array.from({ length: len }, () => pick(pool));
        const label = `${target}(${drawn.map(([l]) => l).join(', ')})`;
        calls++;
        let r: unknown;
        try {
          r = f(...drawn.map(([, v]) => v));
        } catch (e) {
          throws++;
          if (!coded(e) && !callers(e)) fail(target, `${label} threw ${describeE(e)}`);
          continue;
        }
        accepted++;
        const bad = check(r, label);
        if (bad !== null) fail(target, `${label}: ${bad}`);
      }
    };
    const isUndef = (v: unknown) => v === undefined;
    const iterResult = (v: unknown) =>
      typeof v === 'object' && v !== null && typeof (v as { done?: unknown }).done === 'boolean' &&
      ((v as { done: boolean }).done ? (v as { value?: unknown }).value === undefined : typeof (v as { value?: unknown }).value === 'bigint');

    const before = coercions;
    const warnings: unknown[][] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation((...a: unknown[]) => void warnings.push(a));
    let vc: VirtualClock | null = null;
    let callbackErrorsSeen = 0;
    try {
      // ktimers/testing: installVirtualClock, and the clock it returns, with random arguments.
      fuzz('installVirtualClock', 1, TUPLES, (...a) => installVirtualClock(a[0] as VirtualClockOptions), (c, label) => {
        const clock = c as VirtualClock;
        if (typeof clock?.advanceNs !== 'function') return `returned ${String(c)}`;
        try {
          for (let m = 0; m < 4; m++) {
            const [l, v] = pick(pool);
            const method = pick(['advanceNs', 'advanceJiffies', 'now', 'jiffies'] as const);
            calls++;
            try {
              const r = (clock[method] as (x: unknown) => unknown)(v);
              accepted++;
              if ((method === 'now' || method === 'jiffies') !== (typeof r === 'bigint')) fail('VirtualClock', `${label}.${method}(${l}) returned ${String(r)}`);
            } catch (e) {
              throws++;
              if (!coded(e) && !callers(e)) fail('VirtualClock', `${label}.${method}(${l}) threw ${describeE(e)}`);
            }
          }
        } finally {
          clock.uninstall();
        }
        return virt.active ? 'still installed after uninstall()' : null;
      });

      // The rest on a virtual clock: timers never fire on their own nor keep the process alive.
      vc = installVirtualClock();
      // A callback from the pool that throws (`class {}` called as a function) is the caller's
      // error: the advance reports it after finishing, as ktimers/testing documents.
      let callbackErrors = 0;
      const advance = (ns: bigint) => {
        try {
          vc!.advanceNs(ns);
        } catch (e) {
          for (const x of e instanceof AggregateError ? e.errors : [e]) {
            callbackErrors++;
            if (!(x instanceof TypeError && /Class constructor/.test(x.message))) fail('advance', `a timer callback threw ${describeE(x)}`);
          }
        }
      };
      const promise = (value: (v: unknown) => boolean) => (target: string) => (r: unknown, label: string) => (track(target, label, r, value), null);
      fuzz('sleep', 2, TUPLES, P.sleep as (...a: unknown[]) => unknown, promise(isUndef)('sleep'));
      fuzz('sleepUntil', 2, TUPLES, P.sleepUntil as (...a: unknown[]) => unknown, promise(isUndef)('sleepUntil'));
      fuzz('interval', 2, TUPLES, P.interval as (...a: unknown[]) => unknown, (it, label) => {
        const i = it as AsyncIterableIterator<bigint>;
        if (typeof i?.next !== 'function' || typeof i.return !== 'function' || i[Symbol.asyncIterator]() !== i) return `returned ${String(it)}`;
        track('interval', `${label}.next()`, i.next(), iterResult);
        if (rnd() < 0.5) advance(pick([1n, 1_000_000n, 1_000_000_000n]));
        track('interval', `${label}.return()`, i.return!(), iterResult, true);
        return null;
      });
      advance(1_000_000_000n);

      fuzz('new HighResTimer', 2, TUPLES, (...a) => new (k.HighResTimer as new (...x: unknown[]) => unknown)(...a), (t) => {
        if (!(t instanceof k.HighResTimer)) return `made ${String(t)}`;
        timers.push(t);
        return null;
      });
      timers.push(new k.HighResTimer(cb), new k.HighResTimer(cb, { clock: k.CLOCK_REALTIME, ref: false }));
      const HRT = k.HighResTimer.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
      const chain = ['start', 'startAt', 'restart', 'refresh', 'unref', 'ref'];
      for (const m of [...chain, 'cancel', 'hasRef']) {
        fuzz(`HighResTimer#${m}`, m.startsWith('start') ? 2 : 0, TUPLES, function (...a) {
          // Mostly a real timer; sometimes another object as `this` (a detached method).
          const self = rnd() < 0.85 ? pick(timers) : pick(pool)[1];
          return HRT[m]!.apply(self, a);
        }, (r) => (chain.includes(m) ? (r instanceof k.HighResTimer ? null : `returned ${String(r)}`) : typeof r === 'boolean' ? null : `returned ${String(r)}`));
        if (rnd() < 0.5) advance(pick([1_000n, 1_000_000n, 1_000_000_000n]));
      }
      const getter = (C: { prototype: object }, name: string) => Object.getOwnPropertyDescriptor(C.prototype, name)!.get!;
      for (const [g, type] of [['pending', 'boolean'], ['expires', 'bigint'], ['period', 'bigint'], ['overruns', 'bigint'], ['clock', 'number']] as const) {
        const get = getter(k.HighResTimer, g);
        fuzz(`HighResTimer#${g}`, 0, TUPLES / 4, () => get.call(rnd() < 0.85 ? pick(timers) : pick(pool)[1]), (r) => (typeof r === type ? null : `read ${String(r)}`));
      }

      fuzz('new WorkQueue', 1, TUPLES / 4, (...a) => new (k.WorkQueue as new (...x: unknown[]) => unknown)(...a), (q) => {
        if (!(q instanceof k.WorkQueue)) return `made ${String(q)}`;
        queues.push(q);
        return null;
      });
      queues.push(new k.WorkQueue({ name: 'fuzz-facade' }), new k.WorkQueue({ ordered: true }));
      const WQP = k.WorkQueue.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
      const anyQueue = () => (rnd() < 0.9 ? pick(queues) : pick(pool)[1]);
      fuzz('WorkQueue#queue', 3, TUPLES, function (...a) {
        return WQP.queue!.apply(anyQueue(), a);
      }, promise(isUndef)('WorkQueue#queue'));
      fuzz('WorkQueue#flush', 0, TUPLES / 4, function (...a) {
        return WQP.flush!.apply(anyQueue(), a);
      }, (r, label) => (track('WorkQueue#flush', label, r, isUndef, true), null));
      for (const [g, type] of [['name', 'string'], ['closed', 'boolean'], ['size', 'number']] as const) {
        const get = getter(k.WorkQueue, g);
        fuzz(`WorkQueue#${g}`, 0, TUPLES / 4, () => get.call(anyQueue()), (r) => (typeof r === type ? null : `read ${String(r)}`));
      }
      // close last (a closed queue refuses queue() with ERR_KTIMERS_WQ_CLOSED: also fuzzed above for the ones closed early)
      fuzz('WorkQueue#close', 0, TUPLES / 4, function (...a) {
        return WQP.close!.apply(rnd() < 0.9 ? pick(queues.slice(2)) ?? queues[0] : pick(pool)[1], a);
      }, (r, label) => (track('WorkQueue#close', label, r, isUndef, true), null));
      // Queues closed (or closing) by now: queue() must reject with ERR_KTIMERS_WQ_CLOSED or a bad-argument code.
      const closed = queues.filter((q) => q.closed);
      if (closed.length > 0) {
        fuzz('WorkQueue#queue (closed)', 3, TUPLES / 4, function (...a) {
          return WQP.queue!.apply(pick(closed), a);
        }, promise(isUndef)('WorkQueue#queue (closed)'));
      }
      advance(10_000_000_000n);
      callbackErrorsSeen = callbackErrors;
    } finally {
      for (const t of timers) t.cancel();
      vc?.uninstall();
      ac.abort();
      const closing = queues.map((q) => q.close());
      const deadline = Date.now() + 20_000;
      while (tracked.some((t) => t.mustSettle && !t.settled) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await Promise.all(closing);
      spy.mockRestore();
    }
    const unsettled = tracked.filter((t) => t.mustSettle && !t.settled).map((t) => t.label);
    if (failures.length) throw new Error(`fuzz failures (KTIMERS_FUZZ_SEED=${process.env.KTIMERS_FUZZ_SEED ?? 0x6b7469}):\n${failures.join('\n')}`);
    console.log(
      `fuzz (idiomatic layer, ktimers/testing): seed ${SEED}, ${calls} calls (${throws} threw with a code or the caller's own error, ${accepted} returned; ` +
        `${tracked.length} promises, ${rejected} rejected with a code), ${timers.length} HighResTimers, ${queues.length} WorkQueues, ${callbackRuns} callbacks (+${callbackErrorsSeen} that threw), ${warnings.length} warnings`,
    );
    expect(unsettled).toEqual([]);
    expect(coercions - before).toBe(0); // no valueOf / toString / toPrimitive of a hostile object was called
    expect(Object.keys(getterHits).length).toBeGreaterThan(3); // options are read (and a throwing getter propagates)
    expect(calls).toBeGreaterThan(25_000);
    expect(accepted).toBeGreaterThan(5_000);
    expect(throws + rejected).toBeGreaterThan(5_000);
    for (const [, opts] of warnings) {
      expect(opts).toMatchObject({ type: 'KtimersWarning', code: expect.stringMatching(/^KTIMERS_WARN_/) });
    }
  }, 120_000);
});

// --- the native binding itself ----------------------------------------------

describe('native binding validates its own arguments', () => {
  let armedT: k.hrtimer;
  let slot: number;
  beforeAll(() => {
    // Arming through the public API initialises the engine (native.init) lazily.
    armedT = new k.hrtimer();
    k.hrtimer_setup(armedT, noop, k.CLOCK_MONOTONIC, k.HRTIMER_MODE_REL);
    k.hrtimer_start(armedT, 60n * k.NSEC_PER_SEC, k.HRTIMER_MODE_REL);
    slot = timerFields.slot(armedT);
  });
  afterAll(() => {
    if (k.hrtimer_active(armedT)) k.hrtimer_cancel(armedT);
  });

  it('the engine is initialised and the armed timer owns a queue slot', () => {
    expect(native.state().initialized).toBe(true);
    expect(typeof slot).toBe('number');
    expect(slot).toBeGreaterThanOrEqual(0);
  });

  it('init again → TypeError ERR_KTIMERS_ALREADY_INITIALIZED (whatever the argument)', () => {
    for (const a of [() => {}, 'x', undefined]) {
      expectError(() => (native.init as (x: unknown) => unknown)(a), T, 'ERR_KTIMERS_ALREADY_INITIALIZED', `init(${typeof a})`);
    }
    expect(k.hrtimer_is_queued(armedT)).toBe(true);
  });

  it('program / setRef: every argument checked, the timerfds and the loop ref untouched on rejection', () => {
    const before = native.state();
    const ok = [0, 1n, 2n, 3n, 4] as const;
    const bad: [number, unknown, typeof TypeError | typeof RangeError, string][] = [
      [0, -1, R, OOR], [0, 4, R, OOR], [0, 1.5, R, OOR], [0, NaN, R, OOR], [0, '0', T, ARG], [0, 0n, T, ARG], [0, undefined, T, ARG], [0, null, T, ARG],
      // the wake-up: a ktime_t, or null for none (INT64_MIN is the "none" mark, refused as a time)
      [1, 1, T, ARG], [1, '1', T, ARG], [1, undefined, T, ARG], [1, 1n << 63n, R, OOR], [1, MIN - 1n, R, OOR], [1, MIN, R, OOR],
      [2, 1, T, ARG], [2, '1', T, ARG], [2, 1n << 63n, R, OOR], [2, MIN, R, OOR],
      [3, 1, T, ARG], [3, undefined, T, ARG], [3, null, T, ARG], [3, 1n << 64n, R, OOR],
      // spin budget: ns in [0, 1e9]
      [4, -1, R, OOR], [4, 1e9 + 1, R, OOR], [4, 1.5, R, OOR], [4, NaN, R, OOR], [4, '1', T, ARG], [4, 1n, T, ARG], [4, undefined, T, ARG],
    ];
    for (const [i, v, cls, code] of bad) {
      const args: unknown[] = [...ok];
      args[i] = v;
      expectError(() => (native.program as (...a: unknown[]) => unknown)(...args), cls, code, `program arg ${i} = ${String(v)}`);
    }
    for (const r of [1, 'true', undefined, null, 0]) {
      expectError(() => (native.setRef as (r: unknown) => void)(r), T, ARG, `setRef(${String(r)})`);
    }
    const after = native.state();
    expect([after.programmed, after.refd]).toEqual([before.programmed, before.refd]);
    expect(k.hrtimer_is_queued(armedT)).toBe(true);
    expect(timerFields.slot(armedT)).toBe(slot);
  });

  it('now / clockRes: clock indices only', () => {
    for (const [c, cls, code] of [
      [-1, R, OOR], [5, R, OOR], [1.5, R, OOR], [NaN, R, OOR], [Infinity, R, OOR], ['0', T, ARG], [0n, T, ARG], [undefined, T, ARG], [null, T, ARG],
    ] as const) {
      expectError(() => (native.now as (x: unknown) => bigint)(c), cls, code, `now(${String(c)})`);
      expectError(() => (native.clockRes as (x: unknown) => bigint)(c), cls, code, `clockRes(${String(c)})`);
    }
    expect(typeof native.now(0)).toBe('bigint');
    expect(native.clockRes(0)).toBeGreaterThan(0n);
  });

  it('in a fresh environment (worker) every engine call before init is ERR_KTIMERS_NOT_INITIALIZED', async () => {
    const url = new URL('../dist/binding.js', import.meta.url).href;
    const src = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(url)}).then(({ native }) => {
        const codes = [];
        const tryit = (f) => { try { f(); codes.push('no throw'); } catch (e) { codes.push(e.constructor.name + ' ' + e.code); } };
        tryit(() => native.program(0, null));
        tryit(() => native.setRef(true));
        parentPort.postMessage({ codes, initialized: native.state().initialized, now: typeof native.now(0) });
      });`;
    const w = new Worker(src, { eval: true });
    const msg = await new Promise<any>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(msg).toEqual({
      codes: Array(2).fill('TypeError ERR_KTIMERS_NOT_INITIALIZED'),
      initialized: false,
      now: 'bigint',
    });
  });
});

// --- ktimers/testing ----------------------------------------------------------

/**
 * If an installVirtualClock() call threw but left the thread on the virtual
 * timeline (no handle to uninstall it), undo it as uninstall() would, so one
 * failing test does not take the rest of the file with it. Return: whether it had to.
 */
function repairHalfInstall(): boolean {
  if (!virt.active) return false;
  cancelVirtual();
  TL.uninstallVirtualWheel();
  virt.active = false;
  virt.errors = [];
  setMonotonicSource(null);
  k.get_jiffies_64();
  return true;
}

describe('ktimers/testing: installVirtualClock and its clock validate their arguments', () => {
  let clock: VirtualClock | null = null;
  const install = (options?: unknown): VirtualClock => (clock = installVirtualClock(options as VirtualClockOptions));
  afterEach(() => {
    if (clock !== null && virt.active) clock.uninstall();
    clock = null;
    repairHalfInstall();
  });

  it('options that are not an object → TypeError ERR_INVALID_ARG_TYPE, nothing installed', () => {
    const before = coercions;
    for (const [label, v] of [
      ['null', null], ['number', 1], ['string', 'x'], ['bigint', 1n], ['symbol', Symbol('o')], ['boolean', true], ['function', () => ({})],
    ] as const) {
      expectError(() => install(v), T, ARG, `installVirtualClock(${label})`);
      expect(virt.active).toBe(false);
    }
    expect(coercions - before).toBe(0);
  });

  it('startJiffies neither a bigint nor a number → TypeError; not a safe integer, negative or ≥ 2^62 → RangeError; nothing installed', () => {
    const before = coercions;
    const bad: Bad[] = [
      // undefined (and, through `??`, null) mean the default, INITIAL_JIFFIES
      ...notNumbers().filter(([label]) => label !== 'undefined' && label !== 'null'),
      // safe-integer numbers (5, 0, -0) are jiffies as every jiffies parameter takes them: not here
      ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR], ['-1', () => -1, R, OOR], ['2^53', () => 2 ** 53, R, OOR],
      ['-1n', () => -1n, R, OOR], ['KTIME_MIN', () => MIN, R, OOR], ['2^62', () => 1n << 62n, R, OOR], ['2^64', () => 1n << 64n, R, OOR],
    ];
    const failures: string[] = [];
    for (const [label, make, cls, code] of bad) {
      const e = thrown(() => expectError(() => install({ startJiffies: make() }), cls, code, `startJiffies = ${label}`));
      if (e !== undefined) failures.push(e.message);
      if (repairHalfInstall()) failures.push(`startJiffies = ${label}: left the virtual clock installed`);
    }
    expect(failures).toEqual([]);
    expect(coercions - before).toBe(0);
  });

  it('a throwing options getter propagates as is, and nothing is installed', () => {
    const boom = new Error('getter');
    const e = thrown(() => install({ get startJiffies(): never { throw boom; } }));
    expect(e).toBe(boom);
    expect(virt.active).toBe(false);
    install({ startJiffies: 0n }); // and a later install works
    expect(clock!.jiffies()).toBe(0n);
  });

  // Either the install is refused with RangeError ERR_OUT_OF_RANGE and leaves the
  // thread on the real clocks, or every clock reads a valid ktime_t on it.
  it('a startJiffies whose virtual clocks do not fit a ktime_t is refused, and nothing is half-installed', () => {
    const edge = k.INITIAL_JIFFIES + MAX / k.TICK_NSEC; // CLOCK_MONOTONIC just fits; CLOCK_REALTIME (= it + ~1.7e18 ns) does not
    const failures: string[] = [];
    for (const start of [(1n << 62n) - 1n, edge + 1n, edge]) {
      const label = `installVirtualClock({ startJiffies: ${start}n })`;
      const e = thrown(() => install({ startJiffies: start }));
      if (e === undefined) {
        const reads = [k.ktime_get, k.ktime_get_real, k.ktime_get_boottime, k.ktime_get_clocktai, k.ktime_get_raw].map((f) => f());
        if (!reads.every((v) => v >= MIN && v <= MAX)) failures.push(`${label}: installed, but the clocks read ${reads.join(', ')}`);
        clock!.uninstall();
        clock = null;
      } else {
        if (e?.code !== OOR || !(e instanceof RangeError)) failures.push(`${label}: threw ${e?.constructor?.name} ${e?.code}`);
        if (repairHalfInstall()) failures.push(`${label}: threw ${e?.code} (${e?.message}) but left the virtual clock installed`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('advanceNs / advanceJiffies: bad amounts → TypeError / RangeError with codes, time unchanged', () => {
    const c = install();
    const t0 = c.now();
    const before = coercions;
    const bad: Bad[] = [
      ...notNumbers(),
      ['-1', () => -1, R, OOR], ['-1n', () => -1n, R, OOR], ['1.5', () => 1.5, R, OOR], ['NaN', () => NaN, R, OOR],
      ['Infinity', () => Infinity, R, OOR], ['-Infinity', () => -Infinity, R, OOR], ['2^53 (unsafe)', () => 2 ** 53, R, OOR],
      ['2^62+1', () => (1n << 62n) + 1n, R, OOR], ['2^64', () => 1n << 64n, R, OOR],
    ];
    const failures: string[] = [];
    for (const method of ['advanceNs', 'advanceJiffies'] as const) {
      for (const [label, make, cls, code] of bad) {
        const e = thrown(() => expectError(() => c[method](make() as bigint), cls, code, `${method}(${label})`));
        if (e !== undefined) failures.push(e.message);
      }
    }
    expect(failures).toEqual([]);
    expect(coercions - before).toBe(0);
    expect(c.now()).toBe(t0);
    c.advanceNs(-0);
    c.advanceJiffies(0n);
    expect(c.now()).toBe(t0);
  });

  // Either the advance is refused with RangeError ERR_OUT_OF_RANGE and the clock
  // stays where it was, or every clock still reads a valid ktime_t.
  it('an advance that would take the clocks past KTIME_MAX is refused, and the clock does not move', () => {
    const c = install();
    c.advanceNs(1n << 62n);
    const failures: string[] = [];
    for (const [label, advance] of [
      ['advanceNs(2^62) again', () => c.advanceNs(1n << 62n)],
      ['advanceJiffies(2^62)', () => c.advanceJiffies(1n << 62n)],
    ] as const) {
      const t0 = c.now();
      const e = thrown(advance);
      const t1 = c.now();
      const jiffiesOk = thrown(() => k.get_jiffies_64()) === undefined;
      if (e === undefined) {
        const reads = [k.ktime_get, k.ktime_get_real, k.ktime_get_boottime, k.ktime_get_clocktai, k.ktime_get_raw].map((f) => f());
        if (!reads.every((v) => v >= MIN && v <= MAX) || !jiffiesOk) failures.push(`${label}: accepted, clocks now ${reads.join(', ')}`);
      } else {
        if (e?.code !== OOR || !(e instanceof RangeError)) failures.push(`${label}: threw ${e?.constructor?.name} ${e?.code}`);
        if (t1 !== t0 || !jiffiesOk) {
          failures.push(`${label}: threw ${e?.code} but moved the clock from ${t0} to ${t1} ns (get_jiffies_64 ${jiffiesOk ? 'works' : 'throws'})`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('a second install → ERR_KTIMERS_VIRTUAL_CLOCK_INSTALLED; an uninstalled clock → ERR_KTIMERS_VIRTUAL_CLOCK_UNINSTALLED', () => {
    const c = install();
    const again = thrown(() => installVirtualClock());
    expect(again).toBeInstanceOf(k.KtimersError);
    expect(again.code).toBe('ERR_KTIMERS_VIRTUAL_CLOCK_INSTALLED');
    // Checked before the options are: even bad options get this answer.
    expect(thrown(() => installVirtualClock({ startJiffies: 'x' as never }))?.code).toBe('ERR_KTIMERS_VIRTUAL_CLOCK_INSTALLED');
    expect(c.uninstall()).toBe(0);
    clock = null;
    expect(virt.active).toBe(false);
    for (const [label, call] of [
      ['now()', () => c.now()], ['jiffies()', () => c.jiffies()], ['uninstall()', () => c.uninstall()],
      ['advanceNs(1)', () => c.advanceNs(1)], ['advanceJiffies(1)', () => c.advanceJiffies(1)],
      ['advanceJiffies(-1)', () => c.advanceJiffies(-1)],
    ] as const) {
      const e = thrown(call);
      expect(e, label).toBeInstanceOf(k.KtimersError);
      expect(e.code, label).toBe('ERR_KTIMERS_VIRTUAL_CLOCK_UNINSTALLED');
    }
    // A stale handle cannot drive a newer installation.
    const d = install();
    expect(thrown(() => c.advanceJiffies(1))?.code).toBe('ERR_KTIMERS_VIRTUAL_CLOCK_UNINSTALLED');
    expect(thrown(() => c.uninstall())?.code).toBe('ERR_KTIMERS_VIRTUAL_CLOCK_UNINSTALLED');
    expect(virt.active).toBe(true);
    expect(d.now()).toBe(0n);
  });
});
