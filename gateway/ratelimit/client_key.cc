#include "gateway/ratelimit/client_key.h"

#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace rampart::gateway::ratelimit {
namespace {
template <typename Bytes>
void maskBytes(Bytes& b, int prefix) {
  const int bits = int(b.size()) * 8;
  prefix = std::clamp(prefix, 0, bits);
  for (int i = 0; i < int(b.size()); ++i) {
    const int keep = std::clamp(prefix - i * 8, 0, 8);
    b[i] &= static_cast<unsigned char>(keep == 0 ? 0 : 0xFF << (8 - keep));
  }
}
}  // namespace

std::optional<std::string> clientIpKey(std::string_view address, int ipv4Prefix, int ipv6Prefix) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(std::string(address), ec);
  if (ec) return std::nullopt;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
  if (addr.is_v4()) {
    auto b = addr.to_v4().to_bytes();
    maskBytes(b, ipv4Prefix);
    return boost::asio::ip::address_v4(b).to_string() + "/" + std::to_string(std::clamp(ipv4Prefix, 0, 32));
  }
  auto b = addr.to_v6().to_bytes();
  maskBytes(b, ipv6Prefix);
  return boost::asio::ip::address_v6(b).to_string() + "/" + std::to_string(std::clamp(ipv6Prefix, 0, 128));
}

}  // namespace rampart::gateway::ratelimit
