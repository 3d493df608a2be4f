// @detectSQLi / @detectXSS cost against input size (1 KiB to 1 MiB): time per
// byte must stay flat (linear time). Inputs are benign text with quotes, tags
// and SQL words spread through it (the detectors' slow paths), and an attack at
// the end of a long benign prefix.
//   build/bench/bench_detect --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <string>

#include "waf/detect/sqli.h"
#include "waf/detect/xss.h"

namespace {

std::string text(size_t size) {
  static const std::string chunk =
      "O'Brien said \"select one or two\" and <b>left</b> the union station at 5 < 7; it's fine. ";
  std::string s;
  while (s.size() < size) s += chunk;
  s.resize(size);
  return s;
}

void BM_Sqli(benchmark::State& state) {
  std::string in = text(size_t(state.range(0)));
  std::string fp;
  for (auto _ : state) benchmark::DoNotOptimize(rampart::waf::detect::detectSqli(in, &fp));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
  state.counters["ns/byte"] = benchmark::Counter(double(state.range(0)), benchmark::Counter::kIsIterationInvariantRate |
                                                                            benchmark::Counter::kInvert);
}

void BM_Xss(benchmark::State& state) {
  std::string in = text(size_t(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(rampart::waf::detect::detectXss(in));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
  state.counters["ns/byte"] = benchmark::Counter(double(state.range(0)), benchmark::Counter::kIsIterationInvariantRate |
                                                                            benchmark::Counter::kInvert);
}

void BM_XssAttackAtEnd(benchmark::State& state) {
  std::string in = text(size_t(state.range(0))) + "<img src=x onerror=alert(1)>";
  for (auto _ : state) benchmark::DoNotOptimize(rampart::waf::detect::detectXss(in));
  state.counters["ns/byte"] = benchmark::Counter(double(state.range(0)), benchmark::Counter::kIsIterationInvariantRate |
                                                                            benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(BM_Sqli)->RangeMultiplier(8)->Range(1 << 10, 1 << 20);
BENCHMARK(BM_Xss)->RangeMultiplier(8)->Range(1 << 10, 1 << 20);
BENCHMARK(BM_XssAttackAtEnd)->RangeMultiplier(8)->Range(1 << 10, 1 << 20);
BENCHMARK_MAIN();
