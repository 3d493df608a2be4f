#include "gateway/http/writer.h"

#include <vector>

#include "gateway/http/headers.h"

namespace rampart::gateway::http {

std::string_view reasonPhrase(uint16_t status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    case 511: return "Network Authentication Required";
    default: return "";
  }
}

void appendRequestLine(std::string& out, std::string_view method, std::string_view target) {
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n");
}

void appendStatusLine(std::string& out, uint16_t status, std::string_view reason) {
  if (reason.empty()) reason = reasonPhrase(status);
  if (reason.empty()) reason = "Unknown";
  const char code[4] = {char('0' + status / 100 % 10), char('0' + status / 10 % 10), char('0' + status % 10), ' '};
  out.append("HTTP/1.1 ");
  out.append(code, 4);
  out.append(reason);
  out.append("\r\n");
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void appendHeaders(std::string& out, std::span<const Header> headers, bool skip_hop_by_hop) {
  const HopByHop hop(skip_hop_by_hop ? headers : std::span<const Header>());
  for (const Header& h : headers) {
    if (skip_hop_by_hop && hop.drops(h.name)) continue;
    appendHeader(out, h.name, h.value);
  }
}

void appendRequestHead(std::string& out, std::string_view method, std::string_view target,
                       std::span<const Header> headers) {
  appendRequestLine(out, method, target);
  appendHeaders(out, headers);
  out.append("\r\n");
}

void appendResponseHead(std::string& out, uint16_t status, std::string_view reason,
                        std::span<const Header> headers) {
  appendStatusLine(out, status, reason);
  appendHeaders(out, headers);
  out.append("\r\n");
}

void appendChunkHeader(std::string& out, uint64_t size) {
  char buf[18];
  size_t n = 0;
  do {
    buf[sizeof(buf) - 1 - n] = "0123456789abcdef"[size & 0xf];
    size >>= 4;
    ++n;
  } while (size != 0);
  out.append(buf + sizeof(buf) - n, n);
  out.append("\r\n");
}

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  appendChunkHeader(out, data.size());
  out.append(data);
  out.append("\r\n");
}

}  // namespace rampart::gateway::http
