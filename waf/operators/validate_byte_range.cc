// @validateByteRange RANGES: matches when the value holds a byte outside the
// allowed ranges, a comma-separated list of bytes and byte ranges (0-255).
//   SecRule ARGS "@validateByteRange 32-126,9,10,13" "id:12,..."
#include <array>
#include <bitset>
#include <cstdint>
#include <cstring>

#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {

class ValidateByteRange final : public Operator {
 public:
  explicit ValidateByteRange(const std::bitset<256>& allowed) {
    for (int b = 0; b < 256; ++b) bad_[size_t(b)] = !allowed.test(size_t(b));
    // 1-255 (CRS 920270 at every paranoia level): a NUL is the only byte
    // outside, found by memchr (vectorised) rather than a table load a byte.
    only_nul_ = bad_[0] && allowed.count() == 255;
  }
  bool evaluate(EvalContext&, std::string_view input) const override {
    if (only_nul_) return !input.empty() && std::memchr(input.data(), 0, input.size()) != nullptr;
    // Four table loads a step into one OR, then one test.
    const auto* p = reinterpret_cast<const unsigned char*>(input.data());
    const size_t n = input.size();
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
      if (bad_[p[i]] | bad_[p[i + 1]] | bad_[p[i + 2]] | bad_[p[i + 3]]) return true;
    for (; i < n; ++i)
      if (bad_[p[i]]) return true;
    return false;
  }

 private:
  std::array<uint8_t, 256> bad_{};  // 1: a byte outside the allowed ranges
  bool only_nul_ = false;
};

bool parseByte(std::string_view s, int* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty() || s.size() > 3) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > 255) return false;
  *out = v;
  return true;
}

}  // namespace

std::unique_ptr<Operator> makeValidateByteRange(const std::string& arg, const CompileContext&, std::string* error) {
  std::bitset<256> allowed;
  std::string_view rest = arg;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    auto dash = item.find('-');
    int lo = 0, hi = 0;
    if (dash == std::string_view::npos) {
      if (!parseByte(item, &lo)) goto bad;
      hi = lo;
    } else if (!parseByte(item.substr(0, dash), &lo) || !parseByte(item.substr(dash + 1), &hi) || lo > hi) {
      goto bad;
    }
    for (int b = lo; b <= hi; ++b) allowed.set(b);
    continue;
  bad:
    if (error) *error = "invalid range in @validateByteRange: '" + std::string(item) + "'";
    return nullptr;
  }
  return std::make_unique<ValidateByteRange>(allowed);
}

}  // namespace rampart::waf::operators
