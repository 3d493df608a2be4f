#include "gateway/core/runtime.h"

#include <fmt/format.h>

#include <atomic>

namespace rampart::gateway::core {

std::shared_ptr<const Runtime> Runtime::build(std::shared_ptr<const config::Config> cfg, const Runtime* previous,
                                              std::vector<std::string>* errors) {
  static std::atomic<uint64_t> generations{0};
  auto rt = std::make_shared<Runtime>();
  rt->config = cfg;
  rt->generation = ++generations;
  bool ok = true;
  for (const auto& pc : cfg->pools) {
    std::string err;
    auto pool = upstream::Pool::create(pc, &err);
    if (!pool) {
      ok = false;
      if (errors) errors->push_back(fmt::format("{}: pool '{}': {}", pc.location.empty() ? cfg->path : pc.location, pc.name, err));
      rt->pools.push_back(nullptr);
      continue;
    }
    if (previous) {
      for (const auto& old : previous->pools)
        if (old && old->config().name == pc.name) pool->inheritState(*old);
    }
    rt->pools.push_back(std::move(pool));
  }
  for (const auto& r : cfg->routes)
    rt->retry_budgets.push_back(std::make_shared<upstream::RetryBudget>(r.retry.budget_percent));
  if (!filters::WafPolicies::build(*cfg, rt->waf, errors)) ok = false;
  filters::RateLimiters::build(*cfg, previous ? &previous->rate_limits : nullptr, rt->rate_limits);
  for (const auto& l : cfg->listeners) {
    std::shared_ptr<tls::ServerContext> ctx;
    if (l.tls) {
      std::string err;
      // Ticket keys carry over from the previous generation's listener of the same name.
      std::shared_ptr<tls::TicketKeys> keys;
      if (previous)
        for (size_t i = 0; i < previous->config->listeners.size() && i < previous->tls.size(); ++i)
          if (previous->config->listeners[i].name == l.name && previous->tls[i]) keys = previous->tls[i]->ticketKeys();
      ctx = tls::ServerContext::create(*l.tls, &err, keys);
      if (!ctx) {
        ok = false;
        if (errors) errors->push_back(fmt::format("{}:{}: listener '{}': tls: {}", l.loc.file, l.loc.line, l.name, err));
      }
    }
    rt->tls.push_back(std::move(ctx));
  }
  if (!ok) return nullptr;
  return rt;
}

}  // namespace rampart::gateway::core
