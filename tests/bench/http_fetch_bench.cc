// Benchmark: the client-side CPU cost of fetching large Prometheus-sized responses through
// oomcast's HttpClient (the Prometheus client's transport), from a server in another process.
//
//   python3 -m http.server --bind 127.0.0.1 8000 --directory DIR &   # DIR/body.json: ~50 MB
//   build/tests/http_fetch_bench http://127.0.0.1:8000/body.json 20
//
// Reports this process's CPU seconds (user + sys, getrusage: every client thread included)
// per request and per MB, and the wall time. Not a CTest test.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "oomcast/http_client.h"

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: http_fetch_bench URL [requests=20]\n");
    return 2;
  }
  const std::string url = argv[1];
  const int n = argc > 2 ? std::atoi(argv[2]) : 20;
  auto client = oomcast::NewHttpClient({});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  oomcast::HttpRequest req;
  req.url = url;
  req.timeout_seconds = 60;
  size_t bytes = 0;
  double cpu0 = CpuSeconds();
  auto wall0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto r = (*client)->Do(req);
    if (!r.ok() || r->status_code != 200) {
      std::fprintf(stderr, "request %d: %s\n", i,
                   r.ok() ? ("HTTP " + std::to_string(r->status_code)).c_str()
                          : r.status().ToString().c_str());
      return 1;
    }
    bytes += r->body.size();
  }
  double cpu = CpuSeconds() - cpu0;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf("%d requests, %.1f MB: cpu %.3f s (%.1f ms/request, %.2f ms/MB), wall %.3f s\n", n,
              bytes / 1e6, cpu, cpu * 1e3 / n, cpu * 1e3 / (bytes / 1e6), wall);
  return 0;
}
