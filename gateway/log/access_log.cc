#include "gateway/log/access_log.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include <spdlog/spdlog.h>

namespace rampart::gateway::log {


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
  fmt::format_to(std::back_inserter(o), ",\"status\":{},\"bytes_in\":{},\"bytes_out\":{}", status, bytes_in, bytes_out);
  o += ",\"upstream\":";
  appendJsonString(o, upstream);
  if (upstream_ms >= 0) fmt::format_to(std::back_inserter(o), ",\"upstream_ms\":{:.3f}", upstream_ms);
  else o += ",\"upstream_ms\":null";
  fmt::format_to(std::back_inserter(o), ",\"total_ms\":{:.3f}", total_ms);
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

AccessLog::AccessLog(std::string path, unsigned workers, sinks::Kind kind) : path_(std::move(path)), kind_(kind) {
  for (unsigned i = 0; i < workers; ++i) queues_.push_back(std::make_unique<Queue>());
  reopen_ = true;
  thread_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (own_ && out_) fclose(out_);
}

void AccessLog::push(unsigned worker, AccessRecord&& r) {
  auto& q = *queues_[worker % queues_.size()];
  size_t n;
  {
    std::lock_guard<std::mutex> g(q.mu);
    q.items.push_back(std::move(r));
    n = q.items.size();
  }
  if (n == 1024) wake_.notify_one();
}

void AccessLog::pushLine(unsigned worker, std::string&& line) {
  auto& q = *queues_[worker % queues_.size()];
  size_t n;
  {
    std::lock_guard<std::mutex> g(q.mu);
    q.lines.push_back(std::move(line));
    n = q.lines.size();
  }
  if (n == 1024) wake_.notify_one();
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
  std::vector<AccessRecord> batch;
  std::vector<std::string> lines;
  std::string text;
  for (auto& q : queues_) {
    {
      std::lock_guard<std::mutex> g(q->mu);
      batch.swap(q->items);
      lines.swap(q->lines);
    }
    for (auto& r : batch) {
      const size_t at = text.size();
      r.appendJson(text);
      for (auto* s : sinks_) s->offer(kind_, std::string_view(text).substr(at), r.status, !r.waf.empty());
      text += '\n';
    }
    for (auto& l : lines) {
      for (auto* s : sinks_) s->offer(kind_, l, 0, true);
      text += l;
      text += '\n';
    }
    written_ += batch.size() + lines.size();
    batch.clear();
    lines.clear();
  }
  if (!text.empty() && out_) {
    fwrite(text.data(), 1, text.size(), out_);
    fflush(out_);
  }
}

void AccessLog::run() {
  while (!stop_) {
    {
      std::unique_lock<std::mutex> lk(wake_mu_);
      wake_.wait_for(lk, std::chrono::milliseconds(50));
    }
    drain();
  }
  drain();
}

}  // namespace rampart::gateway::log
