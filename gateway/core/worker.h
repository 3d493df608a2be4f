// A worker: one thread, one io_context, its own SO_REUSEPORT acceptor per
// listen address, its own upstream connection cache and metrics. A connection
// never leaves the worker that accepted it; nothing on the request path is
// shared mutable state between workers (pools' atomics aside).
#pragma once

#include <boost/asio.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gateway/admin/metrics.h"
#include "gateway/core/runtime.h"
#include "gateway/log/access_log.h"
#include "gateway/proxy/stream.h"
#include "gateway/ratelimit/async_redis.h"

namespace rampart::gateway::core {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Shared {
  log::AccessLog* access_log = nullptr;  // null when access logging is off
  log::AccessLog* audit_log = nullptr;   // WAF audit events; null when waf.audit.path is off
  std::atomic<bool> draining{false};
  std::string id_prefix;                 // random per process, for request ids
  // Open client connections per listener, all workers together (limits.max_connections).
  // Created before the workers start; listeners do not change until a restart.
  std::map<std::string, std::unique_ptr<std::atomic<uint64_t>>> listener_connections;
};

// Idle keep-alive connections to upstream endpoints, per worker. Keyed by the
// endpoint and the TLS context the connection was made with (null: plain), so
// a plain and a TLS pool to one address never share a connection, nor do two
// generations of a TLS pool (an idle connection holds its context alive).
class UpstreamCache {
 public:
  using Key = std::pair<tcp::endpoint, const void*>;
  // take() checks that a connection is still open (a MSG_PEEK) only when it
  // has been idle at least this long.
  static constexpr std::chrono::milliseconds kFreshIdle{20};
  struct Idle {
    proxy::Stream stream;
    std::chrono::steady_clock::time_point since;
  };
  // A usable idle connection to `ep` made with `tls` (null: plain), or nullopt.
  std::optional<proxy::Stream> take(const tcp::endpoint& ep, const void* tls, std::chrono::milliseconds idle_timeout);
  void put(const tcp::endpoint& ep, const void* tls, proxy::Stream s, size_t max_idle);
  void closeAll();
  size_t size() const;

 private:
  std::map<Key, std::deque<Idle>> idle_;
};

// "listener|host|port": one listen address of one listener.
std::string listenKey(const std::string& listener, const config::ListenAddress& a);

// Client connections waiting for their next request: each connection keeps
// its place in the list (its Slot), so that a keep-alive connection enters
// and leaves the list at each request without an allocation (a std::set
// took a node apiece).
class IdleClients {
 public:
  struct Slot {
    size_t at = SIZE_MAX;  // index in the list; SIZE_MAX: not in it
  };
  void insert(tcp::socket* s, Slot& slot) {
    if (slot.at != SIZE_MAX) return;
    slot.at = list_.size();
    list_.push_back({s, &slot});
  }
  void erase(Slot& slot) {
    if (slot.at == SIZE_MAX) return;
    list_[slot.at] = list_.back();
    list_[slot.at].second->at = slot.at;
    list_.pop_back();
    slot.at = SIZE_MAX;
  }
  size_t size() const { return list_.size(); }
  template <typename F>
  void forEach(F f) const {
    for (const auto& [s, slot] : list_) f(s);
  }

 private:
  std::vector<std::pair<tcp::socket*, Slot*>> list_;
};

class Worker {
 public:
  Worker(unsigned id, Shared& shared);
  ~Worker();

  // Opens this worker's acceptors (SO_REUSEPORT) for every listen address of `rt`.
  // Called on the main thread before start(); false with *error when a bind fails.
  bool openListeners(const Runtime& rt, std::string* error);

  // Listener changes on reload. An acceptor opened (bound, listening) on the main
  // thread, not yet accepting; key() names its listener and address.
  struct Acceptor {
    std::shared_ptr<tcp::acceptor> acc;
    std::string listener;
    std::string key;  // listenKey()
    std::atomic<uint64_t>* open = nullptr;  // the listener's connection count (Shared)
  };
  // Opens acceptors for `addresses` ((listener, address) pairs) on this worker's
  // io_context; false with *error (and nothing kept open) when one cannot listen.
  bool openAcceptors(const std::vector<std::pair<std::string, config::ListenAddress>>& addresses,
                     std::vector<Acceptor>* out, std::string* error);
  // Thread-safe (posts): starts accepting on `accs`; closes the acceptors whose
  // key is in `keys` (their open connections go on).
  void addAcceptors(std::vector<Acceptor> accs);
  void closeAcceptors(std::set<std::string> keys);
  void start(std::shared_ptr<const Runtime> rt);
  void setRuntime(std::shared_ptr<const Runtime> rt);  // thread-safe (posts)
  void beginDrain();                                    // thread-safe: stop accepting, close idle conns
  void stop();                                          // thread-safe: stop the io_context
  void join();
  void run(uint32_t busy_poll_us);  // the worker thread's event loop

  unsigned id() const { return id_; }
  asio::io_context& ioc() { return ioc_; }
  admin::WorkerMetrics& metrics() { return metrics_; }
  const std::shared_ptr<const Runtime>& runtime() const { return runtime_; }
  Shared& shared() { return shared_; }
  UpstreamCache& upstreamCache() { return cache_; }
  // This worker's Redis connection for strict global rate limits (made on first use).
  ratelimit::AsyncRedis& redis() {
    if (!redis_) redis_ = std::make_unique<ratelimit::AsyncRedis>(ioc_.get_executor());
    return *redis_;
  }
  std::string nextRequestId();

  // Client connections waiting for their next request (closed at drain).
  IdleClients idle_clients;
  // Requests in progress on this worker (a head read, not yet finished): the
  // WAF step yields to the others only when there are others.
  uint32_t exchanges = 0;

 private:
  asio::awaitable<void> acceptLoop(std::shared_ptr<tcp::acceptor> acc, std::string listener,
                                   std::atomic<uint64_t>* open);

  unsigned id_;
  Shared& shared_;
  // One thread runs it, and only that thread starts I/O on its sockets
  // (other threads post to it: the scheduler keeps its lock; acceptors opened
  // elsewhere are registered under the reactor's lock, then handed over by a
  // post): the reactor's per-socket locks left out (~8 lock and unlock pairs
  // a proxied request).
  asio::io_context ioc_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<const Runtime> runtime_;
  admin::WorkerMetrics metrics_;
  UpstreamCache cache_;
  std::unique_ptr<ratelimit::AsyncRedis> redis_;  // before ioc_ goes
  std::vector<Acceptor> acceptors_;
  uint64_t request_seq_ = 0;
};

}  // namespace rampart::gateway::core
