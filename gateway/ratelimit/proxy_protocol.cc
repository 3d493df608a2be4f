#include "gateway/ratelimit/proxy_protocol.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace rampart::gateway::ratelimit {
namespace ip = boost::asio::ip;
namespace {
constexpr unsigned char kV2Sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr size_t kV1Max = 107;

ProxyHeader fail(ProxyError e) { return ProxyHeader{e, 0, std::nullopt, 0}; }

ProxyHeader parseV1(std::span<const unsigned char> b) {
  std::string_view s(reinterpret_cast<const char*>(b.data()), std::min(b.size(), kV1Max));
  const auto crlf = s.find("\r\n");
  if (crlf == std::string_view::npos) return fail(b.size() >= kV1Max ? ProxyError::kMalformed : ProxyError::kIncomplete);
  std::string_view line = s.substr(6, crlf - 6);  // after "PROXY "
  ProxyHeader h;
  h.consumed = crlf + 2;
  if (line.starts_with("UNKNOWN")) return h;
  std::string_view parts[5];
  for (int i = 0; i < 5; ++i) {
    const auto sp = line.find(' ');
    if ((i < 4) == (sp == std::string_view::npos)) return fail(ProxyError::kMalformed);
    parts[i] = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
  }
  if (parts[0] != "TCP4" && parts[0] != "TCP6") return fail(ProxyError::kMalformed);
  boost::system::error_code ec;
  auto src = ip::make_address(std::string(parts[1]), ec);
  if (ec || src.is_v4() != (parts[0] == "TCP4")) return fail(ProxyError::kMalformed);
  unsigned port = 0;
  if (parts[3].empty() || parts[3].size() > 5) return fail(ProxyError::kMalformed);
  for (char c : parts[3]) {
    if (c < '0' || c > '9') return fail(ProxyError::kMalformed);
    port = port * 10 + unsigned(c - '0');
  }
  if (port > 65535) return fail(ProxyError::kMalformed);
  h.source = src;
  h.sourcePort = uint16_t(port);
  return h;
}

ProxyHeader parseV2(std::span<const unsigned char> b) {
  if (b.size() < 16) return fail(ProxyError::kIncomplete);
  const unsigned verCmd = b[12], fam = b[13];
  const size_t len = (size_t(b[14]) << 8) | b[15];
  if ((verCmd >> 4) != 2) return fail(ProxyError::kMalformed);
  if (b.size() < 16 + len) return fail(ProxyError::kIncomplete);
  ProxyHeader h;
  h.consumed = 16 + len;
  if ((verCmd & 0x0F) == 0) return h;  // LOCAL: health check, keep the peer
  if ((verCmd & 0x0F) != 1) return fail(ProxyError::kMalformed);
  const unsigned af = fam >> 4;
  const unsigned char* p = b.data() + 16;
  if (af == 1) {
    if (len < 12) return fail(ProxyError::kMalformed);
    ip::address_v4::bytes_type a;
    std::memcpy(a.data(), p, 4);
    h.source = ip::address_v4(a);
    h.sourcePort = uint16_t((p[8] << 8) | p[9]);
  } else if (af == 2) {
    if (len < 36) return fail(ProxyError::kMalformed);
    ip::address_v6::bytes_type a;
    std::memcpy(a.data(), p, 16);
    h.source = ip::address_v6(a);
    h.sourcePort = uint16_t((p[32] << 8) | p[33]);
  }  // AF_UNSPEC / AF_UNIX: no IP source
  return h;
}
}  // namespace

ProxyHeader parseProxyHeader(std::span<const unsigned char> b) {
  const size_t n = std::min(b.size(), sizeof(kV2Sig));
  if (n > 0 && std::memcmp(b.data(), kV2Sig, n) == 0)
    return n < sizeof(kV2Sig) ? fail(ProxyError::kIncomplete) : parseV2(b);
  static constexpr std::string_view kV1 = "PROXY ";
  const size_t m = std::min(b.size(), kV1.size());
  if (m == 0) return fail(ProxyError::kIncomplete);
  if (std::memcmp(b.data(), kV1.data(), m) != 0) return fail(ProxyError::kBadSignature);
  if (m < kV1.size()) return fail(ProxyError::kIncomplete);
  return parseV1(b);
}

}  // namespace rampart::gateway::ratelimit
