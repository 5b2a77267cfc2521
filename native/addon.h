// addon.h — per-environment state of the ktimers addon.
//
// Everything lives in one Addon per Node environment (the main thread and each
// worker_thread get their own), created lazily by the JS layer's first arm and
// torn down by an async cleanup hook. Nothing is file-scope global, so the addon
// is context-aware and a terminated Worker leaves no fd, handle or memory behind.
//
// Ownership: every member is touched only on the environment's JS thread (the
// uv_poll callback runs there too), so no locks are needed.
#pragma once

#include <napi.h>
#include <uv.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace ktimers {

// Clock indices, ordered as the kernel's hrtimer clock bases (MONOTONIC,
// REALTIME, BOOTTIME, TAI). The kernel's expiry pass walks bases in this order.
enum ClockIndex : int { kMono = 0, kReal = 1, kBoot = 2, kTai = 3, kNumClocks = 4 };
// The clock bases and their queues live in JS (lib/internal/hrtimer-queue.ts):
// native code only holds what JS cannot, one timerfd per clock, and is told
// by JS when a clock's earliest wake-up changes.

// Linux clockid for each ClockIndex.
clockid_t LinuxClockId(int clock);

// The shared BigInt64Array: [0..3] the pass time per clock, sampled once per
// wake-up before JS is called; [4..11] spare (JS writes the virtual pass time
// at [8..11]).
constexpr int kIoSize = 12;
// Largest hybrid spin of one timer (ns). A spin is a busy-wait on the JS thread:
// past a second it is a hang, not a latency optimisation.
constexpr int64_t kMaxSpinNs = 1000000000;

struct ClockState {
  int fd = -1;                 // timerfd: one per clock, never per timer
  int64_t want = INT64_MIN;    // the wake-up JS asked for (clock's own time), INT64_MIN = none
  int64_t programmed = INT64_MIN;  // absolute expiry the timerfd is armed for (clock's own time), INT64_MIN = disarmed
  bool dirty = false;          // JS changed `want` during a dispatch pass
  bool fired = false;          // epoll reported it readable in this wake-up
  // The spin of the clock's spinning timers (see addon.cc, "Spin"), as JS
  // computed it: when the earliest spinner wants to wake, the earliest instant
  // a spinner becomes due, and how long the waking one may busy-wait.
  // spin_wake == INT64_MIN: no spinning timer on this clock.
  int64_t spin_wake = INT64_MIN;
  int64_t spin_due = INT64_MIN;
  int64_t spin_budget = 0;
};

class Addon {
 public:
  static Addon* Create(Napi::Env env, Napi::Function on_wake, std::string* err);
  ~Addon();

  // JS-callable operations (validated by the N-API layer in hrtimer_napi.cc).
  // Sets the wake-up of `clock` (INT64_MIN: none) and its spin (spin_wake
  // INT64_MIN: none), and programs the timerfd unless inside a pass (then at
  // its end). Returns 0 or errno.
  int Program(int clock, int64_t want, int64_t spin_wake, int64_t spin_due, int64_t spin_budget);
  // Whether the environment's loop is kept alive (JS counts its ref'd armed timers).
  void SetRef(bool refd);

  int64_t Now(int clock) const;
  // Re-programs a clock's timerfd to the wake-up JS asked for. Returns 0 or errno.
  int Reprogram(int clock, bool force);

  Napi::Env env() const { return env_; }
  int64_t* pass_now() { return pass_now_; }
  napi_ref now_ref() const { return now_ref_; }
  const ClockState& clock(int c) const { return clocks_[c]; }
  bool Refd() const { return refd_; }
  int epoll_fd() const { return epfd_; }
  // Total CLOCK_MONOTONIC ns spent busy-waiting for spinning timers (the CPU cost of spin).
  int64_t SpinTotalNs() const { return spin_total_ns_; }
  // Wake-ups of the timerfds so far (tests: a timer moved later costs one early wake-up, not a stream of them).
  double WakeCount() const { return static_cast<double>(wake_count_); }

  // The loop watch (loop_watch.cc): per-iteration busy time of this
  // environment's libuv loop. threshold_ns < 0 stops it. Returns 0 or a libuv
  // error code.
  int LoopWatch(double threshold_ns);
  // Moves the blocks recorded since the last read into out (see loop_watch.cc).
  void LoopWatchRead(std::vector<double>* out);
  // When the loop last came back from waiting for its events, if it waited
  // since the last prepare (uv_hrtime ns), else -1 (see loop_watch.cc).
  double LoopWokeAt() const;

 private:
  explicit Addon(Napi::Env env);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnCleanup(napi_async_cleanup_hook_handle handle, void* arg);
  static void OnClosed(uv_handle_t* handle);
  static void OnPrepare(uv_prepare_t* handle);
  static void OnPrepareClosed(uv_handle_t* handle);
  void ClosedOne();
  void Wake();
  void SpinUntilDue();

  Napi::Env env_;
  int epfd_ = -1;
  std::array<ClockState, kNumClocks> clocks_;
  uv_poll_t* poll_ = nullptr;        // watches epfd_ on the env's own libuv loop
  bool refd_ = false;                // the poll handle keeps the loop alive
  int64_t spin_total_ns_ = 0;        // see SpinTotalNs()
  uint64_t wake_count_ = 0;          // see WakeCount()
  bool in_pass_ = false;             // inside Wake(): defer timerfd re-arms to its end
  napi_ref on_wake_ = nullptr;       // JS dispatcher
  napi_async_context async_ctx_ = nullptr;
  napi_async_cleanup_hook_handle cleanup_ = nullptr;
  // Shared with JS through an ArrayBuffer that V8 owns and we hold strongly (its
  // backing store never moves), so a pass needs no per-clock N-API traffic.
  int64_t* pass_now_ = nullptr;      // [0..3] pass time per clock; [8..11] virtual pass time (written by JS)
  napi_ref now_ref_ = nullptr;
  int closing_ = 0;                  // handles whose uv_close callback is still to come

  // Loop watch: a prepare handle runs once per loop iteration, just before the
  // loop blocks for I/O; the time since the previous one minus the loop's idle
  // time in between is how long that iteration kept the loop from its events.
  uv_prepare_t* prepare_ = nullptr;
  bool watching_ = false;
  double watch_threshold_ = 0;       // record iterations busy at least this long (ns)
  uint64_t watch_prev_now_ = 0;      // uv_hrtime() at the previous prepare, or at the start (0: stopped)
  uint64_t watch_prev_idle_ = 0;     // uv_metrics_idle_time() then
  double watch_iters_ = 0, watch_busy_ = 0, watch_lost_ = 0;
  std::vector<double> watch_blocks_;  // busy ns, end time (uv_hrtime) pairs since the last read
};

}  // namespace ktimers
