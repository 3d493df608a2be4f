// Collection: the variables of one SecLang collection (TX, IP, SESSION...),
// by lower-case key. CRS reads and writes TX a few hundred times a request
// (macros, setvar, @within's lists, the anomaly scores) and every request
// starts from the ~110 variables of the folded phase-1 rules, so:
//  - a key is found by hash (open addressing, linear probing) instead of a
//    walk of string comparisons down a tree;
//  - items live in one vector, the index in another: a copy (each request's
//    start from tx_init) is two vector copies, not a node allocation per key;
//  - an unset variable stays in place, marked dead, and comes back to life
//    when set again: no tombstones, no churn for TX:0-9 between matches;
//  - walks in key order (TX:/^header_name_/, a whole collection) sort the
//    items they pick (forEachSorted), and only those.
// Key bytes come from the collection's memory resource and are never freed
// one by one (a transaction's arena, the engine's for tx_init). A copy views
// the keys of the collection it copies: that one's storage must outlive it.
//
//   Collection tx(&arena);
//   tx.add("anomaly_score").second.p = value;
//   if (auto* it = tx.find("anomaly_score")) use(it->second.p->value);
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rampart::waf {

// A collection variable. Values are immutable and shared: setvar installs a
// new one, so a rule that is reading the old one (views in its target list)
// keeps it alive through `pins` without copying strings per read.
// Its strings take the memory resource it is made with (a transaction's
// arena: no heap allocation per setvar); a plain copy takes the default one.
struct CollValue {
  using allocator_type = std::pmr::polymorphic_allocator<char>;
  std::pmr::string name;  // as first written, when not the key itself (empty: the key, already in lower case)
  std::pmr::string value;

  CollValue() = default;
  explicit CollValue(const allocator_type& a) : name(a), value(a) {}
  CollValue(const CollValue&) = default;
  CollValue(const CollValue& o, const allocator_type& a) : name(o.name, a), value(o.value, a) {}
};
struct CollEntry {
  std::shared_ptr<const CollValue> p;  // null: no value (an unset or just added variable)
};

class Collection {
 public:
  struct Item {
    std::string_view first;  // the key, lower case
    CollEntry second;
    uint32_t hash = 0;
    bool live = false;  // false: unset (kept for the key's next setvar)
    // Read by a rule the engine replays while TX is as its simulation left it
    // (Engine::simulateTxPath): a write to it by anything else ends the replay.
    bool watched = false;
  };

  explicit Collection(std::pmr::memory_resource* r) : res_(r), items_(r), index_(r) {}
  Collection(const Collection& o)
      : res_(o.res_), items_(o.items_, o.res_), index_(o.index_, o.res_), live_(o.live_), digits_(o.digits_) {
    std::memcpy(digit_at_, o.digit_at_, sizeof digit_at_);
  }
  // Keeps its own memory resource; the keys are views of `o`'s.
  Collection& operator=(const Collection& o) {
    if (this != &o) {
      items_.reserve(o.items_.size() + 64);  // (a request adds some: no regrowth right away)
      items_.assign(o.items_.begin(), o.items_.end());
      // (assign() through the polymorphic allocator copies the ~512 slots one
      // by one: ~1.5k instructions a request's copy of tx_init)
      index_.resize(o.index_.size());
      if (!index_.empty()) std::memcpy(index_.data(), o.index_.data(), index_.size() * sizeof(uint32_t));
      live_ = o.live_;
      digits_ = o.digits_;
      std::memcpy(digit_at_, o.digit_at_, sizeof digit_at_);
    }
    return *this;
  }

  // The same keys, in the same order, with the same values (a recorded phase
  // that left TX as it found it: RequestReplay).
  bool sameAs(const Collection& o) const {
    if (items_.size() != o.items_.size() || live_ != o.live_) return false;
    for (size_t i = 0; i < items_.size(); ++i)
      if (!sameItem(i, o)) return false;
    return true;
  }
  // Item i is o's item i: the same key, value and flags.
  bool sameItem(size_t i, const Collection& o) const {
    const Item& a = items_[i];
    const Item& b = o.items_[i];
    if (a.live != b.live || a.watched != b.watched || a.first != b.first) return false;
    const CollValue* pa = a.second.p.get();
    const CollValue* pb = b.second.p.get();
    return pa == pb || (pa && pb && pa->name == pb->name && pa->value == pb->value);
  }
  // Item i made o's item i (its key, value and flags), for a collection that
  // is o before o changed some of its items and added others: i is one of
  // this collection's items or the next (RequestReplay's phase applied as
  // what it changed). The key and value are o's (o outlives this).
  void setItemAs(size_t i, const Collection& o) {
    const Item& src = o.items_[i];
    const uint16_t bit = digitBit(src.first);
    if (i == items_.size()) {
      if ((items_.size() + 1) * 2 > index_.size()) grow();
      size_t s = src.hash & mask();
      while (index_[s] != 0) s = (s + 1) & mask();
      items_.push_back(src);
      index_[s] = static_cast<uint32_t>(items_.size());
      if (const int d = digitOf(src.first); d >= 0) digit_at_[d] = static_cast<uint32_t>(items_.size());
      if (src.live) ++live_, digits_ |= bit;
      return;
    }
    Item& it = items_[i];
    if (it.live != src.live) {
      if (src.live) ++live_, digits_ |= bit;
      else --live_, digits_ &= static_cast<uint16_t>(~bit);
    }
    it = src;
  }

  bool empty() const { return live_ == 0; }
  size_t size() const { return live_; }

  Item* find(std::string_view key) { return const_cast<Item*>(std::as_const(*this).find(key)); }
  const Item* find(std::string_view key) const {
    if (const int d = digitOf(key); d >= 0) {  // TX:0-9, by their own slots
      const uint32_t at = digit_at_[d];
      return at != 0 && items_[at - 1].live ? &items_[at - 1] : nullptr;
    }
    if (index_.empty()) return nullptr;
    const uint32_t h = hashOf(key);
    for (size_t i = h & mask();; i = (i + 1) & mask()) {
      const uint32_t s = index_[i];
      if (s == 0) return nullptr;
      const Item& it = items_[s - 1];
      if (it.hash == h && it.first == key) return it.live ? &it : nullptr;
    }
  }

  // The item of `key`, added (live, without a value) when it is not there.
  // A reference into the collection: good until the next add().
  Item& add(std::string_view key) {
    Item& it = itemOf(key);
    if (!it.live) {
      it.live = true;
      ++live_;
      digits_ |= digitBit(key);
    }
    return it;
  }
  // Marks `key` watched (Item::watched), as an unset item when it is not there.
  void watch(std::string_view key) { itemOf(key).watched = true; }

  void erase(Item& it) {
    if (!it.live) return;
    it.live = false;
    it.second.p.reset();
    --live_;
    digits_ &= ~digitBit(it.first);
  }
  void erase(std::string_view key) {
    if (Item* it = find(key)) erase(*it);
  }
  // Unsets the one-digit keys from `from` to 9 (the captures TX:0-9 a match
  // did not set): none looked up when none is set.
  void eraseDigitsFrom(int from) {
    for (int d = from; d < 10 && (digits_ >> d) != 0; ++d)
      if (digits_ >> d & 1) erase(digitKey(d));
  }
  // The key "d" (0-9).
  static std::string_view digitKey(int d) {
    static constexpr std::string_view kDigit[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    return kDigit[d];
  }

  // Every live item, in no particular order.
  template <class F>
  void forEach(F&& f) {
    for (auto& it : items_)
      if (it.live) f(it);
  }
  // The live items whose key begins with `prefix` ("" for all) and that
  // `keep` takes, in key order (only those are sorted). `scratch` is the
  // caller's buffer; f must not add to the collection.
  template <class Keep, class F>
  void forEachSorted(std::string_view prefix, std::vector<const Item*>& scratch, Keep&& keep, F&& f) const {
    static const std::vector<uint32_t> kNone;
    forEachSortedFrom(kNone, 0, prefix, scratch, [](const Item&) { return false; }, keep, f);
  }
  // The same over the items at `known` (indices, each taken when live and
  // `keep_known` takes it) and those from index `from` on (when live, with
  // `prefix`, and `keep` takes them): a walk of the items a request added
  // instead of all of them.
  template <class KeepKnown, class Keep, class F>
  void forEachSortedFrom(const std::vector<uint32_t>& known, size_t from, std::string_view prefix,
                         std::vector<const Item*>& scratch, KeepKnown&& keep_known, Keep&& keep, F&& f) const {
    scratch.clear();
    for (uint32_t i : known) {
      const Item& it = items_[i];
      if (it.live && keep_known(it)) scratch.push_back(&it);
    }
    for (size_t i = from; i < items_.size(); ++i) {
      const Item& it = items_[i];
      if (it.live && it.first.starts_with(prefix) && keep(it)) scratch.push_back(&it);
    }
    std::sort(scratch.begin(), scratch.end(), [](const Item* a, const Item* b) { return a->first < b->first; });
    for (const Item* it : scratch) f(*it);
  }
  // Items ever added (live or not): a copy has its source's at the same indices.
  size_t itemCount() const { return items_.size(); }
  std::string_view keyAt(size_t i) const { return items_[i].first; }
  template <class F>
  void forEachItem(F&& f) const {
    for (size_t i = 0; i < items_.size(); ++i) f(i, items_[i]);
  }

  // Copies every key into this collection's own memory resource (a copy whose
  // source goes away: the engine's tx_init from its probe transaction), and
  // drops the dead items.
  void ownKeys() {
    std::pmr::vector<Item> kept(res_);
    kept.reserve(live_);
    for (auto& it : items_) {
      if (!it.live) continue;
      const std::string_view key = it.first;
      char* bytes = static_cast<char*>(res_->allocate(key.empty() ? 1 : key.size(), 1));
      if (!key.empty()) std::memcpy(bytes, key.data(), key.size());
      kept.emplace_back(std::move(it)).first = std::string_view(bytes, key.size());
    }
    items_ = std::move(kept);
    // Room for a request's own variables (CRS adds ~40) without a regrowth.
    reindex((items_.size() + 128) * 2);
    std::memset(digit_at_, 0, sizeof digit_at_);
    for (size_t n = 0; n < items_.size(); ++n)
      if (const int d = digitOf(items_[n].first); d >= 0) digit_at_[d] = static_cast<uint32_t>(n + 1);
  }

  // Every item's key (unset ones too: a watched key stays watched) copied
  // into this collection's memory resource, in place: its items, index and
  // digits as they were.
  void ownAllKeys() {
    for (auto& it : items_) {
      const std::string_view key = it.first;
      char* bytes = static_cast<char*>(res_->allocate(key.empty() ? 1 : key.size(), 1));
      if (!key.empty()) std::memcpy(bytes, key.data(), key.size());
      it.first = std::string_view(bytes, key.size());
    }
  }
  // Each value given to keep(const CollValue&), which returns what the item points to instead.
  template <class Keep>
  void rehomeValues(Keep&& keep) {
    for (auto& it : items_)
      if (it.second.p) it.second.p = std::shared_ptr<const CollValue>(std::shared_ptr<const CollValue>(), &keep(*it.second.p));
  }

  static uint32_t hashOf(std::string_view k) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ k.size();
    size_t i = 0;
    for (; i + 8 <= k.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, k.data() + i, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
    }
    uint64_t w = 0;
    std::memcpy(&w, k.data() + i, k.size() - i);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    return static_cast<uint32_t>(h);
  }

 private:
  size_t mask() const { return index_.size() - 1; }
  // The item of `key`, live or not; made (unset) when it is not there.
  Item& itemOf(std::string_view key) {
    const int d = digitOf(key);
    if (d >= 0 && digit_at_[d] != 0) return items_[digit_at_[d] - 1];
    if ((items_.size() + 1) * 2 > index_.size()) grow();
    const uint32_t h = hashOf(key);
    size_t i = h & mask();
    for (;; i = (i + 1) & mask()) {
      const uint32_t s = index_[i];
      if (s == 0) break;
      Item& it = items_[s - 1];
      if (it.hash == h && it.first == key) return it;
    }
    char* bytes = static_cast<char*>(res_->allocate(key.empty() ? 1 : key.size(), 1));
    if (!key.empty()) std::memcpy(bytes, key.data(), key.size());
    Item& it = items_.emplace_back();
    it.first = std::string_view(bytes, key.size());
    it.hash = h;
    index_[i] = static_cast<uint32_t>(items_.size());
    if (d >= 0) digit_at_[d] = static_cast<uint32_t>(items_.size());
    return it;
  }
  // 0-9 for the keys "0" to "9" (the captures), else -1.
  static int digitOf(std::string_view key) {
    return key.size() == 1 && key[0] >= '0' && key[0] <= '9' ? key[0] - '0' : -1;
  }
  static uint16_t digitBit(std::string_view key) {
    const int d = digitOf(key);
    return d >= 0 ? static_cast<uint16_t>(1u << d) : 0;
  }
  void grow() { reindex(index_.empty() ? 256 : index_.size() * 2); }
  void reindex(size_t want) {
    size_t slots = 256;
    while (slots < want || items_.size() * 2 > slots) slots *= 2;
    index_.assign(slots, 0);
    for (size_t n = 0; n < items_.size(); ++n) {
      size_t i = items_[n].hash & (slots - 1);
      while (index_[i] != 0) i = (i + 1) & (slots - 1);
      index_[i] = static_cast<uint32_t>(n + 1);
    }
  }

  std::pmr::memory_resource* res_;
  std::pmr::vector<Item> items_;
  std::pmr::vector<uint32_t> index_;  // 0: empty slot, else 1 + index into items_
  size_t live_ = 0;
  uint16_t digits_ = 0;  // bit d: the key "d" is live
  // 1 + the index in items_ of the key "d" (live or not), 0 when it has none:
  // the captures TX:0-9 are set and read ~2 times per match (920450: 12 a
  // request) without hashing and probing.
  uint32_t digit_at_[10] = {};
};

}  // namespace rampart::waf
