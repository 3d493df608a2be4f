// Why: RateLimit-Policy / RateLimit header values per the IETF httpapi
// draft (structured-field lists: "name";q=quota;w=window and
// "name";r=remaining;t=seconds-to-reset) plus Retry-After for a 429.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace rampart::gateway::ratelimit {

std::string rateLimitPolicyValue(std::string_view policy, uint64_t quota, std::chrono::seconds window);
std::string rateLimitValue(std::string_view policy, uint64_t remaining, std::chrono::nanoseconds reset);
// Appends "RateLimit-Policy: <policy_value>\r\nRateLimit: <rateLimitValue>\r\n"
// without allocating (every admitted response carries them).
void appendRateLimitHeaders(std::string& out, std::string_view policy_value, std::string_view policy,
                            uint64_t remaining, std::chrono::nanoseconds reset);
// Whole seconds, rounded up, at least 1 (a 0 would invite an instant retry).
std::string retryAfterValue(std::chrono::nanoseconds retryAfter);

}  // namespace rampart::gateway::ratelimit
