/**
 * The work function every {@link WorkQueue} item runs on a pool worker.
 *
 * Why a wrapper: the kernel workqueue reports a failed item as an 'error'
 * event of its queue, without saying which queueing failed; the facade
 * promises a result per `queue()` call. So a failure is rethrown here tagged
 * with the item's id (the queue's 'error' listener in lib/api/work-queue.ts
 * matches it to the caller's promise).
 *
 * Why the target is in this module's URL: the facade names the runner as
 * `work-runner.js?m=<module>&n=<export>`, so each target function is its own
 * module instance with its own function id in the pool. Items then travel on
 * the pool's shared ring like any kernel-API item (the payload-free fast
 * path), and the caller's `data` is the item's own data, unwrapped.
 * @internal
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { workId, type work_struct } from '../workqueue/work.js';

/** The key of a tagged failure. @internal */
export const TOKEN = 'ktimersWorkQueueItem';

/** A failure the main thread can clone and match to its promise. */
function tagged(id: number, error: unknown): Record<string, unknown> {
  let e = error;
  try {
    structuredClone(e);
  } catch {
    // Not cloneable (functions inside, a class with private state): keep what can travel.
    const o = error as { message?: unknown; stack?: unknown } | null;
    const copy = new Error(typeof o?.message === 'string' ? o.message : String(error));
    if (typeof o?.stack === 'string') copy.stack = o.stack;
    e = copy;
  }
  // Structured clone keeps an Error's name, message and stack, not its `code`.
  const code = (error as { code?: unknown } | null)?.code;
  return { [TOKEN]: id, error: e, code: typeof code === 'string' ? code : undefined };
}

const target = new URL(import.meta.url).searchParams;
const mod = target.get('m') ?? '';
const exportName = target.get('n') ?? '';
let fn: ((work: unknown) => unknown) | null = null;

async function load(): Promise<(work: unknown) => unknown> {
  const ns = (await import(isAbsolute(mod) ? pathToFileURL(mod).href : mod)) as Record<string, unknown>;
  const f = ns[exportName];
  if (typeof f !== 'function') {
    const e = new TypeError(`module ${mod} has no exported function ${JSON.stringify(exportName)} (got ${typeof f})`);
    (e as { code?: string }).code = 'ERR_KTIMERS_WORK_NOT_FUNCTION';
    throw e;
  }
  return f as (work: unknown) => unknown;
}

async function loadAndRun(work: work_struct): Promise<void> {
  try {
    fn ??= await load();
  } catch (e) {
    throw tagged(workId(work), e);
  }
  await run(work);
}

/**
 * The work function of facade items (the item's id, workId, is the same on both
 * threads). Synchronous when the target is: an await per item would cost the
 * pool's fast path a promise turn on every item.
 * @internal
 */
export function run(work: work_struct): Promise<void> | undefined {
  if (fn === null) return loadAndRun(work);
  let r: unknown;
  try {
    r = fn(work);
  } catch (e) {
    throw tagged(workId(work), e);
  }
  if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
    return Promise.resolve(r as PromiseLike<unknown>).then(
      () => undefined,
      (e: unknown) => {
        throw tagged(workId(work), e);
      },
    );
  }
  return undefined;
}
