#include "oomcast/predictor/version.h"
namespace oomcast {
const char* Version() { return "0.1.0"; }
}  // namespace oomcast
