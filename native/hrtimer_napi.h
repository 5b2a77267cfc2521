// hrtimer_napi.h — N-API entry points of the hrtimer core (see hrtimer_napi.cc):
// what lib/internal/engine.ts calls to arm, cancel and collect timers and read clocks.
#pragma once

#include <napi.h>

namespace ktimers {

class Addon;
// This environment's Addon, or nullptr with ERR_KTIMERS_NOT_INITIALIZED pending.
Addon* GetAddon(Napi::Env env);

Napi::Value Init(const Napi::CallbackInfo& info);
Napi::Value Start(const Napi::CallbackInfo& info);
Napi::Value Cancel(const Napi::CallbackInfo& info);
Napi::Value SetRef(const Napi::CallbackInfo& info);
Napi::Value Collect(const Napi::CallbackInfo& info);
Napi::Value Peek(const Napi::CallbackInfo& info);
Napi::Value Now(const Napi::CallbackInfo& info);
Napi::Value ClockRes(const Napi::CallbackInfo& info);
Napi::Value State(const Napi::CallbackInfo& info);

}  // namespace ktimers
