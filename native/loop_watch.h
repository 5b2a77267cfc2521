// loop_watch.h — N-API entry points of the loop watch (see loop_watch.cc).
#pragma once

#include <napi.h>

namespace ktimers {

Napi::Value LoopWatch(const Napi::CallbackInfo& info);
Napi::Value LoopWatchRead(const Napi::CallbackInfo& info);
Napi::Value LoopWokeAt(const Napi::CallbackInfo& info);

}  // namespace ktimers
