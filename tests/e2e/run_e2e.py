#!/usr/bin/env python3
"""oomcast end-to-end tests against the kernel's real OOM killer.

Usage: run_e2e.py SCENARIO [--workdir DIR] [--predictor BIN] [--adapter BIN] [--controller BIN]
                  [--standin SCRIPT] [--horizon 60] [--threshold 0.5]

Scenarios:
  harness   the harness on its own (cgroups, the OOM killer, the exporter, a real Prometheus,
            the fault proxy), ~30 s; needs none of oomcast's binaries.
  forecast  six workloads (four leaks killed 3-4 minutes in, three shapes that must stay quiet)
            through Prometheus, the predictor, the metrics-adapter (kubectl get --raw) and the
            controller (against the Kubernetes API stand-in): every kill forecast at least one
            horizon ahead, the target scaled up before the kill, no false alarm. ~5 min.
  faults    a leak and two quiet shapes while Prometheus is paused and killed, a fault proxy
            corrupts the predictor's answers and wrk loads the adapter: errors not zeros, the
            controller holds, no crash, flat memory, recovery, the kill still forecast. ~4.5 min.

Exit 0 when every check passed, 1 when one failed, 77 when nothing could run (no writable
memory cgroup, or none of the binaries built); a stage whose binary is missing prints
"SKIPPED: <binary> not built". The report is written to the working directory as
e2e-report.json and e2e-report.txt, and printed.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from e2elib import (SKIP, Harness, Prometheus, Skip, free_port, http_get, log,  # noqa: E402
                    wait_until)
from workloads import (MIB, Workload, WorkloadMonitor, WorkloadSpec, compile_workload,  # noqa: E402
                       standard_set)
import system  # noqa: E402

NAMESPACE = "e2e"


class Checks:
    """Named pass/fail/skip results, printed as they are made."""

    def __init__(self):
        self.results = []

    def check(self, name, ok, detail=""):
        self.results.append({"check": name, "result": "PASS" if ok else "FAIL", "detail": detail})
        log(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")
        return ok

    def skip(self, name, detail):
        self.results.append({"check": name, "result": "SKIPPED", "detail": detail})
        log(f"SKIPPED: {name}: {detail}")

    def failed(self):
        return [r for r in self.results if r["result"] == "FAIL"]

    def passed(self):
        return [r for r in self.results if r["result"] == "PASS"]


class Report:
    def __init__(self, scenario, workdir):
        self.data = {"scenario": scenario, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                    time.gmtime()),
                     "workdir": workdir, "timeline": []}
        self.workdir = workdir

    t_offset = 0.0  # harness time at which the workloads started: the report's time axis

    def event(self, harness, what, t=None, **kw):
        at = harness.now() if t is None else t
        entry = {"t": round(at - self.t_offset, 2), "event": what, "_h": at, **kw}
        self.data["timeline"].append(entry)
        log(f"event t={entry['t']:.1f}s {what} {kw if kw else ''}")

    def write(self, checks, harness):
        for e in self.data["timeline"]:
            e["t"] = round(e.pop("_h") - self.t_offset, 2)
        self.data["timeline"].sort(key=lambda e: e["t"])
        self.data["checks"] = checks.results
        self.data["resources"] = harness.resource_report() if harness else {}
        self.data["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with open(os.path.join(self.workdir, "e2e-report.json"), "w") as f:
            json.dump(self.data, f, indent=2, default=str)
        text = self.render()
        with open(os.path.join(self.workdir, "e2e-report.txt"), "w") as f:
            f.write(text)
        print(text, flush=True)

    def render(self):
        d = self.data
        lines = [f"==== oomcast e2e report: {d['scenario']} ({d['started']} .. {d['finished']})"]
        if d.get("cgroup"):
            lines.append(f"cgroup: {d['cgroup']}")
        if d.get("workloads"):
            lines.append("-- workloads (time axis: seconds since the workloads started)")
            lines.append(f"{'workload':18} {'leak':5} {'limit':>7} {'exit at':>8} {'how':>9} "
                         f"{'oom_kill':>8} {'peakRSS':>8} {'alarm':>7} {'lead':>7} "
                         f"{'kubectl':>8} {'scaled':>7}")
            for w in d["workloads"]:
                def fmt(v, suffix="s"):
                    return "-" if v is None else f"{v:.1f}{suffix}"
                lines.append(
                    f"{w['name']:18} {str(w['leak']):5} {w['limit_bytes'] / MIB:6.0f}M "
                    f"{fmt(w.get('alive_s')):>8} {str(w.get('exit_signal') or 'alive'):>9} "
                    f"{w['cgroup_oom_kill_counter']:>8} {w['peak_rss_bytes'] / MIB:7.1f}M "
                    f"{fmt(w.get('predictor_alarm_s')):>7} {fmt(w.get('predictor_lead_s')):>7} "
                    f"{fmt(w.get('kubectl_lead_s')):>8} {fmt(w.get('scaled_lead_s')):>7}")
            lines.append("   alarm = first poll of the alarm episode that lasted until the kill "
                         "(risk >= threshold); lead = kill - alarm; kubectl/scaled = seconds "
                         "before the kill")
        if d.get("false_alarms") is not None:
            lines.append(f"-- false alarms: {json.dumps(d['false_alarms'])}")
        if d.get("timeline"):
            lines.append("-- timeline")
            for e in d["timeline"]:
                extra = {k: v for k, v in e.items() if k not in ("t", "event")}
                lines.append(f"  {e['t']:8.1f}s  {e['event']} {json.dumps(extra) if extra else ''}")
        for key in ("faults", "wrk", "predictor_rss", "outages"):
            if d.get(key):
                lines.append(f"-- {key}: {json.dumps(d[key], default=str)}")
        if d.get("resources"):
            lines.append("-- resource use (peak RSS, CPU seconds)")
            for name, r in sorted(d["resources"].items()):
                if name.startswith("workload-"):
                    continue
                lines.append(f"  {name:20} peak {r['peak_rss_bytes'] / MIB:8.1f} MiB  "
                             f"cpu {r['cpu_seconds']:7.2f} s  instances {r['instances']}")
        checks = d.get("checks", [])
        npass = sum(1 for c in checks if c["result"] == "PASS")
        nfail = sum(1 for c in checks if c["result"] == "FAIL")
        nskip = sum(1 for c in checks if c["result"] == "SKIPPED")
        lines.append("-- checks")
        for c in checks:
            lines.append(f"  {c['result']:7} {c['check']}: {c['detail']}")
        lines.append(f"e2e {d['scenario']}: {npass} passed, {nfail} failed, {nskip} skipped")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Shared setup


class Env:
    """What every scenario starts: cgroups, the workload binary, the exporter, Prometheus."""

    def __init__(self, harness, report):
        self.harness = harness
        self.report = report
        self.driver = harness.cgroup_driver()  # raises Skip
        report.data["cgroup"] = f"v{self.driver.version} at {self.driver.parent}"
        log(f"memory cgroups: v{self.driver.version}, parent {self.driver.parent}")
        self.workload_bin = compile_workload(HERE, harness.workdir)
        self.targets_path = os.path.join(harness.workdir, "targets.json")
        with open(self.targets_path, "w") as f:
            f.write("[]")
        self.exporter_port = free_port()
        self.exporter = harness.spawn("exporter", [sys.executable, os.path.join(HERE, "exporter.py"),
                                                   "--port", str(self.exporter_port),
                                                   "--targets", self.targets_path])
        wait_until(lambda: http_get(f"http://127.0.0.1:{self.exporter_port}/metrics",
                                    timeout=1)[0] == 200 or not self.exporter.alive(), 20,
                   what="exporter")
        self.prometheus = Prometheus(harness, [f"127.0.0.1:{self.exporter_port}"])
        self.prometheus.start()
        log(f"Prometheus at {self.prometheus.url} scraping the exporter every 1s")
        self.workloads = []
        self.monitor = None

    def start_workloads(self, specs):
        self.t_start = self.harness.now()
        self.report.t_offset = self.t_start
        self.workloads = [Workload(self.harness, s, self.workload_bin, NAMESPACE) for s in specs]
        self.monitor = WorkloadMonitor(self.harness, self.workloads, self.targets_path)
        self.monitor.start()
        self.report.event(self.harness, "workloads started",
                          names=[w.spec.name for w in self.workloads])

    def rel(self, t):
        """Harness time -> seconds since the workloads started."""
        return None if t is None else round(t - self.t_start, 2)

    def stop_monitor(self):
        if self.monitor:
            self.monitor.stop_event.set()
            self.monitor.join(timeout=5)


def find_kubectl():
    for c in (shutil.which("kubectl"), "/usr/bin/kubectl", "/usr/local/bin/kubectl"):
        if c and os.path.exists(c):
            return c
    return None


def binary_or_none(path):
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


# ---------------------------------------------------------------------------------------------
# Scenario: the harness on its own


def scenario_harness(harness, args, report, checks):
    env = Env(harness, report)
    specs = [
        WorkloadSpec("fast-leak", "steady", 32, True, 10, base_mib=4, rate_mib=3, jitter_mib=0),
        WorkloadSpec("quiet", "plateau", 64, False, None, base_mib=8, plateau_mib=16, tau_s=1,
                     jitter_mib=0),
        WorkloadSpec("gc", "sawtooth", 64, False, None, base_mib=8, amp_mib=16, period_s=2,
                     jitter_mib=0),
    ]
    env.start_workloads(specs)
    leak = env.workloads[0]
    wait_until(lambda: leak.exit_time is not None, 30, what="the fast leak to be killed")
    s = leak.summary()
    checks.check("kernel OOM-killed the leak", leak.killed_by_oom,
                 f"exit {s['exit_signal']}, cgroup oom_kill={s['cgroup_oom_kill_counter']}, "
                 f"after {s['alive_s']}s, peak RSS {s['peak_rss_bytes'] / MIB:.1f} MiB of 32 MiB")
    time.sleep(4)  # a few scrapes
    prom = env.prometheus
    rss = prom.query('container_memory_rss{namespace="e2e",pod="quiet-0"}') or []
    limit = prom.query('container_spec_memory_limit_bytes{namespace="e2e",pod="quiet-0"}') or []
    ws = prom.query('container_memory_working_set_bytes{namespace="e2e",pod="quiet-0"}') or []
    cg_rss = env.workloads[1].cgroup.stats()["rss"]
    checks.check("Prometheus scrapes cAdvisor-named series",
                 len(rss) == 1 and len(limit) == 1 and len(ws) == 1
                 and abs(float(rss[0]["value"][1]) - cg_rss) < 4 * MIB
                 and float(limit[0]["value"][1]) == 64 * MIB
                 and float(rss[0]["value"][1]) > 16 * MIB,
                 f"rss={rss[0]['value'][1] if rss else None} (cgroup {cg_rss}), "
                 f"limit={limit[0]['value'][1] if limit else None}, "
                 f"working_set={ws[0]['value'][1] if ws else None}")
    seen = prom.query('max_over_time(container_memory_rss{pod="fast-leak-0"}[2m])') or []
    now = prom.query('container_memory_rss{pod="fast-leak-0"}') or []
    checks.check("a killed container's series ends (left dead, like cAdvisor)",
                 len(seen) == 1 and float(seen[0]["value"][1]) > 16 * MIB and not now,
                 f"max over 2m={seen[0]['value'][1] if seen else None}, now={now}")
    labels = prom.query('kube_pod_labels{pod="quiet-0"}') or []
    checks.check("kube_pod_labels exported", len(labels) == 1
                 and labels[0]["metric"].get("label_app") == "quiet", str(labels[:1]))

    # The fault proxy, mode by mode, against the real Prometheus.
    port = free_port()
    proxy = harness.spawn("fault-proxy", [sys.executable, os.path.join(HERE, "fault_proxy.py"),
                                          "--port", str(port), "--upstream", prom.url,
                                          "--oversized-mib", "8"])
    purl = f"http://127.0.0.1:{port}"
    wait_until(lambda: http_get(purl + "/__fault/stats", timeout=1)[0] == 200, 20,
               what="fault proxy")
    q = "/api/v1/query?query=container_memory_rss"

    def through(mode, timeout=3.0):
        http_get(purl + f"/__fault/mode?set={mode}", timeout=2)
        return http_get(purl + q, timeout=timeout)

    def is_json(body):
        try:
            return json.loads(body).get("status") == "success"
        except ValueError:
            return False

    st, body, _ = through("pass")
    checks.check("proxy pass forwards", st == 200 and is_json(body), f"status {st}")
    st, body, _ = through("truncate")
    checks.check("proxy truncate cuts the body", st is None or not is_json(body),
                 f"status {st}: {body[:80]!r}")
    st, body, _ = through("malformed")
    checks.check("proxy malformed is not JSON", st == 200 and not is_json(body), f"status {st}")
    st, body, _ = through("wrongtype")
    checks.check("proxy wrongtype has the wrong shape",
                 st == 200 and not isinstance(json.loads(body)["data"]["result"], list),
                 f"status {st}")
    st, body, _ = through("oversized")
    checks.check("proxy oversized is large valid JSON", st == 200 and len(body) == 8 * MIB
                 and is_json(body), f"status {st}, {len(body)} bytes")
    http_get(purl + "/__fault/mode?set=trickle", timeout=2)
    got, complete = raw_get_for(port, q, 2.5)
    checks.check("proxy trickle dribbles a byte at a time", 0 < got < 16 and not complete,
                 f"{got} body bytes in 2.5s, complete={complete}")
    st, body, _ = through("error500")
    checks.check("proxy error500", st == 500, f"status {st}")
    st, body, _ = through("reset")
    checks.check("proxy reset", st is None, f"{body[:60]!r}")
    http_get(purl + "/__fault/mode?set=pass", timeout=2)
    stats = json.loads(http_get(purl + "/__fault/stats", timeout=2)[1])
    report.data["faults"] = stats["requests"]

    # Prometheus kill / restart / pause, as the fault scenario does it.
    prom.pause()
    st, _, el = http_get(prom.url + "/api/v1/query?query=up", timeout=1.5)
    prom.resume()
    checks.check("a paused Prometheus times queries out", st is None and el >= 1.4,
                 f"status {st} after {el:.1f}s")
    prom.kill()
    st, _, _ = http_get(prom.url + "/-/ready", timeout=1)
    prom.start()
    after = wait_until(lambda: prom.query('container_memory_rss{pod="quiet-0"}'), 20,
                       what="scrapes after restart")
    checks.check("Prometheus killed and restarted on the same storage", st is None and after,
                 f"down: {st}, after restart: {len(after)} series")
    env.stop_monitor()
    report.data["workloads"] = [w.summary() for w in env.workloads]
    check_cgroup_parsing(harness, checks)


def check_cgroup_parsing(harness, checks):
    """The exporter's reading of both cgroup versions' files, on fake trees (this machine
    mounts only one of them with the memory controller)."""
    from e2elib import Cgroup, CgroupDriver
    files = {
        1: {"memory.stat": "rss 100\ninactive_file 7\ntotal_rss 123\ntotal_inactive_file 10\n",
            "memory.usage_in_bytes": "200\n", "memory.limit_in_bytes": "4096\n",
            "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"},
        2: {"memory.stat": "anon 123\nfile 50\ninactive_file 10\n", "memory.current": "200\n",
            "memory.max": "4096\n", "memory.events": "low 0\nhigh 0\nmax 9\noom 3\noom_kill 2\n"},
    }
    for version, content in files.items():
        path = os.path.join(harness.workdir, f"fake-cgroup-v{version}", "pod")
        os.makedirs(path, exist_ok=True)
        for name, text in content.items():
            with open(os.path.join(path, name), "w") as f:
                f.write(text)
        got = Cgroup(CgroupDriver(version, os.path.dirname(path)), path).stats()
        want = {"rss": 123, "usage": 200, "working_set": 190, "limit": 4096, "oom_kill": 2}
        checks.check(f"cgroup v{version} files read as cAdvisor does", got == want,
                     f"got {got}")


def raw_get_for(port, path, seconds):
    """GET over a raw socket for a fixed time: (body bytes received, whether it completed)."""
    import socket
    deadline = time.monotonic() + seconds
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return len(body), length > 0 and len(body) >= length


# ---------------------------------------------------------------------------------------------
# The system scenarios


class System:
    """Starts whichever of oomcast's binaries are built; records which stages are skipped."""

    def __init__(self, env, args, checks, prometheus_url_for_predictor=None):
        self.env = env
        self.args = args
        self.checks = checks
        h = env.harness
        self.predictor_bin = binary_or_none(args.predictor)
        self.adapter_bin = binary_or_none(args.adapter)
        self.controller_bin = binary_or_none(args.controller)
        self.kubectl = find_kubectl()
        self.predictor = self.adapter = self.controller = self.standin = None
        self.pollers = []
        for name, b in (("oomcast-predictor", self.predictor_bin),
                        ("oomcast-metrics-adapter", self.adapter_bin),
                        ("oomcast-controller", self.controller_bin)):
            if not b:
                print(f"SKIPPED: {name} not built", flush=True)
                checks.skip(f"stage {name}", "not built")
        if not (self.predictor_bin or self.adapter_bin):
            raise Skip("neither oomcast-predictor nor oomcast-metrics-adapter is built")
        horizon = args.horizon
        if self.predictor_bin:
            self.predictor = system.Predictor(
                h, self.predictor_bin, prometheus_url_for_predictor or env.prometheus.url, horizon,
                extra=["--namespace", NAMESPACE, *getattr(args, "predictor_extra", [])])
            self.predictor.wait_healthy()
        if self.adapter_bin:
            self.pki = system.Pki(os.path.join(h.workdir, "pki"))
            self.adapter = system.Adapter(h, self.adapter_bin, env.prometheus.url, horizon,
                                          self.pki, NAMESPACE)
            self.wrk_headers = self.adapter.wrk_headers
            self.adapter.wait_healthy()
            self.kubeconfig = self.pki.kubeconfig(os.path.join(h.workdir, "adapter.kubeconfig"),
                                                  self.adapter.url)
            if not self.kubectl:
                checks.skip("kubectl get --raw", "kubectl not found")
        if self.controller_bin and self.adapter and os.path.exists(args.standin):
            self.standin = system.StandIn(h, args.standin)
        elif self.controller_bin:
            checks.skip("stage oomcast-controller", "needs the metrics-adapter and the stand-in")

    def start_controller(self, specs, replicas=None, deferred=()):
        """One Deployment (2 replicas unless `replicas` names another count) and one
        MemoryScaler per workload, except those named in `deferred` (see add_scaler)."""
        if not self.standin:
            return
        for s in specs:
            self.standin.seed(system.deployment(NAMESPACE, s.name, (replicas or {}).get(s.name, 2),
                                                s.labels))
            if s.name not in deferred:
                self.add_scaler(s)
        kubeconfig = self.standin.client_kubeconfig(
            os.path.join(self.env.harness.workdir, "controller.kubeconfig"), self.pki, NAMESPACE)
        self.controller = system.Controller(self.env.harness, self.controller_bin, kubeconfig,
                                            self.adapter)
        self.controller.wait_healthy()

    def add_scaler(self, spec, extra=None):
        """Creates the MemoryScaler of a workload (min 1, max 10, the run's horizon); `extra`
        overrides spec fields."""
        self.standin.seed(system.memory_scaler(NAMESPACE, spec.name, spec.name, 1, 10,
                                               self.args.horizon, spec.labels, extra))

    def start_pollers(self):
        h = self.env.harness
        if self.predictor:
            self.ppoll = system.PredictorPoller(h, self.predictor.url, self.args.threshold,
                                                NAMESPACE)
            self.pollers.append(self.ppoll)
        if self.adapter and self.kubectl:
            self.kpoll = system.KubectlPoller(h, self.kubectl, self.kubeconfig, NAMESPACE,
                                              self.args.threshold)
            self.pollers.append(self.kpoll)
        if self.standin:
            self.spoll = system.StandInPoller(h, self.standin, NAMESPACE)
            self.pollers.append(self.spoll)
        for p in self.pollers:
            p.start()

    def stop_pollers(self):
        system.stop_pollers(self.pollers)

    def processes_alive(self):
        """Names of oomcast binaries that died during the run."""
        dead = []
        for name, part in (("oomcast-predictor", self.predictor),
                           ("oomcast-metrics-adapter", self.adapter),
                           ("oomcast-controller", self.controller)):
            if part and not part.proc.alive():
                dead.append(f"{name} ({system.signal_name(part.proc.returncode())})")
        return dead


def sustained_alarm_start(track, until):
    """Start of the last run of consecutive alarm polls that lasted to `until` (the kill), or
    None when the container was not in alarm at its last poll before the kill."""
    start = None
    for t, risk, _ in track.samples:
        if t > until:
            break
        if risk is not None and risk >= track_threshold(track):
            if start is None:
                start = t
        else:
            start = None
    return start


def track_threshold(track):
    return track.threshold if hasattr(track, "threshold") else 0.5


def replicas_rel(env, sysm, name):
    return [(env.rel(t), r) for t, r in sysm.spoll.replicas.get(name, [])]


# Seconds the pipeline may take to alarm after a TSDB outage ends: the scrape, the predictor's
# cycle (2 s) and fetch of the gap, the persistence check, the poll (1 s), with margin.
RECOVERY_S = 15.0


def evaluate_workloads(env, sysm, checks, report, horizon, require_lead=True):
    """The forecast checks for every workload; returns the report rows."""
    rows = []
    rel = env.rel
    false_alarms = {}
    for w in env.workloads:
        row = w.summary()
        row["start_s"] = rel(w.start_time)
        key = w.key()
        kill_t = w.exit_time  # harness time
        ptrack = sysm.ppoll.tracks.get(key) if sysm.predictor else None
        ktrack = sysm.kpoll.tracks.get(w.pod) if sysm.adapter and sysm.kubectl else None
        for tr in (ptrack, ktrack):
            if tr is not None:
                tr.threshold = sysm.args.threshold
        if w.spec.leak:
            checks.check(f"{w.spec.name}: killed by the kernel's OOM killer", w.killed_by_oom,
                         f"exit {row['exit_signal']}, cgroup oom_kill={w.oom_kills}, "
                         f"after {row['alive_s']}s (expected ~{w.spec.expected_kill_s}s)")
            if w.spec.params.get("store") == "shm":
                # The point of the tmpfs leak: the kernel kills on memory RSS never shows.
                checks.check(f"{w.spec.name}: the leak is invisible in RSS (tmpfs)",
                             w.peak_rss < 0.25 * w.spec.limit_mib * MIB,
                             f"peak RSS {w.peak_rss / MIB:.1f} of {w.spec.limit_mib} MiB, peak "
                             f"working set {w.peak_working_set / MIB:.1f} MiB")
            if kill_t is None:
                rows.append(row)
                continue
            if ptrack is not None:
                first = ptrack.first_alarm
                sustained = sustained_alarm_start(ptrack, kill_t)
                row["predictor_first_alarm_s"] = rel(first)
                row["predictor_alarm_s"] = rel(sustained)
                row["predictor_lead_s"] = None if sustained is None else round(kill_t - sustained, 2)
                row["predictor_first_lead_s"] = None if first is None else round(kill_t - first, 2)
                last_eta = [s for s in ptrack.samples if s[0] <= kill_t and s[2] is not None]
                row["predictor_eta_at_alarm"] = next(
                    (s[2] for s in ptrack.samples if sustained is not None and s[0] >= sustained),
                    None)
                row["predictor_last_eta_s"] = last_eta[-1][2] if last_eta else None
                if require_lead:
                    lead = row["predictor_lead_s"]
                    need = horizon - sysm.args.lead_tolerance
                    why = (f"horizon {horizon}s less {sysm.args.lead_tolerance:g}s of pipeline "
                           f"latency")
                    # A TSDB outage over the time the alarm was due (kill - need .. kill) leaves
                    # nothing to forecast from: then the alarm must come within RECOVERY_S of
                    # the backend's return, still before the kill.
                    kill_rel = rel(kill_t)
                    for o in report.data.get("outages", []):
                        if o["from_s"] < kill_rel and o["to_s"] > kill_rel - need:
                            need = min(need, kill_rel - (o["to_s"] + RECOVERY_S))
                            why = (f"TSDB {o['kind']} {o['from_s']}..{o['to_s']}s over the time "
                                   f"the alarm was due: within {RECOVERY_S:g}s of its return")
                    checks.check(
                        f"{w.spec.name}: predictor forecast the kill >= one horizon ahead "
                        f"(or right after an outage)",
                        lead is not None and lead >= max(need, 0.001),
                        f"alarm at {row['predictor_alarm_s']}s, killed at {kill_rel}s, lead "
                        f"{lead}s (need >= {need:g}s: {why}; first alarm lead "
                        f"{row['predictor_first_lead_s']}s, max risk {ptrack.max_risk:.2f})")
            elif sysm.predictor:
                checks.check(f"{w.spec.name}: predictor forecast the kill", False,
                             "no forecast series for this container at any poll")
            if sysm.adapter and sysm.kubectl:
                first = ktrack.first_alarm if ktrack else None
                sustained = sustained_alarm_start(ktrack, kill_t) if ktrack else None
                row["kubectl_alarm_s"] = rel(sustained)
                row["kubectl_lead_s"] = None if sustained is None else round(kill_t - sustained, 2)
                checks.check(f"{w.spec.name}: kubectl get --raw showed the risk before the kill",
                             sustained is not None and sustained < kill_t,
                             f"risk >= {sysm.args.threshold} through the adapter from "
                             f"{rel(sustained)}s (first {rel(first)}s), killed at {rel(kill_t)}s, "
                             f"lead {row['kubectl_lead_s']}s")
            if sysm.standin and sysm.controller:
                rise = sysm.spoll.first_rise(w.spec.name)
                row["scaled_at_s"] = rel(rise)
                row["scaled_lead_s"] = None if rise is None else round(kill_t - rise, 2)
                checks.check(f"{w.spec.name}: controller scaled the target up before the kill",
                             rise is not None and rise < kill_t,
                             f"replicas (t, n) {replicas_rel(env, sysm, w.spec.name)}, "
                             f"killed at {rel(kill_t)}s, lead {row['scaled_lead_s']}s")
        else:
            checks.check(f"{w.spec.name}: not killed", w.exit_time is None,
                         f"peak RSS {w.peak_rss / MIB:.1f} of {w.spec.limit_mib} MiB, "
                         f"state {row['exit_signal'] or 'running'}")
            fa = {}
            if ptrack is not None:
                fa["predictor_alarm_polls"] = ptrack.alarm_polls
                fa["predictor_polls"] = ptrack.polls
                fa["predictor_max_risk"] = round(ptrack.max_risk, 3)
                checks.check(f"{w.spec.name}: no predictor alarm at any poll",
                             ptrack.alarm_polls == 0 and ptrack.polls > 30,
                             f"{ptrack.alarm_polls} of {ptrack.polls} polls >= "
                             f"{sysm.args.threshold}, max risk {ptrack.max_risk:.3f}")
            elif sysm.predictor:
                checks.check(f"{w.spec.name}: forecast at all", False, "no series at any poll")
            if ktrack is not None:
                fa["kubectl_alarm_polls"] = ktrack.alarm_polls
                fa["kubectl_polls"] = ktrack.polls
                checks.check(f"{w.spec.name}: no alarm through kubectl", ktrack.alarm_polls == 0,
                             f"{ktrack.alarm_polls} of {ktrack.polls} polls, max risk "
                             f"{ktrack.max_risk:.3f}")
            if sysm.standin and sysm.controller:
                rise = sysm.spoll.first_rise(w.spec.name)
                fa["scaled_up_at_s"] = rel(rise)
                checks.check(f"{w.spec.name}: controller did not scale it", rise is None,
                             f"replicas (t, n) {replicas_rel(env, sysm, w.spec.name)}")
            false_alarms[w.spec.name] = fa
        for name, tr in (("predictor_trace", ptrack), ("kubectl_trace", ktrack)):
            if tr is not None:  # every 2nd poll: (t, risk, eta) for diagnosis
                row[name] = [(rel(t), r if r is None else round(r, 3),
                              e if e is None else round(e, 1)) for t, r, e in tr.samples[::2]]
        rows.append(row)
    report.data["workloads"] = rows
    report.data["false_alarms"] = false_alarms
    return rows


def run_until_kills(env, sysm, deadline_s, extra_s=5, on_tick=None):
    """Waits until every leak is dead (plus extra_s) or deadline_s after the workloads started;
    fails fast when an oomcast binary dies."""
    h = env.harness
    done_at = None
    while h.now() - env.t_start < deadline_s:
        if on_tick:
            on_tick(h.now() - env.t_start)
        if env.monitor.all_done():
            done_at = done_at or h.now()
            if h.now() - done_at >= extra_s:
                break
        time.sleep(0.5)


def scenario_forecast(harness, args, report, checks):
    env = Env(harness, report)
    sysm = System(env, args, checks)
    specs = standard_set()
    sysm.start_controller(specs)
    report.event(harness, "system up", predictor=bool(sysm.predictor),
                 adapter=bool(sysm.adapter), controller=bool(sysm.controller))
    env.start_workloads(specs)
    sysm.start_pollers()
    last_kill = max(s.expected_kill_s for s in specs if s.leak)
    run_until_kills(env, sysm, deadline_s=last_kill + 75)
    sysm.stop_pollers()
    env.stop_monitor()
    for e in env.monitor.events:
        report.event(harness, f"{e['workload']} exited", t=e["t"], code=e["code"],
                     oom_kill=e["oom_kill"])
    dead = sysm.processes_alive()
    checks.check("oomcast binaries alive through the run", not dead, ", ".join(dead) or "all up")
    evaluate_workloads(env, sysm, checks, report, args.horizon)
    if sysm.controller:
        report.data["replicas"] = {k: [(env.rel(t), r) for t, r in v]
                                   for k, v in sysm.spoll.replicas.items()}
        report.data["scaler_conditions"] = {k: [(env.rel(t), c) for t, c in v]
                                            for k, v in sysm.spoll.conditions.items()}


# ---------------------------------------------------------------------------------------------


def scenario_faults(harness, args, report, checks):
    import faults  # the fault schedule lives in its own module
    faults.run(harness, args, report, checks, Env, System, NAMESPACE, evaluate_workloads)


SCENARIOS = {"harness": scenario_harness, "forecast": scenario_forecast, "faults": scenario_faults}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--predictor", default=None)
    ap.add_argument("--adapter", default=None)
    ap.add_argument("--controller", default=None)
    ap.add_argument("--standin", default=os.path.join(HERE, "..", "support", "kube_standin",
                                                      "kube_standin.py"))
    ap.add_argument("--horizon", type=float, default=60.0)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--adapter-p99-ms", type=float, default=1000.0,
                    help="p99 above this under wrk is a stall (not a speed target)")
    # An alarm can only be seen after a scrape (1 s), a forecast cycle (2 s) and a poll (1 s):
    # the lead must reach the horizon less this, as the corpus' recall@15m counts 870 of 900 s.
    ap.add_argument("--lead-tolerance", type=float, default=4.0)
    args = ap.parse_args()
    args.horizon = int(args.horizon)
    workdir = os.path.abspath(args.workdir or os.path.join(os.getcwd(), f"e2e-{args.scenario}"))
    if os.path.isdir(workdir):
        shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir, exist_ok=True)

    def on_signal(signum, _frame):
        raise SystemExit(f"interrupted by {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    report = Report(args.scenario, workdir)
    checks = Checks()
    harness = None
    rc = 1
    try:
        harness = Harness(workdir)
        log(f"scenario {args.scenario}, workdir {workdir}")
        SCENARIOS[args.scenario](harness, args, report, checks)
        rc = 1 if checks.failed() else (0 if checks.passed() else SKIP)
    except Skip as e:
        print(f"SKIPPED: {e}", flush=True)
        checks.skip(args.scenario, str(e))
        rc = 0 if checks.passed() and not checks.failed() else SKIP
        if checks.failed():
            rc = 1
    except BaseException as e:  # noqa: BLE001 - report, clean up, fail
        traceback.print_exc()
        checks.check("scenario ran to the end", False, f"{type(e).__name__}: {e}")
        rc = 1
        if harness:
            for p in harness.procs:
                if not p.name.startswith("workload-"):
                    log(f"--- last lines of {p.name} ({system.signal_name(p.returncode())}):\n"
                        f"{p.tail(15)}")
    finally:
        if harness:
            harness.close()
            parent = harness.cgroups.parent if harness.cgroups else None
            if parent and os.path.exists(parent):
                checks.check("cgroups removed", False, f"{parent} still exists")
        report.write(checks, harness)
    sys.exit(rc)


if __name__ == "__main__":
    main()
