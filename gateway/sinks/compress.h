// Why: batches are stored compressed (gzip for any reader, zstd for size and
// speed); one call per batch, on the sink's thread.
#pragma once

#include <string>
#include <string_view>

#include "gateway/sinks/config.h"

namespace rampart::gateway::sinks {

// Compresses `in`; throws std::runtime_error if the library fails.
std::string compress(Compression c, std::string_view in);
// The object key suffix: ".ndjson", ".ndjson.gz", ".ndjson.zst".
const char* extension(Compression c);

}  // namespace rampart::gateway::sinks
