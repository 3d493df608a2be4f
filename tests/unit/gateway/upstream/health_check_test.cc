// Active health checks against small Asio HTTP servers on 127.0.0.1 (port 0).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <thread>

#include "tests/unit/gateway/upstream/test_util.h"

namespace rampart::gateway::upstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// A one-thread HTTP/1.1 server that answers every request with a configurable status.
class TestServer {
 public:
  enum class Mode { Respond, Hang, Garbage };

  explicit TestServer(const char* ip = "127.0.0.1") : acceptor_(io_, tcp::endpoint(asio::ip::make_address(ip), 0)) {
    asio::co_spawn(io_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int requests() const { return requests_.load(); }
  std::string lastRequest() {
    std::lock_guard l(mu_);
    return last_request_;
  }

  std::atomic<int> status{200};
  std::atomic<Mode> mode{Mode::Respond};

 private:
  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(io_, serve(std::move(sock)), asio::detached);
    }
  }
  asio::awaitable<void> serve(tcp::socket sock) {
    std::string buf;
    auto [ec, n] = co_await asio::async_read_until(sock, asio::dynamic_buffer(buf, 8192), "\r\n\r\n",
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    {
      std::lock_guard l(mu_);
      last_request_ = buf.substr(0, n);
    }
    requests_.fetch_add(1);
    std::string out;
    switch (mode.load()) {
      case Mode::Hang: {
        asio::steady_timer t(io_, 10s);  // the test server's io_context stops long before
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return;
      }
      case Mode::Garbage: out = "SMTP ready\r\n\r\n"; break;
      case Mode::Respond:
        out = "HTTP/1.1 " + std::to_string(status.load()) + " Whatever\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        break;
    }
    co_await asio::async_write(sock, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
    boost::system::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::string last_request_;
};

PoolConfig checkedPool(std::vector<uint16_t> ports, uint32_t healthy = 2, uint32_t unhealthy = 3) {
  PoolConfig c;
  c.name = "checked";
  for (uint16_t port : ports) c.endpoints.push_back({"127.0.0.1:" + std::to_string(port), "127.0.0.1", port, 1});
  c.active.enabled = true;
  c.active.interval = 20ms;
  c.active.timeout = 500ms;
  c.active.healthy_threshold = healthy;
  c.active.unhealthy_threshold = unhealthy;
  return c;
}

template <class F>
bool waitFor(F cond, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return cond();
}

// Records flips from the checker thread.
struct Flips {
  std::mutex mu;
  std::vector<std::pair<bool, int>> seen;  // (healthy, server requests at that moment)
  void attach(HealthChecker& hc, TestServer* server) {
    hc.on_change = [this, server](const Pool&, const Endpoint&, bool healthy) {
      std::lock_guard l(mu);
      seen.emplace_back(healthy, server ? server->requests() : -1);
    };
  }
  size_t size() {
    std::lock_guard l(mu);
    return seen.size();
  }
  std::pair<bool, int> at(size_t i) {
    std::lock_guard l(mu);
    return seen.at(i);
  }
};

uint16_t closedPort() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed when `a` goes away: connecting is refused
}

TEST(StatusLine, ParsesStrictly) {
  EXPECT_EQ(parseStatusLine("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(parseStatusLine("HTTP/1.0 503 Service Unavailable\r\nServer: x\r\n"), 503);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 204 \r\n"), 204);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 204\r\n"), 204);
  EXPECT_EQ(parseStatusLine(""), 0);
  EXPECT_EQ(parseStatusLine("HTT"), 0);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 20"), 0);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 200 OK"), 0);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 200 OK\r"), 0);
  EXPECT_EQ(parseStatusLine("http/1.1 200 OK\r\n"), -1);
  EXPECT_EQ(parseStatusLine("HTTP/2.0 200 OK\r\n"), -1);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 2000 OK\r\n"), -1);
  EXPECT_EQ(parseStatusLine("HTTP/1.1  200 OK\r\n"), -1);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 099 OK\r\n"), -1);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 200 OK\n"), -1);
  EXPECT_EQ(parseStatusLine("HTTP/1.1 200 O\rK\r\n"), -1);
  EXPECT_EQ(parseStatusLine("SMTP ready\r\n"), -1);
}

TEST(ActiveHealth, SendsGetWithHostAndConnectionClose) {
  TestServer server;
  PoolConfig c = checkedPool({server.port()});
  auto p = testing::mustCreate(c);
  HealthChecker hc;
  hc.start({p});
  ASSERT_TRUE(waitFor([&] { return server.requests() >= 1; }));
  const std::string req = server.lastRequest();
  EXPECT_EQ(req.rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\nConnection: close\r\n"), std::string::npos) << req;
  hc.stop();

  c.active.path = "/status?deep=1";
  c.active.host = "app.internal";
  auto q = testing::mustCreate(c);
  const int before = server.requests();
  hc.start({q});
  ASSERT_TRUE(waitFor([&] { return server.requests() > before; }));
  hc.stop();
  const std::string req2 = server.lastRequest();
  EXPECT_EQ(req2.rfind("GET /status?deep=1 HTTP/1.1\r\n", 0), 0u) << req2;
  EXPECT_NE(req2.find("\r\nHost: app.internal\r\n"), std::string::npos) << req2;
}

TEST(ActiveHealth, ChecksIpv6Endpoints) {
  TestServer server("::1");
  server.status = 500;
  PoolConfig c = checkedPool({}, 1, 1);
  const std::string addr = "[::1]:" + std::to_string(server.port());
  c.endpoints.push_back({addr, "", 0, 1});  // host and port parsed from the address
  auto p = testing::mustCreate(c);
  HealthChecker hc;
  hc.start({p});
  ASSERT_TRUE(waitFor([&] { return !p->endpoints()[0]->activeHealthy(); }));
  hc.stop();
  EXPECT_NE(server.lastRequest().find("\r\nHost: " + addr + "\r\n"), std::string::npos) << server.lastRequest();
}

TEST(ActiveHealth, HealthyEndpointStaysHealthy) {
  TestServer server;
  auto p = testing::mustCreate(checkedPool({server.port()}));
  HealthChecker hc;
  Flips flips;
  flips.attach(hc, &server);
  hc.start({p});
  ASSERT_TRUE(waitFor([&] { return server.requests() >= 5; }));
  hc.stop();
  EXPECT_TRUE(p->endpoints()[0]->activeHealthy());
  EXPECT_EQ(flips.size(), 0u);
  EXPECT_EQ(p->endpoints()[0]->stats(Clock::now()).health_flips, 0u);
}

TEST(ActiveHealth, MarksDownAfterUnhealthyThreshold) {
  TestServer server;
  server.status = 503;
  auto p = testing::mustCreate(checkedPool({server.port()}, 2, 3));
  HealthChecker hc;
  Flips flips;
  flips.attach(hc, &server);
  hc.start({p});
  ASSERT_TRUE(waitFor([&] { return flips.size() >= 1; }));
  hc.stop();
  EXPECT_FALSE(flips.at(0).first);
  EXPECT_EQ(flips.at(0).second, 3);  // exactly the third failed check flipped it
  EXPECT_FALSE(p->endpoints()[0]->activeHealthy());
  EXPECT_EQ(p->pick(""), nullptr);
}

TEST(ActiveHealth, MarksUpAfterHealthyThreshold) {
  TestServer server;
  auto p = testing::mustCreate(checkedPool({server.port()}, 2, 3));
  p->setActiveHealthy(*p->endpoints()[0], false);
  HealthChecker hc;
  Flips flips;
  flips.attach(hc, &server);
  hc.start({p});
  ASSERT_TRUE(waitFor([&] { return flips.size() >= 1; }));
  hc.stop();
  EXPECT_TRUE(flips.at(0).first);
  EXPECT_EQ(flips.at(0).second, 2);
  EXPECT_TRUE(p->endpoints()[0]->activeHealthy());
}

TEST(ActiveHealth, FlapsDownThenUp) {
  TestServer server;
  server.status = 500;
  auto p = testing::mustCreate(checkedPool({server.port()}, 2, 2));
  HealthChecker hc;
  Flips flips;
  flips.attach(hc, &server);
  hc.start({p});
  ASSERT_TRUE(waitFor([&] { return flips.size() >= 1; }));
  server.status = 200;
  ASSERT_TRUE(waitFor([&] { return flips.size() >= 2; }));
  hc.stop();
  EXPECT_FALSE(flips.at(0).first);
  EXPECT_TRUE(flips.at(1).first);
  EXPECT_EQ(p->endpoints()[0]->stats(Clock::now()).health_flips, 2u);
  EXPECT_TRUE(p->endpoints()[0]->activeHealthy());
}

TEST(ActiveHealth, TimeoutCountsAsFailure) {
  TestServer server;
  server.mode = TestServer::Mode::Hang;
  PoolConfig c = checkedPool({server.port()}, 1, 1);
  c.active.timeout = 100ms;
  auto p = testing::mustCreate(c);
  HealthChecker hc;
  Flips flips;
  flips.attach(hc, &server);
  const auto t0 = std::chrono::steady_clock::now();
  hc.start({p});
  ASSERT_TRUE(waitFor([&] { return flips.size() >= 1; }));
  const auto took = std::chrono::steady_clock::now() - t0;
  hc.stop();
  EXPECT_FALSE(p->endpoints()[0]->activeHealthy());
  EXPECT_GE(took, 95ms);   // it waited for the timeout...
  EXPECT_LT(took, 2000ms); // ...and not for the server
}

TEST(ActiveHealth, ConnectionRefusedCountsAsFailure) {
  auto p = testing::mustCreate(checkedPool({closedPort()}, 1, 2));
  HealthChecker hc;
  Flips flips;
  flips.attach(hc, nullptr);
  hc.start({p});
  ASSERT_TRUE(waitFor([&] { return flips.size() >= 1; }));
  hc.stop();
  EXPECT_FALSE(flips.at(0).first);
  EXPECT_FALSE(p->endpoints()[0]->activeHealthy());
}

TEST(ActiveHealth, UnexpectedStatusAndGarbageFail) {
  TestServer ok_server, garbage;
  garbage.mode = TestServer::Mode::Garbage;
  PoolConfig c = checkedPool({ok_server.port(), garbage.port()}, 1, 2);
  c.active.expected_statuses = {{204, 204}, {300, 302}};
  auto p = testing::mustCreate(c);
  HealthChecker hc;
  hc.start({p});
  ASSERT_TRUE(waitFor([&] { return !p->endpoints()[0]->activeHealthy() && !p->endpoints()[1]->activeHealthy(); }));
  ok_server.status = 301;  // within a configured range
  ASSERT_TRUE(waitFor([&] { return p->endpoints()[0]->activeHealthy(); }));
  hc.stop();
  EXPECT_FALSE(p->endpoints()[1]->activeHealthy());
}

TEST(ActiveHealth, StopHaltsChecksAndStartReplacesTheSet) {
  TestServer a, b, unchecked;
  auto pa = testing::mustCreate(checkedPool({a.port()}));
  auto pb = testing::mustCreate(checkedPool({b.port()}));
  PoolConfig passive_only = checkedPool({unchecked.port()});
  passive_only.active.enabled = false;
  auto pu = testing::mustCreate(passive_only);
  HealthChecker hc;
  hc.start({pa, pu});
  ASSERT_TRUE(waitFor([&] { return a.requests() >= 2; }));
  hc.start({pb});  // reload: a is no longer checked
  std::this_thread::sleep_for(50ms);  // a request written just before the switch may still be in flight
  const int a_mark = a.requests();
  const int b_mark = b.requests();
  ASSERT_TRUE(waitFor([&] { return b.requests() >= b_mark + 3; }));  // >= 40 ms of checks on b
  EXPECT_EQ(a.requests(), a_mark);
  hc.stop();
  std::this_thread::sleep_for(50ms);
  const int b_after = b.requests();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(b.requests(), b_after);
  EXPECT_EQ(unchecked.requests(), 0);
}

TEST(ActiveHealth, EmptyOrUncheckedSetsAreFine) {
  HealthChecker hc;
  hc.start({});
  hc.start({nullptr});
  hc.stop();
  hc.stop();
  TestServer server;
  PoolConfig c = checkedPool({server.port()});
  c.active.enabled = false;
  hc.start({testing::mustCreate(c)});
  std::this_thread::sleep_for(60ms);
  hc.stop();
  EXPECT_EQ(server.requests(), 0);
}

TEST(ActiveHealth, ChecksEachEndpointOfEachPool) {
  TestServer a, b, c;
  c.status = 404;
  auto p1 = testing::mustCreate(checkedPool({a.port(), b.port()}));
  auto p2 = testing::mustCreate(checkedPool({c.port()}, 1, 1));
  HealthChecker hc;
  hc.start({p1, p2});
  ASSERT_TRUE(waitFor([&] { return a.requests() >= 2 && b.requests() >= 2 && !p2->endpoints()[0]->activeHealthy(); }));
  hc.stop();
  EXPECT_TRUE(p1->endpoints()[0]->activeHealthy());
  EXPECT_TRUE(p1->endpoints()[1]->activeHealthy());
}

TEST(ActiveHealth, DestructorStopsWithChecksInFlight) {
  TestServer server;
  server.mode = TestServer::Mode::Hang;
  PoolConfig c = checkedPool({server.port()});
  c.active.timeout = 5000ms;
  auto p = testing::mustCreate(c);
  const auto t0 = std::chrono::steady_clock::now();
  {
    HealthChecker hc;
    hc.start({p});
    ASSERT_TRUE(waitFor([&] { return server.requests() >= 1; }));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
  EXPECT_TRUE(p->endpoints()[0]->activeHealthy());
}

}  // namespace
}  // namespace rampart::gateway::upstream
