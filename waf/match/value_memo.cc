#include "waf/match/value_memo.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>

#include "waf/match/siphash.h"

namespace rampart::waf::match {

namespace {

struct ProcessKey {
  uint64_t k0 = 0, k1 = 0;
  ProcessKey() {
    uint64_t k[2];
    size_t got = 0;
    while (got < sizeof k) {
      ssize_t n = ::getrandom(reinterpret_cast<char*>(k) + got, sizeof k - got, 0);
      if (n > 0) got += size_t(n);
      else if (errno != EINTR) break;
    }
    if (got < sizeof k) {  // no getrandom (old kernel, seccomp): the C++ library's device
      std::random_device rd;
      for (auto& w : k) w = (uint64_t(rd()) << 32) ^ rd();
    }
    k0 = k[0];
    k1 = k[1];
  }
};

const ProcessKey& processKey() {
  static const ProcessKey key;
  return key;
}

// The keys of the values this thread hashed last, with the values' bytes: a
// browser sends the same User-Agent, Accept and cookies request after request,
// and comparing the bytes costs a tenth of hashing them again. A value is
// found only when all its bytes are equal (the slot it is looked for in, by
// its length and its first and last 8 bytes, decides nothing): a crowded slot
// only costs a hash.
struct RecentKeys {
  static constexpr size_t kSlots = 256, kMaxLen = 176;
  struct Slot {
    uint32_t len = 0;
    uint32_t tag = 0;
    ValueMemo::Key key;
    char bytes[kMaxLen];
  };
  std::unique_ptr<Slot[]> slots{new Slot[kSlots]};
};

}  // namespace

std::atomic<bool> ValueMemo::enabled_{true};

ValueMemo::Key ValueMemo::hash(std::string_view value) {
  if (value.size() <= kExactMax) {
    // The bytes themselves and the length: no hash to take (about half the
    // values of a browser's request: "navigate", "?1", "en-US", "_ga"...),
    // and no two of them share a key.
    // (An empty view may have no data: memcpy's pointers must not be null.)
    Key k;
    if (!value.empty()) std::memcpy(&k.a, value.data(), std::min<size_t>(value.size(), 8));
    uint32_t b = 0;
    if (value.size() > 8) std::memcpy(&b, value.data() + 8, value.size() - 8);
    k.b = b | (uint32_t(value.size() + 1) << 24);
    return k;
  }
  const ProcessKey& k = processKey();
  if (value.size() > RecentKeys::kMaxLen) {
    const auto h = sipHash128<1, 3>(k.k0, k.k1, value.data(), value.size());
    return {h.first, h.second};
  }
  thread_local RecentKeys recent;
  uint64_t first, last;
  std::memcpy(&first, value.data(), 8);
  std::memcpy(&last, value.data() + value.size() - 8, 8);
  const uint32_t tag =
      static_cast<uint32_t>(((first * 0x9E3779B97F4A7C15ull) ^ (last * 0xC2B2AE3D27D4EB4Full) ^ value.size()) >> 32);
  RecentKeys::Slot& s = recent.slots[tag % RecentKeys::kSlots];
  if (s.len == value.size() && s.tag == tag && std::memcmp(s.bytes, value.data(), value.size()) == 0) return s.key;
  const auto h = sipHash128<1, 3>(k.k0, k.k1, value.data(), value.size());
  s.len = static_cast<uint32_t>(value.size());
  s.tag = tag;
  s.key = {h.first, h.second};
  std::memcpy(s.bytes, value.data(), value.size());
  return s.key;
}

ValueMemo::ValueMemo() : sets_(new Set[kSets]) {}

ValueMemo& ValueMemo::forThread() {
  thread_local ValueMemo memo;
  return memo;
}

uint32_t ValueMemo::newEngineId() {
  static std::atomic<uint32_t> next{0};
  uint32_t id = next.fetch_add(1, std::memory_order_relaxed) + 1;
  if (id == 0) id = next.fetch_add(1, std::memory_order_relaxed) + 1;  // (after 2^32 compiles)
  return id;
}

void ValueMemo::clear() {
  for (size_t i = 0; i < kSets; ++i) sets_[i] = Set{};
  ++generation_;
}

}  // namespace rampart::waf::match
