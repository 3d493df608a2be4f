// The body fuzz targets' second check: a Result parsed into again and again
// (as the engine's workspace one is) holds what a fresh one holds.
#pragma once

#include <cstring>

#include "waf/body/body.h"

namespace rampart::fuzz {

inline bool sameResult(const waf::body::Result& a, const waf::body::Result& b) {
  using waf::body::Field;
  using waf::body::FileInfo;
  auto sameFields = [](const std::vector<Field>& x, const std::vector<Field>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (x[i].name != y[i].name || x[i].value != y[i].value) return false;
    return true;
  };
  if (a.files.size() != b.files.size()) return false;
  for (size_t i = 0; i < a.files.size(); ++i) {
    const FileInfo &x = a.files[i], &y = b.files[i];
    if (x.field_name != y.field_name || x.filename != y.filename || x.content_type != y.content_type ||
        x.size != y.size)
      return false;
  }
  return sameFields(a.args, b.args) && sameFields(a.part_headers, b.part_headers) &&
         a.multipart_names == b.multipart_names && a.multipart_filenames == b.multipart_filenames &&
         std::memcmp(&a.multipart, &b.multipart, sizeof(a.multipart)) == 0 && a.error == b.error &&
         a.error_msg == b.error_msg && a.urlencoded_error == b.urlencoded_error;
}

}  // namespace rampart::fuzz
