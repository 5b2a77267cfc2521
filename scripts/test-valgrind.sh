#!/usr/bin/env bash
# npm run test:valgrind — a reduced suite under valgrind's memcheck, against
# the addon built with debug info in its own directory (build-valgrind/, as
# test-asan.sh does with build-asan/; the loader finds it via KTIMERS_PREBUILD).
#
# Not part of `npm test`: valgrind slows Node 20-50x (about 4 minutes here).
# The ASan + UBSan run (npm run test:asan, in npm test) covers the whole suite;
# this pass adds what ASan does not see: reads of uninitialised memory.
#
# Reduced suite: the files that drive the native code hardest without long
# real-time waits — test/hrtimer.test.ts (every native entry point, the wake
# path on real timerfds), test/timer.test.ts and test/testing.test.ts (the
# native wheel, the virtual clock's collect passes), test/validation.test.ts
# without its 244k-call fuzz (the native binding's argument checks and error
# paths), and test/lifecycle.test.ts without the child processes that only
# test ref/unref timing, error reporting or loading: what stays is workers
# loading and being terminated mid-flight (also mid-callback), process.exit at
# every stage with timers armed, exit with workqueue work in flight,
# destroy_workqueue with items pending, and GC.
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
skip='fuzz: every export|keeping the process alive (a |an |unref)|callback errors|loading|V8 flags Worker refuses'
status=0
valgrind --trace-children=yes --trace-children-skip='*esbuild*,*/sh,*/bash,*/dash' \
  --suppressions="$root/scripts/valgrind.supp" --error-exitcode=97 --num-callers=30 \
  --log-file="$out/logs/vg.%p.log" \
  node node_modules/vitest/vitest.mjs run --testTimeout=300000 --hookTimeout=300000 \
  -t "^(?!.*(${skip}))" "${files[@]}" "$@" || status=$?

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
