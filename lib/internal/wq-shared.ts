/**
 * Shared-memory layouts of the workqueue pool, used by both sides: the JS main
 * thread (lib/internal/wq-pool.ts) and the pool workers (lib/workqueue/worker.ts).
 * Every index here *must* match on both sides; both import this one file.
 *
 * Three kinds of SharedArrayBuffer:
 *
 * 1. The item table (one per process, growable): one Int32 state word per
 *    work_struct, the kernel's `work->data` flag bits. Both sides change it
 *    only with Atomics (compareExchange loops), which is what makes
 *    `queue_work`'s test-and-set of PENDING exact from any thread.
 *      bit 0 PENDING  queued, or its delayed timer pending (kernel WORK_STRUCT_PENDING)
 *      bit 1 RUNNING  a worker is executing it (work_busy's WORK_BUSY_RUNNING)
 *      bit 2 ARMED    the ring entry dispatched for it is still valid; a
 *                     cancel clears it with PENDING, and the worker then skips
 *                     the entry instead of running a stolen item
 *      bit 3 XQUEUED  PENDING was set by a worker-side queue_work whose
 *                     request the main thread has not processed yet
 *      bits 16..31    disable count (disable_work), 0..65535 as in the kernel
 *    A worker starts an item with one CAS: ARMED|PENDING -> RUNNING (PENDING is
 *    cleared just before the function is called, as in the kernel).
 *
 * 2. One pool block per worker pool: an SPMC ring of dispatched items. The main
 *    thread is the only producer (TAIL); workers claim entries with a CAS on
 *    HEAD. A producer never overwrites an entry a consumer may still read: it
 *    writes slot t only while t - HEAD < capacity, and a consumer reads slot h
 *    before its CAS moves HEAD past h. Idle workers sleep on SEQ (an
 *    eventcount: read SEQ, count yourself in SLEEPERS, re-check the ring,
 *    Atomics.wait(SEQ, seen)); the producer bumps SEQ and notifies only when
 *    SLEEPERS > 0, so a busy pool costs no futex calls.
 *
 * 3. One outbound block per worker: an SPSC ring of records to the main thread
 *    (completions, worker-side queue requests). The worker is the producer,
 *    the main thread the consumer. Records that need a payload (an error, a
 *    delay, a warning) travel as a MessagePort message posted *before* the
 *    record, which the main thread reads synchronously (receiveMessageOnPort)
 *    when it reaches the record. After writing records the worker rings the
 *    process-wide DOORBELL: it sets it 0 -> 1 and notifies only on that
 *    transition, so one Atomics.waitAsync wake-up of the main thread collects
 *    every record written meanwhile (batched completion). The block also holds
 *    the claim words of the item messages (items with data) posted to the
 *    worker, by which the main thread can take back one not yet started.
 * @internal
 */

// --- item state word (table 1) -------------------------------------------------
export const W_PENDING = 1;
export const W_RUNNING = 2;
export const W_ARMED = 4;
export const W_XQUEUED = 8;
export const W_DISABLE_SHIFT = 16;
export const W_DISABLE_ONE = 1 << W_DISABLE_SHIFT;
/** The kernel's disable count is 16 bits (WORK_OFFQ_DISABLE_BITS). */
export const W_DISABLE_MAX = 0xffff;
/** First item table size (entries) and the most it may grow to. */
export const ITEMS_INITIAL = 1 << 14;
export const ITEMS_MAX = 1 << 24;

// --- control block (process-wide, index 0.. of its own SAB) ------------------------
export const C_DOORBELL = 0;
export const C_WORDS = 4;

// --- pool block (table 2) ----------------------------------------------------------
export const P_HEAD = 0;
export const P_TAIL = 1;
export const P_SEQ = 2;
export const P_SLEEPERS = 3;
export const P_STOP = 4;
/**
 * Items with data not started yet: in the main thread's backlog, or posted to a
 * worker and not claimed by it. The main thread adds one per item, a worker
 * subtracts one when it claims one. A worker that runs dry while it is > 0 asks
 * (R_WANT): for backlog items, or for some a busy worker holds (see O_CLAIMS).
 */
export const P_DATA_WAITING = 5;
/** Ring entries start here; two words per entry: item id, fn id | flags. */
export const P_RING = 16;
/**
 * Ring capacity in entries (power of two). 4096 entries keep a pool of tiny
 * items busy for milliseconds between main-thread refills, and bound the
 * outbound rings below (a worker can owe at most one record per entry plus its
 * own requests).
 */
export const RING_CAP = 4096;
export const RING_MASK = RING_CAP - 1;
/** fn-id word flags of a ring entry. */
export const E_DELAYED = 1 << 30; // the item is a delayed_work (to_delayed_work works in the worker)
export const E_FN_MASK = (1 << 30) - 1;

// --- outbound block (table 3) ------------------------------------------------------
export const O_HEAD = 0; // main thread's read index
export const O_TAIL = 1; // worker's write index
export const O_DIRECT = 2; // item messages posted to this worker and not yet taken
export const O_TID = 3; // the worker's kernel thread id (0 until known)
export const O_CURRENT = 4; // item id + 1 of the running item, 0 when idle
export const O_RUNS = 5; // items started so far (the main thread's stall check compares it)
export const O_DSEEN = 6; // item messages this worker has processed (claimed, or found taken back), mod 2^32
export const O_RECORDS = 16;
export const REC_WORDS = 5;
/** 4x the inbound ring: a DONE and a QUEUE per entry, plus failures and warnings. */
export const OUT_CAP = 4 * RING_CAP;
/**
 * Claim words of the item messages posted to this worker, one per message,
 * indexed by the message's sequence number mod CLAIM_CAP (after the records).
 * A posted item is only *offered*: the main thread writes D_LIVE before posting
 * message s; the worker, when it reaches s and is about to run it, CASes
 * D_LIVE -> D_TAKEN and then sets O_DSEEN = s + 1; the main thread may take an
 * item back (to give it to another worker) with D_LIVE -> D_STOLEN, and the
 * worker then drops that message. So an item with data is bound to a worker
 * only once that worker starts it, as an entry of the shared ring is. The main
 * thread posts message s only while s - O_DSEEN < CLAIM_CAP, so it never
 * rewrites a claim word the worker may still read.
 */
export const O_CLAIMS = O_RECORDS + REC_WORDS * OUT_CAP;
export const CLAIM_CAP = 256;
export const CLAIM_MASK = CLAIM_CAP - 1;
export const O_WORDS = O_CLAIMS + CLAIM_CAP;
export const D_LIVE = 1;
export const D_TAKEN = 2;
export const D_STOLEN = 3;

/** Record types: [type, item, a, b, c]. */
export const R_DONE = 1; // item finished
export const R_SKIP = 2; // item's entry was cancelled before it started (ARMED clear)
export const R_FAIL = 3; // item threw or could not be loaded: message {error}
export const R_QUEUE = 4; // worker-side queue: a = wq id, b = cpu (-1 any), c = item id + 1 of the caller's item
export const R_QUEUE_DELAYED = 5; // as R_QUEUE, delay in a message {delay}
export const R_WARN = 6; // message {code, message}
export const R_WANT = 7; // the worker ran dry while items with data wait (P_DATA_WAITING > 0)
export const R_REJECTION = 8; // a promise rejection no work function handled: message {error, props}

/** Queue id the worker uses for "the queue of the item being run" is never needed: ids start at 1. */
export const WORK_CPU_UNBOUND_ID = -1;
