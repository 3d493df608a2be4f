// The CRS reflector backend, emulated in process for `rampart waf test`: the
// RESPONSE-95x tests ask it (POST /reflect, JSON) for the response the WAF's
// response phases then inspect. Like the Go backend CRS uses, a body without a
// Content-Type gets one sniffed from its first bytes.
#include <simdjson.h>

#include "gateway/cli/ftw_request.h"
#include "gateway/cli/waf_runner.h"
#include "gateway/http/parser.h"

namespace rampart::cli::wafrun {
namespace {

// Go's http.DetectContentType, reduced to what the reflector's bodies need.
std::string sniffContentType(std::string_view body) {
  size_t i = 0;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r' ||
                             body[i] == '\f'))
    ++i;
  std::string_view b = body.substr(i);
  auto startsCi = [&](std::string_view p) {
    if (b.size() < p.size()) return false;
    for (size_t k = 0; k < p.size(); ++k) {
      char c = b[k];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      if (c != p[k]) return false;
    }
    return true;
  };
  static const char* html[] = {"<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT",
                               "<TABLE", "<A", "<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"};
  for (const char* p : html) {
    std::string_view pv(p);
    if (startsCi(pv) && b.size() > pv.size() && (b[pv.size()] == ' ' || b[pv.size()] == '>'))
      return "text/html; charset=utf-8";
  }
  if (b.rfind("<?xml", 0) == 0) return "text/xml; charset=utf-8";
  if (b.rfind("%PDF-", 0) == 0) return "application/pdf";
  for (unsigned char c : body.substr(0, 512)) {
    if (c <= 0x08 || c == 0x0b || (c >= 0x0e && c <= 0x1a) || (c >= 0x1c && c <= 0x1f))
      return "application/octet-stream";
  }
  return "text/plain; charset=utf-8";
}

}  // namespace

Response reflect(std::string_view method, std::string_view target, std::string_view body) {
  Response r;
  std::string_view path = target.substr(0, target.find('?'));
  bool is_reflect = method == "POST" && path == "/reflect";
  std::string out_body;
  bool have_type = false;
  if (is_reflect && !body.empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (!parser.parse(body.data(), body.size()).get(doc) && doc.is_object()) {
      int64_t status = 0;
      if (!doc["status"].get(status) && status >= 100 && status <= 999) r.status = static_cast<int>(status);
      simdjson::dom::object hdrs;
      if (!doc["headers"].get(hdrs)) {
        for (auto field : hdrs) {
          std::string_view v;
          if (field.value.get(v)) continue;
          std::string name(field.key);
          if (gateway::http::iequals(name, "Content-Type")) have_type = true;
          if (gateway::http::iequals(name, "Content-Length")) continue;  // recomputed below
          r.headers.emplace_back(std::move(name), std::string(v));
        }
      }
      std::string_view text;
      if (!doc["encodedBody"].get(text) && !text.empty()) {
        ftw::base64Decode(text, out_body);
      } else if (!doc["body"].get(text)) {
        out_body.assign(text);
      }
    }
  }
  if (!have_type && !out_body.empty()) r.headers.emplace_back("Content-Type", sniffContentType(out_body));
  r.headers.emplace_back("Content-Length", std::to_string(out_body.size()));
  r.headers.emplace_back("Date", "Mon, 23 Nov 2026 00:00:00 GMT");
  r.body = std::move(out_body);
  return r;
}

}  // namespace rampart::cli::wafrun
