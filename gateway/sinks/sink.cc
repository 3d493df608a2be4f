#include "gateway/sinks/sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <vector>

#include "gateway/core/thread_name.h"
#include "gateway/sinks/compress.h"
#include "gateway/sinks/ocsf.h"

namespace rampart::gateway::sinks {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMagic = "RAMPART-BATCH 1";
constexpr const char* kContentType = "application/x-ndjson";

int64_t unixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

size_t idx(Kind k) { return k == Kind::kAccess ? 0 : 1; }

}  // namespace

Sink::Sink(SinkConfig cfg, std::string instance)
    : name_(cfg.name), instance_(std::move(instance)), boot_ms_(unixMs()), cfg_(std::move(cfg)) {
  store_ = makeStore(cfg_);
  run_cfg_ = cfg_;
  setFormat(cfg_);
  std::error_code ec;
  fs::create_directories(cfg_.spool_path, ec);
  loadSpool();
  thread_ = std::thread([this] {
    nameThisThread("sink-" + name_);
    run();
  });
}

Sink::~Sink() {
  {
    std::lock_guard g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Sink::setFormat(const SinkConfig& cfg) {
  for (Kind k : {Kind::kAccess, Kind::kWaf})
    wants_[idx(k)] = std::find(cfg.streams.begin(), cfg.streams.end(), k) != cfg.streams.end();
  ocsf_ = cfg.ocsf;
}

void Sink::reconfigure(const SinkConfig& cfg) {
  auto store = makeStore(cfg);
  std::lock_guard g(mu_);
  const std::string spool = cfg_.spool_path;
  cfg_ = cfg;
  cfg_.spool_path = spool;  // a new spool needs a restart
  setFormat(cfg_);
  next_store_ = std::move(store);
  flush_req_ = true;  // try the spool again now, with the new settings
  cv_.notify_all();
}

void Sink::offer(Kind kind, std::string_view line, uint16_t status, bool waf) {
  if (!wants_[idx(kind)].load(std::memory_order_relaxed)) return;
  std::optional<std::string> ocsf;  // converted outside the lock
  if (kind == Kind::kWaf && ocsf_.load(std::memory_order_relaxed) && (ocsf = auditToOcsf(line))) line = *ocsf;
  std::lock_guard lk(mu_);
  admitLocked(kind, line, false, status, waf);
}

void Sink::offerAll(Kind kind, const std::vector<Line>& lines) {
  if (lines.empty() || !wants_[idx(kind)].load(std::memory_order_relaxed)) return;
  if (kind == Kind::kWaf && ocsf_.load(std::memory_order_relaxed)) {  // converted one by one, outside the lock
    for (const Line& l : lines) offer(kind, l.text, l.status, l.waf);
    return;
  }
  std::lock_guard lk(mu_);
  for (const Line& l : lines) admitLocked(kind, l.text, true, l.status, l.waf);
}

void Sink::admitLocked(Kind kind, std::string_view line, bool terminated, uint16_t status, bool waf) {
  const size_t k = idx(kind);
  if (kind == Kind::kAccess) {
    const bool filtered = cfg_.min_status || cfg_.only_waf;
    const bool pass = !filtered || (cfg_.min_status && status >= cfg_.min_status) || (cfg_.only_waf && waf);
    if (!pass) {
      c_.dropped_filter[k].fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (cfg_.sample < 1.0) {
      sample_acc_ += cfg_.sample;
      if (sample_acc_ < 1.0) {
        c_.dropped_filter[k].fetch_add(1, std::memory_order_relaxed);
        return;
      }
      sample_acc_ -= 1.0;
    }
  }
  // Access records give way first: they are refused from 3/4 of the cap.
  const uint64_t cap = kind == Kind::kAccess ? cfg_.memory_max_bytes / 4 * 3 : cfg_.memory_max_bytes;
  if (pending_bytes_ + line.size() + 1 > cap) {
    c_.dropped_memory[k].fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Pending& p = pending_[k];
  if (p.records == 0) {
    p.first_ms = unixMs();
    p.since = std::chrono::steady_clock::now();
    ++batches_begun_;
    cv_.notify_one();  // the sink thread sleeps until this batch's age limit now
    // A finished batch's compressor (context and buffers warm), else a new one.
    if (!free_.empty() && free_.back()->kind() == cfg_.compression) {
      p.z = std::move(free_.back());
      free_.pop_back();
    } else {
      p.z = std::make_unique<BatchCompressor>(cfg_.compression);
    }
  }
  const uint64_t held = p.z->held();
  if (terminated) {
    p.z->add(std::string_view(line.data(), line.size() + 1));
  } else {
    p.z->add(line);
    p.z->add("\n");
  }
  ++p.records;
  p.raw += line.size() + 1;
  // What the batch holds: up by the line, down when a chunk was compressed.
  pending_bytes_ = pending_bytes_ - held + p.z->held();
  c_.enqueued[k].fetch_add(1, std::memory_order_relaxed);
  if (p.records >= cfg_.batch_records || p.raw >= cfg_.batch_bytes) {
    // Full: cut here (a batch passes its limits by at most this one record).
    ready_[k].push_back(std::move(p));
    p = Pending{};
    cv_.notify_one();
  }
}

void Sink::flush() {
  std::unique_lock lk(mu_);
  const uint64_t target = flush_done_ + 1;
  flush_req_ = true;
  cv_.notify_all();
  flushed_.wait_for(lk, std::chrono::seconds(60), [&] { return flush_done_ >= target || stop_; });
}

void Sink::loadSpool() {
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto it = fs::directory_iterator(run_cfg_.spool_path, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const auto& p = it->path();
    if (p.extension() == ".tmp") fs::remove(p, ec);  // cut short by a crash: never acknowledged
    else if (p.extension() == ".batch") files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string magic, key, kind, records, ctype;
    if (!std::getline(in, magic) || magic != kMagic || !std::getline(in, key) || !std::getline(in, kind) ||
        !std::getline(in, records) || !std::getline(in, ctype)) {
      spdlog::error("sink '{}': {} is not a spooled batch; left in place", name_, f.string());
      continue;
    }
    Spooled s;
    s.file = f.string();
    s.key = key;
    s.kind = kind == "waf" ? Kind::kWaf : Kind::kAccess;
    s.records = std::strtoull(records.c_str(), nullptr, 10);
    s.size = uint64_t(fs::file_size(f, ec));
    s.payload = s.size - uint64_t(in.tellg());
    s.failed_once = true;  // it waited in the spool
    c_.spool_bytes += s.size;
    c_.spool_batches += 1;
    spool_.push_back(std::move(s));
  }
  if (!spool_.empty())
    spdlog::info("sink '{}': {} batch(es) found in the spool {}; delivering them", name_, spool_.size(),
                 run_cfg_.spool_path);
}

bool Sink::spoolBatch(Spooled& s, const std::string& body) {
  // Room: a WAF batch evicts the oldest access batches; an access batch that
  // does not fit is dropped.
  const uint64_t need = body.size() + s.key.size() + 64;
  while (c_.spool_bytes + need > run_cfg_.spool_max_bytes && s.kind == Kind::kWaf) {
    auto victim = std::find_if(spool_.begin(), spool_.end(), [](const Spooled& x) { return x.kind == Kind::kAccess; });
    if (victim == spool_.end()) break;
    ::unlink(victim->file.c_str());
    c_.dropped_spool[idx(victim->kind)] += victim->records;
    c_.spool_bytes -= victim->size;
    c_.spool_batches -= 1;
    spool_.erase(victim);
  }
  if (c_.spool_bytes + need > run_cfg_.spool_max_bytes) return false;
  s.file = fmt::format("{}/{:013}-{:08}.{}.batch", run_cfg_.spool_path, boot_ms_, seq_, kindName(s.kind));
  const std::string head = fmt::format("{}\n{}\n{}\n{}\n{}\n", kMagic, s.key, kindName(s.kind), s.records, kContentType);
  std::string error;
  if (!writeFileDurably(s.file, head, body, &error)) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_err_log_ > std::chrono::seconds(10)) {
      last_err_log_ = now;
      spdlog::error("sink '{}': spool: {}", name_, error);
    }
    return false;
  }
  s.size = head.size() + body.size();
  s.payload = body.size();
  c_.spool_bytes += s.size;
  c_.spool_batches += 1;
  return true;
}

void Sink::cut(Kind kind, Pending& p) {
  std::string why;
  std::optional<std::string> compressed = p.z->finish(&why);
  if (!compressed) {
    c_.dropped_memory[idx(kind)] += p.records;
    spdlog::error("sink '{}': {}; a batch of {} record(s) dropped", name_, why, p.records);
    return;
  }
  const std::string& body = *compressed;
  Spooled s;
  s.kind = kind;
  s.records = p.records;
  const std::time_t t = std::time_t(p.first_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  ++seq_;
  std::string prefix = run_cfg_.prefix;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  s.key = fmt::format("{}{}kind={}/dt={:04}-{:02}-{:02}/hour={:02}/{}-{}-{:06}{}", prefix, prefix.empty() ? "" : "/",
                      kindName(kind), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, instance_, boot_ms_,
                      seq_, extension(p.z->kind()));
  c_.raw_bytes += p.raw;
  if (spoolBatch(s, body)) {
    if (failing_) {
      s.failed_once = true;
      c_.spooled[idx(kind)] += s.records;
    }
    spool_.push_back(std::move(s));
  } else {
    // No room in the spool, or it cannot be written: straight to the store if it
    // works, else the batch is lost (counted).
    PutError err;
    const auto t0 = std::chrono::steady_clock::now();
    if (!failing_ && store_->put(s.key, body, kContentType, &err)) {
      stored(kind, s.records, body.size(),
             std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0));
    } else {
      c_.dropped_spool[idx(kind)] += s.records;
    }
  }
  dropLog();
}

void Sink::stored(Kind kind, uint64_t records, uint64_t bytes, std::chrono::microseconds took) {
  c_.upload_us += uint64_t(took.count());
  c_.batches += 1;
  c_.bytes += bytes;
  c_.shipped[idx(kind)] += records;
}

void Sink::uploadSome(bool force) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!spool_.empty()) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_try_ && !force) return;
    if (now > deadline) return;  // come back to cut batches
    force = false;
    Spooled& s = spool_.front();
    std::string body;
    {
      std::ifstream in(s.file, std::ios::binary);
      in.seekg(std::streamoff(s.size - s.payload));
      body.resize(s.payload);
      if (!in.read(body.data(), std::streamsize(body.size()))) {
        spdlog::error("sink '{}': cannot read the spooled batch {}; dropped", name_, s.file);
        c_.dropped_spool[idx(s.kind)] += s.records;
        c_.spool_bytes -= s.size;
        c_.spool_batches -= 1;
        ::unlink(s.file.c_str());
        spool_.pop_front();
        continue;
      }
    }
    PutError err;
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = store_->put(s.key, body, kContentType, &err);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    if (!ok) {
      failing_ = true;
      for (auto& x : spool_) {  // all of them wait now
        if (x.failed_once) continue;
        x.failed_once = true;
        c_.spooled[idx(x.kind)] += x.records;
      }
      std::atomic<uint64_t>* counter = err.kind == "timeout"  ? &c_.errors_timeout
                                       : err.kind == "auth"   ? &c_.errors_auth
                                       : err.kind == "client" ? &c_.errors_client
                                       : err.kind == "server" ? &c_.errors_server
                                       : err.kind == "io"     ? &c_.errors_io
                                                              : &c_.errors_connect;
      counter->fetch_add(1);
      std::mt19937_64 rng(uint64_t(t0.time_since_epoch().count()));
      std::uniform_real_distribution<double> jitter(0.75, 1.25);
      next_try_ = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(int64_t(double(backoff_.count()) * jitter(rng)));
      if (t0 - last_err_log_ > std::chrono::seconds(10)) {
        last_err_log_ = t0;
        spdlog::warn("sink '{}': upload to {} failed ({}): {}; {} batch(es) spooled, retry in {} ms", name_,
                     store_->describe(), err.kind, err.message, spool_.size(), backoff_.count());
      }
      backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(300000));
      return;
    }
    backoff_ = std::chrono::milliseconds(1000);
    failing_ = false;
    stored(s.kind, s.records, s.payload, us);
    ::unlink(s.file.c_str());
    c_.spool_bytes -= s.size;
    c_.spool_batches -= 1;
    spool_.pop_front();
  }
}

void Sink::dropLog() {
  uint64_t dropped = 0;
  for (int k = 0; k < 2; ++k) dropped += c_.dropped_memory[k] + c_.dropped_spool[k];
  if (dropped == drops_logged_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_drop_log_ < std::chrono::seconds(10)) return;
  last_drop_log_ = now;
  spdlog::error("sink '{}': {} record(s) dropped since the last report (memory full: access {}, waf {}; spool "
                "full: access {}, waf {}, totals)",
                name_, dropped - drops_logged_, c_.dropped_memory[0].load(), c_.dropped_memory[1].load(),
                c_.dropped_spool[0].load(), c_.dropped_spool[1].load());
  drops_logged_ = dropped;
}

void Sink::run() {
  ::setpriority(PRIO_PROCESS, pid_t(::syscall(SYS_gettid)), 10);  // below the workers, as the log writer
  for (;;) {
    std::vector<std::pair<Kind, Pending>> cuts;
    bool flushing, stopping;
    {
      std::unique_lock lk(mu_);
      auto full = [&] { return !ready_[0].empty() || !ready_[1].empty(); };
      // Asleep until there is something to do: a full batch, a flush, stop (all
      // notified), the age limit of a batch being filled (its first record
      // notifies), or the next upload attempt while the spool holds batches; a
      // minute at most otherwise. An idle gateway's sink does not poll.
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      for (const Pending& p : pending_)
        if (p.records) until = std::min(until, p.since + cfg_.batch_age);
      if (!spool_.empty()) until = std::min(until, next_try_);
      const uint64_t begun = batches_begun_;
      cv_.wait_until(lk, until, [&] { return stop_ || flush_req_ || full() || batches_begun_ != begun; });
      flushing = flush_req_;
      stopping = stop_;
      if (next_store_) {
        store_ = std::move(next_store_);
        run_cfg_ = cfg_;
      }
      const auto now = std::chrono::steady_clock::now();
      for (size_t k = 0; k < 2; ++k) {
        const Kind kind = k == 0 ? Kind::kAccess : Kind::kWaf;
        for (auto& r : ready_[k]) {
          pending_bytes_ -= r.z->held();
          cuts.emplace_back(kind, std::move(r));
        }
        ready_[k].clear();
        Pending& p = pending_[k];
        if (p.records && (flushing || stopping || now - p.since >= cfg_.batch_age)) {
          pending_bytes_ -= p.z->held();
          cuts.emplace_back(kind, std::move(p));
          p = Pending{};
        }
      }
    }
    for (auto& [kind, p] : cuts) cut(kind, p);
    if (!cuts.empty()) {  // their compressors serve the next batches
      std::lock_guard g(mu_);
      for (auto& [kind, p] : cuts)
        if (free_.size() < 4) free_.push_back(std::move(p.z));
    }
    if (!stopping || std::chrono::steady_clock::now() >= next_try_) uploadSome(flushing);
    dropLog();
    std::lock_guard g(mu_);
    if (flushing) {
      flush_req_ = false;
      ++flush_done_;
      flushed_.notify_all();
    }
    if (stopping) return;
  }
}

}  // namespace rampart::gateway::sinks
