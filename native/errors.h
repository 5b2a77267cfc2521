// errors.h — one way to raise errors from native code, with a stable `code`.
//
// Native checks (the argument readers of args.h, the entry points' own) throw
// the same classes with the same codes as the JS layer, so a caller of the bare
// binding gets the errors a ktimers user would, never an assertion.
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

}  // namespace ktimers
