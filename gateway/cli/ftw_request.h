// Turning a go-ftw stage input into the bytes go-ftw would put on the wire,
// and those bytes into what the gateway would hand to the WAF.
//
// Why byte-exact: CRS's protocol tests (920xxx) are about malformed requests.
// We build the request exactly as go-ftw does (header order, added headers,
// form encoding of `data`) and parse it with the gateway's own strict parser,
// so a request the gateway would refuse is refused here too: the gateway
// answers 400/413/431/501/505 before the WAF sees anything, as nginx and
// Apache do. For a test, such a request has fired no rule; a test that
// expects rule ids on it fails (and is listed in expected-failures with the
// parser's reason), a test that expects that status or expect_error passes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/cli/ftw_test.h"

namespace rampart::cli::ftw {

// The raw request go-ftw (v2) sends for this input (ftwhttp.BuildRequest):
//  - encoded_request: its base64-decoded bytes, nothing else;
//  - else "METHOD URI VERSION\r\n", the headers ("Name: value\r\n"; a YAML
//    `headers` map sorted by name, `ordered_headers` as written), "\r\n", data.
//    With autocomplete_headers (the default) and data: Content-Type:
//    application/x-www-form-urlencoded appended when there is none, and for
//    that type each key and value url-encoded unless the data already looks
//    encoded. A multipart/form-data body has its LF turned into CRLF. With
//    autocomplete_headers: Connection: close appended when absent, and
//    Content-Length when absent and there is data or the method is
//    POST/PUT/PATCH/DELETE. Header presence is checked ignoring case.
std::string buildRawRequest(const Input& in);

// What the gateway makes of the raw bytes.
struct WireRequest {
  std::string raw;             // owns every view below
  bool rejected = false;       // the gateway answers `status` without running the WAF
  bool incomplete = false;     // head never completed: no answer (a client-side error)
  int status = 0;              // the rejection status
  std::string reason;          // the parser's reason
  std::string_view method;
  std::string_view target;
  std::string protocol;        // "HTTP/1.1"
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // wire order
  std::string body;            // decoded body (chunked removed), as much as arrived
  bool body_truncated = false; // fewer bytes arrived than Content-Length said
};

WireRequest parseWire(std::string raw);

// Base64 (standard alphabet) with whitespace ignored; false on bad input.
bool base64Decode(std::string_view in, std::string& out);

// Go's url.QueryEscape.
std::string goQueryEscape(std::string_view s);

}  // namespace rampart::cli::ftw
