/**
 * Work functions: what `INIT_WORK` takes instead of a C function pointer. A
 * pool worker is another JS realm, so a function cannot be handed to it: it is
 * named, `{ module, name }`, and the worker imports it. Checked here once per
 * module (a missing file is refused at INIT_WORK, not at first run). Not a
 * public module: `WorkFnRef` is re-exported by lib/workqueue/index.ts, and
 * `fnArg` is shared with the WorkQueue facade (lib/api/work-queue.ts) and
 * kthread_create's thread functions (lib/kthread/).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAbsolute } from 'node:path';
import { KtimersError, describe, typeError } from '../errors.js';
import type { work_struct } from './work.js';

/** A work function: an exported function of an ES module, imported by the worker. */
export interface WorkFnRef {
  /** The module: an absolute path, a `file:` URL string or a URL (e.g. `import.meta.url`). */
  module: string | URL;
  /** The name of the exported function. */
  name: string;
}
/** A BH work function: runs on the main thread in softirq context. */
export type BhWorkFn = (work: work_struct) => void;

const checkedModules = new Set<string>();

/**
 * Normalises and checks a work function reference ({module, name}) or a BH function.
 * @internal
 */
export function fnArg(v: unknown): WorkFnRef | BhWorkFn {
  if (typeof v === 'function') return v as BhWorkFn;
  if (typeof v !== 'object' || v === null) {
    throw typeError('ERR_INVALID_ARG_TYPE', `fn must be { module, name } (or a function, for WQ_BH queues), got ${describe(v)}`);
  }
  let mod: unknown;
  let name: unknown;
  try {
    mod = (v as WorkFnRef).module;
    name = (v as WorkFnRef).name;
  } catch {
    throw typeError('ERR_INVALID_ARG_TYPE', 'fn must be { module, name }: reading it threw');
  }
  let spec: string;
  if (mod instanceof URL) spec = mod.href;
  else if (typeof mod === 'string' && mod.length > 0) spec = mod;
  else throw typeError('ERR_INVALID_ARG_TYPE', `fn.module must be a module path or URL, got ${describe(mod)}`);
  if (typeof name !== 'string' || name.length === 0) {
    throw typeError('ERR_INVALID_ARG_TYPE', `fn.name must be the name of an exported function, got ${describe(name)}`);
  }
  if (spec.startsWith('./') || spec.startsWith('../')) {
    throw typeError(
      'ERR_INVALID_ARG_VALUE',
      `fn.module ${JSON.stringify(spec)} is relative: pass new URL(${JSON.stringify(spec)}, import.meta.url) or an absolute path`,
    );
  }
  if (!checkedModules.has(spec)) {
    let file: string | null = null;
    if (spec.startsWith('file:')) {
      try {
        file = fileURLToPath(spec);
      } catch {
        throw typeError('ERR_INVALID_ARG_VALUE', `fn.module is not a valid file URL: ${spec}`);
      }
    } else if (isAbsolute(spec)) file = spec;
    if (file !== null && !existsSync(file)) {
      throw new KtimersError('ERR_KTIMERS_WORK_MODULE_NOT_FOUND', `work function module not found: ${file}`);
    }
    checkedModules.add(spec);
  }
  return Object.freeze({ module: spec, name });
}
