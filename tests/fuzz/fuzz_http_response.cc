// Fuzzes parseResponseHead (the first byte picks the request method: GET, HEAD,
// CONNECT, POST) and the chunked body after it. Invariants: no read outside the input,
// views inside the buffer, prefix feeding agrees with the whole buffer, framing follows
// RFC 9112 6.3 for HEAD / 1xx / 204 / 304 / CONNECT 2xx.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "gateway/http/parser.h"

using namespace rampart::gateway::http;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "CONNECT", "POST"};
  const std::string_view method = kMethods[data[0] & 3];
  Limits lim;
  if (data[0] & 4) {
    lim.max_request_line = 48;
    lim.max_header_bytes = 384;
    lim.max_headers = 6;
    lim.max_header_line = 80;
    lim.max_chunk_ext = 8;
    lim.max_trailer_bytes = 48;
  }
  std::unique_ptr<char[]> copy(new char[size - 1]);
  if (size > 1) std::memcpy(copy.get(), data + 1, size - 1);
  const std::string_view buf(copy.get(), size - 1);

  ResponseHead head;
  ParseError err;
  const ParseStatus st = parseResponseHead(buf, method, lim, head, err);
  if (st == ParseStatus::Error) check(err.status == 502 && err.close && *err.reason);

  const size_t step = buf.size() <= 512 ? 1 : buf.size() / 256;
  bool decided = false;
  for (size_t k = 0; k <= buf.size(); k += step) {
    ResponseHead h;
    ParseError e;
    const ParseStatus s = parseResponseHead(buf.substr(0, k), method, lim, h, e);
    if (s == ParseStatus::NeedMore) {
      check(!decided);
      continue;
    }
    decided = true;
    check(s == st);
    if (s == ParseStatus::Error) check(std::strcmp(e.reason, err.reason) == 0);
    if (s == ParseStatus::Done) check(h.head_size == head.head_size && h.framing == head.framing);
  }
  if (st != ParseStatus::Done) return 0;

  check(head.head_size <= buf.size() && head.status >= 100 && head.status <= 599);
  check(inside(head.reason, buf));
  for (const Header& h : head.headers) check(inside(h.name, buf) && inside(h.value, buf));
  const bool no_body = method == "HEAD" || head.status < 200 || head.status == 204 || head.status == 304 ||
                       (method == "CONNECT" && head.status < 300);
  if (no_body) check(head.framing == BodyFraming::None);
  if (head.framing == BodyFraming::UntilClose) check(!head.keep_alive);

  if (head.framing == BodyFraming::Chunked) {
    std::string_view in = buf.substr(head.head_size);
    ChunkedDecoder dec(lim);
    for (;;) {
      const auto s = dec.feed(in, err);
      check(s.consumed <= in.size() && inside(s.data, in));
      in.remove_prefix(s.consumed);
      if (s.status != ParseStatus::NeedMore || in.empty()) break;
    }
  }
  return 0;
}
