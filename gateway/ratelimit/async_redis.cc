#include "gateway/ratelimit/async_redis.h"

#include <fmt/format.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace rampart::gateway::ratelimit {

namespace asio = boost::asio;

namespace {

// hiredis' event hooks on an Asio descriptor. hiredis owns the fd: the
// descriptor is released, never closed, when hiredis cleans up.
struct Adapter {
  redisAsyncContext* ac;
  asio::posix::stream_descriptor sd;
  bool want_read = false, want_write = false, reading = false, writing = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  Adapter(asio::any_io_executor ex, redisAsyncContext* a) : ac(a), sd(ex, a->c.fd) {}
};

// Waits (once at a time per direction) for the socket to turn readable or
// writable while hiredis wants it, then lets hiredis read or write.
void arm(Adapter* a, bool write) {
  bool& busy = write ? a->writing : a->reading;
  if (busy || !(write ? a->want_write : a->want_read)) return;
  busy = true;
  a->sd.async_wait(write ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read,
                   [a, write, alive = a->alive](boost::system::error_code ec) {
                     if (!*alive) return;
                     (write ? a->writing : a->reading) = false;
                     if (ec || !(write ? a->want_write : a->want_read)) return;
                     if (write) redisAsyncHandleWrite(a->ac);
                     else redisAsyncHandleRead(a->ac);  // may free the context (and `a`)
                     if (*alive) arm(a, write);
                   });
}

void addRead(void* p) {
  auto* a = static_cast<Adapter*>(p);
  a->want_read = true;
  arm(a, false);
}
void delRead(void* p) { static_cast<Adapter*>(p)->want_read = false; }
void addWrite(void* p) {
  auto* a = static_cast<Adapter*>(p);
  a->want_write = true;
  arm(a, true);
}
void delWrite(void* p) { static_cast<Adapter*>(p)->want_write = false; }
void cleanup(void* p) {
  auto* a = static_cast<Adapter*>(p);
  *a->alive = false;
  boost::system::error_code ec;
  a->sd.cancel(ec);
  a->sd.release();
  delete a;
}

}  // namespace

struct AsyncRedis::Pending {
  explicit Pending(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  bool done = false;
  Reply reply;
};

AsyncRedis::AsyncRedis(asio::any_io_executor ex) : ex_(std::move(ex)) {}

AsyncRedis::~AsyncRedis() { drop(false); }

void AsyncRedis::drop(bool backoff) {
  if (ac_) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    ac->data = nullptr;
    redisAsyncFree(ac);  // pending calls are answered "connection lost"
  }
  if (backoff) {
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    next_connect_ = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(int64_t(double(backoff_.count()) * jitter(rng_)));
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
  }
}

void AsyncRedis::onConnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<AsyncRedis*>(ac->data);
  if (!self || status == REDIS_OK) return;
  // hiredis frees the context after this; its pending calls fail.
  if (self->ac_ == ac) {
    self->ac_ = nullptr;
    self->drop(true);
  }
}

void AsyncRedis::onDisconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<AsyncRedis*>(ac->data);
  if (!self || self->ac_ != ac) return;
  self->ac_ = nullptr;
  if (status != REDIS_OK) self->drop(true);
}

void AsyncRedis::onReply(redisAsyncContext*, void* r, void* privdata) {
  std::unique_ptr<std::shared_ptr<Pending>> holder(static_cast<std::shared_ptr<Pending>*>(privdata));
  Pending& p = **holder;
  if (p.done) return;  // timed out already
  p.done = true;
  const auto* reply = static_cast<const redisReply*>(r);
  if (!reply) {
    p.reply.error = "connection lost";
  } else if (reply->type == REDIS_REPLY_ERROR) {
    p.reply.error = "refused: " + std::string(reply->str, reply->len);
  } else if (reply->type == REDIS_REPLY_INTEGER) {
    p.reply.ok = true;
    p.reply.ints.push_back(reply->integer);
  } else if (reply->type == REDIS_REPLY_ARRAY) {
    p.reply.ok = true;
    for (size_t i = 0; i < reply->elements; ++i) {
      const redisReply* e = reply->element[i];
      p.reply.ints.push_back(e->type == REDIS_REPLY_INTEGER ? e->integer : 0);
    }
  } else {
    p.reply.ok = true;  // status or string: no integers to give
  }
  p.timer.cancel();
}

bool AsyncRedis::ensureConnected(const RedisSettings& s, std::string* error) {
  if (ac_ && !(settings_ == s)) drop(false);
  if (ac_) return true;
  if (std::chrono::steady_clock::now() < next_connect_) {
    *error = "not connected (waiting to reconnect)";
    return false;
  }
  redisAsyncContext* ac = redisAsyncConnect(s.host.c_str(), s.port);
  if (!ac) {
    *error = "cannot allocate a connection";
    drop(true);
    return false;
  }
  if (ac->err) {
    *error = std::string("cannot connect: ") + ac->errstr;
    redisAsyncFree(ac);
    drop(true);
    return false;
  }
  ac_ = ac;
  settings_ = s;
  ac->data = this;
  auto* a = new Adapter(ex_, ac);
  ac->ev.data = a;
  ac->ev.addRead = addRead;
  ac->ev.delRead = delRead;
  ac->ev.addWrite = addWrite;
  ac->ev.delWrite = delWrite;
  ac->ev.cleanup = cleanup;
  redisAsyncSetConnectCallback(ac, onConnect);
  redisAsyncSetDisconnectCallback(ac, onDisconnect);
  addWrite(a);  // the connect completes when the socket turns writable
  if (!s.password.empty())
    redisAsyncCommand(ac, nullptr, nullptr, "AUTH %b", s.password.data(), s.password.size());
  if (s.db != 0) redisAsyncCommand(ac, nullptr, nullptr, "SELECT %u", unsigned(s.db));
  return true;
}

asio::awaitable<AsyncRedis::Reply> AsyncRedis::call(const RedisSettings& s, std::vector<std::string> args) {
  Reply out;
  if (!ensureConnected(s, &out.error)) co_return out;
  auto p = std::make_shared<Pending>(ex_);
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto& a : args) argv.push_back(a.data()), lens.push_back(a.size());
  auto* holder = new std::shared_ptr<Pending>(p);
  if (redisAsyncCommandArgv(ac_, onReply, holder, int(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
    delete holder;
    out.error = "cannot send the command";
    drop(true);
    co_return out;
  }
  ++commands_;
  p->timer.expires_after(s.timeout);
  co_await p->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!p->done) {
    p->done = true;
    ++timeouts_;
    drop(true);  // a late reply helps nobody; a hung Redis costs one timeout, then the backoff
    out.error = fmt::format("no answer within {} ms", s.timeout.count());
    co_return out;
  }
  if (p->reply.ok) backoff_ = std::chrono::milliseconds(100);
  co_return std::move(p->reply);
}

}  // namespace rampart::gateway::ratelimit
