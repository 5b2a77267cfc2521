// bench/kfifo.js — handing small records from one thread to another: a ktimers kfifo (record
// fifo over a SharedArrayBuffer) against postMessage.
//
//   node --expose-gc bench/kfifo.js [--duration 300] [--rounds 3] [--sizes 8,16,32,64] [--samples 2000]
//                                   [--consumers main,worker]
//   node --expose-gc bench/kfifo.js --one-thread [--baseline OTHER/dist] [--iters 200000] [--rounds 7]
//
// --one-thread: the per-record cost of the calls alone, on one thread: kfifo_in then kfifo_out of
// the same record (a 1 MiB 'rec_ptr_1' fifo, the caller's whole Uint8Array each time), ns per
// record per size, median of --rounds; with --baseline, another build's dist/ (say main's, in a
// second worktree) measured in the same process, the two alternating, each loop with its own
// type feedback.
//
// One producer Worker. For each record size, each round runs both methods one after the other
// (alternating which goes first), so both see the same mix of quiet and busy moments on a shared
// machine. Per method and size:
// - records/s (consumer: the main thread): the producer sends as fast as it can for --duration ms
//   (postMessage with a credit window of 10000 unconsumed messages, so its queue cannot grow
//   without bound; the kfifo is 1 MiB and the producer sleeps in kfifo_wait_space when it is
//   full); the main thread takes them with kfifo_out, sleeping in kfifo_wait_async, or in a
//   'message' listener. Every record carries its sequence number, which the consumer checks (no
//   timestamps here: reading the clock costs about as much as a kfifo hand-off).
// - hand-off latency: a paced run (--samples records, one every 100 µs, so the consumer is asleep
//   when each arrives): the producer writes its clock into the record, the consumer subtracts it
//   from its own on receipt. Two kinds of consumer (--consumers), each method used as a user would
//   use it on that thread:
//     main:   the main thread, asleep in its event loop: kfifo_wait_async (Atomics.waitAsync), or
//             a 'message' listener on the Worker; both are woken through the loop (a uv_async).
//     worker: a second Worker: blocked in kfifo_wait (Atomics.wait, a futex the producer's
//             notify wakes directly), or a 'message' listener on a MessagePort whose other end
//             the producer holds (the worker's event loop is woken and runs the task).
//   The samples of all rounds are pooled: p50/p90/p99/max and their count.
// - GCs on the producer thread during the throughput run (PerformanceObserver 'gc' in the worker).
//
// The clock: performance.now() plus this thread's offset to process.hrtime() (CLOCK_MONOTONIC,
// the same on every thread), measured at start-up, so timestamps compare across threads without
// the rounding of an epoch-sized double.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isMainThread, MessageChannel, parentPort, Worker, workerData } from 'node:worker_threads';
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
// This thread's offset from performance.now() to the monotonic clock, in ms: the bracket of two
// now() readings around process.hrtime(), the tightest of a few.
const OFF = (() => {
  let best = Infinity;
  let off = 0;
  for (let i = 0; i < 50; i++) {
    const a = performance.now();
    const [sec, ns] = process.hrtime();
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      off = sec * 1e3 + ns / 1e6 - (a + b) / 2;
    }
  }
  return off;
})();
const now = () => performance.now() + OFF;

/** --one-thread: kfifo_in + kfifo_out of one record per iteration, this build against --baseline. */
async function oneThread(opt) {
  const { resolve } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  const N = Number(opt.iters);
  const ROUNDS = Number(opt.rounds ?? 7);
  const SIZES = opt.sizes.split(',').map(Number);
  const libs = [{ name: 'this build', k }];
  if (opt.baseline) libs.push({ name: 'baseline', k: await import(pathToFileURL(resolve(opt.baseline, 'kfifo/index.js')).href) });
  let gcs = 0;
  new PerformanceObserver((l) => (gcs += l.getEntries().length)).observe({ entryTypes: ['gc'] });
  const cases = [];
  for (const lib of libs) {
    for (const size of SIZES) {
      // A loop function of its own per case (new Function): closures of one literal would share
      // their type feedback, and the two builds' calls would make each other's sites polymorphic.
      const loop = new Function('k', 'f', 'r', 'b', 'n', 'let s = 0; for (let i = 0; i < n; i++) { r[1] = i & 0xff; s = (s + k.kfifo_in(f, r) - k.kfifo_out(f, b)) | 0; } return s;');
      const f = lib.k.kfifo_alloc('rec_ptr_1', 1 << 20);
      const r = new Uint8Array(size).map((_, i) => (i * 37 + 200) & 0xff);
      const b = new Uint8Array(size);
      cases.push({ lib: lib.name, size, run: () => loop(lib.k, f, r, b, N), ns: [] });
    }
  }
  for (const c of cases) for (let w = 0; w < 3; w++) if (c.run() !== 0) throw new Error('in and out disagree');
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 50));
  gcs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
      const t0 = performance.now();
      c.run();
      c.ns.push(((performance.now() - t0) * 1e6) / N);
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${N} records x ${ROUNDS} rounds per case, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; GCs while timing: ${gcs}`);
  console.log(`| record | ${libs.map((l) => `${l.name} ns/record (median [min-max])`).join(' | ')} |${libs.length > 1 ? ' this / baseline |' : ''}`);
  console.log(`|---|${libs.map(() => '---|').join('')}${libs.length > 1 ? '---|' : ''}`);
  for (const size of SIZES) {
    const cs = cases.filter((c) => c.size === size);
    const cell = (c) => `${median(c.ns).toFixed(0)} [${Math.min(...c.ns).toFixed(0)}-${Math.max(...c.ns).toFixed(0)}]`;
    console.log(`| ${size} B | ${cs.map(cell).join(' | ')} |${cs.length > 1 ? ` ${(median(cs[0].ns) / median(cs[1].ns)).toFixed(2)} |` : ''}`);
  }
}

if (!isMainThread && workerData?.role === 'consumer') {
  // The second worker: consumes one paced run at a time, as a user's worker thread would.
  parentPort.on('message', (m) => {
    const lat = new Float64Array(m.samples);
    let got = 0;
    if (m.method === 'kfifo') {
      const buf = new Uint8Array(m.size);
      const f64 = new Float64Array(buf.buffer, 0, 1);
      parentPort.postMessage({ ready: true });
      for (;;) {
        if (k.kfifo_out(m.fifo, buf) === 0) {
          if (k.kfifo_wait(m.fifo, 10_000) !== 'ok') break;
          continue;
        }
        if (got < lat.length) lat[got] = (now() - f64[0]) * 1000;
        got++;
      }
      parentPort.postMessage({ lat, got });
    } else {
      const port = m.port;
      port.on('message', (r) => {
        if (r instanceof Uint8Array) {
          if (got < lat.length) lat[got] = (now() - new Float64Array(r.buffer, r.byteOffset, 1)[0]) * 1000;
          got++;
        } else {
          port.close();
          parentPort.postMessage({ lat, got });
        }
      });
      parentPort.postMessage({ ready: true });
    }
  });
} else if (!isMainThread) {
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
      // paced: one record every 100 µs (spinning: a sleep would add its own wake-up latency), to
      // the main thread or, through the MessagePort given, to the consumer worker
      const sink = m.port ?? parentPort;
      for (let i = 0; i < m.samples; i++) {
        const t = performance.now() + 0.1;
        while (performance.now() < t);
        f64[0] = now();
        if (m.method === 'kfifo') {
          while (k.kfifo_in(m.fifo, rec) === 0) k.kfifo_wait_space(m.fifo, m.size + 1, 1000);
        } else {
          sink.postMessage(rec);
        }
      }
      if (m.method === 'kfifo') k.kfifo_close(m.fifo);
      else sink.postMessage({ end: true }); // (the consumer closes the port once it has read it)
    }
    const t1 = performance.now();
    await settle();
    parentPort.postMessage({ stats: true, sent, ms: t1 - t0, gcs: gcs.filter((t) => t >= t0 && t <= t1).length });
  });
} else {
  const { values: opt } = parseArgs({
    options: {
      duration: { type: 'string', default: '300' },
      rounds: { type: 'string' }, // default 3 (one-thread: 7)
      sizes: { type: 'string', default: '8,16,32,64' },
      samples: { type: 'string', default: '2000' },
      consumers: { type: 'string', default: 'main,worker' },
      'one-thread': { type: 'boolean', default: false },
      baseline: { type: 'string' },
      iters: { type: 'string', default: '200000' },
    },
  });
  if (opt['one-thread']) {
    await oneThread(opt);
    process.exit(0);
  }
  const DURATION = Number(opt.duration);
  const ROUNDS = Number(opt.rounds ?? 3);
  const SIZES = opt.sizes.split(',').map(Number);
  const SAMPLES = Number(opt.samples);
  const CONSUMERS = opt.consumers.split(',');
  for (const c of CONSUMERS) if (c !== 'main' && c !== 'worker') throw new Error(`--consumers: main and/or worker, got ${c}`);

  const worker = new Worker(new URL(import.meta.url));
  const consumer = CONSUMERS.includes('worker') ? new Worker(new URL(import.meta.url), { workerData: { role: 'consumer' } }) : null;
  const fromConsumer = () => new Promise((resolve) => consumer.once('message', resolve));
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

  /** A paced run with the consumer on the second worker; returns its latencies (µs). */
  async function runWorkerLat(method, size) {
    const st = stats();
    let ready = fromConsumer();
    if (method === 'kfifo') {
      const fifo = k.kfifo_alloc('rec_ptr_1', 1 << 20);
      consumer.postMessage({ method, size, fifo, samples: SAMPLES });
      await ready;
      ready = fromConsumer();
      worker.postMessage({ kind: 'lat', method, size, fifo, samples: SAMPLES });
    } else {
      const { port1, port2 } = new MessageChannel();
      consumer.postMessage({ method, size, port: port2, samples: SAMPLES }, [port2]);
      await ready;
      ready = fromConsumer();
      worker.postMessage({ kind: 'lat', method, size, port: port1, samples: SAMPLES }, [port1]);
    }
    const [res] = await Promise.all([ready, st]);
    if (res.got !== SAMPLES) throw new Error(`${method} ${size} B to a worker: sent ${SAMPLES}, got ${res.got}`);
    return res.lat;
  }

  async function run(method, size) {
    const out = { lat: {} };
    for (const kind of ['tput', ...CONSUMERS.map((c) => `lat-${c}`)]) {
      if (kind === 'lat-worker') {
        out.lat.worker = await runWorkerLat(method, size);
        continue;
      }
      const paced = kind !== 'tput';
      const st = stats();
      let res;
      if (method === 'kfifo') {
        const fifo = k.kfifo_alloc('rec_ptr_1', 1 << 20);
        worker.postMessage({ kind: paced ? 'lat' : kind, method, size, fifo, duration: DURATION, samples: SAMPLES });
        res = await consumeKfifo(fifo, size, paced);
      } else {
        const credit = new Int32Array(new SharedArrayBuffer(4));
        const p = consumePost(size, paced, credit);
        worker.postMessage({ kind: paced ? 'lat' : kind, method, size, credit, duration: DURATION, samples: SAMPLES });
        res = await p;
      }
      const s = await st;
      if (res.got !== (paced ? SAMPLES : s.sent) || res.bad !== 0) throw new Error(`${method} ${size} B: sent ${s.sent}, got ${res.got}, ${res.bad} out of sequence`);
      if (paced) {
        out.lat.main = res.lat;
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
  await consumer?.terminate();

  const median = (a) => {
    const s = [...a].sort((x, y) => x - y);
    return s[Math.floor(s.length / 2)];
  };
  /** Pools the latencies of every round; its percentiles (nearest rank), max and count. */
  const pooled = (rs, c) => {
    const all = new Float64Array(rs.reduce((n, x) => n + x.lat[c].length, 0));
    let o = 0;
    for (const x of rs) {
      all.set(x.lat[c], o);
      o += x.lat[c].length;
    }
    all.sort();
    const q = (p) => all[Math.min(all.length - 1, Math.ceil(all.length * p) - 1)];
    return { n: all.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: all[all.length - 1] };
  };
  const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), duration ${DURATION} ms x ${ROUNDS} rounds, ${SAMPLES} paced samples per run, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('');
  console.log('Throughput, worker to the main thread:');
  console.log('| record | method | records/s (median) | kfifo / postMessage | producer GCs (sum over rounds) |');
  console.log('|---|---|---|---|---|');
  for (const size of SIZES) {
    const rate = {};
    for (const m of ['kfifo', 'postMessage']) rate[m] = median(acc[`${m} ${size}`].map((x) => x.rate));
    for (const m of ['kfifo', 'postMessage']) {
      const rs = acc[`${m} ${size}`];
      console.log(
        `| ${size} B | ${m} | ${fmt(rate[m])} | ${m === 'kfifo' ? `${(rate.kfifo / rate.postMessage).toFixed(1)}x` : ''} | ${rs.reduce((a, x) => a + x.gcs, 0)} |`,
      );
    }
  }
  const how = {
    main: { kfifo: 'kfifo_wait_async', postMessage: "'message' on the Worker" },
    worker: { kfifo: 'kfifo_wait (blocking)', postMessage: "'message' on a MessagePort" },
  };
  console.log('');
  console.log('Hand-off latency, one record every 100 µs (µs; samples of all rounds pooled):');
  console.log('| record | consumer | method | how it waits | samples | p50 | p90 | p99 | max |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const c of CONSUMERS) {
    for (const size of SIZES) {
      for (const m of ['kfifo', 'postMessage']) {
        const p = pooled(acc[`${m} ${size}`], c);
        console.log(`| ${size} B | ${c === 'main' ? 'main thread' : 'worker'} | ${m} | ${how[c][m]} | ${p.n} | ${p.p50.toFixed(1)} | ${p.p90.toFixed(1)} | ${p.p99.toFixed(1)} | ${p.max.toFixed(1)} |`);
      }
    }
  }
}
