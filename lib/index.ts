/**
 * ktimers — the Linux kernel's timer API for Node.js, on real OS clocks.
 *
 * Kernel names, kernel semantics: see the README for the map and for where
 * ktimers differs from the kernel and from Node's timers.
 */
export * from './ktime.js';
export * from './hrtimer.js';
export * from './context.js';
export { KtimersError } from './errors.js';
