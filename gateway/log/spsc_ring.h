// Why: a worker hands its log records to the log thread without a lock or a
// syscall, and the hand-off is bounded: one producer (the worker), one
// consumer (the log thread), a fixed power-of-two array of slots. push() fails
// when the ring is full (the caller counts the drop); nothing ever blocks.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace rampart::gateway::log {

template <class T>
class SpscRing {
 public:
  explicit SpscRing(size_t capacity) {
    size_t c = 2;
    while (c < capacity) c <<= 1;
    mask_ = c - 1;
    slots_ = std::make_unique<T[]>(c);
  }
  size_t capacity() const { return mask_ + 1; }

  // Producer only.
  bool push(T&& v) {
    const size_t t = tail_.load(std::memory_order_relaxed);
    if (t - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t - head_cache_ > mask_) return false;  // full
    }
    slots_[t & mask_] = std::move(v);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  // Producer only: fill(T&) writes the next slot in place (its members keep
  // the capacity of the slot's last use: no allocation once warm).
  template <class F>
  bool emplace(F&& fill) {
    const size_t t = tail_.load(std::memory_order_relaxed);
    if (t - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t - head_cache_ > mask_) return false;  // full
    }
    fill(slots_[t & mask_]);
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }

  // Consumer only: f(T&) on every item present now, in place (the slot is
  // reused as it is); returns how many.
  template <class F>
  size_t drainInPlace(F&& f) {
    const size_t h = head_.load(std::memory_order_relaxed);
    const size_t t = tail_.load(std::memory_order_acquire);
    for (size_t i = h; i != t; ++i) f(slots_[i & mask_]);
    head_.store(t, std::memory_order_release);
    return t - h;
  }

  // Consumer only: f(T&&) for every item present now; returns how many.
  template <class F>
  size_t drain(F&& f) {
    const size_t h = head_.load(std::memory_order_relaxed);
    const size_t t = tail_.load(std::memory_order_acquire);
    for (size_t i = h; i != t; ++i) {
      T item = std::move(slots_[i & mask_]);
      slots_[i & mask_] = T{};  // the slot's memory goes with the item
      f(std::move(item));
    }
    head_.store(t, std::memory_order_release);
    return t - h;
  }

  size_t sizeApprox() const {
    return tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_relaxed);
  }

 private:
  std::unique_ptr<T[]> slots_;
  size_t mask_ = 0;
  alignas(64) std::atomic<size_t> head_{0};  // next to read (consumer)
  alignas(64) std::atomic<size_t> tail_{0};  // next to write (producer)
  alignas(64) size_t head_cache_ = 0;        // producer's last view of head_
};

}  // namespace rampart::gateway::log
