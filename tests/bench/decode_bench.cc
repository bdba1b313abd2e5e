// Decoding throughput of DecodeQueryResponse (fast decoder) and DecodeQueryResponseSax on a
// synthetic but realistic query_range matrix response: N containers (default 100 000) with
// cAdvisor's label set (__name__, container, endpoint, id, image, instance, job, metrics_path,
// name, namespace, node, pod, service) and S samples each (default 4, one steady-state cycle of
// a 15 s scrape interval over one minute). Prints MB/s of response JSON and samples/s.
//
//   decode_bench [containers] [samples_per_series] [repetitions] [fast|sax|both]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "oomcast/prometheus_client.h"

namespace {

std::string Synthesize(int containers, int samples) {
  std::string out = R"({"status":"success","data":{"resultType":"matrix","result":[)";
  out.reserve(static_cast<size_t>(containers) * (700 + samples * 30));
  char buf[2048];
  const double t0 = 1767225600;
  for (int i = 0; i < containers; ++i) {
    int node = i % 500;
    int ns = i % 200;
    char pod[64];
    std::snprintf(pod, sizeof(pod), "app-%d-7d9f8c6b5d-x%05d", i % 1000, i);
    int n = std::snprintf(
        buf, sizeof(buf),
        R"(%s{"metric":{"__name__":"container_memory_rss","container":"app-%d",)"
        R"("endpoint":"https-metrics","id":"/kubepods.slice/kubepods-burstable.slice/)"
        R"(kubepods-burstable-pod6d2f%08x_4c1e_4b7a_9f1e_2a7c3b9e%04x.slice/)"
        R"(cri-containerd-%016x%016x.scope",)"
        R"("image":"registry.example.com/team-%d/app-%d:v1.%d.%d","instance":"10.1.%d.%d:10250",)"
        R"("job":"kubelet","metrics_path":"/metrics/cadvisor",)"
        R"("name":"%016llx%016llx","namespace":"namespace-%d","node":"ip-10-1-%d-%d.ec2.internal",)"
        R"("pod":"%s","service":"kube-prometheus-stack-kubelet"},"values":[)",
        i == 0 ? "" : ",", i % 1000, i, i % 65536, i * 2654435761u, i * 40503u, ns, i % 1000,
        i % 50, i % 10, node / 250, node % 250, i * 11400714819323198485ull, i * 7ull, ns,
        node / 250, node % 250, pod);
    out.append(buf, static_cast<size_t>(n));
    double base = 1.0e8 + (i % 977) * 1.0e6;
    for (int s = 0; s < samples; ++s) {
      n = std::snprintf(buf, sizeof(buf), R"(%s[%.3f,"%.0f"])", s == 0 ? "" : ",",
                        t0 + 15.0 * s + (i % 7) * 0.001, base + s * 4096.0 * (i % 13));
      out.append(buf, static_cast<size_t>(n));
    }
    out += "]}";
  }
  out += "]}}";
  return out;
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  int containers = argc > 1 ? std::atoi(argv[1]) : 100000;
  int samples = argc > 2 ? std::atoi(argv[2]) : 4;
  int reps = argc > 3 ? std::atoi(argv[3]) : 5;
  std::string mode = argc > 4 ? argv[4] : "both";  // "fast", "sax" or "both".
  std::string body = Synthesize(containers, samples);
  const double mb = static_cast<double>(body.size()) / 1e6;
  std::printf("response: %d series x %d samples, %.1f MB (%.0f bytes/series)\n", containers,
              samples, mb, static_cast<double>(body.size()) / containers);

  // Times the decode only: the previous result is freed outside the timed region. Reports the
  // best of `reps` in wall time and in thread CPU time (robust to other load on the machine).
  auto run = [&](const char* name, auto decode) {
    double best_wall = 1e30, best_cpu = 1e30;
    size_t decoded_samples = 0;
    for (int r = 0; r < reps; ++r) {
      auto wall0 = std::chrono::steady_clock::now();
      double cpu0 = ThreadCpuSeconds();
      auto result = decode(body);
      double cpu = ThreadCpuSeconds() - cpu0;
      double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
      if (!result.ok()) {
        std::fprintf(stderr, "%s failed: %s\n", name, result.status().ToString().c_str());
        std::exit(1);
      }
      decoded_samples = result->samples;
      best_wall = std::min(best_wall, wall);
      best_cpu = std::min(best_cpu, cpu);
    }
    std::printf(
        "%-5s best of %d: wall %.3f s, cpu %.3f s -> %.0f MB/s, %.2f M samples/s, %.2f M "
        "series/s (cpu)\n",
        name, reps, best_wall, best_cpu, mb / best_cpu, decoded_samples / best_cpu / 1e6,
        containers / best_cpu / 1e6);
  };
  if (mode != "sax") {
    run("fast", [](std::string_view b) { return oomcast::DecodeQueryResponse(b); });
  }
  if (mode != "fast") {
    run("sax", [](std::string_view b) { return oomcast::DecodeQueryResponseSax(b); });
  }
  return 0;
}
