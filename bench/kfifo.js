// bench/kfifo.js — handing small records from a worker thread to the main thread:
// a ktimers kfifo (record fifo over a SharedArrayBuffer) against postMessage.
//
//   node --expose-gc bench/kfifo.js [--duration 300] [--rounds 3] [--sizes 8,16,32,64] [--samples 2000]
//
// One producer Worker, the main thread consumes (with kfifo_wait_async / a 'message' listener:
// both sleep on the event loop when idle, as an application's main thread would). For each record
// size, each round runs both methods one after the other (alternating which goes first), so both
// see the same mix of quiet and busy moments on a shared machine. Per method and size:
// - records/s: the producer sends as fast as it can for --duration ms (postMessage with a credit
//   window of 10000 unconsumed messages, so its queue cannot grow without bound; the kfifo is
//   1 MiB and the producer sleeps in kfifo_wait_space when it is full); every record carries its
//   sequence number, which the consumer checks (no timestamps here: reading the clock costs about
//   as much as a kfifo hand-off).
// - hand-off latency p50/p99: a paced run (--samples records, one every 100 µs, so the consumer
//   is asleep when each arrives): the producer writes performance.timeOrigin + now() into the
//   record, the consumer subtracts it from its own clock on receipt.
// - GCs on the producer thread during the throughput run (PerformanceObserver 'gc' in the worker).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import os from 'node:os';

// The producer collects its garbage before each run (gc(), --expose-gc), so the GCs counted in a
// run are those of its own allocations, not the previous run's leftovers.
if (isMainThread && typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const k = await import('../dist/index.js');
const now = () => performance.timeOrigin + performance.now();

if (!isMainThread) {
  const gcs = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push(e.startTime);
  }).observe({ entryTypes: ['gc'] });
  const settle = () => new Promise((r) => setTimeout(r, 100)); // let the observer deliver

  parentPort.on('message', async (m) => {
    const rec = new Uint8Array(m.size);
    const f64 = new Float64Array(rec.buffer, 0, 1);
    const u32 = new Uint32Array(rec.buffer);
    globalThis.gc();
    const t0 = performance.now();
    const end = t0 + m.duration;
    let sent = 0;
    if (m.kind === 'tput') {
      if (m.method === 'kfifo') {
        const fifo = m.fifo;
        for (;;) {
          if ((sent & 255) === 0 && performance.now() > end) break;
          u32[0] = sent;
          if (k.kfifo_in(fifo, rec) === 0) {
            k.kfifo_wait_space(fifo, m.size + 1, 1000);
            continue;
          }
          sent++;
        }
        k.kfifo_close(fifo);
      } else {
        const credit = m.credit;
        for (;;) {
          if ((sent & 255) === 0 && performance.now() > end) break;
          u32[0] = sent;
          parentPort.postMessage(rec);
          sent++;
          for (let c; sent - (c = Atomics.load(credit, 0)) > 10000; ) Atomics.wait(credit, 0, c, 100);
        }
        parentPort.postMessage({ end: true });
      }
    } else {
      // paced: one record every 100 µs (spinning: a sleep would add its own wake-up latency)
      for (let i = 0; i < m.samples; i++) {
        const t = performance.now() + 0.1;
        while (performance.now() < t);
        f64[0] = now();
        if (m.method === 'kfifo') {
          while (k.kfifo_in(m.fifo, rec) === 0) k.kfifo_wait_space(m.fifo, m.size + 1, 1000);
        } else {
          parentPort.postMessage(rec);
        }
      }
      if (m.method === 'kfifo') k.kfifo_close(m.fifo);
      else parentPort.postMessage({ end: true });
    }
    const t1 = performance.now();
    await settle();
    parentPort.postMessage({ stats: true, sent, ms: t1 - t0, gcs: gcs.filter((t) => t >= t0 && t <= t1).length });
  });
} else {
  const { values: opt } = parseArgs({
    options: {
      duration: { type: 'string', default: '300' },
      rounds: { type: 'string', default: '3' },
      sizes: { type: 'string', default: '8,16,32,64' },
      samples: { type: 'string', default: '2000' },
    },
  });
  const DURATION = Number(opt.duration);
  const ROUNDS = Number(opt.rounds);
  const SIZES = opt.sizes.split(',').map(Number);
  const SAMPLES = Number(opt.samples);

  const worker = new Worker(new URL(import.meta.url));
  const stats = () => new Promise((resolve) => {
    const on = (m) => {
      if (m && m.stats) {
        worker.off('message', on);
        resolve(m);
      }
    };
    worker.on('message', on);
  });

  /** Consumes one run; returns { got, bad, lat } (lat: latencies in µs, paced runs only). */
  async function consumeKfifo(fifo, size, paced) {
    const buf = new Uint8Array(size);
    const f64 = new Float64Array(buf.buffer, 0, 1);
    const u32 = new Uint32Array(buf.buffer);
    const lat = paced ? new Float64Array(SAMPLES) : null;
    let got = 0;
    let bad = 0;
    for (;;) {
      if (k.kfifo_out(fifo, buf) === 0) {
        if ((await k.kfifo_wait_async(fifo, 10_000)) !== 'ok') break;
        continue;
      }
      if (paced) lat[got] = (now() - f64[0]) * 1000;
      else if (u32[0] !== got) bad++;
      got++;
    }
    return { got, bad, lat };
  }

  function consumePost(size, paced, credit) {
    return new Promise((resolve) => {
      const lat = paced ? new Float64Array(SAMPLES) : null;
      let got = 0;
      let bad = 0;
      const on = (m) => {
        if (m instanceof Uint8Array) {
          if (paced) lat[got] = (now() - new Float64Array(m.buffer, m.byteOffset, 1)[0]) * 1000;
          else if (new Uint32Array(m.buffer, m.byteOffset, 1)[0] !== got) bad++;
          got++;
          if (credit && (got & 1023) === 0) {
            Atomics.store(credit, 0, got);
            Atomics.notify(credit, 0);
          }
        } else if (m && m.end) {
          worker.off('message', on);
          resolve({ got, bad, lat });
        }
      };
      worker.on('message', on);
    });
  }

  async function run(method, size) {
    const out = {};
    for (const kind of ['tput', 'lat']) {
      const paced = kind === 'lat';
      const st = stats();
      let res;
      if (method === 'kfifo') {
        const fifo = k.kfifo_alloc('rec_ptr_1', 1 << 20);
        worker.postMessage({ kind, method, size, fifo, duration: DURATION, samples: SAMPLES });
        res = await consumeKfifo(fifo, size, paced);
      } else {
        const credit = new Int32Array(new SharedArrayBuffer(4));
        const p = consumePost(size, paced, credit);
        worker.postMessage({ kind, method, size, credit, duration: DURATION, samples: SAMPLES });
        res = await p;
      }
      const s = await st;
      if (res.got !== (paced ? SAMPLES : s.sent) || res.bad !== 0) throw new Error(`${method} ${size} B: sent ${s.sent}, got ${res.got}, ${res.bad} out of sequence`);
      if (paced) {
        const l = res.lat.sort();
        out.p50 = l[Math.floor(l.length * 0.5)];
        out.p99 = l[Math.floor(l.length * 0.99)];
      } else {
        out.rate = s.sent / (s.ms / 1000);
        out.gcs = s.gcs;
      }
    }
    return out;
  }

  const acc = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const size of SIZES) {
      const order = r % 2 === 0 ? ['kfifo', 'postMessage'] : ['postMessage', 'kfifo'];
      for (const m of order) ((acc[`${m} ${size}`] ??= []).push(await run(m, size)));
    }
  }
  await worker.terminate();

  const median = (a) => {
    const s = [...a].sort((x, y) => x - y);
    return s[Math.floor(s.length / 2)];
  };
  const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), duration ${DURATION} ms x ${ROUNDS} rounds, ${SAMPLES} paced samples`);
  console.log('| record | method | records/s (median) | kfifo / postMessage | p50 µs | p99 µs | producer GCs (sum over rounds) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const size of SIZES) {
    const rate = {};
    for (const m of ['kfifo', 'postMessage']) rate[m] = median(acc[`${m} ${size}`].map((x) => x.rate));
    for (const m of ['kfifo', 'postMessage']) {
      const rs = acc[`${m} ${size}`];
      console.log(
        `| ${size} B | ${m} | ${fmt(rate[m])} | ${m === 'kfifo' ? `${(rate.kfifo / rate.postMessage).toFixed(1)}x` : ''} | ` +
          `${median(rs.map((x) => x.p50)).toFixed(1)} | ${median(rs.map((x) => x.p99)).toFixed(1)} | ${rs.reduce((a, x) => a + x.gcs, 0)} |`,
      );
    }
  }
}
