// @ipMatch LIST: the value is an IPv4/IPv6 address inside one of the
// comma-separated addresses or CIDR networks of LIST.
//   SecRule REMOTE_ADDR "@ipMatch 127.0.0.1,10.0.0.0/8,::1" "id:19,..."
#include "waf/operators/ip_set.h"

namespace rampart::waf::operators {

std::unique_ptr<Operator> makeIpMatch(const std::string& arg, const CompileContext&, std::string* error) {
  auto set = std::make_unique<IpSet>();
  std::string_view rest = arg;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    if (!set->add(item)) {
      if (error) *error = "invalid address in @ipMatch: '" + std::string(item) + "'";
      return nullptr;
    }
  }
  return set;
}

}  // namespace rampart::waf::operators
