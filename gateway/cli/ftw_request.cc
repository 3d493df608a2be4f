// go-ftw's request construction, reproduced byte for byte, and the gateway's
// view of the result (see ftw_request.h for why).
#include "gateway/cli/ftw_request.h"

#include <algorithm>
#include <cctype>

#include "gateway/http/parser.h"

namespace rampart::cli::ftw {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's url.QueryUnescape: false when a '%' is not followed by two hex digits.
bool goQueryUnescape(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      int h = hexValue(s[i + 1]), l = hexValue(s[i + 2]);
      if (h < 0 || l < 0) return false;
      out.push_back(static_cast<char>(h * 16 + l));
      i += 2;
    } else if (c == '+') {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

// go-ftw's encodeDataParameters for application/x-www-form-urlencoded.
std::string encodeFormData(const std::string& data) {
  std::string unescaped;
  if (!goQueryUnescape(data, unescaped) || unescaped != data) return data;  // looks encoded already
  std::string out;
  std::string_view rest = data;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view token = amp == std::string_view::npos ? rest : rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    size_t eq = token.find('=');
    if (eq == std::string_view::npos) {
      out += goQueryEscape(token);
    } else {
      out += goQueryEscape(token.substr(0, eq));
      out += '=';
      out += goQueryEscape(token.substr(eq + 1));
    }
    out += '&';
  }
  if (!out.empty()) out.pop_back();
  return out;
}

// go-ftw's `^POST|PUT|PATCH|DELETE$` (alternation binds looser than the anchors).
bool methodWantsLength(std::string_view m) {
  return m.rfind("POST", 0) == 0 || m.find("PUT") != std::string_view::npos ||
         m.find("PATCH") != std::string_view::npos ||
         (m.size() >= 6 && m.substr(m.size() - 6) == "DELETE");
}

}  // namespace

std::string goQueryEscape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

bool base64Decode(std::string_view in, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

std::string buildRawRequest(const Input& in) {
  if (in.encoded_request && !in.encoded_request->empty()) {
    std::string raw;
    base64Decode(*in.encoded_request, raw);
    return raw;
  }
  const std::string method = in.method.value_or("GET");
  const std::string uri = in.uri.value_or("/");
  const std::string version = in.version.value_or("HTTP/1.1");
  // go-ftw v2: `headers` (a map) is sorted by name, `ordered_headers` kept as
  // written; presence checks ignore case; added headers go at the end.
  std::vector<std::pair<std::string, std::string>> headers = in.headers;
  if (!in.headers_ordered)
    std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  auto has = [&](std::string_view n) {
    return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return gateway::http::iequals(h.first, n); });
  };
  auto hasValue = [&](std::string_view n, auto pred) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return gateway::http::iequals(h.first, n) && pred(h.second); });
  };
  std::string data = in.data.value_or("");
  if (!data.empty() && in.autocomplete_headers) {
    if (!has("Content-Type")) headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    if (hasValue("Content-Type", [](const std::string& v) {
          return gateway::http::iequals(v, "application/x-www-form-urlencoded");
        }))
      data = encodeFormData(data);
  }
  if (hasValue("Content-Type", [](const std::string& v) {
        std::string lower(v);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return lower.find("multipart/form-data;") != std::string::npos;
      })) {
    std::string crlf;
    crlf.reserve(data.size() + data.size() / 16);
    for (char c : data) {
      if (c == '\n') crlf += "\r\n";
      else crlf.push_back(c);
    }
    data = std::move(crlf);
  }
  if (in.autocomplete_headers) {
    if (!has("Connection")) headers.emplace_back("Connection", "close");
    if (!has("Content-Length") && (!data.empty() || methodWantsLength(method)))
      headers.emplace_back("Content-Length", std::to_string(data.size()));
  }
  std::string raw = method + " " + uri + " " + version + "\r\n";
  for (const auto& [n, v] : headers) raw += n + ": " + v + "\r\n";
  raw += "\r\n";
  raw += data;
  return raw;
}

WireRequest parseWire(std::string raw) {
  namespace http = rampart::gateway::http;
  WireRequest w;
  w.raw = std::move(raw);
  http::Limits limits;  // the gateway's defaults
  http::RequestHead head;
  http::ParseError err;
  auto st = http::parseRequestHead(w.raw, limits, head, err);
  if (st == http::ParseStatus::NeedMore) {
    w.incomplete = true;
    w.reason = "request head never completed";
    return w;
  }
  if (st == http::ParseStatus::Error) {
    w.rejected = true;
    w.status = err.status;
    w.reason = err.reason ? err.reason : "";
    return w;
  }
  w.method = head.method;
  w.target = head.target;
  w.protocol = "HTTP/" + std::to_string(head.version_major) + "." + std::to_string(head.version_minor);
  for (const auto& h : head.headers) w.headers.emplace_back(h.name, h.value);
  std::string_view rest = std::string_view(w.raw).substr(head.head_size);
  if (head.framing == http::BodyFraming::ContentLength) {
    if (rest.size() < head.content_length) w.body_truncated = true;
    w.body.assign(rest.substr(0, std::min<uint64_t>(rest.size(), head.content_length)));
  } else if (head.framing == http::BodyFraming::Chunked) {
    http::ChunkedDecoder dec(limits);
    while (true) {
      auto step = dec.feed(rest, err);
      w.body.append(step.data);
      rest = rest.substr(std::min(step.consumed, rest.size()));
      if (step.status == http::ParseStatus::Error) {
        w.rejected = true;
        w.status = err.status;
        w.reason = err.reason ? err.reason : "";
        return w;
      }
      if (step.status == http::ParseStatus::Done) break;
      if (step.data.empty() && (rest.empty() || step.consumed == 0)) {
        w.body_truncated = true;  // the chunked body never ended
        break;
      }
    }
  }
  return w;
}

}  // namespace rampart::cli::ftw
