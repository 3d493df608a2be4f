#include "gateway/log/access_log.h"

#include <fmt/format.h>
#include <linux/membarrier.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>

#include <spdlog/spdlog.h>

#include "gateway/core/thread_name.h"

namespace rampart::gateway::log {

std::string AccessRecord::toJson() const {
  std::string o;
  o.reserve(384);
  appendJson(o);
  return o;
}

namespace {

template <size_t N>
char* lit(char* p, const char (&s)[N]) {
  std::memcpy(p, s, N - 1);
  return p + N - 1;
}

char* writeUint(char* p, uint64_t v) { return std::to_chars(p, p + 20, v).ptr; }

// Milliseconds with three decimals (microseconds), as "1.234".
char* writeMillis(char* p, double ms) {
  const uint64_t us = uint64_t(ms * 1000.0 + 0.5);
  p = writeUint(p, us / 1000);
  p[0] = '.';
  p[1] = char('0' + us / 100 % 10);
  p[2] = char('0' + us / 10 % 10);
  p[3] = char('0' + us % 10);
  return p + 4;
}

}  // namespace

size_t AccessRecord::jsonBound() const {
  // Every string byte escaped as \u00XX, the names and numbers at their widest.
  const size_t strings = request_id.size() + client.size() + listener.size() + route.size() + method.size() +
                         host.size() + path.size() + protocol.size() + upstream.size() + user_agent.size() +
                         error.size() + waf.size();
  return 512 + jsonStringBound(strings);
}

void AccessRecord::appendJson(std::string& o) const {
  const size_t at = o.size();
  o.resize(at + jsonBound());
  o.resize(size_t(writeJson(o.data() + at) - o.data()));
}

char* AccessRecord::writeJson(char* p) const {
  p = lit(p, "{\"time\":\"");
  p = writeIsoTime(p, time_ms);
  p = lit(p, "\",\"request_id\":");
  p = writeJsonString(p, request_id);
  p = lit(p, ",\"client\":");
  p = writeJsonString(p, client);
  p = lit(p, ",\"listener\":");
  p = writeJsonString(p, listener);
  p = lit(p, ",\"route\":");
  p = writeJsonString(p, route);
  p = lit(p, ",\"method\":");
  p = writeJsonString(p, method);
  p = lit(p, ",\"host\":");
  p = writeJsonString(p, host);
  p = lit(p, ",\"path\":");
  p = writeJsonString(p, path);
  p = lit(p, ",\"protocol\":");
  p = writeJsonString(p, protocol);
  p = lit(p, ",\"status\":");
  p = writeUint(p, status);
  p = lit(p, ",\"bytes_in\":");
  p = writeUint(p, bytes_in);
  p = lit(p, ",\"bytes_out\":");
  p = writeUint(p, bytes_out);
  p = lit(p, ",\"upstream\":");
  p = writeJsonString(p, upstream);
  p = lit(p, ",\"upstream_ms\":");
  p = upstream_ms >= 0 ? writeMillis(p, upstream_ms) : lit(p, "null");
  p = lit(p, ",\"total_ms\":");
  p = writeMillis(p, total_ms);
  p = lit(p, ",\"user_agent\":");
  p = writeJsonString(p, user_agent);
  if (!error.empty()) {
    p = lit(p, ",\"error\":");
    p = writeJsonString(p, error);
  }
  if (!waf.empty()) {
    p = lit(p, ",\"waf\":");
    p = writeJsonString(p, waf);
  }
  *p++ = '}';
  return p;
}

namespace {

// A full memory barrier on every running thread of the process (the heavy side
// of wakeIfIdle()'s asymmetric pair), by membarrier(2); false where the kernel
// or a seccomp profile refuses it.
bool processWideBarrier() {
  static const bool registered =
      ::syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  return registered && ::syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
}

}  // namespace

AccessLog::AccessLog(std::string path, unsigned workers, sinks::Kind kind, size_t ring_bytes)
    : path_(std::move(path)), kind_(kind) {
  // Each log takes one kind of entry: rendered records (access) or whole lines (WAF events).
  const bool access = kind == sinks::Kind::kAccess;
  for (unsigned i = 0; i < workers; ++i)
    queues_.push_back(std::make_unique<Queue>(access ? ring_bytes : 0, access ? 64 : 4096));
  reopen_ = true;
  thread_ = std::thread([this] {
    nameThisThread(kind_ == sinks::Kind::kAccess ? "log-access" : "log-audit");
    run();
  });
}

void AccessLog::record(unsigned worker, const AccessRecord& r) {
  auto& ring = queues_[worker % queues_.size()]->records;
  char* p = ring.reserve(r.jsonBound() + 1);
  if (!p) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  char* end = r.writeJson(p);
  *end++ = '\n';
  ring.commit(size_t(end - p), r.status, r.waf.empty() ? 0 : 1);
  wakeIfIdle();
}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> g(wake_mu_);  // not between the sleeping writer's look and its wait
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (own_ && out_) fclose(out_);
}

void AccessLog::pushLine(unsigned worker, std::string&& line) {
  if (!queues_[worker % queues_.size()]->lines.push(std::move(line))) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  wakeIfIdle();
}

bool AccessLog::queuesEmpty() const {
  for (const auto& q : queues_)
    if (!q->records.empty() || !q->lines.empty()) return false;
  return true;
}

void AccessLog::reopen() {
  {
    std::lock_guard<std::mutex> g(wake_mu_);
    reopen_ = true;
  }
  wake_.notify_one();
}

void AccessLog::flush() { drain(); }

size_t AccessLog::drain() {
  std::lock_guard<std::mutex> wg(write_mu_);
  if (reopen_.exchange(false)) {
    if (own_ && out_) fclose(out_);
    own_ = false;
    if (path_ == "off") out_ = nullptr;
    else if (path_ == "stderr") out_ = stderr;
    else if (path_ == "stdout") out_ = stdout;
    else {
      out_ = fopen(path_.c_str(), "ae");
      if (!out_) {
        spdlog::error("log: cannot open {}: {}; writing to stderr", path_, std::strerror(errno));
        out_ = stderr;
      } else {
        own_ = true;
      }
    }
  }
  // The sinks take each line where it lies (the ring, or the drained audit
  // line) under one lock per queue; the file gets them gathered in one buffer
  // (kept between drains), written in one go.
  std::string& text = text_;
  text.clear();
  auto offer = [&] {
    for (auto* s : sinks_) s->offerAll(kind_, lines_);
    lines_.clear();
  };
  size_t lines = 0;
  for (auto& q : queues_) {
    size_t n = q->records.drain(
        [&](std::string_view rendered, uint16_t status, uint8_t waf) {  // ends with its '\n'
          lines_.push_back({rendered.substr(0, rendered.size() - 1), status, waf != 0});
          if (out_) text.append(rendered);
        },
        offer);  // before the ring takes the bytes back
    held_.clear();
    n += q->lines.drain([&](std::string&& l) {  // moved out: an audit line's memory goes with it
      l += '\n';
      if (out_) text.append(l);
      held_.push_back(std::move(l));
    });
    for (const std::string& l : held_) lines_.push_back({std::string_view(l).substr(0, l.size() - 1), 0, true});
    offer();
    held_.clear();
    written_ += n;
    lines += n;
  }
  if (!text.empty() && out_) {
    fwrite(text.data(), 1, text.size(), out_);
    fflush(out_);
  }
  // A burst's buffer is not kept for good.
  if (text.capacity() > (size_t(8) << 20) && text.size() < (size_t(1) << 20)) std::string().swap(text);
  const uint64_t dropped = dropped_.load(std::memory_order_relaxed);
  if (dropped != dropped_logged_) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_drop_log_ >= std::chrono::seconds(10)) {
      last_drop_log_ = now;
      spdlog::error("log: {} {} record(s) dropped since the last report: a worker's queue was full (the log "
                    "writer cannot keep up)",
                    dropped - dropped_logged_, sinks::kindName(kind_));
      dropped_logged_ = dropped;
    }
  }
  return lines;
}

void AccessLog::run() {
  // Below the workers: on a saturated machine the request path keeps the CPU and
  // the writer catches up in the gaps (its rings hold ~0.3 s of a busy worker).
  ::setpriority(PRIO_PROCESS, pid_t(::syscall(SYS_gettid)), 10);
  // Every 20 ms while lines come; after five empty rounds (100 ms), asleep until
  // a producer wakes it (wakeIfIdle) or a second passes. Without membarrier(2)
  // a record published as the writer falls asleep may wait for that second.
  constexpr int kEmptyRoundsBeforeSleep = 5;
  int empty_rounds = 0;
  while (!stop_) {
    {
      std::unique_lock<std::mutex> lk(wake_mu_);
      if (empty_rounds < kEmptyRoundsBeforeSleep) {
        wake_.wait_for(lk, std::chrono::milliseconds(20));
      } else {
        idle_.store(true);
        if (!processWideBarrier()) std::atomic_thread_fence(std::memory_order_seq_cst);
        if (queuesEmpty())
          wake_.wait_for(lk, std::chrono::seconds(1), [&] { return stop_ || reopen_ || !idle_.load(); });
        idle_.store(false);
      }
    }
    empty_rounds = drain() ? 0 : empty_rounds + 1;
  }
  drain();
}

}  // namespace rampart::gateway::log
