// Request body processors: URLENCODED, JSON, MULTIPART, XML.
//
// Each turns a complete (already size-limited) body into the values the
// engine exposes as variables. They never throw; a body that cannot be parsed
// sets `error` / `error_msg` (REQBODY_ERROR, REQBODY_ERROR_MSG,
// REQBODY_PROCESSOR_ERROR in SecLang), keeping whatever was parsed before it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::waf::body {

struct Field {
  std::string name;
  std::string value;
};

struct FileInfo {
  std::string field_name;    // FILES_NAMES value (the part's name=)
  std::string filename;      // FILES value (the part's filename=)
  std::string content_type;  // the part's Content-Type, if any
  uint64_t size = 0;         // FILES_SIZES
};

// MULTIPART_* flags as ModSecurity v2 sets them (each 0 or 1).
struct MultipartFlags {
  int strict_error = 0;  // MULTIPART_STRICT_ERROR exactly as v2 computes it (see multipart.cc)
  int boundary_quoted = 0;
  int boundary_whitespace = 0;
  int data_before = 0;
  int data_after = 0;
  int header_folding = 0;
  int lf_line = 0;
  int crlf_lf_lines = 0;  // MULTIPART_CRLF_LF_LINES
  int missing_semicolon = 0;
  int invalid_quoting = 0;
  int invalid_part = 0;
  int invalid_header_folding = 0;
  int file_limit_exceeded = 0;
  int unmatched_boundary = 0;
  int part_headers_error = 0;  // not a v2 flag name; kept for REQBODY_ERROR detail
  int crlf_line = 0;           // MULTIPART_CRLF_LINE (some line ended in CRLF)
  int error = 0;               // v2's flag_error: a parse error (part of strict_error)
};

// The error (REQBODY_ERROR_MSG) of a body with more arguments than max_args.
inline constexpr const char* kArgumentsLimitExceeded = "SecArgumentsLimit exceeded";

struct Limits {
  uint32_t max_args = 1000;            // SecArgumentsLimit for this call (v2 counts ARGS_GET too)
  uint32_t json_depth = 10000;         // SecRequestBodyJsonDepthLimit
  uint32_t max_files = 100;            // multipart file parts
  bool xml_external_entities = false;  // never loaded unless set
  // JSON argument naming: false (default) = ModSecurity v2 (`a.b`, arrays repeat
  // the key: {"a":[1]} -> `a.a`); true = libmodsecurity v3 (`json.a.array_0`).
  // json.cc's header comment has the full rules.
  bool json_v3_naming = false;
};

struct Result {
  std::vector<Field> args;          // ARGS_POST, in body order
  std::vector<FileInfo> files;      // multipart file parts
  std::vector<Field> part_headers;  // MULTIPART_PART_HEADERS: name = part name, value = "Name: value" line
  std::vector<std::string> multipart_filenames;  // MULTIPART_FILENAME values
  std::vector<std::string> multipart_names;      // MULTIPART_NAME values
  MultipartFlags multipart;
  // XML: the parsed document, owned (libxml2 xmlDoc*, freed by the deleter), for XPath
  // evaluation of XML:/xpath targets. Null for other processors or on error.
  std::shared_ptr<void> xml_doc;
  bool error = false;
  std::string error_msg;
  // URLENCODED_ERROR: parseUrlEncoded saw an invalid %-escape ("%G1", a '%'
  // without two bytes after it). Not an error: the bytes are kept as they are.
  bool urlencoded_error = false;

  // For a Result parsed into again and again (the engine's, one per
  // transaction workspace): reset() empties it as a new one is, keeping the
  // buffers of its strings, and take() gives a string holding `s` in one of
  // them, so that a body like the one before costs no allocation. Buffers
  // are kept by size class (16-31 bytes, 32-63, ... up to 16 KiB; a string
  // take() makes gets its class's whole size), so any kept one of a value's
  // class holds it, whatever order the values come in.
  void reset();
  std::string take(std::string_view s);
  size_t spareCount() const;
  size_t heldBytes() const;  // what its strings and vectors hold on to
  static constexpr size_t kSpareClasses = 10;
  std::vector<std::string> spare[kSpareClasses];
};

// application/x-www-form-urlencoded; `separator` is SecArgumentSeparator.
// Names and values are URL-decoded the way ModSecurity does for ARGS.
Result parseUrlEncoded(std::string_view body, const Limits& limits, char separator = '&');
// The same parse without an allocation per argument (what the engine runs on
// every query string and form): each (name, value) into `out`, cleared first,
// all of them (no limit: the caller keeps the first max_args). A name or
// value without an escape or '+' views `body`; the others are decoded into
// `storage`, cleared and given room for body.size() bytes first, so that the
// views into it stay valid while storage is left alone. *invalid as
// Result::urlencoded_error.
void parseUrlEncodedViews(std::string_view body, char separator, std::string& storage,
                          std::vector<std::pair<std::string_view, std::string_view>>& out, bool* invalid);

// Each processor also parses into a Result it is handed, reset() first (the
// engine's, reused from request to request): the same values, without an
// allocation per argument once the Result's strings have grown.

// JSON with ModSecurity's argument names: v2 by default (keys joined with '.',
// no prefix: {"a":{"b":1}} -> `a.b`), v3 (`json.a.b`) with
// limits.json_v3_naming. json.cc's header comment documents arrays and the
// exact naming, researched against ModSecurity's code. Depth beyond
// limits.json_depth is an error.
Result parseJson(std::string_view body, const Limits& limits);
void parseJson(std::string_view body, const Limits& limits, Result& out);

// multipart/form-data; `content_type` is the full request Content-Type header value.
Result parseMultipart(std::string_view body, std::string_view content_type, const Limits& limits);
void parseMultipart(std::string_view body, std::string_view content_type, const Limits& limits, Result& out);

// XML (libxml2, no network, no external entities, no DTD loading).
Result parseXml(std::string_view body, const Limits& limits);
void parseXml(std::string_view body, const Limits& limits, Result& out);

}  // namespace rampart::waf::body
