// @validateUtf8Encoding: matches when the value is not valid UTF-8: a
// truncated sequence, an invalid lead or continuation byte, an overlong form,
// a surrogate (U+D800..U+DFFF) or a code point above U+10FFFF.
//   SecRule ARGS "@validateUtf8Encoding" "id:14,..."
#include "waf/operators/operator.h"

namespace rampart::waf::operators {

namespace {

class ValidateUtf8 final : public Operator {
 public:
  bool evaluate(EvalContext&, std::string_view in) const override {
    size_t i = 0, n = in.size();
    while (i < n) {
      unsigned char c = static_cast<unsigned char>(in[i]);
      if (c < 0x80) {
        ++i;
        continue;
      }
      int len;
      uint32_t cp;
      if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
      else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
      else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
      else return true;  // continuation byte as lead, or 5/6-byte forms
      if (i + len > n) return true;
      for (int k = 1; k < len; ++k) {
        unsigned char d = static_cast<unsigned char>(in[i + k]);
        if ((d & 0xC0) != 0x80) return true;
        cp = (cp << 6) | (d & 0x3F);
      }
      if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return true;
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return true;
      i += len;
    }
    return false;
  }
};

}  // namespace

std::unique_ptr<Operator> makeValidateUtf8Encoding(const std::string&, const CompileContext&, std::string*) {
  return std::make_unique<ValidateUtf8>();
}

}  // namespace rampart::waf::operators
