#include "gateway/log/spsc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace rampart::gateway::log {
namespace {

TEST(SpscRing, BoundedAndFifo) {
  SpscRing<std::string> r(5);  // rounded up to 8
  EXPECT_EQ(r.capacity(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(r.push(std::to_string(i)));
  EXPECT_FALSE(r.push("full"));
  std::vector<std::string> got;
  EXPECT_EQ(r.drain([&](std::string&& s) { got.push_back(std::move(s)); }), 8u);
  EXPECT_EQ(got, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7"}));
  EXPECT_TRUE(r.push("again"));
  EXPECT_EQ(r.sizeApprox(), 1u);
}

TEST(SpscRing, ProducerAndConsumerThreadsLoseNothingAccepted) {
  SpscRing<uint64_t> r(1024);
  constexpr uint64_t kN = 2'000'000;
  uint64_t accepted = 0, refused = 0;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (uint64_t i = 1; i <= kN; ++i) (r.push(uint64_t(i)) ? accepted : refused)++;
    done = true;
  });
  uint64_t seen = 0, last = 0;
  bool ordered = true;
  auto take = [&](uint64_t&& v) {
    ordered = ordered && v > last;
    last = v;
    ++seen;
  };
  while (!done.load()) r.drain(take);
  r.drain(take);
  producer.join();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(seen, accepted);
  EXPECT_EQ(accepted + refused, kN);
}

// Entries of every length cross the end of the array (skips) and come out
// whole, in order, with their tags; a full ring refuses, and takes again once drained.
TEST(SpscByteRing, VariableEntriesWrapAndStayWhole) {
  SpscByteRing r(100);  // at least 4096
  EXPECT_EQ(r.capacity(), 4096u);
  auto put = [&](const std::string& v, uint16_t tag) {
    char* p = r.reserve(v.size() + 16);  // reserve more than is used, as the log does
    if (!p) return false;
    std::memcpy(p, v.data(), v.size());
    r.commit(v.size(), tag, uint8_t(tag & 1));
    return true;
  };
  std::vector<std::string> sent, got;
  int n = 0;
  for (int round = 0; round < 50; ++round) {
    for (int k = 0; k < 7; ++k, ++n) {
      std::string v(size_t((n * 37) % 300), char('a' + n % 26));
      v += std::to_string(n);
      if (put(v, uint16_t(n))) sent.push_back(v);
    }
    r.drain([&](std::string_view v, uint16_t tag, uint8_t odd) {
      EXPECT_EQ(odd, tag & 1);
      got.emplace_back(v);
    });
  }
  EXPECT_EQ(got, sent);
  EXPECT_EQ(sent.size(), 350u);  // 7 entries of < 400 bytes always fit in 4 KiB

  // Full: refused, nothing half-written; after a drain it takes entries again.
  int taken = 0;
  while (put(std::string(200, 'x'), 2)) ++taken;
  EXPECT_GT(taken, 10);
  EXPECT_LT(taken, 20);
  EXPECT_EQ(r.drain([](std::string_view v, uint16_t, uint8_t) { EXPECT_EQ(v, std::string(200, 'x')); }),
            size_t(taken));
  EXPECT_TRUE(put("again", 3));
  EXPECT_EQ(r.reserve(2000), nullptr);  // longer than a quarter of the ring: never fits
}

TEST(SpscByteRing, ProducerAndConsumerThreadsLoseNothingAccepted) {
  SpscByteRing r(1 << 14);
  constexpr uint64_t kN = 500'000;
  uint64_t accepted = 0, refused = 0;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (uint64_t i = 1; i <= kN; ++i) {
      const std::string v = std::to_string(i) + std::string(i % 97, '.');
      char* p = r.reserve(v.size());
      if (!p) {
        ++refused;
        continue;
      }
      std::memcpy(p, v.data(), v.size());
      r.commit(v.size(), uint16_t(i), 0);
      ++accepted;
    }
    done = true;
  });
  uint64_t seen = 0, last = 0;
  bool ordered = true, intact = true;
  auto take = [&](std::string_view v, uint16_t tag, uint8_t) {
    const uint64_t i = std::stoull(std::string(v.substr(0, v.find('.'))));
    intact = intact && v.size() == std::to_string(i).size() + i % 97 && tag == uint16_t(i);
    ordered = ordered && i > last;
    last = i;
    ++seen;
  };
  while (!done.load()) r.drain(take);
  r.drain(take);
  producer.join();
  EXPECT_TRUE(ordered);
  EXPECT_TRUE(intact);
  EXPECT_EQ(seen, accepted);
  EXPECT_EQ(accepted + refused, kN);
}

}  // namespace
}  // namespace rampart::gateway::log
