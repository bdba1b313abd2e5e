// Benchmark: the cost of the predictor's steady-state cycle over many containers.
//
// Synthetic Prometheus responses at realistic sizes (cAdvisor label sets, ~0.4 KB each) are
// served by an in-memory HttpClient to the real Prometheus client, decoder and engine:
//   1. backfill: one query_range of `window` at 15 s per container;
//   2. steady state: cycles every 15 s, each fetching the new raw samples, the limits and
//      the pod labels of every container.
// Reports CPU seconds per steady-state cycle (process CPU time, this thread does all the work),
// samples and response bytes decoded per second, and resident memory per tracked container
// (RSS after backfill and cycles, minus RSS before, with response buffers freed).
//
// usage: cycle_cost [containers=100000] [window_minutes=60] [cycles=5]
#include <malloc.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "oomcast/predictor/engine.h"
#include "support/fake_clock.h"
#include "support/fake_http_client.h"

namespace {

using namespace oomcast;
using namespace oomcast::predictor;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double RssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) * 1024;
  }
  return 0;
}

std::string Labels(const char* name, int i) {
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "{\"__name__\":\"%s\",\"container\":\"app-%d\",\"endpoint\":\"https-metrics\","
                "\"id\":\"/kubepods/burstable/pod%08x-1f2e-4d3c-8b7a-%012d/"
                "%032x%032x\",\"image\":\"registry.example.com/team/app:1.4.%d\","
                "\"instance\":\"10.0.%d.%d:10250\",\"job\":\"kubelet\","
                "\"metrics_path\":\"/metrics/cadvisor\",\"name\":\"k8s_app_%d\","
                "\"namespace\":\"ns-%d\",\"node\":\"node-%03d\",\"pod\":\"app-%d-7d9f8b6c5-x%04d\","
                "\"service\":\"kubelet\"}",
                name, i % 3, i, i, i, i * 7, i % 50, (i / 250) % 250, i % 250, i, i % 500, i % 400,
                i, i % 10000);
  return buf;
}

double Value(int i, double t) { return 2e8 + (i % 97) * 1e6 + (i % 5) * 1e3 * (t - 1.7e9) / 1e3; }

// A matrix of `n` containers with samples at t0, t0+15, ..., <= t1.
std::string Matrix(const char* name, int n, double t0, double t1) {
  std::string out = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[";
  out.reserve(static_cast<size_t>(n) * (500 + 30 * ((t1 - t0) / 15 + 1)));
  char buf[64];
  for (int i = 0; i < n; ++i) {
    if (i) out += ',';
    out += "{\"metric\":" + Labels(name, i) + ",\"values\":[";
    for (double t = t0; t <= t1; t += 15) {
      if (t != t0) out += ',';
      std::snprintf(buf, sizeof buf, "[%.3f,\"%.0f\"]", t, Value(i, t));
      out += buf;
    }
    out += "]}";
  }
  out += "]}}";
  return out;
}

// The limits query is `max by (namespace, pod, container) (...)`: three labels per series.
std::string LimitVector(int n, double t) {
  std::string out = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[";
  char buf[200];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf,
                  "%s{\"metric\":{\"container\":\"app-%d\",\"namespace\":\"ns-%d\","
                  "\"pod\":\"app-%d-7d9f8b6c5-x%04d\"},\"value\":[%.3f,\"%.0f\"]}",
                  i ? "," : "", i % 3, i % 500, i, i % 10000, t, 1.5e9 + (i % 7) * 1e8);
    out += buf;
  }
  out += "]}}";
  return out;
}

std::string Vector(const char* name, int n, double t, bool pod_labels) {
  std::string out = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[";
  char buf[160];
  for (int i = 0; i < n; ++i) {
    if (i) out += ',';
    if (pod_labels) {
      std::snprintf(buf, sizeof buf,
                    "{\"metric\":{\"__name__\":\"kube_pod_labels\",\"namespace\":\"ns-%d\","
                    "\"pod\":\"app-%d-7d9f8b6c5-x%04d\",\"label_app\":\"app-%d\"},",
                    i % 500, i, i % 10000, i % 50);
      out += buf;
    } else {
      out += "{\"metric\":" + Labels(name, i) + ",";
    }
    std::snprintf(buf, sizeof buf, "\"value\":[%.3f,\"%.0f\"]}", t, 1.5e9 + (i % 7) * 1e8);
    out += buf;
  }
  out += "]}}";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  double window = (argc > 2 ? std::atof(argv[2]) : 60) * 60;
  int cycles = argc > 3 ? std::atoi(argv[3]) : 5;
  const double t0 = 1.7e9;
  testing::FakeClock clock(t0 + window);
  testing::FakeHttpClient http;
  std::string range_body, incr_body, limit_body, labels_body;
  size_t bytes_served = 0;
  http.SetHandler([&](const HttpRequest& r) -> StatusOr<HttpResponse> {
    std::string* body = &limit_body;
    if (r.url.find("query_range") != std::string::npos)
      body = &range_body;
    else if (r.url.find("kube_pod_labels") != std::string::npos)
      body = &labels_body;
    else if (r.url.find("%5B") != std::string::npos || r.url.find('[') != std::string::npos)
      body = &incr_body;
    bytes_served += body->size();
    return testing::JsonResponse(200, std::move(*body));
  });
  PrometheusBackendConfig backend;
  backend.base_url = "http://prometheus:9090";
  backend.keep_labels = PredictorLabels();  // As oomcast-predictor configures its client.
  auto client = NewHttpPrometheusClient(backend, &http, &clock);
  EngineConfig config;
  config.window_seconds = window;

  double rss0 = RssBytes();
  auto engine = std::make_unique<Engine>(config, client.get(), &clock);
  double now = clock.NowUnixSeconds();
  range_body = Matrix("container_memory_rss", n, now - window, now);
  limit_body = LimitVector(n, now);
  labels_body = Vector("kube_pod_labels", n, now, true);
  double backfill_mb = range_body.size() / 1e6;
  double c0 = CpuSeconds();
  Status st = engine->RunCycle();
  double backfill_cpu = CpuSeconds() - c0;
  if (!st.ok()) {
    std::fprintf(stderr, "backfill failed: %s\n", st.ToString().c_str());
    return 1;
  }
  double total_cpu = 0, total_samples = 0, total_bytes = 0;
  for (int c = 0; c < cycles; ++c) {
    clock.Advance(15);
    now = clock.NowUnixSeconds();
    // Raw samples of the last 45 s (the engine's range: 15 s since last fetch + 2 steps).
    incr_body = Matrix("container_memory_rss", n, now - 30, now);
    limit_body = LimitVector(n, now);
    labels_body = Vector("kube_pod_labels", n, now, true);
    if (c == 0) {
      // The decoder alone on the same bodies, to split the cycle's cost.
      double d = CpuSeconds();
      auto a = DecodeQueryResponse(incr_body, backend.keep_labels);
      auto b = DecodeQueryResponse(limit_body, backend.keep_labels);
      std::string labels_copy = Vector("kube_pod_labels", n, now, true);
      auto l = DecodeQueryResponse(labels_copy, backend.keep_labels);
      d = CpuSeconds() - d;
      std::printf("decode only: %.3f s CPU (memory %.0f MB, limits %.0f MB, labels %.0f MB)\n", d,
                  incr_body.size() / 1e6, limit_body.size() / 1e6, labels_body.size() / 1e6);
      if (!a.ok() || !b.ok() || !l.ok()) return 1;
    }
    size_t served_before = bytes_served;
    uint64_t ingested_before = engine->stats().samples_ingested;
    double cpu = CpuSeconds();
    st = engine->RunCycle();
    cpu = CpuSeconds() - cpu;
    if (!st.ok()) {
      std::fprintf(stderr, "cycle failed: %s\n", st.ToString().c_str());
      return 1;
    }
    total_cpu += cpu;
    total_bytes += bytes_served - served_before;
    // Decoded: 3 raw samples and a limit per container (pod labels: once a minute).
    total_samples += 4.0 * n;
    std::printf(
        "cycle %d: %.3f s CPU, %.1f MB of responses, %llu new samples\n", c + 1, cpu,
        (bytes_served - served_before) / 1e6,
        static_cast<unsigned long long>(engine->stats().samples_ingested - ingested_before));
  }
  range_body.clear();
  range_body.shrink_to_fit();
  incr_body.clear();
  incr_body.shrink_to_fit();
  malloc_trim(0);
  double rss1 = RssBytes();
  std::printf("\ncontainers:                  %d (tracked %llu, forecasts %zu)\n", n,
              static_cast<unsigned long long>(engine->stats().series_tracked),
              engine->Snapshot().forecasts->size());
  std::printf("backfill:                    %.2f s CPU for %.0f MB (%.0f MB/s)\n", backfill_cpu,
              backfill_mb, backfill_mb / backfill_cpu);
  std::printf("steady-state cycle:          %.3f s CPU (mean of %d)\n", total_cpu / cycles, cycles);
  std::printf("decoded in steady state:     %.0f MB/s, %.2f M samples/s\n",
              total_bytes / 1e6 / total_cpu, total_samples / 1e6 / total_cpu);
  std::printf("resident memory per container: %.0f bytes (RSS %.0f MB -> %.0f MB)\n",
              (rss1 - rss0) / n, rss0 / 1e6, rss1 / 1e6);
  return 0;
}
