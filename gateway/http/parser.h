// Strict HTTP/1.1 message parsing (RFC 9110 / RFC 9112) for the gateway.
//
// Why our own parser: request smuggling lives in the gaps between lenient
// parsers. This one accepts exactly the grammar of RFC 9112 and rejects
// everything else with the status an operator expects (400/413/414/431/501/505),
// telling the caller when framing is in doubt so the connection is closed.
//
// Zero-copy: every string_view in a parsed head points into the caller's
// buffer, which must stay unchanged while the head is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace rampart::gateway::http {

struct Header {
  std::string_view name;   // as sent (case preserved); compare with iequals()
  std::string_view value;  // leading/trailing OWS trimmed
};

struct Limits {
  size_t max_request_line = 8192;   // method + target + version; over -> 414 (target) / 400
  size_t max_header_bytes = 65536;  // the whole head; over -> 431
  size_t max_headers = 100;         // field lines; over -> 431
  size_t max_header_line = 16384;   // one field line; over -> 431
  uint64_t max_body = 0;            // 0 = unlimited; Content-Length over it -> 413
  size_t max_chunk_ext = 4096;      // bytes of chunk extensions per chunk; over -> 400
  size_t max_trailer_bytes = 16384; // over -> 431
};

enum class BodyFraming : uint8_t {
  None,           // no body (no CL/TE, or CL: 0)
  ContentLength,  // exactly content_length bytes
  Chunked,        // Transfer-Encoding: chunked (final coding)
  UntilClose,     // responses only: read until the server closes
};

struct RequestHead {
  std::string_view method;          // token, case-sensitive ("GET")
  std::string_view target;          // request-target as sent (origin/absolute/authority/asterisk form)
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  std::vector<Header> headers;      // in order received
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;      // valid when framing == ContentLength
  bool keep_alive = true;           // per version and Connection header
  bool expect_continue = false;     // Expect: 100-continue
  bool upgrade = false;             // Connection: upgrade + Upgrade: present (e.g. websocket)
  std::string_view host;            // Host value (required for HTTP/1.1; exactly one); for absolute-form, the target authority
  size_t head_size = 0;             // bytes of the head including the final CRLFCRLF (and skipped leading CRLFs)
  const Header* find(std::string_view name) const;  // first header with that name, or nullptr
};

struct ResponseHead {
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  uint16_t status = 0;
  std::string_view reason;
  std::vector<Header> headers;
  BodyFraming framing = BodyFraming::None;  // follows RFC 9112 6.3 incl. HEAD/1xx/204/304
  uint64_t content_length = 0;
  bool keep_alive = true;
  size_t head_size = 0;
  const Header* find(std::string_view name) const;
};

enum class ParseStatus : uint8_t { NeedMore, Done, Error };

struct ParseError {
  uint16_t status = 400;      // the status to answer a client with (400, 413, 414, 431, 501, 505)
  const char* reason = "";    // short, static: "Content-Length with Transfer-Encoding"
  bool close = true;          // framing in doubt: answer then close the connection
};

// Parses one request head at the start of `data` (the bytes received so far).
// NeedMore: the head is incomplete and no limit is exceeded yet (call again with more data).
// Done: `out` is filled and out.head_size bytes were the head.
// Error: `err` says what and which status (close is always true). Cost is linear in the
// head size per call; callers pass the whole buffer again after each read (see
// headMayHaveEnded() below to skip useless calls). `out` is meaningful only after Done; its
// headers vector keeps its capacity, so reusing one RequestHead per connection allocates
// nothing after the first request. The verdict depends only on the first offending byte:
// feeding a head in pieces gives the same result as feeding it whole. Strictness choices
// (bare LF rejected, duplicate Content-Length rejected, Expect other than 100-continue ->
// 417, ...) are listed at the top of parser.cc.
ParseStatus parseRequestHead(std::string_view data, const Limits& limits, RequestHead& out, ParseError& err);

// Cheap pre-check for callers that re-parse the whole buffer after each read: true when
// the bytes added since `previous_size` hold a line end ('\n') or the buffer went past
// max_header_bytes, i.e. when parseRequestHead/parseResponseHead may give a new verdict
// other than NeedMore for a line-level reason. Calling the parser only then bounds the
// cost of a client that drips a head byte by byte to O(lines x head size) instead of
// O(head size^2). (An invalid byte in an unfinished line is then reported when its line
// ends, or as 431 when the head never ends.)
bool headMayHaveEnded(std::string_view data, size_t previous_size, const Limits& limits);

// Parses a response head; `request_method` decides HEAD framing, `connect` for 2xx to CONNECT.
ParseStatus parseResponseHead(std::string_view data, std::string_view request_method, const Limits& limits,
                              ResponseHead& out, ParseError& err);

// Incremental, strict chunked-body decoder (RFC 9112 7.1). Feed bytes as they arrive;
// it reports body data without copying and stops exactly at the end of the trailer section.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(const Limits& limits) : limits_(limits) {}
  struct Step {
    ParseStatus status;           // NeedMore (consumed all of `in`), Done (message ended), Error
    size_t consumed;              // bytes of `in` used (framing + data)
    std::string_view data;        // body bytes found in this step (a slice of `in`), maybe empty
  };
  // Consumes from `in` until it has produced one slice of body data, needs more input,
  // reaches the end of the message, or fails. Call repeatedly on the remainder:
  //   NeedMore with data non-empty: a body slice; in.substr(consumed) may hold more.
  //   NeedMore with data empty: consumed == in.size(); feed the next bytes.
  //   Done: consumed ends exactly after the final CRLF (pipelined bytes follow).
  //   Error: err says why (400 grammar, 413 over max_body, 431 trailers); stays failed.
  // Strictness (no whitespace on the chunk line, 1-16 hex digits, CRLF only, trailers
  // validated then dropped) is documented in chunked.cc.
  Step feed(std::string_view in, ParseError& err);
  bool done() const { return state_ == State::Done; }
  uint64_t bodyBytes() const { return body_bytes_; }
  void reset() { *this = ChunkedDecoder(limits_); }

 private:
  enum class State : uint8_t {
    Size,          // 1*HEXDIG
    ExtNameStart,  // after ';': first tchar of chunk-ext-name
    ExtName,       // tchar* then '=', ';' or CR
    ExtValStart,   // after '=': token or quoted-string
    ExtValToken,   // tchar* then ';' or CR
    ExtQuoted,     // inside quoted-string
    ExtQuotedEsc,  // after '\\' in a quoted-string
    ExtAfterQuoted,  // after the closing quote: ';' or CR
    SizeLF,        // CR seen at the end of the chunk line
    Data,          // remaining_ bytes of chunk-data
    DataCR,        // CRLF after the data
    DataLF,
    TrailerStart,  // start of a trailer line (or the final CRLF)
    TrailerName,
    TrailerValue,
    TrailerLF,     // CR seen at the end of a trailer line
    FinalLF,       // CR of the final empty line seen
    Done,
    Failed,
  };
  Step fail(size_t consumed, ParseError& err, uint16_t status, const char* reason);
  Limits limits_;
  State state_ = State::Size;
  uint64_t remaining_ = 0;    // chunk size while reading it, then data bytes left
  uint64_t body_bytes_ = 0;
  size_t ext_bytes_ = 0;      // chunk-ext bytes of the current chunk line
  size_t trailer_bytes_ = 0;  // bytes of the trailer section so far
  size_t trailer_fields_ = 0;
  size_t size_digits_ = 0;    // hex digits of the current chunk size
};

// ASCII case-insensitive equality (header names, tokens). Inline: the proxy
// asks it of every field several times, mostly of names of another length.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    const char x = static_cast<char>(a[i] | 0x20);  // a letter's lower case
    if (x != static_cast<char>(b[i] | 0x20) || x < 'a' || x > 'z') return false;
  }
  return true;
}

// Header names that are always hop-by-hop (RFC 9110 7.6.1: Connection, Keep-Alive,
// Proxy-Connection, TE, Transfer-Encoding, Upgrade, Trailer, Proxy-Authenticate,
// Proxy-Authorization). Those named in a Connection header are hop-by-hop as well:
// see HopByHop in headers.h, with the other helpers (tokens, lists, Host).
bool isHopByHop(std::string_view name);

}  // namespace rampart::gateway::http
