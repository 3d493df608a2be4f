#include "gateway/core/server.h"

#include <sys/stat.h>

#include <malloc.h>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <random>
#include <set>
#include <thread>

#include "gateway/admin/admin.h"
#include "waf/match/value_memo.h"

#include <unistd.h>

#include <cstring>

namespace rampart::gateway::core {

using boost::system::error_code;

struct Server::Impl {
  asio::io_context ioc{1};
  std::unique_ptr<tcp::acceptor> admin;
  std::unique_ptr<upstream::HealthChecker> checker;
  // Object-store sinks; declared before the logs that feed them, so they go after them.
  std::vector<std::unique_ptr<sinks::Sink>> sinks;
  std::unique_ptr<log::AccessLog> access_log;
  std::unique_ptr<log::AccessLog> audit_log;  // WAF audit events (rendered lines)
  // After a reload, once the old generation's compiled rule sets are freed (their
  // last requests end), the freed heap goes back to the system: compiling CRS
  // makes tens of MB of short-lived allocations, and without a trim glibc's
  // arenas keep the high-water mark of every reload (RSS steps up over reloads).
  asio::steady_timer trim_timer{ioc};
  asio::steady_timer expiry_timer{ioc};  // rate-limit keys whose bucket is full again are dropped
  asio::steady_timer watch_timer{ioc};   // TLS files of listeners with tls.watch
  std::string watched;                   // their last signature (path, mtime, size)
  std::thread reload_thread;             // builds the generation a reload puts in force (joinable: under way)
  bool reload_again = false;             // asked for meanwhile: another follows it
};

std::string tlsFileSignature(const config::Config& cfg);

std::vector<const sinks::Sink*> Server::sinks() const {
  std::vector<const sinks::Sink*> out;
  for (const auto& s : impl_->sinks) out.push_back(s.get());
  return out;
}

Server::Server(std::string config_path) : path_(std::move(config_path)), impl_(std::make_unique<Impl>()) {}
Server::~Server() = default;

static void applyLogSettings(const config::Config& c) {
  auto level = spdlog::level::from_str(c.log.level);
  spdlog::set_level(level);
  if (c.log.format == "json")
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})", spdlog::pattern_time_type::utc);
  else
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
}

static void applyWafSettings(const config::Config& c) { waf::match::ValueMemo::setEnabled(c.waf.value_memo); }

static std::set<std::string> listenSet(const config::Config& c) {
  std::set<std::string> s;
  for (auto& l : c.listeners)
    for (auto& a : l.listen) s.insert(listenKey(l.name, a));
  return s;
}

int Server::run() {
  // The signals are caught from here on, before anything listens: a SIGHUP or
  // SIGTERM that comes while the gateway starts waits for the event loop
  // (asio queues it) instead of meeting the default action, which ends the
  // process (a `systemctl reload` right after start did).
  asio::signal_set signals(impl_->ioc, SIGHUP, SIGTERM, SIGINT);
  auto loaded = config::loadFile(path_);
  if (!loaded.config) {
    for (auto& e : loaded.errors) spdlog::error("{}", config::format(e));
    spdlog::error("not started: the configuration has {} error(s)", loaded.errors.size());
    return 1;
  }
  const auto& cfg = *loaded.config;
  applyLogSettings(cfg);
  applyWafSettings(cfg);
  std::vector<std::string> errors;
  runtime_ = Runtime::build(loaded.config, nullptr, &errors);
  if (!runtime_) {
    for (auto& e : errors) spdlog::error("{}", e);
    return 1;
  }

  {
    std::random_device rd;
    shared_.id_prefix = fmt::format("{:08x}", uint32_t(rd()));
  }
  // Sinks start first: their spools are delivered even before traffic arrives.
  std::string host = "rampart";
  {
    char buf[256];
    if (::gethostname(buf, sizeof buf) == 0) host = std::string(buf, strnlen(buf, sizeof buf));
  }
  bool sink_access = false, sink_waf = false;
  for (const auto& sc : cfg.sinks) {
    impl_->sinks.push_back(std::make_unique<sinks::Sink>(sc, sc.instance.empty() ? host : sc.instance));
    for (auto k : sc.streams) (k == sinks::Kind::kAccess ? sink_access : sink_waf) = true;
  }
  auto attach = [&](log::AccessLog& l, sinks::Kind kind) {
    for (size_t i = 0; i < cfg.sinks.size(); ++i)
      if (std::find(cfg.sinks[i].streams.begin(), cfg.sinks[i].streams.end(), kind) != cfg.sinks[i].streams.end())
        l.addSink(impl_->sinks[i].get());
  };
  if (cfg.log.access_enabled || sink_access) {
    impl_->access_log = std::make_unique<log::AccessLog>(cfg.log.access_enabled ? cfg.log.access_path : "off",
                                                         cfg.workers, sinks::Kind::kAccess);
    attach(*impl_->access_log, sinks::Kind::kAccess);
    shared_.access_log = impl_->access_log.get();
  }
  // The audit log opens whenever the configuration says where it goes; its path
  // (like the access log's) takes effect at start.
  if (cfg.waf.audit.path != "off" || sink_waf) {
    impl_->audit_log = std::make_unique<log::AccessLog>(cfg.waf.audit.path, cfg.workers, sinks::Kind::kWaf);
    attach(*impl_->audit_log, sinks::Kind::kWaf);
    shared_.audit_log = impl_->audit_log.get();
  }

  std::signal(SIGPIPE, SIG_IGN);
  for (const auto& l : cfg.listeners)
    shared_.listener_connections.emplace(l.name, std::make_unique<std::atomic<uint64_t>>(0));
  for (unsigned i = 0; i < cfg.workers; ++i) {
    auto w = std::make_unique<Worker>(i, shared_);
    std::string err;
    if (!w->openListeners(*runtime_, &err)) {
      spdlog::error("{}", err);
      return 1;
    }
    workers_.push_back(std::move(w));
  }
  if (cfg.admin.enabled) {
    error_code ec;
    auto addr = asio::ip::make_address(cfg.admin.listen.host, ec);
    tcp::endpoint ep(addr, cfg.admin.listen.port);
    impl_->admin = std::make_unique<tcp::acceptor>(impl_->ioc);
    if (!ec) impl_->admin->open(ep.protocol(), ec);
    if (!ec) impl_->admin->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) impl_->admin->bind(ep, ec);
    if (!ec) impl_->admin->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      spdlog::error("admin: cannot listen on {}: {}", cfg.admin.listen.text, ec.message());
      return 1;
    }
    asio::co_spawn(impl_->ioc, admin::serveAdmin(*this, *impl_->admin), asio::detached);
  }

  impl_->checker = std::make_unique<upstream::HealthChecker>();
  impl_->checker->on_change = [](const upstream::Pool& p, const upstream::Endpoint& e, bool healthy) {
    if (healthy) spdlog::info("pool '{}': endpoint {} is healthy", p.config().name, e.config().address);
    else spdlog::warn("pool '{}': endpoint {} is unhealthy", p.config().name, e.config().address);
  };
  impl_->checker->start(runtime_->pools);

  for (auto& w : workers_) w->start(runtime_);

  for (size_t i = 0; i < runtime_->tls.size(); ++i) {
    const auto& t = runtime_->tls[i];
    if (!t) continue;
    if (t->selfSigned())
      spdlog::warn("listener '{}': no certificate configured: serving a self-signed certificate for localhost "
                   "(clients will not trust it; configure tls.certificates)",
                   cfg.listeners[i].name);
    for (auto& names : t->describe()) spdlog::info("listener '{}': TLS certificate for {}", cfg.listeners[i].name, names);
  }
  std::string addrs;
  for (auto& l : cfg.listeners)
    for (auto& a : l.listen) addrs += (addrs.empty() ? "" : ", ") + a.text;
  spdlog::info("rampart {} ({}) started: {} worker(s), listening on {}{}", RAMPART_VERSION, RAMPART_BUILD, cfg.workers,
               addrs, cfg.admin.enabled ? ", admin on " + cfg.admin.listen.text : std::string());

  configureRedis();
  impl_->watched = tlsFileSignature(*runtime_->config);
  std::function<void(const error_code&)> watch = [&](const error_code& ec) {
    if (ec) return;
    std::string now = tlsFileSignature(*runtime_->config);
    if (!now.empty() && now != impl_->watched) {
      impl_->watched = now;
      spdlog::info("tls: certificate files changed (tls.watch): reloading");
      reload();  // (finishReload takes the files' signature again under the new configuration)
    }
    impl_->watch_timer.expires_after(std::chrono::seconds(2));
    impl_->watch_timer.async_wait(watch);
  };
  impl_->watch_timer.expires_after(std::chrono::seconds(2));
  impl_->watch_timer.async_wait(watch);
  std::function<void(const error_code&)> expire = [&](const error_code& ec) {
    if (ec) return;
    runtime_->rate_limits.expireIdle();
    impl_->expiry_timer.expires_after(std::chrono::seconds(5));
    impl_->expiry_timer.async_wait(expire);
  };
  impl_->expiry_timer.expires_after(std::chrono::seconds(5));
  impl_->expiry_timer.async_wait(expire);

  std::function<void(const error_code&, int)> on_signal = [&](const error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      signals.async_wait(on_signal);
    } else {
      spdlog::info("signal {}: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      drain();
    }
  };
  signals.async_wait(on_signal);
  impl_->ioc.run();
  if (impl_->reload_thread.joinable()) impl_->reload_thread.join();  // its result is dropped with the queue

  impl_->checker->stop();
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  if (impl_->access_log) impl_->access_log->flush();
  if (impl_->audit_log) impl_->audit_log->flush();
  spdlog::info("stopped");
  return 0;
}

// Path, modification time and size of every file a listener with tls.watch
// loads; empty when none watches.
std::string tlsFileSignature(const config::Config& cfg) {
  std::string sig;
  auto add = [&](const std::string& path) {
    if (path.empty()) return;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) st = {};
    sig += fmt::format("{}:{}.{}:{};", path, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size);
  };
  for (const auto& l : cfg.listeners) {
    if (!l.tls || !l.tls->watch) continue;
    for (const auto& c : l.tls->certificates) add(c.cert_file), add(c.key_file), add(c.ocsp_file);
    add(l.tls->client.ca_file);
  }
  return sig;
}

void Server::configureRedis() {
  auto globals = runtime_->rate_limits.globals();
  auto bans = runtime_->rate_limits.globalBans();
  if (globals.empty() && bans.empty()) {
    if (redis_) redis_->configure({}, {});
    return;
  }
  if (!redis_) redis_ = std::make_unique<ratelimit::RedisSync>();
  redis_->configure(runtime_->config->redis.settings, std::move(globals), std::move(bans));
}

void Server::reload() {
  if (impl_->reload_thread.joinable()) {
    spdlog::info("reload: one is under way; another follows it");
    impl_->reload_again = true;
    return;
  }
  spdlog::info("SIGHUP: reloading {}", path_);
  // The generation in force is only replaced by finishReload, on this thread:
  // `previous` stays as the builder reads it (its pools' health, limiters,
  // ticket keys: shared with the workers already, so safe to read from here).
  impl_->reload_thread = std::thread([this, previous = runtime_] {
    auto loaded = config::loadFile(path_);
    std::vector<std::string> errors;
    std::shared_ptr<const Runtime> rt;
    if (loaded.config) rt = Runtime::build(loaded.config, previous.get(), &errors);
    asio::post(impl_->ioc, [this, loaded = std::move(loaded), rt = std::move(rt), errors = std::move(errors)]() mutable {
      impl_->reload_thread.join();  // it posted this last: it is returning
      finishReload(std::move(loaded), std::move(rt), std::move(errors));
      if (impl_->reload_again && !shared_.draining.load()) {
        impl_->reload_again = false;
        reload();
      }
    });
  });
}

void Server::finishReload(config::LoadResult loaded, std::shared_ptr<const Runtime> rt, std::vector<std::string> errors) {
  if (!loaded.config) {
    for (auto& e : loaded.errors) spdlog::error("{}", config::format(e));
    spdlog::error("reload failed: the configuration has {} error(s); the running configuration stays in force",
                  loaded.errors.size());
    ++reloads_failed_;
    return;
  }
  if (!rt) {
    for (auto& e : errors) spdlog::error("{}", e);
    spdlog::error("reload failed; the running configuration stays in force");
    ++reloads_failed_;
    return;
  }
  // Listener addresses added: every worker opens its SO_REUSEPORT acceptor now, so
  // a port that cannot be bound fails the reload and the running config stays.
  const auto before = listenSet(*runtime_->config), after = listenSet(*rt->config);
  std::vector<std::pair<std::string, config::ListenAddress>> added;
  std::set<std::string> removed;
  std::vector<std::string> removed_text;
  for (const auto& l : rt->config->listeners)
    for (const auto& a : l.listen)
      if (!before.count(listenKey(l.name, a))) added.emplace_back(l.name, a);
  for (const auto& l : runtime_->config->listeners)
    for (const auto& a : l.listen)
      if (!after.count(listenKey(l.name, a))) {
        removed.insert(listenKey(l.name, a));
        removed_text.push_back(fmt::format("{} (listener '{}')", a.text, l.name));
      }
  std::vector<std::vector<Worker::Acceptor>> opened(workers_.size());
  if (!added.empty()) {
    for (const auto& [name, a] : added)
      if (!shared_.listener_connections.count(name))
        shared_.listener_connections.emplace(name, std::make_unique<std::atomic<uint64_t>>(0));
    for (size_t i = 0; i < workers_.size(); ++i) {
      std::string err;
      if (!workers_[i]->openAcceptors(added, &opened[i], &err)) {
        spdlog::error("reload failed: {}; the running configuration stays in force", err);
        ++reloads_failed_;
        return;  // the acceptors opened so far close with `opened`
      }
    }
  }
  if (rt->config->workers != runtime_->config->workers)
    spdlog::warn("reload: 'workers' changed; it takes effect at the next restart");
  if (rt->config->busy_poll_us != runtime_->config->busy_poll_us)
    spdlog::warn("reload: 'busy_poll_us' changed; it takes effect at the next restart");
  applyLogSettings(*rt->config);
  applyWafSettings(*rt->config);
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->setRuntime(rt);  // first: the new listeners' connections see their config
    if (!opened[i].empty()) workers_[i]->addAcceptors(std::move(opened[i]));
    if (!removed.empty()) workers_[i]->closeAcceptors(removed);
  }
  for (const auto& [name, a] : added) spdlog::info("reload: listening on {} (listener '{}')", a.text, name);
  for (const auto& t : removed_text)
    spdlog::info("reload: stopped listening on {}; its open connections finish", t);
  impl_->checker->start(rt->pools);
  if (impl_->access_log) impl_->access_log->reopen();
  if (impl_->audit_log) impl_->audit_log->reopen();
  {
    // Sinks: new credentials, endpoints, filters and batch sizes apply now; a sink
    // added or removed, or a stream or spool change, waits for a restart.
    const auto& now = rt->config->sinks;
    const auto& before = runtime_->config->sinks;
    bool restart = now.size() != before.size();
    for (size_t i = 0; !restart && i < now.size(); ++i)
      restart = now[i].name != before[i].name || now[i].streams != before[i].streams ||
                now[i].spool_path != before[i].spool_path;
    if (restart) spdlog::warn("reload: sinks added, removed or changed stream or spool; that takes a restart");
    for (size_t i = 0; i < now.size() && i < impl_->sinks.size(); ++i)
      if (now[i].name == impl_->sinks[i]->name()) impl_->sinks[i]->reconfigure(now[i]);
  }
  runtime_ = std::move(rt);
  configureRedis();
  impl_->watched = tlsFileSignature(*runtime_->config);
  ++reloads_ok_;
  ::malloc_trim(0);  // what the compile left free; the old generation's share follows
  impl_->trim_timer.expires_after(std::chrono::seconds(2));
  impl_->trim_timer.async_wait([](const error_code& ec) {
    if (!ec) ::malloc_trim(0);
  });
  spdlog::info("reload done (generation {})", runtime_->generation);
}

void Server::drain() {
  shared_.draining = true;
  for (auto& w : workers_) w->beginDrain();
  // The admin listener stays open: /ready answers 503 while draining.
  auto deadline = std::chrono::steady_clock::now() + runtime_->config->timeouts.drain;
  asio::co_spawn(
      impl_->ioc,
      // Parameters, not captures: they live in the coroutine frame.
      [](Server* self, std::chrono::steady_clock::time_point deadline) -> asio::awaitable<void> {
        auto& workers_ = self->workers_;
        auto& impl_ = self->impl_;
        asio::steady_timer t(co_await asio::this_coro::executor);
        for (;;) {
          uint64_t active = 0;
          for (auto& w : workers_) active += w->metrics().connections_active.get();
          if (active == 0 || std::chrono::steady_clock::now() >= deadline) {
            if (active) spdlog::warn("drain deadline reached with {} connection(s) still open", active);
            impl_->ioc.stop();
            co_return;
          }
          t.expires_after(std::chrono::milliseconds(20));
          co_await t.async_wait(asio::use_awaitable);
        }
      }(this, deadline),
      asio::detached);
}

}  // namespace rampart::gateway::core
