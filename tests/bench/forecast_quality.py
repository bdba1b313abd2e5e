#!/usr/bin/env python3
"""Benchmark: forecast quality on a scenario corpus, through a real Prometheus.

Loads the corpus (default ../shared/data/dev-scenarios, or data/sample) into Prometheus with
promtool, runs `oomcast-predictor backtest --prometheus` over the whole range at a 30 s
evaluation step, and computes the usual alert rule beside it on the same Prometheus:
  predict_linear(container_memory_rss[15m], 900) >= container_spec_memory_limit_bytes
Both alarm streams are scored with the corpus' scorer (tools/score.py, when present) and with
oomcast's own scorer. Not a CTest test: run it by hand and put the numbers in your notes.

usage: forecast_quality.py [--corpus DIR] [--predictor BIN] [--score PATH] [--out DIR]"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import tsdb  # noqa: E402


def prom_range(url, query, start, end, step):
    q = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(url + "/api/v1/query_range?" + q, timeout=300) as r:
        return json.load(r)["data"]["result"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "data", "dev-scenarios"))
    ap.add_argument("--predictor", default=os.path.join(ROOT, "build", "predictor",
                                                        "oomcast-predictor"))
    ap.add_argument("--score", default=os.path.join(ROOT, "..", "shared", "tools", "score.py"))
    ap.add_argument("--out", default="/tmp/oomcast-forecast-quality")
    a = ap.parse_args()
    om_gz = os.path.join(a.corpus, "scenarios.om.gz")
    truth_path = os.path.join(a.corpus, "truth.json")
    if not os.path.exists(om_gz):
        print("SKIPPED: no corpus at %s" % a.corpus)
        return 77
    os.makedirs(a.out, exist_ok=True)
    truth = json.load(open(truth_path))
    start = min(s["start"] for s in truth)
    end = max(s["end"] for s in truth)
    work = tsdb.tempdir("oomcast-fq-")
    om = os.path.join(work, "scenarios.om")
    with gzip.open(om_gz, "rb") as f, open(om, "wb") as g:
        g.write(f.read())
    t = time.time()
    prom, url = tsdb.start_prometheus(om, work)
    print("prometheus loaded in %.1fs: %s" % (time.time() - t, url))

    # oomcast through the TSDB.
    ours = os.path.join(a.out, "oomcast.jsonl")
    t = time.time()
    p = subprocess.run([a.predictor, "backtest", "--prometheus", url, "--start", str(start),
                        "--end", str(end), "--eval-step", "30s", "--truth", truth_path,
                        "--records", ours, "--summary-json"], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr)
        return 1
    print("oomcast backtest through Prometheus: %.1fs" % (time.time() - t))
    own_summary = json.loads(p.stdout.strip().splitlines()[-1])

    # predict_linear, evaluated by the same Prometheus at the same step.
    base = os.path.join(a.out, "predict_linear.jsonl")
    q = ("predict_linear(container_memory_rss[15m], 900) >= on(namespace, pod, container) "
         "container_spec_memory_limit_bytes")
    alarms = {}
    for r in prom_range(url, q, start, end, 30):
        m = r["metric"]
        alarms[(m["namespace"], m["pod"], m["container"])] = {float(ts) for ts, _ in r["values"]}
    with open(base, "w") as f:
        for s in truth:
            key = (s["namespace"], s["pod"], s["container"])
            on = alarms.get(key, set())
            tt = s["start"]
            while tt <= s["end"]:
                f.write(json.dumps({"namespace": key[0], "pod": key[1], "container": key[2],
                                    "t": tt, "oom_predicted": tt in on}) + "\n")
                tt += 30
    rows = []
    for name, path in (("oomcast", ours), ("predict_linear 15m", base)):
        if os.path.exists(a.score):
            out = subprocess.run([sys.executable, a.score, truth_path, path, "--json"],
                                 capture_output=True, text=True, check=True).stdout
            rows.append((name, json.loads(out)))
        if name == "oomcast" and os.path.exists(a.score):
            fam = subprocess.run([sys.executable, a.score, truth_path, path, "--by-family"],
                                 capture_output=True, text=True, check=True).stdout
            print("\noomcast by family (score.py):\n" + fam)
    print("%-20s %9s %9s %11s %9s %14s" % ("rule", "recall15", "recall5", "median_lead",
                                           "precision", "false_eps/day"))
    for name, s in rows:
        print("%-20s %9.3f %9.3f %10.0fs %9.3f %14.3f" % (
            name, s["recall_15m"], s["recall_5m"], s["median_lead_s"], s["precision_points"],
            s["false_alarm_episodes_per_series_day"]))
    print("oomcast's own scorer: recall15=%.3f precision=%.3f false_eps/day=%.3f" % (
        own_summary["recall_15m"], own_summary["precision_points"],
        own_summary["false_alarm_episodes_per_series_day"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
