// A worker thread hands records to the main thread through a kfifo (the kernel's lock-free ring,
// over a SharedArrayBuffer): no message per record. The main thread reads them with an async
// iterator that sleeps while the fifo is empty and ends when the producer closes it.
// Run: node examples/kfifo-worker.js [count]
import { Worker } from 'node:worker_threads';
import { kfifo_alloc, kfifo_reader } from 'ktimers';

const count = Number(process.argv[2] ?? 100_000);
const fifo = kfifo_alloc('rec_ptr_1', 4096);      // 4096 bytes of records behind a 1-byte length header
new Worker(new URL('./kfifo/producer.mjs', import.meta.url), { workerData: { fifo, count } });

let n = 0;
let outOfOrder = 0;
let maxUs = 0;
for await (const rec of kfifo_reader(fifo)) {     // each record as a new Uint8Array, in order
  const v = new DataView(rec.buffer);
  if (v.getUint32(0, true) !== n) outOfOrder++;
  maxUs = Math.max(maxUs, (performance.timeOrigin + performance.now() - v.getFloat64(8, true)) * 1000);
  n++;
}
console.log(`${n} records, ${outOfOrder} out of order; the fifo was closed by the producer (oldest record waited ${maxUs.toFixed(0)} us)`);
