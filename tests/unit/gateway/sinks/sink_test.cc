#include "gateway/sinks/sink.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/sinks/compress.h"
#include "gateway/sinks/store.h"

namespace rampart::gateway::sinks {
namespace {

namespace fs = std::filesystem;

std::string tempDir() {
  std::string t = (fs::temp_directory_path() / "rampart-sink-XXXXXX").string();
  return mkdtemp(t.data());
}

std::string gunzip(const std::string& in) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::string out(in.size() * 20 + 1024, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

// Streamed: a batch's frame does not record its size (it is compressed as it grows).
std::string unzstd(const std::string& in) {
  ZSTD_DCtx* d = ZSTD_createDCtx();
  std::string out;
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  size_t rc = 1;
  while (src.pos < src.size || rc != 0) {
    char buf[1 << 16];
    ZSTD_outBuffer dst{buf, sizeof buf, 0};
    rc = ZSTD_decompressStream(d, &dst, &src);
    if (ZSTD_isError(rc)) {
      ADD_FAILURE() << ZSTD_getErrorName(rc);
      break;
    }
    out.append(buf, dst.pos);
    if (dst.pos == 0 && src.pos == src.size) break;
  }
  EXPECT_EQ(rc, 0u) << "the frame is not complete";
  ZSTD_freeDCtx(d);
  return out;
}

TEST(SinkCompress, RoundTrips) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "{\"request_id\":\"" + std::to_string(i) + "\",\"status\":200}\n";
  const std::string z = compress(Compression::kZstd, text);
  const std::string g = compress(Compression::kGzip, text);
  EXPECT_LT(z.size(), text.size() / 5);
  EXPECT_LT(g.size(), text.size() / 5);
  EXPECT_EQ(unzstd(z), text);
  EXPECT_EQ(gunzip(g), text);
  EXPECT_EQ(compress(Compression::kNone, text), text);
  EXPECT_STREQ(extension(Compression::kZstd), ".ndjson.zst");
}

// Batches compressed as they grow: records added one by one across many
// 128 KiB chunks, three batches in a row from one compressor (its context
// reused), each a complete stream that decompresses to exactly its records.
TEST(SinkCompress, BatchesCompressedAsTheyGrow) {
  for (Compression c : {Compression::kZstd, Compression::kGzip, Compression::kNone}) {
    BatchCompressor z(c);
    for (int batch = 0; batch < 3; ++batch) {
      std::string text;
      const int records = batch == 1 ? 0 : 6000 + batch;  // an empty batch in between
      for (int i = 0; i < records; ++i) {
        const std::string line = "{\"batch\":" + std::to_string(batch) + ",\"i\":" + std::to_string(i) + ",\"pad\":\"" +
                                 std::string(size_t(i % 61), char('a' + i % 26)) + "\"}\n";
        z.add(line);
        text += line;
      }
      std::string why;
      auto body = z.finish(&why);
      ASSERT_TRUE(body) << why;
      if (c == Compression::kZstd) EXPECT_EQ(unzstd(*body), text) << batch;
      if (c == Compression::kGzip) EXPECT_EQ(gunzip(*body), text) << batch;
      if (c == Compression::kNone) EXPECT_EQ(*body, text) << batch;
      if (c != Compression::kNone && records) EXPECT_LT(body->size(), text.size() / 4);
    }
  }
}

TEST(SinkStore, EncodeKey) {
  EXPECT_EQ(encodeKey("p/kind=waf/dt=2026-01-02/a b+c.ndjson"), "p/kind%3Dwaf/dt%3D2026-01-02/a%20b%2Bc.ndjson");
  EXPECT_EQ(encodeKey("a/b", false), "a%2Fb");
}

std::map<std::string, std::string> readTree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out[fs::relative(e.path(), root).string()] = ss.str();
  }
  return out;
}

SinkConfig localConfig(const std::string& out, const std::string& spool) {
  SinkConfig c;
  c.name = "t";
  c.type = SinkConfig::Type::kLocal;
  c.local.path = out;
  c.spool_path = spool;
  c.compression = Compression::kNone;
  c.batch_records = 10;
  c.batch_age = std::chrono::hours(1);
  c.prefix = "pre/";
  return c;
}

TEST(Sink, BatchesByCountWithPartitionedKeysAndNothingLost) {
  const std::string out = tempDir(), spool = tempDir();
  {
    Sink s(localConfig(out, spool), "host1");
    for (int i = 0; i < 25; ++i) s.offer(Kind::kAccess, "{\"i\":" + std::to_string(i) + "}", 200, false);
    s.offer(Kind::kWaf, "{\"waf\":1}", 0, true);
    s.flush();
    EXPECT_EQ(s.counters().shipped[0].load(), 25u);
    EXPECT_EQ(s.counters().shipped[1].load(), 1u);
    EXPECT_EQ(s.counters().batches.load(), 4u);  // 10 + 10 + 5 access, 1 waf
  }
  auto files = readTree(out);
  ASSERT_EQ(files.size(), 4u);
  size_t lines = 0;
  for (auto& [name, body] : files) {
    EXPECT_EQ(name.rfind("pre/kind=", 0), 0u) << name;
    EXPECT_NE(name.find("/dt="), std::string::npos);
    EXPECT_NE(name.find("/hour="), std::string::npos);
    EXPECT_NE(name.find("/host1-"), std::string::npos);
    lines += size_t(std::count(body.begin(), body.end(), '\n'));
  }
  EXPECT_EQ(lines, 26u);
  EXPECT_TRUE(fs::is_empty(spool));
}

TEST(Sink, FiltersAndSampling) {
  const std::string out = tempDir(), spool = tempDir();
  auto c = localConfig(out, spool);
  c.min_status = 400;
  c.only_waf = true;
  Sink s(c, "h");
  s.offer(Kind::kAccess, "a", 200, false);  // filtered
  s.offer(Kind::kAccess, "b", 404, false);  // status
  s.offer(Kind::kAccess, "c", 200, true);   // waf
  s.flush();
  EXPECT_EQ(s.counters().enqueued[0].load(), 2u);
  EXPECT_EQ(s.counters().dropped_filter[0].load(), 1u);
  auto c2 = localConfig(tempDir(), tempDir());
  c2.sample = 0.25;
  Sink q(c2, "h");
  for (int i = 0; i < 100; ++i) q.offer(Kind::kAccess, "x", 200, false);
  EXPECT_EQ(q.counters().enqueued[0].load(), 25u);
}

TEST(Sink, StoreDownKeepsTheSpoolForTheNextProcess) {
  const std::string out = tempDir(), spool = tempDir();
  const std::string blocked = out + "/file";
  std::ofstream(blocked) << "x";  // a file where the store wants a directory: every put fails
  {
    auto c = localConfig(blocked, spool);
    Sink s(c, "h");
    for (int i = 0; i < 15; ++i) s.offer(Kind::kAccess, "r" + std::to_string(i), 200, false);
    s.flush();
    EXPECT_EQ(s.counters().shipped[0].load(), 0u);
    EXPECT_EQ(s.counters().spooled[0].load(), 15u);
    EXPECT_GT(s.counters().errors_io.load(), 0u);
    EXPECT_EQ(s.counters().spool_batches.load(), 2u);
  }
  // Restarted, with a store that works: the spool is delivered under the same keys.
  const std::string out2 = tempDir();
  Sink s2(localConfig(out2, spool), "h");
  s2.flush();
  EXPECT_EQ(s2.counters().shipped[0].load(), 15u);
  EXPECT_EQ(readTree(out2).size(), 2u);
  EXPECT_TRUE(fs::is_empty(spool));
}

TEST(Sink, NoRoomInTheSpoolGoesStraightToAWorkingStore) {
  const std::string out = tempDir();
  auto c = localConfig(out, tempDir());
  c.spool_max_bytes = 100;  // no batch fits
  Sink s(c, "h");
  for (int i = 0; i < 25; ++i) s.offer(Kind::kAccess, "record-" + std::to_string(i), 200, false);
  s.flush();
  EXPECT_EQ(s.counters().shipped[0].load(), 25u);
  EXPECT_EQ(s.counters().dropped_spool[0].load(), 0u);
  EXPECT_EQ(readTree(out).size(), 3u);
}

TEST(Sink, MemoryCapDropsAccessBeforeWaf) {
  auto c = localConfig(tempDir(), tempDir());
  c.memory_max_bytes = 1000;
  c.batch_records = 1000000;
  Sink s(c, "h");
  const std::string line(99, 'x');  // 100 bytes with the newline
  for (int i = 0; i < 10; ++i) s.offer(Kind::kAccess, line, 200, false);
  for (int i = 0; i < 5; ++i) s.offer(Kind::kWaf, line, 0, true);
  EXPECT_EQ(s.counters().enqueued[0].load(), 7u);  // access stops at 3/4 of the cap
  EXPECT_EQ(s.counters().dropped_memory[0].load(), 3u);
  EXPECT_EQ(s.counters().enqueued[1].load(), 3u);  // WAF events fill the rest
  EXPECT_EQ(s.counters().dropped_memory[1].load(), 2u);
}

// The cap is on the memory a batch holds: compressed as it grows, 4 MiB of
// access records fit in a 1 MiB cap (raw, they would have been refused from 768 KiB).
TEST(Sink, MemoryCapCountsWhatTheBatchHolds) {
  auto c = localConfig(tempDir(), tempDir());
  c.compression = Compression::kZstd;
  c.memory_max_bytes = 1 << 20;
  c.batch_records = 1000000;
  c.batch_bytes = 64 << 20;
  Sink s(c, "h");
  std::string line(99, 'x');
  for (int i = 0; i < 40000; ++i) {
    line.replace(0, 8, std::to_string(10000000 + i));
    s.offer(Kind::kAccess, line, 200, false);
  }
  EXPECT_EQ(s.counters().enqueued[0].load(), 40000u);
  EXPECT_EQ(s.counters().dropped_memory[0].load(), 0u);
  s.flush();
  EXPECT_EQ(s.counters().shipped[0].load(), 40000u);
}

}  // namespace
}  // namespace rampart::gateway::sinks
