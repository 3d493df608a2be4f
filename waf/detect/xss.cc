#include "waf/detect/xss.h"

#include <cstring>
#include <iterator>

namespace rampart::waf::detect {

namespace {

constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != b[i]) return false;
  return true;
}

bool istarts(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ieq(s.substr(0, prefix.size()), prefix);
}

// HTML's whitespace, plus the vertical tab and NUL some parsers also skip.
constexpr bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '\0';
}
constexpr bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Tags that run script, load a document or code, or restyle/redirect the page.
constexpr std::string_view kTags[] = {"script",   "iframe", "frame",  "frameset", "object", "embed",
                                      "applet",   "base",   "meta",   "style",    "svg",    "link",
                                      "isindex",  "import", "vmlframe", "bgsound", "layer", "ilayer",
                                      "xml",      "template", "portal", "handler", "listener"};

// Attributes whose value is a URL the browser may load or navigate to.
constexpr std::string_view kUrlAttrs[] = {"href",   "src",      "action",     "formaction", "data",    "xlink:href",
                                          "background", "lowsrc", "dynsrc",   "poster",     "code",    "codebase",
                                          "classid", "archive", "ping",       "usemap",     "longdesc", "cite",
                                          "to",     "from",     "values",     "by",         "xml:base", "folder"};

bool dangerousTag(std::string_view name) {
  // A namespace prefix does not change what the element is (<x:script xmlns:x=XHTML>).
  if (auto colon = name.rfind(':'); colon != std::string_view::npos) name = name.substr(colon + 1);
  for (auto t : kTags)
    if (ieq(name, t)) return true;
  return false;
}

// A character reference at v[i] ('&'), as an attribute value decodes it: &#NN; and
// &#xHH; (the ';' optional, as browsers allow) and the named ones a scheme can hide
// behind (&Tab; &NewLine; &colon;). *len: bytes consumed; 0 when none.
char charRef(std::string_view v, size_t i, size_t* len) {
  *len = 0;
  if (i + 2 >= v.size() || v[i] != '&') return 0;
  if (v[i + 1] == '#') {
    size_t j = i + 2;
    const bool hex = j < v.size() && (v[j] == 'x' || v[j] == 'X');
    if (hex) ++j;
    uint32_t cp = 0;
    const size_t start = j;
    while (j < v.size() && j - start < 8) {
      const char c = v[j];
      int d = c >= '0' && c <= '9' ? c - '0' : hex && isAlpha(c) && lower(c) <= 'f' ? lower(c) - 'a' + 10 : -1;
      if (d < 0) break;
      cp = cp * (hex ? 16 : 10) + uint32_t(d);
      ++j;
    }
    if (j == start || cp == 0 || cp > 0x7f) return 0;  // only ASCII matters for a scheme
    if (j < v.size() && v[j] == ';') ++j;
    *len = j - i;
    return char(cp);
  }
  for (auto [name, c] : {std::pair<std::string_view, char>{"&Tab;", '\t'}, {"&NewLine;", '\n'}, {"&colon;", ':'}})
    if (v.substr(i, name.size()) == name) {
      *len = name.size();
      return c;
    }
  return 0;
}

// javascript:, vbscript:, livescript: and data: carrying a document or script, read
// as a browser reads a URL scheme: character references decoded, leading whitespace
// and control bytes skipped, tabs and newlines inside the scheme ignored, case ignored.
bool dangerousUrl(std::string_view v) {
  size_t i = 0;
  while (i < v.size() && static_cast<unsigned char>(v[i]) <= 0x20) ++i;
  char scheme[16];
  size_t n = 0;
  for (; i < v.size(); ++i) {
    char c = v[i];
    if (size_t len; c == '&' && (c = charRef(v, i, &len)) != 0) {
      i += len - 1;
    } else {
      c = v[i];
    }
    // Leading C0 controls and spaces fall away, also when written as references (" &#14; javascript:").
    if (n == 0 && static_cast<unsigned char>(c) <= 0x20) continue;
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c == ':') break;
    if (!isAlpha(c) || n == sizeof scheme) return false;
    scheme[n++] = lower(c);
  }
  if (i >= v.size()) return false;
  std::string_view s(scheme, n);
  if (s == "javascript" || s == "vbscript" || s == "livescript" || s == "mocha") return true;
  if (s != "data") return false;
  // data:[<media type>][;base64],... : a bare or document/script type runs in the page's context
  // when framed or loaded as a script; images and other media do not.
  std::string_view rest = v.substr(i + 1);
  while (!rest.empty() && static_cast<unsigned char>(rest[0]) <= 0x20) rest.remove_prefix(1);
  if (rest.empty() || rest[0] == ',' || rest[0] == ';') return true;
  return istarts(rest, "text/html") || istarts(rest, "text/xml") || istarts(rest, "image/svg") ||
         istarts(rest, "application/xhtml") || istarts(rest, "application/xml") ||
         istarts(rest, "text/javascript") || istarts(rest, "application/javascript") ||
         istarts(rest, "application/x-javascript") || istarts(rest, "text/vbscript");
}

// Case-insensitive search for `needle` (lower case, at most 16 characters, no whitespace)
// in `hay`, where whitespace, backslashes and C-style comments in `hay` are ignored
// (expression /**/ (, java\script:); an unclosed comment hides the rest. One pass
// (Knuth-Morris-Pratt over the characters that remain): linear in `hay`.
bool containsLoose(std::string_view hay, std::string_view needle) {
  size_t fail[16];  // fail[k]: length of the longest proper border of needle[0..k]
  if (needle.empty() || needle.size() > std::size(fail)) return false;
  fail[0] = 0;
  for (size_t k = 1, b = 0; k < needle.size(); ++k) {
    while (b > 0 && needle[k] != needle[b]) b = fail[b - 1];
    if (needle[k] == needle[b]) ++b;
    fail[k] = b;
  }
  size_t k = 0;  // needle characters matched
  for (size_t i = 0; i < hay.size(); ++i) {
    const char c = hay[i];
    if (isSpace(c) || c == '\\') continue;
    if (c == '/' && i + 1 < hay.size() && hay[i + 1] == '*') {
      const auto end = hay.find("*/", i + 2);
      if (end == std::string_view::npos) return false;
      i = end + 1;
      continue;
    }
    const char l = lower(c);
    while (k > 0 && l != needle[k]) k = fail[k - 1];
    if (l == needle[k] && ++k == needle.size()) return true;
  }
  return false;
}

bool dangerousStyle(std::string_view v) {
  return containsLoose(v, "expression(") || containsLoose(v, "javascript:") || containsLoose(v, "vbscript:") ||
         containsLoose(v, "-moz-binding") || containsLoose(v, "behavior:") || containsLoose(v, "@import");
}

bool dangerousAttribute(std::string_view name, std::string_view value, bool has_value) {
  if (name.size() > 2 && lower(name[0]) == 'o' && lower(name[1]) == 'n') {  // on<letters>=: an event handler
    bool letters = true;
    for (char c : name.substr(2)) letters = letters && isAlpha(c);
    if (letters) return has_value;
  }
  if (!has_value) return false;
  for (auto a : kUrlAttrs)
    if (ieq(name, a)) return dangerousUrl(value);
  if (ieq(name, "style")) return dangerousStyle(value);
  if (ieq(name, "srcdoc")) return value.find('<') != std::string_view::npos;  // a whole document
  if (ieq(name, "content") || ieq(name, "srcset")) return containsLoose(value, "javascript:") ||
                                                           containsLoose(value, "vbscript:");
  return false;
}

// Attribute list state (inside a tag, or after breaking out of an attribute value):
// reads attributes up to '>' (then *i points after it) or the end. True when one is dangerous.
bool scanAttributes(std::string_view s, size_t& i) {
  const size_t n = s.size();
  while (i < n) {
    while (i < n && (isSpace(s[i]) || s[i] == '/')) ++i;
    if (i >= n) return false;
    if (s[i] == '>') {
      ++i;
      return false;
    }
    size_t start = i;
    ++i;  // a name may start with any character, '=' included
    while (i < n && !isSpace(s[i]) && s[i] != '/' && s[i] != '>' && s[i] != '=') ++i;
    std::string_view name = s.substr(start, i - start);
    size_t j = i;
    while (j < n && isSpace(s[j])) ++j;
    std::string_view value;
    bool has_value = false;
    if (j < n && s[j] == '=') {
      has_value = true;
      i = j + 1;
      while (i < n && isSpace(s[i])) ++i;
      if (i < n && (s[i] == '"' || s[i] == '\'' || s[i] == '`')) {
        const char q = s[i++];
        const void* end = std::memchr(s.data() + i, q, n - i);
        size_t e = end ? size_t(static_cast<const char*>(end) - s.data()) : n;
        value = s.substr(i, e - i);
        i = end ? e + 1 : n;
      } else {
        size_t vstart = i;
        while (i < n && !isSpace(s[i]) && s[i] != '>') ++i;
        value = s.substr(vstart, i - vstart);
      }
    }
    if (dangerousAttribute(name, value, has_value)) return true;
  }
  return false;
}

// Data state from *i: tags and their attributes.
bool scanData(std::string_view s, size_t i) {
  const size_t n = s.size();
  while (i < n) {
    const void* lt = std::memchr(s.data() + i, '<', n - i);
    if (!lt) return false;
    i = size_t(static_cast<const char*>(lt) - s.data()) + 1;
    if (i >= n) return false;
    char c = s[i];
    if (isAlpha(c)) {
      size_t start = i;
      // (A '<' inside a tag name starts over: "<scr<script>" is written to survive a
      // filter that strips tags once.)
      while (i < n && !isSpace(s[i]) && s[i] != '/' && s[i] != '>' && s[i] != '<') ++i;
      if (dangerousTag(s.substr(start, i - start))) return true;
      if (i < n && s[i] == '<') continue;
      if (scanAttributes(s, i)) return true;
    } else if (c == '!' || c == '?' || c == '/') {
      // Comments, declarations, processing instructions and end tags carry nothing that
      // runs; skip to their end ("-->" for a comment) so that their text is not read as tags.
      if (c == '!' && i + 2 < n && s[i + 1] == '-' && s[i + 2] == '-') {
        auto end = s.find("-->", i + 3);
        if (end == std::string_view::npos) return false;
        i = end + 3;
      } else {
        const void* gt = std::memchr(s.data() + i, '>', n - i);
        if (!gt) return false;
        i = size_t(static_cast<const char*>(gt) - s.data()) + 1;
      }
    }
  }
  return false;
}

// The value echoed inside an attribute value (quote: 0 unquoted, '\'' or '"'):
// where the value ends, attributes (and after '>' markup) may follow.
bool scanFromAttributeValue(std::string_view s, char quote) {
  const size_t n = s.size();
  size_t i = 0;
  if (quote) {
    const void* q = std::memchr(s.data(), quote, n);
    if (!q) return false;
    i = size_t(static_cast<const char*>(q) - s.data()) + 1;
  } else {
    while (i < n && !isSpace(s[i]) && s[i] != '>') ++i;
  }
  if (i >= n) return false;
  size_t before = i;
  if (scanAttributes(s, i)) return true;
  // scanAttributes stops after a '>' (then markup may follow) or at the end.
  return i > before && i <= n && s[i - 1] == '>' && scanData(s, i);
}

}  // namespace

bool detectXss(std::string_view input) {
  if (input.empty()) return false;
  if (scanData(input, 0)) return true;
  if (dangerousUrl(input)) return true;  // the whole value as a URL attribute (href=VALUE)
  return scanFromAttributeValue(input, 0) || scanFromAttributeValue(input, '"') ||
         scanFromAttributeValue(input, '\'');
}

}  // namespace rampart::waf::detect
