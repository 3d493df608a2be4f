// The access log (and the WAF audit log, a second instance fed rendered lines):
// one JSON object per line, written off the request path.
//
// Workers push AccessRecord values into their own queue (a mutex per worker,
// shared only with the writer thread, never between workers); the writer
// thread drains every queue every 50 ms (or sooner when one grows) and writes
// the lines in one go. AccessRecord::toJson() is the one schema, so later
// sinks (object stores) ship the same lines.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/log/json.h"
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
  AccessLog(std::string path, unsigned workers, sinks::Kind kind = sinks::Kind::kAccess);
  ~AccessLog();
  void push(unsigned worker, AccessRecord&& r);
  // A line rendered by the caller (WAF audit events: the transaction that holds
  // their data ends with the request), written as is with a newline.
  void pushLine(unsigned worker, std::string&& line);
  // Sinks that receive every line too (set before workers push; not owned).
  void addSink(sinks::Sink* s) { sinks_.push_back(s); }
  void reopen();  // SIGHUP: reopen the file (after rotation)
  void flush();   // writes everything queued now (drain, tests)
  uint64_t written() const { return written_.load(); }

 private:
  struct Queue {
    std::mutex mu;
    std::vector<AccessRecord> items;
    std::vector<std::string> lines;
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
  std::mutex write_mu_;
  std::thread thread_;
};

}  // namespace rampart::gateway::log
