#include "gateway/ratelimit/proxy_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rampart::gateway::ratelimit {
namespace {

std::span<const unsigned char> bytes(const std::string& s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

TEST(ProxyProtocol, V1Tcp4) {
  std::string s = "PROXY TCP4 192.0.2.9 10.0.0.1 5555 443\r\nGET / HTTP/1.1\r\n";
  auto h = parseProxyHeader(bytes(s));
  ASSERT_EQ(h.error, ProxyError::kNone);
  EXPECT_EQ(h.source->to_string(), "192.0.2.9");
  EXPECT_EQ(h.sourcePort, 5555);
  EXPECT_EQ(s.substr(h.consumed), "GET / HTTP/1.1\r\n");
}

TEST(ProxyProtocol, V1TruncatedBadAndMalformed) {
  EXPECT_EQ(parseProxyHeader(bytes("PROXY TCP4 192.0.2.9 10.0")).error, ProxyError::kIncomplete);
  EXPECT_EQ(parseProxyHeader(bytes("GET / HTTP/1.1\r\n")).error, ProxyError::kBadSignature);
  EXPECT_EQ(parseProxyHeader(bytes("PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n")).error, ProxyError::kMalformed);
  EXPECT_EQ(parseProxyHeader(bytes("PROXY TCP4 192.0.2.9 10.0.0.1 99999 2\r\n")).error, ProxyError::kMalformed);
  auto u = parseProxyHeader(bytes("PROXY UNKNOWN\r\n"));
  EXPECT_EQ(u.error, ProxyError::kNone);
  EXPECT_FALSE(u.source.has_value());
}

std::vector<unsigned char> v2(unsigned char verCmd, unsigned char fam, std::vector<unsigned char> body) {
  std::vector<unsigned char> b = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
                                  verCmd, fam, static_cast<unsigned char>(body.size() >> 8),
                                  static_cast<unsigned char>(body.size())};
  for (unsigned char c : body) b.push_back(c);
  return b;
}

TEST(ProxyProtocol, V2Tcp4AndTcp6) {
  auto b4 = v2(0x21, 0x11, {198, 51, 100, 7, 10, 0, 0, 1, 0x1F, 0x90, 0x01, 0xBB});
  auto h = parseProxyHeader(b4);
  ASSERT_EQ(h.error, ProxyError::kNone);
  EXPECT_EQ(h.source->to_string(), "198.51.100.7");
  EXPECT_EQ(h.sourcePort, 8080);
  EXPECT_EQ(h.consumed, b4.size());
  std::vector<unsigned char> body(36, 0);
  body[0] = 0x20; body[1] = 0x01; body[2] = 0x0d; body[3] = 0xb8; body[15] = 1;
  auto h6 = parseProxyHeader(v2(0x21, 0x21, body));
  ASSERT_EQ(h6.error, ProxyError::kNone);
  EXPECT_EQ(h6.source->to_string(), "2001:db8::1");
}

TEST(ProxyProtocol, V2TruncatedLocalAndBadVersion) {
  auto b4 = v2(0x21, 0x11, {198, 51, 100, 7, 10, 0, 0, 1, 0x1F, 0x90, 0x01, 0xBB});
  b4.resize(b4.size() - 3);
  EXPECT_EQ(parseProxyHeader(b4).error, ProxyError::kIncomplete);
  auto local = parseProxyHeader(v2(0x20, 0x00, {}));
  EXPECT_EQ(local.error, ProxyError::kNone);
  EXPECT_FALSE(local.source.has_value());
  EXPECT_EQ(parseProxyHeader(v2(0x11, 0x11, std::vector<unsigned char>(12, 0))).error, ProxyError::kMalformed);
  EXPECT_EQ(parseProxyHeader(v2(0x21, 0x11, std::vector<unsigned char>(4, 0))).error, ProxyError::kMalformed);
}

}  // namespace
}  // namespace rampart::gateway::ratelimit
