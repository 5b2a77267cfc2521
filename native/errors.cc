#include "errors.h"

#include <cerrno>
#include <cstring>
#include <string>

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
  std::string msg = std::string(syscall) + " failed: " + std::strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  ThrowWithCode(e, ErrnoName(err));
}

}  // namespace ktimers
