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
#include <set>
#include <utility>
#include <vector>

#include "hrtimer_queue.h"

namespace ktimers {

// Clock indices, ordered as the kernel's hrtimer clock bases (MONOTONIC,
// REALTIME, BOOTTIME, TAI). The kernel's expiry pass walks bases in this order.
enum ClockIndex : int { kMono = 0, kReal = 1, kBoot = 2, kTai = 3, kNumClocks = 4 };
// Bases 0..3 are the hard (interrupt) bases, 4..7 their SOFT twins: the same
// numbering as the kernel's HRTIMER_BASE_* enum. Bases 8..15 mirror them on the
// virtual timeline of ktimers/testing: same queues, but never programmed into a
// timerfd and never keeping the loop alive; the virtual clock drives them.
constexpr int kNumRealBases = 8;
constexpr int kNumBases = 16;
inline bool IsVirtualBase(int base) { return base >= kNumRealBases; }
inline int ClockOfBase(int base) { return base & 3; }

// Linux clockid for each ClockIndex.
clockid_t LinuxClockId(int clock);

// How many expired slots one collect() call hands to JS at most. A larger pass
// is simply several collect() calls; order is preserved because entries leave
// the heap in (hard, seq) order. 4096 * 4 bytes keeps the buffer in L1/L2.
constexpr int kCollectCapacity = 4096;
constexpr int kIoSize = 12;
// Largest hybrid spin of one timer (ns). A spin is a busy-wait on the JS thread:
// past a second it is a hang, not a latency optimisation. Fits QueueEntry::spin.
constexpr int64_t kMaxSpinNs = 1000000000;

struct ClockState {
  int fd = -1;                 // timerfd: one per clock, never per timer
  int64_t programmed = INT64_MIN;  // absolute expiry the timerfd is armed for (clock's own time), INT64_MIN = disarmed
  bool dirty = false;          // heap top changed during a dispatch pass
  bool fired = false;          // epoll reported it readable in this wake-up
  // Spinning entries of the clock's two real bases, ordered by wake-up time
  // (hard - spin, then slot). Usually empty or one entry; kept apart so timers
  // without spin pay nothing for the feature.
  std::set<std::pair<int64_t, int32_t>> spinners;
};

class Addon {
 public:
  static Addon* Create(Napi::Env env, Napi::Function on_wake, std::string* err);
  ~Addon();

  // JS-callable operations (validated by the N-API layer in hrtimer_napi.cc).
  // Arms slot (or a fresh slot when slot < 0); returns the slot, or -1 with errno set.
  // spin: ns to arm the timerfd early and busy-wait (ignored on virtual bases).
  int32_t Start(int32_t slot, int base, int64_t soft, int64_t hard, uint64_t seq, bool refd, int32_t spin);
  void Cancel(int32_t slot);
  void SetRef(int32_t slot, bool refd);
  int Collect(int base);  // pops due timers of `base` at the pass time into collect_buf_
  bool SlotInUse(int64_t slot) const { return slots_.InUse(slot); }

  int64_t Now(int clock) const;
  // Re-programs a clock's timerfd to its earliest hard expiry. Returns 0 or errno.
  int Reprogram(int clock, bool force);

  Napi::Env env() const { return env_; }
  int32_t* collect_buf() { return collect_buf_; }
  int64_t* pass_now() { return pass_now_; }
  napi_ref collect_ref() const { return collect_ref_; }
  napi_ref now_ref() const { return now_ref_; }
  const ClockState& clock(int c) const { return clocks_[c]; }
  size_t QueueSize(int base) const { return queues_[base]->size(); }
  const HrtimerQueue& Queue(int base) const { return *queues_[base]; }
  size_t SlotsInUse() const { return slots_.in_use(); }
  int64_t RefCount() const { return refd_count_; }
  int epoll_fd() const { return epfd_; }
  // Total CLOCK_MONOTONIC ns spent busy-waiting for spinning timers (the CPU cost of spin).
  int64_t SpinTotalNs() const { return spin_total_ns_; }
  size_t Spinners() const;

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
  void Remove(int32_t slot);
  void UpdateRef(int64_t delta);
  int64_t EarliestWake(int clock) const;
  void TouchClock(int clock);
  void Forget(int base, const QueueEntry& e);
  void SpinUntilDue();

  Napi::Env env_;
  int epfd_ = -1;
  std::array<ClockState, kNumClocks> clocks_;
  SlotTable slots_;
  std::array<std::unique_ptr<HrtimerQueue>, kNumBases> queues_;
  uv_poll_t* poll_ = nullptr;        // watches epfd_ on the env's own libuv loop
  int64_t refd_count_ = 0;           // armed timers that keep the loop alive
  int64_t spin_total_ns_ = 0;        // see SpinTotalNs()
  bool in_pass_ = false;             // inside Wake(): defer timerfd re-arms to its end
  napi_ref on_wake_ = nullptr;       // JS dispatcher
  napi_async_context async_ctx_ = nullptr;
  napi_async_cleanup_hook_handle cleanup_ = nullptr;
  // Shared with JS through ArrayBuffers that V8 owns and we hold strongly (their
  // backing stores never move), so a pass needs no per-timer N-API traffic.
  int32_t* collect_buf_ = nullptr;   // kCollectCapacity slots popped by Collect()
  int64_t* pass_now_ = nullptr;      // [0..3] pass time per clock; [4],[5] soft/hard of the last Start;
                                     // [8..11] virtual pass time per clock (written by JS)
  napi_ref collect_ref_ = nullptr;
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
