// hrtimer_queue.h — the per-clock-base timer queue.
//
// Design
// ------
// The kernel keeps each hrtimer clock base in a timerqueue: an rb-tree ordered by
// hard expiry with a cached leftmost node; equal expiries go to the right, so
// timers due at the same instant run in arming order (FIFO). ktimers needs the
// same order and the same costs (O(1) peek, O(log n) insert and remove of an
// arbitrary timer), and gets them from an *indexed binary min-heap*:
//
//   * entries are ordered by the key (hard, seq). `seq` is a per-environment
//     arming counter supplied by the JS layer, strictly increasing, so no two
//     keys are equal and ties on `hard` break FIFO exactly as the rb-tree does.
//   * every armed timer owns a "slot" (a small integer, see SlotTable). The slot
//     records the entry's position in its heap, which turns cancel and re-arm of
//     an arbitrary timer into an O(log n) sift instead of an O(n) search.
//   * a timer with a spin (hrtimer_set_spin_ns) wants its timerfd wake-up
//     before its hard expiry. The heap stays keyed on (hard, seq) — spin never
//     changes the run order — and the Addon keeps the few spinning entries in
//     a separate ordered set by wake-up time (addon.h, ClockState::spinners).
//   * entries are stored by value in one contiguous vector: 32 bytes per armed
//     timer, no per-timer allocation, cache-friendly sifts. A million armed
//     timers cost ~32 MB here plus 8 bytes of slot table each, and *no* file
//     descriptor: the one timerfd per clock is programmed to the heap's top.
//
// Invariants (checked by the randomized model tests in test/):
//   * heap property on (hard, seq);
//   * slots_[e.slot].pos == index of e, for every entry e;
//   * a slot is either free or in exactly one heap.
#pragma once

#include <cstdint>
#include <vector>

#include "slot_pool.h"

namespace ktimers {

struct QueueEntry {
  int64_t hard;   // hard expiry (ns on the base's clock): the ordering key
  int64_t soft;   // soft expiry: never run before this
  uint64_t seq;   // arming order: FIFO tie-break among equal hard expiries
  int32_t slot;   // owner; index into SlotTable
  int32_t spin;   // hybrid wake-up: ns the timerfd is armed before `hard` (0: none);
                  // always 0 on the virtual bases (see addon.cc, "Spin")
};

struct Slot {
  int32_t pos;    // position in its base's heap, or -1 when the slot is free
  uint8_t base;   // which of the 16 clock bases holds it (8..15: virtual)
  uint8_t refd;   // counts toward keeping the event loop alive
  uint16_t pad_;
};

// The slot of every armed hrtimer; the free list lives in SlotPool.
class SlotTable {
 public:
  int32_t Alloc(uint8_t base, bool refd) {
    int32_t s = pool_.Alloc();
    pool_[s] = Slot{-1, base, static_cast<uint8_t>(refd ? 1 : 0), 0};
    return s;
  }
  void Free(int32_t s) {
    pool_[s].pos = -1;
    pool_.Free(s);
  }
  bool InUse(int64_t s) const { return pool_.InRange(s) && pool_[static_cast<int32_t>(s)].pos >= 0; }
  Slot& operator[](int32_t s) { return pool_[s]; }
  size_t capacity() const { return pool_.capacity(); }
  size_t in_use() const { return pool_.in_use(); }

 private:
  SlotPool<Slot> pool_;
};

class HrtimerQueue {
 public:
  explicit HrtimerQueue(SlotTable* slots) : slots_(slots) {}

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const QueueEntry& top() const { return heap_.front(); }
  // The entry owned by `slot` (which must be in this heap).
  const QueueEntry& Of(int32_t slot) const { return heap_[static_cast<size_t>((*slots_)[slot].pos)]; }

  void Insert(const QueueEntry& e) {
    heap_.push_back(e);
    (*slots_)[e.slot].pos = static_cast<int32_t>(heap_.size() - 1);
    SiftUp(heap_.size() - 1);
  }

  // Removes the entry owned by `slot` (which must be in this heap).
  QueueEntry Remove(int32_t slot) {
    size_t i = static_cast<size_t>((*slots_)[slot].pos);
    QueueEntry out = heap_[i];
    size_t last = heap_.size() - 1;
    if (i != last) {
      Place(i, heap_[last]);
      heap_.pop_back();
      // The moved entry may belong above or below its new position.
      if (i > 0 && Less(heap_[i], heap_[(i - 1) / 2])) {
        SiftUp(i);
      } else {
        SiftDown(i);
      }
    } else {
      heap_.pop_back();
    }
    (*slots_)[slot].pos = -1;
    return out;
  }

  QueueEntry PopTop() { return Remove(heap_.front().slot); }

 private:
  static bool Less(const QueueEntry& a, const QueueEntry& b) {
    return a.hard < b.hard || (a.hard == b.hard && a.seq < b.seq);
  }
  void Place(size_t i, const QueueEntry& e) {
    heap_[i] = e;
    (*slots_)[e.slot].pos = static_cast<int32_t>(i);
  }
  void SiftUp(size_t i) {
    QueueEntry e = heap_[i];
    while (i > 0) {
      size_t parent = (i - 1) / 2;
      if (!Less(e, heap_[parent])) break;
      Place(i, heap_[parent]);
      i = parent;
    }
    Place(i, e);
  }
  void SiftDown(size_t i) {
    QueueEntry e = heap_[i];
    size_t n = heap_.size();
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Less(heap_[child + 1], heap_[child])) child++;
      if (!Less(heap_[child], e)) break;
      Place(i, heap_[child]);
      i = child;
    }
    Place(i, e);
  }

  SlotTable* slots_;
  std::vector<QueueEntry> heap_;
};

}  // namespace ktimers
