// hrtimer_napi.cc — the JS-callable surface of the hrtimer core.
//
// The kernel API (validation with precise errors, state flags, restart logic,
// hrtimer_forward arithmetic) lives in lib/hrtimer/ and lib/internal/engine.ts,
// the queues in lib/internal/hrtimer-queue.ts. These functions are what JS
// cannot do itself: program a clock's timerfd when its earliest wake-up
// changes, keep the loop alive or not, read a clock. Every argument is checked again here, because the binding is
// reachable directly and must never corrupt memory, whatever it is given.
#include "hrtimer_napi.h"

#include <cerrno>
#include <string>

#include "addon.h"
#include "args.h"
#include "errors.h"

namespace ktimers {

namespace {

constexpr const char* kInvalidArg = "ERR_INVALID_ARG_TYPE";
constexpr const char* kOutOfRange = "ERR_OUT_OF_RANGE";

// A wake-up argument: a ktime_t bigint, or null for "none" (INT64_MIN).
bool GetWake(const Napi::CallbackInfo& info, size_t i, int64_t* out, const char* what) {
  if (info.Length() > i && info[i].IsNull()) {
    *out = INT64_MIN;
    return true;
  }
  if (!GetKtime(info, i, out, what)) return false;
  if (*out == INT64_MIN) {
    ThrowRangeError(info.Env(), kOutOfRange, (std::string(what) + " is out of range").c_str());
    return false;
  }
  return true;
}

}  // namespace

Addon* GetAddon(Napi::Env env) {
  Addon* a = env.GetInstanceData<Addon>();
  if (a == nullptr) {
    ThrowTypeError(env, "ERR_KTIMERS_NOT_INITIALIZED", "ktimers engine is not initialised in this environment");
  }
  return a;
}

// init(onWake) -> { io: BigInt64Array }
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (env.GetInstanceData<Addon>() != nullptr) {
    ThrowTypeError(env, "ERR_KTIMERS_ALREADY_INITIALIZED", "ktimers engine already initialised in this environment");
    return env.Undefined();
  }
  if (info.Length() < 1 || !info[0].IsFunction()) {
    ThrowTypeError(env, kInvalidArg, "onWake must be a function");
    return env.Undefined();
  }
  std::string failed;
  Addon* a = Addon::Create(env, info[0].As<Napi::Function>(), &failed);
  if (a == nullptr) {
    int err = errno;
    ThrowErrno(env, failed.c_str(), err);
    return env.Undefined();
  }
  // No finalizer: the async cleanup hook owns the Addon's lifetime.
  napi_set_instance_data(env, a, nullptr, nullptr);
  napi_value now_ab;
  napi_get_reference_value(env, a->now_ref(), &now_ab);
  Napi::Object out = Napi::Object::New(env);
  out.Set("io", Napi::TypedArrayOf<int64_t>::New(env, kIoSize, Napi::ArrayBuffer(env, now_ab), 0,
                                                 napi_bigint64_array));
  return out;
}

// program(clock, wake|null[, spinWake|null, spinDue, spinBudget]): the clock's
// earliest wake-up (absolute ns on that clock) and, when spinning timers are
// armed on it, when the earliest of them wakes, when the first of them is due
// and how long it may busy-wait (0..kMaxSpinNs). Inside a pass the timerfd is
// programmed at the pass's end.
Napi::Value Program(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  if (a == nullptr) return env.Undefined();
  int64_t clock, want, spin_wake = INT64_MIN, spin_due = INT64_MIN, budget = 0;
  if (!GetInt(info, 0, 0, kNumClocks - 1, &clock, "clock")) return env.Undefined();
  if (!GetWake(info, 1, &want, "wake")) return env.Undefined();
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!GetWake(info, 2, &spin_wake, "spinWake")) return env.Undefined();
    if (spin_wake != INT64_MIN) {
      if (!GetKtime(info, 3, &spin_due, "spinDue")) return env.Undefined();
      if (!GetInt(info, 4, 0, kMaxSpinNs, &budget, "spinBudget")) return env.Undefined();
    }
  }
  int err = a->Program(static_cast<int>(clock), want, spin_wake, spin_due, budget);
  if (err != 0) ThrowErrno(env, "timerfd_settime", err);
  return env.Undefined();
}

// setRef(refd): whether this environment's loop is kept alive by its armed timers.
Napi::Value SetRef(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  if (a == nullptr) return env.Undefined();
  if (info.Length() < 1 || !info[0].IsBoolean()) {
    ThrowTypeError(env, kInvalidArg, "refd must be a boolean");
    return env.Undefined();
  }
  a->SetRef(info[0].As<Napi::Boolean>().Value());
  return env.Undefined();
}

// now(clockIndex) -> bigint ns. Works without an initialised engine.
Napi::Value Now(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t clock;
  if (!GetInt(info, 0, 0, kNumClocks, &clock, "clock")) return env.Undefined();
  clockid_t id = clock == kNumClocks ? CLOCK_MONOTONIC_RAW : LinuxClockId(static_cast<int>(clock));
  struct timespec ts;
  clock_gettime(id, &ts);
  return Napi::BigInt::New(env, static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec);
}

// clockRes(clockIndex) -> bigint ns (clock_getres)
Napi::Value ClockRes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t clock;
  if (!GetInt(info, 0, 0, kNumClocks, &clock, "clock")) return env.Undefined();
  clockid_t id = clock == kNumClocks ? CLOCK_MONOTONIC_RAW : LinuxClockId(static_cast<int>(clock));
  struct timespec ts;
  clock_getres(id, &ts);
  return Napi::BigInt::New(env, static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec);
}

// state() -> introspection for tests and benches: fds, programmed expiries, the
// spin total (the queues' sizes are JS's: lib/internal/engine.ts, engineState()).
Napi::Value State(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = env.GetInstanceData<Addon>();
  Napi::Object out = Napi::Object::New(env);
  out.Set("initialized", Napi::Boolean::New(env, a != nullptr));
  if (a == nullptr) return out;
  Napi::Array fds = Napi::Array::New(env, kNumClocks);
  Napi::Array programmed = Napi::Array::New(env, kNumClocks);
  for (int c = 0; c < kNumClocks; c++) {
    fds.Set(c, Napi::Number::New(env, a->clock(c).fd));
    int64_t p = a->clock(c).programmed;
    programmed.Set(c, p == INT64_MIN ? env.Null() : Napi::BigInt::New(env, p).As<Napi::Value>());
  }
  out.Set("epollFd", Napi::Number::New(env, a->epoll_fd()));
  out.Set("timerFds", fds);
  out.Set("programmed", programmed);
  out.Set("refd", Napi::Boolean::New(env, a->Refd()));
  out.Set("spinNs", Napi::BigInt::New(env, a->SpinTotalNs()));
  out.Set("wakeups", Napi::Number::New(env, a->WakeCount()));
  return out;
}

}  // namespace ktimers
