#include "gateway/admin/metrics.h"

namespace rampart::gateway::admin {

void RouteMetrics::observe(uint16_t status, double seconds) {
  unsigned cls = status / 100;
  by_class[cls >= 1 && cls <= 5 ? cls : 0].add();
  size_t i = 0;
  while (i < kLatencyBuckets.size() && seconds > kLatencyBuckets[i]) ++i;
  latency[i].add();
  latency_sum_us.add(uint64_t(seconds * 1e6));
}

RouteMetrics& WorkerMetrics::route(const std::string& name) {
  auto it = routes.find(name);
  if (it != routes.end()) return *it->second;
  std::lock_guard<std::mutex> g(mu);
  return *routes.emplace(name, std::make_unique<RouteMetrics>()).first->second;
}

}  // namespace rampart::gateway::admin
