// Why: access records and WAF events shipped to an object store (or a local
// directory) in compressed batches, off the request path, without losing a
// record when the store is down or the process is killed.
//
// Flow: the log writer threads (gateway/log/access_log.h: workers hand records
// to their own queue; one thread per log renders them) offer() each rendered
// line; the sink compresses it into the stream's pending batch as it comes
// (gateway/sinks/compress.h). A batch is cut when its stream reaches
// batch_records, batch_bytes (before compression) or batch_age; the sink's
// own thread ends its compression and names it once (prefix/kind=K/dt=YYYY-MM-DD/hour=HH/INSTANCE-BOOT-SEQ
// .ndjson.zst, partitioned by the first record's time), writes it to the spool
// directory and fsyncs it (file and directory): from then on it survives a
// crash or SIGKILL. Then it uploads spooled batches oldest first; an upload
// that fails is retried with exponential backoff and jitter (1 s doubling to
// 5 min), under the same key, so a retry never duplicates; a batch leaves the
// spool only once stored. At start the spool is read back and delivered.
//
// Limits: the memory records waiting in batches hold (compressed, and the
// chunk not yet compressed) is capped (memory_max_bytes; access records are
// refused from 75% of it, WAF events only at 100%), the spool is
// capped (spool_max_bytes; a WAF batch evicts the oldest access batches, an
// access batch that does not fit is dropped). Every dropped record is counted
// by reason and stream and reported by a log line at most every 10 s.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gateway/sinks/compress.h"
#include "gateway/sinks/config.h"
#include "gateway/sinks/store.h"

namespace rampart::gateway::sinks {

class Sink {
 public:
  // `instance` names this process in object keys (host name or configured id).
  Sink(SinkConfig cfg, std::string instance);
  ~Sink();  // cuts and spools what is pending, then stops (uploads left spooled)
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Log writer threads. `status`/`waf` feed the access filters.
  void offer(Kind kind, std::string_view line, uint16_t status, bool waf);
  // The same for many lines under one lock; each line's text is followed in
  // memory by its '\n' (the log writer's ring as it is).
  struct Line {
    std::string_view text;
    uint16_t status = 0;
    bool waf = false;
  };
  void offerAll(Kind kind, const std::vector<Line>& lines);
  // New store settings, filters and batch sizes (reload); the spool stays.
  void reconfigure(const SinkConfig& cfg);
  // Cuts every pending batch now and tries to upload the spool once (tests, drain).
  void flush();

  const std::string& name() const { return name_; }

  struct Counters {
    std::atomic<uint64_t> enqueued[2]{}, shipped[2]{}, spooled[2]{};
    std::atomic<uint64_t> dropped_memory[2]{}, dropped_spool[2]{}, dropped_filter[2]{};
    std::atomic<uint64_t> batches{0}, bytes{0}, raw_bytes{0}, upload_us{0};
    std::atomic<uint64_t> errors_connect{0}, errors_timeout{0}, errors_auth{0}, errors_client{0}, errors_server{0},
        errors_io{0};
    std::atomic<uint64_t> spool_bytes{0}, spool_batches{0};
  };
  const Counters& counters() const { return c_; }

 private:
  struct Pending {
    std::unique_ptr<BatchCompressor> z;  // the batch's body, compressed as records come
    uint64_t raw = 0;                    // its bytes before compression (z->held() is in pending_bytes_)
    uint64_t records = 0;
    int64_t first_ms = 0;  // Unix ms of the first record (partition)
    std::chrono::steady_clock::time_point since{};
  };
  struct Spooled {
    std::string file;  // path in the spool
    std::string key;
    Kind kind = Kind::kAccess;
    uint64_t records = 0;
    uint64_t size = 0;   // file size
    uint64_t payload = 0;
    bool failed_once = false;
  };
  void run();
  // offer()'s filters, caps and append of `line` and its '\n' (mu_ held; the
  // newline is line.data()[line.size()] when `terminated`).
  void admitLocked(Kind kind, std::string_view line, bool terminated, uint16_t status, bool waf);
  void cut(Kind kind, Pending& p);
  bool spoolBatch(Spooled& s, const std::string& body);
  void loadSpool();
  void uploadSome(bool once);
  void stored(Kind kind, uint64_t records, uint64_t bytes, std::chrono::microseconds took);
  void dropLog();

  // Read by offer() without the lock: the streams taken and the WAF format.
  std::atomic<bool> wants_[2]{}, ocsf_{false};
  void setFormat(const SinkConfig& cfg);
  const std::string name_;
  const std::string instance_;
  const int64_t boot_ms_;
  std::mutex mu_;  // cfg_, next_store_, pending_, pending_bytes_, sample state
  SinkConfig cfg_;
  std::unique_ptr<Store> next_store_;  // from reconfigure(), taken by the sink thread
  std::unique_ptr<Store> store_;       // sink thread
  std::condition_variable cv_;
  Pending pending_[2];
  std::deque<Pending> ready_[2];  // full batches cut by offer(), waiting for the sink thread
  std::vector<std::unique_ptr<BatchCompressor>> free_;  // finished batches' compressors, reused
  uint64_t pending_bytes_ = 0;
  uint64_t batches_begun_ = 0;  // a new batch's age limit wakes the sink thread (run())
  double sample_acc_ = 0;
  bool stop_ = false;
  bool flush_req_ = false;
  uint64_t flush_done_ = 0;
  std::condition_variable flushed_;

  // Sink thread only.
  SinkConfig run_cfg_;  // cfg_ as of the last wake-up
  std::deque<Spooled> spool_;
  uint64_t seq_ = 0;
  std::chrono::steady_clock::time_point next_try_{};
  std::chrono::milliseconds backoff_{1000};
  bool failing_ = false;  // the last upload failed: new batches wait in the spool
  std::chrono::steady_clock::time_point last_err_log_{}, last_drop_log_{};
  uint64_t drops_logged_ = 0;

  Counters c_;
  std::thread thread_;
};

}  // namespace rampart::gateway::sinks
