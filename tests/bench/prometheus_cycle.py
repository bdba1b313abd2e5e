#!/usr/bin/env python3
"""Benchmark: the time a real Prometheus takes to answer one steady-state cycle's queries for
N containers, to put beside oomcast's own CPU per cycle (tests/bench/cycle_cost).

Loads N containers x 5 minutes at 15 s (cAdvisor-like label sets) with promtool, then times
the queries of one engine cycle, several times each:
  container_memory_rss{container!="",container!="POD"}[45s]          (the new raw samples)
  max by (namespace, pod, container) (container_spec_memory_limit_bytes{...})   (the limits)
  kube_pod_labels                                                     (pod labels, once a minute)
Reports server wall time per query (median) and response size. Not a CTest test.

usage: prometheus_cycle.py [containers=100000] [repeats=3]"""

import os
import statistics
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import tsdb  # noqa: E402

T_END = tsdb.T0 + 300


def labels(i):
    return ('container="app-%d",endpoint="https-metrics",id="/kubepods/burstable/pod%08x/%032x",'
            'image="registry.example.com/team/app:1.4.%d",instance="10.0.%d.%d:10250",'
            'job="kubelet",metrics_path="/metrics/cadvisor",name="k8s_app_%d",namespace="ns-%d",'
            'node="node-%03d",pod="app-%d-7d9f8b6c5-x%04d",service="kubelet"' % (
                i % 3, i, i, i % 50, (i // 250) % 250, i % 250, i, i % 500, i % 400, i, i % 10000))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tsdb.require("prometheus", "promtool")
    work = tsdb.tempdir("oomcast-promcycle-")
    om = os.path.join(work, "load.om")
    t = time.time()
    with open(om, "w") as f:
        for name, value in (("container_memory_rss", lambda i, s: 2e8 + i % 97 * 1e6 + s * 1e3),
                            ("container_spec_memory_limit_bytes", lambda i, s: 1.5e9)):
            f.write("# TYPE %s gauge\n" % name)
            for i in range(n):
                lab = labels(i)
                for s in range(21):
                    f.write("%s{%s} %.0f %d\n" % (name, lab, value(i, s), tsdb.T0 + 15 * s))
        f.write("# TYPE kube_pod_labels gauge\n")
        for i in range(n):
            for s in range(21):
                f.write('kube_pod_labels{namespace="ns-%d",pod="app-%d-7d9f8b6c5-x%04d",'
                        'label_app="app-%d"} 1 %d\n' % (i % 500, i, i % 10000, i % 50,
                                                        tsdb.T0 + 15 * s))
        f.write("# EOF\n")
    print("wrote %.0f MB of OpenMetrics in %.0fs" % (os.path.getsize(om) / 1e6, time.time() - t))
    t = time.time()
    prom, url = tsdb.start_prometheus(om, work)
    print("loaded into Prometheus in %.0fs" % (time.time() - t))
    queries = [
        ("new raw samples", 'container_memory_rss{container!="",container!="POD"}[45s]'),
        ("limits", 'max by (namespace, pod, container) '
                   '(container_spec_memory_limit_bytes{container!="",container!="POD"})'),
        ("pod labels", "kube_pod_labels"),
    ]
    total = 0
    for name, q in queries:
        times, size = [], 0
        for _ in range(repeats):
            u = url + "/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": T_END})
            t = time.time()
            with urllib.request.urlopen(u, timeout=600) as r:
                size = len(r.read())
            times.append(time.time() - t)
        med = statistics.median(times)
        total += med if name != "pod labels" else 0
        print("%-16s %7.3f s (median of %d), %6.1f MB" % (name, med, repeats, size / 1e6))
    print("Prometheus per steady-state cycle (raw samples + limits): %.3f s wall" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
