// Tests of the head writer, chunk framing, reason phrases and header helpers;
// what the writer emits must parse back to the same head.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/http/headers.h"
#include "gateway/http/parser.h"
#include "gateway/http/writer.h"

namespace rampart::gateway::http {
namespace {

TEST(Writer, RequestHeadRoundTrips) {
  std::vector<Header> hs = {{"Host", "example.com"}, {"X-A", "1"}, {"Content-Length", "3"}};
  std::string out;
  appendRequestHead(out, "POST", "/x?y", hs);
  EXPECT_EQ(out, "POST /x?y HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nContent-Length: 3\r\n\r\n");
  RequestHead h;
  ParseError err;
  ASSERT_EQ(parseRequestHead(out, Limits{}, h, err), ParseStatus::Done);
  EXPECT_EQ(h.content_length, 3u);
  EXPECT_EQ(h.headers.size(), 3u);
}

TEST(Writer, ResponseHeadUsesReasonTable) {
  std::string out;
  appendResponseHead(out, 404, {}, std::vector<Header>{{"Content-Length", "0"}});
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  appendStatusLine(out, 299);
  EXPECT_EQ(out, "HTTP/1.1 299 Unknown\r\n");
  out.clear();
  appendStatusLine(out, 200, "Fine");
  EXPECT_EQ(out, "HTTP/1.1 200 Fine\r\n");
}

TEST(Writer, SkipsHopByHopAndConnectionNamedFields) {
  std::vector<Header> hs = {{"Host", "a"},         {"Connection", "keep-alive, X-Secret"}, {"X-Secret", "s"},
                            {"Keep-Alive", "t=5"}, {"Transfer-Encoding", "chunked"},        {"TE", "trailers"},
                            {"X-Kept", "k"}};
  std::string out;
  appendHeaders(out, hs, true);
  EXPECT_EQ(out, "Host: a\r\nX-Kept: k\r\n");
}

// Lines of a parsed head as received, runs of neighbouring lines copied whole: a
// field left out splits the run, a field's OWS stays as it came.
TEST(Writer, ReceivedLinesCopyTheParsedLinesAsTheyCame) {
  const std::string raw =
      "GET / HTTP/1.1\r\nHost: a\r\nX-One:1\r\nX-Two:  two  \t\r\nX-Drop: d\r\nX-Three: 3\r\nX-Empty:\r\n\r\n";
  RequestHead h;
  ParseError err;
  ASSERT_EQ(parseRequestHead(raw, Limits{}, h, err), ParseStatus::Done);
  std::string out = "GET /up HTTP/1.1\r\n";
  ReceivedLines lines(out);
  for (const auto& f : h.headers)
    if (f.name != "X-Drop") lines.add(f);
  lines.flush();
  out += "Via: 1.1 x\r\n";
  EXPECT_EQ(out, "GET /up HTTP/1.1\r\nHost: a\r\nX-One:1\r\nX-Two:  two  \t\r\nX-Three: 3\r\nX-Empty:\r\nVia: 1.1 x\r\n");
  RequestHead again;
  ASSERT_EQ(parseRequestHead(out + "\r\n", Limits{}, again, err), ParseStatus::Done);
  ASSERT_EQ(again.headers.size(), 6u);
  EXPECT_EQ(again.headers[2].value, "two");
  EXPECT_EQ(again.headers[4].value, "");
  std::string none;
  ReceivedLines empty(none);
  empty.flush();
  EXPECT_EQ(none, "");
}

TEST(Writer, ChunkFraming) {
  std::string out;
  appendChunkHeader(out, 0);
  appendChunkHeader(out, 255);
  appendChunkHeader(out, 0x1234abcdull);
  EXPECT_EQ(out, "0\r\nff\r\n1234abcd\r\n");
  out.clear();
  appendChunk(out, "hello");
  appendChunk(out, "");
  appendChunk(out, std::string(17, 'x'));
  appendLastChunk(out);
  // decodes back
  ChunkedDecoder dec(Limits{});
  ParseError err;
  std::string body;
  std::string_view in = out;
  for (;;) {
    auto st = dec.feed(in, err);
    ASSERT_NE(st.status, ParseStatus::Error) << err.reason;
    body.append(st.data);
    in.remove_prefix(st.consumed);
    if (st.status == ParseStatus::Done) break;
  }
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(body, "hello" + std::string(17, 'x'));
}

TEST(Writer, ReasonPhrases) {
  EXPECT_EQ(reasonPhrase(200), "OK");
  EXPECT_EQ(reasonPhrase(413), "Content Too Large");
  EXPECT_EQ(reasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reasonPhrase(502), "Bad Gateway");
  EXPECT_EQ(reasonPhrase(799), "");
}

TEST(Helpers, Iequals) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_FALSE(iequals("Content-Length", "content-lengt"));
  EXPECT_FALSE(iequals("a", "b"));
  // Only letters fold: bytes 0x20 apart that are not letters differ.
  EXPECT_FALSE(iequals("x-a", std::string_view("x\ra", 3)));
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_TRUE(iequals("aZ09-_", "Az09-_"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("\xc3", "\xe3"));  // no case folding beyond ASCII
}

TEST(Helpers, Tokens) {
  EXPECT_TRUE(isToken("chunked"));
  EXPECT_TRUE(isToken("!#$%&'*+-.^_`|~09azAZ"));
  EXPECT_FALSE(isToken(""));
  EXPECT_FALSE(isToken("a b"));
  EXPECT_FALSE(isToken("a:b"));
  EXPECT_FALSE(isToken("\"a\""));
  EXPECT_TRUE(isValidFieldValue("text/html; q=0.9\t\x80"));
  EXPECT_FALSE(isValidFieldValue("a\r\nX-Injected: 1"));
  EXPECT_FALSE(isValidFieldValue(std::string_view("a\0b", 3)));
}

TEST(Helpers, ListIteration) {
  std::vector<std::string_view> got;
  forEachListElement(" a ,b,, \tc\t,", [&](std::string_view e) {
    got.push_back(e);
    return true;
  });
  EXPECT_EQ(got, (std::vector<std::string_view>{"a", "b", "c"}));
  got.clear();
  EXPECT_FALSE(forEachListElement("a,b,c", [&](std::string_view e) {
    got.push_back(e);
    return e != "b";
  }));
  EXPECT_EQ(got.size(), 2u);
  EXPECT_TRUE(listHasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_FALSE(listHasToken("keep-alive, Upgraded", "upgrade"));
}

TEST(Helpers, HopByHop) {
  for (auto n : {"Connection", "keep-alive", "Proxy-Connection", "te", "Transfer-Encoding", "Upgrade", "Trailer",
                 "Proxy-Authenticate", "Proxy-Authorization"})
    EXPECT_TRUE(isHopByHop(n)) << n;
  for (auto n : {"Host", "Content-Length", "Cookie", "Tea", "Trailers-X"}) EXPECT_FALSE(isHopByHop(n)) << n;
  std::vector<Header> hs = {{"Connection", "close, X-Foo"}};
  EXPECT_TRUE(HopByHop(hs).drops("x-foo"));
  EXPECT_TRUE(HopByHop(hs).drops("X-FOO"));
  EXPECT_TRUE(HopByHop(hs).drops("Keep-Alive"));  // the fixed list, named or not
  EXPECT_FALSE(HopByHop(hs).drops("x-bar"));
  EXPECT_FALSE(HopByHop({}).drops("x-foo"));
  // Every Connection header counts, also past the four kept aside.
  const std::vector<std::string> names = {"x-0", "x-1", "x-2", "x-3", "x-4", "x-5"};
  std::vector<Header> many;
  for (const auto& n : names) many.push_back({"connection", n});
  many.push_back({"X-9", "v"});
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(HopByHop(many).drops("X-" + std::to_string(i))) << i;
  EXPECT_FALSE(HopByHop(many).drops("x-9"));
  many.resize(3);
  EXPECT_TRUE(HopByHop(many).drops("x-2"));
  EXPECT_FALSE(HopByHop(many).drops("x-3"));
  // Connection cannot strip routing and framing fields.
  std::vector<Header> abuse = {{"Connection", "close, Host, Content-Length"}, {"Host", "a"}, {"Content-Length", "1"}};
  EXPECT_FALSE(HopByHop(abuse).drops("host"));
  EXPECT_FALSE(HopByHop(abuse).drops("Content-Length"));
  std::string out;
  appendHeaders(out, abuse, true);
  EXPECT_EQ(out, "Host: a\r\nContent-Length: 1\r\n");
}

TEST(Helpers, HostValidation) {
  for (auto h : {"", "example.com", "example.com:80", "a-b.c_d~e", "[::1]", "[::1]:443", "127.0.0.1:8080", "x%41y",
                 "host:"})
    EXPECT_TRUE(isValidHost(h)) << h;
  for (auto h : {"a b", "a@b", "a,b", "a/b", ":80", "[::1", "[]", "a:b", "a%4", "[::1]x", "a\\b"})
    EXPECT_FALSE(isValidHost(h)) << h;
}

}  // namespace
}  // namespace rampart::gateway::http
