// Shared by @verifyCC / @verifyCPF / @verifySSN: a regex finds candidates,
// a checksum function confirms one (v2 tries every match of the regex).
#pragma once

#include "waf/match/regex.h"
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

class RegexVerify final : public Operator {
 public:
  using Check = bool (*)(std::string_view candidate);
  RegexVerify(std::unique_ptr<match::Regex> re, Check check) : re_(std::move(re)), check_(check) {}
  bool evaluate(EvalContext& ctx, std::string_view input) const override {
    std::string_view rest = input;
    while (!rest.empty()) {
      std::string_view cap;
      if (re_->match(rest, &cap, 1) <= 0) return false;
      if (check_(cap)) {
        if (ctx.capture) {
          ctx.caps[0] = cap;
          ctx.ncaps = 1;
        }
        return true;
      }
      size_t next = static_cast<size_t>(cap.data() - rest.data()) + (cap.empty() ? 1 : cap.size());
      if (next > rest.size()) break;
      rest.remove_prefix(next);
    }
    return false;
  }

  static std::unique_ptr<Operator> make(const std::string& arg, const CompileContext& cc, Check check,
                                        std::string* error) {
    match::RegexOptions o;
    o.match_limit = cc.pcre_match_limit;
    o.depth_limit = cc.pcre_depth_limit;
    auto re = match::Regex::compile(arg, o, error);
    if (!re) return nullptr;
    return std::make_unique<RegexVerify>(std::move(re), check);
  }

 private:
  std::unique_ptr<match::Regex> re_;
  Check check_;
};

inline std::string digitsOf(std::string_view s) {
  std::string d;
  for (char c : s)
    if (c >= '0' && c <= '9') d.push_back(c);
  return d;
}

}  // namespace rampart::waf::operators
