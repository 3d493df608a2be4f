// Request-head parsing cost: rampart's strict parser against Boost.Beast's
// request_parser<empty_body>, on the end-to-end benchmark GET (the browser head of
// bench/README in /work/shared/bench: request line + browser.headers), a small curl-like
// GET and a 40-header request. Reports ns per request and heap allocations per request.
// Also the chunked decoder on a 16 KiB body in 1 KiB chunks.
#include <benchmark/benchmark.h>

#include <atomic>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdlib>
#include <new>
#include <string>

#include "gateway/http/parser.h"
#include "gateway/http/writer.h"

// Counting replacement of the global allocator. GCC cannot see that the replaced
// operator delete matches the replaced operator new and warns at inlined call sites.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {

std::atomic<uint64_t> g_allocs{0};

}  // namespace

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace http = rampart::gateway::http;
namespace bhttp = boost::beast::http;

// The end-to-end GET: request line from the bench README, fields as in browser.headers.
std::string browserGet() {
  return "GET /products/leather-running-shoes-48213?color=black&size=42&ref=newsletter HTTP/1.1\r\n"
         "Host: shop.example.com\r\n"
         "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Safari/537.36\r\n"
         "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8\r\n"
         "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
         "Accept-Encoding: gzip, deflate, br\r\n"
         "Referer: https://shop.example.com/category/shoes?page=2\r\n"
         "Cookie: sessionid=k3J9xQ2mZp7LwT4vB8nR1cY6hF0sD5aE; csrftoken=Zx8Qm2Lp4Rt6Vb9Nc1Hj3Kd5Fg7Sa0We; "
         "_ga=GA1.2.1638273645.1700412345; cookie_consent=accepted\r\n"
         "Upgrade-Insecure-Requests: 1\r\n"
         "Sec-Fetch-Site: same-origin\r\n"
         "Sec-Fetch-Mode: navigate\r\n"
         "Sec-Fetch-User: ?1\r\n"
         "Sec-Fetch-Dest: document\r\n"
         "\r\n";
}

std::string smallGet() { return "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"; }

std::string fortyHeaders() {
  std::string s = "GET /api/v1/items?id=42 HTTP/1.1\r\nHost: api.example.com\r\n";
  for (int i = 1; i < 40; ++i)
    s += "X-Custom-Header-" + std::to_string(i) + ": value-" + std::to_string(i * 7919) + "-abcdefghij\r\n";
  s += "\r\n";
  return s;
}

void runRampart(benchmark::State& state, const std::string& raw) {
  http::Limits lim;
  http::RequestHead head;  // reused across requests, as a connection does
  http::ParseError err;
  const uint64_t a0 = g_allocs.load();
  for (auto _ : state) {
    const auto st = http::parseRequestHead(raw, lim, head, err);
    if (st != http::ParseStatus::Done) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(head);
  }
  state.counters["allocs/req"] =
      benchmark::Counter(double(g_allocs.load() - a0) / double(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(raw.size()));
}

void runBeast(benchmark::State& state, const std::string& raw) {
  const uint64_t a0 = g_allocs.load();
  for (auto _ : state) {
    bhttp::request_parser<bhttp::empty_body> p;
    p.header_limit(65536);
    boost::beast::error_code ec;
    p.put(boost::asio::buffer(raw), ec);
    if (ec || !p.is_header_done()) state.SkipWithError("beast parse failed");
    benchmark::DoNotOptimize(p.get());
  }
  state.counters["allocs/req"] =
      benchmark::Counter(double(g_allocs.load() - a0) / double(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(raw.size()));
}

void BM_Rampart_BrowserGet(benchmark::State& s) { runRampart(s, browserGet()); }
void BM_Beast_BrowserGet(benchmark::State& s) { runBeast(s, browserGet()); }
void BM_Rampart_SmallGet(benchmark::State& s) { runRampart(s, smallGet()); }
void BM_Beast_SmallGet(benchmark::State& s) { runBeast(s, smallGet()); }
void BM_Rampart_40Headers(benchmark::State& s) { runRampart(s, fortyHeaders()); }
void BM_Beast_40Headers(benchmark::State& s) { runBeast(s, fortyHeaders()); }

BENCHMARK(BM_Rampart_BrowserGet);
BENCHMARK(BM_Beast_BrowserGet);
BENCHMARK(BM_Rampart_SmallGet);
BENCHMARK(BM_Beast_SmallGet);
BENCHMARK(BM_Rampart_40Headers);
BENCHMARK(BM_Beast_40Headers);

// Chunked decoding of a 16 KiB body sent as 16 chunks of 1 KiB.
void BM_Rampart_Chunked16K(benchmark::State& state) {
  std::string body;
  for (int i = 0; i < 16; ++i) http::appendChunk(body, std::string(1024, char('a' + i)));
  http::appendLastChunk(body);
  http::Limits lim;
  http::ParseError err;
  for (auto _ : state) {
    http::ChunkedDecoder dec(lim);
    std::string_view in = body;
    size_t n = 0;
    for (;;) {
      auto st = dec.feed(in, err);
      n += st.data.size();
      in.remove_prefix(st.consumed);
      if (st.status != http::ParseStatus::NeedMore) break;
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(body.size()));
}
BENCHMARK(BM_Rampart_Chunked16K);

}  // namespace

BENCHMARK_MAIN();
