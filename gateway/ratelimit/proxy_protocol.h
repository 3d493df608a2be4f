// Why: behind a TCP load balancer the peer is the balancer; the PROXY
// protocol (HAProxy spec v1 text / v2 binary) carries the real source. Pure
// function over the first bytes of a connection, for a listener option.
#pragma once
#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace rampart::gateway::ratelimit {

enum class ProxyError { kNone, kIncomplete, kBadSignature, kMalformed };

struct ProxyHeader {
  ProxyError error = ProxyError::kNone;
  size_t consumed = 0;                          // bytes to drop before HTTP
  std::optional<boost::asio::ip::address> source;  // nullopt: LOCAL / UNKNOWN
  uint16_t sourcePort = 0;
};

ProxyHeader parseProxyHeader(std::span<const unsigned char> bytes);

}  // namespace rampart::gateway::ratelimit
