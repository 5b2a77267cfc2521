// proto.cc — the two ways a timerfd expiry can reach JS, side by side, for run.js.
//   (A) startPoll: a one-shot TFD_TIMER_ABSTIME timerfd watched by libuv (uv_poll) on
//       the JS thread; the callback calls cb via napi_make_callback, then re-arms
//       *after* JS ran, skipping passed periods. The shape ktimers ships.
//   (B) startThread: a periodic timerfd (the kernel keeps the schedule) read by a
//       native thread blocked in read(); one TSFN NonBlockingCall per read().
// Both call cb(expiryNs, wakeNs, backlog): expiryNs = the CLOCK_MONOTONIC expiry armed
// (B: the latest one the read() covered); wakeNs = CLOCK_MONOTONIC as soon as native
// code runs after the wake (A: first thing in the poll callback; B: right after
// read()); backlog = ticks still queued in the TSFN when this one was queued (A: 0).
// stop*() closes the fd, joins the thread, releases the TSFN; env cleanup hooks do
// the same if a process or Worker ends with a path running.
#include <napi.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <thread>
namespace {
constexpr int64_t kNsPerSec = 1000000000;
int64_t Mono() {  // the clock process.hrtime.bigint() reads
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}
// Absolute arm; interval 0 = one-shot.
int ArmAbs(int fd, int64_t at, int64_t interval) {
  auto ts = [](int64_t ns) { return timespec{static_cast<time_t>(ns / kNsPerSec), static_cast<long>(ns % kNsPerSec)}; };
  struct itimerspec its = {ts(interval), ts(at)};
  return timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, nullptr);
}

// The same three arguments, built the same way, for both paths.
void MakeArgs(napi_env env, int64_t expiry, int64_t wake, int32_t backlog, napi_value* argv) {
  napi_create_bigint_int64(env, expiry, &argv[0]);
  napi_create_bigint_int64(env, wake, &argv[1]);
  napi_create_int32(env, backlog, &argv[2]);
}

// A throw cannot stay pending on a libuv callback: route it to 'uncaughtException'
// in both paths (Node 20's legacy TSFN policy would only print a DEP0168 warning).
void Rethrow(napi_env env, napi_status st) {
  napi_value exc;
  bool pending = false;
  if (st != napi_ok && napi_is_exception_pending(env, &pending) == napi_ok && pending &&
      napi_get_and_clear_last_exception(env, &exc) == napi_ok)
    napi_fatal_exception(env, exc);
}

// ---- (A) uv_poll on the JS thread ---------------------------------------------
struct PollRun {
  napi_env env;
  uv_poll_t handle;
  int fd = -1;
  bool stopping = false;
  int64_t interval = 0, expiry = 0;  // expiry: what the timerfd is armed for now
  napi_ref cb = nullptr;
  napi_async_context actx = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;
};
// The running path of each kind, per environment: Node runs one environment per
// thread (main or Worker), so thread_local is per-environment state.
struct ThreadRun;
thread_local PollRun* g_poll = nullptr;
thread_local ThreadRun* g_thr = nullptr;

void OnPoll(uv_poll_t* h, int status, int events) {
  const int64_t wake = Mono();  // the earliest native stamp this path can take
  PollRun* r = static_cast<PollRun*>(h->data);
  if (r->stopping) return;
  napi_env env = r->env;
  napi_handle_scope scope;  // a libuv callback has none
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, argv[3], result;
  napi_get_reference_value(env, r->cb, &fn);
  napi_get_global(env, &recv);  // make_callback needs an object receiver
  MakeArgs(env, r->expiry, wake, 0, argv);
  // make_callback, as ktimers does: microtasks run after the callback.
  Rethrow(env, napi_make_callback(env, r->actx, recv, fn, 3, argv, &result));
  napi_close_handle_scope(env, scope);
  if (r->stopping) return;  // cb called stopPoll(); the close callback frees r
  // Re-arm after JS ran (as ktimers does: no syscall before the callback).
  // Periods that already passed are skipped, and JS sees them as lost.
  const int64_t now = Mono();
  int64_t next = r->expiry + r->interval;
  if (next <= now) next += ((now - next) / r->interval + 1) * r->interval;
  ArmAbs(r->fd, r->expiry = next, 0);  // also clears the fd's readable state: no read()
}

void OnPollClosed(uv_handle_t* h) {
  PollRun* r = static_cast<PollRun*>(h->data);
  close(r->fd);  // only now: libuv must not watch a closed fd
  napi_remove_async_cleanup_hook(r->hook);
  delete r;
}

// Shared by stopPoll() and environment teardown (an *async* hook, because the
// handle can only be freed after libuv's close callback).
void ClosePoll(PollRun* r) {
  if (g_poll == r) g_poll = nullptr;
  r->stopping = true;
  napi_delete_reference(r->env, r->cb);
  napi_async_destroy(r->env, r->actx);
  uv_poll_stop(&r->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&r->handle), OnPollClosed);
}

// ---- (B) native thread + thread-safe function ----------------------------------
struct ThreadRun {
  int fd = -1;
  int64_t start = 0, interval = 0;
  std::atomic<bool> stop{false};
  std::atomic<int32_t> pending{0};  // ticks queued in the TSFN, not yet run
  std::thread th;
  Napi::ThreadSafeFunction tsfn;
};
struct Tick { ThreadRun* run; int64_t expiry, wake; int32_t backlog; };

// Runs on the JS thread. env is null when Node drains the queue at teardown,
// possibly after the finalizer freed the ThreadRun, so run is not touched then.
void CallJs(Napi::Env env, Napi::Function fn, Tick* t) {
  if (env != nullptr && fn != nullptr) {
    t->run->pending.fetch_sub(1, std::memory_order_relaxed);
    // Raw call, not fn.Call(): with C++ exceptions off, node-addon-api aborts
    // when a call fails during Worker termination.
    napi_value argv[3], result;
    MakeArgs(env, t->expiry, t->wake, t->backlog, argv);
    Rethrow(env, napi_call_function(env, env.Global(), fn, 3, argv, &result));
  }
  delete t;
}

void ThreadMain(ThreadRun* r) {
  uint64_t periods = 0;  // expirations seen so far
  while (!r->stop.load(std::memory_order_acquire)) {
    uint64_t count = 0;
    ssize_t n = read(r->fd, &count, sizeof count);  // blocking fd
    const int64_t wake = Mono();
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof count || r->stop.load(std::memory_order_acquire)) break;
    periods += count;  // count > 1: the kernel coalesced expiries (lost ticks)
    Tick* t = new Tick{r, r->start + static_cast<int64_t>(periods - 1) * r->interval, wake,
                       r->pending.fetch_add(1, std::memory_order_relaxed)};
    napi_status s = r->tsfn.NonBlockingCall(t, CallJs);
    if (s == napi_ok) continue;
    r->pending.fetch_sub(1, std::memory_order_relaxed);
    delete t;
    if (s == napi_closing) break;  // the environment is going away
  }
}

void StopThreadRun(ThreadRun* r) {
  r->stop.store(true, std::memory_order_release);
  ArmAbs(r->fd, 1, 0);  // absolute 1 ns = already expired: wakes the blocked read()
  r->th.join();
  close(r->fd);
  r->tsfn.Release();  // queued ticks still run; the finalizer then frees r
}

// Registered after the TSFN was created, so it runs before Node's own TSFN teardown
// hook (hooks run in reverse order): the thread is joined while the TSFN is valid.
void OnThreadCleanup(void* arg) {
  if (g_thr == arg) g_thr = nullptr;
  StopThreadRun(static_cast<ThreadRun*>(arg));
}
// ---- JS entry points -------------------------------------------------------------
Napi::Value Fail(Napi::Env env, const char* what) {
  Napi::Error::New(env, what).ThrowAsJavaScriptException();
  return env.Undefined();
}
// (intervalNs: bigint >= 1 us, cb: function); throws and returns false otherwise.
bool Args(const Napi::CallbackInfo& info, int64_t* interval) {
  bool lossless = false;
  if (info.Length() >= 2 && info[0].IsBigInt() && info[1].IsFunction()) {
    *interval = info[0].As<Napi::BigInt>().Int64Value(&lossless);
    if (lossless && *interval >= 1000) return true;
  }
  return Fail(info.Env(), "expected (intervalNs: bigint >= 1000n, cb: function)"), false;
}

Napi::Value StartPoll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t interval;
  if (!Args(info, &interval)) return env.Undefined();
  if (g_poll != nullptr) ClosePoll(g_poll);
  PollRun* r = new PollRun;
  r->env = env, r->interval = interval;
  r->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  if (r->fd < 0 || uv_poll_init(loop, &r->handle, r->fd) != 0) {
    if (r->fd >= 0) close(r->fd);
    return delete r, Fail(env, "timerfd_create or uv_poll_init failed");
  }
  r->handle.data = r;
  napi_create_reference(env, info[1], 1, &r->cb);
  napi_async_init(env, nullptr, Napi::String::New(env, "delivery:poll"), &r->actx);
  auto cleanup = [](napi_async_cleanup_hook_handle, void* a) { ClosePoll(static_cast<PollRun*>(a)); };
  napi_add_async_cleanup_hook(env, cleanup, r, &r->hook);
  ArmAbs(r->fd, r->expiry = Mono() + interval, 0);
  uv_poll_start(&r->handle, UV_READABLE, OnPoll);
  g_poll = r;
  return env.Undefined();
}

Napi::Value StopPoll(const Napi::CallbackInfo& info) {
  if (g_poll != nullptr) ClosePoll(g_poll);  // returns at once; the fd closes in uv_close's callback
  return info.Env().Undefined();
}
Napi::Value StopThread(const Napi::CallbackInfo& info) {
  if (ThreadRun* r = g_thr) {
    g_thr = nullptr;
    napi_remove_env_cleanup_hook(info.Env(), OnThreadCleanup, r);
    StopThreadRun(r);
  }
  return info.Env().Undefined();
}

Napi::Value StartThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t interval;
  if (!Args(info, &interval)) return env.Undefined();
  StopThread(info);
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);  // blocking: the thread sleeps in read()
  if (fd < 0) return Fail(env, "timerfd_create failed");
  ThreadRun* r = new ThreadRun;
  r->fd = fd, r->interval = interval;
  // Unbounded queue: the thread never blocks on JS, so a busy JS thread shows up
  // as backlog (ticks delivered late, back to back), not as dropped calls.
  r->tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "delivery:thread", 0, 1, r,
                                          [](Napi::Env, ThreadRun* ctx) { delete ctx; });
  napi_add_env_cleanup_hook(env, OnThreadCleanup, r);
  ArmAbs(r->fd, r->start = Mono() + interval, interval);  // periodic: the kernel keeps the schedule
  r->th = std::thread(ThreadMain, r);
  g_thr = r;
  return env.Undefined();
}
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("startPoll", Napi::Function::New(env, StartPoll));
  exports.Set("stopPoll", Napi::Function::New(env, StopPoll));
  exports.Set("startThread", Napi::Function::New(env, StartThread));
  exports.Set("stopThread", Napi::Function::New(env, StopThread));
  return exports;
}
}  // namespace
NODE_API_MODULE(delivery_proto, Init)
