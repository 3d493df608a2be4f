#include "gateway/log/json.h"

#include <fmt/format.h>

#include <ctime>

namespace rampart::gateway::log {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF), or 0 when the byte there does not start one.
size_t utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char c1 = b(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char c1 = b(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // over U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void appendJsonString(std::string& o, std::string_view s) {
  o += '"';
  for (size_t i = 0; i < s.size();) {
    // Printable ASCII other than '"' and '\\' goes in runs (most of a request line).
    size_t run = i;
    while (run < s.size()) {
      const unsigned char r = static_cast<unsigned char>(s[run]);
      if (r < 0x20 || r >= 0x7f || r == '"' || r == '\\') break;
      ++run;
    }
    if (run > i) {
      o.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          o += fmt::format("\\u{:04x}", c);
        } else if (c < 0x80) {
          o += char(c);
        } else if (size_t n = utf8Length(s, i)) {
          o.append(s.substr(i, n));
          i += n;
          continue;
        } else {
          // Not UTF-8 (request bytes are arbitrary): the byte as a Latin-1 code point,
          // so the line stays valid JSON and the byte value can be read back.
          o += fmt::format("\\u{:04x}", c);
        }
    }
    ++i;
  }
  o += '"';
}

void appendIsoTime(std::string& o, int64_t ms) {
  time_t secs = time_t(ms / 1000);
  // Records come in bursts within a second: the date and time are formatted once per second.
  thread_local time_t cached_secs = -1;
  thread_local char cached[20];
  if (secs == cached_secs && ms >= 0) {
    o.append(cached, 19);
    fmt::format_to(std::back_inserter(o), ".{:03}Z", int(ms % 1000));
    return;
  }
  struct tm tm;
  gmtime_r(&secs, &tm);
  if (ms >= 0) {
    fmt::format_to_n(cached, sizeof cached, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  fmt::format_to(std::back_inserter(o), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
}

void appendJsonField(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  out += key;
  out += "\":";
  appendJsonString(out, value);
}

}  // namespace rampart::gateway::log
