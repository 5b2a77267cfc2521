// The producer of examples/kfifo-worker.js: a worker thread writing records into the kfifo it
// was given (a structured clone sharing the main thread's memory), then closing it.
import { workerData } from 'node:worker_threads';
import { kfifo_in, kfifo_wait_space, kfifo_close } from 'ktimers';

const { fifo, count } = workerData;
const rec = new Uint8Array(16);                    // one buffer, reused: nothing allocated per record
const view = new DataView(rec.buffer);
for (let i = 0; i < count; i++) {
  view.setUint32(0, i, true);                      // a sequence number...
  view.setFloat64(8, performance.timeOrigin + performance.now(), true);  // ...and when it was sent
  while (kfifo_in(fifo, rec) === 0) kfifo_wait_space(fifo, rec.length + 1);  // full: sleep (header + payload)
}
kfifo_close(fifo);                                 // the end of the stream
