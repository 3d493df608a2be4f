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
  std::string_view host;            // Host header value (required for HTTP/1.1; exactly one)
  size_t head_size = 0;             // bytes of the head including the final CRLFCRLF
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
// Error: `err` says what and which status. Cost is linear in the head size per call;
// callers pass the whole buffer again after each read.
ParseStatus parseRequestHead(std::string_view data, const Limits& limits, RequestHead& out, ParseError& err);

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
  // reaches the end of the message, or fails. Call repeatedly on the remainder.
  Step feed(std::string_view in, ParseError& err);
  bool done() const { return state_ == State::Done; }
  uint64_t bodyBytes() const { return body_bytes_; }
  void reset() { *this = ChunkedDecoder(limits_); }

 private:
  enum class State : uint8_t { Size, Ext, SizeLF, Data, DataCR, DataLF, Trailer, TrailerLF, Done };
  Limits limits_;
  State state_ = State::Size;
  uint64_t remaining_ = 0;
  uint64_t body_bytes_ = 0;
  size_t ext_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  size_t line_bytes_ = 0;
  bool size_digits_ = false;
  bool trailer_line_empty_ = true;
};

bool iequals(std::string_view a, std::string_view b);

// Header names that are hop-by-hop (RFC 9110 7.6.1) plus those named in Connection.
bool isHopByHop(std::string_view name);

}  // namespace rampart::gateway::http
