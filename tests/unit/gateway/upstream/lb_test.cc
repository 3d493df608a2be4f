// Pool creation and the three load-balancing policies.
#include <map>
#include <set>

#include "tests/unit/gateway/upstream/test_util.h"

namespace rampart::gateway::upstream {
namespace {

using testing::makeConfig;
using testing::mustCreate;

std::vector<int> countPicks(Pool& p, int n, std::string_view key = {}) {
  std::vector<int> counts(p.endpoints().size(), 0);
  for (int i = 0; i < n; ++i) {
    const Endpoint* e = p.pick(key);
    if (!e) {
      ADD_FAILURE() << "pick returned nullptr";
      return counts;
    }
    counts[e->index()]++;
  }
  return counts;
}

// ------------------------------------------------------------------ create

TEST(PoolCreate, RejectsEmptyPool) {
  PoolConfig c = makeConfig({});
  std::string err;
  EXPECT_EQ(Pool::create(c, &err), nullptr);
  EXPECT_NE(err.find("no endpoints"), std::string::npos) << err;
}

TEST(PoolCreate, RejectsZeroWeight) {
  PoolConfig c = makeConfig({1, 0});
  std::string err;
  EXPECT_EQ(Pool::create(c, &err), nullptr);
  EXPECT_NE(err.find("weight"), std::string::npos) << err;
}

TEST(PoolCreate, RejectsHashOnHeaderWithoutName) {
  PoolConfig c = makeConfig({1}, LbPolicy::Hash);
  c.hash_on = HashOn::Header;
  std::string err;
  EXPECT_EQ(Pool::create(c, &err), nullptr);
  c.hash_name = "X-User";
  EXPECT_NE(Pool::create(c, &err), nullptr);
}

TEST(PoolCreate, RejectsBadActiveHealthConfig) {
  PoolConfig c = makeConfig({1});
  c.active.enabled = true;
  c.active.expected_statuses = {{300, 200}};
  std::string err;
  EXPECT_EQ(Pool::create(c, &err), nullptr);
  c.active.expected_statuses = {{200, 299}};
  c.active.healthy_threshold = 0;
  EXPECT_EQ(Pool::create(c, &err), nullptr);
  c.active.healthy_threshold = 1;
  EXPECT_NE(Pool::create(c, &err), nullptr) << err;
}

TEST(PoolCreate, ParsesAddressWhenHostAndPortAreEmpty) {
  PoolConfig c;
  c.name = "p";
  c.endpoints.push_back({"127.0.0.1:8080", "", 0, 1});
  c.endpoints.push_back({"[::1]:8081", "", 0, 2});
  std::string err;
  auto p = Pool::create(c, &err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_EQ(p->endpoints()[0]->address().port(), 8080);
  EXPECT_TRUE(p->endpoints()[0]->address().address().is_v4());
  EXPECT_EQ(p->endpoints()[1]->address().port(), 8081);
  EXPECT_TRUE(p->endpoints()[1]->address().address().is_v6());
  EXPECT_EQ(p->endpoints()[1]->index(), 1u);

  c.endpoints[0] = {"127.0.0.1", "", 0, 1};  // no port
  EXPECT_EQ(Pool::create(c, &err), nullptr);
  c.endpoints[0] = {"127.0.0.1:99999", "", 0, 1};
  EXPECT_EQ(Pool::create(c, &err), nullptr);
}

TEST(PoolCreate, ResolvesNames) {
  PoolConfig c;
  c.name = "p";
  c.endpoints.push_back({"localhost:9000", "localhost", 9000, 1});
  std::string err;
  auto p = Pool::create(c, &err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_TRUE(p->endpoints()[0]->address().address().is_loopback());
  EXPECT_EQ(p->endpoints()[0]->address().port(), 9000);
}

// ------------------------------------------------------------------ round robin

TEST(RoundRobin, EqualWeightsAreExactlyEven) {
  auto p = mustCreate(makeConfig({1, 1, 1}));
  auto counts = countPicks(*p, 3000);
  EXPECT_EQ(counts, (std::vector<int>{1000, 1000, 1000}));
}

TEST(RoundRobin, WeightsAreRespected) {
  auto p = mustCreate(makeConfig({1, 3, 6}));
  auto counts = countPicks(*p, 10000);
  EXPECT_NEAR(counts[0], 1000, 50);
  EXPECT_NEAR(counts[1], 3000, 50);
  EXPECT_NEAR(counts[2], 6000, 50);
}

TEST(RoundRobin, ScheduleIsSmooth) {
  // Smooth weighted round robin interleaves: 5,1,1 is "a a b a c a a", so across cycle
  // boundaries the heavy one gets at most 4 in a row (a block schedule would give 5),
  // and the two light ones are never adjacent.
  auto p = mustCreate(makeConfig({5, 1, 1}));
  int run = 0, max_run = 0;
  size_t last = SIZE_MAX;
  for (int i = 0; i < 700; ++i) {
    size_t idx = p->pick("")->index();
    if (i > 0) EXPECT_FALSE(idx != 0 && last != 0) << "light endpoints adjacent at " << i;
    run = idx == last ? run + 1 : 1;
    last = idx;
    max_run = std::max(max_run, run);
  }
  EXPECT_LE(max_run, 4);
}

TEST(RoundRobin, HugeWeightsAreScaledNotExploded) {
  auto p = mustCreate(makeConfig({1000000, 3000000}));
  auto counts = countPicks(*p, 8000);
  EXPECT_NEAR(counts[1], 6000, 100);
}

TEST(RoundRobin, SkipsUnavailableEndpoints) {
  auto p = mustCreate(makeConfig({1, 1, 1}));
  p->setActiveHealthy(*p->endpoints()[1], false);
  auto counts = countPicks(*p, 3000);
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0], 1500, 30);  // the missing share is split, not handed to the next one
  EXPECT_NEAR(counts[2], 1500, 30);
}

TEST(RoundRobin, WeightsHoldAmongRemainingEndpoints) {
  auto p = mustCreate(makeConfig({1, 2, 3, 4}));
  p->setActiveHealthy(*p->endpoints()[3], false);
  auto counts = countPicks(*p, 6000);
  EXPECT_EQ(counts[3], 0);
  EXPECT_NEAR(counts[0], 1000, 60);
  EXPECT_NEAR(counts[1], 2000, 60);
  EXPECT_NEAR(counts[2], 3000, 60);
}

TEST(RoundRobin, NoneAvailableGivesNull) {
  auto p = mustCreate(makeConfig({1, 2}));
  p->setActiveHealthy(*p->endpoints()[0], false);
  p->setActiveHealthy(*p->endpoints()[1], false);
  EXPECT_EQ(p->pick(""), nullptr);
  p->setActiveHealthy(*p->endpoints()[1], true);
  EXPECT_EQ(p->pick(""), p->endpoints()[1].get());
}

TEST(RoundRobin, ExcludeAvoidsTheGivenEndpoint) {
  auto p = mustCreate(makeConfig({1, 5}));
  const Endpoint* heavy = p->endpoints()[1].get();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(p->pick("", heavy), p->endpoints()[0].get());
  // The excluded endpoint is still returned when it is the only one available.
  p->setActiveHealthy(*p->endpoints()[0], false);
  EXPECT_EQ(p->pick("", heavy), heavy);
}

TEST(RoundRobin, SingleEndpointExcludeReturnsIt) {
  auto p = mustCreate(makeConfig({1}));
  const Endpoint* only = p->endpoints()[0].get();
  EXPECT_EQ(p->pick("", only), only);
}

// ------------------------------------------------------------------ least request

TEST(LeastRequest, IdlePoolFollowsWeights) {
  auto p = mustCreate(makeConfig({1, 3}, LbPolicy::LeastRequest));
  auto counts = countPicks(*p, 10000);
  EXPECT_NEAR(counts[0], 2500, 300);
  EXPECT_NEAR(counts[1], 7500, 300);
}

TEST(LeastRequest, PrefersIdleEndpoints) {
  auto p = mustCreate(makeConfig({1, 1, 1}, LbPolicy::LeastRequest));
  const Endpoint& busy = *p->endpoints()[0];
  for (int i = 0; i < 10; ++i) p->requestStarted(busy);
  EXPECT_EQ(busy.activeRequests(), 10u);
  auto counts = countPicks(*p, 3000);
  EXPECT_EQ(counts[0], 0);  // two distinct candidates: the busy one always loses
  EXPECT_NEAR(counts[1], 1500, 300);
  for (int i = 0; i < 10; ++i) p->requestFinished(busy);
  EXPECT_EQ(busy.activeRequests(), 0u);
  counts = countPicks(*p, 3000);
  EXPECT_GT(counts[0], 600);
}

TEST(LeastRequest, WeighsActiveRequestsAgainstWeight) {
  // a: 2 active / weight 1 = 2; b: 4 active / weight 4 = 1 -> b wins every time.
  auto p = mustCreate(makeConfig({1, 4}, LbPolicy::LeastRequest));
  for (int i = 0; i < 2; ++i) p->requestStarted(*p->endpoints()[0]);
  for (int i = 0; i < 4; ++i) p->requestStarted(*p->endpoints()[1]);
  auto counts = countPicks(*p, 1000);
  EXPECT_EQ(counts[1], 1000);
  // b at 12 active (load 3) now loses to a (load 2).
  for (int i = 0; i < 8; ++i) p->requestStarted(*p->endpoints()[1]);
  counts = countPicks(*p, 1000);
  EXPECT_EQ(counts[0], 1000);
}

TEST(LeastRequest, SkipsUnavailableAndHonoursExclude) {
  auto p = mustCreate(makeConfig({1, 1, 1, 1}, LbPolicy::LeastRequest));
  p->setActiveHealthy(*p->endpoints()[2], false);
  const Endpoint* ex = p->endpoints()[0].get();
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 2000; ++i) counts[p->pick("", ex)->index()]++;
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[2], 0);
  EXPECT_NEAR(counts[1], 1000, 200);
  EXPECT_NEAR(counts[3], 1000, 200);
  p->setActiveHealthy(*p->endpoints()[1], false);
  p->setActiveHealthy(*p->endpoints()[3], false);
  EXPECT_EQ(p->pick("", ex), ex);  // only the excluded one is left
  p->setActiveHealthy(*p->endpoints()[0], false);
  EXPECT_EQ(p->pick(""), nullptr);
}

TEST(LeastRequest, RequestFinishedNeverUnderflows) {
  auto p = mustCreate(makeConfig({1, 1}, LbPolicy::LeastRequest));
  p->requestFinished(*p->endpoints()[0]);
  EXPECT_EQ(p->endpoints()[0]->activeRequests(), 0u);
}

// ------------------------------------------------------------------ Maglev

TEST(Maglev, TableSizeIsPrimeAndLargeEnough) {
  auto small = mustCreate(makeConfig({1, 1, 1}, LbPolicy::Hash));
  EXPECT_EQ(small->maglevTableSize(), 65537u);
  auto big = mustCreate(makeConfig(std::vector<uint32_t>(1000, 1), LbPolicy::Hash, 10000));
  const size_t m = big->maglevTableSize();
  EXPECT_GE(m, 100000u);
  for (size_t d = 2; d * d <= m; ++d) ASSERT_NE(m % d, 0u) << m << " divisible by " << d;
  auto rr = mustCreate(makeConfig({1, 1}));
  EXPECT_EQ(rr->maglevTableSize(), 0u);  // only built for lb: hash
}

TEST(Maglev, SameKeySameEndpoint) {
  auto p = mustCreate(makeConfig({1, 1, 1, 1, 1}, LbPolicy::Hash));
  auto q = mustCreate(makeConfig({1, 1, 1, 1, 1}, LbPolicy::Hash));  // a rebuilt pool (reload)
  for (int i = 0; i < 1000; ++i) {
    std::string key = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    const Endpoint* a = p->pick(key);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(p->pick(key), a);
    EXPECT_EQ(q->pick(key)->index(), a->index());
  }
}

TEST(Maglev, KeysSpreadEvenly) {
  auto p = mustCreate(makeConfig({1, 1, 1, 1, 1}, LbPolicy::Hash));
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 10000; ++i) counts[p->pick("user-" + std::to_string(i))->index()]++;
  for (int c : counts) EXPECT_NEAR(c, 2000, 250);
}

TEST(Maglev, WeightsAreRespected) {
  auto p = mustCreate(makeConfig({1, 3}, LbPolicy::Hash));
  int heavy = 0;
  for (int i = 0; i < 20000; ++i) heavy += p->pick("k" + std::to_string(i))->index() == 1;
  EXPECT_NEAR(heavy, 15000, 600);
}

TEST(Maglev, RemovingOneEndpointMovesAboutOneNth) {
  constexpr int kN = 10;
  auto full = mustCreate(makeConfig(std::vector<uint32_t>(kN, 1), LbPolicy::Hash));
  PoolConfig smaller = makeConfig(std::vector<uint32_t>(kN, 1), LbPolicy::Hash);
  smaller.endpoints.erase(smaller.endpoints.begin() + 3);  // 127.0.0.1:9003 goes away
  auto less = mustCreate(smaller);
  int moved = 0, moved_unaffected = 0, total = 20000;
  for (int i = 0; i < total; ++i) {
    std::string key = "client-" + std::to_string(i);
    const std::string& before = full->pick(key)->config().address;
    const std::string& after = less->pick(key)->config().address;
    if (before != after) {
      ++moved;
      if (before != "127.0.0.1:9003") ++moved_unaffected;
    }
  }
  // About 1/N of the keys (those of the removed endpoint) move; Maglev moves a few more.
  EXPECT_GT(moved, total / kN * 8 / 10);
  EXPECT_LT(moved, total / kN * 15 / 10);
  EXPECT_LT(moved_unaffected, total * 3 / 100);
}

TEST(Maglev, UnavailableEndpointKeysSpreadAndComeBack) {
  auto p = mustCreate(makeConfig({1, 1, 1, 1, 1}, LbPolicy::Hash));
  const Endpoint* down = p->endpoints()[2].get();
  std::vector<std::string> keys;
  std::vector<const Endpoint*> before;
  for (int i = 0; i < 5000; ++i) {
    keys.push_back("s" + std::to_string(i));
    before.push_back(p->pick(keys.back()));
  }
  p->setActiveHealthy(*down, false);
  std::set<size_t> new_homes;
  for (size_t i = 0; i < keys.size(); ++i) {
    const Endpoint* now = p->pick(keys[i]);
    ASSERT_NE(now, down);
    if (before[i] == down) {
      new_homes.insert(now->index());
    } else {
      EXPECT_EQ(now, before[i]);  // keys of healthy endpoints never move
    }
  }
  EXPECT_GE(new_homes.size(), 3u);  // spread over the others, not dumped on one
  p->setActiveHealthy(*down, true);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(p->pick(keys[i]), before[i]);
}

TEST(Maglev, EmptyKeyFallsBackToRoundRobin) {
  auto p = mustCreate(makeConfig({1, 1, 1, 1}, LbPolicy::Hash));
  auto counts = countPicks(*p, 400, "");
  EXPECT_EQ(counts, (std::vector<int>{100, 100, 100, 100}));
}

TEST(Maglev, ExcludeAndNoneAvailable) {
  auto p = mustCreate(makeConfig({1, 1, 1}, LbPolicy::Hash));
  for (int i = 0; i < 200; ++i) {
    std::string key = "k" + std::to_string(i);
    const Endpoint* first = p->pick(key);
    const Endpoint* retry = p->pick(key, first);
    ASSERT_NE(retry, nullptr);
    EXPECT_NE(retry, first);
    EXPECT_EQ(p->pick(key, first), retry);  // the retry target is stable too
  }
  for (const auto& e : p->endpoints()) p->setActiveHealthy(*e, false);
  EXPECT_EQ(p->pick("k1"), nullptr);
}

}  // namespace
}  // namespace rampart::gateway::upstream
