// @verifyCC REGEX: finds credit-card-number candidates with REGEX and matches
// when one passes the Luhn checksum (13 to 19 digits).
//   SecRule ARGS "@verifyCC \d{13,16}" "id:21,..."
#include "waf/operators/verify_common.h"

namespace rampart::waf::operators {

namespace {
bool luhn(std::string_view cand) {
  std::string d = digitsOf(cand);
  if (d.size() < 13 || d.size() > 19) return false;
  int sum = 0;
  bool dbl = false;
  for (size_t i = d.size(); i-- > 0;) {
    int v = d[i] - '0';
    if (dbl) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}
}  // namespace

std::unique_ptr<Operator> makeVerifyCc(const std::string& arg, const CompileContext& cc, std::string* error) {
  return RegexVerify::make(arg, cc, luhn, error);
}

}  // namespace rampart::waf::operators
