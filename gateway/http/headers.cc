#include "gateway/http/headers.h"

namespace rampart::gateway::http {

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!chars::isTchar(c)) return false;
  return true;
}

bool isValidFieldValue(std::string_view s) {
  for (char c : s)
    if (!chars::isFieldChar(c)) return false;
  return true;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && chars::isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && chars::isOws(s.back())) s.remove_suffix(1);
  return s;
}

bool listHasToken(std::string_view value, std::string_view token) {
  return !forEachListElement(value, [&](std::string_view el) { return !iequals(el, token); });
}

bool isHopByHop(std::string_view name) {
  switch (name.size()) {
    case 2: return iequals(name, "te");
    case 7: return iequals(name, "upgrade") || iequals(name, "trailer");
    case 10: return iequals(name, "connection") || iequals(name, "keep-alive");
    case 16: return iequals(name, "proxy-connection");
    case 17: return iequals(name, "transfer-encoding");
    case 18: return iequals(name, "proxy-authenticate");
    case 19: return iequals(name, "proxy-authorization");
    default: return false;
  }
}


bool isProtectedFromConnection(std::string_view name) {
  return iequals(name, "host") || iequals(name, "content-length");
}

HopByHop::HopByHop(std::span<const Header> headers) : headers_(headers) {
  for (const Header& h : headers) {
    if (!iequals(h.name, "connection")) continue;
    if (n_ == connection_.size()) {
      more_ = true;
      break;
    }
    connection_[n_++] = h.value;
  }
}

bool HopByHop::drops(std::string_view name) const {
  if (isHopByHop(name)) return true;
  if (n_ == 0 || isProtectedFromConnection(name)) return false;
  if (more_) {
    for (const Header& h : headers_)
      if (iequals(h.name, "connection") && listHasToken(h.value, name)) return true;
    return false;
  }
  for (size_t i = 0; i < n_; ++i)
    if (listHasToken(connection_[i], name)) return true;
  return false;
}

bool isValidHost(std::string_view h) {
  if (h.empty()) return true;
  size_t i = 0;
  if (h[0] == '[') {
    // IP-literal: IPv6address / IPvFuture; we check the character set, not the full grammar.
    const size_t close = h.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (i = 1; i < close; ++i) {
      const char c = h[i];
      if (!(chars::isHex(c) || c == ':' || c == '.' || c == 'v' || c == 'V' ||
            chars::is(static_cast<unsigned char>(c), chars::kRegName)))
        return false;
    }
    i = close + 1;
  } else {
    while (i < h.size() && h[i] != ':') {
      const char c = h[i];
      if (c == '%') {
        if (i + 2 >= h.size() || !chars::isHex(h[i + 1]) || !chars::isHex(h[i + 2])) return false;
        i += 3;
        continue;
      }
      if (!chars::is(static_cast<unsigned char>(c), chars::kRegName)) return false;
      ++i;
    }
    if (i == 0) return false;  // ":80" has no host
  }
  if (i == h.size()) return true;
  if (h[i] != ':') return false;
  for (++i; i < h.size(); ++i)
    if (h[i] < '0' || h[i] > '9') return false;
  return true;
}

const Header* RequestHead::find(std::string_view name) const {
  for (const Header& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

const Header* ResponseHead::find(std::string_view name) const {
  for (const Header& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

}  // namespace rampart::gateway::http
