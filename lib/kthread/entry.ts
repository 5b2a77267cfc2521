/**
 * Entry point of a kthread_worker's thread. Its creator waits synchronously
 * (Atomics.wait) for the thread to report its start, so its Worker 'error'
 * event cannot be delivered meanwhile: if the worker loop cannot even be
 * loaded, say so through the shared control word first, so the creator throws
 * ERR_KTIMERS_KTHREAD_START at once instead of waiting for its backstop.
 * @internal
 */
import { workerData } from 'node:worker_threads';
import { T_FAILED, T_STATE } from './shared.js';

try {
  await import('./thread.js');
} catch (e) {
  const ctl = new Int32Array((workerData as { ctl: SharedArrayBuffer }).ctl);
  Atomics.store(ctl, T_STATE, T_FAILED);
  Atomics.notify(ctl, T_STATE);
  throw e;
}
