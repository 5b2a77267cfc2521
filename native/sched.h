// sched.h — per-thread real-time controls (scheduling policy, affinity, nice,
// memory locking) for whichever thread calls them: the main thread or a
// worker_thread, since each runs JS on its own OS thread.
#pragma once

#include <napi.h>

namespace ktimers {

Napi::Value GetTid(const Napi::CallbackInfo& info);
Napi::Value SchedSetScheduler(const Napi::CallbackInfo& info);
Napi::Value SchedGetScheduler(const Napi::CallbackInfo& info);
Napi::Value SchedPriorityMin(const Napi::CallbackInfo& info);
Napi::Value SchedPriorityMax(const Napi::CallbackInfo& info);
Napi::Value SchedSetAffinity(const Napi::CallbackInfo& info);
Napi::Value SchedGetAffinity(const Napi::CallbackInfo& info);
Napi::Value SetPriority(const Napi::CallbackInfo& info);
Napi::Value GetPriority(const Napi::CallbackInfo& info);
Napi::Value MlockAll(const Napi::CallbackInfo& info);
Napi::Value MunlockAll(const Napi::CallbackInfo& info);
Napi::Value CpuCounts(const Napi::CallbackInfo& info);

}  // namespace ktimers
