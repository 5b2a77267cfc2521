/**
 * The clocks' wake-ups: what each real clock's timerfd is programmed for, and
 * whether the loop is kept alive. @internal
 *
 * The queues are JS (./hrtimer-queue.ts) and the timerfds native
 * (native/addon.cc): native code only learns what it must. A clock's timerfd
 * is programmed for the earliest hard expiry of its two real bases (hard and
 * SOFT), or for a spinning timer's earlier wake-up; the engine calls
 * syncClock() when an arm may have moved that earlier, when a cancel or a pass
 * may have changed it, and nothing crosses into native code unless it did
 * change. A timer moving later leaves the timerfd as it is: the next wake-up
 * may come early and finds nothing due (one wasted wake-up instead of a
 * syscall per re-arm); every wake-up re-syncs the clocks that fired, so that
 * one programs the timerfd for the real earliest expiry. The loop is kept alive while ref'd timers are armed on
 * the real bases: the engine counts them here, and native code hears of it
 * only when the count crosses zero.
 */
import { native } from '../binding.js';
import * as Q from './hrtimer-queue.js';

/** armed, ref'd timers on the real bases: the loop is kept alive while > 0 */
let refCount = 0;
/** what native code was last told (setRef) */
let nativeRefd = false;
let refsDeferred = false;
/** armed, ref'd timers on the real bases */
export const refCountNow = (): number => refCount;

// What each real clock's timerfd was last asked for (`program()`): the wake-up
// (progSet false: none; also stored as the queue's mark c, to compare with a
// slot's expiry without allocating) and, when spinning timers are armed on it,
// their spin.
const prog: bigint[] = [0n, 0n, 0n, 0n];
const progSet = [false, false, false, false];
const progSpin: (string | null)[] = [null, null, null, null];
/** Spinning entries of each clock's two real bases: slot → spin (ns). */
export const spinners: Map<number, number>[] = [new Map(), new Map(), new Map(), new Map()];
/** Clocks whose earliest wake-up may have changed during a pass: synced at its end. */
let dirtyClocks = 0;
/** Marks clock c for a sync at the end of the pass (or the next arm). */
export function markDirty(c: number): void {
  dirtyClocks |= 1 << c;
}
/** Marks every clock of the mask (bit c: clock c). */
export function markDirtyMask(mask: number): void {
  dirtyClocks |= mask;
}
/** Whether clock c was marked, and unmarks it. */
export function takeDirty(c: number): boolean {
  const d = (dirtyClocks & (1 << c)) !== 0;
  dirtyClocks &= ~(1 << c);
  return d;
}
/** Armed slot s moves clock c's wake-up earlier (or it had none). */
export const earlier = (c: number, s: number): boolean => !progSet[c] || Q.hardBeforeMark(s, c);


export function refInc(): void {
  refCount++;
  if (!nativeRefd && !refsDeferred) syncRef();
}
export function refDec(): void {
  refCount--;
  if (refCount === 0 && !refsDeferred) syncRef();
}
/** Tells native code whether the loop is kept alive, if that changed. */
export function syncRef(): void {
  const want = refCount > 0;
  if (want === nativeRefd) return;
  nativeRefd = want;
  native.setRef(want);
}
/**
 * During an expiry pass the count may touch zero and rise again with every
 * periodic timer (it leaves the queue, then re-arms): native code hears of it
 * once, at the pass's end (the loop cannot exit inside the pass anyway), not
 * on the way to each callback.
 */
export function deferRefs(on: boolean): void {
  refsDeferred = on;
  if (!on) syncRef();
}

/** Wake-up of a spinning entry: hard − spin, never below the s64 range. */
function wakeOf(hard: bigint, spin: number): bigint {
  const w = hard - BigInt(spin);
  return w <= -(2n ** 63n) ? -(2n ** 63n) + 1n : w;
}

/**
 * Tells native code clock `c`'s earliest wake-up (the earliest hard expiry of
 * its two real bases, or a spinning entry's earlier wake-up) and its spin,
 * when they differ from what it was told last. `onlyEarlier`: an arm, which
 * moves the wake-up only earlier (a timer moving later leaves the timerfd as it
 * is: the next wake-up may come early and finds nothing due).
 */
export function syncClock(c: number, onlyEarlier: boolean): void {
  const a = Q.top(c);
  const b = Q.top(c + 4);
  const s = a < 0 ? b : b < 0 ? a : Q.hardBefore(b, a) ? b : a;
  const sp = spinners[c]!;
  if (sp.size === 0 && progSpin[c] === null) {
    if (s < 0) {
      if (onlyEarlier || !progSet[c]) return;
      progSet[c] = false;
      native.program(c, null);
      return;
    }
    if (progSet[c] && (onlyEarlier ? !Q.hardBeforeMark(s, c) : Q.hardIsMark(s, c))) return;
    const want = Q.hardOf(s);
    prog[c] = want;
    Q.setMark(c, want);
    progSet[c] = true;
    native.program(c, want);
    return;
  }
  // Spinning timers (rare): the wake-up is the earliest of the hard expiry and
  // the spinners' own; native code spins from the earliest spinner's wake-up to
  // the first spinner's due time (soft on a hard base, hard on a SOFT one).
  let want: bigint | null = s < 0 ? null : Q.hardOf(s);
  let spinWake: bigint | null = null;
  let spinDue = 0n;
  let budget = 0;
  for (const [slot, spin] of sp) {
    const h = Q.hardOf(slot);
    const w = wakeOf(h, spin);
    const due = Q.baseA[slot]! >= 4 ? h : Q.softOf(slot);
    if (spinWake === null || w < spinWake) {
      if (spinWake === null) spinDue = due;
      spinWake = w;
      budget = spin;
    }
    if (due < spinDue) spinDue = due;
  }
  if (spinWake !== null && (want === null || spinWake < want)) want = spinWake;
  if (onlyEarlier && progSet[c] && (want === null || want >= prog[c]!)) want = prog[c]!;
  const sig = spinWake === null ? null : `${spinWake}/${spinDue}/${budget}`;
  const same = want === null ? !progSet[c] : progSet[c] && want === prog[c]!;
  if (same && sig === progSpin[c]) return;
  progSpin[c] = sig;
  if (want === null) progSet[c] = false;
  else {
    prog[c] = want;
    Q.setMark(c, want);
    progSet[c] = true;
  }
  native.program(c, want, spinWake, spinDue, budget);
}

/** Syncs the clocks whose wake-up a pass may have changed. */
export function syncDirty(): void {
  const d = dirtyClocks;
  dirtyClocks = 0;
  for (let c = 0; c < 4; c++) if (d & (1 << c)) syncClock(c, false);
}

