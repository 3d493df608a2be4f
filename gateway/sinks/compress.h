// Why: batches are stored compressed (gzip for any reader, zstd for size and
// speed). A batch is compressed as its records arrive, in chunks that are still
// in cache, so a multi-MB batch never sits in memory uncompressed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/sinks/config.h"

namespace rampart::gateway::sinks {

// Compresses `in`; throws std::runtime_error if the library fails.
std::string compress(Compression c, std::string_view in);

// One batch's body, compressed as it grows: add() gathers records in a
// 128 KiB chunk and compresses each full chunk into the body; finish() ends
// the stream (one zstd frame or gzip member, the same bytes a reader of
// compress()'s output expects) and hands the body over, leaving the object
// ready for the next batch (its context and buffers kept). A library failure
// (only possible when memory runs out) spoils the batch: finish() then returns
// nothing and says why (the caller counts its records dropped).
class BatchCompressor {
 public:
  explicit BatchCompressor(Compression c);
  ~BatchCompressor();
  BatchCompressor(const BatchCompressor&) = delete;
  BatchCompressor& operator=(const BatchCompressor&) = delete;

  Compression kind() const { return kind_; }
  void add(std::string_view raw);
  // Bytes the batch holds now: what is compressed and the chunk not yet compressed.
  size_t held() const { return body_.size() + chunk_.size(); }
  std::optional<std::string> finish(std::string* why);

 private:
  bool failed() const { return !error_.empty(); }
  void compressChunk(bool last);
  Compression kind_;
  std::string chunk_;  // raw bytes not yet compressed
  std::string body_;   // compressed so far
  bool started_ = false;
  std::string error_;
  struct Lib;
  std::unique_ptr<Lib> lib_;
};
// The object key suffix: ".ndjson", ".ndjson.gz", ".ndjson.zst".
const char* extension(Compression c);

}  // namespace rampart::gateway::sinks
