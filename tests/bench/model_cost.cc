// Cost of the model: CPU per Observe + Forecast and memory per ContainerModel, on a steady-state
// cycle over many containers (each cycle: one new sample and one forecast per container).
// usage: model_cost [CONTAINERS] [CYCLES]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "oomcast/predictor/model.h"

int main(int argc, char** argv) {
  using namespace oomcast::predictor;
  const int containers = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int cycles = argc > 2 ? std::atoi(argv[2]) : 20;
  ModelConfig config;
  std::vector<std::unique_ptr<ContainerModel>> models;
  models.reserve(containers);
  for (int c = 0; c < containers; ++c) models.push_back(std::make_unique<ContainerModel>(&config));
  const double t0 = 1767225600, limit = 2e9;
  auto value = [](int c, double s) {
    return 5e8 + 1e3 * (c % 97) * s + 2e7 * std::sin(s / (30.0 + c % 13));
  };
  // Backfill one hour (240 samples at 15 s), as the engine does at start.
  for (int c = 0; c < containers; ++c) {
    for (int i = 0; i < 240; ++i) models[c]->Observe(t0 + 15 * i, value(c, 15.0 * i), limit);
  }
  double sink = 0;
  auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < cycles; ++k) {
    const double s = 15.0 * (240 + k);
    for (int c = 0; c < containers; ++c) {
      models[c]->Observe(t0 + s, value(c, s), limit);
      sink += models[c]->Predict(t0 + s, limit).risk;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("containers=%d cycles=%d: %.3f s per cycle, %.2f us per Observe+Forecast\n",
              containers, cycles, secs / cycles, 1e6 * secs / cycles / containers);
  std::printf("sizeof(ContainerModel)=%zu MemoryBytes()=%zu heap=0 (sink %.1f)\n",
              sizeof(ContainerModel), models[0]->MemoryBytes(), sink);
  return 0;
}
