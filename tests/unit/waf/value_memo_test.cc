// The value memo (waf/match/value_memo.h): SipHash against the reference
// vectors, and through the engine: a value a scan group or a rule link found
// nothing in is passed over in later requests, and nothing else is.
#include "waf/match/value_memo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "rules/parser.h"
#include "tests/unit/waf/harness.h"
#include "waf/match/siphash.h"

namespace rampart::waf {
namespace {

using match::ValueMemo;
using testing::compileRules;
using testing::compileRulesWith;
using testing::formPost;
using testing::Request;
using testing::run;

// vectors_sip128 of the SipHash reference implementation: key 00..0f, message 00..len-1.
TEST(SipHash, ReferenceVectors128) {
  const std::array<std::pair<size_t, std::array<uint8_t, 16>>, 7> vectors{{
      {0, {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93}},
      {1, {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45}},
      {7, {0xa1, 0xf1, 0xeb, 0xbe, 0xd8, 0xdb, 0xc1, 0x53, 0xc0, 0xb8, 0x4a, 0xa6, 0x1f, 0xf0, 0x82, 0x39}},
      {8, {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3, 0x14, 0x97, 0xb4}},
      {15, {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf, 0xc3, 0xd9}},
      {16, {0x6e, 0xe2, 0xa4, 0xca, 0x67, 0xb0, 0x54, 0xbb, 0xfd, 0x33, 0x15, 0xbf, 0x85, 0x23, 0x05, 0x77}},
      {63, {0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97, 0x3f, 0xbd, 0x7c}},
  }};
  uint8_t in[64];
  for (int i = 0; i < 64; ++i) in[i] = uint8_t(i);
  const uint64_t k0 = 0x0706050403020100ull, k1 = 0x0f0e0d0c0b0a0908ull;
  for (const auto& [len, want] : vectors) {
    auto [a, b] = match::sipHash128<2, 4>(k0, k1, in, len);
    std::array<uint8_t, 16> got{};
    for (int i = 0; i < 8; ++i) {
      got[size_t(i)] = uint8_t(a >> (8 * i));
      got[size_t(8 + i)] = uint8_t(b >> (8 * i));
    }
    EXPECT_EQ(got, want) << "length " << len;
  }
}

// Every length from 0 to 100 (every tail of every block count) against a
// plain byte-by-byte SipHash-1-3: the 7 reference vectors cover few tails.
TEST(SipHash, EveryLengthAsAPlainImplementation) {
  auto reference = [](uint64_t k0, uint64_t k1, const uint8_t* in, size_t size) {
    uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1 ^ 0xee,
             v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
    auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
    auto round = [&] {
      v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
      v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
      v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
      v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    };
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
      uint64_t m = 0;
      for (int k = 7; k >= 0; --k) m = (m << 8) | in[i + size_t(k)];
      v3 ^= m; round(); v0 ^= m;
    }
    uint64_t b = uint64_t(size) << 56;
    for (size_t k = 0; i + k < size; ++k) b |= uint64_t(in[i + k]) << (8 * k);
    v3 ^= b; round(); v0 ^= b;
    v2 ^= 0xee; round(); round(); round();
    const uint64_t first = v0 ^ v1 ^ v2 ^ v3;
    v1 ^= 0xdd; round(); round(); round();
    return std::pair<uint64_t, uint64_t>{first, v0 ^ v1 ^ v2 ^ v3};
  };
  uint8_t in[100];
  for (int i = 0; i < 100; ++i) in[i] = uint8_t(i * 37 + 11);
  for (size_t len = 0; len <= 100; ++len)
    EXPECT_EQ((match::sipHash128<1, 3>(0x0123456789abcdefull, 0xfedcba9876543210ull, in, len)),
              reference(0x0123456789abcdefull, 0xfedcba9876543210ull, in, len))
        << "length " << len;
}

TEST(ValueMemo, KeyIsTheWholeValue) {
  const auto a = ValueMemo::hash("Mozilla/5.0 (X11; Linux x86_64)");
  const auto same = ValueMemo::hash(std::string("Mozilla/5.0 (X11; Linux x86_64)"));
  const auto other = ValueMemo::hash("Mozilla/5.0 (X11; Linux x86_65)");
  const auto prefix = ValueMemo::hash("Mozilla/5.0 (X11; Linux x86_64");
  EXPECT_TRUE(a.a == same.a && a.b == same.b);
  EXPECT_FALSE(a.a == other.a && a.b == other.b);
  EXPECT_FALSE(a.a == prefix.a && a.b == prefix.b);
  EXPECT_NE(ValueMemo::newEngineId(), ValueMemo::newEngineId());
}

// Short values are their own key: two values differing anywhere, in length
// alone (trailing NULs) or around the 11-byte edge never share one, as the
// memo compares keys (a, and b's low 32 bits).
TEST(ValueMemo, ShortValuesHaveDistinctKeys) {
  std::set<std::pair<uint64_t, uint32_t>> seen;
  std::vector<std::string> values;
  const std::string alphabet("a\0\xff", 3);
  for (size_t len = 0; len <= 13; ++len) {
    const size_t count = len <= 4 ? 81 : 40;  // every short one; samples of the longer
    for (size_t i = 0; i < count; ++i) {
      std::string v(len, 'a');
      size_t x = i * 2654435761u + len;
      for (auto& c : v) {
        c = alphabet[x % 3];
        x = x / 3 + i * 7;
      }
      values.push_back(v);
    }
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  for (const auto& v : values) {
    const auto k = ValueMemo::hash(v);
    EXPECT_TRUE(seen.insert({k.a, uint32_t(k.b)}).second) << "length " << v.size();
    const auto again = ValueMemo::hash(std::string(v));
    EXPECT_TRUE(k.a == again.a && uint32_t(k.b) == uint32_t(again.b));
  }
  EXPECT_GT(values.size(), 300u);
}

// An empty value's view may have no data at all (a default std::string_view, as
// an absent variable gives): its key is the empty string's, and hashing it
// passes no null pointer to memcpy (scripts/sanitize.sh's UBSan stopped the CRS
// suite there).
TEST(ValueMemo, EmptyViewWithoutDataHasTheEmptyKey) {
  const auto none = ValueMemo::hash(std::string_view());
  const auto empty = ValueMemo::hash(std::string_view("", 0));
  EXPECT_TRUE(none.a == empty.a && none.b == empty.b);
  EXPECT_FALSE(none.a == ValueMemo::hash(std::string_view("\0", 1)).a &&
               none.b == ValueMemo::hash(std::string_view("\0", 1)).b);
}

// A longer value's key may come from the thread's recent keys: only for the
// same bytes. A value differing in one byte anywhere (its length, first and
// last 8 bytes all equal for a byte in the middle) gets its own key, and a key
// found among the recent ones is the one hashing gives again after they have
// been pushed out.
TEST(ValueMemo, RecentKeysAreOnlyForTheSameBytes) {
  for (size_t len : {12, 16, 17, 40, 120, 176, 177, 300}) {
    std::string v(len, 'x');
    for (size_t i = 0; i < len; ++i) v[i] = char('a' + (i * 7 + len) % 26);
    const auto k = ValueMemo::hash(v);
    const auto again = ValueMemo::hash(std::string(v));  // (from the recent keys, up to 176 bytes)
    EXPECT_TRUE(k.a == again.a && k.b == again.b) << len;
    // v and its len one-byte variants: len + 1 distinct values, as many keys.
    std::set<std::pair<uint64_t, uint32_t>> keys{{k.a, uint32_t(k.b)}};
    for (size_t i = 0; i < len; ++i) {
      std::string w = v;
      w[i] = char(w[i] ^ 0x20);
      const auto kw = ValueMemo::hash(w);
      EXPECT_TRUE(keys.insert({kw.a, uint32_t(kw.b)}).second) << len << " byte " << i;
    }
    for (int n = 0; n < 2000; ++n) ValueMemo::hash("pushing the recent keys out " + std::to_string(n));
    const auto later = ValueMemo::hash(v);
    EXPECT_TRUE(k.a == later.a && k.b == later.b) << len;
  }
}

// The thread's counters since `before`.
ValueMemo::Stats since(const ValueMemo::Stats& before) {
  ValueMemo::Stats d = ValueMemo::forThread().stats;
  d.values -= before.values;
  d.values_known -= before.values_known;
  d.scans -= before.scans;
  d.scans_skipped -= before.scans_skipped;
  d.scans_sieved -= before.scans_sieved;
  d.link_values -= before.link_values;
  d.link_values_known -= before.link_values_known;
  d.links -= before.links;
  d.links_skipped -= before.links_skipped;
  d.header_sets -= before.header_sets;
  d.header_sets_known -= before.header_sets_known;
  d.request_sets -= before.request_sets;
  d.request_sets_known -= before.request_sets_known;
  d.request_phases_replayed -= before.request_phases_replayed;
  return d;
}

// The thread's counters over one request (its transaction ended: flushed).
ValueMemo::Stats statsOf(const std::shared_ptr<const Engine>& e, const Request& req, bool* denied) {
  const ValueMemo::Stats before = ValueMemo::forThread().stats;
  {
    auto r = run(e, req);
    *denied = r.first.disruptive();
  }
  return since(before);
}

Request withHeaders(std::vector<std::pair<std::string, std::string>> extra, std::string uri = "/") {
  Request q;
  q.uri = std::move(uri);
  for (auto& h : extra) q.headers.push_back(std::move(h));
  return q;
}

// A value (a stage of one) that holds none of the bytes the group's patterns
// need (match::neededClasses: '<' of "<script") is not scanned, and is
// remembered as matching nothing; a stage a transformation gives the byte is.
TEST(ValueMemo, ValuesWithoutTheBytesAPatternNeedsAreNotScanned) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(SecRule ARGS "@rx <script" "id:1,phase:2,deny,t:none,t:urlDecodeUni")");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->scanStats().links, 1u);
  bool denied = false;
  auto s = statsOf(e, withHeaders({}, "/?q=hello+world"), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.scans, 1u);
  EXPECT_EQ(s.scans_sieved, 1u);
  s = statsOf(e, withHeaders({}, "/?q=hello+world"), &denied);
  EXPECT_EQ(s.scans_skipped, 1u);  // remembered
  EXPECT_EQ(s.scans_sieved, 0u);
  // "%3Cscript" holds no '<'; its urlDecodeUni stage does.
  s = statsOf(e, withHeaders({}, "/?q=%253Cscript"), &denied);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.scans_sieved, 0u);
  s = statsOf(e, withHeaders({}, "/?q=%3Cscript"), &denied);
  EXPECT_TRUE(denied);
  // A long value (over 4 KiB) is scanned as it is, its classes not worked out.
  s = statsOf(e, withHeaders({}, "/?q=" + std::string(5000, 'a')), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.scans_sieved, 0u);
}

TEST(ValueMemo, ScanGroupPassesOverKnownValuesOnly) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(SecRule REQUEST_HEADERS|ARGS "@rx evil" "id:1,phase:2,deny,t:lowercase")");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->scanStats().links, 1u);
  bool denied = false;
  // First sight: scanned, nothing matched, remembered.
  auto s = statsOf(e, withHeaders({{"X-A", "harmless"}}), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.values_known, 0u);
  EXPECT_EQ(s.scans, 1u);
  // Again: every value known, the scan skipped.
  s = statsOf(e, withHeaders({{"X-A", "harmless"}}), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.scans_skipped, 1u);
  EXPECT_EQ(s.values_known, s.values);
  // The known value beside an attack: the attack is scanned and found.
  s = statsOf(e, withHeaders({{"X-A", "harmless"}}, "/?q=EVIL"), &denied);
  EXPECT_TRUE(denied);
  EXPECT_GE(s.values_known, 2u);  // Host and X-A
  EXPECT_EQ(s.scans_skipped, 0u);
  // What matched is not remembered: found again.
  s = statsOf(e, withHeaders({}, "/?q=EVIL"), &denied);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.scans_skipped, 0u);
  // A value that differs by one byte, or extends a known one, is not known.
  s = statsOf(e, withHeaders({{"X-A", "harmlesS evil"}}), &denied);
  EXPECT_TRUE(denied);
  s = statsOf(e, withHeaders({{"X-A", "harmless"}, {"X-B", "harmlessevil"}}), &denied);
  EXPECT_TRUE(denied);
  // A known value in another variable of the same group is still known.
  s = statsOf(e, withHeaders({}, "/?q=harmless"), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.scans_skipped, 1u);
}

// A list whose every value a group knows to match nothing is passed over
// whole by that group's scan (its masks, taken by the phase's questions), and
// only by that group: another group that found its pattern in the list scans
// it again, and a new value in the list makes the first scan it too.
TEST(ValueMemo, AKnownListIsPassedOverByItsGroupOnly) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(
SecRule REQUEST_HEADERS|ARGS "@rx evil" "id:1,phase:2,deny,t:lowercase"
SecRule REQUEST_HEADERS "@rx bad" "id:2,phase:2,deny,t:lowercase"
)");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->scanStats().databases, 2u);  // two groups: their variables differ by a collection
  bool denied = false;
  // The first group learns the headers (none holds "evil"); the second finds "bad".
  auto s = statsOf(e, withHeaders({{"X-A", "bad"}}, "/?q=one"), &denied);
  EXPECT_TRUE(denied);
  // The same headers, a new argument: the first group passes over the header
  // list whole (known) and scans the argument; the second scans the headers
  // and finds "bad" again.
  s = statsOf(e, withHeaders({{"X-A", "bad"}}, "/?q=two"), &denied);
  EXPECT_TRUE(denied);
  EXPECT_GE(s.values_known, 2u);  // Host and X-A, for the first group
  // Without X-A's "bad", the first group's known headers, a new argument: passes.
  s = statsOf(e, withHeaders({}, "/?q=three"), &denied);
  EXPECT_FALSE(denied);
  // A header the first group has not seen, beside the known ones: scanned, found.
  s = statsOf(e, withHeaders({{"X-B", "EVIL"}}, "/?q=four"), &denied);
  EXPECT_TRUE(denied);
  // An argument with the pattern beside the known headers: found.
  s = statsOf(e, withHeaders({}, "/?q=evil"), &denied);
  EXPECT_TRUE(denied);
}

// A request with the very headers of an earlier one takes what the memo knew
// of its header lists from the thread's entry for them (the third time they
// are seen: the first notes them, the second makes the entry): the same
// values known, the same scans skipped, none looked up. Headers that differ
// anywhere are not taken for them, even where they agree in every length and
// in the bytes that pick the entry; and what the entry holds goes with the
// memo it was read from.
// (Request sets off: these requests, the same again, would be found whole.)
TEST(ValueMemo, HeadersSeenAgainAreKnownAsASet) {
  ValueMemo::forThread().clear();
  auto e = compileRulesWith("RAMPART_WAF_REQUEST_MEMO", "0",
                            R"(SecRule REQUEST_HEADERS|REQUEST_COOKIES "@rx evil" "id:1,phase:1,deny,t:lowercase")");
  ASSERT_TRUE(e);
  const Request fine = withHeaders({{"X-A", "aaaaaaaa-harmless-bbbbbbbb"}, {"Cookie", "s=1; t=2"}});
  const Request alike = withHeaders({{"X-A", "aaaaaaaa-evil-xxx-bbbbbbbb"}, {"Cookie", "s=1; t=2"}});
  bool denied = false;
  auto s = statsOf(e, fine, &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.header_sets, 1u);
  EXPECT_EQ(s.header_sets_known, 0u);
  EXPECT_EQ(s.scans_skipped, 0u);
  s = statsOf(e, fine, &denied);  // every value known, looked up one by one
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.header_sets_known, 0u);
  EXPECT_EQ(s.scans_skipped, 1u);
  const auto looked_up = s;
  s = statsOf(e, fine, &denied);  // known as a set
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.header_sets_known, 1u);
  EXPECT_EQ(s.scans_skipped, 1u);
  EXPECT_EQ(s.values, looked_up.values);
  EXPECT_EQ(s.values_known, s.values);
  s = statsOf(e, alike, &denied);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.header_sets_known, 0u);
  EXPECT_EQ(s.scans_skipped, 0u);
  for (int i = 0; i < 3; ++i) {
    s = statsOf(e, alike, &denied);  // what matched is never known
    EXPECT_TRUE(denied);
  }
  // Each set again, from its first sight: the entry now holds `alike`'s.
  for (int i = 0; i < 3; ++i) statsOf(e, fine, &denied);
  s = statsOf(e, fine, &denied);
  EXPECT_EQ(s.header_sets_known, 1u);
  // The memo emptied: nothing read from it before is known after.
  ValueMemo::forThread().clear();
  s = statsOf(e, fine, &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.header_sets_known, 0u);
  EXPECT_EQ(s.values_known, 0u);
  EXPECT_EQ(s.scans, 1u);
  EXPECT_EQ(s.scans_skipped, 0u);
}

// One request, its body too, through `conn` (Transaction::useHeaderMemo;
// null: none) from client port `port`: the thread's counters over it.
ValueMemo::Stats connStatsOf(const std::shared_ptr<const Engine>& e, const Request& req,
                             Transaction::HeaderMemo* conn, bool* denied, uint16_t port = 40000) {
  const ValueMemo::Stats before = ValueMemo::forThread().stats;
  {
    Transaction tx(e, "conn");
    tx.useHeaderMemo(conn);
    tx.processConnection("192.0.2.10", port, "127.0.0.1", 8080);
    tx.processUri(req.method, req.uri, req.protocol);
    for (auto& [n, v] : req.headers) tx.addRequestHeader(n, v);
    *denied = tx.processRequestHeaders().disruptive();
    if (!*denied) {
      if (!req.body.empty()) tx.appendRequestBody(req.body);
      *denied = tx.processRequestBody().disruptive();
    }
    tx.processLogging();
  }
  return since(before);
}

// A client's connection keeps its own header set beside the thread's 64: its
// requests find what the memo knew of their headers however many other
// clients' header sets the thread saw between them; without it, they do not.
// Headers that differ are not taken for its set, which is then made again for them.
TEST(ValueMemo, AConnectionKeepsItsClientsHeaderSet) {
  ValueMemo::forThread().clear();
  auto e = compileRulesWith("RAMPART_WAF_REQUEST_MEMO", "0",
                            R"(SecRule REQUEST_HEADERS|REQUEST_COOKIES "@rx evil" "id:1,phase:1,deny,t:lowercase")");
  ASSERT_TRUE(e);
  auto conn = Transaction::newHeaderMemo();
  const Request mine = withHeaders({{"X-A", "mine"}, {"Cookie", "s=1"}});
  bool denied = false;
  for (int i = 0; i < 2; ++i) connStatsOf(e, mine, conn.get(), &denied);  // noted, then made
  auto s = connStatsOf(e, mine, conn.get(), &denied);
  EXPECT_EQ(s.header_sets_known, 1u);
  for (int i = 0; i < 200; ++i)  // other clients, each twice: the thread's entries made and made again
    for (int k = 0; k < 2; ++k) statsOf(e, withHeaders({{"X-A", "other " + std::to_string(i)}}), &denied);
  s = connStatsOf(e, mine, conn.get(), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.header_sets, 1u);
  EXPECT_EQ(s.header_sets_known, 1u);
  EXPECT_EQ(s.scans_skipped, 1u);
  s = connStatsOf(e, mine, nullptr, &denied);  // the thread alone no longer has it
  EXPECT_EQ(s.header_sets_known, 0u);
  EXPECT_EQ(s.scans_skipped, 1u);  // (every value still known, one by one)
  const Request changed = withHeaders({{"X-A", "mind"}, {"Cookie", "s=1"}});
  s = connStatsOf(e, changed, conn.get(), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.header_sets_known, 0u);
  EXPECT_EQ(s.scans_skipped, 0u);
  const Request evil = withHeaders({{"X-A", "evil"}, {"Cookie", "s=1"}});
  for (int i = 0; i < 3; ++i) {
    s = connStatsOf(e, evil, conn.get(), &denied);
    EXPECT_TRUE(denied) << i;
    EXPECT_EQ(s.header_sets_known, 0u) << i;
  }
  for (int i = 0; i < 2; ++i) connStatsOf(e, changed, conn.get(), &denied);
  s = connStatsOf(e, changed, conn.get(), &denied);
  EXPECT_EQ(s.header_sets_known, 1u);
  // Headers over 8 KiB are not kept, by the connection or the thread.
  const Request large = withHeaders({{"X-A", "mine"}, {"Cookie", "s=" + std::string(8200, 'a')}});
  for (int i = 0; i < 4; ++i) {
    s = connStatsOf(e, large, conn.get(), &denied);
    EXPECT_FALSE(denied);
    EXPECT_EQ(s.header_sets_known, 0u) << i;
  }
  s = connStatsOf(e, changed, conn.get(), &denied);  // the connection's set is still the one before
  EXPECT_EQ(s.header_sets_known, 1u);
}

// A request with the very bytes of one seen twice lately (its line, its
// headers; in phase 2 its body too) takes the answers that one's memo
// questions got: the same values known, the same scans skipped and links
// decided, nothing looked up. A request that differs anywhere is not taken
// for it, even where the bytes that pick the entry agree; one whose line and
// headers agree but whose body differs takes phase 1's answers, not phase
// 2's; and what the entry holds goes with the memo it was read from.
// (Replays off: the phases of these requests would be replayed, not walked.)
TEST(ValueMemo, RequestsSeenAgainAreKnownAsASet) {
  ValueMemo::forThread().clear();
  auto e = compileRulesWith("RAMPART_WAF_REPLAY", "0", R"(
SecRule REQUEST_FILENAME|REQUEST_HEADERS "@rx evil" "id:1,phase:1,deny,t:lowercase"
SecRule REQUEST_HEADERS|ARGS "@rx evil" "id:2,phase:2,deny,t:lowercase"
SecRule ARGS "@detectSQLi" "id:3,phase:2,deny,t:urlDecodeUni"
)");
  ASSERT_TRUE(e);
  const Request get = withHeaders({{"X-A", "aaaaaaaa-harmless-bbbbbbbb"}}, "/a?q=hello");
  const Request alike = withHeaders({{"X-A", "aaaaaaaa-evil-xxx-bbbbbbbb"}}, "/a?q=hello");
  bool denied = false;
  auto s = statsOf(e, get, &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.request_sets, 1u);
  EXPECT_EQ(s.request_sets_known, 0u);
  EXPECT_EQ(s.scans_skipped, 0u);
  s = statsOf(e, get, &denied);  // its answers looked up list by list, kept as a set
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.request_sets_known, 0u);
  EXPECT_EQ(s.scans_skipped, 2u);
  EXPECT_EQ(s.links_skipped, 1u);
  const auto looked_up = s;
  for (int i = 0; i < 3; ++i) {
    s = statsOf(e, get, &denied);  // known as a set
    EXPECT_FALSE(denied);
    EXPECT_EQ(s.request_sets_known, 1u);
    EXPECT_EQ(s.header_sets, 0u);  // (not looked up: the set answers for its lists)
    EXPECT_EQ(s.scans_skipped, looked_up.scans_skipped);
    EXPECT_EQ(s.values, looked_up.values);
    EXPECT_EQ(s.values_known, looked_up.values_known);
    EXPECT_EQ(s.links_skipped, looked_up.links_skipped);
    EXPECT_EQ(s.link_values_known, looked_up.link_values_known);
  }
  // Another line, or a header alike in its length and in the words the tag reads.
  s = statsOf(e, withHeaders({{"X-A", "aaaaaaaa-harmless-bbbbbbbb"}}, "/a?q=evil"), &denied);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.request_sets_known, 0u);
  s = statsOf(e, withHeaders({{"X-A", "aaaaaaaa-harmless-bbbbbbbb"}}, "/evil?q=hello"), &denied);
  EXPECT_TRUE(denied);
  for (int i = 0; i < 3; ++i) {
    s = statsOf(e, alike, &denied);
    EXPECT_TRUE(denied);
    EXPECT_EQ(s.request_sets_known, 0u);
  }
  // A form: the same line and headers with another body take phase 1's
  // answers, not phase 2's.
  const Request form = formPost("/f", "q=hello&r=1");
  for (int i = 0; i < 2; ++i) statsOf(e, form, &denied);
  s = statsOf(e, form, &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.request_sets_known, 1u);
  EXPECT_EQ(s.scans, s.scans_skipped);
  EXPECT_EQ(s.links_skipped, 1u);
  for (const char* body : {"q=evil&r=1", "q=hello&r=1' or '1'='1"}) {
    s = statsOf(e, formPost("/f", body), &denied);
    EXPECT_TRUE(denied) << body;
    EXPECT_EQ(s.request_sets_known, 1u) << body;  // (its line and headers are the set's)
  }
  s = statsOf(e, form, &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.request_sets_known, 1u);
  // The memo emptied: nothing read from it before is known after.
  ValueMemo::forThread().clear();
  s = statsOf(e, get, &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.request_sets_known, 0u);
  EXPECT_EQ(s.values_known, 0u);
  EXPECT_EQ(s.scans_skipped, 0u);
}

// A ctl that changes in phase 2 how the body is read changes the lists
// (REQUEST_BODY here) in the middle of the phase: a request whose own rules
// run it (here by its client's port, which is not in the set's key) takes no
// answer after it, and a request that runs it makes no set.
TEST(ValueMemo, ABodyCtlInPhase2EndsTheSetsAnswers) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(
SecRule REQUEST_BODY "@rx harmless" "id:1,phase:2,pass,nolog"
SecRule REMOTE_PORT "@eq 2000" "id:2,phase:2,pass,nolog,ctl:forceRequestBodyVariable=On"
SecRule REQUEST_BODY "@rx evil" "id:3,phase:2,deny"
)");
  ASSERT_TRUE(e);
  Request post = withHeaders({}, "/p");
  post.method = "POST";
  post.body = "x=evil";  // (no Content-Type: no body processor, REQUEST_BODY only when forced)
  bool denied = false;
  for (int i = 0; i < 2; ++i) {
    connStatsOf(e, post, nullptr, &denied, 1000);
    EXPECT_FALSE(denied);
  }
  auto s = connStatsOf(e, post, nullptr, &denied, 1000);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.request_sets_known, 1u);
  s = connStatsOf(e, post, nullptr, &denied, 2000);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.request_sets_known, 1u);
  // From port 2000 alone: the ctl runs on each, no set is made.
  ValueMemo::forThread().clear();
  for (int i = 0; i < 4; ++i) {
    s = connStatsOf(e, post, nullptr, &denied, 2000);
    EXPECT_TRUE(denied) << i;
    EXPECT_EQ(s.request_sets_known, 0u) << i;
  }
}

// A link whose outcome is a function of the request's bytes (a count, a
// numeric compare: no memo bit) and that matched nothing is taken not to
// match on a request with the same bytes; in phase 2 only with the same body,
// and not when a ctl removed a target on either request (here by the client's
// port, which is not in the set's key).
// (Replays off, as above.)
TEST(ValueMemo, AnOutcomeIsTakenForTheSameBytesOnly) {
  ValueMemo::forThread().clear();
  auto e = compileRulesWith("RAMPART_WAF_REPLAY", "0", R"(
SecRule &ARGS_POST "@gt 2" "id:1,phase:2,deny"
SecRule REMOTE_PORT "@eq 2000" "id:2,phase:1,pass,nolog,ctl:ruleRemoveTargetById=3;REQUEST_HEADERS:x-a"
SecRule REQUEST_HEADERS:X-A "@eq 5" "id:3,phase:1,deny"
)");
  ASSERT_TRUE(e);
  bool denied = false;
  const Request form = formPost("/f", "q=hello&r=1");
  for (int i = 0; i < 3; ++i) {
    auto s = statsOf(e, form, &denied);
    EXPECT_FALSE(denied) << i;
    EXPECT_EQ(s.request_sets_known, i == 2 ? 1u : 0u) << i;
  }
  auto s = statsOf(e, formPost("/f", "q=hello&r=1&s=2"), &denied);  // (its line and headers are the set's)
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.request_sets_known, 1u);
  Request get = withHeaders({{"X-A", "5"}}, "/g");
  for (int i = 0; i < 3; ++i) {
    connStatsOf(e, get, nullptr, &denied, 2000);  // X-A removed for rule 3: nothing matches
    EXPECT_FALSE(denied) << i;
  }
  s = connStatsOf(e, get, nullptr, &denied, 2000);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.request_sets_known, 1u);
  s = connStatsOf(e, get, nullptr, &denied, 1000);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.request_sets_known, 1u);
}

// What a request's transaction left, as its caller and the audit log see it.
struct Outcome {
  Verdict::Action action = Verdict::Action::None;
  int64_t rule = 0;
  std::vector<std::string> matches;  // each: id, phase, msg, logdata, variable, data, disruptive
  std::string score, ua;             // TX:score, TX:ua
  std::vector<std::string> tx;       // From::tx's
  bool audit = false;
  std::vector<std::string> args;  // forEachArgument's
  ValueMemo::Stats stats;
};
struct From {
  const char* ip = "192.0.2.10";
  uint16_t port = 40000;
  RuleProfile* profile = nullptr;
  rules::EngineSettings::RuleEngine mode = rules::EngineSettings::RuleEngine::On;
  std::vector<std::string> tx;  // TX variables to read at the end
  int status = 200;             // the response's
};
Outcome outcomeOf(const std::shared_ptr<const Engine>& e, const Request& req, From from = {}) {
  const ValueMemo::Stats before = ValueMemo::forThread().stats;
  Outcome o;
  {
    Transaction tx(e, "replay");
    tx.setRuleEngine(from.mode);
    if (from.profile) tx.setProfile(from.profile, false, 1);
    tx.processConnection(from.ip, from.port, "127.0.0.1", 8080);
    tx.processUri(req.method, req.uri, req.protocol);
    for (auto& [n, v] : req.headers) tx.addRequestHeader(n, v);
    Verdict v = tx.processRequestHeaders();
    if (!v.disruptive()) {
      if (!req.body.empty()) tx.appendRequestBody(req.body);
      v = tx.processRequestBody();
    }
    if (!v.disruptive()) {
      tx.setResponseStatus(from.status, "HTTP/1.1");
      tx.addResponseHeader("Content-Type", "text/html");
      v = tx.processResponseHeaders();
    }
    tx.processLogging();
    o.action = v.action;
    o.rule = v.rule_id;
    for (const auto& m : tx.matches())
      o.matches.push_back(std::to_string(m.id) + "/" + std::to_string(m.phase) + "/" + m.msg + "/" + m.logdata + "/" +
                          m.matched_var_name + "/" + m.matched_data + "/" + (m.disruptive ? "d" : "-"));
    o.score = tx.txValue("score");
    o.ua = tx.txValue("ua");
    for (const auto& name : from.tx) o.tx.push_back(tx.txValue(name));
    o.audit = tx.isAuditRelevant();
    tx.forEachArgument([&](std::string_view from_, std::string_view name, std::string_view value) {
      o.args.push_back(std::string(from_) + ":" + std::string(name) + "=" + std::string(value));
    });
  }
  o.stats = since(before);
  return o;
}

// A request with the very bytes of one seen twice lately, from the same
// addresses, has its phases 1 and 2 replayed: what that request's did (TX,
// the matches and their records, a ctl's removal, the verdict) is applied
// instead of their rules walked, and the phases after them run from there as
// they would have. Not replayed: phase 2 of a request with another body (its
// phase 1 is); a request from another client address; a transaction in
// another rule engine mode; any request of a rule set whose rules read what
// a replay cannot stand for (REMOTE_PORT, a macro of UNIQUE_ID); a profiled
// transaction.
TEST(ValueMemo, ARequestSeenAgainHasItsPhasesReplayed) {
  const std::string rules = R"(
SecAction "id:10,phase:1,pass,nolog,setvar:tx.score=0"
SecRule REQUEST_HEADERS:User-Agent "@contains bot" "id:11,phase:1,pass,log,msg:'ua %{MATCHED_VAR}',setvar:tx.score=+3,setvar:'tx.ua=%{MATCHED_VAR}'"
SecRule REMOTE_ADDR "@ipMatch 192.0.2.99" "id:12,phase:1,deny"
SecRule REQUEST_FILENAME "@beginsWith /" "id:13,phase:1,pass,nolog,ctl:ruleRemoveTargetById=21;ARGS:skip"
SecRule ARGS "@rx evil" "id:21,phase:2,deny,log"
SecRule ARGS:q "@rx ^hello" "id:22,phase:2,pass,log,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}',setvar:tx.score=+1"
SecRule TX:score "@ge 5" "id:23,phase:2,deny"
SecRule TX:score "@eq 4" "id:50,phase:5,pass,log,msg:'score %{tx.score}'"
)";
  ValueMemo::forThread().clear();
  auto e = compileRules(rules);
  ASSERT_TRUE(e);
  Request form = formPost("/f", "q=hello&skip=evil");
  form.headers.push_back({"User-Agent", "a bot"});
  const Outcome first = outcomeOf(e, form);
  EXPECT_EQ(first.action, Verdict::Action::None);
  ASSERT_EQ(first.matches.size(), 4u);
  EXPECT_EQ(first.matches[0], "11/1/ua a bot//REQUEST_HEADERS:User-Agent/a bot/-");
  EXPECT_EQ(first.matches[1], "13/1/////-");  // (nolog: its id and phase)
  EXPECT_EQ(first.matches[2], "22/2//ARGS:q=hello/ARGS:q/hello/-");
  EXPECT_EQ(first.matches[3], "50/5/score 4//TX:score/4/-");
  EXPECT_EQ(first.score, "4");
  EXPECT_EQ(first.ua, "a bot");
  EXPECT_EQ(first.stats.request_phases_replayed, 0u);
  EXPECT_EQ(outcomeOf(e, form).stats.request_phases_replayed, 0u);  // (the set made)
  for (int i = 0; i < 3; ++i) {
    const Outcome again = outcomeOf(e, form);
    EXPECT_EQ(again.stats.request_sets_known, 1u);
    EXPECT_EQ(again.stats.request_phases_replayed, 4u);  // (1, 2, 3 without rules, and 5)
    EXPECT_EQ(again.stats.scans + again.stats.links, 0u);  // (no rule walked)
    EXPECT_EQ(again.action, first.action);
    EXPECT_EQ(again.matches, first.matches);
    EXPECT_EQ(again.score, first.score);
    EXPECT_EQ(again.ua, first.ua);
    EXPECT_EQ(again.audit, first.audit);
  }
  // Another body: phase 1 replayed, phase 2 walked (the removal replayed holds).
  Request other = form;
  other.body = "q=hello&skip=evil&t=evil";
  Outcome o = outcomeOf(e, other);
  EXPECT_EQ(o.stats.request_phases_replayed, 1u);
  EXPECT_EQ(o.action, Verdict::Action::Deny);
  EXPECT_EQ(o.rule, 21);
  other.body = "q=hello&skip=evilish";  // (the same length)
  o = outcomeOf(e, other);
  EXPECT_EQ(o.stats.request_phases_replayed, 1u);
  EXPECT_EQ(o.action, Verdict::Action::None);
  EXPECT_EQ(o.score, "4");
  // Another client address, another mode: walked.
  From other_client;
  other_client.ip = "192.0.2.99";
  o = outcomeOf(e, form, other_client);
  EXPECT_EQ(o.stats.request_sets_known, 1u);
  EXPECT_EQ(o.stats.request_phases_replayed, 0u);
  EXPECT_EQ(o.action, Verdict::Action::Deny);
  EXPECT_EQ(o.rule, 12);
  From detecting;
  detecting.mode = rules::EngineSettings::RuleEngine::DetectionOnly;
  o = outcomeOf(e, form, detecting);
  EXPECT_EQ(o.stats.request_phases_replayed, 0u);
  EXPECT_EQ(o.matches, first.matches);
  EXPECT_EQ(outcomeOf(e, form).stats.request_phases_replayed, 4u);  // (and the set still there)
  // A profiled transaction walks its rules (its counts stand for the others').
  RuleProfile profile(*e);
  From profiled;
  profiled.profile = &profile;
  o = outcomeOf(e, form, profiled);
  EXPECT_EQ(o.stats.request_phases_replayed, 0u);
  EXPECT_EQ(o.matches, first.matches);
  uint64_t evaluations = 0;
  for (size_t i = 0; i < profile.size(); ++i) evaluations += profile.at(i).evaluations;
  EXPECT_GE(evaluations, 5u);
  // A rule that reads the client's port (in phase 1: neither phase
  // replayed), a macro of the transaction's id (in phase 2: phase 1 is).
  const std::pair<const char*, uint64_t> reading[] = {
      {R"(SecRule REMOTE_PORT "@eq 1" "id:14,phase:1,pass,nolog")", 0},
      {R"(SecRule ARGS:q "@rx ^hello" "id:24,phase:2,pass,log,logdata:'%{UNIQUE_ID}'")", 1}};
  for (const auto& [more, replayed] : reading) {
    ValueMemo::forThread().clear();
    auto f = compileRules(rules + more);
    ASSERT_TRUE(f);
    for (int i = 0; i < 4; ++i) {
      From port;
      port.port = uint16_t(40000 + i);
      o = outcomeOf(f, form, port);
      EXPECT_EQ(o.stats.request_sets_known, i >= 2 ? 1u : 0u) << more;
      EXPECT_EQ(o.stats.request_phases_replayed, i >= 2 ? replayed : 0u) << more;
      EXPECT_EQ(o.score, "4") << more;
    }
  }
}

// The response phases of a request found as a set are replayed too, after
// its phases 1 and 2 were, when their rules read TX and the request alone
// (CRS's at paranoia level 1: the anomaly scores' sums and reports). A phase
// whose rules read the response is walked, on every request (what the
// response held is no part of the set), and the phases after it with it; so
// is a phase 3 after a phase 2 that was walked. The request's lists a replay
// did not need are made when a walked phase (or forEachArgument) reads them.
TEST(ValueMemo, ResponsePhasesReplayedWhenTheyReadNoResponse) {
  const std::string rules = R"(
SecAction "id:1,phase:1,pass,nolog,setvar:tx.score=0"
SecRule ARGS:q "@rx ^hello" "id:21,phase:2,pass,log,setvar:tx.score=+1,setvar:'tx.p2=%{MATCHED_VAR}'"
SecRule ARGS:q "@rx evil" "id:22,phase:2,pass,log,setvar:tx.score=+10"
SecRule TX:score "@eq 1" "id:31,phase:3,pass,log,msg:'p3 %{tx.score}',setvar:tx.score=+1"
SecRule TX:score "@eq 2" "id:51,phase:5,pass,log,msg:'p5 %{tx.score} %{tx.p2}'"
)";
  ValueMemo::forThread().clear();
  auto e = compileRules(rules);
  ASSERT_TRUE(e);
  From from;
  from.tx = {"score", "p2"};
  const Request form = formPost("/f?q=hello", "r=1");
  const Outcome first = outcomeOf(e, form, from);
  ASSERT_EQ(first.matches.size(), 3u);
  EXPECT_EQ(first.matches[1], "31/3/p3 2//TX:score/1/-");  // (msg expanded after the setvar)
  EXPECT_EQ(first.matches[2], "51/5/p5 2 hello//TX:score/2/-");
  EXPECT_EQ(first.tx, (std::vector<std::string>{"2", "hello"}));
  ASSERT_EQ(first.args.size(), 2u);
  EXPECT_EQ(first.args[0], "ARGS_GET:q=hello");
  outcomeOf(e, form, from);
  for (int i = 0; i < 2; ++i) {
    const Outcome again = outcomeOf(e, form, from);
    EXPECT_EQ(again.stats.request_phases_replayed, 4u);
    EXPECT_EQ(again.stats.scans + again.stats.links, 0u);
    EXPECT_EQ(again.matches, first.matches);
    EXPECT_EQ(again.tx, first.tx);
    EXPECT_EQ(again.args, first.args);  // (made for forEachArgument)
  }
  // Phase 2 walked (another body): phases 3 and 5 too.
  Request other = form;
  other.body = "q=evil";
  Outcome o = outcomeOf(e, other, from);
  EXPECT_EQ(o.stats.request_phases_replayed, 1u);
  EXPECT_EQ(o.tx, (std::vector<std::string>{"11", "hello"}));
  EXPECT_EQ(o.matches.size(), 2u);  // (21 and 22: 31 and 51 walked, and not matched)

  // A phase 3 that reads the response status: walked, and phase 5 after it.
  // Its rule reads the request's arguments too (made when it is walked).
  ValueMemo::forThread().clear();
  auto f = compileRules(rules + R"(
SecRule RESPONSE_STATUS "@streq 500" "id:32,phase:3,deny,status:502,chain"
  SecRule ARGS:q "@rx ^hel" "t:none"
)");
  ASSERT_TRUE(f);
  for (int i = 0; i < 5; ++i) {
    From status = from;
    status.status = i == 3 ? 500 : 200;
    o = outcomeOf(f, form, status);
    EXPECT_EQ(o.stats.request_phases_replayed, i >= 2 ? 2u : 0u) << i;
    EXPECT_EQ(o.action, i == 3 ? Verdict::Action::Deny : Verdict::Action::None) << i;
    EXPECT_EQ(o.rule, i == 3 ? 32 : 0) << i;
    EXPECT_EQ(o.tx[0], "2") << i;
  }
}

// A request of one engine (a listener's rule set, with its connection's
// set) may make its set while the thread's entry for its bytes is another
// engine's (a shadow rule set's, without a connection's set) and found by its
// requests: its record is then its own, not that entry's written over. (Here
// the shadow engine's request in the middle of the other's phases would have
// replayed the other's phase 1, and passed.)
TEST(ValueMemo, AnotherEnginesSetIsNotWrittenOver) {
  ValueMemo::forThread().clear();
  auto shadow = compileRules(R"(
SecAction "id:1,phase:1,pass,nolog,setvar:tx.a=1"
SecRule TX:a "@eq 1" "id:2,phase:2,deny"
)");
  auto live = compileRules(R"(SecAction "id:1,phase:1,pass,nolog,setvar:tx.b=1")");
  ASSERT_TRUE(shadow && live);
  const Request get = withHeaders({}, "/same?bytes=1");
  auto conn = Transaction::newHeaderMemo();
  bool denied = false;
  connStatsOf(live, get, conn.get(), &denied);  // noted on the connection and the thread
  for (int i = 0; i < 3; ++i) {                 // the thread's entry noted, made, found: the shadow's
    auto s = statsOf(shadow, get, &denied);
    EXPECT_TRUE(denied) << i;
    EXPECT_EQ(s.request_phases_replayed, i == 2 ? 3u : 0u) << i;  // (1, 2 and 5)
  }
  {
    Transaction maker(live, "live");  // its connection's set noted: it makes it
    maker.useHeaderMemo(conn.get());
    maker.processConnection("192.0.2.10", 40000, "127.0.0.1", 8080);
    maker.processUri(get.method, get.uri, get.protocol);
    for (auto& [n, v] : get.headers) maker.addRequestHeader(n, v);
    EXPECT_FALSE(maker.processRequestHeaders().disruptive());
    auto s = statsOf(shadow, get, &denied);  // between the maker's phases
    EXPECT_TRUE(denied);
    EXPECT_EQ(s.request_phases_replayed, 3u);
    EXPECT_FALSE(maker.processRequestBody().disruptive());
    maker.processLogging();
  }
}

// CRS 4.28 at PL1: the bench's browser GET and form POST, an XSS in a query
// and a SQL injection in a form (blocked in phase 2), in block and in
// detection mode: each one's third and fourth run replay phases 1 and 2 and
// end as its first (the matches with their messages and data, the anomaly
// scores, the verdict, phase 5's reports). Read from ../shared/crs in place;
// skipped without it.
TEST(ValueMemo, CrsRequestsReplayedEndAsTheyRan) {
  const char* env = std::getenv("RAMPART_CRS_DIR");
  const std::string crs = env ? env : std::string(RAMPART_SOURCE_DIR) + "/../shared/crs";
  if (!std::filesystem::exists(crs + "/crs-setup.conf.example"))
    GTEST_SKIP() << "CRS not found at " << crs << " (set RAMPART_CRS_DIR): SKIPPED";
  rules::ParseOptions opts;
  opts.base_dir = crs;
  auto loaded = rules::loadString("SecRequestBodyAccess On\nInclude " + crs + "/crs-setup.conf.example\nInclude " +
                                      crs + "/rules/*.conf\n",
                                  crs + "/replay-test.conf", opts);
  ASSERT_TRUE(loaded.ok());
  auto compiled = Engine::compile(loaded.ruleset);
  ASSERT_TRUE(compiled.ok());
  const auto& e = compiled.engine;
  const std::vector<std::pair<std::string, std::string>> browser = {
      {"Host", "shop.example.com"},
      {"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"},
      {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
      {"Accept-Language", "en-US,en;q=0.9"},
      {"Cookie", "sessionid=k3J9xQ2mZp7LwT4vB8nR1cY6hF0sD5aE; _ga=GA1.2.1638273645.1700412345"}};
  Request get = withHeaders({}, "/products/leather-running-shoes-48213?color=black&size=42");
  get.headers = browser;
  Request xss = get;
  xss.uri = "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E";
  Request form = formPost("/contact", "name=Jane+Doe&email=jane%40example.com&message=Hello+there%2C+a+question");
  form.headers = browser;
  form.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  Request sqli = form;
  sqli.body = "name=x&email=y&message=1%27+or+%271%27%3D%271%27+union+select+password+from+users--";
  form.headers.push_back({"Content-Length", std::to_string(form.body.size())});
  sqli.headers.push_back({"Content-Length", std::to_string(sqli.body.size())});
  using M = rules::EngineSettings::RuleEngine;
  for (M mode : {M::On, M::DetectionOnly}) {
    for (const Request* req : {&get, &form, &xss, &sqli}) {
      From from;
      from.mode = mode;
      from.tx = {"blocking_inbound_anomaly_score", "detection_inbound_anomaly_score", "inbound_anomaly_score_pl1",
                 "anomaly_score_pl1"};
      ValueMemo::forThread().clear();
      const Outcome first = outcomeOf(e, *req, from);
      outcomeOf(e, *req, from);
      const bool attack = req == &xss || req == &sqli;
      EXPECT_EQ(first.action, attack && mode == M::On ? Verdict::Action::Deny : Verdict::Action::None) << req->uri;
      EXPECT_EQ(first.tx[0] != "0", attack) << req->uri << " " << first.tx[0];
      EXPECT_GT(first.matches.size(), 10u) << req->uri;
      for (int i = 0; i < 2; ++i) {
        const Outcome again = outcomeOf(e, *req, from);
        // (1, 2, 3 and 5; a request blocked in phase 2 has no phase 3)
        EXPECT_EQ(again.stats.request_phases_replayed, attack && mode == M::On ? 3u : 4u) << req->uri;
        EXPECT_EQ(again.action, first.action) << req->uri;
        EXPECT_EQ(again.rule, first.rule) << req->uri;
        EXPECT_EQ(again.matches, first.matches) << req->uri;
        EXPECT_EQ(again.tx, first.tx) << req->uri;
        EXPECT_EQ(again.audit, first.audit) << req->uri;
        EXPECT_EQ(again.args, first.args) << req->uri;
      }
    }
  }
}

// A ctl that removes a target or a rule leaves the values as they were: a
// group already scanned is not scanned again (CRS 941010 removes a target on
// most requests). The removal still holds for the rule it names.
TEST(ValueMemo, ACtlThatRemovesATargetScansNothingAgain) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(
SecRule REQUEST_HEADERS "@rx evil" "id:1,phase:1,pass,log"
SecAction "id:2,phase:1,pass,nolog,ctl:ruleRemoveTargetById=3;REQUEST_HEADERS:x-a"
SecRule REQUEST_HEADERS "@rx bad" "id:3,phase:1,pass,log"
)");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->scanStats().links, 2u);
  const ValueMemo::Stats before = ValueMemo::forThread().stats;
  Request req = withHeaders({{"X-A", "evil bad"}, {"X-B", "fine"}});
  {
    auto r = run(e, req);
    EXPECT_TRUE(r.fired(1));
    EXPECT_FALSE(r.fired(3));  // X-A removed for it, X-B fine
  }
  EXPECT_EQ(ValueMemo::forThread().stats.scans - before.scans, 1u);
  req = withHeaders({{"X-A", "fine"}, {"X-B", "bad"}});
  auto r = run(e, req);
  EXPECT_FALSE(r.fired(1));
  EXPECT_TRUE(r.fired(3));
}

TEST(ValueMemo, ValuesOfAScanThatMatchedAreNotRemembered) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(SecRule REQUEST_HEADERS "@rx evil" "id:1,phase:1,pass,nolog")");
  ASSERT_TRUE(e);
  bool denied = false;
  // The scan matched (X-B): nothing of it is remembered, X-A included.
  statsOf(e, withHeaders({{"X-A", "fine"}, {"X-B", "evil"}}), &denied);
  auto s = statsOf(e, withHeaders({{"X-A", "fine"}}), &denied);
  EXPECT_EQ(s.values_known, 0u);
  EXPECT_EQ(s.scans_skipped, 0u);
}

TEST(ValueMemo, RuleLinkPassesOverValuesItDidNotMatch) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(SecRule ARGS "@detectSQLi" "id:2,phase:2,deny,t:urlDecodeUni")");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->memoLinks(), 1u);
  bool denied = false;
  auto s = statsOf(e, withHeaders({}, "/?q=hello"), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.link_values, 1u);
  EXPECT_EQ(s.link_values_known, 0u);
  s = statsOf(e, withHeaders({}, "/?q=hello&r=hello"), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.link_values, 2u);
  EXPECT_EQ(s.link_values_known, 2u);
  s = statsOf(e, withHeaders({}, "/?q=hello&r=1%27%20or%20%271%27%3D%271"), &denied);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.link_values_known, 1u);
  // What matched is not remembered as clean: it is found again.
  s = statsOf(e, withHeaders({}, "/?r=1%27%20or%20%271%27%3D%271"), &denied);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.link_values_known, 0u);
}

// The values a link does not read, taken away by a static exclusion or by a
// ctl on this request, are never tested, so never learnt: the link is still
// decided without its values when every value it reads is known. Where the
// ctl does not run, the removed argument is read, and found.
TEST(ValueMemo, RuleLinkKnownWithoutTheValuesItDoesNotRead) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(
SecRule ARGS:mode "@streq quiet" "id:1,phase:2,pass,nolog,ctl:ruleRemoveTargetById=2;ARGS:skip"
SecRule ARGS|!ARGS:other "@detectSQLi" "id:2,phase:2,deny,t:urlDecodeUni"
)");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->memoLinks(), 2u);  // 1 (mode: matched, never known; absent, known) and 2
  const std::string attack = "1%27%20or%20%271%27%3D%271";
  const std::string quiet = "/?mode=quiet&q=hello&skip=" + attack + "&other=" + attack;
  bool denied = false;
  auto s = statsOf(e, withHeaders({}, quiet), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.links, 2u);
  EXPECT_EQ(s.links_skipped, 0u);  // first sight: mode and q tested
  s = statsOf(e, withHeaders({}, quiet), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.links_skipped, 1u);  // 2: mode and q known; skip (removed) and other (excluded) not read
  EXPECT_EQ(s.link_values_known, 2u);
  s = statsOf(e, withHeaders({}, "/?q=hello&skip=" + attack), &denied);
  EXPECT_TRUE(denied);  // no ctl: skip is read
  EXPECT_EQ(s.links_skipped, 1u);  // 1 (no mode)
  s = statsOf(e, withHeaders({}, "/?q=hello&other=" + attack), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.links_skipped, 2u);  // 1, and 2: q known, other excluded
}

// A value a link does not read (excluded here) is tested once for the memo
// when the link is otherwise known: its bytes are then known not to match,
// wherever they come again (here as an argument the link does read), and
// the link's list is known without going value by value.
TEST(ValueMemo, RuleLinkLearnsTheValuesItDoesNotRead) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(SecRule ARGS|!ARGS:other "@detectSQLi" "id:2,phase:2,deny,t:urlDecodeUni")");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->memoLinks(), 1u);
  bool denied = false;
  auto s = statsOf(e, withHeaders({}, "/?q=hello&other=world"), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.links_skipped, 0u);  // hello tested
  s = statsOf(e, withHeaders({}, "/?q=hello&other=world"), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.links_skipped, 1u);  // hello known, world not read (and tested for the memo)
  s = statsOf(e, withHeaders({}, "/?q=world"), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.links_skipped, 1u);
  EXPECT_EQ(s.link_values_known, 1u);  // never read as q before
  // What the link would match is not learnt so: found where it is read.
  const std::string attack = "1%27%20or%20%271%27%3D%271";
  statsOf(e, withHeaders({}, "/?q=hello&other=" + attack), &denied);
  s = statsOf(e, withHeaders({}, "/?q=hello&other=" + attack), &denied);
  EXPECT_FALSE(denied);
  s = statsOf(e, withHeaders({}, "/?q=" + attack), &denied);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.link_values_known, 0u);
}

// A pattern that matches anything leaves nothing to remember: not given a bit.
TEST(ValueMemo, MatchAnythingPatternsAreNotRemembered) {
  auto e = compileRules(
      "SecRule REQUEST_HEADERS_NAMES \"@rx ^.*$\" \"id:4,phase:1,pass,nolog,capture,setvar:tx.h_%{tx.0}=1\"\n"
      "SecRule ARGS \"@detectXSS\" \"id:5,phase:2,deny\"");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->memoLinks(), 1u);  // 5 only
  Request req;
  req.headers.push_back({"X-A", "1"});
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("h_x-a"), "1");
}

// Operators whose outcome depends on more than the value (a macro argument
// that a rule may change at run time) are not remembered. One whose TX
// variable only the compile-time initialisation sets is fixed text: it is.
TEST(ValueMemo, MacroArgumentsAreNotRemembered) {
  auto e = compileRules(
      "SecAction \"id:9,phase:1,pass,nolog,setvar:tx.bad=evil\"\n"
      "SecRule REQUEST_HEADERS:X-Bad \"@unconditionalMatch\" \"id:8,phase:1,pass,nolog,setvar:tx.bad=%{matched_var}\"\n"
      "SecRule ARGS \"@contains %{tx.bad}\" \"id:3,phase:2,deny\"");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->memoLinks(), 0u);
  auto fixed = compileRules(
      "SecAction \"id:9,phase:1,pass,nolog,setvar:tx.bad=evil\"\n"
      "SecRule ARGS \"@contains %{tx.bad}\" \"id:3,phase:2,deny\"");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->memoLinks(), 1u);
}

TEST(ValueMemo, EnginesDoNotShareWhatTheyLearnt) {
  ValueMemo::forThread().clear();
  auto a = compileRules(R"(SecRule ARGS "@rx nothing" "id:1,phase:2,deny")");
  auto b = compileRules(R"(SecRule ARGS "@rx harmless" "id:1,phase:2,deny")");
  ASSERT_TRUE(a && b);
  bool denied = false;
  statsOf(a, withHeaders({}, "/?q=harmless"), &denied);
  EXPECT_FALSE(denied);
  auto s = statsOf(a, withHeaders({}, "/?q=harmless"), &denied);
  EXPECT_EQ(s.scans_skipped, 1u);
  s = statsOf(b, withHeaders({}, "/?q=harmless"), &denied);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.values_known, 0u);
}

TEST(ValueMemo, OffScansEverything) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(SecRule ARGS "@rx evil" "id:1,phase:2,deny")");
  ASSERT_TRUE(e);
  bool denied = false;
  statsOf(e, withHeaders({}, "/?q=fine"), &denied);
  ValueMemo::setEnabled(false);
  auto s = statsOf(e, withHeaders({}, "/?q=fine"), &denied);
  ValueMemo::setEnabled(true);
  EXPECT_EQ(s.values, 0u);  // not even counted
  EXPECT_EQ(s.scans_skipped, 0u);
  s = statsOf(e, withHeaders({}, "/?q=fine"), &denied);
  EXPECT_EQ(s.scans_skipped, 1u);
}

// A pattern Hyperscan cannot compile (over its resource limits) and too long
// to approximate is left out of its group's database: reported as always
// possible, its rule evaluated in full. The group is still remembered (the
// report is read by no rule), and the left-out rule still matches a value
// the group knows.
TEST(ValueMemo, GroupWithALeftOutPatternIsRemembered) {
  ValueMemo::forThread().clear();
  std::string long_list = "(?:a{20000}";
  for (int i = 0; long_list.size() < 1600; ++i) long_list += "|filler" + std::to_string(i);
  long_list += "|marker)";
  auto e = compileRules("SecRule ARGS \"@rx evil\" \"id:1,phase:2,deny\"\n"
                        "SecRule ARGS \"@rx " + long_list + "\" \"id:2,phase:2,deny\"");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->scanStats().links, 1u);  // 2 is left out
  bool denied = false;
  auto s = statsOf(e, withHeaders({}, "/?q=harmless&r=marker"), &denied);
  EXPECT_TRUE(denied);  // 2, in full
  EXPECT_EQ(s.scans, 1u);
  s = statsOf(e, withHeaders({}, "/?q=harmless&r=marker"), &denied);
  EXPECT_EQ(s.scans_skipped, 1u);  // both values known to the group
  EXPECT_TRUE(denied);             // and 2 still matches
  s = statsOf(e, withHeaders({}, "/?q=harmless&r=evil"), &denied);
  EXPECT_TRUE(denied);
  EXPECT_EQ(s.scans_skipped, 0u);
}

// The request's table of memo entries is the thread's, and a transaction
// whose phases run between another's takes it over: the other's entries
// (those its KVs remember included) are not read as its own when it comes
// back. Here the second request's arguments fill the table between the
// first's phases, each entry saying its value is known clean for rule 2's
// group; the first request's header is looked up again in phase 2, and found.
TEST(ValueMemo, ATransactionBetweenAnothersPhasesLeavesItItsOwnValues) {
  ValueMemo::forThread().clear();
  auto e = compileRules(R"(
SecArgumentsLimit 2000
SecRule REQUEST_HEADERS "@rx nothing-here" "id:1,phase:1,pass,nolog"
SecRule REQUEST_HEADERS|ARGS "@rx evil" "id:2,phase:2,deny"
)");
  ASSERT_TRUE(e);
  std::string many = "/?";
  for (int i = 0; i < 1000; ++i) many += "a" + std::to_string(i) + "=fine" + std::to_string(i) + "&";
  auto fill = [&] {
    Transaction t(e, "filler");
    t.processUri("GET", many, "HTTP/1.1");
    t.addRequestHeader("Host", "example.com");
    EXPECT_FALSE(t.processRequestHeaders().disruptive());
    EXPECT_FALSE(t.processRequestBody().disruptive());
  };
  fill();  // learnt: every argument clean for both groups
  Transaction first(e, "first");
  first.processUri("GET", "/", "HTTP/1.1");
  first.addRequestHeader("Host", "example.com");
  first.addRequestHeader("X-A", "evil");
  EXPECT_FALSE(first.processRequestHeaders().disruptive());  // X-A's entry made (rule 1's scan)
  fill();
  EXPECT_TRUE(first.processRequestBody().disruptive());
}

// CRS's 920450 in small: a header name restricted by policy is found
// through TX variables the head builds one per header and its chain walks.
constexpr const char* kKeyedSet = R"(
SecAction "id:1,phase:1,pass,nolog,setvar:'tx.restricted=/proxy/ /lock-token/'"
SecRule REQUEST_HEADERS_NAMES "@rx ^.*$" "id:10,phase:1,deny,capture,t:none,t:lowercase,msg:'restricted (%{MATCHED_VAR})',setvar:'tx.hn_10_%{tx.0}=/%{tx.0}/',chain"
  SecRule TX:/^hn_10_/ "@within %{tx.restricted}" "setvar:'tx.score=+5'"
)";

// The keyed set is decided by the memo once every header name is known to
// give the chain nothing: without building the TX variables. A restricted
// name is never so known, whatever names came before it. (Replays off: the
// third request with X-A alone would be replayed.)
TEST(ValueMemo, KeyedSetIsDecidedByTheHeaderNamesItKnows) {
  ValueMemo::forThread().clear();
  auto e = compileRulesWith("RAMPART_WAF_REPLAY", "0", kKeyedSet);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->memoLinks(), 1u);  // the head (whose ^.*$ alone is not remembered)
  bool denied = false;
  auto s = statsOf(e, withHeaders({{"X-A", "1"}}), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.links_skipped, 0u);  // learnt
  s = statsOf(e, withHeaders({{"X-A", "1"}}), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.links_skipped, 1u);
  EXPECT_EQ(s.link_values_known, 2u);  // Host, X-A
  for (int i = 0; i < 2; ++i) {
    Request req = withHeaders({{"X-A", "1"}, {"Lock-Token", "x"}});
    auto r = run(e, req);
    EXPECT_TRUE(r.first.disruptive()) << i;
    EXPECT_TRUE(r.fired(10)) << i;
    EXPECT_EQ(r.tx_("hn_10_lock-token"), "/lock-token/") << i;
    EXPECT_EQ(r.tx_("score"), "5") << i;
    ASSERT_FALSE(r.tx->matches().empty());
    EXPECT_EQ(r.tx->matches().front().msg, "restricted (/lock-token/)") << i;
  }
  // (The other names of that request were learnt, the restricted one not.)
  s = statsOf(e, withHeaders({{"X-A", "1"}}), &denied);
  EXPECT_EQ(s.links_skipped, 1u);
}

// What the rule leaves when it fails is what its head's last match leaves:
// TX:0 and MATCHED_VAR are the last header name, lower-cased, read by the
// rules after it, on the request that learns and on those that know.
TEST(ValueMemo, KeyedSetLeavesWhatItsHeadsLastMatchLeaves) {
  ValueMemo::forThread().clear();
  auto e = compileRules(std::string(kKeyedSet) + R"(
SecRule MATCHED_VAR "@streq x-last" "id:21,phase:1,pass,log"
SecRule TX:0 "@streq x-last" "id:20,phase:1,deny"
)");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->memoLinks(), 1u);  // 10 (20 and 21 read TX and MATCHED_VAR)
  for (int i = 0; i < 3; ++i) {
    Request last = withHeaders({{"X-Other", "1"}, {"X-Last", "1"}});
    auto r = run(e, last);
    EXPECT_TRUE(r.fired(20)) << i;
    EXPECT_TRUE(r.fired(21)) << i;
    EXPECT_TRUE(r.first.disruptive()) << i;
    EXPECT_EQ(r.tx_("0"), "x-last") << i;
    Request other = withHeaders({{"X-Last", "1"}, {"X-Other", "1"}});
    auto q = run(e, other);
    EXPECT_FALSE(q.first.disruptive()) << i;
    EXPECT_EQ(q.tx_("0"), "x-other") << i;
  }
}

// The keys the head builds that another rule reads (a regex selector that
// is not anchored, a literal key, a macro) are built: a header name whose
// key one of them reads is never known, on any request.
TEST(ValueMemo, KeyedSetBuildsTheKeysOtherRulesRead) {
  ValueMemo::forThread().clear();
  auto e = compileRules(std::string(kKeyedSet) + R"(
SecRule TX:/paramcounter_.*/ "@rx ." "id:30,phase:2,deny,status:430"
SecRule TX:hn_10_x-secret "@rx ." "id:31,phase:2,deny,status:431"
SecRule ARGS:q "@streq %{tx.hn_10_x-m}" "id:32,phase:2,deny,status:432"
)");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->memoLinks(), 1u);  // 10 (30 and 31 read TX, 32's argument is a macro)
  for (int i = 0; i < 2; ++i) {
    Request a = withHeaders({{"paramcounter_x", "1"}});
    EXPECT_EQ(run(e, a).first.status, 430) << i;
    Request b = withHeaders({{"X-Secret", "1"}});
    EXPECT_EQ(run(e, b).first.status, 431) << i;
    Request c = withHeaders({{"X-M", "1"}}, "/?q=/x-m/");
    EXPECT_EQ(run(e, c).first.status, 432) << i;
    Request d = withHeaders({{"X-Secret", "1"}, {"X-M", "1"}}, "/?q=/x-m/");
    EXPECT_EQ(run(e, d).first.status, 431) << i;
  }
  bool denied = false;
  statsOf(e, withHeaders({{"X-A", "1"}}), &denied);
  auto s = statsOf(e, withHeaders({{"X-A", "1"}}), &denied);
  EXPECT_FALSE(denied);
  EXPECT_EQ(s.links_skipped, 1u);  // the others' names are known
}

// Another writer of such keys, or a reader of the whole of TX, leaves the
// rule to its evaluation; so does a ctl that removes one of its targets
// from the names it reads.
TEST(ValueMemo, KeyedSetNeedsItsKeysToItself) {
  ValueMemo::forThread().clear();
  for (const char* more : {R"(SecRule REQUEST_HEADERS:X-Add "@rx ." "id:40,phase:1,pass,nolog,setvar:tx.hn_10_added=/proxy/")",
                           R"(SecRule TX "@streq /x-whole/" "id:41,phase:1,deny,status:441")",
                           R"(SecRule REQUEST_URI "@rx ." "id:42,phase:1,pass,nolog,setvar:'tx.hn_%{tx.0}=1'")"}) {
    auto e = compileRules(std::string(more) + kKeyedSet);
    ASSERT_TRUE(e) << more;
    EXPECT_EQ(e->memoLinks(), 0u) << more;
  }
  auto added = compileRules(
      std::string(R"(SecRule REQUEST_HEADERS:X-Add "@rx ." "id:40,phase:1,pass,nolog,setvar:tx.hn_10_added=/proxy/")") +
      kKeyedSet);
  ASSERT_TRUE(added);
  for (int i = 0; i < 2; ++i) {
    Request req = withHeaders({{"X-A", "1"}});
    EXPECT_FALSE(run(added, req).first.disruptive());
    Request with = withHeaders({{"X-Add", "1"}, {"X-A", "1"}});
    EXPECT_TRUE(run(added, with).fired(10)) << i;
  }
  auto removed = compileRules(
      std::string(
          R"(SecRule REQUEST_URI "@beginsWith /skip" "id:5,phase:1,pass,nolog,ctl:ruleRemoveTargetById=10;REQUEST_HEADERS_NAMES:proxy")") +
      kKeyedSet);
  ASSERT_TRUE(removed);
  for (int i = 0; i < 2; ++i) {
    Request skip = withHeaders({{"Proxy", "1"}}, "/skip");
    EXPECT_FALSE(run(removed, skip).first.disruptive()) << i;
    Request req = withHeaders({{"Proxy", "1"}});
    EXPECT_TRUE(run(removed, req).fired(10)) << i;
  }
}

}  // namespace
}  // namespace rampart::waf
