#include "gateway/ratelimit/client_address.h"

#include <algorithm>
#include <string>

namespace rampart::gateway::ratelimit {
namespace ip = boost::asio::ip;
namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
ip::address unmap(ip::address a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}
bool trustedAddr(const ip::address& a, const std::vector<Cidr>& trusted) {
  return std::any_of(trusted.begin(), trusted.end(), [&](const Cidr& c) { return cidrContains(c, a); });
}
}  // namespace

std::optional<Cidr> parseCidr(std::string_view text) {
  text = trim(text);
  const auto slash = text.find('/');
  boost::system::error_code ec;
  auto addr = ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return std::nullopt;
  addr = unmap(addr);
  const int maxBits = addr.is_v4() ? 32 : 128;
  int prefix = maxBits;
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > maxBits) return std::nullopt;
  }
  return Cidr{addr, prefix};
}

bool cidrContains(const Cidr& cidr, const ip::address& addrIn) {
  const ip::address addr = unmap(addrIn);
  if (addr.is_v4() != cidr.network.is_v4()) return false;
  auto cmp = [&](const auto& a, const auto& b) {
    int bits = cidr.prefix;
    for (size_t i = 0; i < a.size() && bits > 0; ++i, bits -= 8) {
      const unsigned char mask = bits >= 8 ? 0xFF : static_cast<unsigned char>(0xFF << (8 - bits));
      if ((a[i] & mask) != (b[i] & mask)) return false;
    }
    return true;
  };
  if (addr.is_v4()) return cmp(addr.to_v4().to_bytes(), cidr.network.to_v4().to_bytes());
  return cmp(addr.to_v6().to_bytes(), cidr.network.to_v6().to_bytes());
}

ip::address resolveClientAddress(const ip::address& peer, const std::vector<std::string_view>& xff,
                                 const std::vector<Cidr>& trusted) {
  ip::address client = unmap(peer);
  if (!trustedAddr(client, trusted)) return client;  // untrusted peer: XFF ignored
  for (auto v = xff.rbegin(); v != xff.rend(); ++v) {
    std::string_view rest = *v;
    while (!rest.empty()) {
      const auto comma = rest.rfind(',');
      std::string_view item = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
      if (item.empty()) continue;
      boost::system::error_code ec;
      auto a = ip::make_address(std::string(item), ec);
      if (ec) return client;  // garbage: stop at the last address we could trust
      client = unmap(a);
      if (!trustedAddr(client, trusted)) return client;
    }
  }
  return client;
}

}  // namespace rampart::gateway::ratelimit
