// One generation of the gateway's state, built from a Config off the request
// path and swapped in whole on reload. Connections pin the generation they
// started with (shared_ptr), so an old generation lives until its last
// connection ends.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/filters/rate_limits.h"
#include "gateway/filters/waf_policy.h"
#include "gateway/upstream/pool.h"
#include "tls/server_context.h"

namespace rampart::gateway::core {

struct Runtime {
  std::shared_ptr<const config::Config> config;
  std::vector<std::shared_ptr<upstream::Pool>> pools;                // as config->pools
  std::vector<std::shared_ptr<upstream::RetryBudget>> retry_budgets;  // as config->routes
  filters::WafPolicies waf;                                         // per listener / route
  filters::RateLimiters rate_limits;
  std::vector<std::shared_ptr<tls::ServerContext>> tls;             // as config->listeners; null: plain
  uint64_t generation = 0;

  Runtime() { live_.fetch_add(1, std::memory_order_relaxed); }
  ~Runtime() { live_.fetch_sub(1, std::memory_order_relaxed); }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  // Generations alive now: the current one plus those still pinned by
  // connections that began under them (rampart_config_generations_live).
  static uint64_t live() { return live_.load(std::memory_order_relaxed); }

  // Builds pools (resolving endpoint names) and carries health state over from
  // `previous` (may be null). On failure returns null and fills *errors.
  static std::shared_ptr<const Runtime> build(std::shared_ptr<const config::Config> cfg, const Runtime* previous,
                                              std::vector<std::string>* errors);

 private:
  static inline std::atomic<uint64_t> live_{0};
};

}  // namespace rampart::gateway::core
