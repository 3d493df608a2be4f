// @ipMatchFromFile FILE (alias @ipMatchF): like @ipMatch with one address or
// network per line of FILE (relative to the rule file's directory).
//   SecRule REMOTE_ADDR "@ipMatchFromFile blocked-ips.txt" "id:20,..."
#include "waf/operators/ip_set.h"

namespace rampart::waf::operators {

std::unique_ptr<Operator> makeIpMatchFromFile(const std::string& arg, const CompileContext& cc, std::string* error) {
  std::vector<std::string> lines;
  if (!readDataFile(arg, cc, &lines, error)) return nullptr;
  auto set = std::make_unique<IpSet>();
  for (auto& l : lines) {
    if (!set->add(l)) {
      if (error) *error = "invalid address in " + arg + ": '" + l + "'";
      return nullptr;
    }
  }
  return set;
}

}  // namespace rampart::waf::operators
