// Seeded, randomized model-based test of the hrtimer engine on the virtual clock.
//
// A small reference model of the kernel's hrtimer rules (kernel/time/hrtimer.c), written
// from those rules and not from lib/, is driven with the same long random operation
// sequences as the real implementation; every callback (timer, virtual now) and every
// API return value is logged on both sides and the logs must match exactly after each
// operation, and the full timer state (queued/active/soft/hard) after each advance.
//
// Model (kernel rules):
// - 8 clock bases: MONOTONIC, REALTIME, BOOTTIME, TAI (hard), then their SOFT twins.
//   Each is a queue ordered by (hard expiry, arming sequence): FIFO among equal expiries.
// - start_range_ns(t, tim, range, mode): remove if queued; REL → tim = add_safe(tim,
//   clock now); soft = tim; hard = add_safe(tim, (s64)range); insert. hrtimer_start =
//   start_range_ns(…, 0, …); start_expires = start at soft with range hard − soft.
//   REL + CLOCK_REALTIME at setup runs on CLOCK_MONOTONIC.
// - try_to_cancel: -1 running, 1 queued (removed), 0 inactive. cancel: same, except
//   on its own running callback (kernel: hangs; ktimers: throws ERR_KTIMERS_DEADLOCK).
// - hrtimer_forward: kernel/time/hrtimer.c's hrtimer_forward() (plain add of orun·interval, then
//   add_safe of one more interval).
// - Expiry pass at time t: hard bases 0..3, then soft bases 4..7; within a base take
//   the leftmost timer, stop at the first whose SOFT expiry > base now, else remove it,
//   mark it running, run the callback; RESTART re-queues with its current expiry unless
//   already queued (new sequence number: behind equal expiries).
// - Virtual clock advance(target) (lib/testing.ts): while the earliest hard expiry over
//   all queued timers (on the monotonic timeline) is ≤ target, move now to it (never
//   backwards) and run a hard pass, then a soft pass if a soft base's earliest hard
//   expiry has come (the kernel's softirq gate); finally now = target.
//
// Callbacks decide what to do from a PRNG seeded by (sequence seed, timer, virtual now,
// run number at that instant), so the model and the implementation take the same
// decisions as long as they agree.
//
// Env: KTIMERS_SEED=<n> runs only that sequence seed (printed on failure);
//      KTIMERS_SEED=random picks a random base seed; KTIMERS_SEQS / KTIMERS_OPS override
//      the number of sequences / operations per sequence; KTIMERS_MODEL_SKIP=range,negabs
//      leaves features out of the generated sequences (see below).
import { describe, expect, it } from 'vitest';
import * as k from '../dist/index.js';
import { installVirtualClock, type VirtualClock } from '../dist/testing.js';
import { mulberry32, turn } from './helpers.js';

const KTIME_MAX = (1n << 63n) - 1n;
/**
 * KTIMERS_MODEL_SKIP=range,negabs leaves features out of the generated sequences, to look
 * past a known finding: `range` makes every range 0 (soft == hard), `negabs` raises
 * negative absolute expiries to 0.
 */
const skip = new Set((process.env.KTIMERS_MODEL_SKIP ?? '').split(',').filter(Boolean));
const noRange = skip.has('range');
const noNegAbs = skip.has('negabs');
const U64_MAX = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------


function mix(a: number, b: number): number {
  let h = (a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

class Rng {
  private r: () => number;
  constructor(seed: number) {
    this.r = mulberry32(seed);
  }
  next(): number {
    return this.r();
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  /** uniform bigint in [lo, hi] (span < 2^53) */
  big(lo: bigint, hi: bigint): bigint {
    return lo + BigInt(Math.floor(this.r() * Number(hi - lo + 1n)));
  }
  /** index chosen by weights */
  weighted(ws: number[]): number {
    const total = ws.reduce((a, b) => a + b, 0);
    let x = this.r() * total;
    for (let i = 0; i < ws.length; i++) {
      x -= ws[i]!;
      if (x < 0) return i;
    }
    return ws.length - 1;
  }
}

// ---------------------------------------------------------------------------
// Kernel arithmetic (include/linux/ktime.h)
// ---------------------------------------------------------------------------

/** ktime_add_safe: wrapping sum; negative or smaller than an operand → KTIME_MAX. */
function ktimeAddSafe(lhs: bigint, rhs: bigint): bigint {
  const res = BigInt.asIntN(64, lhs + rhs);
  return res < 0n || res < lhs || res < rhs ? KTIME_MAX : res;
}

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};

// ---------------------------------------------------------------------------
// Sequence configuration and operations
// ---------------------------------------------------------------------------

const CLOCKS = [k.CLOCK_MONOTONIC, k.CLOCK_REALTIME, k.CLOCK_BOOTTIME, k.CLOCK_TAI];
const CLOCK_IDX = new Map<number, number>([
  [k.CLOCK_MONOTONIC, 0],
  [k.CLOCK_REALTIME, 1],
  [k.CLOCK_BOOTTIME, 2],
  [k.CLOCK_TAI, 3],
]);

interface TimerSpec {
  clockid: number;
  setupMode: number;
  soft: boolean;
}

interface Cfg {
  seed: number;
  nTimers: number;
  /** time scale of the sequence, ns */
  S: bigint;
  /** grid for equal expiries */
  G: bigint;
  startJiffies: bigint | undefined;
  nOps: number;
  timers: TimerSpec[];
}

/** Expiry spec, resolved against the timer's clock at the moment it is used. */
type TimeSpec = { k: 'd'; d: bigint } | { k: 'g'; n: bigint } | { k: 'a'; v: bigint } | { k: 'max' };

type Op =
  | { k: 'start'; id: number; how: 'start' | 'range' | 'expires'; rel: boolean; t: TimeSpec; range: bigint; bits: number }
  | { k: 'try'; id: number }
  | { k: 'cancel'; id: number }
  | { k: 'fwd'; id: number; iv: bigint }
  | { k: 'setexp'; id: number; t: TimeSpec; range: bigint }
  | { k: 'query'; id: number }
  | { k: 'adv'; ns: bigint };

function makeCfg(seed: number, nOps: number): Cfg {
  const r = new Rng(mix(seed, 0xc0ffee));
  const nTimers = 6 + r.int(40);
  const S = r.chance(0.5) ? 1000n : r.chance(0.5) ? 1_000_000n : 50n;
  const G = S / 4n > 0n ? S / 4n : 1n;
  // Mostly a positive monotonic start (so "in the past" means positive times, as on a
  // real system); sometimes mono = 0, so the past is negative (ktime_add_safe quirks).
  const startJiffies = r.chance(0.3) ? undefined : k.INITIAL_JIFFIES + BigInt(1000 + r.int(1_000_000));
  const timers: TimerSpec[] = [];
  for (let i = 0; i < nTimers; i++) {
    const clockid = CLOCKS[r.weighted([6, 1, 2, 2])]!;
    const soft = r.chance(0.4);
    let setupMode = r.chance(0.5) ? k.HRTIMER_MODE_ABS : k.HRTIMER_MODE_REL;
    if (soft) setupMode |= k.HRTIMER_MODE_SOFT;
    else if (r.chance(0.2)) setupMode |= k.HRTIMER_MODE_HARD;
    timers.push({ clockid, setupMode, soft });
  }
  return { seed, nTimers, S, G, startJiffies, nOps, timers };
}

function genTime(r: Rng, cfg: Cfg): TimeSpec {
  const S = cfg.S;
  switch (r.weighted([15, 8, 30, 30, 15, 2, 3])) {
    case 6:
      return { k: 'a', v: r.big(-3n * S, 3n * S) }; // an absolute time near 0: negative if mono started at 0
    case 0:
      return { k: 'd', d: -r.big(1n, 3n * S) }; // in the past
    case 1:
      return { k: 'd', d: 0n }; // now
    case 2:
      return { k: 'g', n: BigInt(r.int(13) - 2) }; // on a shared grid: equal expiries
    case 3:
      return { k: 'd', d: r.big(1n, 2n * S) };
    case 4:
      return { k: 'd', d: r.big(2n * S, 20n * S) };
    default:
      return { k: 'max' };
  }
}

function genRange(r: Rng, cfg: Cfg): bigint {
  if (noRange) return 0n;
  switch (r.weighted([55, 25, 12, 5, 3])) {
    case 0:
      return 0n;
    case 1:
      return r.big(1n, cfg.S);
    case 2:
      return r.big(0n, 4n * cfg.S);
    case 3:
      return cfg.G;
    default:
      return U64_MAX - r.big(0n, 10n); // ≥ 2^63: a negative ktime_t
  }
}

function genInterval(r: Rng, cfg: Cfg): bigint {
  switch (r.weighted([80, 8, 6, 6])) {
    case 0:
      return r.big(1n, 2n * cfg.S);
    case 1:
      return cfg.G;
    case 2:
      return 0n; // < hrtimer_resolution → 1 ns
    default:
      return -r.big(1n, 100n);
  }
}

function genAdvance(r: Rng, cfg: Cfg): bigint {
  const S = cfg.S;
  switch (r.weighted([10, 30, 35, 20, 5])) {
    case 0:
      return 0n;
    case 1:
      return r.big(1n, S / 4n > 1n ? S / 4n : 1n);
    case 2:
      return r.big(1n, 2n * S);
    case 3:
      return r.big(2n * S, 10n * S);
    default:
      return r.big(10n * S, 100n * S);
  }
}

function genStartBits(r: Rng, soft: boolean): number {
  let bits = soft ? k.HRTIMER_MODE_SOFT : r.chance(0.2) ? k.HRTIMER_MODE_HARD : 0;
  if (r.chance(0.2)) bits |= k.HRTIMER_MODE_PINNED;
  if (r.chance(0.05)) bits |= k.HRTIMER_MODE_LAZY_REARM;
  return bits;
}

function genOps(cfg: Cfg): Op[] {
  const r = new Rng(mix(cfg.seed, 0x0b5));
  const ops: Op[] = [];
  for (let i = 0; i < cfg.nOps; i++) {
    const id = r.int(cfg.nTimers);
    const soft = cfg.timers[id]!.soft;
    switch (r.weighted([25, 15, 4, 10, 7, 4, 3, 4, 28])) {
      case 0:
        ops.push({ k: 'start', id, how: 'start', rel: r.chance(0.5), t: genTime(r, cfg), range: 0n, bits: genStartBits(r, soft) });
        break;
      case 1:
        ops.push({ k: 'start', id, how: 'range', rel: r.chance(0.5), t: genTime(r, cfg), range: genRange(r, cfg), bits: genStartBits(r, soft) });
        break;
      case 2:
        ops.push({ k: 'start', id, how: 'expires', rel: r.chance(0.3), t: { k: 'd', d: 0n }, range: 0n, bits: genStartBits(r, soft) });
        break;
      case 3:
        ops.push({ k: 'try', id });
        break;
      case 4:
        ops.push({ k: 'cancel', id });
        break;
      case 5:
        ops.push({ k: 'fwd', id, iv: genInterval(r, cfg) });
        break;
      case 6:
        ops.push({ k: 'setexp', id, t: genTime(r, cfg), range: genRange(r, cfg) });
        break;
      case 7:
        ops.push({ k: 'query', id });
        break;
      default:
        ops.push({ k: 'adv', ns: genAdvance(r, cfg) });
    }
  }
  return ops;
}

function fmtTime(t: TimeSpec): string {
  if (t.k === 'd') return `now${t.d >= 0n ? '+' : ''}${t.d}`;
  if (t.k === 'g') return `grid[${t.n}]`;
  if (t.k === 'a') return `abs ${t.v}`;
  return 'KTIME_MAX';
}

function fmtOp(op: Op): string {
  switch (op.k) {
    case 'start':
      if (op.how === 'expires') return `hrtimer_start_expires(#${op.id}, ${modeName(op.bits | (op.rel ? 1 : 0))})`;
      return `${op.how === 'start' ? 'hrtimer_start' : 'hrtimer_start_range_ns'}(#${op.id}, ${fmtTime(op.t)}${
        op.how === 'range' ? `, range=${op.range}` : ''
      }, ${modeName(op.bits | (op.rel ? 1 : 0))})`;
    case 'try':
      return `hrtimer_try_to_cancel(#${op.id})`;
    case 'cancel':
      return `hrtimer_cancel(#${op.id})`;
    case 'fwd':
      return `hrtimer_forward_now(#${op.id}, ${op.iv}) unless queued`;
    case 'setexp':
      return `hrtimer_set_expires_range_ns(#${op.id}, ${fmtTime(op.t)}, ${op.range}) unless queued`;
    case 'query':
      return `query(#${op.id})`;
    case 'adv':
      return `advanceNs(${op.ns})`;
  }
}

// ---------------------------------------------------------------------------
// The API both sides expose to the shared driver and callback code
// ---------------------------------------------------------------------------

interface Ctx {
  seed: number;
  cfg: Cfg;
  cbCount: number;
  apiCalls: number;
  log: string[];
  runsAt: bigint;
  runs: Map<number, number>;
}

interface Api {
  ctx: Ctx;
  nowMono(): bigint;
  /** hrtimer_cb_get_time: now of the timer's clock */
  clockNow(id: number): bigint;
  clockid(id: number): number;
  startRange(id: number, tim: bigint, range: bigint, mode: number): void;
  start(id: number, tim: bigint, mode: number): void;
  startExpires(id: number, mode: number): void;
  tryCancel(id: number): number;
  cancel(id: number): string;
  forwardNow(id: number, iv: bigint): bigint;
  setExpiresRangeNs(id: number, time: bigint, delta: bigint): void;
  isQueued(id: number): boolean;
  isActive(id: number): boolean;
  isRunning(id: number): boolean;
  soft(id: number): bigint;
  hard(id: number): bigint;
  remaining(id: number): bigint;
  /** advances the virtual clock; returns '' or a description of what it threw */
  advance(ns: bigint): string;
}

/**
 * Absolute times are placed on the monotonic timeline and translated into the timer's
 * clock. The virtual clock takes the other clocks' offsets from the real clocks at
 * install, which jitter by a few ns between runs; placing times relative to monotonic
 * keeps a seed's behaviour identical from run to run (only printed values differ).
 */
function resolve(api: Api, id: number, t: TimeSpec, rel: boolean, G: bigint): bigint {
  if (t.k === 'max') return KTIME_MAX;
  const now = api.clockNow(id);
  const mono = api.nowMono();
  const off = now - mono;
  let abs: bigint;
  if (t.k === 'd') abs = now + t.d;
  else if (t.k === 'g') abs = (floorDiv(mono, G) + t.n) * G + off;
  // near 0 on CLOCK_MONOTONIC (negative when mono started at 0); on the other clocks
  // (offset > 0) keep it non-negative so its sign cannot depend on the offset
  else abs = api.clockid(id) === k.CLOCK_MONOTONIC ? t.v : (t.v < 0n ? -t.v : t.v) + off;
  if (noNegAbs && abs < 0n) abs = 0n;
  return rel ? abs - now : abs;
}

function doStart(api: Api, id: number, how: 'start' | 'range' | 'expires', rel: boolean, tim: bigint, range: bigint, bits: number): string {
  const mode = (rel ? k.HRTIMER_MODE_REL : k.HRTIMER_MODE_ABS) | bits;
  api.ctx.apiCalls++;
  if (how === 'start') {
    api.start(id, tim, mode);
    return `start#${id}(${tim},m${mode})`;
  }
  if (how === 'range') {
    api.startRange(id, tim, range, mode);
    return `range#${id}(${tim},${range},m${mode})`;
  }
  api.startExpires(id, mode);
  return `start_expires#${id}(m${mode})`;
}

function stateOf(api: Api, id: number): string {
  return `${api.isQueued(id) ? 'Q' : '-'}${api.isRunning(id) ? 'R' : '-'}${api.isActive(id) ? 'A' : '-'}`;
}

function snapshot(api: Api): string {
  const parts: string[] = [`now=${api.nowMono()}`];
  for (let id = 0; id < api.ctx.cfg.nTimers; id++) {
    parts.push(`#${id}:${stateOf(api, id)}:${api.soft(id)},${api.hard(id)}`);
  }
  return parts.join(' ');
}

/** A top-level operation. */
function applyOp(api: Api, op: Op): void {
  const { log, cfg } = api.ctx;
  switch (op.k) {
    case 'start': {
      const tim = op.how === 'expires' ? 0n : resolve(api, op.id, op.t, op.rel, cfg.G);
      log.push(doStart(api, op.id, op.how, op.rel, tim, op.range, op.bits));
      break;
    }
    case 'try':
      api.ctx.apiCalls++;
      log.push(`try#${op.id}=${api.tryCancel(op.id)}`);
      break;
    case 'cancel':
      api.ctx.apiCalls++;
      log.push(`cancel#${op.id}=${api.cancel(op.id)}`);
      break;
    case 'fwd':
      // On a queued timer the kernel WARNs; keep to the legal case.
      if (api.isQueued(op.id)) log.push(`fwd#${op.id} skipped(queued)`);
      else {
        api.ctx.apiCalls++;
        log.push(`fwd#${op.id}=${api.forwardNow(op.id, op.iv)} -> ${api.soft(op.id)},${api.hard(op.id)}`);
      }
      break;
    case 'setexp':
      if (api.isQueued(op.id)) log.push(`setexp#${op.id} skipped(queued)`);
      else {
        const time = resolve(api, op.id, op.t, false, cfg.G);
        api.ctx.apiCalls++;
        api.setExpiresRangeNs(op.id, time, op.range);
        log.push(`setexp#${op.id}(${time},${op.range}) -> ${api.soft(op.id)},${api.hard(op.id)}`);
      }
      break;
    case 'query':
      api.ctx.apiCalls += 5;
      log.push(`query#${op.id}=${stateOf(api, op.id)} ${api.soft(op.id)},${api.hard(op.id)} rem=${api.remaining(op.id)}`);
      break;
    case 'adv': {
      api.ctx.apiCalls++;
      const thrown = api.advance(op.ns);
      log.push(`adv(${op.ns})${thrown ? ' THREW ' + thrown : ''} now=${api.nowMono()}`);
      break;
    }
  }
}

/** Every callback, on both sides. Decisions come from (seed, callback counter). */
function callbackBody(api: Api, id: number): number | undefined {
  const ctx = api.ctx;
  const { cfg, log } = ctx;
  ctx.cbCount++;
  // Decisions keyed by (seed, timer, virtual now, run number of this timer at this
  // instant): the same on both sides, and stable when shrinking drops unrelated ops.
  const now = api.nowMono();
  if (now !== ctx.runsAt) {
    ctx.runsAt = now;
    ctx.runs.clear();
  }
  const nth = (ctx.runs.get(id) ?? 0) + 1;
  ctx.runs.set(id, nth);
  const r = new Rng(mix(mix(mix(ctx.seed, id), Number(BigInt.asUintN(32, now))), Number(BigInt.asUintN(32, now >> 32n)) ^ (nth << 20)));
  log.push(`cb#${id} @${api.nowMono()} t=${api.clockNow(id)} ${stateOf(api, id)}`);
  const nActions = r.weighted([40, 40, 20]);
  for (let i = 0; i < nActions; i++) {
    const a = r.weighted([30, 18, 8, 10, 10, 12, 12]);
    const other = r.int(cfg.nTimers);
    switch (a) {
      case 0:
      case 4: {
        // hrtimer_start of another timer (a == 0) or of itself (a == 4), possibly in the past
        const target = a === 0 ? other : id;
        const rel = r.chance(0.5);
        const how = r.chance(0.7) ? 'start' : 'range';
        const tim = resolve(api, target, genTime(r, cfg), rel, cfg.G);
        const range = how === 'range' ? genRange(r, cfg) : 0n;
        const bits = genStartBits(r, cfg.timers[target]!.soft);
        log.push('  ' + doStart(api, target, how, rel, tim, range, bits));
        break;
      }
      case 1:
        ctx.apiCalls++;
        log.push(`  try#${other}=${api.tryCancel(other)}`);
        break;
      case 2:
        ctx.apiCalls++;
        log.push(`  try#${id}(self)=${api.tryCancel(id)}`);
        break;
      case 3:
        // other may be the timer itself: ERR_KTIMERS_DEADLOCK
        ctx.apiCalls++;
        log.push(`  cancel#${other}=${api.cancel(other)}`);
        break;
      case 5:
        ctx.apiCalls += 3;
        log.push(`  query#${other}=${stateOf(api, other)} ${api.soft(other)},${api.hard(other)}`);
        break;
      default:
        ctx.apiCalls += 2;
        log.push(`  self=${stateOf(api, id)} ${api.soft(id)},${api.hard(id)}`);
    }
  }
  const ret = r.weighted([45, 5, 40, 10]);
  if (ret === 0) return k.HRTIMER_NORESTART;
  if (ret === 1) return undefined; // void callback = NORESTART
  if (ret === 2) {
    // forward_now + RESTART (hrtimer_forward on a queued timer would WARN: skip it then)
    if (api.isQueued(id)) {
      log.push('  fwd skipped(queued) RESTART');
      return k.HRTIMER_RESTART;
    }
    ctx.apiCalls++;
    const orun = api.forwardNow(id, genInterval(r, cfg));
    log.push(`  fwd=${orun} -> ${api.soft(id)},${api.hard(id)}`);
    // A soft expiry still ≤ now would re-run in this pass forever (kernel livelock).
    if (api.soft(id) <= api.clockNow(id)) {
      log.push('  NORESTART(soft still due)');
      return k.HRTIMER_NORESTART;
    }
    return k.HRTIMER_RESTART;
  }
  // RESTART without forwarding: only when already queued (a no-op then)
  return api.isQueued(id) ? k.HRTIMER_RESTART : k.HRTIMER_NORESTART;
}

// ---------------------------------------------------------------------------
// The real implementation
// ---------------------------------------------------------------------------

function errCode(e: unknown): string {
  if (e instanceof AggregateError) return `Aggregate[${e.errors.map(errCode).join(',')}]`;
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'string' ? c : String(e);
}

class ImplSide implements Api {
  ctx: Ctx;
  clock: VirtualClock;
  ts: k.hrtimer[] = [];
  constructor(ctx: Ctx) {
    this.ctx = ctx;
    const cfg = ctx.cfg;
    this.clock = installVirtualClock(cfg.startJiffies === undefined ? {} : { startJiffies: cfg.startJiffies });
    for (let id = 0; id < cfg.nTimers; id++) {
      const t = new k.hrtimer();
      const spec = cfg.timers[id]!;
      k.hrtimer_setup(t, () => callbackBody(this, id) as k.hrtimer_restart, spec.clockid, spec.setupMode);
      this.ts.push(t);
    }
  }
  /** offsets of the clocks from MONOTONIC on the virtual timeline */
  offsets(): bigint[] {
    const m = k.ktime_get();
    return [0n, k.ktime_get_real() - m, k.ktime_get_boottime() - m, k.ktime_get_clocktai() - m];
  }
  uninstall(): void {
    this.clock.uninstall();
  }
  nowMono() {
    return this.clock.now();
  }
  clockNow(id: number) {
    return k.hrtimer_cb_get_time(this.ts[id]!);
  }
  clockid(id: number) {
    return this.ts[id]!.clockid;
  }
  startRange(id: number, tim: bigint, range: bigint, mode: number) {
    k.hrtimer_start_range_ns(this.ts[id]!, tim, range, mode);
  }
  start(id: number, tim: bigint, mode: number) {
    k.hrtimer_start(this.ts[id]!, tim, mode);
  }
  startExpires(id: number, mode: number) {
    k.hrtimer_start_expires(this.ts[id]!, mode);
  }
  tryCancel(id: number) {
    return k.hrtimer_try_to_cancel(this.ts[id]!);
  }
  cancel(id: number) {
    try {
      return String(k.hrtimer_cancel(this.ts[id]!));
    } catch (e) {
      return `throw:${errCode(e)}`;
    }
  }
  forwardNow(id: number, iv: bigint) {
    return k.hrtimer_forward_now(this.ts[id]!, iv);
  }
  setExpiresRangeNs(id: number, time: bigint, delta: bigint) {
    k.hrtimer_set_expires_range_ns(this.ts[id]!, time, delta);
  }
  isQueued(id: number) {
    return k.hrtimer_is_queued(this.ts[id]!);
  }
  isActive(id: number) {
    return k.hrtimer_active(this.ts[id]!);
  }
  isRunning(id: number) {
    return k.hrtimer_callback_running(this.ts[id]!);
  }
  soft(id: number) {
    return k.hrtimer_get_softexpires(this.ts[id]!);
  }
  hard(id: number) {
    return k.hrtimer_get_expires(this.ts[id]!);
  }
  remaining(id: number) {
    return k.hrtimer_get_remaining(this.ts[id]!);
  }
  advance(ns: bigint) {
    try {
      this.clock.advanceNs(ns);
      return '';
    } catch (e) {
      return errCode(e);
    }
  }
}

// ---------------------------------------------------------------------------
// The reference model (kernel rules)
// ---------------------------------------------------------------------------

interface MTimer {
  id: number;
  /** clock index 0..3 (MONOTONIC, REALTIME, BOOTTIME, TAI) */
  clock: number;
  /** clock base 0..7 */
  base: number;
  soft: bigint;
  hard: bigint;
  seq: number;
  queued: boolean;
  running: boolean;
}

class ModelSide implements Api {
  ctx: Ctx;
  now: bigint;
  off: bigint[];
  seq = 0;
  bases: MTimer[][] = [[], [], [], [], [], [], [], []];
  ts: MTimer[] = [];
  constructor(ctx: Ctx, startMono: bigint, off: bigint[]) {
    this.ctx = ctx;
    this.now = startMono;
    this.off = off;
    for (let id = 0; id < ctx.cfg.nTimers; id++) {
      const spec = ctx.cfg.timers[id]!;
      let clock = CLOCK_IDX.get(spec.clockid)!;
      if (clock === 1 && spec.setupMode & k.HRTIMER_MODE_REL) clock = 0; // REL + REALTIME → MONOTONIC
      const base = clock + (spec.setupMode & k.HRTIMER_MODE_SOFT ? 4 : 0);
      this.ts.push({ id, clock, base, soft: 0n, hard: 0n, seq: 0, queued: false, running: false });
    }
  }
  private enqueue(t: MTimer): void {
    t.seq = ++this.seq;
    const q = this.bases[t.base]!;
    // after every entry with a smaller or equal hard expiry: FIFO among equals
    let i = q.length;
    while (i > 0 && q[i - 1]!.hard > t.hard) i--;
    q.splice(i, 0, t);
    t.queued = true;
  }
  private dequeue(t: MTimer): boolean {
    if (!t.queued) return false;
    const q = this.bases[t.base]!;
    q.splice(q.indexOf(t), 1);
    t.queued = false;
    return true;
  }
  private baseNow(clock: number): bigint {
    return this.now + this.off[clock]!;
  }
  nowMono() {
    return this.now;
  }
  clockNow(id: number) {
    return this.baseNow(this.ts[id]!.clock);
  }
  clockid(id: number) {
    return CLOCKS[this.ts[id]!.clock]!;
  }
  startRange(id: number, tim: bigint, range: bigint, mode: number) {
    const t = this.ts[id]!;
    this.dequeue(t);
    if (mode & k.HRTIMER_MODE_REL) tim = ktimeAddSafe(tim, this.baseNow(t.clock));
    t.soft = tim;
    t.hard = ktimeAddSafe(tim, BigInt.asIntN(64, range)); // ns_to_ktime(u64)
    this.enqueue(t);
  }
  start(id: number, tim: bigint, mode: number) {
    this.startRange(id, tim, 0n, mode);
  }
  startExpires(id: number, mode: number) {
    const t = this.ts[id]!;
    const delta = BigInt.asUintN(64, BigInt.asIntN(64, t.hard - t.soft));
    this.startRange(id, t.soft, delta, mode);
  }
  tryCancel(id: number) {
    const t = this.ts[id]!;
    if (t.running) return -1;
    return this.dequeue(t) ? 1 : 0;
  }
  cancel(id: number) {
    const t = this.ts[id]!;
    if (t.running) return 'throw:ERR_KTIMERS_DEADLOCK'; // the kernel would spin forever
    return String(this.dequeue(t) ? 1 : 0);
  }
  forwardNow(id: number, interval: bigint) {
    const t = this.ts[id]!;
    const now = this.baseNow(t.clock);
    const delta = BigInt.asIntN(64, now - t.hard);
    if (delta < 0n) return 0n;
    if (t.queued) return 0n; // WARN
    if (interval < 1n) interval = 1n; // hrtimer_resolution
    let orun = 1n;
    if (delta >= interval) {
      orun = delta / interval;
      const incr = BigInt.asUintN(64, interval * orun);
      t.hard = BigInt.asIntN(64, t.hard + incr);
      t.soft = BigInt.asIntN(64, t.soft + incr);
      if (t.hard > now) return orun;
      orun++;
    }
    t.hard = ktimeAddSafe(t.hard, interval);
    t.soft = ktimeAddSafe(t.soft, interval);
    return orun;
  }
  setExpiresRangeNs(id: number, time: bigint, delta: bigint) {
    const t = this.ts[id]!;
    t.soft = time;
    t.hard = ktimeAddSafe(time, BigInt.asIntN(64, delta));
  }
  isQueued(id: number) {
    return this.ts[id]!.queued;
  }
  isActive(id: number) {
    return this.ts[id]!.queued || this.ts[id]!.running;
  }
  isRunning(id: number) {
    return this.ts[id]!.running;
  }
  soft(id: number) {
    return this.ts[id]!.soft;
  }
  hard(id: number) {
    return this.ts[id]!.hard;
  }
  remaining(id: number) {
    return BigInt.asIntN(64, this.ts[id]!.hard - this.clockNow(id));
  }
  /** Earliest hard expiry over all bases, on the monotonic timeline. */
  private nextEvent(): bigint | null {
    let best: bigint | null = null;
    for (let b = 0; b < 8; b++) {
      const t = this.bases[b]![0];
      if (t === undefined) continue;
      const mono = t.hard - this.off[b & 3]!;
      if (best === null || mono < best) best = mono;
    }
    return best;
  }
  private runBase(b: number): void {
    const q = this.bases[b]!;
    const basenow = this.baseNow(b & 3);
    for (;;) {
      const t = q[0];
      if (t === undefined || t.soft > basenow) break;
      q.shift();
      t.queued = false;
      t.running = true;
      const ret = callbackBody(this, t.id);
      t.running = false;
      if (ret === k.HRTIMER_RESTART && !t.queued) this.enqueue(t);
    }
  }
  advance(ns: bigint) {
    const target = this.now + ns;
    for (;;) {
      let next = this.nextEvent();
      if (next === null || next > target) break;
      if (next < this.now) next = this.now;
      this.now = next;
      for (let b = 0; b < 4; b++) this.runBase(b); // hard interrupt
      // HRTIMER_SOFTIRQ is raised only once a soft base's earliest *hard* expiry
      // has come (kernel: softirq_expires_next), not at every interrupt.
      let softirq = false;
      for (let b = 4; b < 8; b++) {
        const t = this.bases[b]![0];
        if (t !== undefined && t.hard <= this.baseNow(b & 3)) softirq = true;
      }
      if (softirq) for (let b = 4; b < 8; b++) this.runBase(b);
    }
    if (target > this.now) this.now = target;
    return '';
  }
}

// ---------------------------------------------------------------------------
// Driver, shrinking, reporting
// ---------------------------------------------------------------------------

interface Failure {
  at: number;
  what: string;
  expected: string[];
  actual: string[];
}

interface RunResult {
  failure: Failure | null;
  ops: number;
  callbacks: number;
  apiCalls: number;
  /** per-op logs of the implementation (when recorded) */
  history?: string[][];
}

function runSequence(cfg: Cfg, ops: Op[], record = false): RunResult {
  const newCtx = (): Ctx => ({ seed: cfg.seed, cfg, cbCount: 0, apiCalls: 0, log: [], runsAt: -1n, runs: new Map() });
  const ictx = newCtx();
  const mctx = newCtx();
  const impl = new ImplSide(ictx);
  const history: string[][] = [];
  let failure: Failure | null = null;
  let done = 0;
  try {
    const model = new ModelSide(mctx, impl.nowMono(), impl.offsets());
    const setupI: string[] = [];
    const setupM: string[] = [];
    for (let id = 0; id < cfg.nTimers; id++) {
      setupI.push(`#${id} clockid=${impl.clockid(id)}`);
      setupM.push(`#${id} clockid=${model.clockid(id)}`);
    }
    if (setupI.join() !== setupM.join()) return { failure: { at: -1, what: 'setup', expected: setupM, actual: setupI }, ops: 0, callbacks: 0, apiCalls: 0 };
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      ictx.log = [];
      mctx.log = [];
      try {
        applyOp(impl, op);
      } catch (e) {
        ictx.log.push(`THREW ${errCode(e)}: ${(e as Error)?.stack ?? e}`);
      }
      applyOp(model, op);
      if (record) history.push(ictx.log);
      done = i + 1;
      const a = ictx.log.join('\n');
      const b = mctx.log.join('\n');
      if (a !== b) {
        failure = { at: i, what: 'log', expected: mctx.log, actual: ictx.log };
        break;
      }
      if (op.k === 'adv' || op.k === 'start' || i % 16 === 0) {
        const si = snapshot(impl);
        const sm = snapshot(model);
        if (si !== sm) {
          // only the entries that differ (timer state or now)
          const e = sm.split(' ');
          const a = si.split(' ');
          const keep = e.map((x, j) => x !== a[j]);
          failure = { at: i, what: 'state', expected: e.filter((_, j) => keep[j]), actual: a.filter((_, j) => keep[j]) };
          break;
        }
      }
    }
  } finally {
    impl.uninstall();
  }
  return { failure, ops: done, callbacks: ictx.cbCount, apiCalls: ictx.apiCalls, ...(record ? { history } : {}) };
}

/** ddmin-style: remove chunks of operations while the run still fails; cut at the failing op. */
function shrink(cfg: Cfg, ops: Op[], budgetMs: number): Op[] {
  const deadline = Date.now() + budgetMs;
  let cur = ops;
  let chunk = Math.max(1, Math.floor(cur.length / 2));
  while (Date.now() < deadline) {
    let removed = false;
    for (let i = 0; i < cur.length && Date.now() < deadline; ) {
      const cand = cur.slice(0, i).concat(cur.slice(i + chunk));
      const res = runSequence(cfg, cand);
      if (res.failure !== null) {
        cur = cand.slice(0, res.failure.at + 1);
        removed = true;
      } else i += chunk;
    }
    if (chunk === 1 && !removed) {
      // Last: merge runs of consecutive advances into one.
      let merged = false;
      for (let i = 0; i + 1 < cur.length && Date.now() < deadline; i++) {
        const a = cur[i]!;
        const b = cur[i + 1]!;
        if (a.k !== 'adv' || b.k !== 'adv') continue;
        const cand = cur.slice(0, i).concat([{ k: 'adv', ns: a.ns + b.ns }], cur.slice(i + 2));
        const res = runSequence(cfg, cand);
        if (res.failure !== null) {
          cur = cand.slice(0, res.failure.at + 1);
          merged = true;
          i--;
        }
      }
      if (!merged) break;
      continue;
    }
    if (!removed) chunk = Math.max(1, Math.floor(chunk / 2));
    chunk = Math.min(chunk, Math.max(1, cur.length));
  }
  return cur;
}

function diffLines(expected: string[], actual: string[]): string {
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
  const out = expected.slice(0, i).map((l) => `    ${l}`);
  const tail = (xs: string[]) => xs.slice(i, i + 12).concat(xs.length > i + 12 ? ['…'] : []);
  out.push('  expected (model) from here:');
  for (const l of tail(expected)) out.push(`  - ${l}`);
  out.push('  actual (ktimers) from here:');
  for (const l of tail(actual)) out.push(`  + ${l}`);
  return out.join('\n');
}

const CLOCK_NAME = new Map<number, string>([
  [k.CLOCK_REALTIME, 'CLOCK_REALTIME'],
  [k.CLOCK_MONOTONIC, 'CLOCK_MONOTONIC'],
  [k.CLOCK_BOOTTIME, 'CLOCK_BOOTTIME'],
  [k.CLOCK_TAI, 'CLOCK_TAI'],
]);

function modeName(m: number): string {
  const parts = [m & k.HRTIMER_MODE_REL ? 'REL' : 'ABS'];
  if (m & k.HRTIMER_MODE_PINNED) parts.push('PINNED');
  if (m & k.HRTIMER_MODE_SOFT) parts.push('SOFT');
  if (m & k.HRTIMER_MODE_HARD) parts.push('HARD');
  if (m & k.HRTIMER_MODE_LAZY_REARM) parts.push('LAZY_REARM');
  return parts.join('|');
}

function report(cfg: Cfg, ops: Op[]): string {
  const res = runSequence(cfg, ops, true);
  const f = res.failure;
  const lines: string[] = [];
  lines.push(`hrtimer model mismatch — seed ${cfg.seed} (rerun: KTIMERS_SEED=${cfg.seed} npx vitest run test/model-hrtimer.test.ts)`);
  lines.push(
    `sequence: ${cfg.nTimers} timers, S=${cfg.S} ns, G=${cfg.G} ns, start mono=${
      cfg.startJiffies === undefined ? 0n : (cfg.startJiffies - k.INITIAL_JIFFIES) * k.TICK_NSEC
    }`,
  );
  const used = new Set<number>();
  for (const op of ops) if ('id' in op) used.add(op.id);
  // Timers referenced anywhere in the logs too (callbacks act on other timers).
  for (const h of res.history ?? []) for (const l of h) for (const m of l.matchAll(/#(\d+)/g)) used.add(Number(m[1]));
  if (f) for (const l of f.expected.concat(f.actual)) for (const m of l.matchAll(/#(\d+)/g)) used.add(Number(m[1]));
  for (const id of [...used].sort((a, b) => a - b)) {
    const s = cfg.timers[id]!;
    lines.push(`  timer #${id}: hrtimer_setup(${CLOCK_NAME.get(s.clockid)}, ${modeName(s.setupMode)})`);
  }
  lines.push(`minimal failing sequence (${ops.length} ops), with the ktimers log of each:`);
  ops.forEach((op, i) => {
    lines.push(`  [${i}] ${fmtOp(op)}`);
    if (f && i === f.at) {
      lines.push(`      mismatch in ${f.what}:`);
      lines.push(diffLines(f.expected, f.actual).replace(/^/gm, '      '));
    } else for (const l of res.history?.[i] ?? []) lines.push(`        ${l}`);
  });
  if (!f) lines.push('  (the shrunk sequence no longer fails on a rerun!)');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------

const envSeed = process.env.KTIMERS_SEED;
const envSeqs = process.env.KTIMERS_SEQS ? Number(process.env.KTIMERS_SEQS) : undefined;
const envOps = process.env.KTIMERS_OPS ? Number(process.env.KTIMERS_OPS) : undefined;

function seedList(): number[] {
  if (envSeed !== undefined && envSeed !== 'random') return [Number(envSeed) >>> 0];
  const base = envSeed === 'random' ? (Math.random() * 2 ** 32) >>> 0 : 0x6b74696d; // 'ktim'
  const n = envSeqs ?? 60;
  return Array.from({ length: n }, (_, i) => mix(base, i));
}

describe('hrtimer engine vs a reference model of the kernel rules (seeded random sequences)', () => {
  it('agrees on every callback (timer, now), return value and timer state', async () => {
    const t0 = Date.now();
    let ops = 0;
    let callbacks = 0;
    let apiCalls = 0;
    const seeds = seedList();
    for (const seed of seeds) {
      // Each sequence installs and uninstalls its own virtual clock: between two, a turn of
      // the event loop lets this fork answer vitest's RPC (a minute's limit) on a slow machine.
      await turn();
      const cfg = makeCfg(seed, envOps ?? 4000);
      const all = genOps(cfg);
      const res = runSequence(cfg, all);
      ops += res.ops;
      callbacks += res.callbacks;
      apiCalls += res.apiCalls;
      if (res.failure !== null) {
        const min = shrink(cfg, all.slice(0, res.failure.at + 1), 10_000);
        const text = report(cfg, min);
        console.error(text);
        expect.fail(text);
      }
    }
    console.log(
      `model-hrtimer: ${seeds.length} sequences, ${ops} operations, ${callbacks} callbacks, ` +
        `${apiCalls} hrtimer API calls, ${Date.now() - t0} ms`,
    );
  }, 120_000);
});
