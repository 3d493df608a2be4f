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
    Info{"cmdLine", &cmdLine},
    Info{"compressWhitespace", &compressWhitespace},
    Info{"cssDecode", &cssDecode},
    Info{"escapeSeqDecode", &escapeSeqDecode},
    Info{"hexDecode", &hexDecode},
    Info{"hexEncode", &hexEncode},
    Info{"htmlEntityDecode", &htmlEntityDecode},
    Info{"jsDecode", &jsDecode},
    Info{"length", &length},
    Info{"lowercase", &lowercase},
    Info{"md5", &md5},
    Info{"normalisePath", &normalizePath},
    Info{"normalisePathWin", &normalizePathWin},
    Info{"normalizePath", &normalizePath},
    Info{"normalizePathWin", &normalizePathWin},
    Info{"parityEven7bit", &parityEven7bit},
    Info{"parityOdd7bit", &parityOdd7bit},
    Info{"parityZero7bit", &parityZero7bit},
    Info{"removeComments", &removeComments},
    Info{"removeCommentsChar", &removeCommentsChar},
    Info{"removeNulls", &removeNulls},
    Info{"removeWhitespace", &removeWhitespace},
    Info{"replaceComments", &replaceComments},
    Info{"replaceNulls", &replaceNulls},
    Info{"sha1", &sha1},
    Info{"sqlHexDecode", &sqlHexDecode},
    Info{"trim", &trim},
    Info{"trimLeft", &trimLeft},
    Info{"trimRight", &trimRight},
    Info{"uppercase", &uppercase},
    Info{"urlDecode", &urlDecode},
    Info{"urlDecodeUni", &urlDecodeUni},
    Info{"urlEncode", &urlEncode},
    Info{"utf8toUnicode", &utf8toUnicode},
};

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

const Info* find(std::string_view name) {
  for (const Info& info : kTable) {
    if (equalsIgnoreCase(info.name, name)) return &info;
  }
  return nullptr;
}

std::span<const Info> all() { return kTable; }

}  // namespace rampart::waf::transformations
