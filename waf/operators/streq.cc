// @streq TEXT: the value equals TEXT exactly (macros expanded, case-sensitive).
//   SecRule REQUEST_METHOD "@streq POST" "id:4,..."
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {

class Op final : public Operator {
 public:
  explicit Op(std::string arg) : arg_(std::move(arg)) {}
  bool evaluate(EvalContext& ctx, std::string_view input) const override {
    std::string buf;
    std::string_view param = arg_.get(ctx, buf);
    if (auto z = param.find('\0'); z != std::string_view::npos) param = param.substr(0, z);
    if (input != param) return false;
    if (ctx.capture) { ctx.caps[0] = input; ctx.ncaps = 1; }
    return true;
  }

 private:
  MacroArg arg_;
};

}  // namespace

std::unique_ptr<Operator> makeStreq(const std::string& arg, const CompileContext&, std::string*) {
  return std::make_unique<Op>(arg);
}

}  // namespace rampart::waf::operators
