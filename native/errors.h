// errors.h — one way to raise errors from native code, with a stable `code`.
//
// The JS layer validates arguments before they reach native code; these checks
// are the second line (the binding is reachable by anyone who loads the .node
// file), so they throw the same classes with the same codes instead of asserting.
#pragma once

#include <napi.h>

#include <string>

namespace ktimers {

void ThrowTypeError(Napi::Env env, const char* code, const char* msg);
void ThrowRangeError(Napi::Env env, const char* code, const char* msg);
// A failed syscall: Error with code = errno name (e.g. "EMFILE"), errno, syscall.
void ThrowErrno(Napi::Env env, const char* syscall, int err);
// The same, with a hint saying what is missing (e.g. the capability or rlimit).
void ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& hint);

// Argument readers: false (with a coded exception pending) unless the argument
// is an integer number in [lo, hi] / a bigint that fits.
bool GetInt(const Napi::CallbackInfo& info, size_t i, int64_t lo, int64_t hi, int64_t* out, const char* what);
bool GetKtime(const Napi::CallbackInfo& info, size_t i, int64_t* out, const char* what);
bool GetU64(const Napi::CallbackInfo& info, size_t i, uint64_t* out, const char* what);

}  // namespace ktimers
