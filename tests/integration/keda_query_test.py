#!/usr/bin/env python3
"""Integration: KEDA's prometheus trigger, answered by a running Prometheus that scrapes the
real `oomcast-predictor serve`.

VictoriaMetrics holds live container memory (a feeder writes samples stamped "now" every
second) for namespace `shop`: a leaking `web` pod close to its limit, a steady `web` pod, a
leaking `db-0` (not `web`: the query must not see it), and a leaking `web` pod in another
namespace. The predictor forecasts from it through a fault proxy; a real Prometheus (free
loopback port) scrapes the predictor's /metrics every second with `honor_labels: true`, as the
chart's ServiceMonitor does. The exact `query` of the ScaledObject in
docs/install-next-to-keda.md then goes through Prometheus' HTTP API `/api/v1/query`, which is
what KEDA's prometheus scaler calls:
- it answers one sample, the max risk of shop's `web` containers (checked against the raw
  series Prometheus scraped, evaluated at the same time), above the trigger's threshold;
- when oomcast's forecasts go stale (the proxy fails every TSDB query), the predictor drops its
  forecasts from /metrics, Prometheus marks the series stale on its next scrape, and the query
  answers an empty vector: KEDA's scaler then errors (ignoreNullValues: "false"), so KEDA uses
  the ScaledObject's fallback if set, else the HPA holds; never a scale-down.
Usage: keda_query_test.py PREDICTOR_BINARY"""

import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import tsdb  # noqa: E402
from serve_test import check, finish, get, wait_for  # noqa: E402

PRED = os.path.abspath(sys.argv[1])
MIB = tsdb.MIB
START = time.time() - 600

# (namespace, pod, bytes at START, growth bytes/s); limit 1 GiB for all.
CONTAINERS = [
    ("shop", "web-5d8f7c9b4-k2x7p", 600 * MIB, 400 * 1024),  # Leaking: at risk.
    ("shop", "web-5d8f7c9b4-q9m3z", 300 * MIB, 0),           # Steady.
    ("shop", "db-0", 550 * MIB, 400 * 1024),                 # Not a web pod.
    ("staging", "web-6c7b8d9f5-a1b2c", 550 * MIB, 400 * 1024),  # Another namespace.
]


def samples(t):
    lines = []
    for ns, pod, base, rate in CONTAINERS:
        v = base + rate * (t - START) + (t % 7) * 1024
        lab = 'namespace="%s",pod="%s",container="app"' % (ns, pod)
        lines.append("container_memory_rss{%s} %d %.3f" % (lab, v, t))
        lines.append("container_memory_working_set_bytes{%s} %d %.3f" % (lab, v, t))
        lines.append("container_spec_memory_limit_bytes{%s} %d %.3f" % (lab, 1024 * MIB, t))
    return "\n".join(lines) + "\n"


def doc_scaled_object():
    """The ScaledObject's query and threshold, exactly as docs/install-next-to-keda.md has them."""
    with open(os.path.join(ROOT, "docs", "install-next-to-keda.md")) as f:
        doc = f.read()
    block = re.search(r"```yaml\n(apiVersion: keda\.sh/v1alpha1\nkind: ScaledObject\n.*?)```",
                      doc, re.S)
    if not block:
        raise SystemExit("FAIL: no ScaledObject in docs/install-next-to-keda.md")
    query = re.search(r"^\s+query: (.+)$", block.group(1), re.M).group(1).strip()
    threshold = re.search(r'^\s+threshold: "([^"]+)"', block.group(1), re.M).group(1)
    return query, float(threshold)


def instant(prom, query, at=None):
    """GET /api/v1/query (as KEDA's prometheus scaler does). Returns data.result."""
    params = {"query": query}
    if at is not None:
        params["time"] = "%.3f" % at
    code, body = get(prom + "/api/v1/query?" + urllib.parse.urlencode(params))
    doc = json.loads(body) if code == 200 else {}
    if doc.get("status") != "success":
        raise RuntimeError("query %r: HTTP %d %s" % (query, code, body[:300]))
    return doc["data"]["result"]


def main():
    tsdb.require(PRED, "victoria-metrics", "prometheus")
    query, threshold = doc_scaled_object()
    print("query from docs/install-next-to-keda.md: %s (threshold %g)" % (query, threshold))
    work = tsdb.tempdir("oomcast-keda-")
    pred, purl, stop = tsdb.start_live_predictor(PRED, samples, START, work)
    pred_port = int(pred.rsplit(":", 1)[1])
    check("predictor ready", wait_for(lambda: get(pred + "/readyz")[0] == 200, 30),
          get(pred + "/readyz"))

    # The Prometheus KEDA queries: scrapes oomcast's /metrics like the chart's ServiceMonitor.
    cfg = os.path.join(work, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                "  - job_name: oomcast-predictor\n    honor_labels: true\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % pred_port)
    prom_port = tsdb.free_port()
    prom = "http://127.0.0.1:%d" % prom_port
    tsdb.Proc(["prometheus", "--config.file=" + cfg,
               "--storage.tsdb.path=" + os.path.join(work, "prom-data"),
               "--web.listen-address=127.0.0.1:%d" % prom_port],
              os.path.join(work, "prometheus.log"))
    tsdb.wait_http(prom + "/-/ready")

    web = re.compile(r"web-[a-z0-9]+-[a-z0-9]+")  # The doc's pod=~ (Prometheus anchors it).

    def answered():
        try:
            return len(instant(prom, query)) == 1 and len(instant(prom, "memory_oom_risk")) >= 4
        except RuntimeError:
            return False

    check("Prometheus scraped oomcast's forecasts and the query answers",
          wait_for(answered, 20), instant(prom, "memory_oom_risk"))
    at = time.time()
    result = instant(prom, query, at)
    raw = instant(prom, "memory_oom_risk", at)
    expected = max((float(s["value"][1]) for s in raw
                    if s["metric"].get("namespace") == "shop" and
                    web.fullmatch(s["metric"].get("pod", ""))), default=None)
    leak = [float(s["value"][1]) for s in raw
            if s["metric"].get("pod") == "web-5d8f7c9b4-k2x7p"]
    check("one sample, no labels (max)", len(result) == 1 and result[0]["metric"] == {}, result)
    value = float(result[0]["value"][1]) if result else None
    check("the value is the max risk of shop's web containers, nothing of db-0 or staging",
          expected is not None and value == expected, (value, expected, raw))
    inner = re.fullmatch(r"max\((.*)\)", query)
    selected = instant(prom, inner.group(1), at) if inner else []
    check("its selector picks shop's two web pods only (not db-0, not staging's web pod)",
          sorted((m["metric"]["namespace"], m["metric"]["pod"]) for m in selected) ==
          [("shop", "web-5d8f7c9b4-k2x7p"), ("shop", "web-5d8f7c9b4-q9m3z")] and
          len(raw) == len(CONTAINERS), (selected, raw))
    check("the leaking web container's risk drives it", leak and value == max(leak), (value, leak))
    check("above the trigger's threshold: KEDA scales up (value / threshold > 1)",
          value is not None and value > threshold, value)
    steady = [float(s["value"][1]) for s in raw
              if s["metric"].get("pod") == "web-5d8f7c9b4-q9m3z"]
    check("the steady web container is below it", steady and max(steady) < threshold, steady)

    # oomcast's forecasts go stale: every TSDB query fails.
    urllib.request.urlopen(purl + "/__fault/mode?set=error500", timeout=5).read()
    check("predictor drops its stale forecasts from /metrics",
          wait_for(lambda: "memory_oom_risk{" not in get(pred + "/metrics")[1], 20))
    check("the query answers an empty vector (KEDA: an error, then fallback or hold), never a zero",
          wait_for(lambda: instant(prom, query) == [], 10), instant(prom, query))
    stop.set()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
