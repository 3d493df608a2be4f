// @contains TEXT: TEXT occurs anywhere in the value (an empty TEXT always matches).
//   SecRule REQUEST_LINE "@contains /etc/passwd" "id:5,..."
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
    if (param.empty()) return true;
    auto p = findBytes(input, param);
    if (p == std::string_view::npos) return false;
    if (ctx.capture) { ctx.caps[0] = input.substr(p, param.size()); ctx.ncaps = 1; }
    return true;
  }

 private:
  MacroArg arg_;
};

}  // namespace

std::unique_ptr<Operator> makeContains(const std::string& arg, const CompileContext&, std::string*) {
  return std::make_unique<Op>(arg);
}

}  // namespace rampart::waf::operators
