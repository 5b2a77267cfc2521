/**
 * `struct timer_list` and what is stored in it: the TIMER_* flags, the private
 * state word `#st` (setup, running, unref'd, which wheel, the slot), the
 * compact form of `expires`, and the count of pending timers that keep the
 * process alive.
 *
 * Why a file of its own: the class is the one object users hold; everything
 * that must stay true of it whatever a user writes to its public fields
 * (`function`, `flags`, `expires`) is decided here, by true `#private` fields
 * that a `static {}` block hands to the driver (driver.ts) and the API
 * (index.ts) as module-private accessors. The driver decides where a timer
 * sits and when it runs; this file only records it.
 */
import { refreshJiffies } from '../internal/jiffies-clock.js';

/** timer_list flags (`include/linux/timer.h`): bits 0–17 hold the CPU number (always 0 here). */
export const TIMER_CPUMASK = 0x0003ffff;
/** Flag bit: the timer is moving between CPUs (never set here: one CPU). */
export const TIMER_MIGRATING = 0x00040000;
/** TIMER_CPUMASK | TIMER_MIGRATING. */
export const TIMER_BASEMASK = TIMER_CPUMASK | TIMER_MIGRATING;
/**
 * Flag for {@link timer_setup}: the timer never wakes an idle CPU (the process,
 * here); it runs at the next wake-up that happens anyway, and never keeps the
 * process alive.
 */
export const TIMER_DEFERRABLE = 0x00080000;
/** Flag for {@link timer_setup}: expire on the CPU that armed it (BASE_LOCAL). One CPU here. */
export const TIMER_PINNED = 0x00100000;
/** Flag for {@link timer_setup}: the callback runs with interrupts off, so timer_delete_sync() is allowed from hard IRQ. */
export const TIMER_IRQSAFE = 0x00200000;
/** The flags a user may pass to {@link timer_setup}: DEFERRABLE | PINNED | IRQSAFE. */
export const TIMER_INIT_FLAGS = TIMER_DEFERRABLE | TIMER_PINNED | TIMER_IRQSAFE;
/** Bit position of the wheel bucket index within `flags` (the kernel's bookkeeping; 0 here). */
export const TIMER_ARRAYSHIFT = 22;
/** Mask of the wheel bucket index within `flags`. */
export const TIMER_ARRAYMASK = 0xffc00000;


/**
 * A timer_list callback: receives the timer (your subclass instance, if any).
 * It runs in softirq context on the JS thread and may re-arm the timer with
 * {@link mod_timer}; it cannot be async.
 */
export type TimerCallback<T extends timer_list = timer_list> = (timer: T) => void;

// A timer's private state word, `#st`: (slot + 1) << ST_SHIFT | bits. Private,
// so no user write can point a timer at another timer's slot, and one Smi
// instead of five fields keeps a pending timer small (memory per pending timer
// is a target of the wheel). The accessors are closures made inside the class
// body, where `#st` is in scope, handed to the driver and the API of this
// folder by export; V8 inlines them.
export const ST_SETUP = 1; // timer_setup() was called
export const ST_RUNNING = 2; // its callback is running
export const ST_UNREF = 4; // unref()'d: does not keep the process alive
export const ST_VIRTUAL = 8; // its slot is in the virtual wheel (else the real one)
export const ST_BITS = ST_SETUP | ST_RUNNING | ST_UNREF | ST_VIRTUAL;
export const ST_SHIFT = 4;
export const ST_ONE = 1 << ST_SHIFT; // slot + 1 = 1

export let stOf: (t: timer_list) => number;
export let setSt: (t: timer_list, v: number) => void;
let isTimerList: (o: unknown) => o is timer_list;

/** The timer's slot in its wheel, or -1 when not pending. */
export const slotOf = (st: number): number => (st >>> ST_SHIFT) - 1;

// `timer.expires` is stored, when it can be, as a small integer: its offset
// from the jiffy this module loaded at, if within ±2^30 jiffies (±12 days at
// HZ=1000, ±124 days at HZ=100). V8 keeps such a value inside the object (a
// Smi), where a bigint is a separate heap allocation per timer — the
// largest item in a pending timer's memory after the object itself. Any other
// value (a far or wrapped expiry, or whatever a caller wrote there) is kept
// as given, so the field is only ever a Smi or not a number at all (a double
// there would make V8 box every timer's field). Reading `expires` rebuilds
// the bigint: an allocation per read, which only user code does.
const EXP_BASE = refreshJiffies();
const EXP_BASE_N = Number(EXP_BASE);
const EXP_LIM = 2 ** 30;
const EXP_LO = EXP_BASE - BigInt(EXP_LIM);
const EXP_HI = EXP_BASE + BigInt(EXP_LIM);

/** The stored form of a validated expiry whose `Number()` is `num` (NaN beyond 2^53). */
export function encodeExpires(expires: bigint | number, num: number): unknown {
  const off = num - EXP_BASE_N;
  if (off > -EXP_LIM && off < EXP_LIM) return off;
  return typeof expires === 'number' ? BigInt(expires) : expires;
}

/** A non-bigint written to `timer.expires`, kept for add_timer() to refuse (a number there would read as an offset). */
class RawExpires {
  constructor(readonly value: unknown) {}
}

/** A jiffies value given as a number: a non-negative safe integer. */
export const isJiffiesNumber = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The stored form of anything written to `timer.expires` (a valid number is kept as its bigint). */
function encodeAny(v: unknown): unknown {
  if (isJiffiesNumber(v)) return encodeExpires(v, v);
  if (typeof v !== 'bigint') return new RawExpires(v);
  return v > EXP_LO && v < EXP_HI ? Number(v - EXP_BASE) : v;
}

export let expOf: (t: timer_list) => unknown;
export let setExp: (t: timer_list, v: unknown) => void;

/**
 * `struct timer_list`. Set up with {@link timer_setup} (or {@link DEFINE_TIMER});
 * `expires` is absolute jiffies (a bigint), writable before {@link add_timer}.
 * Subclass it to embed your own fields: the callback receives the same object.
 */
export class timer_list {
  #exp: unknown = 0n;
  /** The callback; null after timer_shutdown (re-arming is then ignored). */
  function: TimerCallback<any> | null = null;
  /** TIMER_* flags (CPU bits are 0: one CPU). */
  flags = 0;
  #st = 0;

  /**
   * Absolute expiry in jiffies (`unsigned long`): reads as a bigint; a
   * non-negative safe-integer number may be written too (kept as its bigint).
   */
  get expires(): bigint {
    const v = this.#exp;
    if (typeof v === 'number') return BigInt(v) + EXP_BASE;
    return (v instanceof RawExpires ? v.value : v) as bigint;
  }
  set expires(v: bigint | number) {
    // Any value is accepted here, as a C field would be; add_timer() checks it.
    this.#exp = encodeAny(v);
  }

  static {
    expOf = (t) => t.#exp;
    setExp = (t, v) => {
      t.#exp = v;
    };
    stOf = (t) => t.#st;
    setSt = (t, v) => {
      t.#st = v;
    };
    // `#st in o` runs no Proxy trap and cannot be faked by a duck-typed object.
    isTimerList = (o): o is timer_list => typeof o === 'object' && o !== null && #st in o;
  }

  /** @internal */
  static isTimer(o: unknown): o is timer_list {
    return isTimerList(o);
  }

  /** Lets the process exit while this timer is pending. Returns this. */
  unref(): this {
    const st = this.#st;
    if (!(st & ST_UNREF)) {
      if (countsForRef(this, st)) refDelta(-1);
      this.#st = st | ST_UNREF;
    }
    return this;
  }
  /** Makes a pending timer keep the process alive again (the default). Returns this. */
  ref(): this {
    const st = this.#st;
    if (st & ST_UNREF) {
      this.#st = st & ~ST_UNREF;
      if (countsForRef(this, this.#st)) refDelta(1);
    }
    return this;
  }
  /** Whether this timer keeps the process alive while pending. */
  hasRef(): boolean {
    return !(this.#st & ST_UNREF);
  }

  /**
   * How the wheel calls the callback: with the timer. ktimers/legacy overrides
   * it to pass the pre-4.15 `data` instead, so a legacy timer is an ordinary
   * timer_list to everything else here.
   * @internal
   */
  _call(fn: TimerCallback<any>): void {
    fn(this);
  }
}

// --- keeping the process alive ---------------------------------------------------

// Pending real-clock timers that are neither unref'd nor deferrable keep the
// process alive. They do it through the driver's tick (one hrtimer), which is
// ref'd while the count is above zero; the driver hands the tick over when it
// creates it (setKeepAlive), before any timer can be pending on the real wheel.
let refCount = 0;
let keepAlive: { ref(): unknown; unref(): unknown } | null = null;

/** The driver's tick, which holds the process alive for the pending timers. */
export function setKeepAlive(h: { ref(): unknown; unref(): unknown }): void {
  keepAlive = h;
}

/** Pending in the kernel's sense: in a bucket, or collected and waiting to run. */
export function isPending(t: timer_list): boolean {
  return stOf(t) >= ST_ONE;
}

/** Does a timer in state `st` count towards keeping the process alive? */
export function countsForRef(t: timer_list, st: number): boolean {
  return st >= ST_ONE && !(st & (ST_UNREF | ST_VIRTUAL)) && !(t.flags & TIMER_DEFERRABLE);
}

export function refDelta(d: number): void {
  const before = refCount;
  refCount += d;
  if (keepAlive === null) return;
  if (before === 0 && refCount > 0) keepAlive.ref();
  else if (before > 0 && refCount === 0) keepAlive.unref();
}
