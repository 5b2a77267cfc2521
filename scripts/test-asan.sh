#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) and
# runs the whole test suite against it, then restores the normal build.
# Node itself is not instrumented, so the ASan runtime is preloaded; leak
# detection is off because Node's own exit-time allocations would drown it
# (fd and memory leaks of ktimers are checked by the lifecycle tests instead).
set -euo pipefail
cd "$(dirname "$0")/.."
restore() { env -u CXXFLAGS -u LDFLAGS npx node-gyp rebuild >/dev/null 2>&1 || true; }
trap restore EXIT
export CXXFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g"
export LDFLAGS="-fsanitize=address,undefined"
npx node-gyp rebuild >/dev/null
npm run build:ts >/dev/null
[[ "$(ldd build/Release/ktimers.node)" == *libasan* ]] || { echo "sanitizer flags did not reach the build" >&2; exit 1; }
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
npx vitest run "$@"
