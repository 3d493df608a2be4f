// @noMatch: never matches.
//   SecRule ARGS "@noMatch" "id:16,..."
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {
class Never final : public Operator {
 public:
  bool evaluate(EvalContext&, std::string_view) const override { return false; }
};
}  // namespace

std::unique_ptr<Operator> makeNoMatch(const std::string&, const CompileContext&, std::string*) {
  return std::make_unique<Never>();
}

}  // namespace rampart::waf::operators
