// The client side of the proxy. One coroutine per client connection, on the
// worker that accepted it; requests are handled one at a time (pipelined
// requests wait in the read buffer).
//
// Buffers: the request head is parsed in place in `in_` and its views stay
// valid until the request is done (the buffer never grows or moves while a
// request is in flight; it is compacted between requests). Bodies go through a
// separate fixed-size chunk buffer, so no body is ever held whole.
//
// Timeouts: each connection sets a deadline and a phase (a plain store, no
// syscall); one sweep per worker thread, every 100 ms, cancels the socket(s)
// of every connection whose phase overran its deadline, and the connection's
// coroutine sees the aborted operation and answers 408/504 as the phase says.
// (A per-connection asio timer cost a timerfd_settime and a handler dispatch
// per re-arm, several times per request.) Precision: 100 ms.
//
// Expect: 100-continue is answered by the gateway itself once a route and an
// upstream connection are ready, and Expect is not forwarded (as nginx does).
// Trailers of chunked bodies are validated and dropped.
#include "gateway/proxy/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <cstring>
#include <optional>

#include "gateway/core/coarse_clock.h"
#include "gateway/core/worker.h"
#include "gateway/proxy/stream.h"
#include "gateway/filters/waf_audit.h"
#include "gateway/filters/waf_policy.h"
#include "gateway/http/headers.h"
#include "gateway/http/parser.h"
#include "gateway/http/writer.h"
#include "gateway/ratelimit/client_address.h"
#include "gateway/ratelimit/headers.h"
#include "gateway/ratelimit/proxy_protocol.h"
#include "gateway/router/router.h"

namespace rampart::gateway::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;
using boost::system::error_code;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunk = 64 * 1024;
// A connection's buffers kept from one exchange to the next (Conn::up_head,
// Conn::waf_resp_heads): emptied and made ready for `need` bytes; one grown
// past 16 KiB by a large head is let go when the next needs less.
std::string& reuse(std::string& s, size_t need) {
  constexpr size_t kKept = 16 * 1024;
  if (s.capacity() > kKept && need <= kKept) std::string().swap(s);
  s.clear();
  s.reserve(need);
  return s;
}

// A field list's buffer lent by the connection for one exchange and handed
// back (emptied) at the scope's end, wherever that is.
struct LentFields {
  std::vector<http::Header>& mine;
  std::vector<http::Header>& kept;
  LentFields(std::vector<http::Header>& m, std::vector<http::Header>& k) : mine(m), kept(k) { mine.swap(kept); }
  ~LentFields() {
    mine.swap(kept);
    kept.clear();
  }
  LentFields(const LentFields&) = delete;
  LentFields& operator=(const LentFields&) = delete;
};

bool isIdempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "PUT" || m == "DELETE" || m == "TRACE";
}

// What the sweep cancels when the deadline passes.
enum class Phase : uint8_t { None, ClientRead, ClientWrite, UpstreamConnect, UpstreamFirstByte, Streaming };

struct Conn {
  Conn(core::Worker& w, tcp::socket s, std::string l)
      : worker(w), client(std::move(s)), listener(std::move(l)) {}
  ~Conn() { worker.idle_clients.erase(idle_slot); }  // (gone while waiting: its io_context ended)
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  core::Worker& worker;
  Stream client;
  std::string listener;
  std::string peer;  // "ip:port"
  std::string peer_ip;
  uint16_t peer_port = 0;
  std::string local_ip;
  uint16_t local_port = 0;
  tls::PeerIdentity peer_cert;  // a verified client certificate (mTLS)
  const tls::ClientCertificates* mtls = nullptr;
  Clock::time_point deadline = Clock::time_point::max();
  Phase phase = Phase::None;
  bool expired = false;
  bool closed = false;
  Stream* upstream = nullptr;  // the upstream connection of the request in flight

  std::vector<char> in;  // request heads (+ pipelined bytes)
  size_t begin = 0, end = 0;
  size_t floor = 0;  // end of the current request's head: body reads never go below it
  std::vector<char> chunk = std::vector<char>(kChunk);
  std::vector<char> rbuf;  // upstream response bytes; sized once per connection
  std::string out;  // serialized heads
  // The response head's header names and values the WAF's transactions view
  // (phase 3 on): one buffer for the connection, its capacity kept from one
  // request to the next (an exchange's transactions end before the next).
  std::string waf_resp_heads;
  // Kept from one exchange to the next (their capacity, not their contents):
  // the parsed request's and upstream response's field lists, and the
  // upstream request head (Handler::proxy). A keep-alive request then
  // allocates none of them (reuse()).
  std::vector<http::Header> req_fields, resp_fields;
  std::string up_head;
  // What the WAF's value memo knew of this client's header lists, for its
  // next request with the very same headers (waf::Transaction::HeaderMemo).
  waf::Transaction::HeaderMemoPtr waf_headers;
  core::IdleClients::Slot idle_slot;  // in Worker::idle_clients while waiting for a next request

  void arm(Phase p, std::chrono::milliseconds d) {
    phase = p;
    expired = false;
    deadline = core::coarseNow() + d;  // (up to a tick early: the sweep runs every 100 ms)
  }
  void disarm() {
    phase = Phase::None;
    deadline = Clock::time_point::max();
  }
  // Called by the sweep when the deadline has passed.
  void expire() {
    expired = true;
    error_code ignored;
    switch (phase) {
      case Phase::ClientRead:
      case Phase::ClientWrite:
        client.cancel(ignored);
        break;
      case Phase::UpstreamConnect:
      case Phase::UpstreamFirstByte:
      case Phase::Streaming:
        if (upstream) upstream->cancel(ignored);
        if (phase == Phase::Streaming) client.cancel(ignored);
        break;
      case Phase::None:
        break;
    }
    deadline = Clock::time_point::max();
  }
  size_t sweep_index = 0;  // position in this thread's Sweep
};

// The connections of one worker thread and the 100 ms sweep over their deadlines.
// Only that thread touches it, so no lock.
struct Sweep {
  std::vector<Conn*> conns;
  bool running = false;

  void add(Conn* c) {
    c->sweep_index = conns.size();
    conns.push_back(c);
  }
  void remove(Conn* c) {
    Conn* last = conns.back();
    conns[c->sweep_index] = last;
    last->sweep_index = c->sweep_index;
    conns.pop_back();
  }
};
thread_local Sweep t_sweep;

asio::awaitable<void> sweepLoop() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec) co_return;
    auto now = Clock::now();
    // expire() only cancels socket operations; the connections leave the list later,
    // from their own coroutines, so iterating by index is safe here.
    for (size_t i = 0; i < t_sweep.conns.size(); ++i) {
      Conn* c = t_sweep.conns[i];
      if (c->phase != Phase::None && now >= c->deadline) c->expire();
    }
  }
}

// Writes everything, returns false on error.
template <typename Stream>
asio::awaitable<bool> writeAll(Stream& s, std::string_view data) {
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(data.data(), data.size()), kTuple);
  co_return !ec;
}

std::string_view pathOf(std::string_view target) {
  if (!target.empty() && target[0] != '/') {
    // absolute-form: skip scheme://authority
    auto p = target.find("://");
    if (p != std::string_view::npos) {
      auto slash = target.find('/', p + 3);
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string_view originTarget(std::string_view target) {
  if (!target.empty() && target[0] != '/' && target != "*") {
    auto p = target.find("://");
    if (p != std::string_view::npos) {
      auto slash = target.find_first_of("/?", p + 3);
      if (slash == std::string_view::npos) return "/";
      return target.substr(slash);
    }
  }
  return target;
}

struct Exchange {
  // Filled as the request goes.
  http::RequestHead req;
  std::string request_id;
  const config::Route* route = nullptr;
  Clock::time_point start;
  int64_t start_unix_ms = 0;
  uint16_t status = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  std::string upstream_addr;
  double upstream_ms = -1;
  std::string error;
  bool close_after = false;

  // Request body progress, shared by WAF inspection, forwarding and discarding.
  uint64_t cl_left = 0;                      // Content-Length body bytes not yet read from the client
  std::optional<http::ChunkedDecoder> dec;   // chunked body decoder, kept across those steps
  bool body_done = true;                     // the whole body has been read from the client
  std::string body_buf;                      // body bytes read (for inspection) and not yet forwarded
  bool continue_sent = false;                // we answered Expect: 100-continue already

  // WAF.
  const filters::WafPolicy* waf = nullptr;   // null or inactive: not inspected
  std::optional<waf::Transaction> tx;
  std::optional<waf::Transaction> shadow_tx;
  admin::RouteMetrics* route_metrics = nullptr;  // Handler::routeMetrics, once the route is known
  Clock::duration waf_time{};
  std::string waf_action;                    // "blocked", "detected" (access log)
  std::string ban_key;                       // set when the listener has bans: the client's key
  size_t listener_index = 0;
  // RateLimit-Policy / RateLimit of the admitting policy closest to its limit (null: none).
  const filters::RateLimiters::Policy* limit_policy = nullptr;
  ratelimit::Decision limit_decision;
  void appendLimitHeaders(std::string& o) const {
    if (limit_policy)
      ratelimit::appendRateLimitHeaders(o, limit_policy->policy_header, limit_policy->cfg->policy.name,
                                        limit_decision.remaining, limit_decision.reset);
  }
};

class Handler {
 public:
  Handler(std::shared_ptr<Conn> c) : c_(std::move(c)), w_(c_->worker) {}

  asio::awaitable<void> run();

 private:
  asio::awaitable<int> readHead(http::RequestHead& head, http::ParseError& err, bool first);
  asio::awaitable<void> respondSimple(Exchange& x, uint16_t status, std::string_view body,
                                      std::string_view content_type = "text/plain; charset=utf-8",
                                      std::span<const std::pair<std::string, std::string>> extra = {});
  asio::awaitable<bool> discardBody(Exchange& x);
  // Reads the next decoded body bytes from the client into x.body_buf (at most about
  // `want`). 0: read some or the body ended; -1: client gone; else an HTTP status (bad framing).
  asio::awaitable<int> readBodySome(Exchange& x, uint64_t want);
  // WAF phases 1 and 2. True: go on; false: answered (blocked, 413, engine error) or closed.
  bool retryAllowed(upstream::RetryBudget& budget);
  asio::awaitable<void> checkStrictLimits(Exchange& x, filters::RateLimiters::Result& limit);
  asio::awaitable<void> respondBanned(Exchange& x, const ratelimit::BanList& by, std::chrono::milliseconds left);
  asio::awaitable<bool> inspectRequest(Exchange& x);
  // Lets the worker's other ready requests (read in the same turn of the event
  // loop) run first: their WAF phases then follow each other with the engine's
  // rules, Hyperscan databases and code still cached, instead of each being
  // followed by network work that evicts them (a loopback send runs the
  // receiver's TCP stack on this core). An idle worker goes on at once.
  asio::awaitable<void> yieldToReadyRequests() {
    co_await asio::post(c_->client.get_executor(), asio::use_awaitable);
  }
  // Another request is in progress on this worker: a yield may let it run
  // (alone, one only costs: two coroutine frames and a trip through the
  // event loop, each way).
  bool othersInProgress() const { return w_.exchanges > 1; }
  // The exchange's route's metrics ("(none)" without a route), looked up by
  // name once (the WAF step and the exchange's end both count into them).
  admin::RouteMetrics& routeMetrics(Exchange& x) {
    if (!x.route_metrics) {
      static const std::string kNoRoute = "(none)";
      x.route_metrics = &w_.metrics().route(x.route ? x.route->name : kNoRoute);
    }
    return *x.route_metrics;
  }
  asio::awaitable<void> respondBlocked(Exchange& x, const waf::Verdict& v);
  asio::awaitable<void> respondRateLimited(Exchange& x, const filters::RateLimiters::Result& r);
  void wafError(Exchange& x, const char* where, const std::exception& e);
  void startBody(Exchange& x);
  void finishWaf(Exchange& x);  // phase 5, audit events, shadow comparison, metrics
  // Reads exactly the PROXY v1/v2 header (nothing after it: TLS may follow) and takes
  // the client address from it. False: refuse the connection.
  asio::awaitable<bool> readProxyHeader();
  asio::awaitable<void> proxy(Exchange& x, uint32_t attempt = 0, const upstream::Endpoint* avoid = nullptr);
  void finish(Exchange& x);

  // Body streaming helpers: read the next bytes of the client's body.
  asio::awaitable<std::pair<error_code, size_t>> readClient(char* dst, size_t max);

  std::shared_ptr<Conn> c_;
  core::Worker& w_;
  std::shared_ptr<const core::Runtime> rt_;
  http::Limits limits_;
  const config::Listener* listener_cfg_ = nullptr;
};

asio::awaitable<std::pair<error_code, size_t>> Handler::readClient(char* dst, size_t max) {
  // Bytes already buffered after the head first.
  if (c_->end > c_->begin) {
    size_t n = std::min(max, c_->end - c_->begin);
    std::memcpy(dst, c_->in.data() + c_->begin, n);
    c_->begin += n;
    co_return std::pair{error_code{}, n};
  }
  auto [ec, n] = co_await c_->client.async_read_some(asio::buffer(dst, max), kTuple);
  co_return std::pair{ec, n};
}

// Returns 0 when a head is ready (head filled), -1 when the connection should
// close silently, or an HTTP status to answer with before closing.
asio::awaitable<int> Handler::readHead(http::RequestHead& head, http::ParseError& err, bool first) {
  bool waiting_first_byte = true;
  size_t seen = 0;  // bytes (from begin) the parser has already looked at
  for (;;) {
    if (c_->end > c_->begin) {
      waiting_first_byte = false;
      std::string_view data(c_->in.data() + c_->begin, c_->end - c_->begin);
      // Parse again only when the new bytes may have ended the head: a client that
      // drips a head byte by byte costs O(lines x size), not O(size^2).
      if (seen == 0 || http::headMayHaveEnded(data, seen, limits_)) {
        auto st = http::parseRequestHead(data, limits_, head, err);
        if (st == http::ParseStatus::Done) co_return 0;
        if (st == http::ParseStatus::Error) co_return err.status;
      }
      seen = data.size();
    }
    if (c_->end == c_->in.size()) {
      if (c_->begin > 0) {
        std::memmove(c_->in.data(), c_->in.data() + c_->begin, c_->end - c_->begin);
        c_->end -= c_->begin;
        c_->begin = 0;
      } else {
        err.status = 431;
        err.reason = "request head too large";
        co_return 431;
      }
    }
    const auto& t = rt_->config->timeouts;
    c_->arm(Phase::ClientRead, (waiting_first_byte && !first) ? t.keepalive : t.client_header);
    if (waiting_first_byte && !first) w_.idle_clients.insert(&c_->client.socket(), c_->idle_slot);
    auto [ec, n] = co_await c_->client.async_read_some(asio::buffer(c_->in.data() + c_->end, c_->in.size() - c_->end),
                                                       kTuple);
    w_.idle_clients.erase(c_->idle_slot);
    c_->disarm();
    if (ec || n == 0) {
      if (c_->expired && !waiting_first_byte) co_return 408;
      co_return -1;
    }
    c_->end += n;
    w_.metrics().bytes_in.add(n);
  }
}

asio::awaitable<void> Handler::respondSimple(Exchange& x, uint16_t status, std::string_view body,
                                             std::string_view content_type,
                                             std::span<const std::pair<std::string, std::string>> extra) {
  x.status = status;
  if (w_.shared().draining.load(std::memory_order_relaxed)) x.close_after = true;
  auto& o = c_->out;
  o.clear();
  http::appendStatusLine(o, status);
  http::appendHeader(o, "Content-Type", content_type);
  http::appendHeader(o, "Content-Length", std::to_string(body.size()));
  for (auto& [n, v] : extra) http::appendHeader(o, n, v);
  if (status != 429)
    x.appendLimitHeaders(o);
  if (!x.request_id.empty()) http::appendHeader(o, "X-Request-Id", x.request_id);
  if (x.close_after) http::appendHeader(o, "Connection", "close");
  o += "\r\n";
  if (x.req.method != "HEAD") o.append(body);
  c_->arm(Phase::ClientWrite, rt_->config->timeouts.client_body);
  bool ok = co_await writeAll(c_->client, o);
  c_->disarm();
  if (!ok) x.close_after = true;
  x.bytes_out += body.size();
  w_.metrics().bytes_out.add(o.size());
}

// Reads and drops the request body (direct responses, errors), so the next
// pipelined request can be read. False: the connection must close.
asio::awaitable<bool> Handler::discardBody(Exchange& x) {
  x.body_buf.clear();
  if (x.body_done) co_return true;
  if (x.req.expect_continue && !x.continue_sent) co_return false;  // the client waits for 100; do not invite the body
  bool ok = true;
  while (ok && !x.body_done) {
    int r = co_await readBodySome(x, kChunk);
    ok = r == 0;
    x.body_buf.clear();
  }
  co_return ok;
}

void Handler::startBody(Exchange& x) {
  x.cl_left = x.req.framing == http::BodyFraming::ContentLength ? x.req.content_length : 0;
  x.body_done = x.req.framing == http::BodyFraming::None ||
                (x.req.framing == http::BodyFraming::ContentLength && x.cl_left == 0);
}

asio::awaitable<int> Handler::readBodySome(Exchange& x, uint64_t want) {
  if (x.body_done) co_return 0;
  const auto& t = rt_->config->timeouts;
  if (x.req.framing == http::BodyFraming::ContentLength) {
    size_t max = size_t(std::min<uint64_t>({x.cl_left, std::max<uint64_t>(want, 1), kChunk}));
    c_->arm(Phase::ClientRead, t.client_body);
    auto [ec, n] = co_await readClient(c_->chunk.data(), max);
    c_->disarm();
    if (ec || n == 0) {
      x.error = "client closed during the request body";
      co_return -1;
    }
    x.body_buf.append(c_->chunk.data(), n);
    x.cl_left -= n;
    x.bytes_in += n;
    if (x.cl_left == 0) x.body_done = true;
    co_return 0;
  }
  if (!x.dec) x.dec.emplace(limits_);
  for (;;) {
    if (c_->end == c_->begin) {
      c_->begin = c_->end = c_->floor;
      c_->arm(Phase::ClientRead, t.client_body);
      auto [ec, n] = co_await c_->client.async_read_some(
          asio::buffer(c_->in.data() + c_->floor, c_->in.size() - c_->floor), kTuple);
      c_->disarm();
      if (ec || n == 0) {
        x.error = "client closed during the request body";
        co_return -1;
      }
      c_->end = c_->floor + n;
    }
    http::ParseError err;
    auto step = x.dec->feed(std::string_view(c_->in.data() + c_->begin, c_->end - c_->begin), err);
    c_->begin += step.consumed;
    if (step.status == http::ParseStatus::Error) {
      x.error = err.reason;
      co_return err.status;
    }
    x.body_buf.append(step.data);
    x.bytes_in += step.data.size();
    if (step.status == http::ParseStatus::Done) {
      x.body_done = true;
      co_return 0;
    }
    if (!step.data.empty()) co_return 0;
  }
}

void Handler::finish(Exchange& x) {
  if (x.tx) finishWaf(x);
  auto now = Clock::now();
  double secs = std::chrono::duration<double>(now - x.start).count();
  routeMetrics(x).observe(x.status, secs);
  if (auto* log = w_.shared().access_log) {
    log::AccessRecord r;  // views of this exchange, rendered into the worker's ring by record()
    r.time_ms = x.start_unix_ms;
    r.request_id = x.request_id;
    r.client = c_->peer;
    r.listener = c_->listener;
    if (x.route) r.route = x.route->name;
    r.method = x.req.method;
    r.host = x.req.host;
    r.path = x.req.target;
    r.protocol = x.req.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
    r.status = x.status;
    r.bytes_in = x.bytes_in;
    r.bytes_out = x.bytes_out;
    r.upstream = x.upstream_addr;
    r.upstream_ms = x.upstream_ms;
    r.total_ms = secs * 1000.0;
    if (auto* ua = x.req.find("User-Agent")) r.user_agent = ua->value;
    r.error = x.error;
    r.waf = x.waf_action;
    log->record(w_.id(), r);
  }
}

asio::awaitable<bool> Handler::readProxyHeader() {
  // Only from trusted balancers.
  error_code ec;
  auto peer = asio::ip::make_address(c_->peer_ip, ec);
  bool trusted = false;
  for (const auto& t : listener_cfg_->proxy_protocol_trusted)
    if (auto cidr = ratelimit::parseCidr(t); cidr && !ec && ratelimit::cidrContains(*cidr, peer)) trusted = true;
  if (!trusted) {
    spdlog::debug("proxy protocol: {} is not a trusted sender; closed", c_->peer);
    co_return false;
  }
  // v1 is at least 15 bytes ("PROXY UNKNOWN\r\n"), v2 at least 16: read 15, then exactly the rest.
  std::array<unsigned char, 536> buf{};
  size_t have = 0;
  c_->arm(Phase::ClientRead, rt_->config->timeouts.client_header);
  auto readExact = [&](size_t n) -> asio::awaitable<bool> {
    if (have + n > buf.size()) co_return false;
    auto [rec, got] = co_await asio::async_read(c_->client.socket(), asio::buffer(buf.data() + have, n), kTuple);
    have += got;
    co_return !rec && got == n;
  };
  bool ok = co_await readExact(15);
  static const unsigned char kV2[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  if (ok && std::memcmp(buf.data(), kV2, 12) == 0) {
    bool more = co_await readExact(1);
    ok = more;
    size_t len = ok ? (size_t(buf[14]) << 8 | buf[15]) : 0;
    if (ok && len) {
      bool rest = co_await readExact(len);
      ok = rest;
    }
  } else if (ok && std::memcmp(buf.data(), "PROXY ", 6) == 0) {
    while (ok && !(buf[have - 2] == '\r' && buf[have - 1] == '\n')) {
      if (have >= 107) {
        ok = false;
        break;
      }
      bool more = co_await readExact(1);
      ok = more;
    }
  } else {
    ok = false;
  }
  c_->disarm();
  if (!ok) {
    spdlog::debug("proxy protocol: no valid header from {}", c_->peer);
    co_return false;
  }
  auto h = ratelimit::parseProxyHeader(std::span<const unsigned char>(buf.data(), have));
  if (h.error != ratelimit::ProxyError::kNone || h.consumed != have) co_return false;
  if (h.source) {  // LOCAL (a balancer's own health check) keeps the peer
    c_->peer_ip = h.source->to_string();
    c_->peer_port = h.sourcePort;
    c_->peer = h.source->is_v6() ? fmt::format("[{}]:{}", c_->peer_ip, c_->peer_port)
                                 : fmt::format("{}:{}", c_->peer_ip, c_->peer_port);
  }
  co_return true;
}

// A failed TLS handshake is worth one log line per second, not one per scanner probe.
// Index into admin::kTlsFailureReasons.
size_t tlsFailureReason(const error_code& ec, bool expired) {
  if (expired) return 0;
  if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof || ec == asio::error::connection_reset)
    return 1;
  if (ec.category() == asio::error::get_ssl_category()) {
    switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
      case SSL_R_UNSUPPORTED_PROTOCOL:
      case SSL_R_WRONG_VERSION_NUMBER:
      case SSL_R_NO_PROTOCOLS_AVAILABLE:
      case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
        return 2;
      case SSL_R_NO_SHARED_CIPHER:
      case SSL_R_NO_SUITABLE_KEY_SHARE:
      case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
        return 3;
      case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      case SSL_R_CERTIFICATE_VERIFY_FAILED:
        return 4;
      case SSL_R_HTTP_REQUEST:
      case SSL_R_HTTPS_PROXY_REQUEST:
        return 5;
      default:
        break;
    }
  }
  return 6;
}

void tlsFailureLog(const std::string& peer, const error_code& ec) {
  static std::atomic<int64_t> last{0};
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  if (last.exchange(now) != now) spdlog::info("tls: handshake with {} failed: {}", peer, ec.message());
}

// --- WAF ---------------------------------------------------------------------

thread_local uint64_t t_profile_seq = 0;  // (filters::WafPolicies::kProfileSampling)

// Runs `fn` (an engine call) and adds its time to the exchange.
template <typename F>
auto timed(Exchange& x, F&& fn) {
  auto t0 = Clock::now();
  if constexpr (std::is_void_v<decltype(fn())>) {
    fn();
    x.waf_time += Clock::now() - t0;
  } else {
    auto r = fn();
    x.waf_time += Clock::now() - t0;
    return r;
  }
}

void feedRequest(waf::Transaction& tx, const Conn& c, const http::RequestHead& req) {
  tx.processConnection(c.peer_ip, c.peer_port, c.local_ip, c.local_port);
  tx.processUri(req.method, req.target, req.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
  for (const auto& h : req.headers) tx.addRequestHeader(h.name, h.value);
}

void Handler::wafError(Exchange& x, const char* where, const std::exception& e) {
  if (x.route) routeMetrics(x).waf_errors.add();
  static std::atomic<int64_t> last_log{0};
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  if (last_log.exchange(now) != now)  // at most one line per second
    spdlog::error("waf: engine error in {} (request {}): {}; on_error: {}", where, x.request_id, e.what(),
                  x.waf->fail_open ? "open (passed)" : "closed (500)");
  x.error = fmt::format("waf engine error: {}", e.what());
}

asio::awaitable<void> Handler::respondBlocked(Exchange& x, const waf::Verdict& v) {
  x.waf_action = "blocked";
  if (x.route) routeMetrics(x).waf_blocked.add();
  // Counted before the answer goes out, so the client's next request sees the ban.
  if (!x.ban_key.empty()) rt_->rate_limits.offence(x.listener_index, x.ban_key, true, false);
  // The body is not read any further: a large or slow attack body is not worth
  // waiting for, so the connection closes unless the body is already consumed.
  if (!x.body_done) x.close_after = true;
  switch (v.action) {
    case waf::Verdict::Action::Drop:
      x.status = 444;  // nginx's "closed without response"
      x.close_after = true;
      x.error = fmt::format("dropped by waf rule {}", v.rule_id);
      co_return;
    case waf::Verdict::Action::Redirect: {
      std::vector<std::pair<std::string, std::string>> extra = {{"Location", v.redirect_url}};
      co_await respondSimple(x, uint16_t(v.status), fmt::format("Redirecting.\nrequest id: {}\n", x.request_id),
                             "text/plain; charset=utf-8", extra);
      co_return;
    }
    default: {
      uint16_t status = uint16_t(v.status >= 100 && v.status <= 599 ? v.status : 403);
      co_await respondSimple(x, status,
                             fmt::format("{} {}: the request was blocked by the web application firewall.\n"
                                         "request id: {}\n",
                                         status, http::reasonPhrase(status), x.request_id));
      co_return;
    }
  }
}

asio::awaitable<void> Handler::respondRateLimited(Exchange& x, const filters::RateLimiters::Result& r) {
  const auto& p = *r.rejected_by;
  const std::string& name = p.cfg->policy.name;
  x.error = fmt::format("rate limited by policy '{}'", name);
  if (!x.ban_key.empty()) rt_->rate_limits.offence(x.listener_index, x.ban_key, false, true);
  if (!x.body_done) x.close_after = true;  // the body is not read
  std::vector<std::pair<std::string, std::string>> extra = {
      {"Retry-After", ratelimit::retryAfterValue(r.decision.retryAfter)}};
  if (p.cfg->policy.headers) {
    extra.emplace_back("RateLimit-Policy", p.policy_header);
    extra.emplace_back("RateLimit", ratelimit::rateLimitValue(name, r.decision.remaining, r.decision.reset));
  }
  co_await respondSimple(x, 429,
                         fmt::format("429 Too Many Requests: rate limit '{}'\nrequest id: {}\n", name, x.request_id),
                         "text/plain; charset=utf-8", extra);
}

asio::awaitable<void> Handler::checkStrictLimits(Exchange& x, filters::RateLimiters::Result& limit) {
  // One EVAL per strict policy on this worker's Redis connection; the worker
  // serves other connections meanwhile. No answer within redis.timeout: the
  // policy's fail-open/closed rule decides.
  const auto& redis_cfg = rt_->config->redis.settings;
  for (auto& [p, key] : limit.strict) {
    auto call = p->strict->command(redis_cfg.key_prefix, key);
    auto reply = co_await w_.redis().call(redis_cfg, std::move(call.args));
    ratelimit::Decision d;
    if (reply.ok) {
      d = p->strict->decide(call, reply.ints);
    } else {
      d = p->strict->fallback(key);
      static std::atomic<int64_t> last_log{0};
      const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
      if (now - last_log.load(std::memory_order_relaxed) >= 10 && last_log.exchange(now) != now)
        spdlog::warn("redis {}:{}: strict rate limit '{}': {}; failing {} (request {})", redis_cfg.host,
                     redis_cfg.port, p->cfg->policy.name, reply.error,
                     p->cfg->fail_open ? "open (a local limit of rate / replicas)" : "closed (429)", x.request_id);
    }
    if (!d.allowed) {
      limit.rejected_by = p;
      limit.decision = d;
      co_return;
    }
    if (p->cfg->policy.headers && (!limit.closest || d.remaining < limit.closest_decision.remaining)) {
      limit.closest = p;
      limit.closest_decision = d;
    }
  }
}

bool Handler::retryAllowed(upstream::RetryBudget& budget) {
  if (budget.tryStartRetry()) return true;
  w_.metrics().upstream_retry_budget_exhausted.add();  // would have retried: the budget said no
  return false;
}

asio::awaitable<void> Handler::respondBanned(Exchange& x, const ratelimit::BanList& by,
                                            std::chrono::milliseconds left) {
  const auto& p = by.policy();
  x.error = fmt::format("banned by '{}'", p.name);
  x.close_after = true;  // the client is shut out: its body is not read, the connection not kept
  const int64_t secs = std::max<int64_t>(1, (left.count() + 999) / 1000);
  std::vector<std::pair<std::string, std::string>> extra = {{"Retry-After", std::to_string(secs)}};
  co_await respondSimple(x, 403,
                         fmt::format("403 Forbidden: this client is banned for {} more seconds after repeated "
                                     "offences (ban '{}').\nrequest id: {}\n",
                                     secs, p.name, x.request_id),
                         "text/plain; charset=utf-8", extra);
}

asio::awaitable<bool> Handler::inspectRequest(Exchange& x) {
  const auto& wp = *x.waf;
  auto& rm = routeMetrics(x);
  rm.waf_inspected.add();
  waf::Verdict v;
  bool failed = false;
  try {
    timed(x, [&] {
      // The engine by reference: rt_ (this connection's configuration
      // generation) holds it past the exchange, and no shared count is written.
      x.tx.emplace(*wp.engine, x.request_id);
      x.tx->setRuleEngine(wp.mode == config::WafMode::Block ? rules::EngineSettings::RuleEngine::On
                                                            : rules::EngineSettings::RuleEngine::DetectionOnly);
      // Per-rule counts and times on a sample of the transactions (WafPolicies).
      using P = filters::WafPolicies;
      const uint64_t seq = t_profile_seq++;
      const bool sampled = seq % P::kProfileSampling == 0, timed_too = seq % P::kProfileTiming == 0;
      if (sampled)
        x.tx->setProfile(rt_->waf.profile(wp.engine_index, w_.id()), timed_too, uint32_t(P::kProfileSampling));
      if (!c_->waf_headers) c_->waf_headers = waf::Transaction::newHeaderMemo();
      x.tx->useHeaderMemo(c_->waf_headers.get());  // (the shadow set's engine keeps to the thread's)
      feedRequest(*x.tx, *c_, x.req);
      if (wp.shadow) {
        x.shadow_tx.emplace(*wp.shadow, x.request_id);
        x.shadow_tx->setRuleEngine(rules::EngineSettings::RuleEngine::DetectionOnly);
        if (sampled)
          x.shadow_tx->setProfile(rt_->waf.profile(wp.shadow_index, w_.id()), timed_too, uint32_t(P::kProfileSampling));
        feedRequest(*x.shadow_tx, *c_, x.req);
        x.shadow_tx->processRequestHeaders();
      }
      v = x.tx->processRequestHeaders();
    });
    // The ready requests' phase 1 first, then their phase 2: each phase's
    // rules and databases, a part of the whole, serve them all while cached.
    // 1 KB POST: worker CPU -2.2% (6 of 6 pairs); the GET: no change.
    if (!v.disruptive() && othersInProgress()) co_await yieldToReadyRequests();
    if (!v.disruptive() && !x.body_done && x.tx->wantsRequestBody()) {
      const auto& es = wp.engine->settings();
      const uint64_t limit = es.request_body_limit;  // multipart; the engine applies the no-files limit itself
      // Reject: a declared length over the limit is answered before reading anything.
      if (es.request_body_limit_reject && x.req.framing == http::BodyFraming::ContentLength &&
          x.req.content_length > limit) {
        x.close_after = true;
        x.error = "request body over the waf inspection limit";
        co_await respondSimple(x, 413, fmt::format("413 Content Too Large: the request body is over the inspection "
                                                   "limit ({} bytes)\nrequest id: {}\n", limit, x.request_id));
        co_return false;
      }
      if (x.req.expect_continue && !x.continue_sent) {
        c_->arm(Phase::ClientWrite, rt_->config->timeouts.client_body);
        bool ok = co_await writeAll(c_->client, "HTTP/1.1 100 Continue\r\n\r\n");
        c_->disarm();
        x.continue_sent = true;
        if (!ok) {
          x.close_after = true;
          co_return false;
        }
      }
      // Read up to the limit (the rest, with ProcessPartial, streams to the backend uninspected).
      bool over = false;
      while (!x.body_done && x.body_buf.size() <= limit) {
        size_t before = x.body_buf.size();
        int r = co_await readBodySome(x, limit + 1 - before);
        if (r < 0) {
          x.close_after = true;
          co_return false;
        }
        if (r > 0) {
          x.close_after = true;
          co_await respondSimple(x, uint16_t(r), fmt::format("{} bad chunked body: {}\nrequest id: {}\n", r, x.error,
                                                             x.request_id));
          co_return false;
        }
        std::string_view piece(x.body_buf.data() + before, x.body_buf.size() - before);
        bool fits = timed(x, [&] {
          if (x.shadow_tx) x.shadow_tx->appendRequestBody(piece);
          return x.tx->appendRequestBody(piece);
        });
        if (!fits) {
          over = true;
          break;
        }
      }
      if (over) {  // SecRequestBodyLimitAction Reject
        x.close_after = true;
        x.error = "request body over the waf inspection limit";
        co_await respondSimple(x, 413, fmt::format("413 Content Too Large: the request body is over the inspection "
                                                   "limit\nrequest id: {}\n", x.request_id));
        co_return false;
      }
    }
    if (!v.disruptive()) {
      v = timed(x, [&] {
        if (x.shadow_tx) x.shadow_tx->processRequestBody();
        return x.tx->processRequestBody();
      });
    }
  } catch (const std::exception& e) {
    wafError(x, "request phases", e);
    failed = true;
  }
  if (failed) {
    if (wp.fail_open) {
      x.tx.reset();
      x.shadow_tx.reset();
      co_return true;
    }
    if (!x.body_done) x.close_after = true;
    co_await respondSimple(x, 500, fmt::format("500 Internal Server Error\nrequest id: {}\n", x.request_id));
    co_return false;
  }
  if (v.disruptive()) {
    co_await respondBlocked(x, v);
    co_return false;
  }
  // Before this request's upstream send, the other ready requests run their
  // inspection. Under wrk -c32 the worker's CPU per inspected GET fell ~20%
  // (alternating pairs).
  if (othersInProgress()) co_await yieldToReadyRequests();
  co_return true;
}

void Handler::finishWaf(Exchange& x) {
  const auto& wp = *x.waf;
  auto& rm = routeMetrics(x);
  try {
    timed(x, [&] {
      if (x.status) x.tx->setResponseStatus(x.status, "HTTP/1.1");
      x.tx->processLogging();
      if (x.shadow_tx) x.shadow_tx->processLogging();
    });
  } catch (const std::exception& e) {
    wafError(x, "logging phase", e);
  }
  const bool would_block = x.tx->wouldBeVerdict().disruptive();
  if (wp.mode == config::WafMode::Detect && would_block) {
    rm.waf_detected.add();
    if (x.waf_action.empty()) x.waf_action = "detected";
  }
  bool shadow_differs = false;
  if (x.shadow_tx) {
    shadow_differs = x.shadow_tx->wouldBeVerdict().disruptive() != would_block;
    if (shadow_differs) rm.waf_shadow_differs.add();
  }
  // In nanoseconds: a request's WAF time is a few microseconds, and whole ones would drop ~0.5 us of each.
  rm.waf_time_ns.add(uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(x.waf_time).count()));
  {
    const auto& ms = x.tx->valueMemoStats();
    auto& wm = w_.metrics();
    wm.waf_memo_scan_values.add(ms.values);
    wm.waf_memo_scan_values_known.add(ms.values_known);
    wm.waf_memo_scans.add(ms.scans);
    wm.waf_memo_scans_skipped.add(ms.scans_skipped);
    wm.waf_memo_scans_sieved.add(ms.scans_sieved);
    wm.waf_memo_rule_tests.add(ms.link_values);
    wm.waf_memo_rule_tests_known.add(ms.link_values_known);
    wm.waf_memo_header_sets.add(ms.header_sets);
    wm.waf_memo_header_sets_known.add(ms.header_sets_known);
    wm.waf_memo_request_sets.add(ms.request_sets);
    wm.waf_memo_request_sets_known.add(ms.request_sets_known);
    wm.waf_memo_request_phases_replayed.add(ms.request_phases_replayed);
  }

  auto* audit = w_.shared().audit_log;
  if (!audit) return;
  const auto& acfg = rt_->config->waf.audit;
  filters::AuditContext ctx;
  ctx.time_ms = x.start_unix_ms;
  ctx.request_id = x.request_id;
  ctx.listener = c_->listener;
  ctx.route = x.route ? std::string_view(x.route->name) : std::string_view();
  ctx.client = c_->peer;
  ctx.req = &x.req;
  ctx.status = x.status;
  if (filters::wantsAuditEvent(*x.tx, acfg, false)) {
    ctx.rule_set = wp.rule_set;
    ctx.mode = wp.mode == config::WafMode::Block ? "block" : "detect";
    audit->pushLine(w_.id(), filters::renderAuditEvent(ctx, *x.tx, *rt_->waf.redactor));
  }
  if (shadow_differs) {
    ctx.rule_set = wp.shadow_name;
    ctx.mode = "detect";
    ctx.shadow = true;
    audit->pushLine(w_.id(), filters::renderAuditEvent(ctx, *x.shadow_tx, *rt_->waf.redactor));
  }
}

asio::awaitable<void> Handler::run() {
  error_code ec;
  auto ep = c_->client.remote_endpoint(ec);
  if (!ec) {
    c_->peer_ip = ep.address().to_string();
    c_->peer_port = ep.port();
    c_->peer = ep.address().is_v6() ? fmt::format("[{}]:{}", c_->peer_ip, ep.port())
                                    : fmt::format("{}:{}", c_->peer_ip, ep.port());
  }
  if (auto lep = c_->client.local_endpoint(ec); !ec) {
    c_->local_ip = lep.address().to_string();
    c_->local_port = lep.port();
  }
  c_->client.set_option(tcp::no_delay(true), ec);
  rt_ = w_.runtime();  // this connection keeps the generation it started with
  for (auto& l : rt_->config->listeners)
    if (l.name == c_->listener) listener_cfg_ = &l;
  const size_t listener_index = listener_cfg_ ? size_t(listener_cfg_ - rt_->config->listeners.data()) : 0;
  const config::Limits& lim = listener_cfg_ ? listener_cfg_->limits : rt_->config->limits;
  limits_.max_request_line = lim.max_request_line;
  limits_.max_header_bytes = lim.max_header_bytes;
  limits_.max_headers = lim.max_headers;
  limits_.max_body = lim.max_body;
  c_->in.resize(lim.max_header_bytes + 16 * 1024);

  // PROXY protocol: the real client, from a trusted load balancer, before anything else.
  if (listener_cfg_ && !listener_cfg_->proxy_protocol_trusted.empty()) {
    if (!co_await readProxyHeader()) {
      error_code ignored;
      c_->client.close(ignored);
      co_return;
    }
  }

  // TLS: the handshake, under the client-header timeout.
  if (listener_cfg_) {
    size_t li = size_t(listener_cfg_ - rt_->config->listeners.data());
    if (li < rt_->tls.size() && rt_->tls[li]) {
      c_->client.startTls(rt_->tls[li]->defaultContext());
      c_->arm(Phase::ClientRead, rt_->config->timeouts.client_header);
      auto [hec] = co_await c_->client.async_handshake(asio::ssl::stream_base::server, kTuple);
      c_->disarm();
      if (hec) {
        w_.metrics().tls_handshake_failures.add();
        w_.metrics().tls_failure_reasons[tlsFailureReason(hec, c_->expired)].add();
        tlsFailureLog(c_->peer, hec);
        error_code ignored;
        c_->client.close(ignored);
        co_return;
      }
      w_.metrics().tls_handshakes.add();
      if (SSL_session_reused(c_->client.ssl())) w_.metrics().tls_resumed.add();
      c_->mtls = &rt_->tls[li]->clientCertificates();
      if (c_->mtls->mode != tls::ClientCertificates::Mode::None) c_->peer_cert = tls::peerIdentity(c_->client.ssl());
    }
  }

  bool first = true;
  for (;;) {
    Exchange x;
    const LentFields lent(x.req.headers, c_->req_fields);
    http::ParseError perr;
    int r = co_await readHead(x.req, perr, first);
    first = false;
    x.start = Clock::now();
    x.start_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
    if (r < 0) break;
    ++w_.exchanges;  // until this iteration ends (Worker::exchanges)
    struct InProgress {
      core::Worker& w;
      ~InProgress() { --w.exchanges; }
    } in_progress{w_};
    if (r > 0) {
      // A malformed or oversized head: answer and close (framing is in doubt).
      w_.metrics().parse_errors.add();
      x.request_id = w_.nextRequestId();
      x.close_after = true;
      x.error = perr.reason ? perr.reason : "bad request";
      x.req = http::RequestHead{};
      std::string body = fmt::format("{} {}: {}\nrequest id: {}\n", r, http::reasonPhrase(uint16_t(r)), x.error,
                                     x.request_id);
      co_await respondSimple(x, uint16_t(r), body);
      finish(x);
      break;
    }
    c_->begin += x.req.head_size;
    c_->floor = c_->begin;
    w_.metrics().requests_active.add();

    // Request id: keep a sane client-supplied one, else make one.
    if (auto* h = x.req.find("X-Request-Id"); h && !h->value.empty() && h->value.size() <= 128 &&
                                               http::isToken(h->value))
      x.request_id = std::string(h->value);
    else
      x.request_id = w_.nextRequestId();

    x.close_after = !x.req.keep_alive || w_.shared().draining.load(std::memory_order_relaxed);
    startBody(x);
    if (listener_cfg_ && listener_cfg_->redirect_https) {
      // Plain listener that only sends clients to https: 308 keeps the method and body.
      std::string_view host = x.req.host;
      if (!host.empty() && host.front() != '[') host = host.substr(0, host.rfind(':'));
      else if (!host.empty()) host = host.substr(0, host.find(']') + 1);
      std::string location = fmt::format("https://{}{}{}", host.empty() ? c_->local_ip : std::string(host),
                                         listener_cfg_->https_port == 443 ? std::string()
                                                                          : fmt::format(":{}", listener_cfg_->https_port),
                                         originTarget(x.req.target));
      std::vector<std::pair<std::string, std::string>> extra = {{"Location", location}};
      if (!co_await discardBody(x)) x.close_after = true;
      co_await respondSimple(x, 308, fmt::format("Redirecting to {}\n", location), "text/plain; charset=utf-8", extra);
      w_.metrics().requests_active.sub();
      finish(x);
      if (x.close_after || c_->closed) break;
      if (c_->begin == c_->end) c_->begin = c_->end = 0;
      c_->floor = 0;
      continue;
    }
    std::string_view path = pathOf(x.req.target);
    x.route = router::select(*rt_->config, c_->listener, x.req.host, path, x.req, c_->peer_cert.subject,
                             c_->peer_cert.fingerprint);
    if (listener_cfg_) {
      const auto& wafs = rt_->waf;
      x.waf = x.route ? &wafs.forRoute(listener_index, size_t(x.route - rt_->config->routes.data()))
                      : &wafs.listener[listener_index];
      if (!x.waf->active()) x.waf = nullptr;
    }
    // The client address (trusted proxies honoured), resolved once for bans and limits.
    const auto& rls = rt_->rate_limits;
    const size_t route_index = x.route ? size_t(x.route - rt_->config->routes.data()) : 0;
    const bool bans = listener_cfg_ && rls.hasBans(listener_index);
    const bool limits = listener_cfg_ && rls.applies(listener_index, x.route, route_index);
    const std::string client =
        bans || limits ? filters::clientAddress(x.req, c_->peer_ip, rls.trusted) : std::string();
    // A banned client is answered before anything else is spent on it.
    const ratelimit::BanList* banned_by = nullptr;
    std::chrono::milliseconds ban_left{0};
    if (bans) {
      x.ban_key = filters::RateLimiters::banKey(client);
      x.listener_index = listener_index;
      ban_left = rls.banned(listener_index, x.ban_key, &banned_by);
    }
    auto limit = limits && !banned_by
                     ? rls.check(listener_index, x.route, route_index, x.req, client, c_->peer_cert.subject)
                     : filters::RateLimiters::Result{};
    if (!limit.rejected_by && !limit.strict.empty()) co_await checkStrictLimits(x, limit);
    if (limit.closest) {
      x.limit_policy = limit.closest;
      x.limit_decision = limit.closest_decision;
    }
    if (!limit.rejected_by && limit.delay.count() > 0) {
      // Admitted late (a delay policy): wait on this worker's timer, then go on.
      asio::steady_timer wait(c_->client.get_executor());
      wait.expires_after(limit.delay);
      co_await wait.async_wait(kTuple);
      w_.metrics().ratelimit_delayed.add();
    }
    if (banned_by) {
      co_await respondBanned(x, *banned_by, ban_left);
    } else if (limit.rejected_by) {
      co_await respondRateLimited(x, limit);
    } else if (x.waf && !co_await inspectRequest(x)) {
      // Blocked or answered by the WAF step; the body was not forwarded.
    } else if (!x.route) {
      if (!co_await discardBody(x)) x.close_after = true;
      co_await respondSimple(x, 404, fmt::format("no route for {}{}\nrequest id: {}\n", x.req.host, path, x.request_id));
    } else if (x.route->direct) {
      if (!co_await discardBody(x)) x.close_after = true;
      std::vector<std::pair<std::string, std::string>> extra = x.route->response_headers.add;
      if (!x.route->hsts.empty() && c_->client.tls()) extra.emplace_back("Strict-Transport-Security", x.route->hsts);
      co_await respondSimple(x, x.route->direct->status, x.route->direct->body, x.route->direct->content_type, extra);
    } else {
      co_await proxy(x);
    }
    w_.metrics().requests_active.sub();
    finish(x);
    if (x.close_after || c_->closed || w_.shared().draining.load(std::memory_order_relaxed)) break;
    // Compact the buffer between requests (no views are live now).
    if (c_->begin == c_->end) c_->begin = c_->end = 0;
    c_->floor = 0;
  }
  if (c_->client.tls() && !c_->closed && !c_->expired) {
    // close_notify, so clients know the response was not truncated and keep
    // the session: OpenSSL clients drop a session whose connection ended
    // without one, and would pay a full handshake next time. Bounded: a peer
    // that neither answers nor closes is cut after a second.
    c_->arm(Phase::ClientWrite, std::chrono::seconds(1));
    co_await c_->client.async_shutdown(kTuple);  // its outcome changes nothing: the socket closes next
    c_->disarm();
  }
  error_code ignored;
  c_->client.shutdown(tcp::socket::shutdown_send, ignored);
  c_->client.close(ignored);
}

// --- proxying ---------------------------------------------------------------

struct UpstreamConn {
  std::optional<Stream> sock;
  bool reused = false;
};

asio::awaitable<void> Handler::proxy(Exchange& x, uint32_t attempt, const upstream::Endpoint* avoid) {
  const auto& route = *x.route;
  auto& pool = *rt_->pools[route.pool_index];
  auto& budget = *rt_->retry_budgets[size_t(&route - rt_->config->routes.data())];
  const auto& pc = pool.config();
  const tls::ClientContext* upstream_tls = pool.tls().get();
  const void* tls_key = upstream_tls ? upstream_tls->context() : nullptr;  // idle connections per TLS context
  auto& req = x.req;
  const bool has_body = req.framing != http::BodyFraming::None;

  // Hash input for consistent hashing.
  std::string_view hash_input;
  std::string cookie_value;
  if (pc.lb == upstream::LbPolicy::Hash) {
    switch (pc.hash_on) {
      case upstream::HashOn::ClientIp: hash_input = c_->peer_ip; break;
      case upstream::HashOn::Header:
        if (auto* h = req.find(pc.hash_name)) hash_input = h->value;
        break;
      case upstream::HashOn::Cookie:
        for (auto& h : req.headers) {
          if (!http::iequals(h.name, "Cookie")) continue;
          std::string_view v = h.value;
          size_t pos = 0;
          while (pos < v.size()) {
            size_t semi = v.find(';', pos);
            if (semi == std::string_view::npos) semi = v.size();
            auto kv = http::trimOws(v.substr(pos, semi - pos));
            auto eq = kv.find('=');
            if (eq != std::string_view::npos && kv.substr(0, eq) == pc.hash_name) {
              cookie_value = std::string(kv.substr(eq + 1));
              break;
            }
            pos = semi + 1;
          }
        }
        hash_input = cookie_value;
        break;
    }
  }

  // A small Content-Length body that arrived with the head goes up in the head's write.
  if (has_body && !x.body_done && x.body_buf.empty() && req.framing == http::BodyFraming::ContentLength &&
      !req.expect_continue && c_->end - c_->begin >= x.cl_left && x.cl_left <= kChunk) {
    x.body_buf.assign(c_->in.data() + c_->begin, size_t(x.cl_left));
    c_->begin += size_t(x.cl_left);
    x.bytes_in += x.cl_left;
    x.cl_left = 0;
    x.body_done = true;
  }
  const bool chunk_upstream = has_body && !x.body_done && req.framing == http::BodyFraming::Chunked;

  // Build the upstream request head once, in the connection's buffer (its
  // capacity kept from one request to the next): the client's head and what
  // is added to it (X-Forwarded-*, Via, X-Request-Id...). A retry by status
  // (the call below) builds its own there: this call reads it no more then.
  std::string& head = reuse(c_->up_head, req.head_size + 512);
  {
    std::string_view orig = originTarget(req.target);
    if (route.rewrite_prefix && route.path.kind == config::PathMatch::Kind::Prefix &&
        orig.substr(0, route.path.value.size()) == route.path.value) {
      std::string_view rest = orig.substr(route.path.value.size());
      std::string target = *route.rewrite_prefix;
      if (!target.empty() && target.back() == '/' && !rest.empty() && rest.front() == '/') rest.remove_prefix(1);
      target.append(rest);
      if (target.empty() || (target[0] != '/')) target.insert(0, "/");
      http::appendRequestLine(head, req.method, target);
    } else {
      http::appendRequestLine(head, req.method, orig);
    }
    std::string xff, via;
    const http::HopByHop hop(req.headers);
    http::ReceivedLines lines(head);  // the client's lines kept, as received
    for (const auto& h : req.headers) {
      if (hop.drops(h.name)) continue;
      if (http::iequals(h.name, "Content-Length") || http::iequals(h.name, "Expect")) continue;
      if (http::iequals(h.name, "X-Forwarded-For")) {
        xff.append(xff.empty() ? "" : ", ").append(h.value);
        continue;
      }
      if (http::iequals(h.name, "Via")) {
        via.append(via.empty() ? "" : ", ").append(h.value);
        continue;
      }
      if (http::iequals(h.name, "X-Forwarded-Proto") || http::iequals(h.name, "X-Forwarded-Host") ||
          http::iequals(h.name, "X-Request-Id"))
        continue;
      // The client-certificate headers are ours alone: a client cannot send its own.
      if (c_->mtls && ((!c_->mtls->subject_header.empty() && http::iequals(h.name, c_->mtls->subject_header)) ||
                       (!c_->mtls->fingerprint_header.empty() && http::iequals(h.name, c_->mtls->fingerprint_header))))
        continue;
      bool removed = false;
      for (auto& r : route.request_headers.remove)
        if (http::iequals(h.name, r)) removed = true;
      if (removed) continue;
      lines.add(h);
    }
    lines.flush();
    if (req.host.empty()) http::appendHeader(head, "Host", pool.endpoints().front()->config().address);
    xff.append(xff.empty() ? "" : ", ").append(c_->peer_ip);
    http::appendHeader(head, "X-Forwarded-For", xff);
    http::appendHeader(head, "X-Forwarded-Proto", c_->client.tls() ? "https" : "http");
    if (!req.host.empty()) http::appendHeader(head, "X-Forwarded-Host", req.host);
    via.append(via.empty() ? "" : ", ").append(req.version_minor == 0 ? "1.0 rampart" : "1.1 rampart");
    http::appendHeader(head, "Via", via);
    http::appendHeader(head, "X-Request-Id", x.request_id);
    if (c_->mtls && !c_->peer_cert.subject.empty()) {
      if (!c_->mtls->subject_header.empty()) http::appendHeader(head, c_->mtls->subject_header, c_->peer_cert.subject);
      if (!c_->mtls->fingerprint_header.empty())
        http::appendHeader(head, c_->mtls->fingerprint_header, c_->peer_cert.fingerprint);
    }
    for (auto& [n, v] : route.request_headers.add) http::appendHeader(head, n, v);
    // A body read whole (small, or buffered for the WAF) goes up with a Content-Length,
    // whatever its framing from the client; otherwise the client's framing is kept.
    if (has_body && x.body_done)
      http::appendHeader(head, "Content-Length", std::to_string(x.body_buf.size()));
    else if (req.framing == http::BodyFraming::ContentLength)
      http::appendHeader(head, "Content-Length", std::to_string(req.content_length));
    else if (req.framing == http::BodyFraming::Chunked)
      http::appendHeader(head, "Transfer-Encoding", "chunked");
    if (req.upgrade) {
      http::appendHeader(head, "Connection", "Upgrade");
      if (auto* u = req.find("Upgrade")) http::appendHeader(head, "Upgrade", u->value);
    }
    head += "\r\n";
  }

  // Least-request accounting follows the endpoint in use; the budget counts the client request once.
  struct Guard {
    upstream::Pool& pool;
    upstream::RetryBudget* budget = nullptr;
    const upstream::Endpoint* ep = nullptr;
    void use(const upstream::Endpoint* e) {
      if (ep) pool.requestFinished(*ep);
      ep = e;
      if (ep) pool.requestStarted(*ep);
    }
    upstream::RetryBudget* retry_budget = nullptr;
    uint32_t retries = 0;  // retries started by this call, finished when it ends
    ~Guard() {
      if (ep) pool.requestFinished(*ep);
      if (budget) budget->requestFinished();
      for (uint32_t i = 0; i < retries; ++i) retry_budget->retryFinished();
    }
  } guard{pool};
  guard.retry_budget = &budget;
  if (attempt == 0) {
    budget.requestStarted();
    guard.budget = &budget;
  }

  const upstream::Endpoint* ep = nullptr;
  const upstream::Endpoint* last = avoid;
  bool body_sent = false;
  http::ResponseHead resp;
  const LentFields lent(resp.headers, c_->resp_fields);
  if (c_->rbuf.size() < limits_.max_header_bytes + 16 * 1024) c_->rbuf.resize(limits_.max_header_bytes + 16 * 1024);
  std::vector<char>& rbuf = c_->rbuf;
  size_t rend = 0;
  UpstreamConn uc;
  Clock::time_point sent_at;

  for (;;) {
    ep = pool.pick(hash_input, last);
    if (!ep) {
      w_.metrics().no_healthy_upstream.add();
      x.error = "no healthy upstream";
      if (has_body && !co_await discardBody(x)) x.close_after = true;
      co_await respondSimple(x, 503, fmt::format("503 Service Unavailable: no healthy endpoint in pool '{}'\nrequest id: {}\n",
                                                 pc.name, x.request_id));
      co_return;
    }
    last = ep;
    x.upstream_addr = ep->config().address;
    guard.use(ep);

    // Connection: an idle one from this worker's cache, or a new one.
    uc = UpstreamConn{};
    if (!req.upgrade) {
      if (auto s = w_.upstreamCache().take(ep->address(), tls_key, pc.connections.idle_timeout)) {
        uc.sock.emplace(std::move(*s));
        uc.reused = true;
      }
    }
    if (!uc.sock) {
      uc.sock.emplace(tcp::socket(c_->client.get_executor()));
      c_->upstream = &*uc.sock;
      c_->arm(Phase::UpstreamConnect, route.timeouts.connect);
      auto [cec] = co_await uc.sock->socket().async_connect(ep->address(), kTuple);
      std::string tls_error;
      if (!cec && upstream_tls) {
        // TLS to the backend, under the same connect timeout.
        uc.sock->startTls(upstream_tls->context());
        if (!upstream_tls->prepare(uc.sock->ssl(), ep->config().host)) {
          tls_error = "cannot use the backend's name for TLS";
        } else {
          auto [hec] = co_await uc.sock->async_handshake(asio::ssl::stream_base::client, kTuple);
          if (hec) {
            std::string why = tls::ClientContext::verifyError(uc.sock->ssl());
            tls_error = why.empty() ? hec.message() : fmt::format("certificate verify failed: {}", why);
          }
        }
        if (tls_error.empty()) {
          w_.metrics().upstream_tls_handshakes.add();
          if (SSL_session_reused(uc.sock->ssl())) w_.metrics().upstream_tls_resumed.add();
        } else {
          w_.metrics().upstream_tls_failures.add();
        }
      }
      c_->disarm();
      if (cec || !tls_error.empty()) {
        w_.metrics().upstream_connect_failures.add();
        pool.report(*ep, {upstream::Outcome::Kind::ConnectFailure, 0});
        c_->upstream = nullptr;
        bool can_retry = attempt < route.retry.attempts && route.retry.on_connect_failure &&
                         isIdempotent(req.method) && !body_sent && retryAllowed(budget);
        if (can_retry) {
          ++attempt;
          ++guard.retries;
          w_.metrics().upstream_retries.add();
          continue;
        }
        x.error = c_->expired      ? "upstream connect timeout"
                  : cec              ? fmt::format("upstream connect failed: {}", cec.message())
                                     : fmt::format("upstream tls: {}", tls_error);
        if (has_body && !co_await discardBody(x)) x.close_after = true;
        co_await respondSimple(x, c_->expired ? 504 : 502,
                               fmt::format("{} upstream {} {}\nrequest id: {}\n", c_->expired ? 504 : 502,
                                           ep->config().address,
                                           cec || c_->expired ? "unreachable" : "TLS handshake failed", x.request_id));
        co_return;
      }
      error_code ignored;
      uc.sock->set_option(tcp::no_delay(true), ignored);
    }
    c_->upstream = &*uc.sock;

    // Send the head with whatever body is buffered, then the rest of the body.
    c_->arm(Phase::UpstreamFirstByte, route.timeouts.first_byte);
    bool ok;
    if (has_body && !body_sent && !x.body_buf.empty()) {
      std::string frame;
      if (chunk_upstream) http::appendChunkHeader(frame, x.body_buf.size());
      std::array<asio::const_buffer, 4> bufs = {asio::buffer(head), asio::buffer(frame),
                                                asio::buffer(x.body_buf.data(), x.body_buf.size()),
                                                asio::buffer("\r\n", chunk_upstream ? 2 : 0)};
      auto [wec, wn] = co_await asio::async_write(*uc.sock, bufs, kTuple);
      ok = !wec;
      body_sent = true;
    } else {
      ok = co_await writeAll(*uc.sock, head);
    }
    if (ok && has_body && !x.body_done) {
      if (req.expect_continue && !x.continue_sent) {
        c_->arm(Phase::ClientWrite, rt_->config->timeouts.client_body);
        ok = co_await writeAll(c_->client, "HTTP/1.1 100 Continue\r\n\r\n");
        x.continue_sent = true;
        if (!ok) {
          x.close_after = true;
          co_return;
        }
      }
      body_sent = true;  // from here a retry would need the body again
      std::string frame;
      while (ok && !x.body_done) {
        x.body_buf.clear();
        int r = co_await readBodySome(x, kChunk);
        if (r < 0) {
          x.close_after = true;
          co_return;
        }
        if (r > 0) {
          // Framing broke mid-body: the upstream got a partial request; close both.
          x.close_after = true;
          co_await respondSimple(x, uint16_t(r), fmt::format("{} bad chunked body: {}\nrequest id: {}\n", r, x.error,
                                                             x.request_id));
          co_return;
        }
        c_->arm(Phase::Streaming, route.timeouts.idle);
        if (chunk_upstream) {
          frame.clear();
          if (!x.body_buf.empty()) http::appendChunk(frame, x.body_buf);
          if (x.body_done) http::appendLastChunk(frame);
          if (!frame.empty()) ok = co_await writeAll(*uc.sock, frame);
        } else if (!x.body_buf.empty()) {
          ok = co_await writeAll(*uc.sock, x.body_buf);
        }
      }
      c_->arm(Phase::UpstreamFirstByte, route.timeouts.first_byte);
    }
    sent_at = Clock::now();

    // Read the response head (skipping interim 1xx other than 101).
    rend = 0;
    http::ParseError rerr;
    int got = 0;  // 1 head, -1 failed (retryable if nothing arrived), -2 protocol error
    while (ok) {
      auto st = rend ? http::parseResponseHead(std::string_view(rbuf.data(), rend), req.method, limits_, resp, rerr)
                     : http::ParseStatus::NeedMore;
      if (st == http::ParseStatus::Done) {
        if (resp.status >= 100 && resp.status < 200 && resp.status != 101) {
          std::memmove(rbuf.data(), rbuf.data() + resp.head_size, rend - resp.head_size);
          rend -= resp.head_size;
          continue;
        }
        got = 1;
        break;
      }
      if (st == http::ParseStatus::Error) {
        got = -2;
        break;
      }
      if (rend == rbuf.size()) {
        got = -2;
        break;
      }
      auto [ec, n] = co_await uc.sock->async_read_some(asio::buffer(rbuf.data() + rend, rbuf.size() - rend), kTuple);
      if (ec || n == 0) {
        got = rend == 0 ? -1 : -2;
        break;
      }
      rend += n;
    }
    if (!ok) got = rend == 0 ? -1 : -2;
    c_->disarm();
    if (got == 1) break;

    // Failure before a response.
    bool timed_out = c_->expired;
    error_code ignored;
    uc.sock->close(ignored);
    c_->upstream = nullptr;
    if (got == -1 && uc.reused && !timed_out && !has_body) {
      // A kept-alive connection the upstream had closed: try once more on a fresh one.
      uc.reused = false;
      continue;
    }
    pool.report(*ep, {timed_out ? upstream::Outcome::Kind::Timeout : upstream::Outcome::Kind::Reset, 0});
    bool can_retry = attempt < route.retry.attempts && !timed_out && route.retry.on_reset &&
                     isIdempotent(req.method) && !has_body && retryAllowed(budget);
    if (can_retry) {
      ++attempt;
      ++guard.retries;
      w_.metrics().upstream_retries.add();
      continue;
    }
    x.close_after = x.close_after || (has_body && !body_sent);
    x.error = timed_out ? "upstream response timeout" : (got == -2 ? "invalid upstream response" : "upstream closed");
    co_await respondSimple(x, timed_out ? 504 : 502,
                           fmt::format("{} {}\nrequest id: {}\n", timed_out ? 504 : 502, x.error, x.request_id));
    co_return;
  }
  // (the loop breaks with a response head in resp and an open upstream socket)
  x.upstream_ms = std::chrono::duration<double, std::milli>(Clock::now() - sent_at).count();

  pool.report(*ep, {upstream::Outcome::Kind::Status, resp.status});
  // Status-based retry: only for idempotent requests without a body, within the budget.
  if (attempt < route.retry.attempts && !has_body && isIdempotent(req.method) &&
      std::find(route.retry.statuses.begin(), route.retry.statuses.end(), resp.status) != route.retry.statuses.end() &&
      retryAllowed(budget)) {
    error_code ignored;
    uc.sock->close(ignored);
    c_->upstream = nullptr;
    w_.metrics().upstream_retries.add();
    guard.use(nullptr);
    co_await proxy(x, attempt + 1, ep);
    budget.retryFinished();
    co_return;
  }

  const bool upgrade_ok = resp.status == 101 && req.upgrade;
  auto closeUpstream = [&] {
    error_code ignored;
    uc.sock->close(ignored);
    c_->upstream = nullptr;
  };

  // WAF phase 3, on the response head, before a byte of it goes to the client.
  bool inspect_body = false;
  if (x.tx) {
    waf::Verdict v;
    bool failed = false;
    try {
      v = timed(x, [&] {
        auto& bytes = c_->waf_resp_heads;
        size_t total = 0;
        for (const auto& h : resp.headers) total += h.name.size() + h.value.size();
        reuse(bytes, total);  // no reallocation below: the transactions keep views
        auto copy = [&](std::string_view v) {
          const size_t at = bytes.size();
          bytes.append(v);
          return std::string_view(bytes.data() + at, v.size());
        };
        waf::Transaction* const txs[2] = {&*x.tx, x.shadow_tx ? &*x.shadow_tx : nullptr};
        for (waf::Transaction* t : txs)
          if (t) t->setResponseStatus(resp.status, "HTTP/1.1");
        for (const auto& h : resp.headers) {
          const std::string_view name = copy(h.name), value = copy(h.value);
          for (waf::Transaction* t : txs)
            if (t) t->addResponseHeader(name, value);
        }
        if (x.shadow_tx) x.shadow_tx->processResponseHeaders();
        return x.tx->processResponseHeaders();
      });
      inspect_body = !v.disruptive() && !upgrade_ok && resp.framing != http::BodyFraming::None &&
                     x.tx->wantsResponseBody();
    } catch (const std::exception& e) {
      wafError(x, "response headers", e);
      failed = !x.waf->fail_open;
    }
    if (failed) {
      closeUpstream();
      co_await respondSimple(x, 500, fmt::format("500 Internal Server Error\nrequest id: {}\n", x.request_id));
      co_return;
    }
    if (v.disruptive()) {
      closeUpstream();
      co_await respondBlocked(x, v);
      co_return;
    }
  }

  // The response body, decoded, one slice at a time (views into rbuf, valid until
  // the next call): 1 a slice, 0 the end, -1 the upstream failed. Read into rbuf
  // after the response head, which resp's views keep reading until the client's
  // head is written (phase 4 holds the body back first: ~16 KiB at least a read).
  char* const body_at = rbuf.data() + resp.head_size;
  const size_t body_room = rbuf.size() - resp.head_size;
  std::string_view pending(body_at, rend - resp.head_size);
  uint64_t left = resp.framing == http::BodyFraming::ContentLength ? resp.content_length : 0;
  http::ChunkedDecoder dec{http::Limits{}};  // the upstream's body is not bound by client limits
  bool src_done = resp.framing == http::BodyFraming::None ||
                  (resp.framing == http::BodyFraming::ContentLength && left == 0);
  auto readUpstream = [&]() -> asio::awaitable<std::string_view> {
    c_->arm(Phase::Streaming, route.timeouts.idle);
    auto [ec, n] = co_await uc.sock->async_read_some(asio::buffer(body_at, body_room), kTuple);
    if (ec || n == 0) co_return std::string_view();
    co_return std::string_view(body_at, n);
  };
  auto next = [&](std::string_view& out) -> asio::awaitable<int> {
    out = {};
    if (src_done) co_return 0;
    if (resp.framing == http::BodyFraming::ContentLength) {
      if (pending.empty()) pending = co_await readUpstream();
      if (pending.empty()) co_return -1;
      out = pending.substr(0, size_t(std::min<uint64_t>(left, pending.size())));
      pending.remove_prefix(out.size());
      left -= out.size();
      if (left == 0) src_done = true;
      co_return 1;
    }
    if (resp.framing == http::BodyFraming::Chunked) {
      for (;;) {
        if (pending.empty()) pending = co_await readUpstream();
        if (pending.empty()) co_return -1;
        http::ParseError err;
        auto step = dec.feed(pending, err);
        pending.remove_prefix(step.consumed);
        if (step.status == http::ParseStatus::Error) {
          x.error = fmt::format("invalid chunked response: {}", err.reason);
          co_return -1;
        }
        if (step.status == http::ParseStatus::Done) src_done = true;
        if (!step.data.empty()) {
          out = step.data;
          co_return 1;
        }
        if (src_done) co_return 0;
      }
    }
    // Until close.
    if (pending.empty()) pending = co_await readUpstream();
    if (pending.empty()) {
      src_done = true;
      co_return 0;
    }
    out = pending;
    pending = {};
    co_return 1;
  };

  // WAF phase 4: the body (up to the engine's limit) is held back and inspected
  // before any of the response goes out, so a blocked response is replaced whole.
  std::string held;
  bool held_all = false;
  if (inspect_body) {
    const uint64_t rlimit = x.waf->engine->settings().response_body_limit;
    int r = 1;
    while (held.size() <= rlimit) {
      std::string_view d;
      r = co_await next(d);
      if (r <= 0) break;
      held.append(d);
    }
    c_->disarm();
    if (r < 0) {
      closeUpstream();
      if (x.error.empty()) x.error = "upstream closed during the response body";
      co_await respondSimple(x, 502, fmt::format("502 {}\nrequest id: {}\n", x.error, x.request_id));
      co_return;
    }
    held_all = r == 0;
    waf::Verdict v;
    bool reject = false;
    try {
      v = timed(x, [&] {
        std::string_view part(held.data(), std::min<size_t>(held.size(), rlimit + (held_all ? 0 : 1)));
        if (x.shadow_tx) {
          x.shadow_tx->appendResponseBody(part);
          x.shadow_tx->processResponseBody();
        }
        reject = !x.tx->appendResponseBody(part);
        return reject ? waf::Verdict{} : x.tx->processResponseBody();
      });
    } catch (const std::exception& e) {
      wafError(x, "response body", e);
      reject = !x.waf->fail_open;
    }
    if (reject || v.disruptive()) {
      closeUpstream();
      if (reject) {
        if (x.error.empty()) x.error = "response body over the waf inspection limit";
        co_await respondSimple(x, 500, fmt::format("500 Internal Server Error\nrequest id: {}\n", x.request_id));
      } else {
        co_await respondBlocked(x, v);
      }
      co_return;
    }
  }

  // Response head to the client.
  const bool client_11 = req.version_minor >= 1;
  bool chunk_to_client = false;
  bool close_after_body = false;
  x.status = resp.status;
  auto& o = c_->out;
  o.clear();
  http::appendStatusLine(o, resp.status, resp.reason);
  const http::HopByHop hop(resp.headers);
  http::ReceivedLines lines(o);  // the upstream's lines kept, as received
  for (const auto& h : resp.headers) {
    if (!upgrade_ok && hop.drops(h.name)) continue;
    if (upgrade_ok && (http::iequals(h.name, "Connection") || http::iequals(h.name, "Upgrade"))) continue;
    if (http::iequals(h.name, "X-Request-Id")) continue;
    if (held_all && http::iequals(h.name, "Content-Length")) continue;
    bool removed = false;
    for (auto& r : route.response_headers.remove)
      if (http::iequals(h.name, r)) removed = true;
    if (removed) continue;
    lines.add(h);
  }
  lines.flush();
  for (auto& [n, v] : route.response_headers.add) http::appendHeader(o, n, v);
  if (!route.hsts.empty() && c_->client.tls()) http::appendHeader(o, "Strict-Transport-Security", route.hsts);
  x.appendLimitHeaders(o);
  http::appendHeader(o, "X-Request-Id", x.request_id);
  if (upgrade_ok) {
    http::appendHeader(o, "Connection", "Upgrade");
    if (auto* u = resp.find("Upgrade")) http::appendHeader(o, "Upgrade", u->value);
  } else if (held_all) {
    http::appendHeader(o, "Content-Length", std::to_string(held.size()));  // the whole body is known
  } else if (resp.framing == http::BodyFraming::Chunked || resp.framing == http::BodyFraming::UntilClose) {
    if (client_11) {
      chunk_to_client = true;
      http::appendHeader(o, "Transfer-Encoding", "chunked");
    } else {
      close_after_body = true;
    }
  }
  if (w_.shared().draining.load(std::memory_order_relaxed)) x.close_after = true;
  if (close_after_body || x.close_after) {
    x.close_after = true;
    http::appendHeader(o, "Connection", "close");
  }
  o += "\r\n";
  c_->arm(Phase::ClientWrite, route.timeouts.idle);
  // The head goes out with the body bytes already here: the held body, or a small
  // body that arrived with the upstream's head.
  std::string_view first_body;
  if (inspect_body) {
    first_body = held;
  } else if (!upgrade_ok && resp.framing == http::BodyFraming::ContentLength && pending.size() >= left) {
    first_body = pending.substr(0, size_t(left));
    pending.remove_prefix(first_body.size());
    left = 0;
    src_done = true;
  }
  std::string frame;
  if (chunk_to_client && !first_body.empty()) http::appendChunkHeader(frame, first_body.size());
  std::array<asio::const_buffer, 4> bufs = {
      asio::buffer(o), asio::buffer(frame), asio::buffer(first_body.data(), first_body.size()),
      asio::buffer("\r\n", chunk_to_client && !first_body.empty() ? 2 : 0)};
  auto [wec, wn] = co_await asio::async_write(c_->client, bufs, kTuple);
  if (wec) {
    x.close_after = true;
    closeUpstream();
    c_->disarm();
    co_return;
  }
  x.bytes_out += first_body.size();
  w_.metrics().bytes_out.add(o.size() + first_body.size());

  // Upgrade: relay bytes both ways until one side closes.
  if (upgrade_ok) {
    x.close_after = true;
    if (!pending.empty()) co_await writeAll(c_->client, pending);
    // Client bytes already buffered after the request head go up first.
    if (c_->end > c_->begin) {
      co_await writeAll(*uc.sock, std::string_view(c_->in.data() + c_->begin, c_->end - c_->begin));
      c_->begin = c_->end;
    }
    c_->disarm();
    auto relay = [](auto& from, auto& to, std::shared_ptr<Conn> keep) -> asio::awaitable<void> {
      std::vector<char> buf(16 * 1024);
      for (;;) {
        auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kTuple);
        if (ec || n == 0) break;
        auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n), kTuple);
        if (wec) break;
      }
      error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
    };
    co_await (relay(c_->client, *uc.sock, c_) && relay(*uc.sock, c_->client, c_));
    closeUpstream();
    co_return;
  }

  // The rest of the body, streamed.
  bool ok = true;
  while (ok && !src_done) {
    std::string_view d;
    int r = co_await next(d);
    if (r < 0) {
      ok = false;
      break;
    }
    if (r == 0 || d.empty()) continue;
    x.bytes_out += d.size();
    w_.metrics().bytes_out.add(d.size());
    c_->arm(Phase::Streaming, route.timeouts.idle);
    if (chunk_to_client) {
      frame.clear();
      http::appendChunkHeader(frame, d.size());
      std::array<asio::const_buffer, 3> cb = {asio::buffer(frame), asio::buffer(d.data(), d.size()),
                                              asio::buffer("\r\n", 2)};
      auto [ec, n] = co_await asio::async_write(c_->client, cb, kTuple);
      ok = !ec;
    } else {
      ok = co_await writeAll(c_->client, d);
    }
  }
  bool upstream_reusable = resp.keep_alive && resp.framing != http::BodyFraming::UntilClose && pending.empty();
  if (ok && chunk_to_client) {
    c_->arm(Phase::ClientWrite, route.timeouts.idle);
    ok = co_await writeAll(c_->client, "0\r\n\r\n");
  }
  c_->disarm();
  c_->upstream = nullptr;
  if (!ok) {
    // Bytes already went out: the only honest signal left is closing.
    x.close_after = true;
    if (x.error.empty()) x.error = "stream broken";
    error_code ignored;
    uc.sock->close(ignored);
    co_return;
  }
  if (upstream_reusable && !w_.shared().draining.load(std::memory_order_relaxed))
    w_.upstreamCache().put(ep->address(), tls_key, std::move(*uc.sock), pc.connections.max_idle_per_endpoint);
  else {
    error_code ignored;
    uc.sock->close(ignored);
  }
}

}  // namespace

asio::awaitable<void> serveClient(core::Worker& worker, tcp::socket socket, std::string listener) {
  auto c = std::make_shared<Conn>(worker, std::move(socket), std::move(listener));
  if (!t_sweep.running) {
    t_sweep.running = true;
    asio::co_spawn(c->client.get_executor(), sweepLoop(), asio::detached);
  }
  t_sweep.add(c.get());
  worker.metrics().connections_accepted.add();
  worker.metrics().connections_active.add();
  Handler h(c);
  co_await h.run();
  c->closed = true;
  t_sweep.remove(c.get());
  worker.metrics().connections_active.sub();
}

}  // namespace rampart::gateway::proxy
