// @unconditionalMatch: always matches (SecAction uses it).
//   SecRule REMOTE_ADDR "@unconditionalMatch" "id:15,..."
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {
class Always final : public Operator {
 public:
  bool evaluate(EvalContext&, std::string_view) const override { return true; }
};
}  // namespace

std::unique_ptr<Operator> makeUnconditionalMatch(const std::string&, const CompileContext&, std::string*) {
  return std::make_unique<Always>();
}

}  // namespace rampart::waf::operators
