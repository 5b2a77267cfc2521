/**
 * The workqueue's process-wide shared state, main-thread side: the item table
 * (one Int32 state word per work_struct, in a growable SharedArrayBuffer every
 * pool worker maps), the control block with the completion doorbell, and the
 * keep-alive that makes outstanding work hold the process open. Layouts:
 * wq-shared.ts.
 * @internal
 */
import { MessageChannel } from 'node:worker_threads';
import * as S from './wq-shared.js';
import { rangeError } from '../errors.js';

// --- process-wide shared state -----------------------------------------------------

let itemsSab: SharedArrayBuffer | null = null;
let items: Int32Array | null = null;
let ctlSab: SharedArrayBuffer | null = null;
let ctl: Int32Array | null = null;
let nextItem = 0;
const freeItems: number[] = [];

/** The item table (created on first use). Length-tracking view over a growable SAB. */
export function itemTable(): Int32Array {
  if (items === null) {
    itemsSab = new (SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer)(
      S.ITEMS_INITIAL * 4,
      { maxByteLength: S.ITEMS_MAX * 4 },
    );
    items = new Int32Array(itemsSab);
    ctlSab = new SharedArrayBuffer(S.C_WORDS * 4);
    ctl = new Int32Array(ctlSab);
  }
  return items;
}

/** A fresh state word for a work_struct. Ids of collected items are reused. */
export function allocItem(): number {
  const t = itemTable();
  const id = freeItems.pop();
  if (id !== undefined) {
    Atomics.store(t, id, 0);
    return id;
  }
  if (nextItem >= t.length) {
    const len = t.length * 2;
    if (len > S.ITEMS_MAX) {
      // Each work_struct owns one Int32 state word in a growable SharedArrayBuffer that
      // every worker maps; 2^24 words (64 MiB) is its fixed maximum size.
      throw rangeError('ERR_KTIMERS_TOO_MANY_WORK_ITEMS', `more than ${S.ITEMS_MAX} live work items (work_struct objects not yet collected)`);
    }
    (itemsSab as unknown as { grow(n: number): void }).grow(len * 4);
  }
  return nextItem++;
}

export function freeItem(id: number): void {
  freeItems.push(id);
}

/** The buffers a new pool worker maps (the item table is created first). */
export function sharedBuffers(): { items: SharedArrayBuffer; ctl: SharedArrayBuffer } {
  itemTable();
  return { items: itemsSab!, ctl: ctlSab! };
}

/** The control block (doorbell), or null while no item exists (nothing can be in flight). */
export function control(): Int32Array | null {
  return ctl;
}

// --- keep-alive -------------------------------------------------------------------

let keep: MessageChannel | null = null;
let outstanding = 0;

/**
 * Outstanding work (queued or running items) keeps the process alive like a
 * ref'd timer; idle pools do not. Toggled only on 0 <-> 1.
 */
export function holdRef(d: number): void {
  const before = outstanding;
  outstanding += d;
  if (before === 0 && outstanding > 0) {
    if (keep === null) {
      keep = new MessageChannel();
      keep.port1.on('message', () => {});
    }
    keep.port1.ref();
  } else if (before > 0 && outstanding === 0) {
    keep!.port1.unref();
  }
}
