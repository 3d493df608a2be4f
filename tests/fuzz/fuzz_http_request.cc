// Fuzzes parseRequestHead and, for chunked requests, the ChunkedDecoder on the bytes
// after the head. Invariants: nothing is read outside the input (ASan on an exact-size
// copy), consumed <= input, every view lies inside the buffer, feeding by prefixes /
// single bytes gives the verdict of the whole buffer, and a head written back by the
// writer parses to the same framing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/http/parser.h"
#include "gateway/http/writer.h"

using namespace rampart::gateway::http;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

struct Decoded {
  ParseStatus status = ParseStatus::NeedMore;
  uint16_t code = 0;
  std::string body;
  size_t consumed = 0;
};

Decoded decodeChunked(std::string_view buf, const Limits& lim, size_t piece) {
  ChunkedDecoder dec(lim);
  ParseError err;
  Decoded d;
  size_t off = 0;
  while (off < buf.size()) {
    const size_t len = piece == 0 ? buf.size() - off : std::min(piece, buf.size() - off);
    std::string_view in = buf.substr(off, len);
    for (;;) {
      const auto st = dec.feed(in, err);
      check(st.consumed <= in.size());
      check(inside(st.data, in));
      check(st.data.empty() || st.data.data() == in.data() + st.consumed - st.data.size());
      d.body.append(st.data);
      d.consumed += st.consumed;
      in.remove_prefix(st.consumed);
      if (st.status != ParseStatus::NeedMore) {
        d.status = st.status;
        d.code = st.status == ParseStatus::Error ? err.status : 0;
        if (st.status == ParseStatus::Done) check(dec.bodyBytes() == d.body.size());
        return d;
      }
      if (in.empty()) break;
      check(!st.data.empty());  // NeedMore without data must have consumed everything
    }
    off += len;
  }
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Limits lim;
  if (data[0] & 1) {  // small limits, to reach every limit branch
    lim.max_request_line = 64;
    lim.max_header_bytes = 512;
    lim.max_headers = 8;
    lim.max_header_line = 96;
    lim.max_body = 4096;
    lim.max_chunk_ext = 16;
    lim.max_trailer_bytes = 64;
  }
  // Exact-size heap copy: any read past the end is an ASan report.
  std::unique_ptr<char[]> copy(new char[size - 1]);
  if (size > 1) std::memcpy(copy.get(), data + 1, size - 1);
  const std::string_view buf(copy.get(), size - 1);

  RequestHead head;
  ParseError err;
  const ParseStatus st = parseRequestHead(buf, lim, head, err);
  if (st == ParseStatus::Error) {
    const uint16_t s = err.status;
    check(s == 400 || s == 413 || s == 414 || s == 417 || s == 431 || s == 501 || s == 505);
    check(err.close && err.reason && *err.reason);
  }

  // Prefixes: NeedMore until the verdict, then the same verdict.
  const size_t step = buf.size() <= 512 ? 1 : buf.size() / 256;
  bool decided = false;
  for (size_t k = 0; k <= buf.size(); k += step) {
    RequestHead h;
    ParseError e;
    const ParseStatus s = parseRequestHead(buf.substr(0, k), lim, h, e);
    if (s == ParseStatus::NeedMore) {
      check(!decided);
      continue;
    }
    decided = true;
    check(s == st);
    if (s == ParseStatus::Error) check(e.status == err.status && std::strcmp(e.reason, err.reason) == 0);
    if (s == ParseStatus::Done) check(h.head_size == head.head_size);
  }

  if (st != ParseStatus::Done) return 0;
  check(head.head_size <= buf.size() && head.head_size <= lim.max_header_bytes);
  check(head.headers.size() <= lim.max_headers);
  check(inside(head.method, buf) && inside(head.target, buf) && inside(head.host, buf));
  check(!head.method.empty() && !head.target.empty());
  for (const Header& h : head.headers) check(inside(h.name, buf) && inside(h.value, buf) && !h.name.empty());
  if (head.framing == BodyFraming::ContentLength) check(head.content_length > 0);
  if (lim.max_body) check(head.content_length <= lim.max_body);

  // Round trip through the writer (HTTP/1.1 only: the writer always writes 1.1).
  if (head.version_minor == 1) {
    std::string out;
    appendRequestHead(out, head.method, head.target, head.headers);
    Limits big = lim;
    big.max_request_line = big.max_header_bytes = big.max_header_line = 1 << 20;
    RequestHead again;
    ParseError e2;
    check(parseRequestHead(out, big, again, e2) == ParseStatus::Done);
    check(again.head_size == out.size());
    check(again.framing == head.framing && again.content_length == head.content_length);
    check(again.keep_alive == head.keep_alive && again.upgrade == head.upgrade);
    check(again.expect_continue == head.expect_continue && again.host == head.host);
    check(again.headers.size() == head.headers.size());
  }

  if (head.framing == BodyFraming::Chunked) {
    const std::string_view body = buf.substr(head.head_size);
    const Decoded whole = decodeChunked(body, lim, 0);
    const Decoded bytes = decodeChunked(body, lim, 1);
    const Decoded threes = decodeChunked(body, lim, 3);
    check(whole.consumed <= body.size());
    for (const Decoded* d : {&bytes, &threes}) {
      check(d->status == whole.status && d->code == whole.code);
      check(d->body == whole.body && d->consumed == whole.consumed);
    }
    if (whole.status == ParseStatus::Error)
      check(whole.code == 400 || whole.code == 413 || whole.code == 431);
    if (whole.status == ParseStatus::Done) {
      // The decoded body re-framed by the writer decodes to the same bytes.
      std::string framed;
      appendChunk(framed, whole.body);
      appendLastChunk(framed);
      Limits unl = lim;
      unl.max_body = 0;
      const Decoded again = decodeChunked(framed, unl, 0);
      check(again.status == ParseStatus::Done && again.body == whole.body && again.consumed == framed.size());
    }
  }
  return 0;
}
