#include "waf/match/hs_prefilter.h"

#include <hs/hs.h>

namespace rampart::waf::match {

namespace {

// One scratch per thread, grown (never per scan) the first time a larger
// database is scanned on that thread.
struct ThreadScratch {
  hs_scratch_t* s = nullptr;
  ~ThreadScratch() {
    if (s) hs_free_scratch(s);
  }
};

hs_scratch_t*& threadScratch() {
  thread_local ThreadScratch t;
  return t.s;
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

// Bytes >= 0x80 (literal or escaped) are left to RE2: case folding of
// non-ASCII letters differs between engines, and a prefilter must never drop
// a match.
bool asciiOnly(const std::string& p) {
  for (size_t i = 0; i < p.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c >= 0x80) return false;
    if (c == '\\' && i + 2 < p.size() && p[i + 1] == 'x') {
      char h = p[i + 2];
      if (h == '{' || (h >= '8' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')) return false;
    }
    if (c == '\\' && i + 1 < p.size()) ++i;
  }
  return true;
}

int onMatch(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  auto* hits = static_cast<std::vector<uint8_t>*>(ctx);
  if (id < hits->size()) (*hits)[id] = 1;
  return 0;
}

}  // namespace

HsPrefilter::~HsPrefilter() {
  if (db_) hs_free_database(static_cast<hs_database_t*>(db_));
}

int HsPrefilter::add(const std::string& pattern) {
  if (!asciiOnly(pattern)) return -1;
  const unsigned base = HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
  unsigned flags = base;
  if (!compilesAlone(pattern, flags)) {
    flags = base | HS_FLAG_PREFILTER;
    if (!compilesAlone(pattern, flags)) return -1;
  }
  patterns_.push_back(pattern);
  flags_.push_back(flags);
  return static_cast<int>(patterns_.size() - 1);
}

bool HsPrefilter::build() {
  if (patterns_.empty()) return false;
  std::vector<const char*> exprs;
  std::vector<unsigned> ids;
  for (size_t i = 0; i < patterns_.size(); ++i) {
    exprs.push_back(patterns_[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags_.data(), ids.data(), static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                       nullptr, &db, &err) != HS_SUCCESS) {
    hs_free_compile_error(err);
    return false;
  }
  db_ = db;
  // Grow this thread's scratch now, so the first request does not pay for it.
  hs_alloc_scratch(db, &threadScratch());
  return true;
}

bool HsPrefilter::scan(std::string_view value, std::vector<uint8_t>& hits) const {
  hits.assign(patterns_.size(), 0);
  if (!db_) return false;
  auto* db = static_cast<hs_database_t*>(db_);
  hs_scratch_t*& scratch = threadScratch();
  hs_error_t rc = hs_scan(db, value.data(), static_cast<unsigned>(value.size()), 0, scratch, onMatch, &hits);
  if (rc == HS_INVALID || rc == HS_SCRATCH_IN_USE) {
    if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) return false;
    rc = hs_scan(db, value.data(), static_cast<unsigned>(value.size()), 0, scratch, onMatch, &hits);
  }
  return rc == HS_SUCCESS;
}

}  // namespace rampart::waf::match
