// A 1 kHz hrtimer on a dedicated real-time thread (SCHED_FIFO 50 where permitted) while the main
// thread is kept busy with synchronous chunks: the thread's samples reach the main thread through
// a kfifo (no message per sample), in order, none lost, however busy the main thread is.
// Run: node examples/realtime-thread.js [seconds=2]
import { RealtimeThread, kfifo_alloc } from 'ktimers';

const seconds = Number(process.argv[2] ?? 2);
const samples = kfifo_alloc('u32', 8192);
const thread = new RealtimeThread(new URL('./realtime-thread/sampler.mjs', import.meta.url), {
  name: 'sampler', fifos: { samples }, data: { periodUs: 1000 },
});
console.log(`thread "${thread.name}" is thread ${thread.tid}, ${thread.policy === 'other' ? 'SCHED_OTHER' : `SCHED_${thread.policy.toUpperCase()} ${thread.priority}`}`);

let chunks = 0;
const end = performance.now() + seconds * 1000;
(function busy() {                                  // the main thread: 20 ms of synchronous work at a time
  const stop = performance.now() + 20;
  while (performance.now() < stop);
  chunks++;
  if (performance.now() < end) setImmediate(busy);
  else void thread.stop();                          // ends the thread and closes the fifo: the loop below ends
})();

let count = 0, last = 0, inOrder = true;
for await (const index of thread.read('samples')) {
  if (index <= last) inOrder = false;
  last = index;
  count++;
}
await thread.done;
console.log(`${count} samples ${inOrder ? 'in order' : 'OUT OF ORDER'}, ${last - count} periods overrun, while the main thread ran ${chunks} busy chunks`);
