// Result's reuse (body.h): the engine parses each request's body into its
// workspace's Result, whose strings keep their buffers from one request to
// the next.
#include <bit>
#include <string>
#include <string_view>

#include "waf/body/body.h"

namespace rampart::waf::body {
namespace {

const size_t kShortString = std::string().capacity();  // held in the string itself: nothing to keep
// The size classes: class c holds strings of capacity >= classSize(c) (and
// serves values of more than classSize(c - 1) bytes). A longer string's
// buffer is let go (a large upload's field is seldom followed by another),
// and so are strings past kSpareMax.
constexpr size_t classSize(size_t c) { return (size_t{32} << c) - 1; }
constexpr size_t kSpareMax = 1024;

}  // namespace

void Result::reset() {
  size_t kept = spareCount();
  auto keep = [&](std::string& s) {
    const size_t cap = s.capacity();
    if (cap < classSize(0) || cap > classSize(kSpareClasses - 1) || kept >= kSpareMax) return;
    size_t c = kSpareClasses - 1;
    while (classSize(c) > cap) --c;
    spare[c].push_back(std::move(s));
    ++kept;
  };
  for (Field& f : args) keep(f.name), keep(f.value);
  args.clear();
  for (FileInfo& f : files) keep(f.field_name), keep(f.filename), keep(f.content_type);
  files.clear();
  for (Field& f : part_headers) keep(f.name), keep(f.value);
  part_headers.clear();
  for (std::string& s : multipart_filenames) keep(s);
  multipart_filenames.clear();
  for (std::string& s : multipart_names) keep(s);
  multipart_names.clear();
  multipart = MultipartFlags{};
  xml_doc.reset();
  error = false;
  error_msg.clear();
  urlencoded_error = false;
}

std::string Result::take(std::string_view s) {
  if (s.size() <= kShortString || s.size() > classSize(kSpareClasses - 1)) return std::string(s);
  // The smallest class whose size holds s (s.size() >= 16: bit_width >= 5).
  const size_t c = static_cast<size_t>(std::bit_width(s.size())) - 5;
  std::string out;
  if (!spare[c].empty()) {
    out = std::move(spare[c].back());
    spare[c].pop_back();
  } else {
    out.reserve(classSize(c));
  }
  out.assign(s);
  return out;
}

size_t Result::spareCount() const {
  size_t n = 0;
  for (const auto& v : spare) n += v.size();
  return n;
}

size_t Result::heldBytes() const {
  size_t bytes = args.capacity() * sizeof(Field) + files.capacity() * sizeof(FileInfo) +
                 part_headers.capacity() * sizeof(Field) +
                 (multipart_filenames.capacity() + multipart_names.capacity()) * sizeof(std::string) +
                 error_msg.capacity();
  for (const Field& f : args) bytes += f.name.capacity() + f.value.capacity();
  for (const FileInfo& f : files) bytes += f.field_name.capacity() + f.filename.capacity() + f.content_type.capacity();
  for (const Field& f : part_headers) bytes += f.name.capacity() + f.value.capacity();
  for (const std::string& s : multipart_filenames) bytes += s.capacity();
  for (const std::string& s : multipart_names) bytes += s.capacity();
  for (const auto& v : spare) {
    bytes += v.capacity() * sizeof(std::string);
    for (const std::string& s : v) bytes += s.capacity();
  }
  return bytes;
}

}  // namespace rampart::waf::body
