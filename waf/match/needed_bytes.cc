#include "waf/match/needed_bytes.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "waf/transformations/internal.h"

namespace rampart::waf::match {

namespace {

constexpr std::string_view kPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
constexpr int kDigits = 58, kSpace = 59, kWhite = 60, kControl = 61, kHigh = 62;
constexpr uint64_t kAllClasses = (uint64_t(1) << 63) - 1;

constexpr std::array<uint64_t, 256> makeTable() {
  std::array<uint64_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    int k = kControl;
    if (c >= 'a' && c <= 'z') k = c - 'a';
    else if (c >= 'A' && c <= 'Z') k = c - 'A';
    else if (c >= '0' && c <= '9') k = kDigits;
    else if (c == ' ') k = kSpace;
    else if (c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') k = kWhite;
    else if (c >= 0x80) k = kHigh;
    else
      for (size_t i = 0; i < kPunct.size(); ++i)
        if (kPunct[i] == c) k = 26 + int(i);
    t[size_t(c)] = uint64_t(1) << k;
  }
  return t;
}
constexpr std::array<uint64_t, 256> kClass = makeTable();
constexpr uint64_t kLetters = (uint64_t(1) << 26) - 1;

// How often each class's bytes are in benign requests (per 10000 bytes of the
// generated corpus's URIs, headers and bodies): which part of a concatenation
// to keep. Only what is scanned depends on it, never what matches.
constexpr uint16_t kWeight[64] = {
    577, 154, 451, 203, 883, 208, 192, 158, 438, 22, 109, 301, 248, 373, 423, 308, 58, 293, 286, 493, 129, 67,
    104, 118, 33,  41,  1,   128, 1,   1,   21,  21,  1,   23,  23,  27,  27,  197, 206, 212, 220, 63, 93,  1,
    112, 1,   6,   1,   5,   1,   5,   1,   22,  1,   9,   1,   10,  1,   1528, 308, 50, 1,   1,  1};

uint32_t weightOf(uint64_t mask) {
  uint32_t w = 0;
  for (; mask; mask &= mask - 1) w += kWeight[__builtin_ctzll(mask)];
  return w;
}

// A letter may match (caselessly) a byte from 0x80: its class counts those too.
uint64_t widen(uint64_t m) { return (m & kLetters) ? m | uint64_t(1) << kHigh : m; }

// What a piece of pattern needs: `any` (nothing known), or one of `mask`.
struct Need {
  bool any = true;
  uint64_t mask = 0;
  static Need of(uint64_t m) { return {false, widen(m)}; }
};

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  // nullopt: syntax beyond the analysis.
  std::optional<Need> run() {
    Need n = alternation();
    if (failed_ || i_ != p_.size()) return std::nullopt;
    return n;
  }

 private:
  std::string_view p_;
  size_t i_ = 0;
  bool failed_ = false;

  bool at(char c) const { return i_ < p_.size() && p_[i_] == c; }
  void fail() {
    failed_ = true;
    i_ = p_.size();
  }

  Need alternation() {
    Need u = concat();
    bool any = u.any;
    uint64_t mask = u.mask;
    while (!failed_ && at('|')) {
      ++i_;
      Need b = concat();
      any |= b.any;
      mask |= b.mask;
    }
    return any ? Need{} : Need{false, mask};
  }

  // Every part is needed: the one rarest in benign traffic is kept.
  Need concat() {
    Need best;
    while (!failed_ && i_ < p_.size() && !at('|') && !at(')')) {
      Need a = atom();
      if (failed_) break;
      const Repeat r = repeat();
      if (failed_) break;
      if (r.min == 0) continue;
      if (!a.any && (best.any || weightOf(a.mask) < weightOf(best.mask))) best = a;
    }
    return best;
  }

  struct Repeat {
    unsigned min = 1;
  };
  // A quantifier after an atom (and its lazy or possessive mark).
  Repeat repeat() {
    Repeat r;
    bool quantified = true;
    while (quantified && i_ < p_.size()) {
      quantified = false;
      const char c = p_[i_];
      if (c == '*' || c == '?') {
        r.min = 0;
        ++i_;
        quantified = true;
      } else if (c == '+') {
        ++i_;
        quantified = true;
      } else if (c == '{') {
        // {n} {n,} {n,m}, and {,m} (a quantifier from 0 in newer PCRE2,
        // taken so here: what is left out of a need only widens it);
        // anything else is a literal '{'.
        size_t k = i_ + 1;
        size_t digits = 0;
        unsigned n = 0;
        while (k < p_.size() && std::isdigit(static_cast<unsigned char>(p_[k]))) {
          n = n * 10 + unsigned(p_[k] - '0');
          if (n > 100000) n = 100000;
          ++k, ++digits;
        }
        bool comma = false;
        size_t digits2 = 0;
        if (k < p_.size() && p_[k] == ',') {
          comma = true;
          ++k;
          while (k < p_.size() && std::isdigit(static_cast<unsigned char>(p_[k]))) ++k, ++digits2;
        }
        if (k < p_.size() && p_[k] == '}' && (digits > 0 || (comma && digits2 > 0))) {
          if (digits == 0 || n == 0) r.min = 0;
          i_ = k + 1;
          quantified = true;
        } else {
          // "{ 1, 3}" is a quantifier to a newer PCRE2, literal bytes to this
          // analysis: refused rather than guessed.
          size_t e = i_ + 1;
          while (e < p_.size() && (std::isdigit(static_cast<unsigned char>(p_[e])) || p_[e] == ',' || p_[e] == ' ')) ++e;
          if (e < p_.size() && p_[e] == '}' && e > i_ + 1) fail();
        }
      }
      // A lazy or possessive mark belongs to the quantifier before it.
      if (quantified && i_ < p_.size() && (p_[i_] == '?' || p_[i_] == '+')) ++i_;
    }
    return r;
  }

  Need atom() {
    const char c = p_[i_++];
    switch (c) {
      case '(':
        return group();
      case '[':
        return Need::of(charClass());
      case '.':
        return Need::of(kAllClasses);
      case '^':
      case '$':
        return {};
      case '\\':
        return escape(false);
      case '*':
      case '+':
      case '?':
        fail();  // a quantifier with nothing before it
        return {};
      default:
        return Need::of(kClass[static_cast<unsigned char>(c)]);
    }
  }

  // After '(': a group, a lookaround, options, a comment.
  Need group() {
    if (!at('?')) {  // capturing
      Need n = alternation();
      close();
      return n;
    }
    ++i_;
    if (i_ >= p_.size()) {
      fail();
      return {};
    }
    const char c = p_[i_];
    if (c == ':' || c == '>' || c == '|') {  // non-capturing, atomic, branch reset
      ++i_;
      Need n = alternation();
      close();
      return n;
    }
    if (c == '=' || c == '!') {  // lookahead: consumes nothing of the match
      ++i_;
      alternation();
      close();
      return {};
    }
    if (c == '<' && i_ + 1 < p_.size() && (p_[i_ + 1] == '=' || p_[i_ + 1] == '!')) {  // lookbehind
      i_ += 2;
      alternation();
      close();
      return {};
    }
    if (c == '#') {  // comment
      while (i_ < p_.size() && p_[i_] != ')') ++i_;
      close();
      return {};
    }
    if (c == 'P' || c == '<' || c == '\'') {  // named group (?P<n>, (?<n>, (?'n'
      if (c == 'P') {
        if (i_ + 1 >= p_.size() || p_[i_ + 1] != '<') {  // (?P=name), (?P>name): references
          fail();
          return {};
        }
        ++i_;
      }
      const char end = p_[i_] == '\'' ? '\'' : '>';
      ++i_;
      while (i_ < p_.size() && (std::isalnum(static_cast<unsigned char>(p_[i_])) || p_[i_] == '_')) ++i_;
      if (!at(end)) {
        fail();
        return {};
      }
      ++i_;
      Need n = alternation();
      close();
      return n;
    }
    // Options: (?i) (?s-m) and (?i: ...). Letters only ('x' would change the
    // syntax: refused).
    size_t k = i_;
    while (k < p_.size() && (std::isalpha(static_cast<unsigned char>(p_[k])) || p_[k] == '-')) {
      if (p_[k] == 'x') {
        fail();
        return {};
      }
      ++k;
    }
    if (k == i_ || k >= p_.size()) {
      fail();
      return {};
    }
    i_ = k;
    if (p_[i_] == ')') {
      ++i_;
      return {};
    }
    if (p_[i_] == ':') {
      ++i_;
      Need n = alternation();
      close();
      return n;
    }
    fail();
    return {};
  }

  void close() {
    if (!at(')')) {
      fail();
      return;
    }
    ++i_;
  }

  // A byte escape's value: \xHH, \x{H..}, \0oo, \ddd (octal), \t... (-1: not one).
  int byteEscape(char c) {
    switch (c) {
      case 't': return '\t';
      case 'n': return '\n';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'a': return 7;
      case 'e': return 27;
      default: break;
    }
    if (c == 'x') {
      // \x{H...} (any number of digits, braced) or \xHH (up to two).
      const bool braced = at('{');
      if (braced) ++i_;
      unsigned v = 0;
      size_t n = 0;
      for (; i_ < p_.size() && transformations::detail::isHex(p_[i_]) && (braced || n < 2); ++i_, ++n)
        v = std::min<unsigned>(v * 16 + transformations::detail::xsingle2c(p_[i_]), 0x10FFFF);
      if (braced) {
        if (!at('}') || n == 0) return -2;
        ++i_;
      }
      return v > 0xFF ? 0x80 : int(v);  // a code point past a byte: its encoding's bytes are high
    }
    if (c >= '0' && c <= '7') {  // octal (\0, \012; \1-\9 are references outside classes: the caller)
      unsigned v = unsigned(c - '0');
      for (int n = 0; n < 2 && i_ < p_.size() && p_[i_] >= '0' && p_[i_] <= '7'; ++n) v = v * 8 + unsigned(p_[i_++] - '0');
      return int(v & 0xFF);
    }
    if (c == 'c' && i_ < p_.size()) return (std::toupper(static_cast<unsigned char>(p_[i_++])) ^ 0x40) & 0x7F;
    return -1;
  }

  // After '\': a class escape's classes, a byte, an assertion, a reference.
  Need escape(bool in_class) {
    if (i_ >= p_.size()) {
      fail();
      return {};
    }
    const char c = p_[i_++];
    const uint64_t ws = uint64_t(1) << kSpace | uint64_t(1) << kWhite | uint64_t(1) << kHigh;
    switch (c) {
      case 'd': return Need::of(uint64_t(1) << kDigits);
      case 'w': return Need::of(kLetters | uint64_t(1) << kDigits | kClass['_'] | uint64_t(1) << kHigh);
      case 's': case 'h': case 'v': case 'R': return Need::of(ws);
      case 'D': case 'W': case 'S': case 'H': case 'V': case 'N': case 'p': case 'P': case 'X': case 'C':
        if ((c == 'p' || c == 'P') && at('{')) {
          while (i_ < p_.size() && p_[i_] != '}') ++i_;
          if (i_ < p_.size()) ++i_;
        } else if (c == 'p' || c == 'P') {
          if (i_ < p_.size()) ++i_;  // \pL
        }
        return Need::of(kAllClasses);
      case 'b':
        if (in_class) return Need::of(kClass[8]);  // backspace
        return {};
      case 'B': case 'A': case 'z': case 'Z': case 'G': case 'K':
        if (in_class) {
          fail();
          return {};
        }
        return {};
      case 'Q': {  // \Q...\E: literal
        Need best;
        while (i_ < p_.size() && !(p_[i_] == '\\' && i_ + 1 < p_.size() && p_[i_ + 1] == 'E')) {
          const Need a = Need::of(kClass[static_cast<unsigned char>(p_[i_++])]);
          if (!in_class && (best.any || weightOf(a.mask) < weightOf(best.mask))) best = a;
        }
        if (i_ < p_.size()) i_ += 2;
        if (in_class) fail();  // (not in a class)
        return best;
      }
      case 'E':
        return {};
      case 'g': case 'k':  // \g1 \g{..} \k<..>: references
        if (in_class) {
          fail();
          return {};
        }
        if (at('{') || at('<') || at('\'')) {
          const char end = at('{') ? '}' : at('<') ? '>' : '\'';
          while (i_ < p_.size() && p_[i_] != end) ++i_;
          if (i_ < p_.size()) ++i_;
        } else {
          if (at('-')) ++i_;
          while (i_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i_]))) ++i_;
        }
        return {};
      default:
        break;
    }
    if (!in_class && c >= '1' && c <= '9') {  // a back-reference (its group's need is the group's)
      while (i_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i_]))) ++i_;
      return {};
    }
    const int b = byteEscape(c);
    if (b == -2) {
      fail();
      return {};
    }
    if (b >= 0) return Need::of(kClass[size_t(b)]);
    if (std::isalnum(static_cast<unsigned char>(c))) {  // an escape this analysis does not know
      fail();
      return {};
    }
    return Need::of(kClass[static_cast<unsigned char>(c)]);  // an escaped punctuation character
  }

  // After '[': the classes of the bytes the class holds.
  uint64_t charClass() {
    bool negated = false;
    if (at('^')) {
      negated = true;
      ++i_;
    }
    uint64_t m = 0;
    bool first = true;
    int prev = -1;  // the last single byte, for a range
    while (i_ < p_.size()) {
      char c = p_[i_];
      if (c == ']' && !first) break;
      first = false;
      if (c == '[' && i_ + 1 < p_.size() && (p_[i_ + 1] == ':' || p_[i_ + 1] == '=' || p_[i_ + 1] == '.')) {
        const size_t end = p_.find(p_[i_ + 1], i_ + 2);  // its closing ':', '=' or '.'
        if (end == std::string_view::npos || end + 1 >= p_.size() || p_[end + 1] != ']') {
          fail();
          return 0;
        }
        i_ = end + 2;
        m = kAllClasses;  // [:alpha:] and the like: not worth telling apart
        prev = -1;
        continue;
      }
      if (c == '-' && prev >= 0 && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        int hi = -1;
        if (p_[i_] == '\\') {
          ++i_;
          if (i_ >= p_.size()) {
            fail();
            return 0;
          }
          const char e = p_[i_++];
          hi = byteEscape(e);
          if (hi < 0) {
            if (std::isalnum(static_cast<unsigned char>(e))) {  // [a-\d]: refused
              fail();
              return 0;
            }
            hi = static_cast<unsigned char>(e);
          }
        } else {
          hi = static_cast<unsigned char>(p_[i_++]);
        }
        if (hi < prev) {
          fail();
          return 0;
        }
        for (int b = prev; b <= hi; ++b) m |= kClass[size_t(b)];
        prev = -1;
        continue;
      }
      ++i_;
      if (c == '\\') {
        const size_t at_escape = i_;
        if (i_ < p_.size()) {
          const char e = p_[i_];
          ++i_;
          const int b = (e == 'b') ? 8 : byteEscape(e);
          if (b >= 0) {
            m |= kClass[size_t(b)];
            prev = b;
            continue;
          }
          if (b == -2) {
            fail();
            return 0;
          }
        }
        i_ = at_escape;
        const Need n = escape(true);
        if (failed_) return 0;
        m |= n.any ? kAllClasses : n.mask;
        // An escaped punctuation character may start a range.
        const char e = p_[at_escape];
        prev = (!std::isalnum(static_cast<unsigned char>(e))) ? static_cast<unsigned char>(e) : -1;
        continue;
      }
      m |= kClass[static_cast<unsigned char>(c)];
      prev = static_cast<unsigned char>(c);
    }
    if (!at(']')) {
      fail();
      return 0;
    }
    ++i_;
    return negated ? kAllClasses : m;
  }
};

}  // namespace

uint64_t classOf(unsigned char c) { return kClass[c]; }

uint64_t byteClasses(std::string_view v) {
  // Four bytes a step into two masks (the scan groups ask this of every
  // stage of every value they have not seen: ~4k instructions a new GET).
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size();
  uint64_t a = 0, b = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a |= kClass[p[i]] | kClass[p[i + 1]];
    b |= kClass[p[i + 2]] | kClass[p[i + 3]];
  }
  for (; i < n; ++i) a |= kClass[p[i]];
  return a | b;
}

std::optional<uint64_t> neededClasses(std::string_view pattern) {
  auto n = Parser(pattern).run();
  if (!n || n->any) return std::nullopt;
  return n->mask;
}

std::optional<uint64_t> neededClassesOfPhrases(const std::vector<std::string>& phrases) {
  if (phrases.empty()) return std::nullopt;
  uint64_t m = 0;
  for (const auto& ph : phrases) {
    if (ph.empty()) return std::nullopt;
    uint64_t best = 0;
    for (unsigned char c : ph) {
      const uint64_t k = widen(kClass[c]);
      if (!best || weightOf(k) < weightOf(best)) best = k;
    }
    m |= best;
  }
  return m;
}

}  // namespace rampart::waf::match
