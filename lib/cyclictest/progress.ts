/**
 * The live progress line of `ktimers cyclictest`, drawn by a separate thread.
 *
 * Why a thread: formatting a line and writing it to a terminal costs tens of
 * microseconds, and on the measuring thread that time would land on whichever
 * expiry comes next. cyclictest has the same split (its main thread prints,
 * the measuring threads only store). Here the measuring thread stores into a
 * Float64Array over a SharedArrayBuffer (stats.ts, LIVE indices) and a
 * worker_thread reads it four times a second and writes straight to fd 2 with
 * writeSync (a worker's process.stderr would be relayed through the main
 * thread's event loop, which is the measuring thread).
 *
 * The worker is started before any real-time setting is applied, so it keeps
 * the default policy (threads inherit their creator's) and never competes with
 * the measuring thread.
 */
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import { LIVE, LIVE_SIZE } from './stats.js';

/** One progress line, cyclictest's layout (values in us), prefixed with the API. */
export function formatProgress(v: Float64Array, api: string, tid: number, prio: number, intervalUs: number): string {
  const n = v[LIVE.count]!;
  const us = (ns: number, w: number): string => (n > 0 ? Math.round(ns / 1000) : 0).toString().padStart(w);
  return `${api.padEnd(10)} T: 0 (${tid}) P:${prio} I:${intervalUs} C:${String(n).padStart(8)} ` +
    `Min:${us(v[LIVE.min]!, 7)} Act:${us(v[LIVE.act]!, 7)} Avg:${us(n > 0 ? v[LIVE.sum]! / n : 0, 7)} Max:${us(v[LIVE.max]!, 8)}` +
    (v[LIVE.overruns]! > 0 ? ` Overruns: ${v[LIVE.overruns]}` : '');
}

// Runs in the worker (CommonJS eval source): the formatter above, shipped as source.
const WORKER_SRC = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const LIVE = ${JSON.stringify(LIVE)};
const formatProgress = ${formatProgress.toString()};
const v = new Float64Array(workerData.sab);
let header = workerData.header;
parentPort.on('message', (m) => { header = m; });
setInterval(() => {
  if (v[LIVE.active] !== 1) return;
  const line = formatProgress(v, header.api, header.tid, header.prio, header.intervalUs);
  try { fs.writeSync(2, '\\r' + line + '\\x1b[K'); } catch {}
}, 250);
`;

export interface ProgressHeader {
  api: string;
  tid: number;
  prio: number;
  intervalUs: number;
}

export class Progress {
  readonly live: Float64Array;
  private worker: Worker | null = null;

  constructor() {
    this.live = new Float64Array(new SharedArrayBuffer(LIVE_SIZE * 8));
  }

  /** Starts the drawing thread (resolves once it runs). */
  async start(header: ProgressHeader): Promise<void> {
    const w = new Worker(WORKER_SRC, { eval: true, workerData: { sab: this.live.buffer, header }, stdout: false, stderr: false });
    this.worker = w;
    await new Promise<void>((resolve, reject) => {
      w.once('online', resolve);
      w.once('error', reject);
    });
    // Only now: an unref'd worker that is still starting leaves the loop empty,
    // and the process would exit under the pending await (status 13).
    w.unref();
  }

  /** A new API's run starts: fresh counters, new label. */
  begin(header: ProgressHeader): void {
    this.live.fill(0);
    this.live[LIVE.active] = 1;
    this.worker?.postMessage(header);
  }

  /** Stops drawing (between APIs too) and clears the line. */
  pause(): void {
    this.live[LIVE.active] = 0;
    if (this.worker !== null) {
      try {
        fs.writeSync(2, '\r\x1b[K');
      } catch {
        // stderr closed: nothing to clear
      }
    }
  }

  async stop(): Promise<void> {
    this.pause();
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
    if (w !== null) {
      try {
        fs.writeSync(2, '\r\x1b[K');
      } catch {
        // stderr closed
      }
    }
  }
}
