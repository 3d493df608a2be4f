// The access log (and the WAF audit log, a second instance fed rendered lines):
// one JSON object per line, written off the request path.
//
// Workers push AccessRecord values into their own bounded ring (one producer,
// the worker; one consumer, the writer thread: no lock, no syscall); the
// writer thread drains every ring every 20 ms and writes the lines in one go.
// A full ring refuses the record, which is counted (dropped()) and reported by
// the writer thread in a log line at most every 10 s: the request path never
// waits for the log. AccessRecord::toJson() is the one schema, so later
// sinks (object stores) ship the same lines.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/log/json.h"
#include "gateway/log/spsc_ring.h"
#include "gateway/sinks/sink.h"

namespace rampart::gateway::log {

struct AccessRecord {
  int64_t time_ms = 0;  // Unix time of the request's start, ms
  std::string request_id;
  std::string client;    // "ip:port"
  std::string listener;
  std::string route;
  std::string method;
  std::string host;
  std::string path;      // the request-target as received
  std::string protocol;  // "HTTP/1.1"
  uint16_t status = 0;
  uint64_t bytes_in = 0;   // request body bytes
  uint64_t bytes_out = 0;  // response body bytes
  std::string upstream;    // endpoint address, empty when none
  double upstream_ms = -1; // time to the upstream's response head, -1 when none
  double total_ms = 0;
  std::string user_agent;
  std::string error;       // why the gateway answered an error itself, if it did
  std::string waf;         // "blocked" or "detected" when the WAF decided, else empty

  std::string toJson() const;
  void appendJson(std::string& o) const;  // the same, appended
};

class AccessLog {
 public:
  // path: "stderr", "stdout", "off" (sinks only) or a file (appended).
  // workers: number of queues. kind: the stream the sinks receive.
  // ring: records (or lines) each worker may have waiting.
  AccessLog(std::string path, unsigned workers, sinks::Kind kind = sinks::Kind::kAccess, size_t ring = 16384);
  ~AccessLog();
  // fill(AccessRecord&) writes the worker's next slot in place: assign every
  // field (the slot holds its last record); no allocation once the ring is warm.
  template <class F>
  void record(unsigned worker, F&& fill) {
    if (!queues_[worker % queues_.size()]->items.emplace(fill)) dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  // A line rendered by the caller (WAF audit events: the transaction that holds
  // their data ends with the request), written as is with a newline.
  void pushLine(unsigned worker, std::string&& line);
  // Sinks that receive every line too (set before workers push; not owned).
  void addSink(sinks::Sink* s) { sinks_.push_back(s); }
  void reopen();  // SIGHUP: reopen the file (after rotation)
  void flush();   // writes everything queued now (drain, tests)
  uint64_t written() const { return written_.load(); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Queue {
    explicit Queue(size_t n) : items(n), lines(n) {}
    SpscRing<AccessRecord> items;
    SpscRing<std::string> lines;
  };
  void run();
  void drain();

  std::string path_;
  sinks::Kind kind_;
  std::vector<sinks::Sink*> sinks_;
  FILE* out_ = nullptr;
  bool own_ = false;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reopen_{false};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  uint64_t dropped_logged_ = 0;
  std::chrono::steady_clock::time_point last_drop_log_{};
  std::mutex write_mu_;
  std::thread thread_;
};

}  // namespace rampart::gateway::log
