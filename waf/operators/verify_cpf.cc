// @verifyCPF REGEX: finds Brazilian CPF candidates with REGEX and matches when
// one has valid check digits (11 digits, not all equal).
//   SecRule ARGS "@verifyCPF \d{3}\.?\d{3}\.?\d{3}-?\d{2}" "id:22,..."
#include "waf/operators/verify_common.h"

namespace rampart::waf::operators {

namespace {
bool cpf(std::string_view cand) {
  std::string d = digitsOf(cand);
  if (d.size() != 11) return false;
  if (d.find_first_not_of(d[0]) == std::string::npos) return false;
  for (int k = 9; k <= 10; ++k) {
    int sum = 0;
    for (int i = 0; i < k; ++i) sum += (d[i] - '0') * (k + 1 - i);
    int r = (sum * 10) % 11;
    if (r == 10) r = 0;
    if (r != d[k] - '0') return false;
  }
  return true;
}
}  // namespace

std::unique_ptr<Operator> makeVerifyCpf(const std::string& arg, const CompileContext& cc, std::string* error) {
  return RegexVerify::make(arg, cc, cpf, error);
}

}  // namespace rampart::waf::operators
