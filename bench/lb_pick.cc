// Cost of Pool::pick() per policy (ns per call), single- and multi-threaded,
// with and without unavailable endpoints. Also reports heap allocations per
// pick (expected: 0) through a counting global operator new.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "gateway/upstream/pool.h"

namespace {

std::atomic<uint64_t> g_allocs{0};

}  // namespace

void* operator new(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace {

using namespace rampart::gateway::upstream;

std::shared_ptr<Pool> makePool(LbPolicy lb, int n, int down) {
  PoolConfig c;
  c.name = "bench";
  c.lb = lb;
  for (int i = 0; i < n; ++i) {
    uint16_t port = static_cast<uint16_t>(9000 + i);
    c.endpoints.push_back({"127.0.0.1:" + std::to_string(port), "127.0.0.1", port, static_cast<uint32_t>(1 + i % 3)});
  }
  std::string err;
  auto p = Pool::create(c, &err);
  if (!p) std::abort();
  for (int i = 0; i < down; ++i) p->setActiveHealthy(*p->endpoints()[static_cast<size_t>(i * 2)], false);
  return p;
}

std::shared_ptr<Pool> g_pool;

void pickLoop(benchmark::State& state, LbPolicy lb) {
  const int n = static_cast<int>(state.range(0));
  const int down = static_cast<int>(state.range(1));
  if (state.thread_index() == 0) g_pool = makePool(lb, n, down);
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) keys.push_back("203.0.113." + std::to_string(i % 256) + ":" + std::to_string(i));
  size_t k = 0;
  const uint64_t allocs_before = g_allocs.load();
  for (auto _ : state) {
    const Endpoint* e = g_pool->pick(lb == LbPolicy::Hash ? std::string_view(keys[k++ & 1023]) : std::string_view());
    if (lb == LbPolicy::LeastRequest && e) {
      g_pool->requestStarted(*e);
      g_pool->requestFinished(*e);
    }
    benchmark::DoNotOptimize(e);
  }
  state.counters["allocs/pick"] = benchmark::Counter(static_cast<double>(g_allocs.load() - allocs_before) /
                                                     static_cast<double>(state.iterations()));
  if (state.thread_index() == 0) state.SetLabel(std::to_string(n) + " endpoints, " + std::to_string(down) + " down");
}

void BM_RoundRobin(benchmark::State& s) { pickLoop(s, LbPolicy::RoundRobin); }
void BM_LeastRequest(benchmark::State& s) { pickLoop(s, LbPolicy::LeastRequest); }  // incl. started/finished
void BM_Maglev(benchmark::State& s) { pickLoop(s, LbPolicy::Hash); }

BENCHMARK(BM_RoundRobin)->Args({10, 0})->Args({10, 3})->Args({100, 0});
BENCHMARK(BM_RoundRobin)->Args({10, 0})->Threads(2);
BENCHMARK(BM_LeastRequest)->Args({10, 0})->Args({10, 3})->Args({100, 0});
BENCHMARK(BM_LeastRequest)->Args({10, 0})->Threads(2);
BENCHMARK(BM_Maglev)->Args({10, 0})->Args({10, 3})->Args({100, 0});
BENCHMARK(BM_Maglev)->Args({10, 0})->Threads(2);

}  // namespace

BENCHMARK_MAIN();
