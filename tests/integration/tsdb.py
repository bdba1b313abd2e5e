"""Real TSDBs for integration tests: Prometheus (history loaded with `promtool tsdb
create-blocks-from openmetrics`) and VictoriaMetrics (`/api/v1/import/prometheus`), each on a
free loopback port in a temporary directory, stopped on exit even when a test fails.

Also a deterministic fixture history in the dev corpus' format (OpenMetrics, seconds)."""

import atexit
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

MIB = 1024 * 1024
T0 = 1767225600  # 2026-01-01T00:00:00Z, like the dev corpus.
SKIP = 77


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError("not ready in %.0fs: %s" % (timeout, url))


class Proc:
    """A child process in its own process group, killed at exit."""

    def __init__(self, argv, log_path, env=None):
        self.log = open(log_path, "w")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True, env=env)
        atexit.register(self.stop)

    def signal(self, sig):
        if self.p.poll() is None:
            os.killpg(self.p.pid, sig)

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGCONT)
                os.killpg(self.p.pid, signal.SIGTERM)
                self.p.wait(timeout=10)
            except Exception:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout=5)
        self.log.close()


def tempdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


def require(*binaries):
    """Exits with SKIP (77) naming what is missing."""
    missing = [b for b in binaries if shutil.which(b) is None and not os.path.exists(b)]
    if missing:
        print("SKIPPED: missing %s (install with scripts/setup.sh)" % ", ".join(missing))
        raise SystemExit(SKIP)


def start_prometheus(openmetrics_path, workdir):
    """Loads `openmetrics_path` into a TSDB and serves it. Returns (Proc, base_url)."""
    data = os.path.join(workdir, "prom-data")
    os.makedirs(data, exist_ok=True)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", openmetrics_path,
                    data], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cfg = os.path.join(workdir, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 15s\nscrape_configs: []\n")
    port = free_port()
    proc = Proc(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + data,
                 "--storage.tsdb.retention.time=100y", "--web.listen-address=127.0.0.1:%d" % port],
                os.path.join(workdir, "prometheus.log"))
    url = "http://127.0.0.1:%d" % port
    wait_http(url + "/-/ready")
    return proc, url


def start_victoriametrics(openmetrics_path, workdir):
    """Starts VictoriaMetrics, imports `openmetrics_path` (if given). Returns (Proc, base_url)."""
    port = free_port()
    proc = Proc(["victoria-metrics", "-storageDataPath=" + os.path.join(workdir, "vm-data"),
                 "-retentionPeriod=100y", "-httpListenAddr=127.0.0.1:%d" % port,
                 "-search.latencyOffset=0s", "-search.disableCache"],
                os.path.join(workdir, "victoriametrics.log"))
    url = "http://127.0.0.1:%d" % port
    wait_http(url + "/health")
    if openmetrics_path:
        with open(openmetrics_path, "rb") as f:
            vm_import(url, f.read())
    return proc, url


def vm_import(url, body):
    req = urllib.request.Request(url + "/api/v1/import/prometheus", data=body, method="POST")
    urllib.request.urlopen(req, timeout=60).read()
    urllib.request.urlopen(url + "/internal/force_flush", timeout=30).read()


def start_live_predictor(predictor, samples, start, workdir):
    """Live data for `oomcast-predictor serve`: VictoriaMetrics with `samples(t)` (text
    exposition lines stamped t) every 5 s from `start` to now, then a feeder importing
    `samples(now)` every second; tests/e2e/fault_proxy.py in front of it; the predictor
    (10 m window, 5 s step, a cycle every second, stale after 4 s, no retries, no pod-labels
    query) on a free port through the proxy. Returns (predictor_url, proxy_url, stop_feeder),
    an Event: set it to stop feeding."""
    vm, vm_url = start_victoriametrics(None, workdir)
    now = time.time()
    vm_import(vm_url, "".join(samples(t) for t in range(int(start), int(now), 5)).encode())
    stop = threading.Event()

    def feed():
        while not stop.is_set():
            try:
                vm_import(vm_url, samples(time.time()).encode())
            except Exception:  # noqa: BLE001 - the next second retries
                pass
            stop.wait(1.0)

    threading.Thread(target=feed, daemon=True).start()
    here = os.path.dirname(os.path.abspath(__file__))
    proxy_port = free_port()
    Proc([sys.executable, os.path.join(here, "..", "e2e", "fault_proxy.py"),
          "--port", str(proxy_port), "--upstream", vm_url], os.path.join(workdir, "proxy.log"))
    purl = "http://127.0.0.1:%d" % proxy_port
    wait_http(purl + "/__fault/stats")
    port = free_port()
    Proc([predictor, "serve", "--prometheus", purl, "--prometheus-name", "vm-live",
          "--listen-address", "127.0.0.1:%d" % port, "--window", "10m", "--step", "5s",
          "--interval", "1s", "--stale-after", "4s", "--prometheus-timeout", "2s",
          "--prometheus-max-retries", "0", "--pod-labels-query", ""],
         os.path.join(workdir, "predictor.log"))
    return "http://127.0.0.1:%d" % port, purl, stop


def fixture_series(start=T0, hours=2.0, step=15.0, seed=7):
    """Deterministic container memory history. Returns {name: (labels, limit, [(t, v)])}.

    leak: linear leak killed at its limit, restarted 10 s later at baseline (twice in 2 h);
    flat: steady with noise; gc: sawtooth (collect every 2 min) without growth; nan: steady with
    NaN samples; nolimit: growth without a limit (limit 0, as cAdvisor reports it);
    other/app: a second namespace."""
    rnd = random.Random(seed)
    n = int(hours * 3600 / step)
    out = {}

    def lab(ns, pod):
        return 'namespace="%s",pod="%s",container="app"' % (ns, pod)

    # Linear leak 250 KiB/s from 200 MiB to a 600 MiB limit: killed every ~27 min.
    pts, v, down_until = [], 200 * MIB, -1
    for i in range(n):
        t = start + i * step
        if t < down_until:
            continue
        v += 250 * 1024 * step + rnd.gauss(0, 1 * MIB)
        if v >= 600 * MIB:
            pts.append((t, 600 * MIB))
            v, down_until = 200 * MIB, t + 10 + step
            continue
        pts.append((t, v))
    out["leak"] = (lab("int", "leak"), 600 * MIB, pts)
    out["flat"] = (lab("int", "flat"), 1024 * MIB,
                   [(start + i * step, 700 * MIB + rnd.gauss(0, 8 * MIB)) for i in range(n)])
    out["gc"] = (lab("int", "gc"), 1024 * MIB,
                 [(start + i * step, 300 * MIB + ((i * step) % 120) / 120 * 250 * MIB)
                  for i in range(n)])
    out["nan"] = (lab("int", "nan"), 1024 * MIB,
                  [(start + i * step, float("nan") if i % 7 == 3 else 400 * MIB + rnd.gauss(0, MIB))
                   for i in range(n)])
    out["nolimit"] = (lab("int", "nolimit"), 0,
                      [(start + i * step, 100 * MIB + 50 * 1024 * i * step) for i in range(n)])
    out["other"] = (lab("other", "app"), 1024 * MIB,
                    [(start + i * step, 500 * MIB + rnd.gauss(0, 4 * MIB)) for i in range(n)])
    return out


def fmt(v):
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return "%.0f" % v


def write_openmetrics(series, path, with_eof=True):
    """Writes the three cAdvisor gauges per container, grouped by family as OpenMetrics wants."""
    with open(path, "w") as f:
        f.write("# TYPE container_memory_rss gauge\n")
        for labels, _, pts in series.values():
            for t, v in pts:
                f.write("container_memory_rss{%s} %s %.3f\n" % (labels, fmt(v), t))
        f.write("# TYPE container_memory_working_set_bytes gauge\n")
        for labels, _, pts in series.values():
            for t, v in pts:
                f.write("container_memory_working_set_bytes{%s} %s %.3f\n" % (labels, fmt(v), t))
        f.write("# TYPE container_spec_memory_limit_bytes gauge\n")
        for labels, limit, pts in series.values():
            for t, _ in pts:
                f.write("container_spec_memory_limit_bytes{%s} %s %.3f\n" % (labels, fmt(limit), t))
        if with_eof:
            f.write("# EOF\n")
