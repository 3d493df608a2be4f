// @containsWord WORD: WORD occurs in the value delimited by non-word characters
// (letters, digits and "_" are word characters); an empty WORD always matches.
//   SecRule ARGS "@containsWord select" "id:9,..."
#include <cctype>

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
    auto isWord = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    for (size_t p = input.find(param); p != std::string_view::npos; p = input.find(param, p + 1)) {
      if (p > 0 && isWord(input[p - 1])) continue;
      size_t e = p + param.size();
      if (e < input.size() && isWord(input[e])) continue;
      if (ctx.capture) { ctx.caps[0] = input.substr(p, param.size()); ctx.ncaps = 1; }
      return true;
    }
    return false;
  }

 private:
  MacroArg arg_;
};

}  // namespace

std::unique_ptr<Operator> makeContainsWord(const std::string& arg, const CompileContext&, std::string*) {
  return std::make_unique<Op>(arg);
}

}  // namespace rampart::waf::operators
