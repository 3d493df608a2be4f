// Character classes and small header helpers shared by the parser, the chunked
// decoder, the writer and the proxy (hop-by-hop handling, Connection tokens).
//
// Why a table: every byte of a head goes through one of these classes, so a
// 256-entry lookup keeps the parser linear and branch-light.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "gateway/http/parser.h"

namespace rampart::gateway::http {

namespace chars {
enum : uint8_t {
  kTchar = 1,       // RFC 9110 5.6.2 token characters
  kFieldChar = 2,   // field-value bytes: VCHAR, obs-text, SP, HTAB (RFC 9110 5.5)
  kTargetChar = 4,  // request-target bytes we accept: 0x21-0x7E (no CTL, SP, DEL, non-ASCII)
  kHex = 8,         // HEXDIG
  kRegName = 16,    // reg-name without '%' (RFC 3986 unreserved / sub-delims, less ',')
  kQdtext = 32,     // quoted-string qdtext (RFC 9110 5.6.4)
};

constexpr std::array<uint8_t, 256> makeTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || digit) v |= kTchar;
    for (char x : std::string_view("!#$%&'*+-.^_`|~"))
      if (c == static_cast<unsigned char>(x)) v |= kTchar;
    if ((c >= 0x21 && c <= 0x7e) || c >= 0x80 || c == ' ' || c == '\t') v |= kFieldChar;
    if (c >= 0x21 && c <= 0x7e) v |= kTargetChar;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    if (alpha || digit) v |= kRegName;
    for (char x : std::string_view("-._~!$&'()*+;="))
      if (c == static_cast<unsigned char>(x)) v |= kRegName;
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80)
      v |= kQdtext;
    t[c] = v;
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> kTable = makeTable();

inline bool is(unsigned char c, uint8_t cls) { return (kTable[c] & cls) != 0; }
inline bool isTchar(char c) { return is(static_cast<unsigned char>(c), kTchar); }
inline bool isFieldChar(char c) { return is(static_cast<unsigned char>(c), kFieldChar); }
inline bool isHex(char c) { return is(static_cast<unsigned char>(c), kHex); }
inline bool isOws(char c) { return c == ' ' || c == '\t'; }
}  // namespace chars

// A non-empty run of tchar (RFC 9110 5.6.2).
bool isToken(std::string_view s);

// A valid field value as this parser accepts it: field-vchar / obs-text / SP / HTAB, no CR/LF/NUL/CTL.
// Use before emitting a configured value with the writer.
bool isValidFieldValue(std::string_view s);

// Strips leading and trailing SP/HTAB.
std::string_view trimOws(std::string_view s);

// Calls fn(element) for each element of a comma-separated list (RFC 9110 5.6.1),
// OWS trimmed, empty elements skipped. Stops early when fn returns false; returns
// false in that case. Quoted strings are not special-cased (list fields we iterate,
// Connection / Transfer-Encoding / Upgrade, hold tokens).
template <class Fn>
bool forEachListElement(std::string_view value, Fn&& fn) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    const std::string_view el = trimOws(value.substr(pos, comma - pos));
    if (!el.empty() && !fn(el)) return false;
    pos = comma + 1;
  }
  return true;
}

// True when the comma-separated list `value` contains `token` (case-insensitive).
bool listHasToken(std::string_view value, std::string_view token);

// Fields a Connection header cannot make hop-by-hop: Host and Content-Length. A client
// sending "Connection: close, Host" must not get its Host stripped on the way upstream.
bool isProtectedFromConnection(std::string_view name);

// The fields of one message a proxy drops: RFC 9110 7.6.1's fixed list
// (isHopByHop: Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding,
// Upgrade, Trailer, Proxy-Authorization, Proxy-Authenticate) and any its
// Connection headers name (case-insensitive), unless
// isProtectedFromConnection(name). The Connection headers are found once, when
// made: asking of each field is then not a walk of every field (it was ~30%
// of a proxied GET's instructions).
//   http::HopByHop hop(req.headers);
//   for (const auto& h : req.headers) if (!hop.drops(h.name)) forward(h);
class HopByHop {
 public:
  explicit HopByHop(std::span<const Header> headers);
  bool drops(std::string_view name) const;

 private:
  std::span<const Header> headers_;
  std::array<std::string_view, 4> connection_{};  // the Connection headers' values
  size_t n_ = 0;
  bool more_ = false;  // more Connection headers than that: the fields are walked
};

// Valid Host value / authority (RFC 9110 7.2, RFC 3986 3.2.2): reg-name (no ',') or
// IP-literal in brackets, optional ":" port digits; no userinfo. Empty is valid.
bool isValidHost(std::string_view host);

}  // namespace rampart::gateway::http
