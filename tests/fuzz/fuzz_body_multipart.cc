// libFuzzer target: MULTIPART body processor. Input: Content-Type header,
// a NUL, then the body (without a NUL: a fixed boundary "XyZ" and all input as
// body). Checks: no crash / UB, limits honoured, strict_error is the OR of
// the flags, crlf_lf_lines = crlf && lf.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "waf/body/body.h"
#include "same_result.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rampart::waf::body;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view content_type = "multipart/form-data; boundary=XyZ";
  std::string_view body = input;
  if (const size_t nul = input.find('\0'); nul != std::string_view::npos && nul < 1100) {
    content_type = input.substr(0, nul);
    body = input.substr(nul + 1);
  }
  Limits limits;
  limits.max_args = 50;
  limits.max_files = 3;
  Result r = parseMultipart(body, content_type, limits);
  // Parsed again into the Result every input is parsed into: the same.
  static Result reused;
  parseMultipart(body, content_type, limits, reused);
  if (!rampart::fuzz::sameResult(r, reused)) abort();
  const MultipartFlags& f = r.multipart;
  if (r.args.size() > limits.max_args) abort();
  const int any = f.error | f.boundary_quoted | f.boundary_whitespace | f.data_before | f.data_after |
                  f.header_folding | f.lf_line | f.missing_semicolon | f.invalid_quoting | f.invalid_part |
                  f.invalid_header_folding | f.file_limit_exceeded;
  if (f.strict_error != (any ? 1 : 0)) abort();
  if (f.crlf_lf_lines != ((f.crlf_line && f.lf_line) ? 1 : 0)) abort();
  if (f.error && !r.error) abort();
  uint64_t total = 0;
  for (const auto& a : r.args) total += a.value.size();
  for (const auto& file : r.files) total += file.size;
  if (total > body.size()) abort();
  return 0;
}
