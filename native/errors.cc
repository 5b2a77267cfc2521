// errors.cc — coded exceptions from native code (see errors.h).
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

}  // namespace ktimers
