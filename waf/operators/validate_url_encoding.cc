// @validateUrlEncoding: matches when the value holds an invalid URL encoding:
// a '%' not followed by two hexadecimal digits (also at the end of input).
//   SecRule REQUEST_URI "@validateUrlEncoding" "id:13,..."
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

class ValidateUrlEncoding final : public Operator {
 public:
  bool evaluate(EvalContext&, std::string_view in) const override {
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] != '%') continue;
      if (i + 2 >= in.size()) return true;  // fewer than two characters left
      if (!isHex(in[i + 1]) || !isHex(in[i + 2])) return true;
      i += 2;
    }
    return false;
  }
};

}  // namespace

std::unique_ptr<Operator> makeValidateUrlEncoding(const std::string&, const CompileContext&, std::string*) {
  return std::make_unique<ValidateUrlEncoding>();
}

}  // namespace rampart::waf::operators
