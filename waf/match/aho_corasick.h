// Case-insensitive multi-literal matcher for @pm / @pmFromFile: an Aho-Corasick
// automaton over ASCII-lowercased bytes, like ModSecurity v2's acmp (which
// also folds case). Built once per Engine, immutable, shared between threads.
//
//   AhoCorasick ac; ac.add("select"); ac.add("union"); ac.build();
//   auto m = ac.findFirst("1 UNION 2");  // m->pos == 2, m->len == 5
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::waf::match {

class AhoCorasick {
 public:
  struct Hit {
    size_t pos = 0;  // start of the match in the input
    size_t len = 0;
  };
  void add(std::string_view literal);  // empty literals are ignored
  void build();
  // The match that ends first in the input (the longest one ending there).
  std::optional<Hit> findFirst(std::string_view input) const;
  size_t size() const { return count_; }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> next;  // sorted by byte
    int32_t fail = 0;
    int32_t out_len = 0;      // longest literal ending here (0: none), including via fail links
  };
  int32_t child(int32_t n, uint8_t c) const;
  std::vector<Node> nodes_{1};
  // Full transition table over byte classes: bytes that occur in no literal
  // share class 0 (they always lead back to the root).
  std::array<uint8_t, 256> cls_{};
  int classes_ = 1;
  // dense_[state * classes_ + class]: the next state, bit-inverted (~state,
  // negative) when a literal ends in it.
  std::vector<int32_t> dense_;
  size_t count_ = 0;
};

}  // namespace rampart::waf::match
