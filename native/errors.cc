#include "errors.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <type_traits>

namespace ktimers {

namespace {

const char* ErrnoName(int err) {
  switch (err) {
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case ENODEV: return "ENODEV";
    case EFAULT: return "EFAULT";
    case ECANCELED: return "ECANCELED";
    case ESRCH: return "ESRCH";
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    default: return "EUNKNOWN";
  }
}

void ThrowWithCode(Napi::Error err, const char* code) {
  err.Set("code", Napi::String::New(err.Env(), code));
  err.ThrowAsJavaScriptException();
}

}  // namespace

void ThrowTypeError(Napi::Env env, const char* code, const char* msg) {
  ThrowWithCode(Napi::TypeError::New(env, msg), code);
}

void ThrowRangeError(Napi::Env env, const char* code, const char* msg) {
  ThrowWithCode(Napi::RangeError::New(env, msg), code);
}

void ThrowErrno(Napi::Env env, const char* syscall, int err) {
  ThrowErrno(env, syscall, err, std::string());
}

void ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& hint) {
  std::string msg = std::string(syscall) + " failed: " + ErrnoName(err) + " (" + std::strerror(err) + ")";
  if (!hint.empty()) msg += ": " + hint;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  ThrowWithCode(e, ErrnoName(err));
}

bool GetInt(const Napi::CallbackInfo& info, size_t i, int64_t lo, int64_t hi, int64_t* out,
            const char* what) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsNumber()) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", (std::string(what) + " must be a number").c_str());
    return false;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) ||
      d != static_cast<double>(static_cast<int64_t>(d))) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", (std::string(what) + " is out of range").c_str());
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

namespace {

// A bigint argument that fits T (int64_t: a ktime_t; uint64_t: a u64).
template <typename T>
bool GetBig(const Napi::CallbackInfo& info, size_t i, T* out, const char* what, const char* range) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsBigInt()) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", (std::string(what) + " must be a bigint").c_str());
    return false;
  }
  bool lossless = false;
  if constexpr (std::is_signed_v<T>) {
    *out = info[i].As<Napi::BigInt>().Int64Value(&lossless);
  } else {
    *out = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (!lossless) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", (std::string(what) + " does not fit in " + range).c_str());
    return false;
  }
  return true;
}

}  // namespace

bool GetKtime(const Napi::CallbackInfo& info, size_t i, int64_t* out, const char* what) {
  return GetBig<int64_t>(info, i, out, what, "a ktime_t (s64)");
}

bool GetU64(const Napi::CallbackInfo& info, size_t i, uint64_t* out, const char* what) {
  return GetBig<uint64_t>(info, i, out, what, "a u64");
}

}  // namespace ktimers
