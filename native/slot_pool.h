// slot_pool.h — fixed-size entries addressed by small integer slots.
//
// The hrtimer heaps' SlotTable (hrtimer_queue.h) names each armed timer by a
// slot number that the JS side uses as an array index (the timer wheel is all
// JS: lib/internal/wheel.ts). Slots are reused LIFO from a free list so that
// JS array stays dense ("packed" in V8) and no timer costs an allocation of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ktimers {

template <typename Entry>
class SlotPool {
 public:
  // A slot for a new entry; its contents are the caller's to set.
  int32_t Alloc() {
    if (!free_.empty()) {
      int32_t s = free_.back();
      free_.pop_back();
      return s;
    }
    entries_.push_back(Entry{});
    return static_cast<int32_t>(entries_.size() - 1);
  }
  void Free(int32_t s) { free_.push_back(s); }
  bool InRange(int64_t s) const { return s >= 0 && s < static_cast<int64_t>(entries_.size()); }
  Entry& operator[](int32_t s) { return entries_[s]; }
  const Entry& operator[](int32_t s) const { return entries_[s]; }
  size_t capacity() const { return entries_.size(); }
  size_t in_use() const { return entries_.size() - free_.size(); }

 private:
  std::vector<Entry> entries_;
  std::vector<int32_t> free_;
};

}  // namespace ktimers
