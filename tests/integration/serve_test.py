#!/usr/bin/env python3
"""Integration: `oomcast-predictor serve` on live data in a real VictoriaMetrics, through a
fault proxy.

A feeder writes samples stamped "now" every second (a leaking container close to its limit and
a steady one). Checks /readyz, /healthz and /metrics while the backend is healthy; then the
proxy fails every query: the forecasts turn stale, /readyz answers 503, the per-container
forecasts disappear from /metrics (absent, never a reassuring value) and the errors are
counted by reason; then the backend returns and everything recovers.
Usage: serve_test.py PREDICTOR_BINARY"""

import os
import re
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tsdb  # noqa: E402

PRED = os.path.abspath(sys.argv[1])
MIB = tsdb.MIB
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok)))
    print("%s %s%s" % ("PASS" if ok else "FAIL", name, (": " + str(detail)[:500]) if not ok else ""))


def finish():
    """Prints the tally of check(); the exit code (1 when any failed)."""
    failed = sum(1 for _, ok in results if not ok)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


def get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except Exception as e:  # noqa: BLE001 - connection refused while starting
        return 0, str(e)


def samples(t):
    """Leak: 200 MiB + 400 KiB/s since start, limit 1 GiB. Steady: 300 MiB, limit 1 GiB."""
    leak = 600 * MIB + 400 * 1024 * (t - START)
    lines = []
    for pod, v in (("leak", leak), ("steady", 300 * MIB + (t % 7) * 1024)):
        lab = 'namespace="live",pod="%s",container="app"' % pod
        lines.append("container_memory_rss{%s} %d %.3f" % (lab, v, t))
        # The default memory series: the working set (as cAdvisor exports beside RSS).
        lines.append("container_memory_working_set_bytes{%s} %d %.3f" % (lab, v, t))
        lines.append("container_spec_memory_limit_bytes{%s} %d %.3f" % (lab, 1024 * MIB, t))
    return "\n".join(lines) + "\n"


def wait_for(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.25)
    return False


START = time.time() - 600


def main():
    tsdb.require(PRED, "victoria-metrics")
    work = tsdb.tempdir("oomcast-serve-")
    base, purl, stop = tsdb.start_live_predictor(PRED, samples, START, work)
    check("healthz answers", wait_for(lambda: get(base + "/healthz")[0] == 200, 20))
    check("ready after the first successful cycle",
          wait_for(lambda: get(base + "/readyz")[0] == 200, 30), get(base + "/readyz"))
    code, metrics = get(base + "/metrics")
    risk = re.search(r'memory_oom_risk\{namespace="live",pod="leak",container="app"\} (\S+)',
                     metrics)
    check("the leaking container is at risk", risk and float(risk.group(1)) >= 0.5, metrics[:800])
    steady = re.search(r'memory_oom_risk\{namespace="live",pod="steady",container="app"\} (\S+)',
                       metrics)
    check("the steady container is not", steady and float(steady.group(1)) < 0.5, metrics[:800])
    rate = re.search(r'memory_growth_rate_bytes_per_second\{namespace="live",pod="leak",'
                     r'container="app"\} (\S+)', metrics)
    check("growth rate near 400 KiB/s", rate and abs(float(rate.group(1)) - 409600) < 0.1 * 409600,
          rate and rate.group(1))
    check("self-metrics exported", "oomcast_cycle_duration_seconds_bucket" in metrics and
          "oomcast_series_tracked 2" in metrics, metrics[-1500:])

    # The backend fails every query.
    urllib.request.urlopen(purl + "/__fault/mode?set=error500", timeout=5).read()
    check("not ready once forecasts are stale",
          wait_for(lambda: get(base + "/readyz")[0] == 503, 20), get(base + "/readyz"))
    code, metrics = get(base + "/metrics")
    check("stale forecasts are absent from /metrics, not zero",
          code == 200 and "memory_oom_risk{" not in metrics and
          "memory_growth_rate_bytes_per_second{" not in metrics, metrics[:600])
    errs = re.search(r'oomcast_query_errors_total\{backend="vm-live",reason="unavailable"\} (\S+)',
                     metrics)
    check("query errors counted by backend and reason", errs and float(errs.group(1)) >= 1,
          metrics[-1500:])
    check("the last successful cycle stays visible",
          re.search(r"oomcast_last_successful_cycle_timestamp_seconds [1-9]", metrics))

    urllib.request.urlopen(purl + "/__fault/mode?set=pass", timeout=5).read()
    check("ready again when the backend returns",
          wait_for(lambda: get(base + "/readyz")[0] == 200, 20), get(base + "/readyz"))
    code, metrics = get(base + "/metrics")
    check("forecasts are back", 'memory_oom_risk{namespace="live",pod="leak"' in metrics)
    with open(os.path.join(work, "predictor.log")) as f:
        log = f.read()
    check("failures were logged with their cause", "forecast cycle failed" in log and
          "HTTP 500" in log, log[-800:])
    stop.set()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
