// A sound-card style stream clock: a 48 kHz stream that signals "period
// elapsed" every 64 frames, the way an ALSA driver without a hardware
// interrupt does it (sound/drivers/dummy.c, hrtimer backend).
//
//   node examples/stream-clock-48k.js [seconds=2] [period_frames=64] [rate=48000]
//
// 64 frames at 48 kHz is 1,333,333.33… ns: no whole number of nanoseconds. A
// timer re-armed with a rounded period would drift by a frame every few
// seconds. Instead the deadline of period k is computed from k itself,
// start + ceil(k · 64 · 10^9 / 48000) ns, so the stream position stays exact
// however long it runs; and the hardware pointer is derived from the clock,
// so periods missed while the process was stalled are counted (an xrun), not
// replayed. The run ends in the callback that signals the last period, so the
// final count and the clock are read at the same instant, however busy the
// machine is.
import { createHistogram } from 'node:perf_hooks';
import {
  hrtimer, hrtimer_setup, hrtimer_start, hrtimer_set_expires, hrtimer_cancel, ktime_get,
  CLOCK_MONOTONIC, HRTIMER_MODE_ABS, HRTIMER_NORESTART, HRTIMER_RESTART, NSEC_PER_SEC,
} from 'ktimers';

const seconds = Number(process.argv[2] ?? 2);
const PERIOD = BigInt(process.argv[3] ?? 64); // frames per period
const RATE = BigInt(process.argv[4] ?? 48000); // frames per second

/** The instant period `k` ends: exact rational time, rounded up so it is never early. */
const deadline = (start, k) => start + (k * PERIOD * NSEC_PER_SEC + RATE - 1n) / RATE;
/** The periods in `seconds` of stream: the run ends when they are signalled. */
const total = BigInt(Math.round(seconds * Number(RATE))) / PERIOD;

const lateness = createHistogram();
let periodsDone = 0n; // periods signalled ("snd_pcm_period_elapsed" calls)
let callbacks = 0;
let xruns = 0n; // periods that elapsed unsignalled (the callback came too late)
let early = 0;

const timer = new hrtimer();
const start = ktime_get() + 1_000_000n;
hrtimer_setup(timer, (t) => {
  const now = ktime_get();
  // The hardware pointer: frames played so far, from the clock (as snd-dummy does).
  const frames = ((now - start) * RATE) / NSEC_PER_SEC;
  const periodsNow = frames / PERIOD;
  if (periodsNow <= periodsDone) early++; // cannot happen: hrtimers never fire early
  lateness.record(Math.max(1, Number(now - deadline(start, periodsNow))));
  xruns += periodsNow - periodsDone - 1n;
  periodsDone = periodsNow;
  callbacks++;
  if (periodsDone >= total) {
    report(now);
    return HRTIMER_NORESTART;
  }
  hrtimer_set_expires(t, deadline(start, periodsDone + 1n));
  return HRTIMER_RESTART;
}, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);

const period_ns = Number(PERIOD * NSEC_PER_SEC) / Number(RATE);
console.log(`stream clock: ${RATE} Hz, ${PERIOD} frames per period (${period_ns.toFixed(2)} ns), for ${seconds} s`);
hrtimer_start(timer, deadline(start, 1n), HRTIMER_MODE_ABS);

function report(now) {
  const clockFrames = ((now - start) * RATE) / NSEC_PER_SEC;
  const streamFrames = periodsDone * PERIOD;
  const us = (v) => (v / 1000).toFixed(1);
  console.log(`${periodsDone} periods (${streamFrames} frames) signalled in ${callbacks} callbacks; ${xruns} xruns; ${early} early`);
  const behind = clockFrames - streamFrames;
  // Read in the same callback as the count: only the period in progress can be
  // unsignalled. Anything more would be drift.
  console.log(`clock says ${clockFrames} frames: the stream is ${behind} frames behind ` +
    `(${behind >= 0n && behind < PERIOD ? 'the period in progress: no drift' : 'DRIFT'})`);
  console.log(`period-elapsed lateness: p50 ${us(lateness.percentile(50))} us  p99 ${us(lateness.percentile(99))} us  max ${us(lateness.max)} us`);
}
