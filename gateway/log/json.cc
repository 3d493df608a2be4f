#include "gateway/log/json.h"

#include <cstring>
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

namespace {

// True when one of the 8 bytes of x needs more than a copy: a control byte
// (< 0x20), DEL, '"', '\\' or a byte >= 0x80 (checked for UTF-8). The "has a
// byte less than n" and "has a zero byte" tests of Bit Twiddling Hacks: exact
// as to whether any byte qualifies, which is all that is asked here.
inline bool needsEscape8(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t control = (x - kOnes * 0x20) & ~x & kHigh;
  return ((x & kHigh) | control | zero(x ^ (kOnes * '"')) | zero(x ^ (kOnes * '\\')) | zero(x ^ (kOnes * 0x7f))) !=
         0;
}

inline bool plain(unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

char* writeUnicodeEscape(char* p, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::memcpy(p, "\\u00", 4);
  p[4] = kHex[c >> 4];
  p[5] = kHex[c & 15];
  return p + 6;
}

char* writeDigits2(char* p, unsigned v) {
  p[0] = char('0' + v / 10 % 10);
  p[1] = char('0' + v % 10);
  return p + 2;
}

}  // namespace

char* writeJsonString(char* p, std::string_view s) {
  const char* d = s.data();
  const size_t n = s.size();
  *p++ = '"';
  size_t i = 0;
  while (i < n) {
    // Printable ASCII goes 8 bytes at a time (most of a request line).
    while (i + 8 <= n) {
      uint64_t x;
      std::memcpy(&x, d + i, 8);
      if (needsEscape8(x)) break;
      std::memcpy(p, &x, 8);
      p += 8;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = static_cast<unsigned char>(d[i]);
    if (plain(c)) {
      *p++ = char(c);
      ++i;
      continue;
    }
    switch (c) {
      case '"': p = static_cast<char*>(std::memcpy(p, "\\\"", 2)) + 2; break;
      case '\\': p = static_cast<char*>(std::memcpy(p, "\\\\", 2)) + 2; break;
      case '\n': p = static_cast<char*>(std::memcpy(p, "\\n", 2)) + 2; break;
      case '\r': p = static_cast<char*>(std::memcpy(p, "\\r", 2)) + 2; break;
      case '\t': p = static_cast<char*>(std::memcpy(p, "\\t", 2)) + 2; break;
      default:
        if (c < 0x80) {  // other control bytes and DEL
          p = writeUnicodeEscape(p, c);
        } else if (size_t len = utf8Length(s, i)) {
          std::memcpy(p, d + i, len);
          p += len;
          i += len;
          continue;
        } else {
          // Not UTF-8 (request bytes are arbitrary): the byte as a Latin-1 code point,
          // so the line stays valid JSON and the byte value can be read back.
          p = writeUnicodeEscape(p, c);
        }
    }
    ++i;
  }
  *p++ = '"';
  return p;
}

void appendJsonString(std::string& o, std::string_view s) {
  const size_t at = o.size();
  o.resize(at + jsonStringBound(s.size()));
  char* end = writeJsonString(o.data() + at, s);
  o.resize(size_t(end - o.data()));
}

char* writeIsoTime(char* p, int64_t ms) {
  if (ms < 0) ms = 0;  // before 1970: not a time a request has
  const time_t secs = time_t(ms / 1000);
  // Records come in bursts within a second: the date and time are formatted once per second.
  thread_local time_t cached_secs = -1;
  thread_local char cached[19];
  if (secs != cached_secs) {
    struct tm tm;
    gmtime_r(&secs, &tm);
    const unsigned year = unsigned(tm.tm_year + 1900);
    char* c = writeDigits2(writeDigits2(cached, year / 100), year % 100);
    *c++ = '-';
    c = writeDigits2(c, unsigned(tm.tm_mon + 1));
    *c++ = '-';
    c = writeDigits2(c, unsigned(tm.tm_mday));
    *c++ = 'T';
    c = writeDigits2(c, unsigned(tm.tm_hour));
    *c++ = ':';
    c = writeDigits2(c, unsigned(tm.tm_min));
    *c++ = ':';
    writeDigits2(c, unsigned(tm.tm_sec));
    cached_secs = secs;
  }
  std::memcpy(p, cached, 19);
  p += 19;
  const unsigned frac = unsigned(ms % 1000);
  *p++ = '.';
  *p++ = char('0' + frac / 100);
  p = writeDigits2(p, frac % 100);
  *p++ = 'Z';
  return p;
}

void appendIsoTime(std::string& o, int64_t ms) {
  char buf[kIsoTimeLength];
  o.append(buf, size_t(writeIsoTime(buf, ms) - buf));
}

void appendJsonField(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  out += key;
  out += "\":";
  appendJsonString(out, value);
}

}  // namespace rampart::gateway::log
