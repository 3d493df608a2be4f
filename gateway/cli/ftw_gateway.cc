#include "gateway/cli/ftw_gateway.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "gateway/cli/waf_runner.h"
#include "gateway/http/parser.h"

namespace rampart::cli::ftw {

namespace http = gateway::http;

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kMarkerPath = "/__rampart_ftw_marker";
constexpr int64_t kMarkerRuleId = 9999001;

int listenLoopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

int freePort() {
  int port = 0;
  int fd = listenLoopback(port);
  if (fd >= 0) ::close(fd);
  return port;
}

int connectLoopback(int port, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(size_t(n));
  }
  return true;
}

// Reads one response (head + body per its framing, or until close).
// Returns false when no complete head arrived.
bool readResponse(int fd, std::string_view method, std::string& out, http::ResponseHead& resp) {
  http::Limits limits;
  limits.max_header_bytes = 1 << 20;
  std::string buf;
  char tmp[65536];
  size_t head = 0;
  for (;;) {
    if (!head) {
      http::ParseError err;
      auto st = buf.empty() ? http::ParseStatus::NeedMore : http::parseResponseHead(buf, method, limits, resp, err);
      if (st == http::ParseStatus::Error) return false;
      if (st == http::ParseStatus::Done) head = resp.head_size;
    }
    if (head) {
      if (resp.framing == http::BodyFraming::None) break;
      if (resp.framing == http::BodyFraming::ContentLength && buf.size() >= head + resp.content_length) break;
      if (resp.framing == http::BodyFraming::Chunked) {
        http::ChunkedDecoder dec{http::Limits{}};
        http::ParseError err;
        std::string_view rest(buf.data() + head, buf.size() - head);
        bool done = false;
        while (!rest.empty()) {
          auto step = dec.feed(rest, err);
          rest.remove_prefix(step.consumed);
          if (step.status != http::ParseStatus::NeedMore) {
            done = true;
            break;
          }
          if (step.consumed == 0) break;
        }
        if (done) break;
      }
    }
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) break;
    buf.append(tmp, size_t(n));
  }
  if (!head) return false;
  out = std::move(buf);
  return true;
}

}  // namespace

// The CRS reflector backend (../shared/crs/README.md): POST /reflect with a JSON
// body answers with what it asks for; anything else 200 with an empty body.
// One thread per connection; keep-alive.
class Reflector {
 public:
  bool start() {
    fd_ = listenLoopback(port_);
    if (fd_ < 0) return false;
    accept_ = std::thread([this] { acceptLoop(); });
    return true;
  }
  int port() const { return port_; }
  ~Reflector() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (accept_.joinable()) accept_.join();
    std::lock_guard<std::mutex> g(mu_);
    for (int c : conns_) ::shutdown(c, SHUT_RDWR);
    for (auto& t : threads_) t.join();
  }

 private:
  void acceptLoop() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stop_) return;
        continue;
      }
      std::lock_guard<std::mutex> g(mu_);
      conns_.push_back(c);
      threads_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int c) {
    http::Limits limits;
    limits.max_header_bytes = 1 << 20;
    limits.max_request_line = 1 << 20;
    limits.max_headers = 10000;
    limits.max_header_line = 1 << 20;
    std::string buf;
    char tmp[65536];
    auto fill = [&]() {
      ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, size_t(n));
      return true;
    };
    for (;;) {
      http::RequestHead req;
      http::ParseError err;
      http::ParseStatus st;
      while ((st = http::parseRequestHead(buf, limits, req, err)) == http::ParseStatus::NeedMore)
        if (!fill()) goto done;
      if (st == http::ParseStatus::Error) break;
      {
        std::string body;
        size_t pos = req.head_size;
        if (req.framing == http::BodyFraming::ContentLength) {
          while (buf.size() < pos + req.content_length)
            if (!fill()) goto done;
          body = buf.substr(pos, req.content_length);
          pos += req.content_length;
        } else if (req.framing == http::BodyFraming::Chunked) {
          http::ChunkedDecoder dec{http::Limits{}};
          for (;;) {
            if (pos == buf.size() && !fill()) goto done;
            auto step = dec.feed(std::string_view(buf).substr(pos), err);
            pos += step.consumed;
            body.append(step.data);
            if (step.status == http::ParseStatus::Error) goto done;
            if (step.status == http::ParseStatus::Done) break;
          }
        }
        wafrun::Response r = wafrun::reflect(req.method, req.target, body);
        bool keep = req.keep_alive;
        std::string o = fmt::format("HTTP/1.1 {} {}\r\n", r.status, r.status == 200 ? "OK" : "Reflected");
        bool has_ct = false;
        for (auto& [n, v] : r.headers) {
          if (strcasecmp(n.c_str(), "content-length") == 0 || strcasecmp(n.c_str(), "transfer-encoding") == 0 ||
              strcasecmp(n.c_str(), "connection") == 0)
            continue;
          if (strcasecmp(n.c_str(), "content-type") == 0) has_ct = true;
          o += n + ": " + v + "\r\n";
        }
        if (!has_ct && !r.body.empty()) o += "Content-Type: text/plain\r\n";
        o += fmt::format("Content-Length: {}\r\n", req.method == "HEAD" ? 0 : r.body.size());
        if (!keep) o += "Connection: close\r\n";
        o += "\r\n";
        if (req.method != "HEAD") o += r.body;
        if (!sendAll(c, o) || !keep) break;
        buf.erase(0, pos);
      }
    }
  done:
    ::shutdown(c, SHUT_RDWR);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
};

GatewayRun::GatewayRun() = default;

GatewayRun::~GatewayRun() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int st = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &st, WNOHANG) == 0; ++i) ::usleep(20000);
    if (::waitpid(pid_, &st, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &st, 0);
    }
  }
  reflector_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool GatewayRun::start(const std::string& binary, const std::string& settings, const std::vector<std::string>& rules,
                       std::string* error) {
  char tmpl[] = "/tmp/rampart-ftw-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    *error = fmt::format("mkdtemp: {}", std::strerror(errno));
    return false;
  }
  dir_ = tmpl;
  reflector_ = std::make_unique<Reflector>();
  if (!reflector_->start()) {
    *error = "cannot start the reflector backend";
    return false;
  }
  port_ = freePort();
  audit_path_ = dir_ + "/audit.log";
  {
    std::ofstream(dir_ + "/settings.conf") << settings;
  }
  auto q = [](const std::string& s) {  // YAML double-quoted string
    std::string o = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') o += '\\';
      o += c;
    }
    return o + "\"";
  };
  std::string files = q(dir_ + "/settings.conf");
  for (auto& r : rules) {
    std::filesystem::path p(r);
    files += ", " + q(p.is_relative() ? (std::filesystem::current_path() / p).string() : r);
  }
  std::string cfg = fmt::format(
      "workers: 1\n"
      "log: {{ level: warn, access: {{ enabled: false }} }}\n"
      "limits: {{ max_header_bytes: 1MiB, max_request_line: 64KiB, max_headers: 1000 }}\n"
      "waf:\n"
      "  audit: {{ path: {audit}, redact_headers: [], redact_args: \"\", max_matched_data: 65536 }}\n"
      "  rule_sets:\n"
      "    under_test:\n"
      "      files: [{files}]\n"
      "      rules: |\n"
      "        SecRule REQUEST_FILENAME \"@streq {marker}\" \"id:{marker_id},phase:1,pass,log,msg:'ftw marker'\"\n"
      "listeners:\n"
      "  - {{ name: main, listen: \"127.0.0.1:{port}\", waf: {{ rule_set: under_test, mode: detect }} }}\n"
      "pools:\n"
      "  - {{ name: reflector, endpoints: [\"127.0.0.1:{rport}\"] }}\n"
      "routes:\n"
      "  - {{ name: all, pool: reflector, timeouts: {{ first_byte: 10s }} }}\n",
      fmt::arg("audit", q(audit_path_)), fmt::arg("files", files), fmt::arg("marker", kMarkerPath),
      fmt::arg("marker_id", kMarkerRuleId), fmt::arg("port", port_), fmt::arg("rport", reflector_->port()));
  std::string cfg_path = dir_ + "/rampart.yaml";
  std::ofstream(cfg_path) << cfg;

  std::string log_path = dir_ + "/rampart.log";
  pid_ = ::fork();
  if (pid_ < 0) {
    *error = fmt::format("fork: {}", std::strerror(errno));
    return false;
  }
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    const char* argv[] = {binary.c_str(), "run", "-c", cfg_path.c_str(), nullptr};
    ::execv(binary.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream in(log_path);
      std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      *error = "rampart run exited:\n" + log;
      return false;
    }
    int fd = connectLoopback(port_, 1000);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    ::usleep(20000);
  }
  *error = "rampart did not start listening within 60 s";
  return false;
}

GatewayRun::Result GatewayRun::send(const std::string& raw) {
  Result r;
  std::string method = raw.substr(0, raw.find(' '));
  int fd = connectLoopback(port_, 5000);
  if (fd < 0) {
    r.error = true;
    r.note = "cannot connect to rampart";
    return r;
  }
  sendAll(fd, raw);  // the gateway may answer (and close) before it has read everything
  ::shutdown(fd, SHUT_WR);
  http::ResponseHead resp;
  std::string data;
  bool got = readResponse(fd, method, data, resp);
  ::close(fd);
  if (!got) {
    r.error = true;
    r.note = "no response";
    // Nothing to correlate: the gateway answered nothing.
    return r;
  }
  r.status = resp.status;
  r.response = data;
  if (auto* h = resp.find("X-Request-Id")) r.request_id = std::string(h->value);

  // The marker request, then the events up to its own.
  int mfd = connectLoopback(port_, 5000);
  std::string marker_id;
  if (mfd >= 0) {
    sendAll(mfd, fmt::format("GET {} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: rampart-ftw\r\nAccept: */*\r\n"
                             "Connection: close\r\n\r\n",
                             kMarkerPath));
    http::ResponseHead mresp;
    std::string mdata;
    if (readResponse(mfd, "GET", mdata, mresp))
      if (auto* h = mresp.find("X-Request-Id")) marker_id = std::string(h->value);
    ::close(mfd);
  }
  if (marker_id.empty()) {
    r.note = "the marker request failed; events not read";
    return r;
  }
  r.matches = collect(r.request_id, marker_id);
  return r;
}

std::vector<waf::MatchedRule> GatewayRun::collect(const std::string& request_id, const std::string& marker_id) {
  std::vector<waf::MatchedRule> out;
  simdjson::dom::parser parser;
  auto deadline = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    std::ifstream in(audit_path_, std::ios::binary);
    if (in) {
      in.seekg(std::streamoff(audit_offset_));
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      audit_offset_ += chunk.size();
      audit_partial_ += chunk;
    }
    size_t nl;
    bool marker_seen = false;
    while ((nl = audit_partial_.find('\n')) != std::string::npos) {
      std::string line = audit_partial_.substr(0, nl);
      audit_partial_.erase(0, nl + 1);
      simdjson::dom::element ev;
      if (parser.parse(line).get(ev)) continue;
      std::string_view id;
      if (ev["request_id"].get(id)) continue;
      if (id == marker_id) {
        marker_seen = true;
        continue;
      }
      if (id != request_id || request_id.empty()) continue;
      simdjson::dom::array ms;
      if (ev["matches"].get(ms)) continue;
      for (auto m : ms) {
        waf::MatchedRule mr;
        int64_t v = 0;
        if (!m["id"].get(v)) mr.id = v;
        if (!m["phase"].get(v)) mr.phase = int(v);
        std::string_view s;
        if (!m["msg"].get(s)) mr.msg = s;
        if (!m["logdata"].get(s)) mr.logdata = s;
        if (!m["variable"].get(s)) mr.matched_var_name = s;
        if (!m["data"].get(s)) mr.matched_data = s;
        if (!m["severity"].get(s)) {
          static const char* kNames[] = {"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"};
          for (int i = 0; i < 8; ++i)
            if (s == kNames[i]) mr.severity = i;
        }
        simdjson::dom::array tags;
        if (!m["tags"].get(tags))
          for (auto t : tags)
            if (!t.get(s)) mr.tags.emplace_back(s);
        out.push_back(std::move(mr));
      }
    }
    if (marker_seen || Clock::now() > deadline) return out;
    ::usleep(1000);
  }
}

}  // namespace rampart::cli::ftw
