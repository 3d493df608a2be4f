// Shared by @ipMatch and @ipMatchFromFile: a list of IPv4/IPv6 addresses and
// CIDR networks, and the test of one textual address against it.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "waf/operators/operator.h"

namespace rampart::waf::operators {

class IpSet final : public Operator {
 public:
  // "10.0.0.0/8", "192.168.1.1", "2001:db8::/32"
  bool add(std::string_view text) {
    Net n;
    std::string s(text);
    auto slash = s.find('/');
    std::string addr = s.substr(0, slash);
    if (inet_pton(AF_INET, addr.c_str(), n.bytes.data()) == 1) {
      n.v6 = false;
      n.bits = 32;
    } else if (inet_pton(AF_INET6, addr.c_str(), n.bytes.data()) == 1) {
      n.v6 = true;
      n.bits = 128;
    } else {
      return false;
    }
    if (slash != std::string::npos) {
      int b = 0;
      std::string m = s.substr(slash + 1);
      if (m.empty() || m.size() > 3) return false;
      for (char c : m) {
        if (c < '0' || c > '9') return false;
        b = b * 10 + (c - '0');
      }
      if (b > n.bits) return false;
      n.bits = b;
    }
    nets_.push_back(n);
    return true;
  }

  bool evaluate(EvalContext&, std::string_view input) const override {
    std::array<unsigned char, 16> a{};
    std::string s(input);
    bool v6;
    if (inet_pton(AF_INET, s.c_str(), a.data()) == 1) v6 = false;
    else if (inet_pton(AF_INET6, s.c_str(), a.data()) == 1) v6 = true;
    else return false;
    for (const auto& n : nets_) {
      if (n.v6 != v6) continue;
      int full = n.bits / 8, rem = n.bits % 8;
      if (std::memcmp(a.data(), n.bytes.data(), full) != 0) continue;
      if (rem) {
        unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rem));
        if ((a[full] & mask) != (n.bytes[full] & mask)) continue;
      }
      return true;
    }
    return false;
  }

 private:
  struct Net {
    std::array<unsigned char, 16> bytes{};
    bool v6 = false;
    int bits = 0;
  };
  std::vector<Net> nets_;
};

}  // namespace rampart::waf::operators
