// Per-record cost of the access log path: rendering an access record as JSON
// (the worker, into its ring), and a sink accepting the line (offer(): filter,
// lock, append; offerAll(): a drain's lines under one lock, as the log writer
// offers). The end-to-end cost is in bench/sinks.sh; this isolates the steps
// from the noise of a shared machine.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "gateway/log/access_log.h"
#include "gateway/sinks/sink.h"

namespace {

using rampart::gateway::log::AccessRecord;

AccessRecord typical() {
  AccessRecord r;
  r.time_ms = 1796305318543;
  r.request_id = "96bac0a41000001";
  r.client = "203.0.113.7:33973";
  r.listener = "main";
  r.route = "app";
  r.method = "GET";
  r.host = "shop.example.com";
  r.path = "/products/leather-running-shoes-48213?color=black&size=42&ref=newsletter";
  r.protocol = "HTTP/1.1";
  r.status = 200;
  r.bytes_in = 0;
  r.bytes_out = 5123;
  r.upstream = "10.0.0.12:8080";
  r.upstream_ms = 1.234;
  r.total_ms = 1.456;
  r.user_agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
  return r;
}

void BM_RenderAccessRecord(benchmark::State& state) {
  // As a worker renders into its ring: one buffer of the record's bound.
  const AccessRecord r = typical();
  std::string buf(r.jsonBound(), '\0');
  size_t n = 0;
  for (auto _ : state) {
    n = size_t(r.writeJson(buf.data()) - buf.data());
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n));
}
BENCHMARK(BM_RenderAccessRecord);

// A local-directory sink that never refuses (memory cap far away) and cuts
// 5 MB batches as by default (compressed as they grow, shipped by its thread).
rampart::gateway::sinks::SinkConfig benchSink(const char* name) {
  namespace fs = std::filesystem;
  const std::string dir = (fs::temp_directory_path() / name).string();
  fs::create_directories(dir + "/spool");
  rampart::gateway::sinks::SinkConfig c;
  c.name = "bench";
  c.type = rampart::gateway::sinks::SinkConfig::Type::kLocal;
  c.local.path = dir + "/out";
  c.spool_path = dir + "/spool";
  c.batch_age = std::chrono::hours(1);
  c.memory_max_bytes = uint64_t(1) << 34;
  c.batch_bytes = 5 << 20;
  return c;
}

void BM_SinkOffer(benchmark::State& state) {
  rampart::gateway::sinks::Sink sink(benchSink("rampart-bench-sink"), "bench");
  std::string line;
  typical().appendJson(line);
  for (auto _ : state) sink.offer(rampart::gateway::sinks::Kind::kAccess, line, 200, false);
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_SinkOffer)->Iterations(2000000);

// As the log writer offers: a drain's lines (here 1000) under one lock.
void BM_SinkOfferAll(benchmark::State& state) {
  rampart::gateway::sinks::Sink sink(benchSink("rampart-bench-sink-all"), "bench");
  std::string text;
  std::vector<size_t> ends;
  for (int i = 0; i < 1000; ++i) {
    typical().appendJson(text);
    ends.push_back(text.size());
    text += '\n';
  }
  std::vector<rampart::gateway::sinks::Sink::Line> lines;
  for (size_t i = 0, at = 0; i < ends.size(); at = ends[i++] + 1)
    lines.push_back({std::string_view(text).substr(at, ends[i] - at), 200, false});
  for (auto _ : state) sink.offerAll(rampart::gateway::sinks::Kind::kAccess, lines);
  state.SetItemsProcessed(int64_t(state.iterations()) * 1000);
}
BENCHMARK(BM_SinkOfferAll)->Iterations(2000);

}  // namespace

BENCHMARK_MAIN();
