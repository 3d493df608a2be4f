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
  const std::vector<std::string>* phrases() const override { return &phrases_; }
  void add(std::string_view phrase) {
    if (phrase.empty()) return;
    ac.add(phrase);
    phrases_.emplace_back(phrase);
  }
  match::AhoCorasick ac;

 private:
  std::vector<std::string> phrases_;
};

}  // namespace rampart::waf::operators
