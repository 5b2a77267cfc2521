/**
 * Errors and warnings.
 *
 * Every rejection carries a stable `code`. Argument errors reuse Node's codes
 * (`ERR_INVALID_ARG_TYPE`, `ERR_OUT_OF_RANGE`) so they read like Node's own;
 * ktimers-specific conditions use `ERR_KTIMERS_*`. Where the kernel merely WARNs
 * and carries on (e.g. `hrtimer_forward` on a queued timer), ktimers emits a
 * process warning of type `KtimersWarning` with a `KTIMERS_WARN_*` code and
 * returns what the kernel returns.
 */

/** Error class for ktimers conditions that are neither type nor range errors. */
export class KtimersError extends Error {
  /** A stable `ERR_KTIMERS_*` code (or the errno name, e.g. `EPERM`, for an OS failure). */
  readonly code: string;
  /** The system call that failed, for OS failures (e.g. `'timerfd_settime'`). */
  readonly syscall?: string;
  /** The errno of an OS failure (positive, as `errno` in C). */
  readonly errno?: number;
  /**
   * @param code - the stable code.
   * @param message - what happened and what to do about it.
   * @param extra - `syscall` and `errno` of an OS failure.
   */
  constructor(code: string, message: string, extra?: { syscall?: string; errno?: number }) {
    super(message);
    this.code = code;
    if (extra?.syscall !== undefined) this.syscall = extra.syscall;
    if (extra?.errno !== undefined) this.errno = extra.errno;
    Object.defineProperty(this, 'name', { value: 'KtimersError', enumerable: false, configurable: true });
  }
}

function withCode<E extends Error>(err: E, code: string): E & { code: string } {
  Object.defineProperty(err, 'code', { value: code, enumerable: true, configurable: true, writable: true });
  return err as E & { code: string };
}

/** @internal */
export function typeError(code: string, message: string): TypeError & { code: string } {
  return withCode(new TypeError(message), code);
}

/** @internal */
export function rangeError(code: string, message: string): RangeError & { code: string } {
  return withCode(new RangeError(message), code);
}

/** @internal */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `bigint ${v}n`;
  if (typeof v === 'number') return `number ${Object.is(v, -0) ? '-0' : String(v)}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 30 ? v.slice(0, 30) + '…' : v)}`;
  if (typeof v === 'function') return 'function';
  if (typeof v === 'object') {
    try {
      const name = (v as object).constructor?.name;
      return name ? `an instance of ${name}` : 'object';
    } catch {
      return 'object';
    }
  }
  return typeof v;
}

const warnedOnce = new Set<string>();

/**
 * The kernel's WARN(): report and continue. `once` gives WARN_ON_ONCE
 * (once per process per code, as the kernel warns once per call site per boot).
 * @internal
 */
export function kwarn(code: string, message: string, once = false): void {
  if (once) {
    if (warnedOnce.has(code)) return;
    warnedOnce.add(code);
  }
  process.emitWarning(message, { type: 'KtimersWarning', code });
}

/**
 * The rejection of an aborted operation (`sleep`, `interval`, `WorkQueue#queue`),
 * shaped like Node's own `AbortError` (what `node:timers/promises` rejects
 * with): `name` 'AbortError', `code` 'ABORT_ERR', and `cause` the signal's
 * `reason`. Code written against Node's timers can test `err.name === 'AbortError'`
 * unchanged.
 */
export class AbortError extends Error {
  /** Always 'ABORT_ERR', as Node's. */
  readonly code = 'ABORT_ERR';
  /**
   * @param message - default 'The operation was aborted' (Node's message).
   * @param options - `cause`: the signal's `reason`.
   */
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, 'name', { value: 'AbortError', enumerable: false, configurable: true, writable: true });
  }
}
