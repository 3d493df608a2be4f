// Why: the rate-limit key must use the real client, not the last proxy.
// X-Forwarded-For is only believed when the peer is a trusted proxy; then it
// is walked right to left, skipping trusted hops, and the first untrusted
// address is the client (entries further left are client-controlled and
// may be spoofed, so they are never used).
#pragma once
#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace rampart::gateway::ratelimit {

struct Cidr {
  boost::asio::ip::address network;
  int prefix = 0;
};

std::optional<Cidr> parseCidr(std::string_view text);  // "10.0.0.0/8", "::1" (= /128)
bool cidrContains(const Cidr& cidr, const boost::asio::ip::address& addr);

// xff: each X-Forwarded-For header value, in the order received.
boost::asio::ip::address resolveClientAddress(const boost::asio::ip::address& peer,
                                              const std::vector<std::string_view>& xff,
                                              const std::vector<Cidr>& trusted);

}  // namespace rampart::gateway::ratelimit
