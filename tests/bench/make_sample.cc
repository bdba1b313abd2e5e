// Writes the shipped sample (data/sample/scenarios.om.gz + truth.json) with the simulator.
// usage: make_sample OUT_DIR [SEED] [CONTAINERS_PER_FAMILY] [HOURS]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "oomcast/predictor/simulator.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_sample OUT_DIR [SEED] [PER_FAMILY] [HOURS]\n");
    return 2;
  }
  oomcast::predictor::SimulatorOptions o;
  if (argc > 2) o.seed = std::strtoull(argv[2], nullptr, 10);
  if (argc > 3) o.containers_per_family = std::atoi(argv[3]);
  if (argc > 4) o.duration_s = std::atof(argv[4]) * 3600;
  const std::string dir = argv[1];
  auto st = oomcast::predictor::SimulateToFiles(o, dir + "/scenarios.om.gz", dir + "/truth.json");
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
