// sched.cc — per-thread real-time controls.
//
// Design: every call acts on a kernel thread id (0 = the calling thread), not
// on the process. Linux applies sched_setscheduler, sched_setaffinity and
// setpriority(PRIO_PROCESS, tid) to a single thread, which is what a latency
// tool (only the timer thread at SCHED_FIFO) and the workqueue (WQ_HIGHPRI
// workers at a lower nice, per-CPU workers pinned) need: JS in a worker_thread
// runs on its own OS thread, so a worker calling these with tid 0 changes only
// itself. mlockall is process-wide by nature and is documented as such.
//
// Nothing here keeps state, so it is trivially per-environment. Arguments are
// validated again here (the JS layer checks first) because the binding is
// reachable by anyone who loads the .node file. A refusal by the OS throws an
// Error whose code is the errno name and whose message says what is missing
// (the capability or the rlimit and its current value), since "EPERM" alone
// does not tell a user how to fix it.
#include "sched.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"

namespace ktimers {

namespace {

// pid_t is int; ids above PID_MAX_LIMIT (4M) cannot exist, but the kernel is
// the judge of that (ESRCH), so accept the whole non-negative int range.
constexpr int64_t kMaxTid = 0x7fffffff;
// The largest CPU id accepted in an affinity mask (CONFIG_NR_CPUS max is 8192).
constexpr int64_t kMaxCpu = 8191;

bool GetTidArg(const Napi::CallbackInfo& info, pid_t* out) {
  int64_t v;
  if (!GetInt(info, 0, 0, kMaxTid, &v, "tid")) return false;
  *out = static_cast<pid_t>(v);
  return true;
}

bool ValidPolicy(int64_t p) {
  return p == SCHED_OTHER || p == SCHED_FIFO || p == SCHED_RR || p == SCHED_BATCH || p == SCHED_IDLE;
}

bool GetPolicyArg(const Napi::CallbackInfo& info, size_t i, int* out) {
  int64_t v;
  if (!GetInt(info, i, 0, 7, &v, "policy")) return false;
  if (!ValidPolicy(v)) {
    ThrowRangeError(info.Env(), "ERR_OUT_OF_RANGE",
                    "policy must be SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH or SCHED_IDLE");
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

std::string RlimitText(int resource) {
  struct rlimit rl;
  if (getrlimit(resource, &rl) != 0) return "unknown";
  if (rl.rlim_cur == RLIM_INFINITY) return "unlimited";
  return std::to_string(static_cast<unsigned long long>(rl.rlim_cur));
}

const char* PolicyName(int policy) {
  switch (policy) {
    case SCHED_OTHER: return "SCHED_OTHER";
    case SCHED_FIFO: return "SCHED_FIFO";
    case SCHED_RR: return "SCHED_RR";
    case SCHED_BATCH: return "SCHED_BATCH";
    case SCHED_IDLE: return "SCHED_IDLE";
    default: return "policy";
  }
}

}  // namespace

Napi::Value GetTid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

Napi::Value SchedSetScheduler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid;
  int policy;
  int64_t prio;
  if (!GetTidArg(info, &tid) || !GetPolicyArg(info, 1, &policy) || !GetInt(info, 2, 0, 99, &prio, "priority")) {
    return env.Undefined();
  }
  const int lo = sched_get_priority_min(policy);
  const int hi = sched_get_priority_max(policy);
  if (prio < lo || prio > hi) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE",
                    (std::string("priority for ") + PolicyName(policy) + " must be in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]").c_str());
    return env.Undefined();
  }
  struct sched_param sp = {};
  sp.sched_priority = static_cast<int>(prio);
  if (sched_setscheduler(tid, policy, &sp) != 0) {
    const int err = errno;
    std::string hint;
    if (err == EPERM) {
      hint = (policy == SCHED_FIFO || policy == SCHED_RR)
                 ? std::string(PolicyName(policy)) + " priority " + std::to_string(prio) +
                       " needs CAP_SYS_NICE or RLIMIT_RTPRIO >= " + std::to_string(prio) +
                       " (RLIMIT_RTPRIO is " + RlimitText(RLIMIT_RTPRIO) + ")"
                 : "leaving a real-time or SCHED_IDLE policy needs CAP_SYS_NICE";
    }
    ThrowErrno(env, "sched_setscheduler", err, hint);
  }
  return env.Undefined();
}

Napi::Value SchedGetScheduler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid;
  if (!GetTidArg(info, &tid)) return env.Undefined();
  const int policy = sched_getscheduler(tid);
  if (policy < 0) {
    ThrowErrno(env, "sched_getscheduler", errno);
    return env.Undefined();
  }
  struct sched_param sp = {};
  if (sched_getparam(tid, &sp) != 0) {
    ThrowErrno(env, "sched_getparam", errno);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  // SCHED_RESET_ON_FORK is a flag or'ed into the policy; report the policy.
  o.Set("policy", Napi::Number::New(env, policy & ~SCHED_RESET_ON_FORK));
  o.Set("priority", Napi::Number::New(env, sp.sched_priority));
  return o;
}

Napi::Value SchedPriorityMin(const Napi::CallbackInfo& info) {
  int policy;
  if (!GetPolicyArg(info, 0, &policy)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), sched_get_priority_min(policy));
}

Napi::Value SchedPriorityMax(const Napi::CallbackInfo& info) {
  int policy;
  if (!GetPolicyArg(info, 0, &policy)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), sched_get_priority_max(policy));
}

Napi::Value SchedSetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid;
  if (!GetTidArg(info, &tid)) return env.Undefined();
  if (info.Length() < 2 || !info[1].IsArray()) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "cpus must be an array of CPU ids");
    return env.Undefined();
  }
  Napi::Array arr = info[1].As<Napi::Array>();
  const uint32_t n = arr.Length();
  if (n == 0 || n > kMaxCpu + 1) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", "cpus must name at least one CPU");
    return env.Undefined();
  }
  std::vector<int> cpus;
  cpus.reserve(n);
  int64_t maxCpu = 0;
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = arr.Get(i);  // may run a getter: re-check the pending exception
    if (env.IsExceptionPending()) return env.Undefined();
    if (!v.IsNumber()) {
      ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "cpus must contain only numbers");
      return env.Undefined();
    }
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= static_cast<double>(kMaxCpu)) || d != static_cast<double>(static_cast<int64_t>(d))) {
      ThrowRangeError(env, "ERR_OUT_OF_RANGE", "a CPU id must be an integer in [0, 8191]");
      return env.Undefined();
    }
    cpus.push_back(static_cast<int>(d));
    if (d > maxCpu) maxCpu = static_cast<int64_t>(d);
  }
  const int ncpu = static_cast<int>(maxCpu) + 1;
  cpu_set_t* set = CPU_ALLOC(ncpu);
  if (set == nullptr) {
    ThrowErrno(env, "CPU_ALLOC", ENOMEM);
    return env.Undefined();
  }
  const size_t size = CPU_ALLOC_SIZE(ncpu);
  CPU_ZERO_S(size, set);
  for (int c : cpus) CPU_SET_S(c, size, set);
  const int rc = sched_setaffinity(tid, size, set);
  const int err = errno;
  CPU_FREE(set);
  if (rc != 0) {
    ThrowErrno(env, "sched_setaffinity", err,
               err == EINVAL ? "no CPU of the mask is online and allowed (cpuset)"
                             : (err == EPERM ? "changing another user's thread needs CAP_SYS_NICE" : ""));
  }
  return env.Undefined();
}

Napi::Value SchedGetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid;
  if (!GetTidArg(info, &tid)) return env.Undefined();
  // The kernel refuses (EINVAL) a mask smaller than its nr_cpu_ids: grow until it fits.
  for (int ncpu = 1024; ncpu <= 65536; ncpu *= 2) {
    cpu_set_t* set = CPU_ALLOC(ncpu);
    if (set == nullptr) {
      ThrowErrno(env, "CPU_ALLOC", ENOMEM);
      return env.Undefined();
    }
    const size_t size = CPU_ALLOC_SIZE(ncpu);
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(tid, size, set) == 0) {
      Napi::Array out = Napi::Array::New(env);
      uint32_t k = 0;
      for (int c = 0; c < ncpu; c++) {
        if (CPU_ISSET_S(c, size, set)) out.Set(k++, Napi::Number::New(env, c));
      }
      CPU_FREE(set);
      return out;
    }
    const int err = errno;
    CPU_FREE(set);
    if (err != EINVAL) {
      ThrowErrno(env, "sched_getaffinity", err);
      return env.Undefined();
    }
  }
  ThrowErrno(env, "sched_getaffinity", EINVAL);
  return env.Undefined();
}

Napi::Value SetPriority(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid;
  int64_t nice;
  if (!GetTidArg(info, &tid) || !GetInt(info, 1, -20, 19, &nice, "nice")) return env.Undefined();
  // On Linux PRIO_PROCESS with a thread id sets that thread's nice only.
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(tid), static_cast<int>(nice)) != 0) {
    const int err = errno;
    std::string hint;
    if (err == EACCES || err == EPERM) {
      hint = "lowering nice to " + std::to_string(nice) + " needs CAP_SYS_NICE or RLIMIT_NICE >= " +
             std::to_string(20 - nice) + " (RLIMIT_NICE is " + RlimitText(RLIMIT_NICE) + ")";
    }
    ThrowErrno(env, "setpriority", err, hint);
  }
  return env.Undefined();
}

Napi::Value GetPriority(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid;
  if (!GetTidArg(info, &tid)) return env.Undefined();
  errno = 0;  // -1 is a valid nice: only errno tells failure apart
  const int v = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (v == -1 && errno != 0) {
    ThrowErrno(env, "getpriority", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, v);
}

Napi::Value MlockAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t flags;
  if (!GetInt(info, 0, 1, MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT, &flags, "flags")) return env.Undefined();
  if ((flags & (MCL_CURRENT | MCL_FUTURE)) == 0) {
    ThrowRangeError(env, "ERR_OUT_OF_RANGE", "flags must include MCL_CURRENT or MCL_FUTURE");
    return env.Undefined();
  }
  if (mlockall(static_cast<int>(flags)) != 0) {
    const int err = errno;
    std::string hint;
    if (err == EPERM || err == ENOMEM) {
      hint = "locking all memory needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK (RLIMIT_MEMLOCK is " +
             RlimitText(RLIMIT_MEMLOCK) + " bytes)";
    }
    ThrowErrno(env, "mlockall", err, hint);
  }
  return env.Undefined();
}

Napi::Value MunlockAll(const Napi::CallbackInfo& info) {
  if (munlockall() != 0) ThrowErrno(info.Env(), "munlockall", errno);
  return info.Env().Undefined();
}

Napi::Value CpuCounts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("configured", Napi::Number::New(env, static_cast<double>(sysconf(_SC_NPROCESSORS_CONF))));
  o.Set("online", Napi::Number::New(env, static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN))));
  return o;
}

}  // namespace ktimers
