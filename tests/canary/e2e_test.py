#!/usr/bin/env python3
"""End-to-end: the canary verdict from live series through a real Prometheus.

A stand-in exporter serves the memory of six pods of one app (4 baseline, 2 canary holding 50 %
more) and their kube_pod_labels, as cAdvisor and kube-state-metrics would. A real Prometheus
scrapes it and the predictor every second; `oomcast-predictor serve` (horizon 60 s, 1 s cycles,
one `canary:` comparison) reads the series from that Prometheus and publishes
memory_canary_verdict. Checks: the predictor's /metrics turns to verdict="fail" on the level
aspect, and the query of docs/canary/argo-analysistemplate.yaml (its args filled in) returns 1
from Prometheus, which fails the template's failureCondition; then oomcast-controller
(--prometheus-url, against the Kubernetes API stand-in) reconciles a MemoryCanary naming the
comparison and pauses the stand-in's Deployment (spec.paused), with a CanaryFailed Event and
conditions naming the aspect. Also an A/A comparison over the baseline pods alone (two halves)
stays not-failed.
Usage: e2e_test.py PREDICTOR_BINARY [CONTROLLER_BINARY]"""

import http.server
import math
import os
import re
import sys
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import tsdb  # noqa: E402

PRED = os.path.abspath(sys.argv[1])
CTRL = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
ROOT = os.environ.get("OOMCAST_SOURCE_DIR", os.path.join(HERE, "..", ".."))
MIB = tsdb.MIB
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok)))
    print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + str(detail)[:600]) if not ok else ""))


PODS = [("cart-stable-%d" % i, "stable", 300 * MIB * (1 + 0.02 * (i - 1.5))) for i in range(4)]
PODS += [("cart-canary-%d" % i, "canary", 1.5 * 300 * MIB * (1 + 0.02 * (i - 0.5))) for i in range(2)]
# A/A halves of the baseline for the control comparison.
HALF = {"cart-stable-0": "a", "cart-stable-1": "a", "cart-stable-2": "b", "cart-stable-3": "b"}


def exposition():
    t = time.time()
    lines = []
    # Both memory series, as cAdvisor exports them (the predictor reads the working set by
    # default, container_memory_rss with queries.memoryMetric: rss); the same values here.
    for metric in ("container_memory_working_set_bytes", "container_memory_rss"):
        lines.append("# TYPE %s gauge" % metric)
        for i, (pod, _, level) in enumerate(PODS):
            saw = 20 * MIB * ((t / 17.0 + i * 0.37) % 1.0)
            lab = 'namespace="shop",pod="%s",container="app"' % pod
            lines.append("%s{%s} %d" % (metric, lab, level + saw))
    lines.append("# TYPE container_spec_memory_limit_bytes gauge")
    for pod, _, _ in PODS:
        lab = 'namespace="shop",pod="%s",container="app"' % pod
        lines.append("container_spec_memory_limit_bytes{%s} %d" % (lab, 1024 * MIB))
    lines.append("# TYPE kube_pod_labels gauge")
    for pod, track, _ in PODS:
        half = ',label_half="%s"' % HALF[pod] if pod in HALF else ""
        lines.append('kube_pod_labels{namespace="shop",pod="%s",label_app="cart",label_track="%s"%s} 1'
                     % (pod, track, half))
    return "\n".join(lines) + "\n"


class Exporter(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = exposition().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except Exception as e:  # noqa: BLE001
        return 0, str(e)


def prom_query(base, q):
    status, body = get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    if status != 200:
        return None
    import json
    res = json.loads(body)["data"]["result"]
    return [float(r["value"][1]) for r in res]


def analysis_query(namespace, comparison):
    """The AnalysisTemplate's query with its args filled in, as Argo Rollouts does."""
    text = open(os.path.join(ROOT, "docs", "canary", "argo-analysistemplate.yaml")).read()
    m = re.search(r"query: \|\n\s+(.+)\n", text)
    q = m.group(1).strip()
    return q.replace("{{args.namespace}}", namespace).replace("{{args.comparison}}", comparison)


def wait_for(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.5)
    return None


def main():
    tsdb.require(PRED, "prometheus")
    work = tsdb.tempdir("oomcast-canary-e2e-")
    exporter = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    exp_port = exporter.server_address[1]
    pred_port = tsdb.free_port()
    prom_port = tsdb.free_port()
    prom_url = "http://127.0.0.1:%d" % prom_port
    cfg = os.path.join(work, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pods
    honor_labels: true
    static_configs: [{targets: ["127.0.0.1:%d"]}]
  - job_name: oomcast-predictor
    static_configs: [{targets: ["127.0.0.1:%d"]}]
""" % (exp_port, pred_port))
    prom = tsdb.Proc(["prometheus", "--config.file=" + cfg,
                      "--storage.tsdb.path=" + os.path.join(work, "data"),
                      "--web.listen-address=127.0.0.1:%d" % prom_port],
                     os.path.join(work, "prometheus.log"))
    tsdb.wait_http(prom_url + "/-/ready")
    pcfg = os.path.join(work, "predictor.yaml")
    with open(pcfg, "w") as f:
        f.write("""prometheus:
  url: %s
forecast:
  horizon: 60s
  interval: 1s
  step: 1s
  window: 10m
canary:
  - name: cart
    namespace: shop
    baseline: "app=cart,track=stable"
    canary: "app=cart,track=canary"
    tolerances: {warmup: 0s, window: 30s, growthWindow: 60s, minGrowthSpan: 30s,
                 lookInterval: 5s, minSamples: 5}
  - name: cart-aa
    namespace: shop
    baseline: "app=cart,half=a"
    canary: "app=cart,half=b"
    tolerances: {warmup: 0s, window: 30s, growthWindow: 60s, minGrowthSpan: 30s,
                 lookInterval: 5s, minSamples: 5}
server:
  listenAddress: 127.0.0.1:%d
""" % (prom_url, pred_port))
    pred = tsdb.Proc([PRED, "serve", "--config", pcfg], os.path.join(work, "predictor.log"))
    pred_url = "http://127.0.0.1:%d" % pred_port

    def verdict(name, kind):
        status, body = get(pred_url + "/metrics")
        if status != 200:
            return None
        m = re.search(r'memory_canary_verdict\{namespace="shop",canary="%s",verdict="%s"\} (\S+)'
                      % (name, kind), body)
        return body if m and float(m.group(1)) == 1 else None

    body = wait_for(lambda: verdict("cart", "fail"), 240)
    check("predictor: verdict fail for the canary holding 50 % more", body is not None,
          open(os.path.join(work, "predictor.log")).read()[-600:])
    if body:
        m = re.search(r'memory_canary_effect\{namespace="shop",canary="cart",aspect="level"\} (\S+)',
                      body)
        check("predictor: level effect about +50 %", m and abs(float(m.group(1)) - 0.5) < 0.1,
              m and m.group(1))
        check("predictor: A/A halves of the baseline not failed",
              verdict("cart-aa", "fail") is None)
    q = analysis_query("shop", "cart")
    value = wait_for(lambda: (lambda r: r if r == [1.0] else None)(prom_query(prom_url, q)), 60)
    check("prometheus: the AnalysisTemplate query returns 1 (failureCondition result[0] >= 1)",
          value == [1.0], "%s -> %s" % (q, prom_query(prom_url, q)))
    aa = prom_query(prom_url, analysis_query("shop", "cart-aa"))
    check("prometheus: the A/A comparison's query returns 0", aa == [0.0], aa)
    if CTRL and os.path.exists(CTRL):
        controller_pauses(prom_url)
    else:
        print("SKIPPED (part): no controller binary given; the pause is not checked")
    pred.stop()
    prom.stop()
    exporter.shutdown()
    failed = [n for n, ok in results if not ok]
    print("%d checks, %d failed" % (len(results), len(failed)))
    return 1 if failed else 0


def controller_pauses(prom_url):
    sys.path.insert(0, os.path.join(HERE, "..", "controller"))
    import controller_harness  # noqa: E402
    import kube_standin  # noqa: E402  (on the path through the harness)
    kube_standin.RESOURCES[("oomcast.io", "v1alpha1", "memorycanaries")] = (
        "MemoryCanary", True, True)
    kube_standin.KIND_TO_RESOURCE["MemoryCanary"] = ("oomcast.io", "v1alpha1", "memorycanaries")
    h = controller_harness.Harness(CTRL)
    try:
        h.deployment("shop", "cart", 6)
        h.standin.seed({"apiVersion": "oomcast.io/v1alpha1", "kind": "MemoryCanary",
                        "metadata": {"name": "cart", "namespace": "shop"},
                        "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                               "name": "cart"},
                                 "comparison": "cart", "baseline": "app=cart,track=stable",
                                 "canary": "app=cart,track=canary"}})
        h.start_controller("ctl", "--prometheus-url", prom_url, "--leader-elect=false",
                           "--sync-period", "1s")
        paused = wait_for(lambda: h.standin.get("Deployment", "shop", "cart")["spec"].get("paused"),
                          60)
        check("controller: the Deployment's rollout is paused (spec.paused)", paused is True,
              h.logs())
        mc = h.standin.get("MemoryCanary", "shop", "cart")
        conds = {c["type"]: c for c in mc.get("status", {}).get("conditions", [])}
        check("controller: RolloutPaused=True reason CanaryFailed",
              conds.get("RolloutPaused", {}).get("status") == "True"
              and conds["RolloutPaused"].get("reason") == "CanaryFailed", conds)
        check("controller: Passing=False names the level aspect",
              conds.get("Passing", {}).get("status") == "False"
              and "level +" in conds["Passing"].get("message", ""), conds)
        events = [e for e in h.events("shop") if e.get("reason") == "CanaryFailed"]
        check("controller: one CanaryFailed Warning Event", len(events) == 1
              and events[0].get("type") == "Warning", events)
    finally:
        h.close()


if __name__ == "__main__":
    sys.exit(main())
