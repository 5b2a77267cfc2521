#!/usr/bin/env bash
# npm run test:valgrind — a reduced suite under valgrind's memcheck, against
# the addon built with debug info in its own directory (build-valgrind/, as
# test-asan.sh does with build-asan/; the loader finds it via KTIMERS_PREBUILD).
#
# Not part of `npm test`: valgrind slows Node 20-50x (about 6 minutes here).
# The ASan + UBSan run (npm run test:asan, in npm test) covers the whole suite;
# this pass adds what ASan does not see: reads of uninitialised memory.
#
# Reduced suite: the files that drive the native code hardest without long
# real-time waits — test/hrtimer.test.ts (every native entry point, the wake
# path on real timerfds), test/timer.test.ts and test/testing.test.ts (the
# wheel's NO_HZ tick on a native hrtimer, the virtual clock's collect passes), test/validation.test.ts
# without its two random fuzzes (342k + 40k calls; what stays is the native
# binding's argument checks and error paths, every parameter's bad values), and test/lifecycle.test.ts without the child processes that only
# test ref/unref timing, error reporting or loading: what stays is workers
# loading and being terminated mid-flight (also mid-callback), process.exit at
# every stage with timers armed, exit with workqueue work in flight,
# destroy_workqueue with items pending, and GC.
#
# One test file at a time (--maxWorkers=1): two memchecked forks on two cores
# starve vitest's own (memchecked) process. See below for vitest's RPC timeout.
#
# Every Node process (vitest, its forks, the fixtures the tests spawn) runs
# under memcheck; esbuild (Go) and shells are skipped. Node's and V8's own
# reports are suppressed with scripts/valgrind.supp (each entry says why).
# Clean means: no unsuppressed error in any process, in particular none with a
# frame in ktimers.node. Logs: build-valgrind/logs/vg.<pid>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build-valgrind

if ! command -v valgrind >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    apt-get install -y valgrind >/dev/null
  else
    echo "test:valgrind needs valgrind (Debian: apt-get install -y valgrind)" >&2
    exit 1
  fi
fi

rm -rf "$out"
mkdir -p "$out/logs"
cp binding.gyp "$out/"
cp -r native "$out/"
CXXFLAGS="-g -fno-omit-frame-pointer" \
  npx node-gyp rebuild --directory="$out" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
npm run build:ts >/dev/null

export KTIMERS_PREBUILD=$out
# Time limits of tests waiting on children and workers scale by this (test/helpers.ts).
export KTIMERS_TEST_SLOWDOWN=10
files=(test/hrtimer.test.ts test/timer.test.ts test/testing.test.ts test/validation.test.ts test/lifecycle.test.ts)
skip='fuzz: every export|tuples per function, method|keeping the process alive (a |an |unref)|callback errors|loading|V8 flags Worker refuses'
set +e
valgrind --trace-children=yes --trace-children-skip='*esbuild*,*/sh,*/bash,*/dash' \
  --suppressions="$root/scripts/valgrind.supp" --error-exitcode=97 --num-callers=30 \
  --log-file="$out/logs/vg.%p.log" \
  node node_modules/vitest/vitest.mjs run --testTimeout=300000 --hookTimeout=300000 --maxWorkers=1 --minWorkers=1 \
  -t "^(?!.*(${skip}))" "${files[@]}" "$@" 2>&1 | tee "$out/vitest.log"
status=${PIPESTATUS[0]}
set -e

# vitest's workers wait at most 60 s (fixed, not configurable) for the main
# process to acknowledge a progress report, and a worker only reads the answer
# when its event loop turns: a test that runs synchronously for over a minute
# under memcheck (the hrtimer engine's 10 s test is ~50x slower here) fails the
# run with 'Timeout calling "onTaskUpdate"' although every test passed. That
# error alone is not a failure of the suite: accept it when the summary has no
# failed test and every unhandled error is that timeout.
if ((status)) && ! grep -qE '^ +(Tests|Test Files) .*failed' "$out/vitest.log"; then
  errors=$(grep -cE '^(Error|TypeError|RangeError|AssertionError)' "$out/vitest.log" || true)
  rpc=$(grep -c 'Timeout calling "onTaskUpdate"' "$out/vitest.log" || true)
  if ((errors > 0 && errors == rpc)); then
    echo "test:valgrind: every test passed; vitest reported $rpc RPC timeout(s) of its own (onTaskUpdate), not counted" >&2
    status=0
  fi
fi

# Summarise every process's log.
procs=0
dirty=()
for log in "$out"/logs/vg.*.log; do
  grep -q 'ERROR SUMMARY' "$log" || continue
  procs=$((procs + 1))
  if ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then dirty+=("$log"); fi
done
ours=$(grep -l 'ktimers.node' "$out"/logs/vg.*.log 2>/dev/null | xargs -r grep -l -E 'Invalid (read|write|free)|uninitialised|Mismatched|overlap' || true)
echo "test:valgrind: $procs processes under memcheck; with errors: ${#dirty[@]}; reports with a ktimers.node frame: $(wc -w <<<"$ours")" >&2
for log in "${dirty[@]}"; do grep -E '^==[0-9]+== (Command|ERROR SUMMARY)' "$log" >&2; done
if ((${#dirty[@]})) || [[ -n $ours ]] || ((status)); then
  echo "test:valgrind: NOT clean (vitest exit $status); see $out/logs" >&2
  exit 1
fi
echo "test:valgrind: clean" >&2
