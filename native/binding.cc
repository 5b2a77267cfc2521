// binding.cc — module registration only. State is per environment (addon.h).
#ifndef __linux__
#error "ktimers needs Linux: it is built on timerfd and epoll"
#endif

#include <napi.h>

#include "hrtimer_napi.h"
#include "loop_watch.h"
#include "sched.h"

namespace {

Napi::Object RegisterModule(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, ktimers::Init, "init"));
  exports.Set("program", Napi::Function::New(env, ktimers::Program, "program"));
  exports.Set("setRef", Napi::Function::New(env, ktimers::SetRef, "setRef"));
  exports.Set("now", Napi::Function::New(env, ktimers::Now, "now"));
  exports.Set("clockRes", Napi::Function::New(env, ktimers::ClockRes, "clockRes"));
  exports.Set("state", Napi::Function::New(env, ktimers::State, "state"));
  exports.Set("loopWatch", Napi::Function::New(env, ktimers::LoopWatch, "loopWatch"));
  exports.Set("loopWatchRead", Napi::Function::New(env, ktimers::LoopWatchRead, "loopWatchRead"));
  exports.Set("loopWokeAt", Napi::Function::New(env, ktimers::LoopWokeAt, "loopWokeAt"));
  exports.Set("gettid", Napi::Function::New(env, ktimers::GetTid, "gettid"));
  exports.Set("schedSetScheduler", Napi::Function::New(env, ktimers::SchedSetScheduler, "schedSetScheduler"));
  exports.Set("schedGetScheduler", Napi::Function::New(env, ktimers::SchedGetScheduler, "schedGetScheduler"));
  exports.Set("schedPriorityMin", Napi::Function::New(env, ktimers::SchedPriorityMin, "schedPriorityMin"));
  exports.Set("schedPriorityMax", Napi::Function::New(env, ktimers::SchedPriorityMax, "schedPriorityMax"));
  exports.Set("schedSetAffinity", Napi::Function::New(env, ktimers::SchedSetAffinity, "schedSetAffinity"));
  exports.Set("schedGetAffinity", Napi::Function::New(env, ktimers::SchedGetAffinity, "schedGetAffinity"));
  exports.Set("setPriority", Napi::Function::New(env, ktimers::SetPriority, "setPriority"));
  exports.Set("getPriority", Napi::Function::New(env, ktimers::GetPriority, "getPriority"));
  exports.Set("mlockAll", Napi::Function::New(env, ktimers::MlockAll, "mlockAll"));
  exports.Set("munlockAll", Napi::Function::New(env, ktimers::MunlockAll, "munlockAll"));
  exports.Set("cpuCounts", Napi::Function::New(env, ktimers::CpuCounts, "cpuCounts"));
  return exports;
}

}  // namespace

NODE_API_MODULE(ktimers, RegisterModule)
