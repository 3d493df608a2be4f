// Serialization of HTTP/1.1 heads and chunk framing for the proxy, plus the
// status reason-phrase table.
//
// The writer appends to a caller-owned std::string (reuse it across requests to
// keep allocation at zero once warmed up). It does not validate: names and values
// coming from a parsed head are already valid; check configured ones with
// isToken() / isValidFieldValue() (headers.h) when the config is loaded.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "gateway/http/parser.h"

namespace rampart::gateway::http {

// Reason phrase for a status code (RFC 9110 15), "" when unknown.
std::string_view reasonPhrase(uint16_t status);

// "METHOD target HTTP/1.1\r\n"
void appendRequestLine(std::string& out, std::string_view method, std::string_view target);
// "HTTP/1.1 status reason\r\n"; reason defaults to reasonPhrase(status) (or "Unknown").
void appendStatusLine(std::string& out, uint16_t status, std::string_view reason = {});
// "name: value\r\n"
void appendHeader(std::string& out, std::string_view name, std::string_view value);
// Header lines as they were received, for a proxy that forwards most of a head's
// fields: the lines of parsed fields (views into the buffer parseRequestHead or
// parseResponseHead read, which the parser left as `name: OWS value OWS CRLF`)
// that follow one another there are copied as one run. flush() before anything
// else is appended to `out`.
//   http::ReceivedLines lines(head);
//   for (const auto& h : req.headers) if (keep(h)) lines.add(h);
//   lines.flush();
class ReceivedLines {
 public:
  explicit ReceivedLines(std::string& out) : out_(out) {}
  void add(const Header& h) {
    const char* end = h.value.data() + h.value.size();
    while (*end != '\r') ++end;  // the value's trailing OWS
    end += 2;
    if (h.name.data() != to_) {
      flush();
      from_ = h.name.data();
    }
    to_ = end;
  }
  void flush() {
    if (from_) out_.append(from_, size_t(to_ - from_));
    from_ = to_ = nullptr;
  }

 private:
  std::string& out_;
  const char* from_ = nullptr;
  const char* to_ = nullptr;
};

// Each header in order; with skip_hop_by_hop, leaves out those HopByHop(headers) drops.
void appendHeaders(std::string& out, std::span<const Header> headers, bool skip_hop_by_hop = false);

// Request line + headers + empty line (HTTP/1.1). Headers written as given.
void appendRequestHead(std::string& out, std::string_view method, std::string_view target,
                       std::span<const Header> headers);
// Status line + headers + empty line (HTTP/1.1).
void appendResponseHead(std::string& out, uint16_t status, std::string_view reason,
                        std::span<const Header> headers);

// Chunk framing (RFC 9112 7.1): "<hex size>\r\n" ... data ... "\r\n"; last chunk "0\r\n\r\n".
void appendChunkHeader(std::string& out, uint64_t size);
inline void appendChunkEnd(std::string& out) { out.append("\r\n"); }
inline void appendLastChunk(std::string& out) { out.append("0\r\n\r\n"); }
// A whole chunk (header, data, CRLF); nothing for empty data (it would end the body).
void appendChunk(std::string& out, std::string_view data);

}  // namespace rampart::gateway::http
