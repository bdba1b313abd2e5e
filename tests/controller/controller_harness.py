"""Runs oomcast-controller processes against the in-process Kubernetes API stand-in.

Every process is killed at teardown, also when a test fails; every wait is bounded.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE_DIR = os.environ.get("OOMCAST_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support", "kube_standin"))
import kube_standin  # noqa: E402

MIB = 1024 * 1024


def wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Controller:
    def __init__(self, binary, kubeconfig, workdir, name, extra_args):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--kubeconfig", kubeconfig, "--listen-address", "127.0.0.1:0",
             "--log-level", "debug"] + extra_args,
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        m = wait_for(lambda: re.search(r"http_port=(\d+)", self.read_log()), 15,
                     f"{name} to start")
        self.port = int(m.group(1))

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def http(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"{self.name} did not exit within {timeout}s")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


class Harness:
    """One stand-in (HTTPS + bearer token) and any number of controllers."""

    def __init__(self, binary):
        self.binary = binary
        self.workdir = tempfile.mkdtemp(prefix="oomcast-ctl-it-")
        self.standin = kube_standin.StandIn(tls=True, token="it-token", bookmark_interval=0.5)
        self.standin.start()
        self.kubeconfig = self.standin.write_kubeconfig(os.path.join(self.workdir, "kubeconfig"),
                                                        namespace="oomcast-system")
        self.controllers = []

    def start_controller(self, name, *args):
        c = Controller(self.binary, self.kubeconfig, self.workdir, name, list(args))
        self.controllers.append(c)
        return c

    def close(self):
        for c in self.controllers:
            c.close()
        self.standin.stop()

    def logs(self):
        return "\n".join(f"--- {c.name} ---\n{c.read_log()[-4000:]}" for c in self.controllers)

    # ---- seeding ----
    def deployment(self, ns, name, replicas):
        return self.standin.seed({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "app:1"}]}}}})

    def scaler(self, ns, name, target, **spec):
        body = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                "minReplicas": 1, "maxReplicas": 10,
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}}}
        body.update(spec)
        return self.standin.seed({"apiVersion": "oomcast.io/v1alpha1", "kind": "MemoryScaler",
                                  "metadata": {"name": name, "namespace": ns}, "spec": body})

    def forecast(self, ns, app, growth_bps, risk=0.0, eta_by_pod=None):
        items, etas, risks = [], [], []
        for p in self.standin.list("Pod", ns):
            if p["metadata"].get("labels", {}).get("app") != app:
                continue
            labels = {"namespace": ns, "pod": p["metadata"]["name"], "container": "app", "app": app}
            items.append({"labels": labels, "value": growth_bps})
            risks.append({"labels": labels, "value": risk})
            if eta_by_pod and p["metadata"]["name"] in eta_by_pod:
                etas.append({"labels": labels, "value": eta_by_pod[p["metadata"]["name"]]})
        self.standin.set_metric(ns, "memory_growth_rate_bytes_per_second", items)
        self.standin.set_metric(ns, "memory_oom_eta_seconds", etas)
        self.standin.set_metric(ns, "memory_oom_risk", risks)

    def replicas(self, ns, name):
        return self.standin.get("Deployment", ns, name)["spec"]["replicas"]

    def events(self, ns=None):
        return [w["body"] for w in self.standin.writes()
                if w["method"] == "POST" and w["path"].endswith("/events") and w["code"] < 300
                and (ns is None or w["body"]["metadata"]["namespace"] == ns)]

    def lease(self, ns="oomcast-system", name="oomcast-controller"):
        return self.standin.get("Lease", ns, name)
