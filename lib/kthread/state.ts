/**
 * kthread_worker: per-thread state shared by the files of lib/kthread/ — the
 * process-wide work table (allocated on the thread that creates works, handed
 * to each worker thread at its start), work id allocation, the name formatter,
 * and which side of a worker this thread is on (`kside.local`, set by
 * lib/kthread/thread.ts before it imports any work function, so calls made by
 * work functions take the worker-side paths).
 * @internal
 */
import { KtimersError, describe, rangeError, typeError } from '../errors.js';
import { WORKS_MAX } from './shared.js';

let tab: Int32Array | null = null;
let next = 1; // id 0 is never used: T_CURRENT stores id + 1
const free: number[] = [];

/** The work table (created on first use; a worker thread installs the one it was given). */
export function table(): Int32Array {
  if (tab === null) tab = new Int32Array(new SharedArrayBuffer(WORKS_MAX * 4));
  return tab;
}
export function installTable(buf: SharedArrayBuffer): void {
  tab = new Int32Array(buf);
}

export function allocId(): number {
  const id = free.pop();
  if (id !== undefined) return id;
  if (next >= WORKS_MAX) {
    throw new KtimersError('ERR_KTIMERS_KTHREAD_WORKS', `too many kthread_work objects alive at once (at most ${WORKS_MAX - 1})`);
  }
  return next++;
}

/** A collected work gives its slot back, unless an instance of it is still queued or running. */
export function freeId(id: number): void {
  const t = table();
  if ((Atomics.load(t, id) & 0x3ff & ~2) !== 0) return; // PENDING, RUNNING or canceling: keep the slot
  free.push(id);
}

/**
 * The kernel's kthread name format: `%s %d %i %u %x %%` (with an optional `l`
 * or `ll`), one argument each.
 */
export function formatName(fmt: string, args: readonly unknown[]): string {
  for (const m of fmt.matchAll(/%l{0,2}(.?)/gs)) {
    if (m[1] === '' || !'sdiux%'.includes(m[1]!)) {
      throw rangeError('ERR_OUT_OF_RANGE', `namefmt ${JSON.stringify(fmt)}: only %s %d %i %u %x and %% are supported`);
    }
  }
  let i = 0;
  const out = fmt.replace(/%(l{0,2})([sdiux%])/g, (m, _l: string, c: string) => {
    if (c === '%') return '%';
    if (i >= args.length) throw rangeError('ERR_OUT_OF_RANGE', `namefmt ${JSON.stringify(fmt)} needs more arguments than the ${args.length} given`);
    const a = args[i++];
    if (c === 's') {
      if (typeof a !== 'string') throw typeError('ERR_INVALID_ARG_TYPE', `namefmt argument ${i} (%s) must be a string, got ${describe(a)}`);
      return a;
    }
    if ((typeof a !== 'number' || !Number.isInteger(a)) && typeof a !== 'bigint') {
      throw typeError('ERR_INVALID_ARG_TYPE', `namefmt argument ${i} (%${c}) must be an integer, got ${describe(a)}`);
    }
    return c === 'x' ? a.toString(16) : String(a);
  });
  if (i < args.length) throw rangeError('ERR_OUT_OF_RANGE', `namefmt ${JSON.stringify(fmt)} uses ${i} argument(s), ${args.length} given`);
  return out;
}

/** The worker thread's side: what queueing from a work function needs. */
export interface LocalSide {
  /** Appends instance `gen` of work `id` to work_list (exp undefined) or arms its timer at jiffy `exp`. */
  queue(id: number, gen: number, exp: bigint | undefined): void;
  /** The handle of the work whose function runs now, or null. */
  current(): import('./work.js').kthread_work | null;
  /** This thread's kthread_worker object. */
  self: import('./worker.js').kthread_worker;
}

export const kside: { local: LocalSide | null } = { local: null };
