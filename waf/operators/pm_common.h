// Shared by @pm and @pmFromFile: the phrase set and its evaluation.
#pragma once

#include "waf/match/aho_corasick.h"
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

class PhraseMatch final : public Operator {
 public:
  bool evaluate(EvalContext& ctx, std::string_view input) const override {
    auto hit = ac.findFirst(input);
    if (!hit) return false;
    if (ctx.capture) {
      ctx.caps[0] = input.substr(hit->pos, hit->len);
      ctx.ncaps = 1;
    }
    return true;
  }
  match::AhoCorasick ac;
};

}  // namespace rampart::waf::operators
