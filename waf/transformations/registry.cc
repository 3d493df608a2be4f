// The explicit transformation registry: one table, no self-registering globals.
// Names are ModSecurity's; lookup is case-insensitive as in SecLang
// ("t:urldecodeuni" works). "none" is not here: the engine handles it.
#include <array>

#include "waf/transformations/internal.h"
#include "waf/transformations/transformation.h"

namespace rampart::waf::transformations {

namespace {

constexpr std::array kTable{
    Info{"base64Decode", &base64Decode},
    Info{"base64DecodeExt", &base64DecodeExt},
    Info{"base64Encode", &base64Encode},
    Info{"cmdLine", &cmdLine,
         cls::kUpper | cls::kSpace | cls::kOtherSpace | cls::kNul | cls::kBackslash | cls::kShell | cls::kSlash, true},
    Info{"compressWhitespace", &compressWhitespace, cls::kSpace | cls::kOtherSpace | cls::kHigh, true},
    Info{"cssDecode", &cssDecode, cls::kBackslash, true},
    Info{"escapeSeqDecode", &escapeSeqDecode, cls::kBackslash},
    Info{"hexDecode", &hexDecode},
    Info{"hexEncode", &hexEncode},
    Info{"htmlEntityDecode", &htmlEntityDecode, cls::kAmp, true},
    Info{"jsDecode", &jsDecode, cls::kBackslash},
    Info{"length", &length},
    Info{"lowercase", &lowercase, cls::kUpper, true, true},
    Info{"md5", &md5},
    Info{"normalisePath", &normalizePath, cls::kSlash | cls::kDot, true},
    Info{"normalisePathWin", &normalizePathWin, cls::kSlash | cls::kDot | cls::kBackslash, true},
    Info{"normalizePath", &normalizePath, cls::kSlash | cls::kDot, true},
    Info{"normalizePathWin", &normalizePathWin, cls::kSlash | cls::kDot | cls::kBackslash, true},
    Info{"parityEven7bit", &parityEven7bit},
    Info{"parityOdd7bit", &parityOdd7bit},
    Info{"parityZero7bit", &parityZero7bit},
    Info{"removeComments", &removeComments, cls::kSlash | cls::kCommentStart, true},
    Info{"removeCommentsChar", &removeCommentsChar, cls::kSlash | cls::kCommentStart, true},
    Info{"removeNulls", &removeNulls, cls::kNul, true},
    Info{"removeWhitespace", &removeWhitespace, cls::kSpace | cls::kOtherSpace | cls::kHigh, true},
    Info{"replaceComments", &replaceComments, cls::kSlash, true},
    Info{"replaceNulls", &replaceNulls, cls::kNul, true},
    Info{"sha1", &sha1},
    Info{"sqlHexDecode", &sqlHexDecode},
    Info{"trim", &trim, cls::kSpace | cls::kOtherSpace, true},
    Info{"trimLeft", &trimLeft, cls::kSpace | cls::kOtherSpace, true},
    Info{"trimRight", &trimRight, cls::kSpace | cls::kOtherSpace, true},
    Info{"uppercase", &uppercase},
    Info{"urlDecode", &urlDecode, cls::kPercentPlus, true},
    Info{"urlDecodeUni", &urlDecodeUni, cls::kPercentPlus, true},
    Info{"urlEncode", &urlEncode},
    Info{"utf8toUnicode", &utf8toUnicode, cls::kHigh | cls::kNul, true},
};

constexpr std::array<uint32_t, 256> makeClasses() {
  std::array<uint32_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint32_t k = cls::kAny;
    if (c >= 'A' && c <= 'Z') k |= cls::kUpper;
    if (c == '%' || c == '+') k |= cls::kPercentPlus;
    if (c == '&') k |= cls::kAmp;
    if (c == '\\') k |= cls::kBackslash;
    if (c == 0) k |= cls::kNul;
    if (c == ' ') k |= cls::kSpace;
    if (c >= '\t' && c <= '\r') k |= cls::kOtherSpace;
    if (c >= 0x80) k |= cls::kHigh;
    if (c == '"' || c == '\'' || c == '^' || c == ',' || c == ';' || c == '(') k |= cls::kShell;
    if (c == '/') k |= cls::kSlash;
    if (c == '.') k |= cls::kDot;
    if (c == '*' || c == '<' || c == '-' || c == '#') k |= cls::kCommentStart;
    t[static_cast<size_t>(c)] = k;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kClasses = makeClasses();

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    char x = a[k];
    char y = b[k];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace

uint32_t classify(std::string_view v) {
  // Four accumulators: the loop is bound by the table loads, not by one OR chain.
  uint32_t a = cls::kAny, b = 0, c = 0, d = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  size_t i = 0, n = v.size();
  for (; i + 4 <= n; i += 4) {
    a |= kClasses[p[i]];
    b |= kClasses[p[i + 1]];
    c |= kClasses[p[i + 2]];
    d |= kClasses[p[i + 3]];
  }
  for (; i < n; ++i) a |= kClasses[p[i]];
  return a | b | c | d;
}

const Info* find(std::string_view name) {
  for (const Info& info : kTable) {
    if (equalsIgnoreCase(info.name, name)) return &info;
  }
  return nullptr;
}

std::span<const Info> all() { return kTable; }

const Info& cmdLineKeepCaseInfo() {
  static constexpr Info info{"cmdLineKeepCase", &cmdLineKeepCase,
                             cls::kSpace | cls::kOtherSpace | cls::kNul | cls::kBackslash | cls::kShell | cls::kSlash,
                             true};
  return info;
}

bool withoutLowercasing(std::span<const Info* const> tfns, std::vector<const Info*>& out) {
  std::vector<const Info*> kept;
  bool lowered = false;
  for (const Info* t : tfns) {
    if (lowered && !t->case_congruent) return false;
    if (t->fn == &lowercase) {
      lowered = true;
    } else if (t->fn == &cmdLine) {
      lowered = true;
      kept.push_back(&cmdLineKeepCaseInfo());
    } else {
      kept.push_back(t);
    }
  }
  if (!lowered) return false;
  out = std::move(kept);
  return true;
}

}  // namespace rampart::waf::transformations
