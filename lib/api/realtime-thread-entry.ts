/**
 * The thread of a RealtimeThread (lib/api/realtime-thread.ts).
 *
 * It reports its kernel thread id and then sleeps (Atomics.wait: nothing of
 * the user's has run yet, so blocking is harmless) until its creator has set
 * its affinity and scheduling policy: the user's module never runs a single
 * instruction at the wrong priority or on the wrong CPU. Then it imports the
 * module, calls its function with the context, and leaves the thread to its
 * event loop: the hrtimers and timer_lists the function armed fire here.
 *
 * Whatever throws here (the function, a timer callback — ktimers rethrows
 * those from process.nextTick — or an unhandled rejection) is an uncaught
 * exception of this thread, which Node turns into the Worker's 'error' and
 * ends the thread: the owner reports it with the thread's name.
 *
 * stop arrives as a message: the signal is aborted first, so that the
 * function can say goodbye synchronously (and its abort listeners run), then
 * the thread exits, which takes every timer it armed (and their timerfds)
 * with it. Once the function has returned (or its promise settled) the port
 * is unref'd: a thread that armed nothing ends by itself, as a Worker whose
 * event loop is empty.
 * @internal
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { gettid } from '../sched.js';
import { KtimersError } from '../errors.js';
import { R_GO, R_STATE, R_TID } from './realtime-thread-shared.js';

interface Wd {
  ctl: SharedArrayBuffer;
  url: string;
  export: string;
  name: string;
  fifos: Record<string, unknown>;
  data: unknown;
}

{
  const wd = workerData as Wd;
  const port = parentPort as MessagePort;
  const ctl = new Int32Array(wd.ctl);
  const tid = gettid();
  try {
    // The thread's comm (as top and ps -L show it): the first 15 characters of its name.
    writeFileSync(`/proc/self/task/${tid}/comm`, wd.name.slice(0, 15));
  } catch {
    // cosmetic: a read-only /proc must not stop the thread
  }
  Atomics.store(ctl, R_TID, tid);
  Atomics.store(ctl, R_STATE, 1);
  Atomics.notify(ctl, R_STATE);
  Atomics.wait(ctl, R_GO, 0);
  if (Atomics.load(ctl, R_GO) !== 1) process.exit(0);

  const ac = new AbortController();
  port.on('message', (m: { t?: string }) => {
    if (m?.t !== 'stop' || ac.signal.aborted) return;
    ac.abort(new KtimersError('ERR_KTIMERS_RT_THREAD_STOPPED', `RealtimeThread "${wd.name}" was stopped`));
    // After the abort listeners and the microtasks they queued: end the thread
    // and with it everything it armed.
    setImmediate(() => process.exit(0));
  });
  const mod = (await import(wd.url)) as Record<string, unknown>;
  const fn = mod[wd.export];
  if (typeof fn !== 'function') {
    throw new KtimersError(
      'ERR_KTIMERS_RT_THREAD_EXPORT',
      `${wd.url} has no ${wd.export === 'default' ? 'default export' : `export "${wd.export}"`} that is a function (found ${typeof fn})`,
    );
  }
  await fn({ name: wd.name, fifos: wd.fifos, data: wd.data, signal: ac.signal, tid });
  // Only now: while the module loads and an async function runs, the port is
  // what keeps the thread (an unsettled top-level await does not).
  port.unref();
}
