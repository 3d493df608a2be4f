// Request and response head parsing. See parser.h for the contract.
//
// Decisions (each one closes a smuggling gap seen between lenient parsers):
// - Lines end in CRLF only. A bare LF anywhere in a head (request line, field line,
//   end of head) is rejected with 400, as is a bare CR. RFC 9112 2.2 allows accepting a
//   bare LF; we do not, so that no upstream can split lines differently than we do.
// - Up to kMaxLeadingEmptyLines CRLFs before a request line are skipped (RFC 9112 2.2).
// - The verdict depends only on the first offending byte: every check fires at a
//   position in the buffer (limits included), so feeding a head one byte at a time
//   gives exactly the result of feeding it whole.
// - Content-Length: exactly 1*DIGIT; any second Content-Length field, or a list value
//   ("5, 5"), is rejected with 400 even when identical: a proxy that forwarded both
//   would let the next hop choose.
// - Transfer-Encoding: only "chunked", once, last. Other codings -> 501, chunked not
//   last or twice -> 400, empty elements or parameters -> 400, with Content-Length -> 400,
//   in HTTP/1.0 -> 400.
// - Expect: 100-continue (any case) sets expect_continue on HTTP/1.1 (ignored on 1.0);
//   any other expectation -> 417.
// - Host: exactly one on HTTP/1.1 (at most one on 1.0), validated (reg-name without ','
//   or IP-literal, optional port, no userinfo). An absolute-form target gives the host.
// - Every error has close = true: the gateway does not read a body after a rejected head.
// - Responses: the status line is limited by max_request_line; "HTTP/1.1 200\r\n" (no
//   reason, no SP) is accepted; HTTP/1.x with x > 1 is read as 1.1; any other major, a
//   status outside 100-599, TE with CL, TE other than a single "chunked", TE in 1.0, or
//   a bad or repeated Content-Length is an Error (the gateway answers 502).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "gateway/http/headers.h"
#include "gateway/http/parser.h"

namespace rampart::gateway::http {

namespace {

constexpr int kMaxLeadingEmptyLines = 8;
constexpr size_t kReserveHeaders = 24;

inline size_t capAdd(size_t a, size_t b) {
  return b > std::numeric_limits<size_t>::max() - a ? std::numeric_limits<size_t>::max() : a + b;
}

// Word-at-a-time scanning (SWAR): skip 8 bytes at once while none of them can end the
// run; the byte loop that follows decides on the exact byte. Little- or big-endian safe
// (only "is there such a byte in the word" is asked).
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHigh = 0x8080808080808080ull;
inline uint64_t load8(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
inline bool anyLess(uint64_t x, uint8_t n) { return ((x - kOnes * n) & ~x & kHigh) != 0; }
inline bool anyEqual(uint64_t x, uint8_t c) {
  const uint64_t y = x ^ (kOnes * c);
  return ((y - kOnes) & ~y & kHigh) != 0;
}
// Field-value bytes: stops at CTLs (< 0x20, HTAB included, rechecked bytewise) and DEL.
inline size_t skipFieldChars(std::string_view d, size_t p, size_t end) {
#ifdef __SSE2__
  // Sixteen bytes at a time: a browser's field values are ~40 bytes, its Cookie and
  // User-Agent hundreds.
  const __m128i below = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);
  while (p + 16 <= end) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d.data() + p));
    const __m128i stop = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, below), x), _mm_cmpeq_epi8(x, del));
    const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(stop));
    if (m) {
      p += static_cast<size_t>(__builtin_ctz(m));
      goto bytewise;  // (the byte that stopped it is the one to look at)
    }
    p += 16;
  }
#endif
  while (p + 8 <= end) {
    const uint64_t x = load8(d.data() + p);
    if (anyLess(x, 0x20) || anyEqual(x, 0x7f)) break;
    p += 8;
  }
#ifdef __SSE2__
bytewise:
#endif
  while (p < end && chars::isFieldChar(d[p])) ++p;
  return p;
}
// Field-name bytes (tchar). Names are letters, digits and '-' as a rule: sixteen bytes
// of those at a time (the byte loop decides the rest, ':' first of all).
inline size_t skipTchars(std::string_view d, size_t p, size_t end) {
#ifdef __SSE2__
  const __m128i to_lower = _mm_set1_epi8(0x20), letters_at = _mm_set1_epi8(char('a' + 128)),
                digits_at = _mm_set1_epi8(char('0' + 128)), letters_below = _mm_set1_epi8(char(-128 + 26)),
                digits_below = _mm_set1_epi8(char(-128 + 10)), dash = _mm_set1_epi8('-');
  while (p + 16 <= end) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d.data() + p));
    // (byte - first - 128) as a signed byte is below -128 + span exactly for the span's bytes.
    const __m128i letter =
        _mm_cmplt_epi8(_mm_sub_epi8(_mm_or_si128(x, to_lower), letters_at), letters_below);
    const __m128i digit = _mm_cmplt_epi8(_mm_sub_epi8(x, digits_at), digits_below);
    const __m128i ok = _mm_or_si128(_mm_or_si128(letter, digit), _mm_cmpeq_epi8(x, dash));
    const unsigned m = ~static_cast<unsigned>(_mm_movemask_epi8(ok)) & 0xffffu;
    if (m) {
      p += static_cast<size_t>(__builtin_ctz(m));
      break;
    }
    p += 16;
  }
#endif
  while (p < end && chars::isTchar(d[p])) ++p;
  return p;
}
// Request-target bytes: 0x21-0x7E.
inline size_t skipTargetChars(std::string_view d, size_t p, size_t end) {
  while (p + 8 <= end) {
    const uint64_t x = load8(d.data() + p);
    if ((x & kHigh) != 0 || anyLess(x, 0x21) || anyEqual(x, 0x7f)) break;
    p += 8;
  }
  while (p < end && chars::is(static_cast<unsigned char>(d[p]), chars::kTargetChar)) ++p;
  return p;
}

inline ParseStatus fail(ParseError& err, uint16_t status, const char* reason) {
  err.status = status;
  err.reason = reason;
  err.close = true;
  return ParseStatus::Error;
}

// Reads "HTTP/d.d" at d[p..p+8). Returns NeedMore, Error (400 / 502 per `bad`) or Done.
// `limit` is the first position the line may not reach.
ParseStatus parseVersion(std::string_view d, size_t p, size_t limit, uint8_t& major, uint8_t& minor,
                         uint16_t bad, const char* too_long, ParseError& err) {
  static constexpr std::string_view kPrefix = "HTTP/";
  for (size_t i = 0; i < 8; ++i) {
    const size_t at = p + i;
    if (at >= d.size()) return ParseStatus::NeedMore;
    if (at >= limit) return fail(err, bad, too_long);
    const char c = d[at];
    bool ok;
    if (i < 5)
      ok = c == kPrefix[i];
    else if (i == 6)
      ok = c == '.';
    else
      ok = c >= '0' && c <= '9';
    if (!ok) return fail(err, bad, "malformed HTTP version");
  }
  major = static_cast<uint8_t>(d[p + 5] - '0');
  minor = static_cast<uint8_t>(d[p + 7] - '0');
  return ParseStatus::Done;
}

// Expects CRLF at d[p]. NeedMore / Error / Done.
inline ParseStatus expectCrlf(std::string_view d, size_t p, uint16_t bad, const char* what, ParseError& err) {
  if (p >= d.size()) return ParseStatus::NeedMore;
  if (d[p] != '\r') return fail(err, bad, what);
  if (p + 1 >= d.size()) return ParseStatus::NeedMore;
  if (d[p + 1] != '\n') return fail(err, bad, "bare CR");
  return ParseStatus::Done;
}

// Parses field lines from d[pos] up to and including the empty line. On Done, pos is
// the end of the head. `bad` is the status for grammar errors (400 requests, 502 responses),
// `big` for limits (431 / 502).
ParseStatus parseFields(std::string_view d, size_t& pos, const Limits& lim, std::vector<Header>& headers,
                        uint16_t bad, uint16_t big, ParseError& err) {
  const size_t n = d.size();
  for (;;) {
    if (pos >= n) return ParseStatus::NeedMore;
    const char first = d[pos];
    if (first == '\r') {
      if (pos + 1 >= n) return ParseStatus::NeedMore;
      if (d[pos + 1] != '\n') return fail(err, bad, "bare CR");
      pos += 2;
      return ParseStatus::Done;
    }
    if (first == '\n') return fail(err, bad, "bare LF line ending");
    if (chars::isOws(first)) return fail(err, bad, "obs-fold or whitespace at start of a field line");
    if (headers.size() >= lim.max_headers) return fail(err, big, "too many header fields");

    const size_t line_limit = capAdd(pos, lim.max_header_line);
    const size_t end = std::min(n, line_limit);
    size_t p = skipTchars(d, pos, end);
    if (p == n) return ParseStatus::NeedMore;
    if (p == line_limit) return fail(err, big, "header field line too long");
    if (d[p] != ':') {
      if (chars::isOws(d[p])) return fail(err, bad, "whitespace between field name and colon");
      return fail(err, bad, "invalid character in field name");
    }
    if (p == pos) return fail(err, bad, "empty field name");
    const std::string_view name = d.substr(pos, p - pos);
    ++p;
    while (p < end && chars::isOws(d[p])) ++p;
    const size_t vstart = p;
    p = skipFieldChars(d, p, end);
    if (p == n) return ParseStatus::NeedMore;
    if (p == line_limit && d[p] != '\r') return fail(err, big, "header field line too long");
    if (d[p] == '\n') return fail(err, bad, "bare LF line ending");
    if (d[p] != '\r') return fail(err, bad, "invalid character in field value");
    if (p + 1 >= n) return ParseStatus::NeedMore;
    if (d[p + 1] != '\n') return fail(err, bad, "bare CR");
    size_t vend = p;
    while (vend > vstart && chars::isOws(d[vend - 1])) --vend;
    headers.push_back(Header{name, d.substr(vstart, vend - vstart)});
    pos = p + 2;
  }
}

// Content-Length value: 1*DIGIT without overflow.
bool parseContentLength(std::string_view v, uint64_t& out) {
  if (v.empty()) return false;
  uint64_t x = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (x > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    x = x * 10 + d;
  }
  out = x;
  return true;
}

// Accumulates Transfer-Encoding over every TE field line.
struct TeState {
  bool present = false;
  bool chunked = false;      // "chunked" seen
  bool chunked_last = false; // the last coding so far is chunked
  bool other = false;        // a coding other than chunked seen
  const char* error = nullptr;
  void add(std::string_view value) {
    present = true;
    size_t pos = 0;
    if (trimOws(value).empty()) {
      error = "empty Transfer-Encoding";
      return;
    }
    while (pos <= value.size() && !error) {
      size_t comma = value.find(',', pos);
      if (comma == std::string_view::npos) comma = value.size();
      const std::string_view el = trimOws(value.substr(pos, comma - pos));
      pos = comma + 1;
      if (!isToken(el)) {
        error = el.empty() ? "empty Transfer-Encoding element" : "malformed Transfer-Encoding";
      } else if (iequals(el, "chunked")) {
        if (chunked) error = "chunked applied twice";
        chunked = true;
        chunked_last = true;
      } else {
        if (chunked) error = "chunked is not the final transfer coding";
        other = true;
        chunked_last = false;
      }
    }
  }
};

// Field facts shared by requests and responses.
struct FieldScan {
  TeState te;
  bool cl_present = false;
  bool cl_error = false;
  const char* cl_reason = "";
  uint64_t content_length = 0;
  int hosts = 0;
  std::string_view host;
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool conn_upgrade = false;
  bool conn_error = false;
  bool upgrade_header = false;
  int expects = 0;
  bool expect_continue_only = true;

  void scan(const std::vector<Header>& headers) {
    for (const Header& h : headers) {
      switch (h.name.size()) {
        case 4:
          if (iequals(h.name, "host")) {
            ++hosts;
            host = h.value;
          }
          break;
        case 6:
          if (iequals(h.name, "expect")) {
            ++expects;
            if (!iequals(h.value, "100-continue")) expect_continue_only = false;
          }
          break;
        case 7:
          if (iequals(h.name, "upgrade") && !h.value.empty()) upgrade_header = true;
          break;
        case 10:
          if (iequals(h.name, "connection")) {
            forEachListElement(h.value, [&](std::string_view el) {
              if (!isToken(el))
                conn_error = true;
              else if (iequals(el, "close"))
                conn_close = true;
              else if (iequals(el, "keep-alive"))
                conn_keep_alive = true;
              else if (iequals(el, "upgrade"))
                conn_upgrade = true;
              return true;
            });
          }
          break;
        case 14:
          if (iequals(h.name, "content-length")) {
            if (cl_present) {
              cl_error = true;
              cl_reason = "multiple Content-Length";
            } else if (!parseContentLength(h.value, content_length)) {
              cl_error = true;
              cl_reason = h.value.find(',') != std::string_view::npos ? "multiple Content-Length"
                                                                      : "malformed Content-Length";
            }
            cl_present = true;
          }
          break;
        case 17:
          if (iequals(h.name, "transfer-encoding")) te.add(h.value);
          break;
        default:
          break;
      }
    }
  }
};

bool startsWithSchemeSep(std::string_view t, std::string_view scheme) {
  return t.size() > scheme.size() + 3 && iequals(t.substr(0, scheme.size()), scheme) &&
         t.substr(scheme.size(), 3) == "://";
}

}  // namespace

bool headMayHaveEnded(std::string_view data, size_t previous_size, const Limits& limits) {
  if (data.size() > limits.max_header_bytes) return true;
  if (previous_size >= data.size()) return false;
  return data.find('\n', previous_size) != std::string_view::npos;
}

ParseStatus parseRequestHead(std::string_view data, const Limits& lim, RequestHead& out, ParseError& err) {
  // Everything past max_header_bytes is out of reach: parse the prefix, and if that
  // prefix is fine but incomplete, the head is too large.
  const bool truncated = data.size() > lim.max_header_bytes;
  const std::string_view d = truncated ? data.substr(0, lim.max_header_bytes) : data;
  const size_t n = d.size();
  auto needMore = [&]() {
    return truncated ? fail(err, 431, "request head too large") : ParseStatus::NeedMore;
  };

  size_t pos = 0;
  for (int empty = 0; pos < n && (d[pos] == '\r' || d[pos] == '\n');) {
    if (d[pos] == '\n') return fail(err, 400, "bare LF line ending");
    if (pos + 1 >= n) return needMore();
    if (d[pos + 1] != '\n') return fail(err, 400, "bare CR");
    pos += 2;
    if (++empty > kMaxLeadingEmptyLines) return fail(err, 400, "too many empty lines before request line");
  }

  // request-line = method SP request-target SP HTTP-version CRLF
  const size_t limit = capAdd(pos, lim.max_request_line);
  const size_t end = std::min(n, limit);
  size_t p = pos;
  while (p < end && chars::isTchar(d[p])) ++p;
  if (p == n) return needMore();
  if (p == limit) return fail(err, 400, "request line too long");
  if (d[p] != ' ') return fail(err, 400, p == pos ? "empty method" : "invalid character in method");
  if (p == pos) return fail(err, 400, "empty method");
  const std::string_view method = d.substr(pos, p - pos);
  const size_t tstart = ++p;
  p = skipTargetChars(d, p, end);
  if (p == n) return needMore();
  if (p == limit) return fail(err, 414, "request target too long");
  if (d[p] != ' ') {
    if (d[p] == '\r' || d[p] == '\n') return fail(err, 400, "missing HTTP version");
    return fail(err, 400, "invalid character in request target");
  }
  if (p == tstart) return fail(err, 400, "empty request target");
  const std::string_view target = d.substr(tstart, p - tstart);
  ++p;
  uint8_t major = 0, minor = 0;
  ParseStatus st = parseVersion(d, p, limit, major, minor, 400, "request line too long", err);
  if (st == ParseStatus::NeedMore) return needMore();
  if (st == ParseStatus::Error) return st;
  p += 8;
  st = expectCrlf(d, p, 400, "malformed request line", err);
  if (st == ParseStatus::NeedMore) return needMore();
  if (st == ParseStatus::Error) return st;
  p += 2;
  if (major != 1 || minor > 1) return fail(err, 505, "HTTP version not supported");

  out.headers.clear();
  if (out.headers.capacity() < kReserveHeaders) out.headers.reserve(kReserveHeaders);
  st = parseFields(d, p, lim, out.headers, 400, 431, err);
  if (st == ParseStatus::NeedMore) return needMore();
  if (st == ParseStatus::Error) return st;

  out.method = method;
  out.target = target;
  out.version_major = major;
  out.version_minor = minor;
  out.head_size = p;
  out.framing = BodyFraming::None;
  out.content_length = 0;
  out.expect_continue = false;
  out.upgrade = false;
  out.host = {};

  // request-target form (RFC 9112 3.2)
  const bool connect = method == "CONNECT";
  std::string_view target_host;
  bool have_target_host = false;
  if (connect) {
    // authority-form: host ":" port, port required.
    // The port colon follows the closing bracket of an IP-literal, or is the only colon.
    const size_t host_end = target[0] == '[' ? target.find(']') : 0;
    const size_t colon = host_end == std::string_view::npos ? host_end : target.find(':', host_end);
    if (target[0] == '/' || colon == std::string_view::npos || colon + 1 == target.size() ||
        !isValidHost(target) || target.find('/') != std::string_view::npos)
      return fail(err, 400, "CONNECT needs an authority-form target");
  } else if (target[0] == '/') {
    // origin-form
  } else if (target == "*") {
    if (method != "OPTIONS") return fail(err, 400, "asterisk-form only with OPTIONS");
  } else {
    size_t slen = 0;
    if (startsWithSchemeSep(target, "http"))
      slen = 4;
    else if (startsWithSchemeSep(target, "https"))
      slen = 5;
    else
      return fail(err, 400, "invalid request target");
    std::string_view rest = target.substr(slen + 3);
    const size_t aend = rest.find_first_of("/?#");
    target_host = rest.substr(0, aend);
    if (target_host.empty() || !isValidHost(target_host))
      return fail(err, 400, "invalid authority in absolute-form target");
    have_target_host = true;
  }

  FieldScan f;
  f.scan(out.headers);
  if (f.te.present) {
    if (minor == 0) return fail(err, 400, "Transfer-Encoding in HTTP/1.0");
    if (f.cl_present) return fail(err, 400, "Content-Length with Transfer-Encoding");
    if (f.te.error) return fail(err, 400, f.te.error);
    if (f.te.other) return fail(err, 501, "unsupported transfer coding");
  }
  if (f.cl_error) return fail(err, 400, f.cl_reason);
  if (f.hosts > 1) return fail(err, 400, "multiple Host headers");
  if (f.hosts == 0 && minor == 1) return fail(err, 400, "missing Host header");
  if (f.hosts == 1 && !isValidHost(f.host)) return fail(err, 400, "invalid Host header");
  if (f.conn_error) return fail(err, 400, "malformed Connection header");
  if (f.expects > 0 && !f.expect_continue_only) return fail(err, 417, "unsupported expectation");

  if (f.te.present) {
    out.framing = BodyFraming::Chunked;
  } else if (f.cl_present) {
    if (lim.max_body != 0 && f.content_length > lim.max_body) return fail(err, 413, "request body too large");
    out.content_length = f.content_length;
    out.framing = f.content_length == 0 ? BodyFraming::None : BodyFraming::ContentLength;
  }
  out.host = have_target_host ? target_host : f.host;
  out.keep_alive = minor == 1 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
  out.expect_continue = minor == 1 && f.expects > 0;
  out.upgrade = minor == 1 && f.conn_upgrade && f.upgrade_header;
  return ParseStatus::Done;
}

ParseStatus parseResponseHead(std::string_view data, std::string_view request_method, const Limits& lim,
                              ResponseHead& out, ParseError& err) {
  const bool truncated = data.size() > lim.max_header_bytes;
  const std::string_view d = truncated ? data.substr(0, lim.max_header_bytes) : data;
  const size_t n = d.size();
  auto needMore = [&]() {
    return truncated ? fail(err, 502, "response head too large") : ParseStatus::NeedMore;
  };

  // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
  const size_t limit = std::min(n, lim.max_request_line);
  uint8_t major = 0, minor = 0;
  ParseStatus st = parseVersion(d, 0, lim.max_request_line, major, minor, 502, "status line too long", err);
  if (st == ParseStatus::NeedMore) return needMore();
  if (st == ParseStatus::Error) return st;
  size_t p = 8;
  if (p >= n) return needMore();
  if (d[p] != ' ') return fail(err, 502, "malformed status line");
  ++p;
  uint16_t status = 0;
  for (int i = 0; i < 3; ++i, ++p) {
    if (p >= n) return needMore();
    if (d[p] < '0' || d[p] > '9') return fail(err, 502, "malformed status code");
    status = static_cast<uint16_t>(status * 10 + (d[p] - '0'));
  }
  if (p >= n) return needMore();
  size_t rstart = p, rend = p;
  if (d[p] == ' ') {
    rstart = ++p;
    while (p < limit && chars::isFieldChar(d[p])) ++p;
    if (p == n) return needMore();
    if (p == limit && d[p] != '\r') return fail(err, 502, "status line too long");
    rend = p;
  }
  st = expectCrlf(d, p, 502, "malformed status line", err);
  if (st == ParseStatus::NeedMore) return needMore();
  if (st == ParseStatus::Error) return st;
  p += 2;
  if (major != 1) return fail(err, 502, "unsupported HTTP version");
  if (status < 100 || status > 599) return fail(err, 502, "status code out of range");

  out.headers.clear();
  if (out.headers.capacity() < kReserveHeaders) out.headers.reserve(kReserveHeaders);
  st = parseFields(d, p, lim, out.headers, 502, 502, err);
  if (st == ParseStatus::NeedMore) return needMore();
  if (st == ParseStatus::Error) return st;

  out.version_major = 1;
  out.version_minor = minor == 0 ? 0 : 1;
  out.status = status;
  out.reason = d.substr(rstart, rend - rstart);
  out.head_size = p;
  out.framing = BodyFraming::None;
  out.content_length = 0;

  FieldScan f;
  f.scan(out.headers);
  const bool http10 = out.version_minor == 0;
  out.keep_alive = http10 ? (f.conn_keep_alive && !f.conn_close) : !f.conn_close;

  // RFC 9112 6.3, in order.
  const bool no_body = request_method == "HEAD" || status < 200 || status == 204 || status == 304 ||
                       (request_method == "CONNECT" && status < 300);
  if (no_body) return ParseStatus::Done;
  if (f.te.present) {
    if (http10) return fail(err, 502, "Transfer-Encoding in HTTP/1.0 response");
    if (f.cl_present) return fail(err, 502, "Content-Length with Transfer-Encoding in response");
    if (f.te.error) return fail(err, 502, f.te.error);
    if (f.te.other) return fail(err, 502, "unsupported transfer coding in response");
    out.framing = BodyFraming::Chunked;
    return ParseStatus::Done;
  }
  if (f.cl_error) return fail(err, 502, f.cl_reason);
  if (f.cl_present) {
    out.content_length = f.content_length;
    out.framing = f.content_length == 0 ? BodyFraming::None : BodyFraming::ContentLength;
    return ParseStatus::Done;
  }
  out.framing = BodyFraming::UntilClose;
  out.keep_alive = false;
  return ParseStatus::Done;
}

}  // namespace rampart::gateway::http
