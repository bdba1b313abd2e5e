#!/usr/bin/env python3
"""Integration: oomcast-predictor against a real Prometheus 2.42 and a real VictoriaMetrics,
both loaded with the same history.

Checks that `once` gives the same forecasts from both backends, that `backtest --prometheus`
replays and scores the history end to end, and that every TSDB fault gives a precise error
(backend, query, HTTP code, errorType) and a non-zero exit: connection refused, a stalled
(SIGSTOPped) server past the timeout, 500s, malformed, truncated and oversized bodies, and a
slow trickle. Usage: backends_test.py PREDICTOR_BINARY"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import tsdb  # noqa: E402

PRED = os.path.abspath(sys.argv[1])
END = tsdb.T0 + 2 * 3600 - 15
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok)))
    print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail and not ok else ""))


def run(*args, timeout=120):
    p = subprocess.run([PRED] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def once_json(url, *extra):
    code, out, err = run("once", "--prometheus", url, "--at", str(END), "-o", "json",
                         "--stale-after", "5m", *extra)
    if code != 0:
        raise RuntimeError("once against %s failed (%d): %s" % (url, code, err))
    return {(o["namespace"], o["pod"], o["container"]): o
            for o in map(json.loads, out.strip().splitlines())}


def close(a, b, rel):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


def main():
    tsdb.require(PRED, "prometheus", "promtool", "victoria-metrics")
    work = tsdb.tempdir("oomcast-it-")
    om = os.path.join(work, "history.om")
    tsdb.write_openmetrics(tsdb.fixture_series(), om)
    prom, prom_url = tsdb.start_prometheus(om, work)
    vm, vm_url = tsdb.start_victoriametrics(om, work)

    # --- Both backends give the same forecasts.
    p = once_json(prom_url)
    v = once_json(vm_url)
    expected = {("int", c, "app") for c in ("leak", "flat", "gc", "nan", "nolimit")} | {
        ("other", "app", "app")}
    check("prometheus: every container forecast", set(p) == expected, str(sorted(p)))
    check("victoriametrics: every container forecast", set(v) == expected, str(sorted(v)))
    for key in sorted(expected & set(p) & set(v)):
        a, b = p[key], v[key]
        same = (close(a["growth_rate"], b["growth_rate"], 0.05) and
                a["oom_predicted"] == b["oom_predicted"] and close(a["limit"], b["limit"], 1e-9))
        check("backends agree on %s/%s" % key[:2], same, "prometheus=%s vm=%s" % (a, b))
    check("no limit: no ETA, no risk", p[("int", "nolimit", "app")]["eta_seconds"] is None and
          p[("int", "nolimit", "app")]["risk"] == 0)
    check("steady containers are not alarmed",
          not any(p[("int", c, "app")]["oom_predicted"] for c in ("flat", "gc", "nan")))
    check("NaN samples do not break the fit", p[("int", "nan", "app")]["rss"] is not None)
    ns = once_json(prom_url, "--namespace", "other")
    check("--namespace filters on the server", set(ns) == {("other", "app", "app")}, str(ns))

    # --- Table output, sorted by ETA.
    code, out, err = run("once", "--prometheus", prom_url, "--at", str(END))
    check("once prints the table", code == 0 and out.startswith("NAMESPACE") and "RISK" in out,
          err)

    # --- Backtest through the TSDB, kills inferred from the data.
    code, out, err = run("backtest", "--prometheus", prom_url, "--start", str(tsdb.T0 + 1800),
                         "--end", str(END), "--summary-json", timeout=300)
    ok = code == 0
    summary = {}
    if ok:
        summary = json.loads(out.strip().splitlines()[-1])
    check("backtest --prometheus runs and scores", ok and summary.get("episodes_predictable", 0) >= 2,
          "code=%d out=%s err=%s" % (code, out[-400:], err[-400:]))
    check("backtest warns before the fixture's kills", summary.get("recall_5m", 0) > 0, str(summary))

    # --- --namespace scopes the pull and the replay; progress of the pull goes to stderr.
    records = os.path.join(work, "other.jsonl")
    code, out, err = run("backtest", "--prometheus", prom_url, "--start", str(tsdb.T0 + 1800),
                         "--end", str(END), "--namespace", "other", "--records", records,
                         "--summary-json", timeout=300)
    namespaces = set()
    if code == 0:
        with open(records) as f:
            namespaces = {json.loads(line)["namespace"] for line in f}
    check("backtest --prometheus --namespace replays only that namespace",
          code == 0 and namespaces == {"other"}, "code=%d namespaces=%s err=%s" %
          (code, namespaces, err[-400:]))
    progress = [l for l in err.splitlines() if "pulled history" in l]
    check("backtest --prometheus shows the pull's progress on stderr",
          len(progress) >= 2 and progress[-1].rstrip().endswith("queries") and
          progress[-1].split()[-2].split("/")[0] == progress[-1].split()[-2].split("/")[1],
          err[-400:])
    code, out, err = run("backtest", "--help")
    check("backtest --help prints its usage and exits 0",
          code == 0 and "backtest (--openmetrics FILE" in out and "--namespace" in out, err)

    # --- Faults. A refused connection.
    dead = "http://127.0.0.1:%d" % tsdb.free_port()
    code, out, err = run("once", "--prometheus", dead, "--prometheus-max-retries", "0")
    check("connection refused: exit 1 and an unavailable error naming the backend",
          code == 1 and "unavailable" in err and dead in err, err)

    # A stalled server: SIGSTOP Prometheus, the request times out.
    prom.signal(signal.SIGSTOP)
    t = time.time()
    code, out, err = run("once", "--prometheus", prom_url, "--at", str(END),
                         "--prometheus-timeout", "1s", "--prometheus-max-retries", "1")
    took = time.time() - t
    prom.signal(signal.SIGCONT)
    check("stalled backend: deadline_exceeded after the timeout and its retries",
          code == 1 and "deadline_exceeded" in err and took < 20, "%.1fs %s" % (took, err))
    check("backend recovers after SIGCONT", once_json(prom_url).keys() == p.keys())

    # A bad query: 400 bad_data, never retried, errorType in the message.
    code, out, err = run("once", "--prometheus", prom_url, "--memory-query", "rate(",
                         "--at", str(END))
    check("bad query: invalid_argument with HTTP 400 and errorType bad_data",
          code == 1 and "invalid_argument" in err and "400" in err and "bad_data" in err, err)

    # The fault proxy: 500s, malformed, wrong shape, truncated, oversized, trickle.
    proxy_port = tsdb.free_port()
    proxy = tsdb.Proc([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                    "..", "e2e", "fault_proxy.py"),
                       "--port", str(proxy_port), "--upstream", prom_url, "--oversized-mib", "8"],
                      os.path.join(work, "proxy.log"))
    purl = "http://127.0.0.1:%d" % proxy_port
    tsdb.wait_http(purl + "/__fault/stats")
    cfg = os.path.join(work, "cap.yaml")
    with open(cfg, "w") as f:
        f.write("prometheus:\n  maxResponseBytes: 4194304\n")

    def mode(m):
        urllib.request.urlopen(purl + "/__fault/mode?set=" + m, timeout=5).read()

    cases = [
        ("error500", "unavailable", "500"),
        ("malformed", "data_loss", ""),
        ("wrongtype", "", ""),
        ("truncate", "", ""),
        ("oversized", "resource_exhausted", ""),
        ("trickle", "deadline_exceeded", ""),
        ("reset", "unavailable", ""),
    ]
    for m, code_name, http in cases:
        mode(m)
        code, out, err = run("once", "--config", cfg, "--prometheus", purl, "--at", str(END),
                             "--prometheus-timeout", "2s", "--prometheus-max-retries", "1",
                             timeout=60)
        ok = code == 1 and purl in err and (code_name in err) and (http in err)
        check("fault %s: exit 1 with a precise error" % m, ok and "Traceback" not in err,
              "code=%d err=%s" % (code, err.strip()[-300:]))
    mode("pass")
    code, out, err = run("once", "--prometheus", purl, "--at", str(END))
    check("through the proxy again: recovered", code == 0 and "leak" in out, err)

    failed = sum(1 for _, ok in results if not ok)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
