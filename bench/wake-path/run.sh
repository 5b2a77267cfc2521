#!/usr/bin/env bash
# bench/wake-path/run.sh [rounds=5] [interval_us=1000] [samples=2000]
# Interleaves, per round: C clock_nanosleep, C timerfd+epoll+nested epoll, ktimers hrtimer.
# Needs root for SCHED_FIFO / cpu_dma_latency (as cyclictest) and a C compiler.
set -euo pipefail
cd "$(dirname "$0")"
cc -O2 -o /tmp/ktimers-wake wake.c
rounds=${1:-5}; iv=${2:-1000}; n=${3:-2000}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  /tmp/ktimers-wake 0 "$iv" "$n"
  /tmp/ktimers-wake 3 "$iv" "$n"
  node ktimers.mjs "$n" "$iv"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
