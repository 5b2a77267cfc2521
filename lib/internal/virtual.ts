/**
 * Per-thread virtual timeline state for ktimers/testing (see lib/testing.ts).
 * Every clock read of the package goes through clockNs(), so installing the
 * virtual clock moves ktime_get*, hrtimer_cb_get_time and jiffies together.
 * @internal
 */
import { native } from '../binding.js';

export const virt = {
  active: false,
  /** virtual CLOCK_MONOTONIC, ns */
  now: 0n,
  /** per clock index (MONOTONIC, REALTIME, BOOTTIME, TAI, MONOTONIC_RAW): offset from monotonic */
  offset: [0n, 0n, 0n, 0n, 0n],
  /** errors raised by callbacks during an advance, rethrown by it */
  errors: [] as unknown[],
  /** advance calls running (nested ones count): only their errors are held for them */
  advancing: 0,
};

/** Now on clock index 0..4 (MONOTONIC, REALTIME, BOOTTIME, TAI, MONOTONIC_RAW). */
export function clockNs(clock: number): bigint {
  return virt.active ? virt.now + virt.offset[clock]! : native.now(clock);
}

/**
 * Where callback errors go: 'uncaughtException' normally, the advance call when
 * raised during one. Errors raised outside an advance while the virtual clock is
 * installed (a work function's failure, reaped from the event loop; a timer armed
 * on the real clock before install) take the usual path too: held for "the next
 * advance" they would be misattributed, or dropped by uninstall.
 */
export function reportError(err: unknown): void {
  if (virt.active && virt.advancing > 0) {
    virt.errors.push(err);
    return;
  }
  process.nextTick(() => {
    throw err;
  });
}
