/**
 * Unchecked 64-bit helpers for hot paths. Not exported from the package: the
 * public, validated forms are in lib/ktime.ts.
 * @internal
 */
import { S64_MAX } from './validate.js';

/** ktime_add_safe() on already-validated s64 bigints. */
export function addSafe(lhs: bigint, rhs: bigint): bigint {
  const res = BigInt.asIntN(64, lhs + rhs);
  return res < 0n || res < lhs || res < rhs ? S64_MAX : res; // KTIME_MAX
}
