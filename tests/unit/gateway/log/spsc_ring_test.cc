#include "gateway/log/spsc_ring.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rampart::gateway::log
