/**
 * One pool worker thread, as the main thread sees it: its record (the
 * outbound ring it writes, the MessagePort for payloads, the item messages
 * it holds unstarted), the questions the pool asks of it (idle? busy?
 * what has it claimed?), and how it is started. The worker's own side is
 * lib/workqueue/worker.ts; the pool that owns these records is wq-pool.ts.
 * @internal
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import * as S from './wq-shared.js';

export interface WorkerRec {
  w: Worker;
  out: Int32Array;
  port: MessagePort;
  online: boolean;
  /** J: ids of items with data sent to this worker and not reported back (lost if it dies) */
  direct: Set<number>;
  /** J: sequence number of the next item message to this worker (Int32, wraps; its claim word) */
  sent: number;
  /** J: item messages sent and maybe not claimed yet (from heldHead; those below O_DSEEN are pruned) */
  held: (Held | undefined)[];
  heldHead: number;
}

export interface Held {
  s: number;
  id: number;
  fw: number;
  data: unknown;
}

/** Forgets held messages the worker has processed (claimed or dropped): s < O_DSEEN. */
export function prune(w: WorkerRec): void {
  const seen = Atomics.load(w.out, S.O_DSEEN);
  const h = w.held;
  let i = w.heldHead;
  while (i < h.length && ((seen - h[i]!.s) | 0) > 0) h[i++] = undefined; // drop the data reference
  if (i === h.length) {
    h.length = 0;
    i = 0;
  } else if (i > 64 && i * 2 > h.length) {
    w.held = h.slice(i);
    i = 0;
  }
  w.heldHead = i;
}

/** Item messages sent to `w` that it has not processed yet (claimed or dropped). */
export function unseen(w: WorkerRec): number {
  return (w.sent - Atomics.load(w.out, S.O_DSEEN)) | 0;
}

/** Idle: no item running, no item message unprocessed. */
export function idle(w: WorkerRec): boolean {
  return Atomics.load(w.out, S.O_CURRENT) === 0 && unseen(w) === 0;
}

/** Its held items wait behind something: it runs an item, or has not started yet. */
export function busy(w: WorkerRec): boolean {
  return !w.online || Atomics.load(w.out, S.O_CURRENT) !== 0;
}

/** The pool worker's module, lib/workqueue/worker.ts: the workqueue layer names it (setWorkerModule). */
let workerURL: URL | null = null;
export function setWorkerModule(url: URL): void {
  workerURL = url;
}

/**
 * execArgv for pool workers: the parent's, without --input-type or an --eval'd
 * entry, and without what Worker refuses (ERR_WORKER_INVALID_EXEC_ARGV: V8 and
 * process-wide options such as --expose-gc or --max-semi-space-size, which a
 * worker shares with the process anyway). Learned at the first spawn that is
 * refused, then kept.
 */
let workerExecArgv: string[] | null = null;
export function newPoolWorker(opts: ConstructorParameters<typeof Worker>[1]): Worker {
  workerExecArgv ??= process.execArgv.filter((a) => !a.startsWith('--eval') && a !== '-e' && !a.startsWith('--input-type'));
  try {
    return new Worker(workerURL!, { ...opts, execArgv: workerExecArgv });
  } catch (e) {
    if ((e as { code?: unknown })?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    // "Initiated Worker with invalid execArgv flags: --a, --b=1"
    const bad = new Set(String((e as Error).message).slice(String((e as Error).message).lastIndexOf(': ') + 2).split(', '));
    workerExecArgv = workerExecArgv.filter((a) => !bad.has(a) && !bad.has(a.split('=')[0]!));
    return new Worker(workerURL!, { ...opts, execArgv: workerExecArgv });
  }
}
