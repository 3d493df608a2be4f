// Table-driven tests of the strict chunked decoder: valid bodies, smuggling-prone
// chunk lines ("0x5", "5 ;ext", "-5", long sizes, bare LF), extensions, trailers and
// limits. Each case is also decoded one byte per feed() and must give the same result.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/http/parser.h"

namespace rampart::gateway::http {
namespace {

using namespace std::string_literals;

constexpr int kDone = 0;
constexpr int kNeedMore = -1;

struct ChunkCase {
  ChunkCase(const char* n, std::string r, int e, std::string b = {}, size_t t = 0)
      : name(n), raw(std::move(r)), expect(e), body(std::move(b)), tail(t) {}
  const char* name;
  std::string raw;
  int expect;        // kDone, kNeedMore or error status
  std::string body;  // decoded body when kDone (or so far when kNeedMore)
  size_t tail = 0;   // bytes after the end of the message (pipelined), when kDone
};
void PrintTo(const ChunkCase& c, std::ostream* os) { *os << c.name; }

Limits testLimits() {
  Limits l;
  l.max_chunk_ext = 32;
  l.max_trailer_bytes = 64;
  l.max_headers = 4;
  l.max_body = 1 << 20;
  return l;
}

struct Outcome {
  int verdict = kNeedMore;
  std::string body;
  size_t consumed = 0;
  const char* reason = "";
};

// Feeds `raw` in pieces of `piece` bytes (0 = whole) and collects the outcome.
Outcome decode(const std::string& raw, size_t piece, const Limits& lim = testLimits()) {
  ChunkedDecoder dec(lim);
  Outcome o;
  ParseError err;
  size_t off = 0;
  while (off < raw.size()) {
    const size_t len = piece == 0 ? raw.size() - off : std::min(piece, raw.size() - off);
    std::string_view in(raw.data() + off, len);
    while (true) {
      auto st = dec.feed(in, err);
      EXPECT_LE(st.consumed, in.size());
      if (!st.data.empty()) {
        EXPECT_GE(st.data.data(), in.data());
        EXPECT_LE(st.data.data() + st.data.size(), in.data() + in.size());
      }
      o.body.append(st.data);
      o.consumed += st.consumed;
      in.remove_prefix(st.consumed);
      if (st.status == ParseStatus::Error) {
        o.verdict = err.status;
        o.reason = err.reason;
        return o;
      }
      if (st.status == ParseStatus::Done) {
        o.verdict = kDone;
        EXPECT_TRUE(dec.done());
        EXPECT_EQ(dec.bodyBytes(), o.body.size());
        return o;
      }
      if (in.empty()) break;
    }
    off += len;
  }
  return o;
}

std::vector<ChunkCase> cases() {
  return {
      {"single_chunk", "5\r\nhello\r\n0\r\n\r\n", kDone, "hello"},
      {"two_chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", kDone, "hello world"},
      {"empty_body", "0\r\n\r\n", kDone, ""},
      {"uppercase_hex", "A\r\n0123456789\r\n0\r\n\r\n", kDone, "0123456789"},
      {"lowercase_hex", "a\r\n0123456789\r\n0\r\n\r\n", kDone, "0123456789"},
      {"leading_zeros", "0005\r\nhello\r\n000\r\n\r\n", kDone, "hello"},
      {"binary_data_with_crlf_inside", "4\r\n\r\n\0\n\r\n0\r\n\r\n"s, kDone, "\r\n\0\n"s},
      {"pipelined_tail", "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", kDone, "abc", 16},
      {"ext_name_only", "5;foo\r\nhello\r\n0\r\n\r\n", kDone, "hello"},
      {"ext_token_value", "5;foo=bar\r\nhello\r\n0;last=1\r\n\r\n", kDone, "hello"},
      {"ext_quoted_value", "5;foo=\"a b;c\"\r\nhello\r\n0\r\n\r\n", kDone, "hello"},
      {"ext_quoted_escape", "5;foo=\"a\\\"b\"\r\nhello\r\n0\r\n\r\n", kDone, "hello"},
      {"ext_several", "5;a;b=c;d=\"e\"\r\nhello\r\n0\r\n\r\n", kDone, "hello"},
      {"trailer_field", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n", kDone, "hello"},
      {"two_trailers", "0\r\nA: 1\r\nB:2\r\n\r\n", kDone, ""},
      {"trailer_empty_value", "0\r\nA:\r\n\r\n", kDone, ""},
      {"max_16_digits_ok_prefix", "000000000000000F\r\n", kNeedMore, ""},
      {"partial_data", "5\r\nhel", kNeedMore, "hel"},
      {"partial_after_data", "5\r\nhello\r", kNeedMore, "hello"},
      {"partial_last_chunk", "0\r\n", kNeedMore, ""},
      {"partial_trailer", "0\r\nX: y\r\n", kNeedMore, ""},
      // --- chunk size
      {"hex_prefix_0x", "0x5\r\nhello\r\n0\r\n\r\n", 400},
      {"space_before_ext", "5 ;ext\r\nhello\r\n0\r\n\r\n", 400},
      {"space_after_semicolon", "5; ext\r\nhello\r\n0\r\n\r\n", 400},
      {"space_around_equals", "5;a = b\r\nhello\r\n0\r\n\r\n", 400},
      {"trailing_space", "5 \r\nhello\r\n0\r\n\r\n", 400},
      {"trailing_tab", "5\t\r\nhello\r\n0\r\n\r\n", 400},
      {"leading_space", " 5\r\nhello\r\n0\r\n\r\n", 400},
      {"negative", "-5\r\nhello\r\n0\r\n\r\n", 400},
      {"plus_sign", "+5\r\nhello\r\n0\r\n\r\n", 400},
      {"non_hex", "g\r\nhello\r\n0\r\n\r\n", 400},
      {"empty_size", "\r\nhello\r\n0\r\n\r\n", 400},
      {"seventeen_digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", 400},
      {"huge_size", "ffffffffffffffffff\r\n", 400},
      {"size_over_max_body_413", "100001\r\n", 413},
      {"sum_over_max_body_413", "80000\r\n" + std::string(0x80000, 'a') + "\r\n80001\r\n", 413},
      {"size_bare_lf", "5\nhello\r\n0\r\n\r\n", 400},
      {"size_bare_cr", "5\rhello\r\n0\r\n\r\n", 400},
      {"size_then_garbage", "5x\r\nhello\r\n0\r\n\r\n", 400},
      {"size_nul", "5\0\r\nhello\r\n0\r\n\r\n"s, 400},
      {"last_chunk_0x0", "0x0\r\n\r\n", 400},
      // --- after data
      {"data_too_long", "5\r\nhelloX\r\n0\r\n\r\n", 400},
      {"data_bare_lf", "5\r\nhello\n0\r\n\r\n", 400},
      {"data_cr_cr", "5\r\nhello\r\r\n0\r\n\r\n", 400},
      {"data_missing_crlf_before_next_size", "5\r\nhello5\r\nhello\r\n0\r\n\r\n", 400},
      // --- extensions
      {"ext_empty_name", "5;\r\nhello\r\n0\r\n\r\n", 400},
      {"ext_equals_no_name", "5;=v\r\nhello\r\n0\r\n\r\n", 400},
      {"ext_empty_value", "5;a=\r\nhello\r\n0\r\n\r\n", 400},
      {"ext_unterminated_quote", "5;a=\"x\r\nhello\r\n0\r\n\r\n", 400},
      {"ext_bad_char", "5;a@b\r\nhello\r\n0\r\n\r\n", 400},
      {"ext_ctl_in_quote", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", 400},
      {"ext_after_quote_garbage", "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", 400},
      {"ext_bare_lf", "5;a\nhello\r\n0\r\n\r\n", 400},
      {"ext_too_long", "5;" + std::string(40, 'e') + "\r\nhello\r\n0\r\n\r\n", 400},
      {"ext_exactly_limit", "5;" + std::string(31, 'e') + "\r\nhello\r\n0\r\n\r\n", kDone, "hello"},
      // --- trailers and end
      {"final_bare_lf", "0\r\n\n", 400},
      {"final_cr_garbage", "0\r\n\rX", 400},
      {"trailer_obs_fold", "0\r\nA: 1\r\n 2\r\n\r\n", 400},
      {"trailer_space_before_colon", "0\r\nA : 1\r\n\r\n", 400},
      {"trailer_nul", "0\r\nA: \0\r\n\r\n"s, 400},
      {"trailer_bare_lf", "0\r\nA: 1\n\r\n", 400},
      {"trailer_bare_cr", "0\r\nA: 1\rB\r\n\r\n", 400},
      {"trailer_no_colon", "0\r\nA\r\n\r\n", 400},
      {"trailer_bad_name", "0\r\n(A): 1\r\n\r\n", 400},
      {"trailer_too_large_431", "0\r\nA: " + std::string(80, 'x') + "\r\n\r\n", 431},
      {"too_many_trailers_431", "0\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n", 431},
  };
}

class ChunkCases : public ::testing::TestWithParam<ChunkCase> {};

TEST_P(ChunkCases, Whole) {
  const ChunkCase& c = GetParam();
  Outcome o = decode(c.raw, 0);
  ASSERT_EQ(o.verdict, c.expect) << c.name << ": " << o.reason;
  if (c.expect == kDone || c.expect == kNeedMore) {
    EXPECT_EQ(o.body, c.body);
  }
  if (c.expect == kDone) {
    EXPECT_EQ(o.consumed, c.raw.size() - c.tail);
  }
}

TEST_P(ChunkCases, OneByteAtATimeAgrees) {
  const ChunkCase& c = GetParam();
  Outcome whole = decode(c.raw, 0);
  Outcome bytes = decode(c.raw, 1);
  EXPECT_EQ(bytes.verdict, whole.verdict) << c.name;
  EXPECT_STREQ(bytes.reason, whole.reason) << c.name;
  EXPECT_EQ(bytes.body, whole.body);
  EXPECT_EQ(bytes.consumed, whole.consumed);
  Outcome sevens = decode(c.raw, 7);
  EXPECT_EQ(sevens.verdict, whole.verdict) << c.name;
  EXPECT_EQ(sevens.body, whole.body);
}

INSTANTIATE_TEST_SUITE_P(Table, ChunkCases, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ChunkCase>& i) { return std::string(i.param.name); });

TEST(ChunkedDecoder, DataSlicesPointIntoTheInput) {
  const std::string raw = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  ChunkedDecoder dec(testLimits());
  ParseError err;
  auto s1 = dec.feed(raw, err);
  EXPECT_EQ(s1.status, ParseStatus::NeedMore);
  EXPECT_EQ(s1.data, "abc");
  EXPECT_EQ(s1.data.data(), raw.data() + 3);
  EXPECT_EQ(s1.consumed, 6u);
  auto s2 = dec.feed(std::string_view(raw).substr(6), err);
  EXPECT_EQ(s2.data, "de");
  EXPECT_EQ(s2.data.data(), raw.data() + 11);
  auto s3 = dec.feed(std::string_view(raw).substr(6 + s2.consumed), err);
  EXPECT_EQ(s3.status, ParseStatus::Done);
  EXPECT_TRUE(s3.data.empty());
  EXPECT_EQ(6 + s2.consumed + s3.consumed, raw.size());
  EXPECT_EQ(dec.bodyBytes(), 5u);
}

TEST(ChunkedDecoder, StaysFailedUntilReset) {
  ChunkedDecoder dec(testLimits());
  ParseError err;
  EXPECT_EQ(dec.feed("-1\r\n", err).status, ParseStatus::Error);
  EXPECT_EQ(dec.feed("0\r\n\r\n", err).status, ParseStatus::Error);
  dec.reset();
  EXPECT_EQ(dec.feed("0\r\n\r\n", err).status, ParseStatus::Done);
  EXPECT_TRUE(dec.done());
  // After Done, further feeds consume nothing.
  auto st = dec.feed("GET", err);
  EXPECT_EQ(st.status, ParseStatus::Done);
  EXPECT_EQ(st.consumed, 0u);
}

TEST(ChunkedDecoder, UnlimitedBodyAllowsSixteenDigitSizes) {
  Limits lim = testLimits();
  lim.max_body = 0;
  ChunkedDecoder dec(lim);
  ParseError err;
  auto st = dec.feed("ffffffffffffffff\r\nab", err);
  EXPECT_EQ(st.status, ParseStatus::NeedMore);
  EXPECT_EQ(st.data, "ab");
}

}  // namespace
}  // namespace rampart::gateway::http
