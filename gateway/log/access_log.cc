#include "gateway/log/access_log.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>

#include <spdlog/spdlog.h>

namespace rampart::gateway::log {


namespace {

void appendUint(std::string& o, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  o.append(buf, size_t(r.ptr - buf));
}

// Milliseconds with three decimals (microseconds), as "1.234".
void appendMillis(std::string& o, double ms) {
  const uint64_t us = uint64_t(ms * 1000.0 + 0.5);
  appendUint(o, us / 1000);
  char frac[4] = {'.', char('0' + us / 100 % 10), char('0' + us / 10 % 10), char('0' + us % 10)};
  o.append(frac, 4);
}

}  // namespace

std::string AccessRecord::toJson() const {
  std::string o;
  o.reserve(384);
  appendJson(o);
  return o;
}

void AccessRecord::appendJson(std::string& o) const {
  o += "{\"time\":";
  o += '"';
  appendIsoTime(o, time_ms);
  o += '"';
  o += ",\"request_id\":";
  appendJsonString(o, request_id);
  o += ",\"client\":";
  appendJsonString(o, client);
  o += ",\"listener\":";
  appendJsonString(o, listener);
  o += ",\"route\":";
  appendJsonString(o, route);
  o += ",\"method\":";
  appendJsonString(o, method);
  o += ",\"host\":";
  appendJsonString(o, host);
  o += ",\"path\":";
  appendJsonString(o, path);
  o += ",\"protocol\":";
  appendJsonString(o, protocol);
  o += ",\"status\":";
  appendUint(o, status);
  o += ",\"bytes_in\":";
  appendUint(o, bytes_in);
  o += ",\"bytes_out\":";
  appendUint(o, bytes_out);
  o += ",\"upstream\":";
  appendJsonString(o, upstream);
  o += ",\"upstream_ms\":";
  if (upstream_ms >= 0) appendMillis(o, upstream_ms);
  else o += "null";
  o += ",\"total_ms\":";
  appendMillis(o, total_ms);
  o += ",\"user_agent\":";
  appendJsonString(o, user_agent);
  if (!error.empty()) {
    o += ",\"error\":";
    appendJsonString(o, error);
  }
  if (!waf.empty()) {
    o += ",\"waf\":";
    appendJsonString(o, waf);
  }
  o += '}';
}

AccessLog::AccessLog(std::string path, unsigned workers, sinks::Kind kind, size_t ring)
    : path_(std::move(path)), kind_(kind) {
  // WAF events are rare next to access records: a quarter of the slots.
  const size_t n = kind == sinks::Kind::kWaf ? std::max<size_t>(ring / 4, 64) : ring;
  for (unsigned i = 0; i < workers; ++i) queues_.push_back(std::make_unique<Queue>(n));
  reopen_ = true;
  thread_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (own_ && out_) fclose(out_);
}

void AccessLog::pushLine(unsigned worker, std::string&& line) {
  if (!queues_[worker % queues_.size()]->lines.push(std::move(line)))
    dropped_.fetch_add(1, std::memory_order_relaxed);
}

void AccessLog::reopen() {
  reopen_ = true;
  wake_.notify_one();
}

void AccessLog::flush() { drain(); }

void AccessLog::drain() {
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
  std::string text;
  for (auto& q : queues_) {
    size_t n = q->items.drainInPlace([&](const AccessRecord& r) {
      const size_t at = text.size();
      r.appendJson(text);
      for (auto* s : sinks_) s->offer(kind_, std::string_view(text).substr(at), r.status, !r.waf.empty());
      text += '\n';
    });
    n += q->lines.drain([&](std::string&& l) {
      for (auto* s : sinks_) s->offer(kind_, l, 0, true);
      text += l;
      text += '\n';
    });
    written_ += n;
  }
  if (!text.empty() && out_) {
    fwrite(text.data(), 1, text.size(), out_);
    fflush(out_);
  }
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
}

void AccessLog::run() {
  // Below the workers: on a saturated machine the request path keeps the CPU and
  // the writer catches up in the gaps (its rings hold ~0.3 s of a busy worker).
  ::setpriority(PRIO_PROCESS, pid_t(::syscall(SYS_gettid)), 10);
  while (!stop_) {
    {
      std::unique_lock<std::mutex> lk(wake_mu_);
      wake_.wait_for(lk, std::chrono::milliseconds(20));
    }
    drain();
  }
  drain();
}

}  // namespace rampart::gateway::log
