// hrtimer_napi.h — N-API entry points of the hrtimer core (see hrtimer_napi.cc):
// what lib/internal/engine.ts calls to program a clock's timerfd, keep the loop
// alive and read clocks.
#pragma once

#include <napi.h>

namespace ktimers {

class Addon;
// This environment's Addon, or nullptr with ERR_KTIMERS_NOT_INITIALIZED pending.
Addon* GetAddon(Napi::Env env);

Napi::Value Init(const Napi::CallbackInfo& info);
Napi::Value Program(const Napi::CallbackInfo& info);
Napi::Value SetRef(const Napi::CallbackInfo& info);
Napi::Value Now(const Napi::CallbackInfo& info);
Napi::Value ClockRes(const Napi::CallbackInfo& info);
Napi::Value State(const Napi::CallbackInfo& info);

}  // namespace ktimers
