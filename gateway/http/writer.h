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
