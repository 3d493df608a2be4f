// @detectSQLi: the value would change the shape of a SQL statement it is pasted
// into (waf/detect/sqli.h says how it decides). With `capture`, TX:0 is the
// token fingerprint, as ModSecurity exposes libinjection's.
//   SecRule ARGS "@detectSQLi" "id:17,capture,..."
#include "waf/detect/sqli.h"
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {
class DetectSqli final : public Operator {
 public:
  bool evaluate(EvalContext& ctx, std::string_view input) const override {
    std::string fp;  // filled only on a detection
    if (!detect::detectSqli(input, &fp)) return false;
    if (ctx.capture) {
      ctx.cap_storage = std::move(fp);
      ctx.caps[0] = ctx.cap_storage;
      ctx.ncaps = 1;
    }
    return true;
  }
};
}  // namespace

std::unique_ptr<Operator> makeDetectSqli(const std::string&, const CompileContext&, std::string*) {
  return std::make_unique<DetectSqli>();
}

}  // namespace rampart::waf::operators
