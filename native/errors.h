// errors.h — one way to raise errors from native code, with a stable `code`.
//
// The JS layer validates arguments before they reach native code; these checks
// are the second line (the binding is reachable by anyone who loads the .node
// file), so they throw the same classes with the same codes instead of asserting.
#pragma once

#include <napi.h>

namespace ktimers {

void ThrowTypeError(Napi::Env env, const char* code, const char* msg);
void ThrowRangeError(Napi::Env env, const char* code, const char* msg);
// A failed syscall: Error with code = errno name (e.g. "EMFILE"), errno, syscall.
void ThrowErrno(Napi::Env env, const char* syscall, int err);

}  // namespace ktimers
