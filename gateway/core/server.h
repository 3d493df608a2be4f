// The process: configuration, workers, admin listener, health checker, and
// the signals that reload (SIGHUP) and drain (SIGTERM, SIGINT).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "gateway/core/runtime.h"
#include "gateway/core/worker.h"
#include "gateway/ratelimit/redis_sync.h"

namespace rampart::gateway::core {

class Server {
 public:
  explicit Server(std::string config_path);
  ~Server();
  // Runs until drained; returns the process exit code.
  int run();

  // For the admin pages (main thread).
  const std::shared_ptr<const Runtime>& runtime() const { return runtime_; }
  const std::vector<std::unique_ptr<Worker>>& workers() const { return workers_; }
  bool draining() const { return shared_.draining.load(); }
  uint64_t reloadsOk() const { return reloads_ok_; }
  uint64_t reloadsFailed() const { return reloads_failed_; }
  // Global rate limits' Redis sync; null when no policy is global.
  const ratelimit::RedisSync* redisSync() const { return redis_.get(); }
  // Object-store sinks, in configuration order.
  std::vector<const sinks::Sink*> sinks() const;
  // The access log and the WAF audit log writers (null when off).
  const log::AccessLog* accessLog() const { return shared_.access_log; }
  const log::AccessLog* auditLog() const { return shared_.audit_log; }

 private:
  struct Impl;
  // Starts a reload: the file is read and the new generation built (its rule
  // sets compiled: seconds for CRS without the disk cache) on a thread of its
  // own, so that the admin listener, the health checker and the signals go on
  // meanwhile; finishReload puts it in force on this thread. A reload asked
  // for while one is under way follows it.
  void reload();
  void finishReload(config::LoadResult loaded, std::shared_ptr<const Runtime> rt, std::vector<std::string> errors);
  void drain();

  std::string path_;
  Shared shared_;
  std::shared_ptr<const Runtime> runtime_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Impl> impl_;
  uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
  std::unique_ptr<ratelimit::RedisSync> redis_;
  void configureRedis();
};

}  // namespace rampart::gateway::core
