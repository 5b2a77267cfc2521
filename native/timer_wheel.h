// timer_wheel.h — the kernel's non-cascading hierarchical timer wheel (timer_list).
//
// Design (kernel/time/timer.c, Linux 4.8+; shared/kernel-api.md §b)
// ------
// LVL_DEPTH levels (9, or 8 when HZ <= 100) of 64 buckets each. Level L has a
// granularity of 8^L jiffies. A timer is put, once, in the level whose range
// holds its timeout (expires − clk) and in the bucket of the first multiple of
// 8^L strictly after `expires`; it is never moved again (no cascading). So a
// timer never fires early and fires 1..8^L jiffies late: the slack the kernel
// accepts for timeouts that are mostly cancelled before they expire. Timeouts
// past the wheel's capacity are placed as if they were WHEEL_TIMEOUT_MAX.
//
// Level table for the default HZ = 1000 (depth 9; delta = expires − clk):
//
//   Lvl  bucket offs  granularity       delta range (jiffies)          range (time)
//    0      0         1 j  =    1 ms      0 ..           62            0 ..   62 ms
//    1     64         8 j  =    8 ms     63 ..          503           63 ..  503 ms
//    2    128        64 j  =   64 ms    504 ..        4,031        0.504 .. 4.031 s
//    3    192       512 j  =  512 ms  4,032 ..       32,255        4.032 .. 32.26 s
//    4    256     4,096 j  =  4.1 s  32,256 ..      258,047        32.3 s .. 4.3 min
//    5    320    32,768 j  = 32.8 s  258,048 ..    2,064,383        4.3 .. 34.4 min
//    6    384   262,144 j  = 4.4 min 2,064,384 ..  16,515,071       34.4 min .. 4.59 h
//    7    448 2,097,152 j  =  35 min 16,515,072 .. 132,120,575      4.59 .. 36.7 h
//    8    512 16,777,216 j = 4.66 h  132,120,576 .. 1,056,964,607   36.7 h .. 12.23 d
//   cap: delta >= 1,056,964,608 is placed as clk + 1,040,187,392 (12.04 d)
//
// State per base (kernel: struct timer_base): `clk` (the wheel's own jiffy, one
// ahead of jiffies while callbacks run), `next_expiry` (earliest bucket expiry),
// `next_expiry_recalc` (a bucket was emptied by a delete), a pending bitmap of
// WHEEL_SIZE bits, and the bucket lists. Timers are added at the head of a bucket,
// so a bucket expires most-recent-first; collected buckets run from the highest
// level down (kernel order, §b.5). Three bases as on a NO_HZ kernel:
// BASE_LOCAL (pinned), BASE_GLOBAL, BASE_DEF (deferrable).
//
// Storage: one entry per pending timer, addressed by a slot number that the JS
// side maps to its timer_list object (as the hrtimer queue does); lists are
// intrusive and doubly linked through slot numbers, so delete is O(1). The wheel
// has no clock and no fd: the JS driver (lib/timer.ts) tells it the jiffy, and
// arms one hrtimer (on the CLOCK_MONOTONIC timerfd) for the next bucket expiry.
#pragma once

#include <napi.h>

#include <array>
#include <cstdint>
#include <vector>

#include "slot_pool.h"

namespace ktimers {

constexpr int kLvlClkShift = 3;
constexpr uint64_t kLvlClkMask = 7;
constexpr int kLvlBits = 6;
constexpr int kLvlSize = 64;
constexpr uint64_t kLvlMask = 63;
constexpr int kMaxDepth = 9;
constexpr int kWheelMaxSize = kLvlSize * kMaxDepth;
constexpr uint64_t kTimerNextMaxDelta = (uint64_t{1} << 30) - 1;
constexpr int kNumWheelBases = 3;  // BASE_LOCAL, BASE_GLOBAL, BASE_DEF

// __mod_timer() options, with the kernel's values.
constexpr int kModPendingOnly = 0x01;
constexpr int kModReduce = 0x02;
constexpr int kModNotPending = 0x04;
// ktimers-private: the timer was collected in the current pass (see JsDrain).
constexpr int kModBatched = 0x08;
// ktimers-private: the caller compared timer->expires itself (it owns the field).
constexpr int kModChecked = 0x10;

// Where a pending timer's entry is linked.
constexpr int16_t kInBucket = 0;    // vectors[idx]
constexpr int16_t kInExpiring = 1;  // a collected list of the current pass

struct WheelEntry {
  uint64_t expires;
  int32_t next;   // slot, -1 = end
  int32_t prev;   // slot, -1 = list head
  int16_t idx;    // bucket index (kept while on an expiring list, as the kernel keeps it in flags)
  int16_t where;  // kInBucket / kInExpiring; -1 when the slot is free
  uint8_t base;
  uint8_t level;  // expiring list number while kInExpiring
};

struct WheelBase {
  uint64_t clk = 0;
  uint64_t next_expiry = 0;
  bool next_expiry_recalc = false;
  bool timers_pending = false;
  std::array<uint64_t, kWheelMaxSize / 64> pending_map{};
  std::array<int32_t, kWheelMaxSize> vectors;
  // Lists collected by one iteration of __run_timers, run highest level first.
  std::array<int32_t, kMaxDepth> expiring;
  int levels = 0;
  WheelBase() {
    vectors.fill(-1);
    expiring.fill(-1);
  }
};

class TimerWheel : public Napi::ObjectWrap<TimerWheel> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit TimerWheel(const Napi::CallbackInfo& info);

  struct ModResult {
    int32_t slot;  // -1: not pending afterwards
    int updated;   // timer->expires was set
    int lowered;   // next_expiry moved earlier
    int ret;       // the kernel's return value
  };
  ModResult Mod(int32_t slot, int base, uint64_t expires, uint64_t jiffies, int options);
  ModResult ModBatched(int base, uint64_t expires, uint64_t jiffies, int options, int old_idx);

  // Pure wheel operations.
  int CalcWheelIndex(uint64_t expires, uint64_t clk, uint64_t* bucket_expiry) const;
  void ForwardBase(WheelBase& b, uint64_t jiffies);
  void RecalcNextExpiry(WheelBase& b);

 private:
  // JS: mod(slot, base, expires, jiffies | null, options) -> ((slot + 1) * 2 + updated) * 4 + lowered * 2 + ret
  Napi::Value JsMod(const Napi::CallbackInfo& info);
  // JS: del(slot) -> 1
  Napi::Value JsDel(const Napi::CallbackInfo& info);
  // JS: collect(base, jiffies) -> number of lists collected (0: nothing due)
  Napi::Value JsCollect(const Napi::CallbackInfo& info);
  // JS: drain(base, Int32Array) -> n; (slot, idx) pairs of the pass's timers in run order
  Napi::Value JsDrain(const Napi::CallbackInfo& info);
  // JS: nextExpiry(base) -> bigint next bucket expiry, or null when nothing is pending
  Napi::Value JsNextExpiry(const Napi::CallbackInfo& info);
  // JS: reset(clk) -> fresh, empty bases at clk (virtual clock; nothing may be pending)
  Napi::Value JsReset(const Napi::CallbackInfo& info);
  // JS: info(slot) -> [bucket idx, level, where (0 bucket, 1 expiring)] or null, for tests
  Napi::Value JsInfo(const Napi::CallbackInfo& info);
  // JS: state(base) -> { clk, nextExpiry, pending, recalc }
  Napi::Value JsState(const Napi::CallbackInfo& info);

  int32_t AllocSlot();
  void FreeSlot(int32_t s);
  bool SlotPending(int64_t s) const;
  void LinkHead(int32_t* head, int32_t s);
  void Unlink(int32_t* head, int32_t s);
  int32_t* HeadOf(int32_t s);
  void Enqueue(WheelBase& b, int32_t s, int idx, uint64_t bucket_expiry);
  int DetachIfPending(int32_t s);
  int NextPendingBucket(const WheelBase& b, int offset, int clk) const;
  bool TestBit(const WheelBase& b, int idx) const { return (b.pending_map[idx >> 6] >> (idx & 63)) & 1; }
  void SetBit(WheelBase& b, int idx) { b.pending_map[idx >> 6] |= uint64_t{1} << (idx & 63); }
  void ClearBit(WheelBase& b, int idx) { b.pending_map[idx >> 6] &= ~(uint64_t{1} << (idx & 63)); }

  uint64_t NowJiffies() const;
  void RefreshEmpty(WheelBase& b, uint64_t jiffies);
  void EnqueueNew(WheelBase& b, int32_t s, int base, uint64_t expires, int idx, uint64_t bucket_expiry, ModResult* r);

  int depth_;
  uint64_t initial_jiffies_ = 0;
  int64_t tick_nsec_ = 1000000;
  uint64_t lvl_start_[kMaxDepth + 1];
  uint64_t timeout_cutoff_;
  uint64_t timeout_max_;
  std::array<WheelBase, kNumWheelBases> bases_;
  SlotPool<WheelEntry> slots_;
};

}  // namespace ktimers
