// The access log (and the WAF audit log, a second instance fed rendered lines):
// one JSON object per line, written off the request path.
//
// A worker renders its record (AccessRecord::writeJson, ~0.15 us) straight into
// its own byte ring (one producer, the worker; one consumer, the writer thread:
// no lock, no syscall, no allocation); the writer thread drains every ring
// every 20 ms, writes the lines in one go and offers them to the sinks under
// one lock. After 100 ms without a line the writer sleeps until a worker wakes
// it (the first record after the lull: one futex wake) or a second passes, so
// that an idle gateway does not wake 50 times a second per log. A full ring
// refuses the record, which is counted (dropped()) and reported by the writer
// thread in a log line at most every 10 s: the request path never waits for
// the log. AccessRecord's JSON is the one schema, so the
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
#include <string_view>
#include <thread>
#include <vector>

#include "gateway/log/json.h"
#include "gateway/log/spsc_ring.h"
#include "gateway/sinks/sink.h"

namespace rampart::gateway::log {

// Views of the request's data, valid while record() runs.
struct AccessRecord {
  int64_t time_ms = 0;  // Unix time of the request's start, ms
  std::string_view request_id;
  std::string_view client;    // "ip:port"
  std::string_view listener;
  std::string_view route;
  std::string_view method;
  std::string_view host;
  std::string_view path;      // the request-target as received
  std::string_view protocol;  // "HTTP/1.1"
  uint16_t status = 0;
  uint64_t bytes_in = 0;   // request body bytes
  uint64_t bytes_out = 0;  // response body bytes
  std::string_view upstream;    // endpoint address, empty when none
  double upstream_ms = -1; // time to the upstream's response head, -1 when none
  double total_ms = 0;
  std::string_view user_agent;
  std::string_view error;       // why the gateway answered an error itself, if it did
  std::string_view waf;         // "blocked" or "detected" when the WAF decided, else empty

  std::string toJson() const;
  void appendJson(std::string& o) const;  // the same, appended
  // The longest writeJson() can write, and the writing itself (returns the end).
  size_t jsonBound() const;
  char* writeJson(char* p) const;
};

class AccessLog {
 public:
  // path: "stderr", "stdout", "off" (sinks only) or a file (appended).
  // workers: number of queues. kind: the stream the sinks receive.
  // ring_bytes: the rendered records each worker may have waiting (8 MiB:
  // ~16,000 access records, 0.3 s of a busy worker); audit lines: 4096 each.
  AccessLog(std::string path, unsigned workers, sinks::Kind kind = sinks::Kind::kAccess,
            size_t ring_bytes = size_t(8) << 20);
  ~AccessLog();
  // Renders r into the worker's ring (a full ring counts a drop).
  void record(unsigned worker, const AccessRecord& r);
  // A line rendered by the caller (WAF audit events: the transaction that holds
  // their data ends with the request), written as is with a newline.
  void pushLine(unsigned worker, std::string&& line);
  // Sinks that receive every line too (set before workers push; not owned).
  // Under the writer's lock: its thread already drains (found by TSan: the
  // first drains read the vector as the server's thread grew it).
  void addSink(sinks::Sink* s) {
    std::lock_guard<std::mutex> g(write_mu_);
    sinks_.push_back(s);
  }
  void reopen();  // SIGHUP: reopen the file (after rotation)
  void flush();   // writes everything queued now (drain, tests)
  uint64_t written() const { return written_.load(); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Queue {
    Queue(size_t bytes, size_t lines) : records(bytes), lines(lines) {}
    SpscByteRing records;
    SpscRing<std::string> lines;
  };
  void run();
  size_t drain();            // the lines written
  bool queuesEmpty() const;  // the writer thread's view: nothing waits in any ring
  // Producers, after publishing: wakes the writer if it sleeps for want of lines.
  void wakeIfIdle() {
    // The writer sets idle_, then runs a barrier on every thread of the process
    // (membarrier), then looks at the rings: so either it sees this entry or
    // this read sees idle_ set, and the worker pays no fence of its own (one
    // would wait for the record's stores to reach the cache, every request).
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (idle_.load(std::memory_order_relaxed) && idle_.exchange(false)) {
      std::lock_guard<std::mutex> g(wake_mu_);
      wake_.notify_one();
    }
  }

  std::string path_;
  sinks::Kind kind_;
  std::vector<sinks::Sink*> sinks_;
  FILE* out_ = nullptr;
  bool own_ = false;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> idle_{false};  // the writer sleeps until woken (no lines for a while)
  std::atomic<bool> reopen_{false};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  uint64_t dropped_logged_ = 0;
  std::chrono::steady_clock::time_point last_drop_log_{};
  std::mutex write_mu_;  // drain(): the writer thread and flush()
  std::string text_;     // drain(): the lines for the file
  std::vector<sinks::Sink::Line> lines_;  // drain(): the lines for the sinks
  std::vector<std::string> held_;         // drain(): audit lines taken from their ring
  std::thread thread_;
};

}  // namespace rampart::gateway::log
