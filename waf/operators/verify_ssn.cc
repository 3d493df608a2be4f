// @verifySSN REGEX: finds US social security number candidates with REGEX and
// matches when one is structurally valid (9 digits; area not 000, 666 or
// 900-999; group not 00; serial not 0000; not all digits equal).
//   SecRule ARGS "@verifySSN \d{3}-?\d{2}-?\d{4}" "id:23,..."
#include "waf/operators/verify_common.h"

namespace rampart::waf::operators {

namespace {
bool ssn(std::string_view cand) {
  std::string d = digitsOf(cand);
  if (d.size() != 9) return false;
  int area = std::stoi(d.substr(0, 3)), group = std::stoi(d.substr(3, 2)), serial = std::stoi(d.substr(5));
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return false;
  if (d.find_first_not_of(d[0]) == std::string::npos) return false;
  return true;
}
}  // namespace

std::unique_ptr<Operator> makeVerifySsn(const std::string& arg, const CompileContext& cc, std::string* error) {
  return RegexVerify::make(arg, cc, ssn, error);
}

}  // namespace rampart::waf::operators
