/**
 * s64 (ktime_t) arithmetic on 32-bit words, for the hrtimer queues. @internal
 *
 * The queues keep expiries in a BigInt64Array and read them through Int32 /
 * Uint32 views of the same memory (lib/internal/hrtimer-queue.ts): writing a
 * bigint allocates nothing, reading one back does. What the hot paths compute
 * on expiries is done here on the words, so that an arm or a comparison
 * allocates no bigint.
 */

// Which 32-bit half of an s64 comes first in memory.
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Index of an s64's low word (unsigned) in a Uint32 view of its memory. */
export const LO = LE ? 0 : 1;
/** Index of an s64's high word (signed) in an Int32 view of its memory. */
export const HI = LE ? 1 : 0;

const TWO32 = 4294967296;

/** The result of {@link addSafeWords}: high word (signed), low word (unsigned). */
export let sumHi = 0;
/** @see sumHi */
export let sumLo = 0;

/**
 * ktime_add_safe() of the s64s (aHi, aLo) and (bHi, bLo) into sumHi, sumLo:
 * the wrapping 64-bit sum, saturated to KTIME_MAX when it is negative or below
 * either operand (the kernel's rule, its negative-operand quirk included).
 */
export function addSafeWords(aHi: number, aLo: number, bHi: number, bLo: number): void {
  let lo = aLo + bLo;
  let carry = 0;
  if (lo >= TWO32) {
    lo -= TWO32;
    carry = 1;
  }
  const hi = (aHi + bHi + carry) | 0; // wraps as the kernel's u64 sum does
  if (hi < 0 || hi < aHi || (hi === aHi && lo < aLo) || hi < bHi || (hi === bHi && lo < bLo)) {
    sumHi = 0x7fffffff;
    sumLo = 0xffffffff;
  } else {
    sumHi = hi;
    sumLo = lo;
  }
}
