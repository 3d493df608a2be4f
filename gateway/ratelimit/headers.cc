#include "gateway/ratelimit/headers.h"

#include <fmt/format.h>

#include <charconv>

namespace rampart::gateway::ratelimit {
namespace {
int64_t ceilSeconds(std::chrono::nanoseconds d) {
  const int64_t ns = d.count();
  return ns <= 0 ? 0 : (ns + 999'999'999) / 1'000'000'000;
}
}  // namespace

std::string rateLimitPolicyValue(std::string_view policy, uint64_t quota, std::chrono::seconds window) {
  return fmt::format("\"{}\";q={};w={}", policy, quota, window.count());
}

std::string rateLimitValue(std::string_view policy, uint64_t remaining, std::chrono::nanoseconds reset) {
  return fmt::format("\"{}\";r={};t={}", policy, remaining, ceilSeconds(reset));
}

void appendRateLimitHeaders(std::string& out, std::string_view policy_value, std::string_view policy,
                            uint64_t remaining, std::chrono::nanoseconds reset) {
  char num[24];
  out.append("RateLimit-Policy: ").append(policy_value).append("\r\nRateLimit: \"").append(policy).append("\";r=");
  out.append(num, std::to_chars(num, num + sizeof num, remaining).ptr);
  out.append(";t=");
  out.append(num, std::to_chars(num, num + sizeof num, ceilSeconds(reset)).ptr);
  out.append("\r\n");
}

std::string retryAfterValue(std::chrono::nanoseconds retryAfter) {
  const int64_t s = ceilSeconds(retryAfter);
  return std::to_string(s < 1 ? 1 : s);
}

}  // namespace rampart::gateway::ratelimit
