/**
 * How an error crosses from a thread ktimers runs code on (a workqueue pool
 * worker, a kthread_worker) to the main thread, and how a module named by the
 * user is imported there.
 *
 * Structured clone keeps an Error's name, message, stack and cause but drops
 * its own properties, and the `code` / `errno` / `syscall` a user's handler
 * switches on are exactly those. So the sending side collects the primitive
 * ones and sends them beside the error, and the receiving side puts them back.
 * Something that does not clone at all (a thrown function, an object holding
 * one) still arrives, as an Error carrying its text. Both thread kinds share
 * this module: it must stay free of side effects, since importing a worker's
 * entry module starts that worker's main loop.
 */
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';

/** An error's own properties with primitive values, or undefined when it has none. */
export function ownPrimitives(error: unknown): Record<string, unknown> | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  try {
    const props: Record<string, unknown> = {};
    let any = false;
    for (const key of Object.keys(error)) {
      const v = (error as Record<string, unknown>)[key];
      if (v === null || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol')) {
        // defineProperty, not assignment: a key named __proto__ must stay data.
        Object.defineProperty(props, key, { value: v, enumerable: true, configurable: true, writable: true });
        any = true;
      }
    }
    return any ? props : undefined;
  } catch {
    return undefined; // a throwing getter or proxy trap: send the error as it clones
  }
}

/**
 * Sends `{ ...extra, error, props }` with `post`; when the error does not
 * clone, sends an Error with its message and stack instead.
 */
export function postError(post: (message: object) => void, error: unknown, extra: object): void {
  const props = ownPrimitives(error);
  try {
    post({ ...extra, error, props });
  } catch {
    const o = error as { message?: unknown; stack?: unknown } | null;
    const e = new Error(typeof o?.message === 'string' ? o.message : String(error));
    if (typeof o?.stack === 'string') e.stack = o.stack;
    post({ ...extra, error: e, props });
  }
}

/** Puts back on a received error the own properties the clone dropped (never over one it kept). */
export function restoreProps(cause: unknown, props: Record<string, unknown> | undefined): unknown {
  if (props !== undefined && typeof cause === 'object' && cause !== null) {
    for (const [key, value] of Object.entries(props)) {
      if (!Object.hasOwn(cause, key)) Object.defineProperty(cause, key, { value, enumerable: true, configurable: true, writable: true });
    }
  }
  return cause;
}

/** A module name as `import()` takes it: an absolute path becomes a file URL. */
export function moduleSpecifier(module: string): string {
  return isAbsolute(module) ? pathToFileURL(module).href : module;
}
