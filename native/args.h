// args.h — readers of N-API arguments for every entry point.
//
// The JS layer validates arguments before they reach native code; these are the
// second line (the binding is reachable by anyone who loads the .node file), so
// a bad argument is a coded TypeError / RangeError (errors.h), never a crash.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace ktimers {

// false (with a coded exception pending) unless argument i is an integer
// number in [lo, hi].
bool GetInt(const Napi::CallbackInfo& info, size_t i, int64_t lo, int64_t hi, int64_t* out, const char* what);
// false (with a coded exception pending) unless argument i is a bigint that
// fits a ktime_t (s64).
bool GetKtime(const Napi::CallbackInfo& info, size_t i, int64_t* out, const char* what);

}  // namespace ktimers
