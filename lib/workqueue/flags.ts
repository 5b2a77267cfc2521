/**
 * The workqueue's constants: `enum wq_flags`, the max_active limits, the
 * work_busy bits and WORK_CPU_UNBOUND, with the kernel's values
 * (`include/linux/workqueue.h`). The `__WQ_*` flags are the kernel's private
 * ones: exported to the other files of lib/workqueue/, not by its index.
 */
import type { work_busy } from './queueing.js'; // for the {@link}s

/** Work runs on the main thread in softirq (BH) context, with plain functions (6.9+). */
export const WQ_BH = 1 << 0;
/** Not bound to a CPU: any worker of the unbound pool runs it; max_active is per queue. */
export const WQ_UNBOUND = 1 << 1;
/** Frozen during suspend in the kernel. Accepted; nothing freezes in a process. */
export const WQ_FREEZABLE = 1 << 2;
/** Guaranteed forward progress under memory pressure (a rescuer) in the kernel. Accepted; no effect here. */
export const WQ_MEM_RECLAIM = 1 << 3;
/** Runs on high-priority workers (their own pool, with a lower nice value where allowed). */
export const WQ_HIGHPRI = 1 << 4;
/** Exempt from concurrency management in the kernel. Accepted; no effect (the stall check treats every item alike). */
export const WQ_CPU_INTENSIVE = 1 << 5;
/** Visible in sysfs in the kernel. Accepted; no effect. */
export const WQ_SYSFS = 1 << 6;
/** Unbound when workqueue.power_efficient is set (it is not here): per-CPU. */
export const WQ_POWER_EFFICIENT = 1 << 7;
/** Explicitly per-CPU (6.17+; the default for queues without WQ_UNBOUND). */
export const WQ_PERCPU = 1 << 8;
export const __WQ_DESTROYING = 1 << 15;
export const __WQ_DRAINING = 1 << 16;
export const __WQ_ORDERED = 1 << 17;
export const __WQ_LEGACY = 1 << 18;
export const WQ_PUBLIC_FLAGS =
  WQ_BH | WQ_UNBOUND | WQ_FREEZABLE | WQ_MEM_RECLAIM | WQ_HIGHPRI | WQ_CPU_INTENSIVE | WQ_SYSFS | WQ_POWER_EFFICIENT | WQ_PERCPU;
export const WQ_BH_ALLOWS = WQ_BH | WQ_HIGHPRI | WQ_PERCPU;

/** The largest max_active: 2048. */
export const WQ_MAX_ACTIVE = 2048;
/** The largest max_active of an unbound queue: WQ_MAX_ACTIVE. */
export const WQ_UNBOUND_MAX_ACTIVE = WQ_MAX_ACTIVE;
/** max_active when 0 is passed: WQ_MAX_ACTIVE / 2 = 1024. */
export const WQ_DFL_ACTIVE = WQ_MAX_ACTIVE / 2;
/** The kernel's per-node floor of unbound max_active: 8 (one node here). */
export const WQ_DFL_MIN_ACTIVE = 8;
/** {@link work_busy} bit: the item is queued (or its delayed timer pending). */
export const WORK_BUSY_PENDING = 1;
/** {@link work_busy} bit: the item's function is running. */
export const WORK_BUSY_RUNNING = 2;
/** NR_CPUS of the common x86-64 configs: "no particular CPU". */
export const WORK_CPU_UNBOUND = 8192;
/** Workqueue names are truncated to WQ_NAME_LEN - 1 characters. */
export const WQ_NAME_LEN = 32;
