// @strmatch TEXT: TEXT occurs anywhere in the value (v2 uses Boyer-Moore-Horspool;
// no macro expansion in v2, here a literal argument behaves the same).
//   SecRule REQUEST_LINE "@strmatch WebZIP" "id:10,..."
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
    auto p = input.find(param);
    if (p == std::string_view::npos) return false;
    if (ctx.capture) { ctx.caps[0] = input.substr(p, param.size()); ctx.ncaps = 1; }
    return true;
  }

 private:
  MacroArg arg_;
};

}  // namespace

std::unique_ptr<Operator> makeStrmatch(const std::string& arg, const CompileContext&, std::string*) {
  return std::make_unique<Op>(arg);
}

}  // namespace rampart::waf::operators
