/**
 * kfifo: the kernel's single-producer / single-consumer lock-free ring
 * (its `include/linux/kfifo.h` and `lib/kfifo.c`) over a SharedArrayBuffer, so
 * a worker_thread (a kthread_worker, a workqueue worker, any Worker) can hand
 * results to another thread without a message per event.
 *
 * The area's public API; the rooms behind it:
 * - `ring.ts`: what a fifo object stands for (control words, the per-thread
 *   validated state, the lookup cache) and the argument readers;
 * - `io.ts`: the data path, producer and consumer, with the copies and the
 *   publishing of the counters (the hot functions, kept together);
 * - `alloc.ts`: allocation, freeing, the queries, the counters' test hook;
 * - `wait.ts`: sleeping until data or space (a ktimers addition), close, the
 *   async reader.
 */
export type { KfifoElementType, KfifoType, KfifoArray, Kfifo, KfifoBig, KfifoWaitResult } from './ring.js';
export {
  kfifo_alloc,
  kfifo_init,
  kfifo_free,
  kfifo_initialized,
  kfifo_size,
  kfifo_esize,
  kfifo_recsize,
  kfifo_len,
  kfifo_is_empty,
  kfifo_is_full,
  kfifo_avail,
  kfifo_peek_len,
} from './alloc.js';
export {
  kfifo_in,
  kfifo_put,
  kfifo_out,
  kfifo_out_peek,
  kfifo_get,
  kfifo_peek,
  kfifo_out_linear,
  kfifo_skip,
  kfifo_skip_count,
  kfifo_reset,
  kfifo_reset_out,
} from './io.js';
export {
  kfifo_close,
  kfifo_is_closed,
  kfifo_wait,
  kfifo_wait_async,
  kfifo_wait_space,
  kfifo_wait_space_async,
  kfifo_reader,
} from './wait.js';
