// Why: a worker hands its log records to the log thread without a lock or a
// syscall, and the hand-off is bounded: one producer (the worker), one
// consumer (the log thread), a fixed power-of-two array of slots. push() fails
// when the ring is full (the caller counts the drop); nothing ever blocks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

namespace rampart::gateway::log {

// The smallest power of two >= n and >= at_least.
inline size_t powerOfTwoAtLeast(size_t n, size_t at_least) {
  size_t c = at_least;
  while (c < n) c <<= 1;
  return c;
}

template <class T>
class SpscRing {
 public:
  explicit SpscRing(size_t capacity) {
    const size_t c = powerOfTwoAtLeast(capacity, 2);
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
  // Consumer: nothing published is waiting.
  bool empty() const { return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<T[]> slots_;
  size_t mask_ = 0;
  alignas(64) std::atomic<size_t> head_{0};  // next to read (consumer)
  alignas(64) std::atomic<size_t> tail_{0};  // next to write (producer)
  alignas(64) size_t head_cache_ = 0;        // producer's last view of head_
};

// The same hand-off for variable-length entries (rendered log lines): one
// power-of-two byte array, each entry an 8-byte header (length and two tags)
// and its bytes padded to 8. The producer renders in place: reserve() room for
// the longest the entry can be, write, commit() what was used. An entry that
// does not fit before the end of the array starts again at its beginning (the
// tail is marked skipped). Full: reserve() returns nullptr; nothing blocks.
class SpscByteRing {
 public:
  explicit SpscByteRing(size_t capacity) {
    const size_t c = powerOfTwoAtLeast(capacity, 4096);
    mask_ = c - 1;
    buf_.reset(new char[c]);  // not zero-filled (make_unique would touch every page): pages come as the ring fills
  }
  size_t capacity() const { return mask_ + 1; }

  // Producer only: `max` contiguous bytes for the next entry, or nullptr when
  // the ring has no room (or an entry that long could never fit).
  char* reserve(size_t max) {
    const size_t need = kHeader + pad(max);
    if (need > capacity() / 4) return nullptr;
    uint64_t t = tail_.load(std::memory_order_relaxed);
    const size_t contiguous = capacity() - size_t(t & mask_);
    const size_t total = contiguous < need ? contiguous + need : need;
    if (capacity() - size_t(t - head_cache_) < total) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (capacity() - size_t(t - head_cache_) < total) return nullptr;
    }
    if (contiguous < need) {  // skip to the start; published with the entry
      const Header skip{0, 0, 0, 1};
      std::memcpy(&buf_[t & mask_], &skip, kHeader);
      t += contiguous;
    }
    pending_ = t;
    return &buf_[(t & mask_) + kHeader];
  }

  // Producer only: publishes the entry reserve() gave, `len` bytes of it used.
  void commit(size_t len, uint16_t tag16, uint8_t tag8) {
    const Header h{uint32_t(len), tag16, tag8, 0};
    std::memcpy(&buf_[pending_ & mask_], &h, kHeader);
    tail_.store(pending_ + kHeader + pad(len), std::memory_order_release);
  }

  // Consumer only: f(std::string_view bytes, uint16_t tag16, uint8_t tag8) for
  // every entry published now, then done(): the views live until done()
  // returns, when the ring takes their bytes back. Returns how many.
  template <class F, class G>
  size_t drain(F&& f, G&& done) {
    uint64_t h = head_.load(std::memory_order_relaxed);
    const uint64_t t = tail_.load(std::memory_order_acquire);
    size_t n = 0;
    while (h != t) {
      const size_t off = size_t(h & mask_);
      Header hd;
      std::memcpy(&hd, &buf_[off], kHeader);
      if (hd.skip) {
        h += capacity() - off;
        continue;
      }
      f(std::string_view(&buf_[off + kHeader], hd.len), hd.tag16, hd.tag8);
      h += kHeader + pad(hd.len);
      ++n;
    }
    done();
    head_.store(t, std::memory_order_release);
    return n;
  }
  template <class F>
  size_t drain(F&& f) {
    return drain(std::forward<F>(f), [] {});
  }
  // Consumer: nothing published is waiting.
  bool empty() const { return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_relaxed); }

 private:
  struct Header {
    uint32_t len;
    uint16_t tag16;
    uint8_t tag8;
    uint8_t skip;  // the rest of the array is unused: the next entry is at its start
  };
  static constexpr size_t kHeader = sizeof(Header);
  static_assert(kHeader == 8);
  static size_t pad(size_t n) { return (n + 7) & ~size_t(7); }

  std::unique_ptr<char[]> buf_;
  size_t mask_ = 0;
  alignas(64) std::atomic<uint64_t> head_{0};  // consumer: next byte to read
  alignas(64) std::atomic<uint64_t> tail_{0};  // producer: end of what is published
  alignas(64) uint64_t head_cache_ = 0;        // producer's last view of head_
  uint64_t pending_ = 0;                       // producer: where reserve()'s entry starts
};

}  // namespace rampart::gateway::log
