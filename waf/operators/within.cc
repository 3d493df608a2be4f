// @within LIST: the value occurs somewhere inside LIST (v2: a plain substring
// test of the value in the expanded argument; an empty value always matches).
//   SecRule REQUEST_METHOD "!@within %{tx.allowed_methods}" "id:8,..."
#include <array>
#include <cstring>
#include <vector>

#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {

class Op final : public Operator {
 public:
  explicit Op(std::string arg) : arg_(std::move(arg)) {
    if (arg_.dynamic()) return;
    // A fixed list (most are: Engine fixes the %{tx...} of variables no rule
    // writes at run time) is indexed by its byte pairs: a value is looked for
    // only where its first two bytes are, not by a scan of the whole list
    // (920450 asks once per request header).
    hay_ = arg_.raw();
    if (auto z = hay_.find('\0'); z != std::string_view::npos) hay_ = hay_.substr(0, z);
    if (hay_.size() < 2 || hay_.size() > 0xFFFF) return;
    next_.assign(hay_.size() - 1, 0);
    for (size_t i = hay_.size() - 1; i-- > 0;) {  // each chain in ascending order
      uint16_t& h = head_[pair(hay_[i], hay_[i + 1])];
      next_[i] = h;
      h = static_cast<uint16_t>(i + 1);
    }
    indexed_ = true;
  }
  bool evaluate(EvalContext& ctx, std::string_view input) const override {
    if (input.empty()) return true;
    bool found;
    if (indexed_ && input.size() >= 2) {
      found = false;
      for (uint16_t at = head_[pair(input[0], input[1])]; at && !found; at = next_[at - 1]) {
        const size_t i = at - 1u;
        found = input.size() <= hay_.size() - i && std::memcmp(hay_.data() + i, input.data(), input.size()) == 0;
      }
    } else {
      std::string buf;
      std::string_view param = arg_.get(ctx, buf);
      if (auto z = param.find('\0'); z != std::string_view::npos) param = param.substr(0, z);
      found = findBytes(param, input) != std::string_view::npos;
    }
    if (!found) return false;
    if (ctx.capture) { ctx.caps[0] = input; ctx.ncaps = 1; }
    return true;
  }

 private:
  static size_t pair(char a, char b) {
    return (static_cast<unsigned char>(a) * 31u + static_cast<unsigned char>(b)) & 255u;
  }
  MacroArg arg_;
  std::string_view hay_;  // arg_'s text up to a NUL
  bool indexed_ = false;
  std::array<uint16_t, 256> head_{};  // by pair(): 1 + the first position with it, 0: none
  std::vector<uint16_t> next_;        // by position: 1 + the next one in its chain, 0: none
};

}  // namespace

std::unique_ptr<Operator> makeWithin(const std::string& arg, const CompileContext&, std::string*) {
  return std::make_unique<Op>(arg);
}

}  // namespace rampart::waf::operators
