// Why: the client_ip key part aggregates addresses by prefix (IPv6 /64 by
// default: one subscriber usually owns a whole /64, so per-address limits
// would be trivially evaded).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace rampart::gateway::ratelimit {

// Returns the masked address as text ("2001:db8:1:2::/64"), or nullopt if
// `address` is not an IP address.
std::optional<std::string> clientIpKey(std::string_view address, int ipv4Prefix, int ipv6Prefix);

}  // namespace rampart::gateway::ratelimit
