/**
 * The work function every {@link WorkQueue} item runs on a pool worker: it
 * imports the caller's function, hands it the caller's data, and awaits it.
 *
 * Why a wrapper: the kernel workqueue reports a failed item as an 'error'
 * event of its queue, without saying which queueing failed. The facade
 * promises a result per `queue()` call, so each item carries a token, and a
 * failure is rethrown here tagged with it (the queue's 'error' listener in
 * lib/api/work-queue.ts matches it to the caller's promise).
 * @internal
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a facade item carries to the worker. @internal */
export interface RunnerPayload {
  /** module specifier (absolute path, file: URL or bare) */
  m: string;
  /** export name */
  n: string;
  /** the caller's data */
  d: unknown;
  /** the token of the queue() call */
  t: number;
}

/** The key of a tagged failure. @internal */
export const TOKEN = 'ktimersWorkQueueToken';

/** A failure the main thread can clone and match to its promise. */
function tagged(t: number, error: unknown): Record<string, unknown> {
  let e = error;
  try {
    structuredClone(e);
  } catch {
    // Not cloneable (functions inside, a class with private state): keep what can travel.
    const o = error as { name?: unknown; message?: unknown; stack?: unknown } | null;
    const copy = new Error(typeof o?.message === 'string' ? o.message : String(error));
    if (typeof o?.stack === 'string') copy.stack = o.stack;
    e = copy;
  }
  // Structured clone keeps an Error's name, message and stack, not its `code`.
  const code = (error as { code?: unknown } | null)?.code;
  return { [TOKEN]: t, error: e, code: typeof code === 'string' ? code : undefined };
}

const specifier = (m: string): string => (isAbsolute(m) ? pathToFileURL(m).href : m);

/** @internal the work function of facade items */
export async function run(work: { data: unknown }): Promise<void> {
  const p = work.data as RunnerPayload;
  let fn: unknown;
  try {
    fn = ((await import(specifier(p.m))) as Record<string, unknown>)[p.n];
  } catch (e) {
    throw tagged(p.t, e);
  }
  if (typeof fn !== 'function') {
    const e = new TypeError(`module ${p.m} has no exported function ${JSON.stringify(p.n)} (got ${typeof fn})`);
    (e as { code?: string }).code = 'ERR_KTIMERS_WORK_NOT_FUNCTION';
    throw tagged(p.t, e);
  }
  work.data = p.d; // the function sees the caller's data, as with the kernel API
  try {
    await (fn as (w: unknown) => unknown)(work);
  } catch (e) {
    throw tagged(p.t, e);
  }
}
