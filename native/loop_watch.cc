// loop_watch.cc — how long each turn of this environment's event loop kept it
// from its events, for monitorEventLoopDelay's list of longest blocks.
//
// A periodic timer samples the loop: it learns that a deadline was served
// late, not when the block that delayed it began, and one sample can span
// several blocks. The loop itself knows: libuv runs prepare handles once per
// iteration, right before it blocks for I/O, and counts the time it spent
// blocked (uv_metrics_idle_time, which Node enables for
// performance.eventLoopUtilization()). The wall time between two prepare
// callbacks minus the idle time between them is the time that iteration spent
// running callbacks: timers, I/O callbacks, setImmediate, close callbacks. A
// synchronous block in any of them shows there whole, whatever the sampling
// period, at the cost of two clock reads per iteration and no call into JS.
//
// Iterations busy at least the threshold are kept in native memory until JS
// reads them (loopWatchRead copies them out): nothing JS holds is written
// behind its back, so a detached or resized buffer cannot be written through.
// Everything runs on the environment's own thread: no locks.
#include <uv.h>

#include <string>

#include "loop_watch.h"

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "hrtimer_napi.h"

namespace ktimers {

namespace {
// Blocks kept between two reads; past that, they are counted as lost. JS reads
// at every sample, and an iteration at or over the threshold cannot repeat
// faster than the threshold, so this is only reached by a reader that stopped.
constexpr size_t kMaxBlocks = 8192;
constexpr size_t kReadHeader = 3;
}  // namespace

void Addon::OnPrepare(uv_prepare_t* h) {
  Addon* a = static_cast<Addon*>(h->data);
  if (!a->watching_) return;
  uint64_t now = uv_hrtime();
  uint64_t idle = uv_metrics_idle_time(h->loop);
  // watch_prev_now_ is set when the watch starts, so every prepare has a start.
  uint64_t wall = now - a->watch_prev_now_;
  uint64_t idled = idle - a->watch_prev_idle_;
  double busy = idled < wall ? static_cast<double>(wall - idled) : 0;
  a->watch_iters_ += 1;
  a->watch_busy_ += busy;
  if (busy >= a->watch_threshold_) {
    if (a->watch_blocks_.size() < 2 * kMaxBlocks) {
      a->watch_blocks_.push_back(busy);
      a->watch_blocks_.push_back(static_cast<double>(now));
    } else {
      a->watch_lost_ += 1;
    }
  }
  a->watch_prev_now_ = now;
  a->watch_prev_idle_ = idle;
}

int Addon::LoopWatch(double threshold_ns) {
  if (watching_ && threshold_ns >= 0) {
    watch_threshold_ = threshold_ns;  // a new floor for what is kept, nothing reset
    return 0;
  }
  watch_prev_now_ = 0;
  watch_iters_ = watch_busy_ = watch_lost_ = 0;
  watch_blocks_.clear();
  if (threshold_ns < 0) {
    watching_ = false;
    if (prepare_ != nullptr) uv_prepare_stop(prepare_);
    return 0;
  }
  watch_threshold_ = threshold_ns;
  if (prepare_ == nullptr) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env_, &loop) != napi_ok || loop == nullptr) return UV_EINVAL;
    prepare_ = new uv_prepare_t;
    int rc = uv_prepare_init(loop, prepare_);
    if (rc != 0) {
      delete prepare_;
      prepare_ = nullptr;
      return rc;
    }
    prepare_->data = this;
    // Watching never keeps the process alive: only what it watches does.
    uv_unref(reinterpret_cast<uv_handle_t*>(prepare_));
  }
  int rc = uv_prepare_start(prepare_, OnPrepare);
  watching_ = rc == 0;
  // The first iteration is measured from now, not from its first prepare: a
  // watch started while a module loads would otherwise miss a block in the
  // loop's first timers phase, which runs before any prepare.
  watch_prev_now_ = uv_hrtime();
  watch_prev_idle_ = uv_metrics_idle_time(prepare_->loop);
  return rc;
}

void Addon::LoopWatchRead(std::vector<double>* out) {
  out->clear();
  out->push_back(watch_iters_);
  out->push_back(watch_busy_);
  out->push_back(watch_lost_);
  out->insert(out->end(), watch_blocks_.begin(), watch_blocks_.end());
  watch_blocks_.clear();
  watch_iters_ = watch_busy_ = watch_lost_ = 0;
}

// The loop sleeps between its prepare handles and the next I/O event; libuv
// adds that sleep to the idle time as soon as it wakes, before it runs the
// event's callbacks. So from inside a callback, the prepare's time plus the
// idle time added since is when the loop woke (a little early: the prepare
// runs just before the loop starts to wait). No idle time added since the
// prepare means the loop found its events ready and did not sleep.
double Addon::LoopWokeAt() const {
  if (!watching_) return -1;
  uint64_t idled = uv_metrics_idle_time(prepare_->loop) - watch_prev_idle_;
  return idled == 0 ? -1 : static_cast<double>(watch_prev_now_ + idled);
}

// loopWatch(thresholdNs: number): starts the loop watch of this environment,
// recording iterations busy >= thresholdNs (while it runs: changes the
// threshold only); loopWatch(-1) stops it and drops what was recorded.
Napi::Value LoopWatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  if (a == nullptr) return env.Undefined();
  int64_t threshold;
  if (!GetInt(info, 0, -1, INT64_C(1) << 53, &threshold, "thresholdNs")) return env.Undefined();
  int rc = a->LoopWatch(static_cast<double>(threshold));
  if (rc != 0) {
    a->LoopWatch(-1);
    ThrowTypeError(env, "ERR_KTIMERS_INTERNAL", (std::string("loopWatch: ") + uv_strerror(rc)).c_str());
  }
  return env.Undefined();
}

// loopWatchRead() -> Float64Array [iterations, busy ns, lost, then (busy ns,
// end time) per recorded block], all since the previous read.
// Times are uv_hrtime(): CLOCK_MONOTONIC nanoseconds.
Napi::Value LoopWatchRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  if (a == nullptr) return env.Undefined();
  std::vector<double> v;
  a->LoopWatchRead(&v);
  Napi::Float64Array arr = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) arr[i] = v[i];
  static_assert(kReadHeader == 3, "header layout is read by lib/perf_hooks.ts");
  return arr;
}

// loopWokeAt() -> number: when the loop came back from its last wait for
// events (uv_hrtime ns, CLOCK_MONOTONIC), if it waited since its last prepare
// handle ran; -1 if it did not, or if the watch is off.
Napi::Value LoopWokeAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = GetAddon(env);
  return Napi::Number::New(env, a == nullptr ? -1 : a->LoopWokeAt());
}

}  // namespace ktimers
