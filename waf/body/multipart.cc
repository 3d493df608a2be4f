// MULTIPART body processor (multipart/form-data), strict, modelled on the
// behaviour of ModSecurity v2's apache2/msc_multipart.c (our own code).
//
// Why so literal: CRS rule 200003-style checks (MULTIPART_STRICT_ERROR) and
// 920120/920121/922100-922130 read the flags and collections below, and
// evasions live in exactly the corners where parsers disagree. So the body is
// cut into "lines" the way v2 buffers it (a line ends at LF or after 4096
// bytes; a CR is never the 4096th byte), and every decision is taken per line.
//
// Content-Type (boundary extraction), in v2's order; each failure is a parse
// error (flags.error, REQBODY_ERROR):
//   longer than 1024 -> "(length)"; not starting with multipart/form-data
//   (any case) -> "Invalid MIME type"; "boundary" followed later by '='
//   counted case-insensitively more than once -> "Multiple boundary
//   parameters"; "boundary" (exact case) missing -> "(case sensitivity)" or
//   "Boundary not found"; anything but whitespace and one ';' between the
//   MIME type and "boundary" -> "(malformed)"; no ';' -> flags.missing_semicolon;
//   whitespace around '=' -> flags.boundary_whitespace (whitespace before the
//   value stays part of the boundary, as in v2); "..." -> unquoted and
//   flags.boundary_quoted; a lone quote -> "(quote)"; the value runs to the end
//   of the header, so `; charset=x` after it fails the RFC 2046 character
//   check -> "(characters)"; empty -> "(empty)".
//   Example: `multipart/form-data; boundary="a b"` -> boundary "a b", quoted.
//
// Body lines:
//   - "--B" (+ optional "--") + CRLF or LF is a boundary; LF sets
//     flags.lf_line, CRLF flags.crlf_line; anything else after it -> error
//     "Invalid boundary"; a boundary where part data should begin (headers
//     not finished) sets flags.invalid_part and the line is treated as
//     content; "--" + '"' + B with a quoted C-T boundary -> error "(quotes)";
//     "--" + whitespace + B -> error "(whitespace)"; any other "--" line, or
//     "--B" inside a line, sets flags.unmatched_boundary (not part of
//     strict_error, as in v2).
//   - before the first boundary -> flags.data_before; bytes after the final
//     boundary line -> flags.data_after (ignored).
//   - part headers: CR/LF flags as above; NUL byte, missing colon, empty name,
//     name bytes outside 33..126, duplicate header (any case), header line of
//     4096+ bytes, folded value over 4096 -> error. A line starting with
//     whitespace folds into the previous header (flags.header_folding; a
//     folding character other than SP/HTAB -> flags.invalid_header_folding;
//     folding with no header before -> error).
//   - the empty line ends the headers: Content-Disposition must exist, start
//     with "form-data", and hold only name= / filename= parameters (token or
//     quoted; '...' quoting and unquoted values with a ' set
//     flags.invalid_quoting; "\" escapes only the quote and "\"; a parameter
//     twice, an unknown parameter, a missing ';' between parameters -> error,
//     a quote just before that missing ';' also sets invalid_quoting); no name
//     -> error; a filename with no literal "filename=" in the header -> error.
//   - part data: the CRLF/LF ending a line is held back and only added if
//     more data follows, so the line break before a boundary is not content.
//   - at the end: the final boundary may lack its line break; no boundary at
//     all -> error "No boundaries found in payload."; no final boundary ->
//     error "Final boundary missing." (these two do not set flags.error, as in
//     v2). An empty body is no error.
// Output: parts with filename= are files (FileInfo: name, filename, part
// Content-Type, byte size); other parts are args (name, value). Every header
// line of a completed part goes to part_headers as (part name, "Name: value").
// Every name= / filename= value parsed goes to multipart_names /
// multipart_filenames in order (v2 keeps only the last: use back()).
// File parts beyond limits.max_files set flags.file_limit_exceeded (still
// listed; v2 applies SecUploadFileLimit only when it stores files, we always
// count). Args beyond limits.max_args: the first are kept, error
// "SecArgumentsLimit exceeded". On a parse error, what was completed before it
// is kept (v2 stops adding args there; more data inspected is the safe side).
// flags.strict_error = error | boundary_quoted | boundary_whitespace |
// data_before | data_after | header_folding | lf_line | missing_semicolon |
// invalid_quoting | invalid_part | invalid_header_folding |
// file_limit_exceeded (v2's MULTIPART_STRICT_ERROR); crlf_lf_lines =
// crlf_line && lf_line; part_headers_error (ours, not v2's) = the parse error
// was in a part's headers or Content-Disposition.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "waf/body/body.h"
#include "waf/body/internal.h"

namespace rampart::waf::body {
namespace {

constexpr size_t kBufSize = 4096;  // v2's MULTIPART_BUF_SIZE
constexpr size_t kMaxContentType = 1024;

bool cIsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// s in lower case into out (its buffer reused).
void assignLower(std::string& out, std::string_view s) {
  out.assign(s);
  for (char& c : out) c = lower(c);
}

// s == lower_word in any case (lower_word in lower case).
bool equalsCaseless(std::string_view s, std::string_view lower_word) {
  if (s.size() != lower_word.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (lower(s[i]) != lower_word[i]) return false;
  return true;
}

// "boundary" (any case) occurrences that have a '=' somewhere after them.
int countBoundaryParams(std::string_view s) {
  constexpr std::string_view kWord = "boundary";
  const size_t last_eq = s.rfind('=');
  int count = 0;
  for (size_t pos = 0; pos + kWord.size() <= s.size(); ++pos) {
    if (lower(s[pos]) != 'b' || !equalsCaseless(s.substr(pos, kWord.size()), kWord)) continue;
    pos += kWord.size() - 1;  // (occurrences do not overlap: "boundary" has no border)
    if (last_eq != std::string_view::npos && last_eq >= pos + 1) count++;
  }
  return count;
}

bool boundaryCharactersValid(std::string_view b) {
  for (size_t i = 0; i < b.size(); ++i) {
    const char c = b[i];
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c == ' ' && i + 1 < b.size()) || c == '\'' || c == '(' || c == ')' || c == '+' ||
                    c == '_' || c == ',' || c == '-' || c == '.' || c == '/' || c == ':' || c == '=' ||
                    c == '?';
    if (!ok) return false;
  }
  return true;
}

bool isTokenChar(unsigned char c) {
  if (c <= 32 || c >= 127) return false;
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
      return false;
    default:
      return true;
  }
}

std::string_view stripLineEnd(std::string_view s) {
  if (!s.empty() && s.back() == '\n') {
    s.remove_suffix(1);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  }
  return s;
}

// Room for a few before the first: a form's 3-6 parts in one allocation
// rather than a vector doubled from one.
template <class V>
void roomFor(V& v) {
  if (v.capacity() == 0) v.reserve(8);
}

struct PartHeader {
  std::string key;  // the name in lower case
  std::string name, value;
};

// The part being read. One for the whole body, emptied at each boundary:
// its headers' strings keep their capacity from part to part (a part's few
// headers took a map with its nodes and six strings apiece before).
struct Part {
  std::string name, filename;
  bool has_name = false, has_filename = false;
  bool is_file = false;
  bool counted_file = false;
  std::vector<PartHeader> headers;  // the first header_count in use
  size_t header_count = 0;
  int last_header = -1;             // the header being built (-1: none)
  std::string last_header_line;     // "Name: value" of the header being built
  bool has_last_line = false;
  bool last_line_folded = false;  // rebuild last_header_line from the header when recorded
  std::vector<std::string> header_lines;  // the first header_line_count in use
  size_t header_line_count = 0;
  std::string value;
  uint64_t length = 0;

  PartHeader* find(std::string_view key) {
    for (size_t i = 0; i < header_count; ++i)
      if (headers[i].key == key) return &headers[i];
    return nullptr;
  }
  void reset() {
    name.clear();
    filename.clear();
    has_name = has_filename = is_file = counted_file = false;
    header_count = 0;
    last_header = -1;
    last_header_line.clear();
    has_last_line = last_line_folded = false;
    header_line_count = 0;
    value.clear();
    length = 0;
  }
  std::string& nextHeaderLine() {
    if (header_line_count == header_lines.size()) header_lines.emplace_back();
    return header_lines[header_line_count++];
  }
};

// What a parser keeps from body to body, one per thread (parseMultipart's):
// its strings' buffers.
struct Scratch {
  std::string boundary, dash_boundary, key, cd_value, reserve;
  Part part;
  std::vector<Field> pending_args;
};

class MultipartParser {
 public:
  MultipartParser(Result& result, const Limits& limits, Scratch& scratch)
      : r_(result), limits_(limits), s_(scratch) {
    boundary_.clear();
    dash_boundary_.clear();
    part_.reset();
    reserve_.clear();
    pending_args_.clear();
  }

  void run(std::string_view body, std::string_view content_type) {
    if (!init(content_type)) return finish();
    if (body.empty()) return finish();
    dash_boundary_.assign("--").append(boundary_);

    size_t pos = 0;
    const size_t n = body.size();
    std::string_view leftover;
    while (pos < n) {
      const size_t window = std::min(n - pos, kBufSize);
      const void* nl = std::memchr(body.data() + pos, '\n', window);
      size_t seg_end = 0;
      bool cut_before_cr = false;
      if (nl != nullptr) {
        seg_end = static_cast<size_t>(static_cast<const char*>(nl) - body.data()) + 1;
      } else if (window == kBufSize) {
        if (body[pos + kBufSize - 1] == '\r') {
          seg_end = pos + kBufSize - 1;
          cut_before_cr = true;
        } else {
          seg_end = pos + kBufSize;
        }
      } else {
        leftover = body.substr(pos);
        break;
      }
      const std::string_view seg = body.substr(pos, seg_end - pos);
      if (!processLine(seg, cut_before_cr)) return finish();
      const bool ends_line = seg.back() == '\n';
      buf_contains_line_ = ends_line;
      crlf_state_buf_end_ = ends_line ? ((seg.size() >= 2 && seg[seg.size() - 2] == '\r') ? 3 : 2) : 0;
      pos = seg_end;
      if (is_complete_ && pos < n) {
        r_.multipart.data_after = 1;
        break;
      }
    }
    if (!is_complete_) complete(leftover);
    finish();
  }

 private:
  bool fail(std::string msg, bool set_flag = true) {
    if (set_flag) r_.multipart.error = 1;
    if (!r_.error) {
      r_.error = true;
      r_.error_msg = std::move(msg);
    }
    return false;
  }

  bool init(std::string_view ct) {
    if (const size_t nul = ct.find('\0'); nul != std::string_view::npos) ct = ct.substr(0, nul);
    if (ct.empty()) return fail("Multipart: Content-Type header not available.");
    if (ct.size() > kMaxContentType) return fail("Multipart: Invalid boundary in C-T (length).");
    if (ct.size() < 19 || !equalsCaseless(ct.substr(0, 19), "multipart/form-data")) {
      return fail("Multipart: Invalid MIME type.");
    }
    if (countBoundaryParams(ct) > 1) return fail("Multipart: Multiple boundary parameters in C-T.");
    const size_t at = ct.find("boundary");
    if (at == std::string_view::npos) {
      if (countBoundaryParams(ct) > 0) return fail("Multipart: Invalid boundary in C-T (case sensitivity).");
      return fail("Multipart: Boundary not found in C-T.");
    }
    bool seen_semicolon = false;
    for (size_t i = 19; i < at; ++i) {
      if (cIsSpace(ct[i])) continue;
      if (!seen_semicolon && ct[i] == ';') {
        seen_semicolon = true;
      } else {
        return fail("Multipart: Invalid boundary in C-T (malformed).");
      }
    }
    if (!seen_semicolon) r_.multipart.missing_semicolon = 1;
    const size_t eq = ct.find('=', at + 8);
    if (eq == std::string_view::npos) return fail("Multipart: Invalid boundary in C-T (malformed).");
    for (size_t i = at + 8; i < eq; ++i) {
      if (cIsSpace(ct[i])) {
        r_.multipart.boundary_whitespace = 1;
      } else {
        return fail("Multipart: Invalid boundary in C-T (parameter name).");
      }
    }
    const std::string_view b = ct.substr(eq + 1);
    if (!b.empty() && cIsSpace(b[0])) r_.multipart.boundary_whitespace = 1;
    if (b.size() >= 2 && b.front() == '"' && b.back() == '"') {
      boundary_.assign(b.substr(1, b.size() - 2));
      r_.multipart.boundary_quoted = 1;
    } else {
      if ((!b.empty() && b.front() == '"') || (b.size() >= 2 && b.back() == '"')) {
        return fail("Multipart: Invalid boundary in C-T (quote).");
      }
      boundary_.assign(b);
    }
    if (countBoundaryParams(boundary_) != 0) return fail("Multipart: Invalid boundary in C-T (content).");
    if (!boundaryCharactersValid(boundary_)) return fail("Multipart: Invalid boundary in C-T (characters).");
    if (boundary_.empty()) return fail("Multipart: Invalid boundary in C-T (empty).");
    return true;
  }

  static char at(std::string_view s, size_t i) { return i < s.size() ? s[i] : '\0'; }

  // One buffered line (v2's buffer); false on a parse error.
  bool processLine(std::string_view seg, bool cut_before_cr) {
    const size_t blen = boundary_.size();
    const void* nul = std::memchr(seg.data(), '\0', seg.size());
    const size_t slen = nul ? static_cast<size_t>(static_cast<const char*>(nul) - seg.data()) : seg.size();
    bool processed_as_boundary = false;

    if (buf_contains_line_ && slen > 3 && seg[0] == '-' && seg[1] == '-') {
      if (slen >= blen + 2 && seg.compare(2, blen, boundary_) == 0) {
        if (crlf_state_buf_end_ == 2) r_.multipart.lf_line = 1;
        if (!part_data_read_ && boundary_count_ > 0) {
          r_.multipart.invalid_part = 1;
        } else {
          size_t be = 2 + blen;
          bool is_final = false;
          if (at(seg, be) == '-' && at(seg, be + 1) == '-') {
            is_final = true;
            be += 2;
            if (is_complete_) return fail("Multipart: Invalid boundary (final duplicate).");
          }
          const bool crlf = at(seg, be) == '\r' && at(seg, be + 1) == '\n' && be + 2 == seg.size();
          const bool lf = at(seg, be) == '\n' && be + 1 == seg.size();
          if (!crlf && !lf) {
            return fail("Multipart: Invalid boundary: " + std::string(stripLineEnd(seg)));
          }
          if (lf) {
            r_.multipart.lf_line = 1;
          } else {
            r_.multipart.crlf_line = 1;
          }
          processBoundary(is_final);
          if (is_final) is_complete_ = true;
          processed_as_boundary = true;
          boundary_count_++;
        }
      } else {
        if (r_.multipart.boundary_quoted && slen >= blen + 3 && seg[2] == '"' &&
            seg.compare(3, blen, boundary_) == 0) {
          return fail("Multipart: Invalid boundary (quotes).");
        }
        size_t p = 2;
        while (cIsSpace(at(seg, p))) ++p;
        if (p != 2 && seg.size() - p >= blen && seg.compare(p, blen, boundary_) == 0) {
          return fail("Multipart: Invalid boundary (whitespace).");
        }
        r_.multipart.unmatched_boundary = 1;
      }
    } else if (buf_contains_line_) {
      // (memmem: linear in the line whatever the boundary, as Boyer-Moore was.)
      if (memmem(seg.data(), seg.size(), dash_boundary_.data(), dash_boundary_.size()) != nullptr) {
        r_.multipart.unmatched_boundary = 1;
      }
    }

    if (processed_as_boundary) return true;
    if (!in_part_) {
      r_.multipart.data_before = 1;
      return true;
    }
    if (mpp_state_ == 0) {
      if (seg.size() == kBufSize || cut_before_cr) {
        r_.multipart.part_headers_error = 1;
        return fail("Multipart: Part header line over 4096 bytes long");
      }
      if (!processPartHeader(seg)) {
        r_.multipart.part_headers_error = 1;
        return false;
      }
      return true;
    }
    processPartData(seg);
    return true;
  }

  bool processPartHeader(std::string_view line) {
    Part& part = part_;
    if (line.find('\0') != std::string_view::npos) return fail("Multipart: Nul byte in part headers.");
    if (line.size() > 1 && line[line.size() - 2] == '\r') {
      r_.multipart.crlf_line = 1;
    } else {
      r_.multipart.lf_line = 1;
    }

    if (line == "\r\n" || line == "\n") {
      const PartHeader* cd = part.find("content-disposition");
      if (!cd) return fail("Multipart: Part missing Content-Disposition header.");
      const std::string& value = cd->value;
      const int rc = parseContentDisposition(value, part);
      if (rc < 0) {
        return fail("Multipart: Invalid Content-Disposition header (" + std::to_string(rc) + "): " + value +
                    ".");
      }
      if (!part.has_name) return fail("Multipart: Content-Disposition header missing name field.");
      if (part.has_filename) {
        if (value.find("filename=") == std::string::npos) {
          return fail("Multipart: Invalid Content-Disposition header (filename).");
        }
        part.is_file = true;
      }
      mpp_state_ = 1;
      part_data_read_ = false;
      recordLastHeaderLine(part);
      part.last_header = -1;
      return true;
    }

    if (cIsSpace(line[0])) {
      r_.multipart.header_folding = 1;
      if (line[0] != '\t' && line[0] != ' ') r_.multipart.invalid_header_folding = 1;
      if (part.last_header < 0) return fail("Multipart: Invalid part header (folding error).");
      size_t p = 0;
      while (p < line.size() && cIsSpace(line[p])) {
        if (line[p] != '\t' && line[p] != ' ') r_.multipart.invalid_header_folding = 1;
        ++p;
      }
      std::string& header = part.headers[size_t(part.last_header)].value;
      header += ' ';
      header += stripLineEnd(line.substr(p));
      if (header.size() > kBufSize) return fail("Multipart: Part header too long.");
      // v2 rebuilds "Name: value" here on every fold; doing it once when the
      // line is recorded keeps many short folds linear.
      part.last_line_folded = true;
      return true;
    }

    recordLastHeaderLine(part);
    const std::string_view stripped = stripLineEnd(line);
    part.last_header_line.assign(stripped);
    part.has_last_line = true;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail("Multipart: Invalid part header (colon missing): " + std::string(stripped) + ".");
    }
    if (colon == 0) return fail("Multipart: Invalid part header (header name missing).");
    const std::string_view name = line.substr(0, colon);
    for (char ch : name) {
      const unsigned char u = static_cast<unsigned char>(ch);
      if (u < 33 || u > 126) return fail("Multipart: Invalid part header (contains invalid character).");
    }
    size_t v = colon + 1;
    while (v < line.size() && (line[v] == '\t' || line[v] == ' ')) ++v;
    assignLower(key_, name);
    if (part.find(key_)) return fail("Multipart: Duplicate part header: " + std::string(name) + ".");
    if (part.header_count == part.headers.size()) part.headers.emplace_back();
    PartHeader& h = part.headers[part.header_count];
    h.key.assign(key_);
    h.name.assign(name);
    h.value.assign(stripLineEnd(line.substr(v)));
    part.last_header = static_cast<int>(part.header_count++);
    return true;
  }

  // Moves the header line being built into the part's MULTIPART_PART_HEADERS.
  void recordLastHeaderLine(Part& part) {
    if (!part.has_last_line) return;
    if (part.last_line_folded && part.last_header >= 0) {
      const PartHeader& header = part.headers[size_t(part.last_header)];
      part.nextHeaderLine().assign(header.name).append(": ").append(header.value);
    } else {
      part.nextHeaderLine().assign(part.last_header_line);  // (a copy: the line keeps its buffer for the next)
    }
    part.has_last_line = false;
    part.last_line_folded = false;
  }

  void validateQuotes(std::string_view value, char quote) {
    if (quote == '"') return;
    if (value.find('\'') != std::string_view::npos) r_.multipart.invalid_quoting = 1;
  }

  // v2's multipart_parse_content_disposition: 1 ok, negative error codes.
  int parseContentDisposition(std::string_view v, Part& part) {
    if (v.substr(0, 9) != "form-data") return -1;
    size_t p = 9;
    auto ws = [&]() {
      while (at(v, p) == '\t' || at(v, p) == ' ') ++p;
    };
    ws();
    if (at(v, p) == '\0') return 1;
    if (at(v, p) != ';') return -2;
    ++p;
    while (at(v, p) != '\0') {
      ws();
      if (at(v, p) == '\0') return -3;
      size_t start = p;
      while (at(v, p) != '\0' && at(v, p) != '=' && at(v, p) != '\t' && at(v, p) != ' ') ++p;
      if (at(v, p) == '\0') return -4;
      const std::string_view pname = v.substr(start, p - start);
      ws();
      if (at(v, p) == '\0') return -5;
      if (at(v, p) != '=') return -13;
      ++p;
      ws();
      if (at(v, p) == '\0') return -6;
      char quote = '\0';
      std::string& value = cd_value_;
      value.clear();
      if (at(v, p) == '"' || at(v, p) == '\'') {
        quote = at(v, p);
        if (quote == '\'') r_.multipart.invalid_quoting = 1;
        ++p;
        if (at(v, p) == '\0') return -7;
        bool closed = false;
        while (at(v, p) != '\0') {
          if (at(v, p) == '\\') {
            if (at(v, p + 1) == '\0') return -8;
            if (at(v, p + 1) == quote || at(v, p + 1) == '\\') ++p;
          } else if (at(v, p) == quote) {
            closed = true;
            break;
          }
          value.push_back(at(v, p));
          ++p;
        }
        if (!closed) return -10;
        ++p;
      } else {
        start = p;
        while (at(v, p) != '\0' && isTokenChar(static_cast<unsigned char>(at(v, p)))) ++p;
        value.assign(v.substr(start, p - start));
      }
      if (pname == "name") {
        validateQuotes(value, quote);
        roomFor(r_.multipart_names);
        r_.multipart_names.push_back(r_.take(value));
        if (part.has_name) return -14;
        part.name.assign(value);
        part.has_name = true;
      } else if (pname == "filename") {
        validateQuotes(value, quote);
        roomFor(r_.multipart_filenames);
        r_.multipart_filenames.push_back(r_.take(value));
        if (part.has_filename) return -15;
        part.filename.assign(value);
        part.has_filename = true;
      } else {
        return -11;
      }
      if (at(v, p) != '\0') {
        ws();
        if (at(v, p) == '\0') return 1;
        if (at(v, p) != ';') {
          if (p > 0 && (v[p - 1] == '\'' || v[p - 1] == '"')) r_.multipart.invalid_quoting = 1;
          return -12;
        }
        ++p;
      }
    }
    return 1;
  }

  void processPartData(std::string_view seg) {
    Part& part = part_;
    part_data_read_ = true;
    size_t keep = 0;
    if (!seg.empty() && seg.back() == '\n') keep = (seg.size() >= 2 && seg[seg.size() - 2] == '\r') ? 2 : 1;
    const std::string_view data = seg.substr(0, seg.size() - keep);
    if (part.is_file) {
      if (!part.counted_file) {
        if (files_ >= limits_.max_files) {
          r_.multipart.file_limit_exceeded = 1;
        } else {
          files_++;
          part.counted_file = true;
        }
      }
      part.length += reserve_.size() + data.size();
    } else {
      part.value += reserve_;
      part.value += data;
      part.length += reserve_.size() + data.size();
    }
    reserve_.assign(seg.substr(seg.size() - keep));
  }

  void processBoundary(bool last_part) {
    if (in_part_) {
      Part& part = part_;
      if (part.has_name) {
        roomFor(r_.part_headers);
        for (size_t i = 0; i < part.header_line_count; ++i)
          r_.part_headers.push_back(Field{r_.take(part.name), r_.take(part.header_lines[i])});
        if (part.is_file) {
          FileInfo file;
          file.field_name = r_.take(part.name);
          if (part.has_filename) file.filename = r_.take(part.filename);
          if (const PartHeader* ct = part.find("content-type")) file.content_type = r_.take(ct->value);
          file.size = part.length;
          roomFor(r_.files);
          r_.files.push_back(std::move(file));
        } else {
          roomFor(pending_args_);
          pending_args_.push_back(Field{r_.take(part.name), r_.take(part.value)});
        }
      } else {
        r_.multipart.invalid_part = 1;
      }
      in_part_ = false;
    }
    if (!last_part) {
      part_.reset();
      in_part_ = true;
      mpp_state_ = 0;
      part_data_read_ = false;
      reserve_.clear();
    }
  }

  void complete(std::string_view leftover) {
    if (boundary_count_ == 0) {
      fail("Multipart: No boundaries found in payload.", false);
      return;
    }
    if (buf_contains_line_ && leftover.size() == 4 + boundary_.size() && leftover[0] == '-' &&
        leftover[1] == '-' && leftover.compare(2, boundary_.size(), boundary_) == 0 &&
        leftover[2 + boundary_.size()] == '-' && leftover[3 + boundary_.size()] == '-') {
      if (crlf_state_buf_end_ == 2) r_.multipart.lf_line = 1;
      if (!part_data_read_) r_.multipart.invalid_part = 1;
      processBoundary(true);
      is_complete_ = true;
      return;
    }
    fail("Multipart: Final boundary missing.", false);
  }

  void finish() {
    r_.args.reserve(r_.args.size() + std::min<size_t>(pending_args_.size(), limits_.max_args));
    for (Field& f : pending_args_) detail::addArg(r_, limits_, std::move(f.name), std::move(f.value));
    pending_args_.clear();
    MultipartFlags& f = r_.multipart;
    f.crlf_lf_lines = (f.crlf_line && f.lf_line) ? 1 : 0;
    f.strict_error =
        (f.error || f.boundary_quoted || f.boundary_whitespace || f.data_before || f.data_after ||
         f.header_folding || f.lf_line || f.missing_semicolon || f.invalid_quoting || f.invalid_part ||
         f.invalid_header_folding || f.file_limit_exceeded)
            ? 1
            : 0;
  }

  Result& r_;
  const Limits& limits_;
  Scratch& s_;
  std::string& boundary_ = s_.boundary;
  std::string& dash_boundary_ = s_.dash_boundary;  // "--" boundary_
  bool is_complete_ = false;
  uint64_t boundary_count_ = 0;
  bool buf_contains_line_ = true;
  int crlf_state_buf_end_ = 0;
  Part& part_ = s_.part;  // the part being read, while in_part_
  bool in_part_ = false;
  std::string& key_ = s_.key;            // a header name in lower case (processPartHeader)
  std::string& cd_value_ = s_.cd_value;  // a Content-Disposition parameter's value (parseContentDisposition)
  int mpp_state_ = 0;
  bool part_data_read_ = false;
  std::string& reserve_ = s_.reserve;
  uint32_t files_ = 0;
  std::vector<Field>& pending_args_ = s_.pending_args;
};

}  // namespace

Result parseMultipart(std::string_view body, std::string_view content_type, const Limits& limits) {
  Result result;
  parseMultipart(body, content_type, limits, result);
  return result;
}

void parseMultipart(std::string_view body, std::string_view content_type, const Limits& limits, Result& out) {
  out.reset();
  thread_local Scratch scratch;
  MultipartParser parser(out, limits, scratch);
  parser.run(body, content_type);
}

}  // namespace rampart::waf::body
