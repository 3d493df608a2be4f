// MULTIPART processor: ModSecurity v2 msc_multipart.c behaviour, flag by flag.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "waf/body/body.h"

namespace rampart::waf::body {
namespace {

constexpr const char* kCT = "multipart/form-data; boundary=XyZ";

using Args = std::vector<std::pair<std::string, std::string>>;

Args args(const Result& r) {
  Args out;
  for (const auto& f : r.args) out.emplace_back(f.name, f.value);
  return out;
}

// Joins lines with CRLF (each line gets one).
std::string crlf(std::initializer_list<std::string> lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\r\n";
  return out;
}
std::string lf(std::initializer_list<std::string> lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string simpleBody() {
  return crlf({"--XyZ", "Content-Disposition: form-data; name=\"a\"", "", "hello", "--XyZ",
               "Content-Disposition: form-data; name=\"f\"; filename=\"x.txt\"", "Content-Type: text/plain",
               "", "file data", "line2", "--XyZ--"});
}

void expectNoFlags(const MultipartFlags& f) {
  EXPECT_EQ(f.strict_error, 0);
  EXPECT_EQ(f.boundary_quoted, 0);
  EXPECT_EQ(f.boundary_whitespace, 0);
  EXPECT_EQ(f.data_before, 0);
  EXPECT_EQ(f.data_after, 0);
  EXPECT_EQ(f.header_folding, 0);
  EXPECT_EQ(f.lf_line, 0);
  EXPECT_EQ(f.crlf_lf_lines, 0);
  EXPECT_EQ(f.missing_semicolon, 0);
  EXPECT_EQ(f.invalid_quoting, 0);
  EXPECT_EQ(f.invalid_part, 0);
  EXPECT_EQ(f.invalid_header_folding, 0);
  EXPECT_EQ(f.file_limit_exceeded, 0);
  EXPECT_EQ(f.unmatched_boundary, 0);
  EXPECT_EQ(f.error, 0);
}

TEST(Multipart, CleanRequest) {
  Result r = parseMultipart(simpleBody(), kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  expectNoFlags(r.multipart);
  EXPECT_EQ(r.multipart.crlf_line, 1);
  EXPECT_EQ(args(r), (Args{{"a", "hello"}}));
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].field_name, "f");
  EXPECT_EQ(r.files[0].filename, "x.txt");
  EXPECT_EQ(r.files[0].content_type, "text/plain");
  EXPECT_EQ(r.files[0].size, std::string("file data\r\nline2").size());
}

TEST(Multipart, PartHeadersCollected) {
  Result r = parseMultipart(simpleBody(), kCT, {});
  ASSERT_EQ(r.part_headers.size(), 3u);
  EXPECT_EQ(r.part_headers[0].name, "a");
  EXPECT_EQ(r.part_headers[0].value, "Content-Disposition: form-data; name=\"a\"");
  EXPECT_EQ(r.part_headers[1].name, "f");
  EXPECT_EQ(r.part_headers[2].name, "f");
  EXPECT_EQ(r.part_headers[2].value, "Content-Type: text/plain");
}

TEST(Multipart, NamesAndFilenamesRecorded) {
  Result r = parseMultipart(simpleBody(), kCT, {});
  EXPECT_EQ(r.multipart_names, (std::vector<std::string>{"a", "f"}));
  EXPECT_EQ(r.multipart_filenames, (std::vector<std::string>{"x.txt"}));
}

TEST(Multipart, ValueKeepsInnerLineBreaksDropsLastOne) {
  std::string body =
      crlf({"--XyZ", "Content-Disposition: form-data; name=\"a\"", "", "l1", "", "l3", "--XyZ--"});
  EXPECT_EQ(args(parseMultipart(body, kCT, {})), (Args{{"a", "l1\r\n\r\nl3"}}));
}

TEST(Multipart, EmptyValue) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=\"a\"", "", "", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(args(r), (Args{{"a", ""}}));
}

TEST(Multipart, EmptyFileSizeZero) {
  std::string body =
      crlf({"--XyZ", "Content-Disposition: form-data; name=\"f\"; filename=\"\"", "", "", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].filename, "");
  EXPECT_EQ(r.files[0].size, 0u);
}

TEST(Multipart, BinaryValueWithNul) {
  std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA";
  body.push_back('\0');
  body += "B\r\n--XyZ--\r\n";
  Result r = parseMultipart(body, kCT, {});
  ASSERT_EQ(r.args.size(), 1u);
  EXPECT_EQ(r.args[0].value, std::string("A\0B", 3));
}

TEST(Multipart, LfLinesSetLfFlagAndStrict) {
  std::string body = lf({"--XyZ", "Content-Disposition: form-data; name=\"a\"", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.lf_line, 1);
  EXPECT_EQ(r.multipart.crlf_line, 0);
  EXPECT_EQ(r.multipart.crlf_lf_lines, 0);
  EXPECT_EQ(r.multipart.strict_error, 1);
  EXPECT_EQ(args(r), (Args{{"a", "v"}}));
}

TEST(Multipart, MixedLinesSetCrlfLfLines) {
  std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\n\r\nv\r\n--XyZ--\r\n";
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.multipart.lf_line, 1);
  EXPECT_EQ(r.multipart.crlf_line, 1);
  EXPECT_EQ(r.multipart.crlf_lf_lines, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
}

TEST(Multipart, LfBeforeBoundaryInCrlfBodySetsLf) {
  // Value line ends in a bare LF, so the boundary follows an LF: v2 flags it.
  std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\n--XyZ--\r\n";
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.multipart.lf_line, 1);
  EXPECT_EQ(r.multipart.crlf_lf_lines, 1);
  EXPECT_EQ(args(r), (Args{{"a", "v"}}));
}

TEST(Multipart, FinalBoundaryWithoutLineBreak) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=\"a\"", "", "v"}) + "--XyZ--";
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.strict_error, 0);
  EXPECT_EQ(args(r), (Args{{"a", "v"}}));
}

TEST(Multipart, DataBefore) {
  std::string body = "preamble\r\n" + simpleBody();
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.multipart.data_before, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
  EXPECT_EQ(args(r), (Args{{"a", "hello"}}));
}

TEST(Multipart, EmptyLineBeforeFirstBoundaryIsDataBefore) {
  Result r = parseMultipart("\r\n" + simpleBody(), kCT, {});
  EXPECT_EQ(r.multipart.data_before, 1);
}

TEST(Multipart, DataAfter) {
  Result r = parseMultipart(simpleBody() + "epilogue", kCT, {});
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.multipart.data_after, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
  EXPECT_EQ(args(r), (Args{{"a", "hello"}}));
}

TEST(Multipart, NothingAfterFinalBoundaryIsClean) {
  EXPECT_EQ(parseMultipart(simpleBody(), kCT, {}).multipart.data_after, 0);
}

TEST(Multipart, BoundaryQuoted) {
  Result r = parseMultipart(simpleBody(), "multipart/form-data; boundary=\"XyZ\"", {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.boundary_quoted, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
  EXPECT_EQ(args(r), (Args{{"a", "hello"}}));
}

TEST(Multipart, QuotedBoundaryUsedWithQuotesInBodyIsError) {
  std::string body =
      crlf({"--\"XyZ\"", "Content-Disposition: form-data; name=\"a\"", "", "v", "--\"XyZ\"--"});
  Result r = parseMultipart(body, "multipart/form-data; boundary=\"XyZ\"", {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "Multipart: Invalid boundary (quotes).");
  EXPECT_EQ(r.multipart.error, 1);
}

TEST(Multipart, BoundaryWhitespaceAfterName) {
  Result r = parseMultipart(simpleBody(), "multipart/form-data; boundary =XyZ", {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.boundary_whitespace, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
}

TEST(Multipart, BoundaryWhitespaceBeforeValueStaysInBoundary) {
  // v2 keeps the space: the body's "--XyZ" no longer matches " XyZ".
  Result r = parseMultipart(simpleBody(), "multipart/form-data; boundary= XyZ", {});
  EXPECT_EQ(r.multipart.boundary_whitespace, 1);
  EXPECT_TRUE(r.error);
}

TEST(Multipart, WhitespaceBeforeBoundaryInBodyIsError) {
  std::string body = crlf({"-- XyZ", "Content-Disposition: form-data; name=\"a\"", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "Multipart: Invalid boundary (whitespace).");
}

TEST(Multipart, MissingSemicolon) {
  Result r = parseMultipart(simpleBody(), "multipart/form-data boundary=XyZ", {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.missing_semicolon, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
}

TEST(Multipart, MimeTypeCaseInsensitive) {
  Result r = parseMultipart(simpleBody(), "Multipart/Form-Data; boundary=XyZ", {});
  EXPECT_FALSE(r.error) << r.error_msg;
}

TEST(Multipart, ContentTypeErrors) {
  struct Case {
    const char* ct;
    const char* msg;
  } cases[] = {
      {"", "Multipart: Content-Type header not available."},
      {"text/plain; boundary=XyZ", "Multipart: Invalid MIME type."},
      {"multipart/form-data; boundary=XyZ; boundary=abc", "Multipart: Multiple boundary parameters in C-T."},
      {"multipart/form-data; BOUNDARY=XyZ", "Multipart: Invalid boundary in C-T (case sensitivity)."},
      {"multipart/form-data", "Multipart: Boundary not found in C-T."},
      {"multipart/form-data; charset=utf-8; boundary=XyZ", "Multipart: Invalid boundary in C-T (malformed)."},
      {"multipart/form-data;; boundary=XyZ", "Multipart: Invalid boundary in C-T (malformed)."},
      {"multipart/form-data; boundary", "Multipart: Invalid boundary in C-T (malformed)."},
      {"multipart/form-data; boundaryx=XyZ", "Multipart: Invalid boundary in C-T (parameter name)."},
      {"multipart/form-data; boundary=\"XyZ", "Multipart: Invalid boundary in C-T (quote)."},
      {"multipart/form-data; boundary=XyZ\"", "Multipart: Invalid boundary in C-T (quote)."},
      {"multipart/form-data; boundary=XyZ; charset=utf-8",
       "Multipart: Invalid boundary in C-T (characters)."},
      {"multipart/form-data; boundary=a<b", "Multipart: Invalid boundary in C-T (characters)."},
      {"multipart/form-data; boundary=XyZ ", "Multipart: Invalid boundary in C-T (characters)."},
      {"multipart/form-data; boundary=", "Multipart: Invalid boundary in C-T (empty)."},
      {"multipart/form-data; boundary=\"\"", "Multipart: Invalid boundary in C-T (empty)."},
  };
  for (const auto& c : cases) {
    Result r = parseMultipart(simpleBody(), c.ct, {});
    EXPECT_TRUE(r.error) << c.ct;
    EXPECT_EQ(r.error_msg, c.msg) << c.ct;
    EXPECT_EQ(r.multipart.error, 1) << c.ct;
    EXPECT_EQ(r.multipart.strict_error, 1) << c.ct;
    EXPECT_TRUE(r.args.empty()) << c.ct;
  }
}

TEST(Multipart, ContentTypeTooLong) {
  std::string ct = "multipart/form-data; boundary=" + std::string(1000, 'a');
  Result r = parseMultipart("", ct, {});
  EXPECT_EQ(r.error_msg, "Multipart: Invalid boundary in C-T (length).");
}

TEST(Multipart, BoundaryWithSpacesAndPunctuation) {
  const std::string b = "a b'()+_,-./:=?Z";
  std::string body =
      "--" + b + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--" + b + "--\r\n";
  Result r = parseMultipart(body, "multipart/form-data; boundary=\"" + b + "\"", {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(args(r), (Args{{"a", "v"}}));
}

TEST(Multipart, BoundaryContainingWordBoundaryIsError) {
  Result r = parseMultipart("", "multipart/form-data; boundary=xboundary=1", {});
  EXPECT_TRUE(r.error);
  // "boundary" twice followed by '=' -> counted as two parameters first.
  EXPECT_EQ(r.error_msg, "Multipart: Multiple boundary parameters in C-T.");
}

TEST(Multipart, HeaderFolding) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data;", " name=\"a\"", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.header_folding, 1);
  EXPECT_EQ(r.multipart.invalid_header_folding, 0);
  EXPECT_EQ(r.multipart.strict_error, 1);
  EXPECT_EQ(args(r), (Args{{"a", "v"}}));
  ASSERT_EQ(r.part_headers.size(), 1u);
  EXPECT_EQ(r.part_headers[0].value, "Content-Disposition: form-data; name=\"a\"");
}

TEST(Multipart, TabFoldingIsValid) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data;", "\tname=\"a\"", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.multipart.header_folding, 1);
  EXPECT_EQ(r.multipart.invalid_header_folding, 0);
}

TEST(Multipart, InvalidHeaderFolding) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data;", "\vname=\"a\"", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.header_folding, 1);
  EXPECT_EQ(r.multipart.invalid_header_folding, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
}

TEST(Multipart, FoldingWithoutHeaderIsError) {
  std::string body = crlf({"--XyZ", " name=\"a\"", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "Multipart: Invalid part header (folding error).");
}

TEST(Multipart, InvalidQuotingSingleQuotes) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name='a'", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.invalid_quoting, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
  EXPECT_EQ(args(r), (Args{{"a", "v"}}));
}

TEST(Multipart, SingleQuoteInsideUnquotedValueIsInvalidQuoting) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a'b", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.invalid_quoting, 1);
  EXPECT_EQ(args(r), (Args{{"a'b", "v"}}));
}

TEST(Multipart, SingleQuoteInsideDoubleQuotesIsFine) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=\"a'b\"", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.multipart.invalid_quoting, 0);
  EXPECT_EQ(args(r), (Args{{"a'b", "v"}}));
}

TEST(Multipart, QuoteBeforeMissingSemicolonIsInvalidQuotingAndError) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=\"a\"x", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.multipart.invalid_quoting, 1);
  EXPECT_NE(r.error_msg.find("Invalid Content-Disposition header (-12)"), std::string::npos) << r.error_msg;
}

TEST(Multipart, EscapesInQuotedValues) {
  std::string body =
      crlf({"--XyZ", R"(Content-Disposition: form-data; name="a\"b\\c\d"; filename="C:\dir\f.txt")", "", "v",
            "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].field_name, "a\"b\\c\\d");
  EXPECT_EQ(r.files[0].filename, "C:\\dir\\f.txt");
}

TEST(Multipart, ContentDispositionErrors) {
  struct Case {
    const char* cd;
    int rc;
  } cases[] = {
      {"attachment; name=\"a\"", -1},
      {"form-data name=\"a\"", -2},
      {"form-data; ", -3},
      {"form-data; name", -4},
      {"form-data; name x", -13},
      {"form-data; name=", -6},
      {"form-data; name=\"", -7},
      {"form-data; name=\"a\\", -8},
      {"form-data; name=\"abc", -10},
      {"form-data; foo=\"a\"", -11},
      {"form-data; name=a b", -12},
      {"form-data; name=\"a\"; name=\"b\"", -14},
      {"form-data; name=\"a\"; filename=\"b\"; filename=\"c\"", -15},
  };
  for (const auto& c : cases) {
    std::string body = crlf({"--XyZ", std::string("Content-Disposition: ") + c.cd, "", "v", "--XyZ--"});
    Result r = parseMultipart(body, kCT, {});
    EXPECT_TRUE(r.error) << c.cd;
    EXPECT_NE(r.error_msg.find("(" + std::to_string(c.rc) + ")"), std::string::npos)
        << c.cd << " -> " << r.error_msg;
    EXPECT_EQ(r.multipart.error, 1);
  }
}

TEST(Multipart, ContentDispositionWithoutNameIsError) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.error_msg, "Multipart: Content-Disposition header missing name field.");
}

TEST(Multipart, MissingContentDispositionIsError) {
  std::string body = crlf({"--XyZ", "Content-Type: text/plain", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.error_msg, "Multipart: Part missing Content-Disposition header.");
}

TEST(Multipart, HeaderNamesCaseInsensitive) {
  std::string body = crlf({"--XyZ", "content-disposition: form-data; name=a", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(args(r), (Args{{"a", "v"}}));
}

TEST(Multipart, DuplicateHeaderIsError) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a",
                           "CONTENT-DISPOSITION: form-data; name=b", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.error_msg, "Multipart: Duplicate part header: CONTENT-DISPOSITION.");
}

TEST(Multipart, HeaderWithoutColonIsError) {
  std::string body = crlf({"--XyZ", "Content-Disposition form-data; name=a", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.multipart.part_headers_error, 1);
  EXPECT_NE(r.error_msg.find("colon missing"), std::string::npos);
}

TEST(Multipart, HeaderNameErrors) {
  std::string b1 = crlf({"--XyZ", ": x", "", "v", "--XyZ--"});
  EXPECT_EQ(parseMultipart(b1, kCT, {}).error_msg, "Multipart: Invalid part header (header name missing).");
  std::string b2 = crlf({"--XyZ", "Content Disposition: form-data; name=a", "", "v", "--XyZ--"});
  EXPECT_EQ(parseMultipart(b2, kCT, {}).error_msg,
            "Multipart: Invalid part header (contains invalid character).");
  std::string b3 = crlf({"--XyZ", "X-\xc3\xa9: 1", "", "v", "--XyZ--"});
  EXPECT_EQ(parseMultipart(b3, kCT, {}).error_msg,
            "Multipart: Invalid part header (contains invalid character).");
}

TEST(Multipart, NulInPartHeadersIsError) {
  std::string body = "--XyZ\r\nContent-Disposition: form-data; name=a";
  body.push_back('\0');
  body += "\r\n\r\nv\r\n--XyZ--\r\n";
  EXPECT_EQ(parseMultipart(body, kCT, {}).error_msg, "Multipart: Nul byte in part headers.");
}

TEST(Multipart, FilenameWithoutLiteralFilenameEqualsIsError) {
  std::string body =
      crlf({"--XyZ", "Content-Disposition: form-data; name=a; filename =b", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.error_msg, "Multipart: Invalid Content-Disposition header (filename).");
}

TEST(Multipart, UnmatchedBoundaryLine) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a", "", "--XyA", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.unmatched_boundary, 1);
  EXPECT_EQ(r.multipart.strict_error, 0);  // not part of v2's strict error
  EXPECT_EQ(args(r), (Args{{"a", "--XyA"}}));
}

TEST(Multipart, BoundaryInsideDataLineIsUnmatched) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a", "", "x --XyZ y", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.multipart.unmatched_boundary, 1);
  EXPECT_EQ(args(r), (Args{{"a", "x --XyZ y"}}));
}

TEST(Multipart, BoundaryWithTrailingGarbageIsError) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a", "", "v", "--XyZ x", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "Multipart: Invalid boundary: --XyZ x");
}

TEST(Multipart, InvalidPartBoundaryWhereDataShouldStart) {
  // Headers end, and the next line is a boundary: v2 flags invalid_part and
  // takes the line as data.
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a", "", "--XyZ", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.multipart.invalid_part, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
  EXPECT_EQ(args(r), (Args{{"a", "--XyZ\r\nv"}}));
}

TEST(Multipart, BoundaryRightAfterBoundaryIsError) {
  std::string body = crlf({"--XyZ", "--XyZ", "Content-Disposition: form-data; name=a", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.multipart.invalid_part, 1);
}

TEST(Multipart, FinalBoundaryMissing) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a", "", "v"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "Multipart: Final boundary missing.");
  EXPECT_EQ(r.multipart.error, 0);  // v2 does not raise flag_error here
  EXPECT_EQ(r.multipart.strict_error, 0);
  EXPECT_EQ(r.multipart.part_headers_error, 0);
}

TEST(Multipart, NoBoundaryAtAll) {
  Result r = parseMultipart("just text\r\n", kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "Multipart: No boundaries found in payload.");
  EXPECT_EQ(r.multipart.data_before, 1);
}

TEST(Multipart, EmptyBodyIsNoError) {
  Result r = parseMultipart("", kCT, {});
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.multipart.strict_error, 0);
}

TEST(Multipart, FileLimitExceeded) {
  Limits limits;
  limits.max_files = 2;
  std::string body;
  for (int i = 0; i < 3; ++i) {
    body +=
        crlf({"--XyZ", "Content-Disposition: form-data; name=\"f" + std::to_string(i) + "\"; filename=\"x\"",
              "", "d"});
  }
  body += crlf({"--XyZ--"});
  Result r = parseMultipart(body, kCT, limits);
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.file_limit_exceeded, 1);
  EXPECT_EQ(r.multipart.strict_error, 1);
  EXPECT_EQ(r.files.size(), 3u);
}

TEST(Multipart, FileLimitNotExceededAtLimit) {
  Limits limits;
  limits.max_files = 1;
  std::string body =
      crlf({"--XyZ", "Content-Disposition: form-data; name=f; filename=x", "", "d", "--XyZ--"});
  EXPECT_EQ(parseMultipart(body, kCT, limits).multipart.file_limit_exceeded, 0);
}

TEST(Multipart, ArgumentsLimit) {
  Limits limits;
  limits.max_args = 1;
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a", "", "1", "--XyZ",
                           "Content-Disposition: form-data; name=b", "", "2", "--XyZ--"});
  Result r = parseMultipart(body, kCT, limits);
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "SecArgumentsLimit exceeded");
  EXPECT_EQ(args(r), (Args{{"a", "1"}}));
}

TEST(Multipart, PartsBeforeErrorAreKept) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a", "", "1", "--XyZ", "bad header",
                           "", "2", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(args(r), (Args{{"a", "1"}}));
}

TEST(Multipart, LongDataLinesSplitAt4096) {
  const std::string big(10000, 'x');
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a", "", big, "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(args(r), (Args{{"a", big}}));
}

TEST(Multipart, CrAtBufferEdgeIsPreserved) {
  std::string value(4095 - 0, 'y');  // the value's CR lands on the 4096th byte of a buffer
  std::string body =
      crlf({"--XyZ", "Content-Disposition: form-data; name=a", ""}) + value + "\r\n--XyZ--\r\n";
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  ASSERT_EQ(r.args.size(), 1u);
  EXPECT_EQ(r.args[0].value, value);
}

TEST(Multipart, BoundaryAfterLongLineIsNotABoundary) {
  // "--XyZ--" continuing a 4096+ byte line is not at a line start.
  std::string body =
      crlf({"--XyZ", "Content-Disposition: form-data; name=a", ""}) + std::string(4096, 'z') + "--XyZ--\r\n";
  Result r = parseMultipart(body, kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "Multipart: Final boundary missing.");
}

TEST(Multipart, HeaderLineTooLong) {
  std::string body = crlf({"--XyZ", "X-Long: " + std::string(5000, 'h'), "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_EQ(r.error_msg, "Multipart: Part header line over 4096 bytes long");
}

TEST(Multipart, FoldedHeaderTooLong) {
  std::string body = "--XyZ\r\nX-Long: a\r\n";
  for (int i = 0; i < 3; ++i) body += " " + std::string(2000, 'b') + "\r\n";
  body += crlf({"Content-Disposition: form-data; name=a", "", "v", "--XyZ--"});
  EXPECT_EQ(parseMultipart(body, kCT, {}).error_msg, "Multipart: Part header too long.");
}

TEST(Multipart, CrsCharsetHeadersVisible) {
  // 922110 reads MULTIPART_PART_HEADERS for each part's content-type.
  std::string body =
      lf({"------WebKitFormBoundary", "Content-Disposition: form-data; name=\"username\"",
          "Content-Type: text/plain; charset=utf-7", "", "+ADw-img+ACA-src+AD0-x+AD4-",
          "------WebKitFormBoundary", "Content-Disposition: form-data; name=\"dummy\"",
          "Content-Type: text/plain; charset=utf-8", "", "test", "------WebKitFormBoundary--"});
  Result r = parseMultipart(body, "multipart/form-data; boundary=----WebKitFormBoundary", {});
  EXPECT_FALSE(r.error) << r.error_msg;
  ASSERT_EQ(r.part_headers.size(), 4u);
  EXPECT_EQ(r.part_headers[1].name, "username");
  EXPECT_EQ(r.part_headers[1].value, "Content-Type: text/plain; charset=utf-7");
  EXPECT_EQ(r.part_headers[3].value, "Content-Type: text/plain; charset=utf-8");
  EXPECT_EQ(args(r), (Args{{"username", "+ADw-img+ACA-src+AD0-x+AD4-"}, {"dummy", "test"}}));
}

TEST(Multipart, CrsFilenameWithEquals) {
  // 920120 test 1: FILES / FILES_NAMES must carry the raw name and filename.
  std::string body =
      lf({"----------397236876", "Content-Disposition: form-data; name=\"fileRap\"; filename=\"file=.txt\"",
          "Content-Type: text/plain", "", "555-555-0199@example.com", "----------397236876--"});
  Result r = parseMultipart(body, "multipart/form-data; boundary=--------397236876", {});
  EXPECT_FALSE(r.error) << r.error_msg;
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].filename, "file=.txt");
  EXPECT_EQ(r.files[0].field_name, "fileRap");
}

TEST(Multipart, ManyPartsLinear) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += crlf({"--XyZ", "Content-Disposition: form-data; name=a", "", "v"});
  body += crlf({"--XyZ--"});
  Limits limits;
  limits.max_args = 10000;
  Result r = parseMultipart(body, kCT, limits);
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.args.size(), 5000u);
}

TEST(Multipart, ManyHeadersLinear) {
  std::string body = "--XyZ\r\n";
  for (int i = 0; i < 20000; ++i) body += "H" + std::to_string(i) + ": v\r\n";
  body += crlf({"Content-Disposition: form-data; name=a", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.part_headers.size(), 20001u);
}

}  // namespace
}  // namespace rampart::waf::body

namespace rampart::waf::body {
namespace {

TEST(MultipartQuirks, WordBoundaryInAnotherParameterCounts) {
  Result r = parseMultipart(simpleBody(), "multipart/form-data; x=boundary; boundary=XyZ", {});
  EXPECT_EQ(r.error_msg, "Multipart: Multiple boundary parameters in C-T.");
}

TEST(MultipartQuirks, WhitespaceOnlyFoldLineIsInvalidFolding) {
  // v2 skips every isspace() byte of a folded line, CR and LF included, and
  // flags the ones that are not SP/HTAB.
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a", " ", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(r.multipart.header_folding, 1);
  EXPECT_EQ(r.multipart.invalid_header_folding, 1);
  EXPECT_EQ(args(r), (Args{{"a", "v"}}));
}

TEST(MultipartQuirks, UnquotedValueStopsAtNonTokenChar) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a/b", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_TRUE(r.error);
  EXPECT_NE(r.error_msg.find("(-12)"), std::string::npos) << r.error_msg;
}

TEST(MultipartQuirks, LastSeenNameAndFilenameAvailableAsBack) {
  std::string body = crlf({"--XyZ", "Content-Disposition: form-data; name=a; filename=one", "", "1", "--XyZ",
                           "Content-Disposition: form-data; name=b; filename=two", "", "2", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  ASSERT_FALSE(r.multipart_names.empty());
  EXPECT_EQ(r.multipart_names.back(), "b");
  EXPECT_EQ(r.multipart_filenames.back(), "two");
  EXPECT_TRUE(r.args.empty());  // file parts are not args
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[1].size, 1u);
}

}  // namespace
}  // namespace rampart::waf::body

namespace rampart::waf::body {
namespace {

TEST(MultipartQuirks, MultipleFoldsJoinWithSpaces) {
  std::string body = crlf({"--XyZ", "X-A: a", " b", "\tc", "Content-Disposition: form-data;", " name=n", "", "v",
                           "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  ASSERT_EQ(r.part_headers.size(), 2u);
  EXPECT_EQ(r.part_headers[0].value, "X-A: a b c");
  EXPECT_EQ(r.part_headers[1].value, "Content-Disposition: form-data; name=n");
  EXPECT_EQ(args(r), (Args{{"n", "v"}}));
}

TEST(MultipartQuirks, ManyShortFoldsStayCheap) {
  std::string body = "--XyZ\r\n";
  for (int h = 0; h < 100; ++h) {
    body += "H" + std::to_string(h) + ": v\r\n";
    for (int i = 0; i < 1500; ++i) body += " x\r\n";
  }
  body += crlf({"Content-Disposition: form-data; name=a", "", "v", "--XyZ--"});
  Result r = parseMultipart(body, kCT, {});
  EXPECT_FALSE(r.error) << r.error_msg;
  ASSERT_EQ(r.part_headers.size(), 101u);
  EXPECT_EQ(r.part_headers[0].value.size(), std::string("H0: v").size() + 2 * 1500);
}

}  // namespace
}  // namespace rampart::waf::body
