// Change detection of files that are re-read when they change (certificates, test fixtures).
#pragma once

#include <sys/stat.h>

#include <string>

namespace oomcast {

// Modification time, size and inode of the file at `path`; "" when it cannot be stat'ed. A new
// stamp means the file was rewritten or replaced (an atomic rename included).
inline std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_ino);
}

}  // namespace oomcast
