// @detectXSS: the value would run script if echoed into an HTML page
// (waf/detect/xss.h says how it decides).
//   SecRule ARGS "@detectXSS" "id:18,..."
#include "waf/detect/xss.h"
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {
class DetectXss final : public Operator {
 public:
  bool evaluate(EvalContext&, std::string_view input) const override { return detect::detectXss(input); }
};
}  // namespace

std::unique_ptr<Operator> makeDetectXss(const std::string&, const CompileContext&, std::string*) {
  return std::make_unique<DetectXss>();
}

}  // namespace rampart::waf::operators
