// Transitional: the timer area is now the folder lib/timer/ (public API in
// lib/timer/index.ts). This file only keeps the old import path working for
// modules other work is moving at the same time (lib/workqueue.ts,
// lib/cyclictest/measure.ts, lib/internal/kthread-thread.ts); it goes once
// they import from lib/timer/ themselves. Not an entry point of the package.

export * from './timer/index.js';
/** @internal */
export { fieldsWritable } from './timer/fields.js';
