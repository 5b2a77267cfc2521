// Work functions for examples/workqueue.js: exports of an ES module, imported by the pool's workers.
export function poll(work) {
  const { counts, slot } = work.data;     // the data set before queueing (a structured clone)
  Atomics.add(counts, slot, 1);           // SharedArrayBuffers stay shared
  Atomics.notify(counts, slot);           // wakes the main thread's Atomics.waitAsync
}
