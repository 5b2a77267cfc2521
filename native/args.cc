// args.cc — readers of N-API arguments (see args.h).
#include "args.h"

#include <string>

#include "errors.h"

namespace ktimers {

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

bool GetKtime(const Napi::CallbackInfo& info, size_t i, int64_t* out, const char* what) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsBigInt()) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", (std::string(what) + " must be a bigint").c_str());
    return false;
  }
  bool lossless = false;
  *out = info[i].As<Napi::BigInt>().Int64Value(&lossless);
  if (!lossless) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", (std::string(what) + " does not fit in a ktime_t (s64)").c_str());
    return false;
  }
  return true;
}

}  // namespace ktimers
