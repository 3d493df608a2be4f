// Strict chunked transfer-coding decoder (RFC 9112 7.1).
//
// Decisions:
// - chunk-size is 1 to 16 HEXDIG: no sign, no "0x", no whitespace anywhere on the chunk
//   line (RFC 9112 lets a recipient accept BWS around ';' and '=', but a sender must not
//   generate it, and parsers disagree on it: we reject). More than 16 digits -> 400.
// - chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), at most
//   Limits::max_chunk_ext bytes per chunk line (counted from the first ';'), else 400.
// - Every line ends in CRLF; a bare LF or bare CR -> 400. After chunk-data exactly CRLF.
// - Trailer fields follow the field-line grammar of the head (token ':' OWS value);
//   obs-fold -> 400; more than max_trailer_bytes -> 431, more than max_headers fields -> 431.
//   They are validated and consumed, not reported (the gateway does not forward trailers).
// - Body over Limits::max_body (when non-zero) -> 413, detected from the chunk size.
// - After an error the decoder stays failed until reset().
#include "gateway/http/headers.h"
#include "gateway/http/parser.h"

namespace rampart::gateway::http {

ChunkedDecoder::Step ChunkedDecoder::fail(size_t consumed, ParseError& err, uint16_t status, const char* reason) {
  state_ = State::Failed;
  err.status = status;
  err.reason = reason;
  err.close = true;
  return Step{ParseStatus::Error, consumed, {}};
}

ChunkedDecoder::Step ChunkedDecoder::feed(std::string_view in, ParseError& err) {
  const size_t n = in.size();
  size_t i = 0;
  if (state_ == State::Failed) return fail(0, err, 400, "chunked body already failed");
  if (state_ == State::Done) return Step{ParseStatus::Done, 0, {}};

  while (i < n) {
    if (state_ == State::Data) {
      const uint64_t avail = n - i;
      const size_t take = static_cast<size_t>(remaining_ < avail ? remaining_ : avail);
      remaining_ -= take;
      body_bytes_ += take;
      if (remaining_ == 0) state_ = State::DataCR;
      return Step{ParseStatus::NeedMore, i + take, in.substr(i, take)};
    }
    const char c = in[i];
    switch (state_) {
      case State::Size:
        if (chars::isHex(c)) {
          if (++size_digits_ > 16) return fail(i, err, 400, "chunk size too long");
          const uint64_t v = (c <= '9') ? uint64_t(c - '0') : uint64_t((c | 0x20) - 'a' + 10);
          remaining_ = (remaining_ << 4) | v;
        } else if (size_digits_ == 0) {
          return fail(i, err, 400, "invalid chunk size");
        } else if (c == ';') {
          state_ = State::ExtNameStart;
          ext_bytes_ = 1;
          if (ext_bytes_ > limits_.max_chunk_ext) return fail(i, err, 400, "chunk extension too long");
        } else if (c == '\r') {
          state_ = State::SizeLF;
        } else {
          return fail(i, err, 400, "invalid character after chunk size");
        }
        break;
      case State::ExtNameStart:
      case State::ExtName:
      case State::ExtValStart:
      case State::ExtValToken:
      case State::ExtQuoted:
      case State::ExtQuotedEsc:
      case State::ExtAfterQuoted:
        if (c != '\r' && ++ext_bytes_ > limits_.max_chunk_ext) return fail(i, err, 400, "chunk extension too long");
        switch (state_) {
          case State::ExtNameStart:
            if (!chars::isTchar(c)) return fail(i, err, 400, "malformed chunk extension");
            state_ = State::ExtName;
            break;
          case State::ExtName:
          case State::ExtValToken:
            if (chars::isTchar(c)) break;
            if (c == ';')
              state_ = State::ExtNameStart;
            else if (c == '=' && state_ == State::ExtName)
              state_ = State::ExtValStart;
            else if (c == '\r')
              state_ = State::SizeLF;
            else
              return fail(i, err, 400, "malformed chunk extension");
            break;
          case State::ExtValStart:
            if (c == '"')
              state_ = State::ExtQuoted;
            else if (chars::isTchar(c))
              state_ = State::ExtValToken;
            else
              return fail(i, err, 400, "malformed chunk extension");
            break;
          case State::ExtQuoted:
            if (c == '"')
              state_ = State::ExtAfterQuoted;
            else if (c == '\\')
              state_ = State::ExtQuotedEsc;
            else if (!chars::is(static_cast<unsigned char>(c), chars::kQdtext))
              return fail(i, err, 400, "malformed chunk extension");
            break;
          case State::ExtQuotedEsc:
            if (!chars::isFieldChar(c)) return fail(i, err, 400, "malformed chunk extension");
            state_ = State::ExtQuoted;
            break;
          default:  // ExtAfterQuoted
            if (c == ';')
              state_ = State::ExtNameStart;
            else if (c == '\r')
              state_ = State::SizeLF;
            else
              return fail(i, err, 400, "malformed chunk extension");
            break;
        }
        break;
      case State::SizeLF:
        if (c != '\n') return fail(i, err, 400, "bare CR in chunk line");
        size_digits_ = 0;
        ext_bytes_ = 0;
        if (remaining_ == 0) {
          state_ = State::TrailerStart;
        } else {
          if (limits_.max_body != 0 &&
              (body_bytes_ > limits_.max_body || remaining_ > limits_.max_body - body_bytes_))
            return fail(i, err, 413, "request body too large");
          state_ = State::Data;
        }
        break;
      case State::DataCR:
        if (c != '\r') return fail(i, err, 400, "missing CRLF after chunk data");
        state_ = State::DataLF;
        break;
      case State::DataLF:
        if (c != '\n') return fail(i, err, 400, "bare CR after chunk data");
        state_ = State::Size;
        break;
      case State::TrailerStart:
      case State::TrailerName:
      case State::TrailerValue:
      case State::TrailerLF:
      case State::FinalLF:
        if (++trailer_bytes_ > limits_.max_trailer_bytes) return fail(i, err, 431, "trailer section too large");
        switch (state_) {
          case State::TrailerStart:
            if (c == '\r') {
              state_ = State::FinalLF;
            } else if (chars::isTchar(c)) {
              if (++trailer_fields_ > limits_.max_headers) return fail(i, err, 431, "too many trailer fields");
              state_ = State::TrailerName;
            } else if (c == '\n') {
              return fail(i, err, 400, "bare LF line ending");
            } else if (chars::isOws(c)) {
              return fail(i, err, 400, "obs-fold in trailer");
            } else {
              return fail(i, err, 400, "invalid character in trailer field name");
            }
            break;
          case State::TrailerName:
            if (c == ':')
              state_ = State::TrailerValue;
            else if (!chars::isTchar(c))
              return fail(i, err, 400, chars::isOws(c) ? "whitespace between field name and colon"
                                                       : "invalid character in trailer field name");
            break;
          case State::TrailerValue:
            if (c == '\r')
              state_ = State::TrailerLF;
            else if (c == '\n')
              return fail(i, err, 400, "bare LF line ending");
            else if (!chars::isFieldChar(c))
              return fail(i, err, 400, "invalid character in trailer field value");
            break;
          case State::TrailerLF:
            if (c != '\n') return fail(i, err, 400, "bare CR");
            state_ = State::TrailerStart;
            break;
          default:  // FinalLF
            if (c != '\n') return fail(i, err, 400, "bare CR");
            state_ = State::Done;
            return Step{ParseStatus::Done, i + 1, {}};
        }
        break;
      case State::Data:
      case State::Done:
      case State::Failed:
        break;  // handled above
    }
    ++i;
  }
  return Step{ParseStatus::NeedMore, i, {}};
}

}  // namespace rampart::gateway::http
