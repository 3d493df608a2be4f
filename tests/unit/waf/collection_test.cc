// Collection (TX and the other collections): find, add, unset and set again,
// key-ordered walks, copies and the captures' one-digit keys.
#include "waf/collection.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "waf/engine_impl.h"

namespace rampart::waf {
namespace {

std::shared_ptr<const CollValue> val(std::string v) {
  auto p = std::make_shared<CollValue>();
  p->value = v;
  return p;
}

void set(Collection& c, std::string_view key, std::string v) { c.add(key).second.p = val(std::move(v)); }

std::string get(const Collection& c, std::string_view key) {
  const auto* it = c.find(key);
  return it && it->second.p ? std::string(it->second.p->value) : "<none>";
}

std::vector<std::string> keys(const Collection& c, std::string_view prefix = "") {
  std::vector<const Collection::Item*> scratch;
  std::vector<std::string> out;
  c.forEachSorted(prefix, scratch, [](const Collection::Item&) { return true; },
                  [&](const Collection::Item& it) { out.emplace_back(it.first); });
  return out;
}

TEST(Collection, FindAddErase) {
  std::pmr::monotonic_buffer_resource arena;
  Collection c(&arena);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.find("a"), nullptr);
  set(c, "anomaly_score", "5");
  set(c, "", "empty key");
  EXPECT_EQ(get(c, "anomaly_score"), "5");
  EXPECT_EQ(get(c, ""), "empty key");
  EXPECT_EQ(c.size(), 2u);
  set(c, "anomaly_score", "10");  // the same item
  EXPECT_EQ(get(c, "anomaly_score"), "10");
  EXPECT_EQ(c.size(), 2u);
  c.erase("anomaly_score");
  EXPECT_EQ(c.find("anomaly_score"), nullptr);
  EXPECT_EQ(c.size(), 1u);
  c.erase("anomaly_score");  // unset twice: nothing more
  EXPECT_EQ(c.size(), 1u);
  // Set again after unset: found again, without the old value.
  Collection::Item& again = c.add("anomaly_score");
  EXPECT_EQ(again.second.p, nullptr);
  again.second.p = val("1");
  EXPECT_EQ(get(c, "anomaly_score"), "1");
  EXPECT_EQ(keys(c), (std::vector<std::string>{"", "anomaly_score"}));
}

TEST(Collection, ManyKeysGrowTheIndex) {
  std::pmr::monotonic_buffer_resource arena;
  Collection c(&arena);
  for (int i = 0; i < 5000; ++i) set(c, "key_" + std::to_string(i), std::to_string(i * 3));
  EXPECT_EQ(c.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(get(c, "key_" + std::to_string(i)), std::to_string(i * 3)) << i;
  EXPECT_EQ(c.find("key_5000"), nullptr);
  for (int i = 0; i < 5000; i += 2) c.erase("key_" + std::to_string(i));
  EXPECT_EQ(c.size(), 2500u);
  EXPECT_EQ(c.find("key_10"), nullptr);
  EXPECT_EQ(get(c, "key_11"), "33");
}

TEST(Collection, WalksInKeyOrderWithPrefix) {
  std::pmr::monotonic_buffer_resource arena;
  Collection c(&arena);
  for (const char* k : {"header_name_920450_host", "zeta", "header_name_920450_accept", "alpha", "header_name_x",
                        "header_name_920450_cookie"})
    set(c, k, "v");
  c.erase("header_name_920450_cookie");
  EXPECT_EQ(keys(c, "header_name_920450_"),
            (std::vector<std::string>{"header_name_920450_accept", "header_name_920450_host"}));
  EXPECT_EQ(keys(c), (std::vector<std::string>{"alpha", "header_name_920450_accept", "header_name_920450_host",
                                               "header_name_x", "zeta"}));
  // Only what `keep` takes is walked.
  std::vector<const Collection::Item*> scratch;
  std::vector<std::string> picked;
  c.forEachSorted("", scratch, [](const Collection::Item& it) { return it.first.size() == 5; },
                  [&](const Collection::Item& it) { picked.emplace_back(it.first); });
  EXPECT_EQ(picked, (std::vector<std::string>{"alpha"}));
}

TEST(Collection, CaptureDigitsUnsetFrom) {
  std::pmr::monotonic_buffer_resource arena;
  Collection c(&arena);
  for (const char* k : {"0", "1", "2", "5", "9", "10", "x"}) set(c, k, k);
  c.eraseDigitsFrom(2);
  EXPECT_EQ(keys(c), (std::vector<std::string>{"0", "1", "10", "x"}));
  set(c, "5", "again");
  EXPECT_EQ(get(c, "5"), "again");
  c.eraseDigitsFrom(0);
  EXPECT_EQ(keys(c), (std::vector<std::string>{"10", "x"}));
  c.eraseDigitsFrom(0);  // none left: nothing happens
  EXPECT_EQ(c.size(), 2u);
}

// The captures' keys "0"-"9" have their own slots: found, unset and set again
// as any key, through copies, and after ownKeys drops dead items before them.
TEST(Collection, DigitKeysThroughCopiesAndOwnKeys) {
  std::pmr::monotonic_buffer_resource arena;
  Collection c(&arena);
  set(c, "dead", "x");
  set(c, "3", "three");
  set(c, "a3", "not a digit key");
  c.erase("dead");
  EXPECT_EQ(get(c, "3"), "three");
  EXPECT_EQ(get(c, "4"), "<none>");
  EXPECT_EQ(c.find("33"), nullptr);
  c.ownKeys();  // "dead" goes: "3" moves to another index
  EXPECT_EQ(get(c, "3"), "three");
  set(c, "4", "four");
  std::pmr::monotonic_buffer_resource arena2;
  Collection copy(&arena2);
  copy = c;
  set(copy, "3", "changed");
  copy.erase("4");
  EXPECT_EQ(get(c, "3"), "three");
  EXPECT_EQ(get(c, "4"), "four");
  EXPECT_EQ(get(copy, "3"), "changed");
  EXPECT_EQ(get(copy, "4"), "<none>");
  set(copy, "4", "back");
  EXPECT_EQ(get(copy, "4"), "back");
  EXPECT_EQ(keys(copy), (std::vector<std::string>{"3", "4", "a3"}));
  const Collection copied(copy);
  EXPECT_EQ(get(copied, "4"), "back");
}

TEST(Collection, CopiesAreIndependentAndOwnKeysOutlivesTheSource) {
  std::pmr::monotonic_buffer_resource engine_arena;
  Collection init(&engine_arena);
  {
    std::pmr::monotonic_buffer_resource probe_arena;
    Collection probe(&probe_arena);
    set(probe, "critical_anomaly_score", "5");
    set(probe, "gone", "x");
    probe.erase("gone");
    init = probe;
    init.ownKeys();  // the probe's arena goes at the end of this block
  }
  EXPECT_EQ(keys(init), (std::vector<std::string>{"critical_anomaly_score"}));
  std::pmr::monotonic_buffer_resource tx_arena;
  Collection tx(&tx_arena);
  tx = init;
  set(tx, "critical_anomaly_score", "7");
  set(tx, "inbound_anomaly_score_pl1", "0");
  tx.erase("critical_anomaly_score");
  EXPECT_EQ(get(init, "critical_anomaly_score"), "5");
  EXPECT_EQ(init.find("inbound_anomaly_score_pl1"), nullptr);
  EXPECT_EQ(init.size(), 1u);
  EXPECT_EQ(tx.size(), 1u);
  const Collection copy(tx);
  EXPECT_EQ(keys(copy), (std::vector<std::string>{"inbound_anomaly_score_pl1"}));
}

// setvar keys are lower-cased only when they hold an upper-case letter:
// every position of a word and each byte around the letters' range.
TEST(Collection, HasAsciiUpperFindsEveryLetterAndNothingElse) {
  EXPECT_FALSE(hasAsciiUpper(""));
  EXPECT_FALSE(hasAsciiUpper("header_name_920450_user-agent"));
  for (size_t len = 1; len <= 20; ++len)
    for (size_t at = 0; at < len; ++at) {
      std::string s(len, 'x');
      for (int c = 0; c < 256; ++c) {
        s[at] = char(c);
        EXPECT_EQ(hasAsciiUpper(s), c >= 'A' && c <= 'Z') << len << " " << at << " " << c;
      }
    }
}

}  // namespace
}  // namespace rampart::waf
