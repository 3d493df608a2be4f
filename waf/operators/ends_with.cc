// @endsWith TEXT: the value ends with TEXT (an empty TEXT always matches).
//   SecRule REQUEST_FILENAME "@endsWith .php" "id:7,..."
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
    if (param.size() > input.size() || input.substr(input.size() - param.size()) != param) return false;
    if (ctx.capture) { ctx.caps[0] = input.substr(input.size() - param.size()); ctx.ncaps = 1; }
    return true;
  }

 private:
  MacroArg arg_;
};

}  // namespace

std::unique_ptr<Operator> makeEndsWith(const std::string& arg, const CompileContext&, std::string*) {
  return std::make_unique<Op>(arg);
}

}  // namespace rampart::waf::operators
