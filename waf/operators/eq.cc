// @eq NUMBER: the value, read as an integer like C atoi() (0 when not a
// number), is equal NUMBER (macros expanded, also read with atoi()).
//   SecRule TX:ANOMALY_SCORE "@eq %{tx.threshold}" "id:11,..."
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {

class Op final : public Operator {
 public:
  explicit Op(std::string arg) : arg_(std::move(arg)) {}
  bool evaluate(EvalContext& ctx, std::string_view input) const override {
    return atoiLike(input) == arg_.get(ctx);
  }

 private:
  NumberArg arg_;
};

}  // namespace

std::unique_ptr<Operator> makeEq(const std::string& arg, const CompileContext&, std::string*) {
  return std::make_unique<Op>(arg);
}

}  // namespace rampart::waf::operators
