// What a worker remembers across requests about the values it has scanned:
// for each value (by a keyed hash of its bytes), the phase-scan groups in
// which it matched none of the group's patterns, and the rule links (up to 64
// chosen when the rules compile, Engine::assignMemoBits) that did not match
// it. Browsers send the same User-Agent, Accept, Accept-Language,
// Accept-Encoding, Sec-Fetch-* and Host values request after request; a
// value known to match nothing in a group is
// left out of that group's scan (not transformed, not copied, not scanned), a
// group whose every value is known is not scanned at all, and a link does not
// test a value it is known not to match.
//
// Exactness: a value is recorded for a group only after a scan of that group
// in which no pattern matched anywhere (so none matched it, through any of the
// group's pipelines), and a group's patterns match a value alone no more than
// they match it among other values (transaction.cc, scanGroup). Patterns
// Hyperscan left out of a group's database (reported as always possible, their
// links evaluated in full) do not count: no link reads their report. A link is
// recorded for a value when none of the value's transformed stages matched;
// only links whose operator's outcome is a function of the value alone get a
// bit.
//
// Forgery: the key of a value longer than 11 bytes is SipHash-1-3 (128-bit
// output, 96 bits of it kept) under a key drawn from the kernel at start, per
// process: a request cannot be shaped to collide with a recorded value
// without that key (2^-96 per try, short of breaking SipHash). A shorter
// value's key is its bytes and length (exact: it cannot collide with another
// short one, and a long one's hash cannot be aimed at it without the SipHash
// key). The key is taken once per distinct value per request, and a value of
// up to 176 bytes whose bytes equal one the thread hashed lately takes that
// one's key (value_memo.cc, RecentKeys). Which set a key
// goes to is a multiplicative mix of it: short values can be chosen to crowd
// a set, which only pushes values out (they are scanned again).
//
// Per thread, two-way set-associative, a fixed size (kSets): a value pushed
// out is scanned again next time. Entries name the engine they were made for
// (its memo_id), so engines of several rule sets or generations share the
// table without mixing their groups and links.
//
//   auto k = ValueMemo::hash(value);
//   ValueMemo::Entry* e = ValueMemo::forThread().find(k, engine_id);
//   uint64_t known = e ? e->clean : 0;
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

namespace rampart::waf::match {

class ValueMemo {
 public:
  struct Key {
    uint64_t a = 0, b = 0;
  };
  // 32 bytes, two to a cache line (a set). The key is the hash's first 64 bits
  // and 32 of its second: 96 bits compared.
  struct Entry {
    uint64_t a = 0;
    uint32_t b = 0;
    uint32_t engine = 0;  // Engine::Impl::memo_id; 0: empty
    uint64_t clean = 0;   // bit g: no pattern of scan group g matches the value
    uint64_t links = 0;   // bit l: the rule link with memo_bit l does not match it
    bool holds(const Key& k, uint32_t eng) const { return engine == eng && a == k.a && b == uint32_t(k.b); }
  };
  static constexpr size_t kSets = 8192;  // 16384 entries, 512 KiB a thread
  static constexpr size_t kExactMax = 11;  // values up to this long are their own key

  static Key hash(std::string_view value);
  static ValueMemo& forThread();
  // On by default; `waf: { value_memo: false }` in the gateway, `--memo off` in waf inspect.
  static void setEnabled(bool on) { enabled_.store(on, std::memory_order_relaxed); }
  static bool enabled() { return enabled_.load(std::memory_order_relaxed); }
  // A new id for an engine (never 0).
  static uint32_t newEngineId();

  // The entry of k for engine eng, null when the memo does not have it.
  Entry* find(const Key& k, uint32_t eng) {
    Set& set = sets_[setOf(k)];
    if (set.way[0].holds(k, eng)) return &set.way[0];
    if (set.way[1].holds(k, eng)) return &set.way[1];
    return nullptr;
  }
  // A new entry for k (not there): the set's newer entry moves over its older one.
  Entry& insert(const Key& k, uint32_t eng) {
    Set& set = sets_[setOf(k)];
    set.way[1] = set.way[0];
    set.way[0] = Entry{k.a, uint32_t(k.b), eng, 0, 0};
    return set.way[0];
  }
  void clear();  // forgets every value (waf inspect between passes); the stats stay
  // Moves at each clear(): what was read from the memo before is not to be
  // used after (Transaction::Impl::HeadMemo keeps it).
  uint64_t generation() const { return generation_; }

  // What the thread's scans did with it (waf inspect prints them).
  struct Stats {
    uint64_t values = 0;         // values a scan group gathered
    uint64_t values_known = 0;   // ... of them left out, known to match nothing there
    uint64_t scans = 0;          // groups with values to scan
    uint64_t scans_skipped = 0;  // ... of them not scanned: every value known
    // ... of them not scanned: the values not known hold none of the bytes
    // the group's patterns need (match::neededClasses)
    uint64_t scans_sieved = 0;
    uint64_t link_values = 0;        // values a remembered rule link tested
    uint64_t link_values_known = 0;  // ... of them passed over, known not to match
    uint64_t links = 0;              // remembered rule links evaluated
    uint64_t links_skipped = 0;      // ... of them decided without their values: every one known
    uint64_t header_sets = 0;        // requests whose merged headers were looked up as a set
    uint64_t header_sets_known = 0;  // ... of them found: their header lists' masks taken whole
    uint64_t request_sets = 0;        // requests looked up as a set (their line and headers)
    uint64_t request_sets_known = 0;  // ... of them found: their memo questions answered as before
    uint64_t request_phases_replayed = 0;  // phases of those replayed (not walked)
    Stats& operator+=(const Stats& o) {
      values += o.values;
      values_known += o.values_known;
      scans += o.scans;
      scans_skipped += o.scans_skipped;
      scans_sieved += o.scans_sieved;
      link_values += o.link_values;
      link_values_known += o.link_values_known;
      links += o.links;
      links_skipped += o.links_skipped;
      header_sets += o.header_sets;
      header_sets_known += o.header_sets_known;
      request_sets += o.request_sets;
      request_sets_known += o.request_sets_known;
      request_phases_replayed += o.request_phases_replayed;
      return *this;
    }
  };
  Stats stats;

 private:
  ValueMemo();
  struct alignas(64) Set {
    Entry way[2];
  };
  static size_t setOf(const Key& k) {
    static_assert((kSets & (kSets - 1)) == 0 && kSets == 8192);
    return static_cast<size_t>(((k.a ^ (uint64_t(uint32_t(k.b)) << 21)) * 0x9E3779B97F4A7C15ull) >> (64 - 13));
  }
  std::unique_ptr<Set[]> sets_;
  uint64_t generation_ = 1;
  static std::atomic<bool> enabled_;
};

}  // namespace rampart::waf::match
