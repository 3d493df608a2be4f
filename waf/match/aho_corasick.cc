#include "waf/match/aho_corasick.h"

#include <algorithm>
#include <deque>

namespace rampart::waf::match {

namespace {
inline uint8_t fold(uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c; }
}  // namespace

int32_t AhoCorasick::child(int32_t n, uint8_t c) const {
  const auto& v = nodes_[n].next;
  auto it = std::lower_bound(v.begin(), v.end(), c, [](const auto& p, uint8_t b) { return p.first < b; });
  if (it != v.end() && it->first == c) return it->second;
  return -1;
}

void AhoCorasick::add(std::string_view literal) {
  if (literal.empty()) return;
  int32_t n = 0;
  for (unsigned char raw : literal) {
    uint8_t c = fold(raw);
    int32_t nx = child(n, c);
    if (nx < 0) {
      nx = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& v = nodes_[n].next;
      auto it = std::lower_bound(v.begin(), v.end(), c, [](const auto& p, uint8_t b) { return p.first < b; });
      v.insert(it, {c, nx});
    }
    n = nx;
  }
  nodes_[n].out_len = std::max<int32_t>(nodes_[n].out_len, static_cast<int32_t>(literal.size()));
  ++count_;
}

void AhoCorasick::build() {
  std::deque<int32_t> q;
  for (auto& [c, nx] : nodes_[0].next) {
    nodes_[nx].fail = 0;
    q.push_back(nx);
  }
  while (!q.empty()) {
    int32_t n = q.front();
    q.pop_front();
    for (auto& [c, nx] : nodes_[n].next) {
      int32_t f = nodes_[n].fail;
      int32_t t;
      while ((t = child(f, c)) < 0 && f != 0) f = nodes_[f].fail;
      t = child(f, c);
      nodes_[nx].fail = (t >= 0 && t != nx) ? t : 0;
      nodes_[nx].out_len = std::max(nodes_[nx].out_len, nodes_[nodes_[nx].fail].out_len);
      q.push_back(nx);
    }
  }
  // Byte classes: one per byte value used by some literal (after folding).
  cls_.fill(0);
  classes_ = 1;
  for (const auto& n : nodes_)
    for (auto& [c, nx] : n.next)
      if (cls_[c] == 0) cls_[c] = static_cast<uint8_t>(classes_++);
  if (nodes_.size() * static_cast<size_t>(classes_) > (16u << 20)) {  // > 64 MiB: keep the sparse walk
    dense_.clear();
    return;
  }
  for (int c = 'A'; c <= 'Z'; ++c) cls_[c] = cls_[c + 32];
  std::vector<uint8_t> rep(classes_, 0);  // a representative byte per class
  for (int c = 0; c < 256; ++c)
    if (cls_[c] && !(c >= 'A' && c <= 'Z')) rep[cls_[c]] = static_cast<uint8_t>(c);
  dense_.assign(nodes_.size() * classes_, 0);
  std::deque<int32_t> order{0};
  while (!order.empty()) {
    int32_t n = order.front();
    order.pop_front();
    for (int k = 1; k < classes_; ++k) {
      int32_t t = child(n, rep[k]);
      if (t >= 0) dense_[n * classes_ + k] = nodes_[t].out_len > 0 ? ~t : t;
      else dense_[n * classes_ + k] = (n == 0) ? 0 : dense_[nodes_[n].fail * classes_ + k];
    }
    for (auto& [c, nx] : nodes_[n].next) order.push_back(nx);
  }
}

std::optional<AhoCorasick::Hit> AhoCorasick::findFirst(std::string_view input) const {
  if (count_ == 0) return std::nullopt;
  int32_t n = 0;
  if (!dense_.empty()) {
    // Two loads a byte: a state where a literal ends comes inverted (negative).
    for (size_t i = 0; i < input.size(); ++i) {
      n = dense_[n * classes_ + cls_[static_cast<uint8_t>(input[i])]];
      if (n < 0) {
        const size_t len = static_cast<size_t>(nodes_[~n].out_len);
        return Hit{i + 1 - len, len};
      }
    }
    return std::nullopt;
  }
  for (size_t i = 0; i < input.size(); ++i) {  // (an automaton too large for the table)
    uint8_t c = fold(static_cast<uint8_t>(input[i]));
    int32_t t;
    while ((t = child(n, c)) < 0 && n != 0) n = nodes_[n].fail;
    n = t < 0 ? 0 : t;
    if (nodes_[n].out_len > 0) {
      size_t len = static_cast<size_t>(nodes_[n].out_len);
      return Hit{i + 1 - len, len};
    }
  }
  return std::nullopt;
}

}  // namespace rampart::waf::match
