// Reads a fixture from tests/lib/testdata (under $OOMCAST_SOURCE_DIR, set by CTest, or next to
// this file). Fails the current Catch2 test when the file cannot be read.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace oomcast::testing {

inline std::string ReadTestdata(const std::string& name) {
  std::filesystem::path dir;
  if (const char* src = std::getenv("OOMCAST_SOURCE_DIR")) {
    dir = std::filesystem::path(src) / "tests/lib/testdata";
  } else {
    dir = std::filesystem::path(__FILE__).parent_path().parent_path() / "lib/testdata";
  }
  std::ifstream in(dir / name, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace oomcast::testing
