// @detectXSS: libinjection-style XSS detection on the value. Until
// waf/detect/xss.h exists the operator compiles and never matches.
//   SecRule ARGS "@detectXSS" "id:18,..."
#include "waf/operators/operator.h"

#if __has_include("waf/detect/xss.h")
#include "waf/detect/xss.h"
#define RAMPART_HAVE_XSS 1
#endif

namespace rampart::waf::operators {

namespace {
class DetectXss final : public Operator {
 public:
  bool evaluate(EvalContext&, std::string_view input) const override {
#ifdef RAMPART_HAVE_XSS
    return rampart::waf::detect::detectXss(input);
#else
    (void)input;
    return false;
#endif
  }
};
}  // namespace

std::unique_ptr<Operator> makeDetectXss(const std::string&, const CompileContext&, std::string*) {
  return std::make_unique<DetectXss>();
}

}  // namespace rampart::waf::operators
