#include "waf/match/hs_prefilter.h"
#include "waf/match/regex.h"

#include <hs/hs.h>
#include <re2/re2.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <unordered_set>

namespace rampart::waf::match {

struct HsPrefilter::Db {
  hs_database_t* db = nullptr;
  uint64_t id = 0;  // unique in the process: which databases a thread's scratch fits
  std::vector<unsigned> flags;  // by expression, as compiled (exact or prefilter mode)
  std::vector<uint8_t> always;  // by id: left out of the set (an expression of it), always a candidate
  std::vector<unsigned> id_flags;  // by id: its expressions' flags (they agree on HS_FLAG_SINGLEMATCH)
  ~Db() {
    if (db) hs_free_database(db);
  }
};

namespace {

constexpr unsigned kBase = HS_FLAG_DOTALL | HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
// Part of every cache key: bumped whenever the flags or build()'s fallbacks
// change, so that a database cached by an older build is not taken for this one's.
constexpr std::string_view kBuildScheme = "scheme 5\n";
// Hyperscan refuses an expression longer than 16000 bytes ("Pattern length
// exceeds limit"): a long phrase list (CRS 930120's lfi-os-files.data, 1,100
// file names, ~21 KB as an alternation) is split into expressions of up to
// this many bytes that report under one id.
constexpr size_t kMaxExpression = 12000;

// Whether a pattern Hyperscan refuses in exact mode may try prefilter mode.
bool approximable(const std::string& t, unsigned flags) {
  return !(flags & HS_FLAG_PREFILTER) && t.size() <= HsPrefilter::kLongPattern;
}

std::atomic<uint64_t> next_db_id{1};

// One scratch per thread, grown for every database the thread scans (the
// first time it scans it). Hyperscan checks little of a scratch's fit at scan
// time, so a scratch must have been allocated for each database it is used
// with: the ids of those are kept.
struct ThreadScratch {
  hs_scratch_t* s = nullptr;
  std::unordered_set<uint64_t> fits;
  ~ThreadScratch() {
    if (s) hs_free_scratch(s);
  }
};

ThreadScratch& threadScratch() {
  thread_local ThreadScratch t;
  return t;
}

hs_scratch_t* scratchFor(const HsPrefilter::Db& db) {
  ThreadScratch& t = threadScratch();
  if (t.s && t.fits.count(db.id)) return t.s;
  if (hs_alloc_scratch(db.db, &t.s) != HS_SUCCESS) return nullptr;
  if (t.fits.size() > 4096) t.fits.clear();  // ids of freed databases: refit as needed
  t.fits.insert(db.id);
  return t.s;
}

bool parses(const std::string& p, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(p.c_str(), flags, &info, &err) != HS_SUCCESS) {
    hs_free_compile_error(err);
    return false;
  }
  std::free(info);
  return true;
}

bool compilesAlone(const std::string& p, unsigned flags) {
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile(p.c_str(), flags, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    hs_free_compile_error(err);
    return false;
  }
  hs_free_database(db);
  return true;
}

struct ScanContext {
  uint8_t* hits;  // ids are 0 .. size()-1
  const unsigned* flags;  // as compiled, by id (Db::id_flags)
  const std::vector<uint32_t>* separators;
};

int onMatch(unsigned id, unsigned long long, unsigned long long to, unsigned, void* ctx) {
  auto& c = *static_cast<ScanContext*>(ctx);
  // A match whose last byte is a separator spans two values (the separator is
  // in neither): not a candidate. Only patterns that can match a separator
  // are reported at every match (no SINGLEMATCH), so that their real matches
  // are still seen.
  if (!(c.flags[id] & HS_FLAG_SINGLEMATCH) && to > 0 && c.separators &&
      std::binary_search(c.separators->begin(), c.separators->end(), static_cast<uint32_t>(to - 1)))
    return 0;
  c.hits[id] = 1;
  return 0;
}

// Databases alive anywhere in the process, by their patterns and flags.
struct Cache {
  std::mutex mu;
  std::map<std::string, std::weak_ptr<const HsPrefilter::Db>> dbs;
  bool dir_set = false;
  std::string dir;
};
Cache& cache() {
  static Cache c;
  return c;
}

std::string defaultCacheDir() {
  if (const char* d = std::getenv("RAMPART_CACHE_DIR")) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/rampart";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/rampart";
  return {};
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// File: "rampart-hs 2\n", then u64 key length, key, u32 n, n flags (u32, by
// expression), u32 m, m always bytes (by id), u64 database length,
// hs_serialize_database's bytes.
constexpr std::string_view kMagic = "rampart-hs 2\n";

// Db::id_flags from the expressions' flags and ids.
void setIdFlags(HsPrefilter::Db& db, const std::vector<uint32_t>& id_of) {
  db.id_flags.assign(db.always.size(), 0);
  for (size_t i = 0; i < id_of.size() && i < db.flags.size(); ++i) db.id_flags[id_of[i]] = db.flags[i];
}

std::string cacheFile(const std::string& dir, const std::string& key) {
  char name[64];
  std::snprintf(name, sizeof name, "/hs-%016llx.db", static_cast<unsigned long long>(fnv1a(key)));
  return dir + name;
}

bool readFile(const std::string& path, std::string& data) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  data.clear();
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, got);
  std::fclose(f);
  return true;
}

// Written aside and renamed: a reader never sees half a file.
void writeAside(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return;
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) std::remove(tmp.c_str());
}

std::shared_ptr<HsPrefilter::Db> loadFromDisk(const std::string& path, const std::string& key,
                                              const std::vector<uint32_t>& id_of, size_t ids) {
  const size_t n = id_of.size();
  std::string data;
  if (!readFile(path, data)) return nullptr;
  size_t at = 0;
  auto take = [&](void* out, size_t len) {
    if (data.size() - at < len) return false;
    std::memcpy(out, data.data() + at, len);
    at += len;
    return true;
  };
  if (data.compare(0, kMagic.size(), kMagic) != 0) return nullptr;
  at = kMagic.size();
  uint64_t klen = 0;
  if (!take(&klen, sizeof klen) || klen != key.size() || data.size() - at < klen ||
      data.compare(at, klen, key) != 0)
    return nullptr;
  at += klen;
  uint32_t count = 0;
  if (!take(&count, sizeof count) || count != n) return nullptr;
  auto db = std::make_shared<HsPrefilter::Db>();
  db->flags.resize(n);
  db->always.resize(ids);
  uint32_t m = 0;
  uint64_t dlen = 0;
  if (!take(db->flags.data(), n * sizeof(unsigned)) || !take(&m, sizeof m) || m != ids ||
      !take(db->always.data(), ids) || !take(&dlen, sizeof dlen) || data.size() - at != dlen)
    return nullptr;
  setIdFlags(*db, id_of);
  hs_database_t* hdb = nullptr;
  if (hs_deserialize_database(data.data() + at, dlen, &hdb) != HS_SUCCESS) return nullptr;
  db->db = hdb;
  db->id = next_db_id++;
  std::error_code ec;
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now(), ec);
  return db;
}

void saveToDisk(const std::string& dir, const std::string& path, const std::string& key, const HsPrefilter::Db& db) {
  char* bytes = nullptr;
  size_t len = 0;
  if (hs_serialize_database(db.db, &bytes, &len) != HS_SUCCESS) return;
  std::string out(kMagic);
  uint64_t klen = key.size();
  out.append(reinterpret_cast<const char*>(&klen), sizeof klen).append(key);
  uint32_t n = static_cast<uint32_t>(db.flags.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(reinterpret_cast<const char*>(db.flags.data()), n * sizeof(unsigned));
  uint32_t m = static_cast<uint32_t>(db.always.size());
  out.append(reinterpret_cast<const char*>(&m), sizeof m);
  out.append(reinterpret_cast<const char*>(db.always.data()), m);
  uint64_t dlen = len;
  out.append(reinterpret_cast<const char*>(&dlen), sizeof dlen).append(bytes, len);
  std::free(bytes);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // Bounded: the oldest files beyond 256 go (a file read back is touched, so
  // the databases in use stay).
  std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind("hs-", 0) == 0) files.push_back({e.last_write_time(ec), e.path()});
  if (files.size() >= 256) {
    std::sort(files.begin(), files.end());
    for (size_t i = 0; i + 255 < files.size(); ++i) std::filesystem::remove(files[i].second, ec);
  }
  writeAside(path, out);
}

}  // namespace

void HsPrefilter::setCacheDir(std::string dir) {
  auto& c = cache();
  std::lock_guard<std::mutex> g(c.mu);
  c.dir = std::move(dir);
  c.dir_set = true;
}

std::string HsPrefilter::cacheDir() {
  auto& c = cache();
  std::lock_guard<std::mutex> g(c.mu);
  if (!c.dir_set) {
    c.dir = defaultCacheDir();
    c.dir_set = true;
  }
  return c.dir;
}

namespace {
// Whether a flag group "(?i)" or "(?i:" (with other flags beside) turns case off somewhere.
bool ignoresCase(std::string_view p) {
  for (size_t at = p.find("(?"); at != std::string_view::npos; at = p.find("(?", at + 2)) {
    if (at > 0 && p[at - 1] == '\\') continue;
    for (size_t k = at + 2; k < p.size() && p[k] != ')' && p[k] != ':'; ++k) {
      if (p[k] == '-') break;  // (?-i): what follows turns flags off
      if (p[k] == 'i') return true;
    }
  }
  return false;
}
}  // namespace

std::string HsPrefilter::translate(std::string_view p, bool re2) {
  static constexpr std::string_view kSpace = "\\t\\n\\f\\r\\x20";
  // RE2's \S in Latin-1: every byte but those five (so \v is in).
  static constexpr std::string_view kNonSpace = "\\x00-\\x08\\x0b\\x0e-\\x1f\\x21-\\xff";
  // Bytes >= 0x80 are taken as they are (RE2 runs Latin-1, Hyperscan on bytes)
  // unless the pattern ignores case: RE2 folds Latin-1 letters (\xe9 and \xc9),
  // Hyperscan only ASCII, so a caseless pattern with them is refused.
  const bool caseless = ignoresCase(p);
  auto hex = [](unsigned char v) {
    char esc[5];
    std::snprintf(esc, sizeof esc, "\\x%02x", v);
    return std::string(esc);
  };
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c >= 0x80) {
      if (caseless) return {};
      out += hex(c);
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= p.size()) return {};
      char n = p[i + 1];
      if (static_cast<unsigned char>(n) >= 0x80) return {};
      if (n == 'x' && i + 2 < p.size()) {
        char h = p[i + 2];
        if (h == '{') {  // \x{hh}: one byte in Latin-1, nothing wider
          size_t end = p.find('}', i + 3);
          if (end == std::string_view::npos || end == i + 3 || end - (i + 3) > 2) return {};
          unsigned v = 0;
          if (std::from_chars(p.data() + i + 3, p.data() + end, v, 16).ptr != p.data() + end) return {};
          if (v >= 0x80 && caseless) return {};
          out += hex(static_cast<unsigned char>(v));
          i = end;
          continue;
        }
        if (std::isxdigit(static_cast<unsigned char>(h)) && !(h >= '0' && h <= '7') && caseless) return {};
      }
      if (!in_class && (n == 'A' || n == 'z' || n == 'Z' || n == 'G')) return {};
      if (re2 && n == 's') {
        if (in_class) out.append(kSpace);
        else out.append("[").append(kSpace).append("]");
        ++i;
        continue;
      }
      if (re2 && n == 'S') {
        if (in_class) out.append(kNonSpace);
        else out.append("[^").append(kSpace).append("]");
        ++i;
        continue;
      }
      out += p[i];
      out += n;
      ++i;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += '[';
      // A ']' right after '[' or '[^' is a literal member.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // [:alpha:]
      size_t end = p.find(":]", i + 2);
      if (end == std::string_view::npos) return {};
      out.append(p.substr(i, end + 2 - i));
      i = end + 1;
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += p[i];
  }
  return out;
}

namespace {

// What "slow" is measured on: a benign request's values as the scans see them.
constexpr std::string_view kCalibrationSample =
    "/products/leather-running-shoes-48213?color=black&size=42&ref=newsletter\n"
    "shop.example.com\n"
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36\n"
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\n"
    "en-US,en;q=0.9,de;q=0.8\ngzip, deflate, br\nhttps://shop.example.com/category/shoes?page=2\n"
    "sessionid=k3J9xQ2mZp7LwT4vB8nR1cY6hF0sD5aE; csrftoken=Zx8Qm2Lp4Rt6Vb9Nc1Hj3Kd5Fg7Sa0We; "
    "_ga=GA1.2.1638273645.1700412345; cookie_consent=accepted\n"
    "same-origin\nnavigate\ndocument\nblack\n42\nnewsletter\ncolor\nsize\nref\n"
    "Question about my order\nChloe O'Neill\nchloe.oneill42@example.com\n+44 20 7946 0958\n"
    "221 Baker Street\nFlat 3, second floor\nLondon\nNW1 6XE\n"
    "Hello, I ordered the leather running shoes last week and would like to change the size to 43 if "
    "that is still possible. Thank you and best regards.\n";
// Only long patterns are measured (the command lists of CRS's RCE rules).
// Hyperscan has to be this many times slower than RE2 on the same values to
// be left out: CRS's long patterns fall far on either side (its four RCE
// command lists 5-10x, every other long pattern under 0.8x).
constexpr double kSlowRatio = 2.5;
// Measured rounds (after one warm-up): each scans the sample with Hyperscan
// and runs RE2 over its values one by one, back to back, and the best of
// each side is compared. Both sides see the same machine at the same moment,
// so a busy machine slows both. Timing Hyperscan alone against a fixed 5 ns
// a byte (the rule until 2026-12-05) once left out, on the benchmarks'
// machine, ten patterns that it scans at 0.2-1.5 ns a byte (CRS 941160,
// 942151, 933120, 934100...; why that start measured them several times
// slower is not known: a busy or migrating VM), and the cache kept that
// decision.
constexpr int kCalibrationRounds = 16;

// Whether Hyperscan scans `t` alone slower than RE2 runs it over the same
// values: a pattern whose automaton is busy on every letter of benign text (one
// of the RCE lists took 13 us for a 900-byte GET, where RE2 takes 2 us) is
// better left to RE2 (its rule is then evaluated in full). Decided once per
// pattern and Hyperscan version, kept in memory and in the cache directory so
// that a restart does not measure again.
bool tooSlow(const std::string& t, unsigned flags) {
  static std::mutex mu;
  static std::map<std::string, bool> known;
  const std::string key = std::string("calibration 2\n") + hs_version() + "\n" + std::to_string(flags) + "\n" + t;
  {
    std::lock_guard<std::mutex> g(mu);
    if (auto it = known.find(key); it != known.end()) return it->second;
  }
  const std::string dir = HsPrefilter::cacheDir();
  char name[40];
  std::snprintf(name, sizeof name, "/calib-%016llx", static_cast<unsigned long long>(fnv1a(key)));
  const std::string path = dir.empty() ? std::string() : dir + name;
  int decided = -1;
  std::string data;
  if (!path.empty() && readFile(path, data) && data.size() == key.size() + 2 && data[1] == '\n' &&
      data.compare(2, std::string::npos, key) == 0)
    decided = data[0] == '1';
  if (decided < 0) {
    decided = 0;
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    hs_scratch_t* scratch = nullptr;
    if (hs_compile(t.c_str(), flags, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
      hs_free_compile_error(err);
    } else if (hs_alloc_scratch(db, &scratch) == HS_SUCCESS) {
      const auto re = compileRe2(t, flags & HS_FLAG_CASELESS);
      auto none = [](unsigned, unsigned long long, unsigned long long, unsigned, void*) { return 0; };
      static const std::vector<std::string_view> values = [] {  // the sample's values, as RE2 is run on them
        std::vector<std::string_view> v;
        for (size_t at = 0; at < kCalibrationSample.size();) {
          const size_t nl = std::min(kCalibrationSample.find('\n', at), kCalibrationSample.size());
          v.push_back(kCalibrationSample.substr(at, nl - at));
          at = nl + 1;
        }
        return v;
      }();
      double hs_best = 1e18, re2_best = 1e18;
      for (int k = 0; k <= kCalibrationRounds; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        hs_scan(db, kCalibrationSample.data(), static_cast<unsigned>(kCalibrationSample.size()), 0, scratch, none,
                nullptr);
        const auto t1 = std::chrono::steady_clock::now();
        if (re->ok())
          for (std::string_view v : values) (void)re->Match(v, 0, v.size(), RE2::UNANCHORED, nullptr, 0);
        const auto t2 = std::chrono::steady_clock::now();
        if (k == 0) continue;
        hs_best = std::min(hs_best, std::chrono::duration<double, std::nano>(t1 - t0).count());
        re2_best = std::min(re2_best, std::chrono::duration<double, std::nano>(t2 - t1).count());
      }
      // A pattern RE2 does not take (PCRE2 runs it) is held to what RE2 takes
      // for a typical pattern, ~2 ns a byte.
      if (!re->ok()) re2_best = 2.0 * static_cast<double>(kCalibrationSample.size());
      decided = hs_best > kSlowRatio * re2_best;
    }
    if (scratch) hs_free_scratch(scratch);
    if (db) hs_free_database(db);
    if (!path.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      writeAside(path, std::string(decided ? "1" : "0") + "\n" + key);
    }
  }
  std::lock_guard<std::mutex> g(mu);
  known[key] = decided == 1;
  return decided == 1;
}

}  // namespace

int HsPrefilter::add(const std::string& pattern, bool re2, bool matches_separator, bool caseless) {
  std::string t = translate(pattern, re2);
  if (t.empty()) return -1;
  unsigned flags = matches_separator ? kBase & ~HS_FLAG_SINGLEMATCH : kBase;
  if (caseless) flags |= HS_FLAG_CASELESS;
  if (!parses(t, flags)) {
    if (!approximable(t, flags)) return -1;
    flags |= HS_FLAG_PREFILTER;
    if (!parses(t, flags)) return -1;
  }
  if (t.size() > HsPrefilter::kLongPattern && tooSlow(t, flags)) return -1;
  patterns_.push_back(std::move(t));
  flags_.push_back(flags);
  id_of_.push_back(static_cast<uint32_t>(ids_));
  return static_cast<int>(ids_++);
}

int HsPrefilter::addPhrases(const std::vector<std::string>& phrases) {
  if (phrases.empty()) return -1;
  // The alternation, in expressions of up to kMaxExpression bytes.
  std::vector<std::string> parts;
  bool newline = false;
  std::string p;
  for (const auto& phrase : phrases) {
    std::string alt;
    for (unsigned char c : phrase) {
      newline |= c == '\n';
      if (c < 0x80 && std::isalnum(c)) {
        alt += static_cast<char>(c);
      } else {
        char esc[5];
        std::snprintf(esc, sizeof esc, "\\x%02x", c);
        alt += esc;
      }
    }
    if (!p.empty() && p.size() + alt.size() + 2 > kMaxExpression) {
      parts.push_back(p + ')');
      p.clear();
    }
    p += p.empty() ? "(?:" : "|";
    p += alt;
  }
  parts.push_back(p + ')');
  // Caseless for ASCII only, as @pm's own matcher (bytes >= 0x80 match as they are).
  unsigned flags = kBase | HS_FLAG_CASELESS;
  if (newline) flags &= ~HS_FLAG_SINGLEMATCH;
  for (const auto& part : parts)
    if (!parses(part, flags)) return -1;
  for (auto& part : parts) {
    patterns_.push_back(std::move(part));
    flags_.push_back(flags);
    id_of_.push_back(static_cast<uint32_t>(ids_));
  }
  return static_cast<int>(ids_++);
}

bool HsPrefilter::usesLineAnchors(std::string_view p) {
  if (p.find("\\Q") != std::string_view::npos) return true;  // quoted text: not worth reading
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
      if (i + 1 < p.size() && p[i + 1] == '^') ++i;
      if (i + 1 < p.size() && p[i + 1] == ']') ++i;  // a leading ']' is a member
    } else if (c == '^' || c == '$') {
      return true;
    }
  }
  return false;
}

bool HsPrefilter::leftOut(int id) const {
  return db_ && id >= 0 && static_cast<size_t>(id) < db_->always.size() && db_->always[static_cast<size_t>(id)];
}

size_t HsPrefilter::prefilterModeCount() const {
  size_t n = 0;
  for (unsigned f : flags_) n += (f & HS_FLAG_PREFILTER) != 0;
  return n;
}

size_t HsPrefilter::bytes() const {
  size_t n = 0;
  if (db_ && db_->db && hs_database_size(db_->db, &n) != HS_SUCCESS) n = 0;
  return n;
}

bool HsPrefilter::build() {
  if (patterns_.empty()) return false;
  auto keyOf = [&] {
    std::string key;
    for (size_t i = 0; i < patterns_.size(); ++i) {
      key += std::to_string(id_of_[i]);
      key += ':';
      key += std::to_string(flags_[i]);
      key += ':';
      key += std::to_string(patterns_[i].size());
      key += ':';
      key += patterns_[i];
    }
    return key;
  };
  auto& c = cache();
  // The key names Hyperscan's version too: a database is only good for the library that built it.
  const std::string key = std::string(kBuildScheme) + hs_version() + "\n" + keyOf();
  auto adopt = [&](std::shared_ptr<const Db> db) {
    db_ = std::move(db);
    flags_ = db_->flags;
    scratchFor(*db_);  // this thread's scratch fits it now
  };
  {
    std::lock_guard<std::mutex> g(c.mu);
    auto it = c.dbs.find(key);
    if (it != c.dbs.end()) {
      if (auto db = it->second.lock()) {
        adopt(std::move(db));
        return true;
      }
    }
  }
  const std::string dir = cacheDir();
  const std::string path = dir.empty() ? std::string() : cacheFile(dir, key);
  if (!path.empty()) {
    if (auto db = loadFromDisk(path, key, id_of_, ids_)) {
      adopt(db);
      std::lock_guard<std::mutex> g(c.mu);
      c.dbs[key] = db;
      return true;
    }
  }
  // Compile all at once; a pattern Hyperscan refuses in the set (too large in
  // exact mode, say) moves to prefilter mode, then out, and the set compiles
  // again. An id left out goes with all of its expressions.
  std::vector<bool> dropped(patterns_.size(), false);
  auto drop = [&](size_t i) {
    for (size_t k = 0; k < patterns_.size(); ++k)
      if (id_of_[k] == id_of_[i]) dropped[k] = true;
  };
  hs_database_t* db = nullptr;
  for (int attempt = 0; attempt < 64 && !db; ++attempt) {
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    std::vector<size_t> index;
    for (size_t i = 0; i < patterns_.size(); ++i) {
      if (dropped[i]) continue;
      exprs.push_back(patterns_[i].c_str());
      flags.push_back(flags_[i]);
      ids.push_back(id_of_[i]);
      index.push_back(i);
    }
    if (exprs.empty()) return false;
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                         nullptr, &db, &err) == HS_SUCCESS)
      break;
    db = nullptr;
    int bad = err ? err->expression : -1;
    hs_free_compile_error(err);
    if (bad >= 0 && static_cast<size_t>(bad) < index.size()) {
      size_t i = index[bad];
      if (approximable(patterns_[i], flags_[i])) flags_[i] |= HS_FLAG_PREFILTER;
      else drop(i);
      continue;
    }
    // The set as a whole failed: find the patterns that fail alone.
    bool changed = false;
    for (size_t i = 0; i < patterns_.size(); ++i) {
      if (dropped[i] || compilesAlone(patterns_[i], flags_[i])) continue;
      changed = true;
      if (approximable(patterns_[i], flags_[i]) && compilesAlone(patterns_[i], flags_[i] | HS_FLAG_PREFILTER))
        flags_[i] |= HS_FLAG_PREFILTER;
      else
        drop(i);
    }
    if (!changed) return false;
  }
  if (!db) return false;
  // A dropped pattern keeps its id and is reported as always possible.
  auto owned = std::make_shared<Db>();
  owned->db = db;
  owned->id = next_db_id++;
  owned->flags = flags_;
  owned->always.assign(ids_, 0);
  for (size_t i = 0; i < patterns_.size(); ++i)
    if (dropped[i]) owned->always[id_of_[i]] = 1;
  setIdFlags(*owned, id_of_);
  adopt(owned);
  if (!path.empty()) saveToDisk(dir, path, key, *owned);
  std::lock_guard<std::mutex> g(c.mu);
  c.dbs[key] = owned;
  for (auto it = c.dbs.begin(); it != c.dbs.end();) it = it->second.expired() ? c.dbs.erase(it) : std::next(it);
  return true;
}

bool HsPrefilter::scan(std::string_view buffer, uint8_t* hits, const std::vector<uint32_t>* separators) const {
  std::memset(hits, 0, ids_);
  if (!db_) return false;
  for (size_t i = 0; i < db_->always.size(); ++i)
    if (db_->always[i]) hits[i] = 1;
  hs_scratch_t* scratch = scratchFor(*db_);
  if (!scratch) return false;
  ScanContext ctx{hits, db_->id_flags.data(), separators};
  hs_error_t rc = hs_scan(db_->db, buffer.data(), static_cast<unsigned>(buffer.size()), 0, scratch, onMatch, &ctx);
  return rc == HS_SUCCESS;
}

}  // namespace rampart::waf::match
