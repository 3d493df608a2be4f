// @detectSQLi: libinjection-style SQL injection detection on the value. With
// `capture`, TX:0 is the token fingerprint. Until waf/detect/sqli.h exists the
// operator compiles and never matches.
//   SecRule ARGS "@detectSQLi" "id:17,capture,..."
#include "waf/operators/operator.h"

#if __has_include("waf/detect/sqli.h")
#include "waf/detect/sqli.h"
#define RAMPART_HAVE_SQLI 1
#endif

namespace rampart::waf::operators {

namespace {
class DetectSqli final : public Operator {
 public:
  bool evaluate(EvalContext& ctx, std::string_view input) const override {
#ifdef RAMPART_HAVE_SQLI
    std::string fp;
    if (!rampart::waf::detect::detectSqli(input, &fp)) return false;
    if (ctx.capture) {
      ctx.cap_storage = std::move(fp);
      ctx.caps[0] = ctx.cap_storage;
      ctx.ncaps = 1;
    }
    return true;
#else
    return false;
#endif
  }
};
}  // namespace

std::unique_ptr<Operator> makeDetectSqli(const std::string&, const CompileContext&, std::string*) {
  return std::make_unique<DetectSqli>();
}

}  // namespace rampart::waf::operators
