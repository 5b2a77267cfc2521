// hrtimer_napi.cc — the JS-callable surface of the hrtimer core.
//
// The kernel API (validation with precise errors, state flags, restart logic,
// hrtimer_forward arithmetic) lives in lib/hrtimer/ and lib/internal/engine.ts. These functions are the
// thin, hot path underneath it: arm / disarm / re-ref a slot, pop expired slots,
// read a clock. Every argument is checked again here, because the binding is
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

int64_t AddSafe(int64_t a, int64_t b) {
  // ktime_add_safe(): wrapping sum; a negative result, or one below either
  // operand, saturates to KTIME_MAX (including the kernel's negative-operand quirk).
  int64_t res = static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  if (res < 0 || res < a || res < b) return INT64_MAX;
  return res;
}

bool GetSlot(const Napi::CallbackInfo& info, size_t i, Addon* a, int32_t* out) {
  int64_t s;
  if (!GetInt(info, i, 0, INT32_MAX, &s, "slot")) return false;
  if (!a->SlotInUse(s)) {
    ThrowRangeError(info.Env(), "ERR_KTIMERS_BAD_SLOT", "slot is not armed");
    return false;
  }
  *out = static_cast<int32_t>(s);
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

// init(onWake) -> { collect: Int32Array, io: BigInt64Array }
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
  napi_value collect_ab, now_ab;
  napi_get_reference_value(env, a->collect_ref(), &collect_ab);
  napi_get_reference_value(env, a->now_ref(), &now_ab);
  Napi::Object out = Napi::Object::New(env);
  out.Set("collect", Napi::Int32Array::New(env, kCollectCapacity, Napi::ArrayBuffer(env, collect_ab), 0));
  out.Set("io", Napi::TypedArrayOf<int64_t>::New(env, kIoSize, Napi::ArrayBuffer(env, now_ab), 0,
                                                 napi_bigint64_array));
  return out;
}

// start(slot|-1, base, a, b, rel, seq, refd[, spin]) -> slot; writes soft, hard to io[4], io[5].
// rel: soft = ktime_add_safe(a, now), hard = ktime_add_safe(soft, b) (b = range);
// abs: soft = a, hard = b (already computed by the caller).
// spin: ns to wake early and busy-wait (hrtimer_set_spin_ns), 0..kMaxSpinNs; absent = 0.
Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  if (a == nullptr) return env.Undefined();
  int64_t slot, base, x, y, seq;
  if (!GetInt(info, 0, -1, INT32_MAX, &slot, "slot")) return env.Undefined();
  if (slot >= 0 && !a->SlotInUse(slot)) {
    ThrowRangeError(env, "ERR_KTIMERS_BAD_SLOT", "slot is not armed");
    return env.Undefined();
  }
  if (!GetInt(info, 1, 0, kNumBases - 1, &base, "base")) return env.Undefined();
  if (!GetKtime(info, 2, &x, "soft")) return env.Undefined();
  if (!GetKtime(info, 3, &y, "hard")) return env.Undefined();
  if (info.Length() < 5 || !info[4].IsBoolean()) {
    ThrowTypeError(env, kInvalidArg, "rel must be a boolean");
    return env.Undefined();
  }
  if (!GetInt(info, 5, 0, (int64_t{1} << 53), &seq, "seq")) return env.Undefined();
  if (info.Length() < 7 || !info[6].IsBoolean()) {
    ThrowTypeError(env, kInvalidArg, "refd must be a boolean");
    return env.Undefined();
  }
  int64_t spin = 0;
  if (info.Length() >= 8 && !info[7].IsUndefined() && !GetInt(info, 7, 0, kMaxSpinNs, &spin, "spin")) {
    return env.Undefined();
  }
  bool rel = info[4].As<Napi::Boolean>().Value();
  bool refd = info[6].As<Napi::Boolean>().Value();
  int b = static_cast<int>(base);
  int64_t soft = rel ? AddSafe(x, a->Now(ClockOfBase(b))) : x;
  int64_t hard = rel ? AddSafe(soft, y) : y;
  int32_t s = a->Start(static_cast<int32_t>(slot), b, soft, hard, static_cast<uint64_t>(seq), refd,
                       static_cast<int32_t>(spin));
  if (s < 0) {
    ThrowErrno(env, "timerfd_settime", errno);
    return env.Undefined();
  }
  a->pass_now()[kNumClocks] = soft;
  a->pass_now()[kNumClocks + 1] = hard;
  return Napi::Number::New(env, s);
}

// cancel(slot)
Napi::Value Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  int32_t slot;
  if (a == nullptr || !GetSlot(info, 0, a, &slot)) return env.Undefined();
  a->Cancel(slot);
  return env.Undefined();
}

// setRef(slot, refd)
Napi::Value SetRef(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  int32_t slot;
  if (a == nullptr || !GetSlot(info, 0, a, &slot)) return env.Undefined();
  if (info.Length() < 2 || !info[1].IsBoolean()) {
    ThrowTypeError(env, kInvalidArg, "refd must be a boolean");
    return env.Undefined();
  }
  a->SetRef(slot, info[1].As<Napi::Boolean>().Value());
  return env.Undefined();
}

// collect(base) -> n; slots in the shared Int32Array
Napi::Value Collect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  int64_t base;
  if (a == nullptr || !GetInt(info, 0, 0, kNumBases - 1, &base, "base")) return env.Undefined();
  return Napi::Number::New(env, a->Collect(static_cast<int>(base)));
}

// peek(base) -> the earliest hard expiry of a base (bigint), or null when empty.
// The virtual clock uses it to step from event to event.
Napi::Value Peek(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  int64_t base;
  if (a == nullptr || !GetInt(info, 0, 0, kNumBases - 1, &base, "base")) return env.Undefined();
  const HrtimerQueue& q = a->Queue(static_cast<int>(base));
  if (q.empty()) return env.Null();
  return Napi::BigInt::New(env, q.top().hard);
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

// state() -> introspection for tests and benches: fds, programmed expiries, sizes.
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
  Napi::Array sizes = Napi::Array::New(env, kNumBases);
  for (int b = 0; b < kNumBases; b++) sizes.Set(b, Napi::Number::New(env, static_cast<double>(a->QueueSize(b))));
  out.Set("epollFd", Napi::Number::New(env, a->epoll_fd()));
  out.Set("timerFds", fds);
  out.Set("programmed", programmed);
  out.Set("queued", sizes);
  out.Set("slotsInUse", Napi::Number::New(env, static_cast<double>(a->SlotsInUse())));
  out.Set("refCount", Napi::Number::New(env, static_cast<double>(a->RefCount())));
  out.Set("spinners", Napi::Number::New(env, static_cast<double>(a->Spinners())));
  out.Set("spinNs", Napi::BigInt::New(env, a->SpinTotalNs()));
  return out;
}

}  // namespace ktimers
