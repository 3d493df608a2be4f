// A Result parsed into again and again (the engine's, one per transaction
// workspace) holds exactly what a fresh one would, whatever it held before.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "waf/body/body.h"

namespace rampart::waf::body {
namespace {

// Everything a Result says, as text: two Results are the same when these are.
std::string describe(const Result& r) {
  std::string out = "error=" + std::to_string(r.error) + " msg=" + r.error_msg +
                    " urlencoded_error=" + std::to_string(r.urlencoded_error) + " xml=" + std::to_string(bool(r.xml_doc));
  for (const auto& f : r.args) out += "\narg " + f.name + "=" + f.value;
  for (const auto& f : r.files)
    out += "\nfile " + f.field_name + " " + f.filename + " " + f.content_type + " " + std::to_string(f.size);
  for (const auto& f : r.part_headers) out += "\npart_header " + f.name + "=" + f.value;
  for (const auto& s : r.multipart_names) out += "\nname " + s;
  for (const auto& s : r.multipart_filenames) out += "\nfilename " + s;
  const MultipartFlags& m = r.multipart;
  for (int flag : {m.strict_error, m.boundary_quoted, m.boundary_whitespace, m.data_before, m.data_after,
                   m.header_folding, m.lf_line, m.crlf_lf_lines, m.missing_semicolon, m.invalid_quoting,
                   m.invalid_part, m.invalid_header_folding, m.file_limit_exceeded, m.unmatched_boundary,
                   m.part_headers_error, m.crlf_line, m.error})
    out += " " + std::to_string(flag);
  return out;
}

struct Body {
  std::string what;
  std::function<void(Result&)> into;  // parses into the Result it is handed
  std::function<Result()> fresh;      // the same, into a new one
};

std::vector<Body> bodies() {
  const std::string ct = "multipart/form-data; boundary=XyZ";
  const std::string long_value(300, 'v');
  const std::string mp_files =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a_field_name_longer_than_sixteen\"\r\n\r\n" + long_value +
      "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a-rather-long-file-name.csv\"\r\n"
      "Content-Type: text/csv; charset=utf-8\r\n\r\nx,y\r\n1,2\r\n"
      "--XyZ\r\nContent-Disposition: form-data;\r\n name=\"folded\"\r\n\r\nshort\r\n--XyZ--\r\n";
  const std::string mp_one = "--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nb\r\n--XyZ--\r\n";
  const std::string mp_bad = "--XyZ\r\nContent-Disposition: form-data; name=\"c\"\r\nX-A: 1\r\nx-a: 2\r\n\r\nc\r\n--XyZ--\r\n";
  const std::string mp_lf = "data before\n--XyZ\nContent-Disposition: form-data; name='q'\n\nvalue\n--XyZ--\nafter";
  std::string json_nested = R"({"user":{"name":"a name longer than sixteen bytes","roles":["admin","editor"],)"
                            R"("address":{"street":"151 Papa Street, apartment 12","zip":14293}},"active":true,"n":null})";
  Limits two_args;
  two_args.max_args = 2;
  Limits v3;
  v3.json_v3_naming = true;
  Limits one_file;
  one_file.max_files = 1;
  auto mp = [&](std::string what, std::string body, std::string type, Limits l = {}) {
    return Body{what, [=](Result& r) { parseMultipart(body, type, l, r); },
                [=] { return parseMultipart(body, type, l); }};
  };
  auto json = [&](std::string what, std::string body, Limits l = {}) {
    return Body{what, [=](Result& r) { parseJson(body, l, r); }, [=] { return parseJson(body, l); }};
  };
  auto xml = [&](std::string what, std::string body) {
    return Body{what, [=](Result& r) { parseXml(body, {}, r); }, [=] { return parseXml(body, {}); }};
  };
  return {mp("multipart with a file", mp_files, ct),
          json("nested JSON", json_nested),
          mp("multipart, one short field", mp_one, ct),
          json("JSON over the argument limit", json_nested, two_args),
          mp("multipart, duplicate header", mp_bad, ct),
          json("JSON, v3 names", json_nested, v3),
          mp("multipart over the argument limit", mp_files, ct, two_args),
          mp("multipart, one file allowed", mp_files, ct, one_file),
          json("JSON syntax error", R"({"a":"a value longer than sixteen","b":tru})"),
          mp("multipart, LF lines and data around", mp_lf, ct),
          mp("multipart, quoted boundary", mp_one, "multipart/form-data; boundary=\"XyZ\""),
          xml("XML", "<a x='a long attribute value'><b>text</b></a>"),
          json("empty JSON", ""),
          mp("multipart, bad Content-Type", mp_one, "multipart/form-data boundary=XyZ"),
          json("top-level array", R"([1,"a string value over sixteen bytes",[2]])")};
}

TEST(ResultReuse, ParsedIntoAgainHoldsWhatAFreshOneDoes) {
  const auto all = bodies();
  // What each gives parsed first on a thread of its own: the processors keep
  // per-thread state (their buffers), which must not carry anything over either.
  std::vector<std::string> want(all.size());
  for (size_t i = 0; i < all.size(); ++i) std::thread([&] { want[i] = describe(all[i].fresh()); }).join();
  Result reused;
  // Each body after every other (and after itself): what the one before left
  // must not show.
  for (size_t i = 0; i < all.size(); ++i)
    for (size_t j = 0; j < all.size(); ++j) {
      all[i].into(reused);
      all[j].into(reused);
      EXPECT_EQ(describe(reused), want[j]) << all[j].what << " after " << all[i].what;
    }
  EXPECT_GT(reused.spareCount(), 0u);  // the strings of the one before were kept for the next
}

// The buffers of a Result's strings over the short-string size.
std::vector<const char*> longBuffers(const Result& r) {
  std::vector<const char*> out;
  auto add = [&](const std::string& s) {
    if (s.capacity() > std::string().capacity()) out.push_back(s.data());
  };
  for (const auto& f : r.args) add(f.name), add(f.value);
  for (const auto& f : r.files) add(f.field_name), add(f.filename), add(f.content_type);
  for (const auto& f : r.part_headers) add(f.name), add(f.value);
  for (const auto& s : r.multipart_names) add(s);
  for (const auto& s : r.multipart_filenames) add(s);
  std::sort(out.begin(), out.end());
  return out;
}

// A body like the one before (here the same) takes every string's buffer
// from the ones that one left: no allocation for its values.
TEST(ResultReuse, TheSameBodyAgainTakesTheSameBuffers) {
  for (const auto& b : bodies()) {
    Result r;
    b.into(r);
    const auto first = longBuffers(r);
    b.into(r);
    EXPECT_EQ(longBuffers(r), first) << b.what;
    b.into(r);
    EXPECT_EQ(longBuffers(r), first) << b.what;
  }
}

TEST(ResultReuse, TakeKeepsBuffersAndResetEmpties) {
  Result r;
  parseJson(R"({"a":"a value longer than sixteen bytes","b":"another value longer than sixteen"})", {}, r);
  ASSERT_EQ(r.args.size(), 2u);
  const std::vector<const char*> buffers = longBuffers(r);
  ASSERT_EQ(buffers.size(), 2u);
  r.reset();
  EXPECT_TRUE(r.args.empty());
  EXPECT_EQ(r.spareCount(), 2u);
  // Strings of the same size class (32-63 bytes) taken after reset() are the kept ones.
  const std::string s = r.take("a string of more than thirty-two bytes"), t = r.take(std::string(63, 'x'));
  EXPECT_EQ(s, "a string of more than thirty-two bytes");
  EXPECT_EQ(t, std::string(63, 'x'));
  EXPECT_TRUE(std::binary_search(buffers.begin(), buffers.end(), s.data()));
  EXPECT_TRUE(std::binary_search(buffers.begin(), buffers.end(), t.data()));
  EXPECT_EQ(r.spareCount(), 0u);
  // Another class's string is a new one; short ones are never kept.
  const std::string u = r.take(std::string(64, 'y'));
  EXPECT_FALSE(std::binary_search(buffers.begin(), buffers.end(), u.data()));
  EXPECT_GE(u.capacity(), 127u);  // its class's whole size: any value of the class fits it later
}

}  // namespace
}  // namespace rampart::waf::body
