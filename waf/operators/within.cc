// @within LIST: the value occurs somewhere inside LIST (v2: a plain substring
// test of the value in the expanded argument; an empty value always matches).
//   SecRule REQUEST_METHOD "!@within %{tx.allowed_methods}" "id:8,..."
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
    if (input.empty()) return true;
    if (findBytes(param, input) == std::string_view::npos) return false;
    if (ctx.capture) { ctx.caps[0] = input; ctx.ncaps = 1; }
    return true;
  }

 private:
  MacroArg arg_;
};

}  // namespace

std::unique_ptr<Operator> makeWithin(const std::string& arg, const CompileContext&, std::string*) {
  return std::make_unique<Op>(arg);
}

}  // namespace rampart::waf::operators
