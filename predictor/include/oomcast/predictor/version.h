#pragma once
namespace oomcast {
// The release of the oomcast binaries, e.g. "0.1.0".
const char* Version();
}  // namespace oomcast
