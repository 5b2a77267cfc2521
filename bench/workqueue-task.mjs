// Work functions for bench/workqueue.js. The same module serves both pools:
// piscina runs the default export; ktimers names `tiny`, `stamp` and `init`.
import { workerData } from 'node:worker_threads';

// The latency probe writes the time it started (process.hrtime, ns, as a double:
// exact below 2^53 ns ≈ 104 days of uptime) into a shared Float64Array.
let stamps = workerData?.stamps ? new Float64Array(workerData.stamps) : null;

/** ktimers: one item with data hands the SharedArrayBuffer over (piscina passes it as workerData). */
export function init(work) {
  stamps = new Float64Array(work.data);
}

/** The tiny item: nothing at all. */
export function tiny() {}

/** Records its start time. */
export function stamp() {
  if (stamps !== null) stamps[0] = Number(process.hrtime.bigint()); // (a worker not initialised yet: sample dropped)
}

export default function (what) {
  if (what === 1) stamps[0] = Number(process.hrtime.bigint());
}
