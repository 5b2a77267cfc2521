/**
 * The conditions a `ktimers cyclictest` run measures under: the real-time
 * settings it asks for (through lib/sched.ts, on the measuring thread only), the
 * /dev/cpu_dma_latency request, and what the machine is (clock resolution,
 * clocksource, kernel, load).
 *
 * A setting the system refuses is never fatal: cyclictest's users run it as
 * root, ours often cannot, and a latency figure without SCHED_FIFO is still a
 * figure. Each refusal is kept with the OS's message (which names the missing
 * capability or rlimit) and the report states what was *in force*, read back
 * from the kernel rather than assumed from the request.
 */
import fs from 'node:fs';
import os from 'node:os';
import { native } from '../binding.js';
import {
  getpriority,
  gettid,
  MCL_CURRENT,
  mlockall,
  sched_getaffinity,
  sched_getscheduler,
  sched_setaffinity,
  sched_setscheduler,
  setpriority,
  SCHED_BATCH,
  SCHED_FIFO,
  SCHED_IDLE,
  SCHED_OTHER,
  SCHED_RR,
} from '../sched.js';
import type { ClockName, CyclictestOptions, PolicyName } from './options.js';
import { CLOCK_INDEX } from './measure.js';

const POLICY_IDS: Record<PolicyName, number> = { other: SCHED_OTHER, fifo: SCHED_FIFO, rr: SCHED_RR, batch: SCHED_BATCH, idle: SCHED_IDLE };
const POLICY_NAMES: Record<number, string> = {
  [SCHED_OTHER]: 'SCHED_OTHER', [SCHED_FIFO]: 'SCHED_FIFO', [SCHED_RR]: 'SCHED_RR', [SCHED_BATCH]: 'SCHED_BATCH', [SCHED_IDLE]: 'SCHED_IDLE',
};

export const DMA_LATENCY_DEV = '/dev/cpu_dma_latency';
export const CLOCKSOURCE_FILE = '/sys/devices/system/clocksource/clocksource0/current_clocksource';

/** One requested setting: what was asked, and the OS's refusal if any. */
export interface Setting {
  requested: string | null;
  error: string | null;
}

export interface RealtimeState {
  tid: number;
  sched: Setting & { policy: string; priority: number };
  affinity: Setting & { cpus: number[] };
  nice: Setting & { value: number };
  /** -m: see applyRealtime() for why memory is prefaulted, not kept locked */
  mlockall: Setting & { prefaulted: boolean };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Applies -p/--policy, -a, --nice and -m to the calling thread (mlockall: the
 * process) and reads back what is in force.
 */
export function applyRealtime(o: CyclictestOptions): RealtimeState {
  let schedReq: string | null = null;
  let schedErr: string | null = null;
  let policy: number | null = null;
  if (o.priority > 0) policy = POLICY_IDS[o.policy ?? 'fifo'];
  else if (o.policy !== null) policy = POLICY_IDS[o.policy];
  if (policy !== null) {
    schedReq = `${POLICY_NAMES[policy]}${o.priority > 0 ? ' ' + o.priority : ''}`;
    try {
      sched_setscheduler(0, policy, o.priority);
    } catch (e) {
      schedErr = message(e);
    }
  }
  let affErr: string | null = null;
  if (o.affinity !== null) {
    try {
      sched_setaffinity(0, o.affinity);
    } catch (e) {
      affErr = message(e);
    }
  }
  let niceErr: string | null = null;
  if (o.nice !== null) {
    try {
      setpriority(0, o.nice);
    } catch (e) {
      niceErr = message(e);
    }
  }
  // -m. cyclictest keeps its memory locked (MCL_CURRENT | MCL_FUTURE). Node
  // cannot (V8 aborts on locked pages), so ktimers' mlockall (lib/sched.ts)
  // locks everything mapped now, which faults it all in, and unlocks it at
  // once: the measurement starts with no page faults to take on memory that
  // exists, and V8 can still free pages. With no swap, anonymous pages stay
  // resident once faulted in.
  let lockErr: string | null = null;
  if (o.mlockall) {
    try {
      mlockall(MCL_CURRENT);
    } catch (e) {
      lockErr = message(e);
    }
  }
  const s = sched_getscheduler(0);
  return {
    tid: gettid(),
    sched: { requested: schedReq, error: schedErr, policy: POLICY_NAMES[s.policy] ?? `policy ${s.policy}`, priority: s.priority },
    affinity: { requested: o.affinity === null ? null : o.affinity.join(','), error: affErr, cpus: sched_getaffinity(0) },
    nice: { requested: o.nice === null ? null : String(o.nice), error: niceErr, value: getpriority(0) },
    mlockall: { requested: o.mlockall ? 'MCL_CURRENT' : null, error: lockErr, prefaulted: o.mlockall && lockErr === null },
  };
}

export interface DmaLatency {
  requested: boolean;
  held: boolean;
  /** the value the kernel reports as in force while held, us */
  value_us: number | null;
  error: string | null;
  fd: number | null;
}

/**
 * Holds /dev/cpu_dma_latency at 0 (or --latency's value), as cyclictest does: the PM QoS request keeps
 * the CPUs out of idle states whose exit latency would land on every wake-up.
 * The request lasts while the fd is open (release() closes it).
 */
export function holdDmaLatency(requested: boolean, valueUs = 0): DmaLatency {
  if (!requested) return { requested, held: false, value_us: null, error: null, fd: null };
  let fd: number | null = null;
  try {
    fd = fs.openSync(DMA_LATENCY_DEV, 'r+');
    fs.writeSync(fd, Buffer.from(new Int32Array([valueUs]).buffer));
    // The write moved this fd's offset; read the value in force through a second fd.
    const rfd = fs.openSync(DMA_LATENCY_DEV, 'r');
    const b = Buffer.alloc(4);
    const n = fs.readSync(rfd, b, 0, 4, null);
    fs.closeSync(rfd);
    return { requested, held: true, value_us: n === 4 ? b.readInt32LE(0) : null, error: null, fd };
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EACCES' || err.code === 'EPERM' ? ' (writing it needs root)' : err.code === 'ENOENT' ? ' (no PM QoS device here)' : '';
    return { requested, held: false, value_us: null, error: `${DMA_LATENCY_DEV}: ${err.code ?? ''} ${err.message}${why}`.trim(), fd: null };
  }
}

export function releaseDmaLatency(d: DmaLatency): void {
  if (d.fd !== null) fs.closeSync(d.fd);
  d.fd = null;
}

export interface SystemInfo {
  clock: string;
  clock_resolution_ns: number;
  clocksource: string;
  kernel: string;
  machine: string;
  cpus: number;
  cpu_model: string;
  node: string;
  pid: number;
  uid: number | null;
  loadavg: number[];
}

const CLOCK_LINUX_NAMES: Record<ClockName, string> = {
  monotonic: 'CLOCK_MONOTONIC', realtime: 'CLOCK_REALTIME', boottime: 'CLOCK_BOOTTIME', tai: 'CLOCK_TAI',
};

export function readClocksource(): string {
  try {
    return fs.readFileSync(CLOCKSOURCE_FILE, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

export function systemInfo(clock: ClockName): SystemInfo {
  const cpus = os.cpus();
  return {
    clock: CLOCK_LINUX_NAMES[clock],
    clock_resolution_ns: Number(native.clockRes(CLOCK_INDEX[clock])),
    clocksource: readClocksource(),
    kernel: `${os.type()} ${os.release()}`,
    machine: os.machine(),
    cpus: cpus.length,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    pid: process.pid,
    uid: process.getuid?.() ?? null,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  };
}
