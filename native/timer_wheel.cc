// timer_wheel.cc — see timer_wheel.h for the design and the level table.
// Each function mirrors its kernel counterpart in kernel/time/timer.c (named in
// its comment); the arithmetic is the kernel's on 64-bit unsigned long.
#include "timer_wheel.h"

#include <time.h>

#include <string>

#include "errors.h"

namespace ktimers {

namespace {

inline bool TimeAfter(uint64_t a, uint64_t b) { return static_cast<int64_t>(b - a) < 0; }
inline bool TimeBefore(uint64_t a, uint64_t b) { return TimeAfter(b, a); }
inline bool TimeAfterEq(uint64_t a, uint64_t b) { return static_cast<int64_t>(a - b) >= 0; }
inline bool TimeBeforeEq(uint64_t a, uint64_t b) { return TimeAfterEq(b, a); }
inline int LvlShift(int n) { return n * kLvlClkShift; }
inline int LvlOffs(int n) { return n * kLvlSize; }

// calc_index(): the first multiple of 8^lvl strictly after `expires`.
inline int CalcIndex(uint64_t expires, int lvl, uint64_t* bucket_expiry) {
  expires = (expires >> LvlShift(lvl)) + 1;
  *bucket_expiry = expires << LvlShift(lvl);
  return LvlOffs(lvl) + static_cast<int>(expires & kLvlMask);
}

}  // namespace

Napi::Function TimerWheel::Init(Napi::Env env) {
  return DefineClass(env, "TimerWheel",
                     {InstanceMethod<&TimerWheel::JsMod>("mod"), InstanceMethod<&TimerWheel::JsDel>("del"),
                      InstanceMethod<&TimerWheel::JsCollect>("collect"), InstanceMethod<&TimerWheel::JsDrain>("drain"),
                      InstanceMethod<&TimerWheel::JsNextExpiry>("nextExpiry"),
                      InstanceMethod<&TimerWheel::JsReset>("reset"), InstanceMethod<&TimerWheel::JsInfo>("info"),
                      InstanceMethod<&TimerWheel::JsState>("state")});
}

// new TimerWheel(depth, clk, initialJiffies, tickNsec): depth 9 (HZ > 100) or 8;
// clk = the jiffy to start at. The last two let mod() read jiffies itself from
// CLOCK_MONOTONIC (jiffies = INITIAL_JIFFIES + monotonic / TICK_NSEC), which
// saves the hot path a clock call and a bigint through N-API.
TimerWheel::TimerWheel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TimerWheel>(info), depth_(kMaxDepth) {
  int64_t depth, tick;
  uint64_t clk = 0;
  if (!GetInt(info, 0, 8, 9, &depth, "depth") || !GetU64(info, 1, &clk, "clk") ||
      !GetU64(info, 2, &initial_jiffies_, "initialJiffies") || !GetInt(info, 3, 1, 1000000000, &tick, "tickNsec")) {
    return;
  }
  tick_nsec_ = tick;
  depth_ = static_cast<int>(depth);
  // LVL_START(n) = (LVL_SIZE - 1) << ((n - 1) * LVL_CLK_SHIFT)
  lvl_start_[0] = 0;
  for (int n = 1; n <= kMaxDepth; n++) lvl_start_[n] = uint64_t{kLvlSize - 1} << ((n - 1) * kLvlClkShift);
  timeout_cutoff_ = lvl_start_[depth_];                                  // WHEEL_TIMEOUT_CUTOFF
  timeout_max_ = timeout_cutoff_ - (uint64_t{1} << LvlShift(depth_ - 1));  // WHEEL_TIMEOUT_MAX
  for (auto& b : bases_) {
    b.clk = clk;
    b.next_expiry = clk + kTimerNextMaxDelta;
  }
}

uint64_t TimerWheel::NowJiffies() const {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t ns = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  return initial_jiffies_ + static_cast<uint64_t>(ns / tick_nsec_);
}

// calc_wheel_index()
int TimerWheel::CalcWheelIndex(uint64_t expires, uint64_t clk, uint64_t* bucket_expiry) const {
  uint64_t delta = expires - clk;
  for (int lvl = 0; lvl < depth_ - 1; lvl++) {
    if (delta < lvl_start_[lvl + 1]) return CalcIndex(expires, lvl, bucket_expiry);
  }
  if (static_cast<int64_t>(delta) < 0) {
    // Already due: the current level-0 bucket, effective expiry clk.
    *bucket_expiry = clk;
    return static_cast<int>(clk & kLvlMask);
  }
  // Force obscenely large timeouts to expire at the wheel's capacity limit.
  if (delta >= timeout_cutoff_) expires = clk + timeout_max_;
  return CalcIndex(expires, depth_ - 1, bucket_expiry);
}

// __forward_timer_base(): never moves clk backwards, never skips a due bucket.
void TimerWheel::ForwardBase(WheelBase& b, uint64_t jiffies) {
  if (TimeBeforeEq(jiffies, b.clk)) return;
  if (TimeAfter(b.next_expiry, jiffies)) {
    b.clk = jiffies;
  } else {
    if (TimeBefore(b.next_expiry, b.clk)) return;  // kernel: WARN_ON_ONCE
    b.clk = b.next_expiry;
  }
}

// next_pending_bucket(): distance from `clk` to the next set bit of a level, wrapping.
int TimerWheel::NextPendingBucket(const WheelBase& b, int offset, int clk) const {
  int start = offset + clk;
  int end = offset + kLvlSize;
  for (int pos = start; pos < end; pos++)
    if (TestBit(b, pos)) return pos - start;
  for (int pos = offset; pos < start; pos++)
    if (TestBit(b, pos)) return pos + kLvlSize - start;
  return -1;
}

// timer_recalc_next_expiry()
void TimerWheel::RecalcNextExpiry(WheelBase& b) {
  uint64_t next = b.clk + kTimerNextMaxDelta;
  uint64_t clk = b.clk;
  int offset = 0;
  for (int lvl = 0; lvl < depth_; lvl++, offset += kLvlSize) {
    // A whole empty level is skipped with one test of its 64-bit word.
    int pos = b.pending_map[lvl] == 0 ? -1 : NextPendingBucket(b, offset, static_cast<int>(clk & kLvlMask));
    uint64_t lvl_clk = clk & kLvlClkMask;
    if (pos >= 0) {
      uint64_t tmp = (clk + static_cast<uint64_t>(pos)) << LvlShift(lvl);
      if (TimeBefore(tmp, next)) next = tmp;
      // Expires before the next level is reached: no need to look further.
      if (static_cast<uint64_t>(pos) <= ((8 - lvl_clk) & kLvlClkMask)) break;
    }
    uint64_t adj = lvl_clk ? 1 : 0;
    clk >>= kLvlClkShift;
    clk += adj;
  }
  b.next_expiry = next;
  b.next_expiry_recalc = false;
  b.timers_pending = next != b.clk + kTimerNextMaxDelta;
}

int32_t TimerWheel::AllocSlot() { return slots_.Alloc(); }

void TimerWheel::FreeSlot(int32_t s) {
  slots_[s].where = -1;
  slots_.Free(s);
}

bool TimerWheel::SlotPending(int64_t s) const {
  return slots_.InRange(s) && slots_[static_cast<int32_t>(s)].where >= 0;
}

int32_t* TimerWheel::HeadOf(int32_t s) {
  WheelEntry& e = slots_[s];
  WheelBase& b = bases_[e.base];
  return e.where == kInBucket ? &b.vectors[e.idx] : &b.expiring[e.level];
}

void TimerWheel::LinkHead(int32_t* head, int32_t s) {
  WheelEntry& e = slots_[s];
  e.prev = -1;
  e.next = *head;
  if (*head >= 0) slots_[*head].prev = s;
  *head = s;
}

void TimerWheel::Unlink(int32_t* head, int32_t s) {
  WheelEntry& e = slots_[s];
  if (e.prev >= 0) slots_[e.prev].next = e.next;
  else *head = e.next;
  if (e.next >= 0) slots_[e.next].prev = e.prev;
  e.next = e.prev = -1;
}

// enqueue_timer(): at the head of its bucket; lowers next_expiry if earlier.
void TimerWheel::Enqueue(WheelBase& b, int32_t s, int idx, uint64_t bucket_expiry) {
  WheelEntry& e = slots_[s];
  e.idx = static_cast<int16_t>(idx);
  e.where = kInBucket;
  LinkHead(&b.vectors[idx], s);
  SetBit(b, idx);
  // With nothing pending, next_expiry is only the empty-base sentinel (clk or
  // jiffies + TIMER_NEXT_MAX_DELTA): a bucket expiry at or past it must still
  // become the next expiry. (The kernel relies on its tick reaching the
  // sentinel; the NO_HZ driver and the virtual clock schedule only pending bases.)
  if (!b.timers_pending || TimeBefore(bucket_expiry, b.next_expiry)) {
    b.next_expiry = bucket_expiry;
    b.timers_pending = true;
    b.next_expiry_recalc = false;
  }
}

// detach_if_pending(): a bucket emptied by a delete leaves next_expiry stale
// (maybe early) and flags it for recalculation, as the kernel does. A timer on
// an expiring list never clears a bucket bit (it is not in the bucket any more).
int TimerWheel::DetachIfPending(int32_t s) {
  WheelEntry& e = slots_[s];
  WheelBase& b = bases_[e.base];
  int32_t* head = HeadOf(s);
  if (e.where == kInBucket && *head == s && e.next < 0) {
    ClearBit(b, e.idx);
    b.next_expiry_recalc = true;
  }
  Unlink(head, s);
  return 1;
}

// __mod_timer() for everything after the "has it been shut down" check, which
// the JS layer makes (it owns timer->function). slot < 0: the timer is not pending.
// Returns the kernel's 0/1, the slot, whether timer->expires changed, and
// whether the base's next_expiry moved earlier (the driver then re-arms).
Napi::Value TimerWheel::JsMod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t slot, base, options;
  uint64_t expires, jiffies;
  if (!GetInt(info, 0, -1, INT32_MAX, &slot, "slot") || !GetInt(info, 1, 0, kNumWheelBases - 1, &base, "base") ||
      !GetU64(info, 2, &expires, "expires") || !GetInt(info, 4, 0, 31, &options, "options")) {
    return env.Undefined();
  }
  // jiffies: given (virtual timeline), or null: read CLOCK_MONOTONIC here.
  if (info.Length() > 3 && info[3].IsNull()) {
    jiffies = NowJiffies();
  } else if (!GetU64(info, 3, &jiffies, "jiffies")) {
    return env.Undefined();
  }
  if (slot >= 0 && !SlotPending(slot)) {
    ThrowRangeError(env, "ERR_KTIMERS_BAD_SLOT", "slot is not pending");
    return env.Undefined();
  }
  ModResult r;
  if (options & kModBatched) {
    // A timer collected in this pass but not run yet (slot already freed):
    // pending for the kernel, with its bucket index in argument 5.
    int64_t old_idx;
    if (slot != -1 || !GetInt(info, 5, 0, kWheelMaxSize - 1, &old_idx, "idx")) {
      if (!env.IsExceptionPending()) ThrowRangeError(env, "ERR_OUT_OF_RANGE", "a batched mod takes slot -1 and an idx");
      return env.Undefined();
    }
    r = ModBatched(static_cast<int>(base), expires, jiffies, static_cast<int>(options), static_cast<int>(old_idx));
  } else {
    r = Mod(static_cast<int32_t>(slot), static_cast<int>(base), expires, jiffies, static_cast<int>(options));
  }
  // (slot + 1, updated, lowered, ret) packed in one number: no result object per call.
  return Napi::Number::New(env, ((static_cast<double>(r.slot) + 1) * 2 + r.updated) * 4 + r.lowered * 2 + r.ret);
}

// The end of every arm: set the entry, enqueue it, and report the slot,
// "expires updated" and whether the base's next_expiry moved earlier.
void TimerWheel::EnqueueNew(WheelBase& b, int32_t s, int base, uint64_t expires, int idx, uint64_t bucket_expiry,
                            ModResult* r) {
  WheelEntry& e = slots_[s];
  e.expires = expires;
  e.base = static_cast<uint8_t>(base);
  uint64_t before = b.next_expiry;
  Enqueue(b, s, idx, bucket_expiry);
  r->slot = s;
  r->updated = 1;
  r->lowered = b.next_expiry != before;
}

// An empty base's next_expiry (clk + TIMER_NEXT_MAX_DELTA when it emptied) is
// moved to jiffies + TIMER_NEXT_MAX_DELTA before use, as the kernel does for an
// empty base when it computes the next event; otherwise, after ~2^30 idle
// jiffies, the stale value would be reached and a new timer never lower it.
void TimerWheel::RefreshEmpty(WheelBase& b, uint64_t jiffies) {
  if (!b.timers_pending && !b.next_expiry_recalc) b.next_expiry = jiffies + kTimerNextMaxDelta;
}

TimerWheel::ModResult TimerWheel::Mod(int32_t s, int base, uint64_t expires, uint64_t jiffies, int options) {
  ModResult r{s, 0, 0, 0};
  bool pending = s >= 0;
  RefreshEmpty(bases_[base], jiffies);
  int idx = -1;
  uint64_t bucket_expiry = 0, clk = 0;
  WheelBase* b = pending ? &bases_[slots_[s].base] : &bases_[base];
  if (!(options & kModNotPending) && pending) {
    WheelEntry& e = slots_[s];
    r.ret = 1;
    // timer->expires is the caller's field (it may have been written since the
    // timer was queued): the JS side compares it and sets kModChecked.
    if (!(options & kModChecked)) {
      int64_t diff = static_cast<int64_t>(e.expires - expires);
      if (diff == 0) return r;
      if ((options & kModReduce) && diff <= 0) return r;
    }
    ForwardBase(*b, jiffies);
    if (!(options & kModChecked) && (options & kModReduce) && TimeBeforeEq(e.expires, expires)) return r;
    clk = b->clk;
    idx = CalcWheelIndex(expires, clk, &bucket_expiry);
    // Same bucket: only the expiry changes; the bucket's effective expiry stays.
    if (idx == e.idx && b == &bases_[base]) {
      // (REDUCE reaches here only when moving earlier: the caller checked.)
      if ((options & kModChecked) || !(options & kModReduce) || TimeAfter(e.expires, expires)) {
        e.expires = expires;
        r.updated = 1;
      }
      return r;
    }
    r.ret = 0;
  } else {
    ForwardBase(*b, jiffies);
  }
  if (pending) r.ret = DetachIfPending(s);
  if (!r.ret && (options & kModPendingOnly)) return r;
  if (!pending) s = AllocSlot();
  WheelBase& nb = bases_[base];
  if (&nb != b) {
    ForwardBase(nb, jiffies);  // the timer's flags now select another base
    idx = -1;
  }
  if (idx < 0 || clk != nb.clk) idx = CalcWheelIndex(expires, nb.clk, &bucket_expiry);  // internal_add_timer()
  EnqueueNew(nb, s, base, expires, idx, bucket_expiry, &r);
  return r;
}

// __mod_timer() on a collected, not yet run timer whose new expiry differs
// (the JS side made the diff == 0 and REDUCE checks): the same bucket index at
// the forwarded clk keeps it in this pass (slot -1, ret 1); anything else
// detaches it from the pass and enqueues it.
TimerWheel::ModResult TimerWheel::ModBatched(int base, uint64_t expires, uint64_t jiffies, int options, int old_idx) {
  ModResult r{-1, 0, 0, 1};
  WheelBase& b = bases_[base];
  RefreshEmpty(b, jiffies);
  ForwardBase(b, jiffies);
  uint64_t bucket_expiry;
  int idx = CalcWheelIndex(expires, b.clk, &bucket_expiry);
  if (idx == old_idx) {
    r.updated = 1;  // the REDUCE case reaches here only when moving earlier
    return r;
  }
  EnqueueNew(b, AllocSlot(), base, expires, idx, bucket_expiry, &r);
  return r;
}

Napi::Value TimerWheel::JsDel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t slot;
  if (!GetInt(info, 0, 0, INT32_MAX, &slot, "slot")) return env.Undefined();
  if (!SlotPending(slot)) {
    ThrowRangeError(env, "ERR_KTIMERS_BAD_SLOT", "slot is not pending");
    return env.Undefined();
  }
  int32_t s = static_cast<int32_t>(slot);
  DetachIfPending(s);
  FreeSlot(s);
  return Napi::Number::New(env, 1);
}

// One iteration of __run_timers(): if jiffies has reached clk and next_expiry,
// set clk = next_expiry, move the due bucket of each level whose clock is
// aligned onto the expiring lists (collect_expired_timers), then clk++ (callbacks
// see clk one ahead of jiffies) and recalc next_expiry. JS then drains next().
Napi::Value TimerWheel::JsCollect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t base;
  uint64_t jiffies;
  if (!GetInt(info, 0, 0, kNumWheelBases - 1, &base, "base") || !GetU64(info, 1, &jiffies, "jiffies"))
    return env.Undefined();
  WheelBase& b = bases_[base];
  if (b.levels > 0) {
    ThrowTypeError(env, "ERR_KTIMERS_PASS_ACTIVE", "collect() before the previous pass was drained");
    return env.Undefined();
  }
  if (!(TimeAfterEq(jiffies, b.clk) && TimeAfterEq(jiffies, b.next_expiry))) return Napi::Number::New(env, 0);
  uint64_t clk = b.clk = b.next_expiry;
  int levels = 0;
  for (int i = 0; i < depth_; i++) {
    int idx = static_cast<int>(clk & kLvlMask) + i * kLvlSize;
    if (TestBit(b, idx)) {
      ClearBit(b, idx);
      // Move the bucket list wholesale onto expiring list `levels`.
      int32_t head = b.vectors[idx];
      b.vectors[idx] = -1;
      b.expiring[levels] = head;
      for (int32_t s = head; s >= 0; s = slots_[s].next) {
        slots_[s].where = kInExpiring;
        slots_[s].level = static_cast<uint8_t>(levels);
      }
      levels++;
    }
    if (clk & kLvlClkMask) break;
    clk >>= kLvlClkShift;
  }
  b.clk++;
  RecalcNextExpiry(b);
  b.levels = levels;
  // A pass that found nothing still counts (it advanced clk); report >= 1.
  return Napi::Number::New(env, levels > 0 ? levels : -1);
}

// expire_timers(), batched: pops the timers of the current pass in run order
// (highest collected level first, each list head first) into `buf` as
// (slot, bucket idx) pairs, unlinking them and freeing their slots, so a pass
// crosses N-API once per batch, not once per callback. The JS side keeps the
// idx of each collected timer so mod_timer on it can still apply the kernel's
// same-bucket rule (kModBatched).
Napi::Value TimerWheel::JsDrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t base;
  if (!GetInt(info, 0, 0, kNumWheelBases - 1, &base, "base")) return env.Undefined();
  if (info.Length() < 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowTypeError(env, "ERR_INVALID_ARG_TYPE", "buffer must be an Int32Array");
    return env.Undefined();
  }
  Napi::Int32Array buf = info[1].As<Napi::Int32Array>();
  size_t cap = buf.ElementLength() / 2;
  int32_t* out = buf.Data();
  WheelBase& b = bases_[base];
  size_t n = 0;
  while (n < cap && b.levels > 0) {
    int32_t head = b.expiring[b.levels - 1];
    if (head < 0) {
      b.levels--;
      continue;
    }
    Unlink(&b.expiring[b.levels - 1], head);
    out[2 * n] = head;
    out[2 * n + 1] = slots_[head].idx;
    FreeSlot(head);
    n++;
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value TimerWheel::JsNextExpiry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t base;
  if (!GetInt(info, 0, 0, kNumWheelBases - 1, &base, "base")) return env.Undefined();
  WheelBase& b = bases_[base];
  // raw (the virtual clock's ticking model): the stored value, even when stale
  // after a delete, because a ticking kernel runs that (empty) pass too.
  bool raw = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  if (raw) return b.timers_pending || b.next_expiry_recalc ? Napi::BigInt::New(env, b.next_expiry) : env.Null();
  if (b.next_expiry_recalc) RecalcNextExpiry(b);
  if (!b.timers_pending) return env.Null();
  return Napi::BigInt::New(env, b.next_expiry);
}

Napi::Value TimerWheel::JsReset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t clk;
  if (!GetU64(info, 0, &clk, "clk")) return env.Undefined();
  if (slots_.in_use() != 0) {
    ThrowTypeError(env, "ERR_KTIMERS_WHEEL_BUSY", "reset() with timers pending");
    return env.Undefined();
  }
  for (auto& b : bases_) {
    b = WheelBase();
    b.clk = clk;
    b.next_expiry = clk + kTimerNextMaxDelta;
  }
  return env.Undefined();
}

Napi::Value TimerWheel::JsInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t slot;
  if (!GetInt(info, 0, 0, INT32_MAX, &slot, "slot")) return env.Undefined();
  if (!SlotPending(slot)) return env.Null();
  const WheelEntry& e = slots_[slot];
  Napi::Array out = Napi::Array::New(env, 3);
  int lvl = e.idx / kLvlSize;
  out.Set(0u, Napi::Number::New(env, e.idx));
  out.Set(1u, Napi::Number::New(env, lvl));
  out.Set(2u, Napi::Number::New(env, e.where));
  return out;
}

Napi::Value TimerWheel::JsState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t base;
  if (!GetInt(info, 0, 0, kNumWheelBases - 1, &base, "base")) return env.Undefined();
  const WheelBase& b = bases_[base];
  Napi::Object out = Napi::Object::New(env);
  out.Set("clk", Napi::BigInt::New(env, b.clk));
  out.Set("nextExpiry", Napi::BigInt::New(env, b.next_expiry));
  out.Set("timersPending", Napi::Boolean::New(env, b.timers_pending));
  out.Set("recalc", Napi::Boolean::New(env, b.next_expiry_recalc));
  out.Set("slotsInUse", Napi::Number::New(env, static_cast<double>(slots_.in_use())));
  return out;
}

}  // namespace ktimers
