"""The oomcast system under test, started for real: certificates, the predictor, the
metrics-adapter, the Kubernetes API stand-in and the controller; and the pollers that record
what each of them said, once a second, for the report."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error

from e2elib import (free_port, http_get, log, parse_prometheus_text, tls_context_no_verify,
                    wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
RISK = "memory_oom_risk"
ETA = "memory_oom_eta_seconds"
GROWTH = "memory_growth_rate_bytes_per_second"


def run(argv, timeout=60, **kw):
    return subprocess.run(argv, capture_output=True, timeout=timeout, **kw)


def help_text(binary, args=("--help",)):
    """The binary's --help output (stdout + stderr), to adapt to the flags it really has."""
    try:
        p = run([binary, *args], timeout=10)
        return (p.stdout + p.stderr).decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return ""


def parse_quantity(text):
    """A Kubernetes quantity ('1500m', '12Mi', '1e3', '3') as a float."""
    m = re.fullmatch(r"([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)", text.strip())
    if not m:
        raise ValueError(f"not a quantity: {text!r}")
    number, suffix = float(m.group(1)), m.group(2)
    scale = {"": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
             "P": 1e15, "E": 1e18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
             "Pi": 2**50, "Ei": 2**60}
    if suffix not in scale:
        raise ValueError(f"unknown quantity suffix in {text!r}")
    return number * scale[suffix]


# ---------------------------------------------------------------------------------------------
# Certificates: one CA signs the adapter's serving certificate and the clients' certificates.


class Pki:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca_key = self._p("ca.key")
        self.ca_crt = self._p("ca.crt")
        self.server_key = self._p("adapter.key")
        self.server_crt = self._p("adapter.crt")
        self.client_key = self._p("client.key")
        self.client_crt = self._p("client.crt")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run(["openssl", "req", "-x509", *ec, "-keyout", self.ca_key, "-out", self.ca_crt,
             "-days", "2", "-subj", "/CN=oomcast-e2e-ca"], check=True)
        self._leaf("adapter", "/CN=oomcast-metrics-adapter",
                   "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        self._leaf("client", "/O=system:masters/CN=e2e-admin", "extendedKeyUsage=clientAuth\n")

    def _p(self, name):
        return os.path.join(self.dir, name)

    def _leaf(self, name, subject, ext):
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        csr = self._p(f"{name}.csr")
        extfile = self._p(f"{name}.ext")
        with open(extfile, "w") as f:
            f.write(ext)
        run(["openssl", "req", "-new", *ec, "-keyout", self._p(f"{name}.key"), "-out", csr,
             "-subj", subject], check=True)
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey", self.ca_key,
             "-CAcreateserial", "-out", self._p(f"{name}.crt"), "-days", "2", "-extfile",
             extfile], check=True)

    def kubeconfig(self, path, server):
        with open(path, "w") as f:
            f.write("\n".join([
                "apiVersion: v1", "kind: Config", "current-context: adapter",
                "clusters:", "- name: adapter", "  cluster:", f"    server: {server}",
                f"    certificate-authority: {self.ca_crt}",
                "users:", "- name: e2e-admin", "  user:",
                f"    client-certificate: {self.client_crt}",
                f"    client-key: {self.client_key}",
                "contexts:", "- name: adapter", "  context:", "    cluster: adapter",
                "    user: e2e-admin", "    namespace: e2e", ""]))
        return path


# ---------------------------------------------------------------------------------------------
# The binaries


class Predictor:
    def __init__(self, harness, binary, prometheus_url, horizon_s, name="predictor", extra=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [binary, "serve", "--prometheus", prometheus_url,
                "--listen-address", f"127.0.0.1:{self.port}",
                "--horizon", f"{horizon_s}s", "--interval", "2s", "--window", "10m",
                "--step", "1s", "--stale-after", "10s", "--prometheus-timeout", "3s",
                "--prometheus-max-retries", "0", *extra]
        self.proc = harness.spawn(name, argv, resource_name=name)

    def wait_healthy(self, timeout=30):
        wait_until(lambda: http_get(self.url + "/healthz", timeout=1)[0] == 200
                   or not self.proc.alive(), timeout, what="predictor /healthz")
        if not self.proc.alive():
            raise RuntimeError(f"predictor exited: {self.proc.tail()}")


class Adapter:
    """The metrics-adapter with TLS from the harness's CA, client certificates verified against
    it, and bearer tokens checked by TokenReview / SubjectAccessReview through a small webhook
    (authn_webhook.py) reached with --kubeconfig."""

    WRK_TOKEN = "e2e-wrk-token"

    def __init__(self, harness, binary, prometheus_url, horizon_s, pki, namespace, extra=()):
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.pki = pki
        help_out = help_text(binary)
        webhook_port = free_port()
        self.webhook = harness.spawn("authn-webhook", [
            sys.executable, os.path.join(HERE, "authn_webhook.py"), "--port", str(webhook_port),
            "--token", f"{self.WRK_TOKEN}=e2e-wrk:e2e-readers", "--allow-user", "e2e-wrk"])
        wait_until(lambda: http_get(f"http://127.0.0.1:{webhook_port}/_webhook/stats",
                                    timeout=1)[0] == 200, 20, what="authn webhook")
        self.webhook_kubeconfig = os.path.join(harness.workdir, "webhook.kubeconfig")
        with open(self.webhook_kubeconfig, "w") as f:
            f.write("\n".join([
                "apiVersion: v1", "kind: Config", "current-context: webhook",
                "clusters:", "- name: webhook", "  cluster:",
                f"    server: http://127.0.0.1:{webhook_port}",
                "users:", "- name: adapter", "  user: {}",
                "contexts:", "- name: webhook", "  context:", "    cluster: webhook",
                "    user: adapter", "    namespace: kube-system", ""]))
        argv = [binary, "--prometheus", prometheus_url, "--secure-port", str(self.port),
                "--tls-cert-file", pki.server_crt, "--tls-private-key-file", pki.server_key,
                "--client-ca-file", pki.ca_crt, "--horizon", f"{horizon_s}s"]
        for flag, value in (("--bind-address", "127.0.0.1"), ("--interval", "2s"),
                            ("--window", "10m"), ("--step", "1s"), ("--stale-after", "10s"),
                            ("--prometheus-timeout", "3s"), ("--prometheus-max-retries", "0"),
                            ("--namespace", namespace),
                            ("--kubeconfig", self.webhook_kubeconfig)):
            if flag in help_out:
                argv += [flag, value]
        if "--authentication-skip-lookup" in help_out:
            argv.append("--authentication-skip-lookup")
        argv += list(extra)
        self.proc = harness.spawn("metrics-adapter", argv, resource_name="metrics-adapter")
        self.ssl = tls_context_no_verify()
        self.ssl.load_cert_chain(pki.client_crt, pki.client_key)
        self.wrk_headers = [f"Authorization: Bearer {self.WRK_TOKEN}"]

    def get(self, path, timeout=2.0):
        return http_get(self.url + path, timeout=timeout, context=self.ssl)

    def wait_healthy(self, timeout=30):
        wait_until(lambda: self.get("/healthz", timeout=1)[0] == 200 or not self.proc.alive(),
                   timeout, what="metrics-adapter /healthz")
        if not self.proc.alive():
            raise RuntimeError(f"metrics-adapter exited: {self.proc.tail()}")


class StandIn:
    """The Kubernetes API stand-in (tests/support/kube_standin) as a child process."""

    def __init__(self, harness, script):
        d = os.path.join(harness.workdir, "standin")
        os.makedirs(d, exist_ok=True)
        self.port_file = os.path.join(d, "port")
        self.kubeconfig = os.path.join(d, "kubeconfig")
        self.ca = os.path.join(d, "ca.crt")
        self.proc = harness.spawn("kube-standin", [
            sys.executable, script, "--port-file", self.port_file,
            "--kubeconfig-out", self.kubeconfig, "--ca-out", self.ca, "--bookmark-interval", "1"],
            resource_name="kube-standin")
        wait_until(lambda: os.path.exists(self.port_file) or not self.proc.alive(), 60,
                   what="kube stand-in port file")
        if not self.proc.alive():
            raise RuntimeError(f"kube stand-in exited: {self.proc.tail()}")
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = f"https://127.0.0.1:{self.port}"
        self.ssl = tls_context_no_verify()

    def request(self, method, path, body=None, timeout=3.0):
        import urllib.request
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def client_kubeconfig(self, path, pki, namespace):
        """A kubeconfig for the stand-in that authenticates with the harness's client
        certificate: the controller reuses its credentials for the adapter."""
        with open(path, "w") as f:
            f.write("\n".join([
                "apiVersion: v1", "kind: Config", "current-context: standin",
                "clusters:", "- name: standin", "  cluster:", f"    server: {self.url}",
                f"    certificate-authority: {self.ca}",
                "users:", "- name: controller", "  user:",
                f"    client-certificate: {pki.client_crt}", f"    client-key: {pki.client_key}",
                "contexts:", "- name: standin", "  context:", "    cluster: standin",
                "    user: controller", f"    namespace: {namespace}", ""]))
        return path

    def seed(self, obj):
        code, out = self.request("POST", "/_standin/objects", obj)
        if code >= 300:
            raise RuntimeError(f"stand-in refused {obj['kind']} {obj['metadata']['name']}: {out}")
        return out

    def deployments(self, namespace):
        code, out = self.request("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments")
        if code != 200:
            return None
        return {d["metadata"]["name"]: d["spec"].get("replicas", 1) for d in out["items"]}

    def memoryscalers(self, namespace):
        code, out = self.request("GET",
                                 f"/apis/oomcast.io/v1alpha1/namespaces/{namespace}/memoryscalers")
        if code != 200:
            return None
        return {m["metadata"]["name"]: m.get("status", {}) for m in out["items"]}

    def writes(self):
        code, out = self.request("GET", "/_standin/writes")
        return out if code == 200 else []


def deployment(namespace, name, replicas, labels):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)},
                              "spec": {"containers": [{"name": "app", "image": "e2e/workload"}]}}},
    }


def memory_scaler(namespace, name, target, min_replicas, max_replicas, horizon_s, selector,
                  extra_spec=None):
    spec = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "minReplicas": min_replicas, "maxReplicas": max_replicas, "horizon": f"{horizon_s}s",
        "metricSelector": {"matchLabels": dict(selector)},
        "maxForecastAge": "20s",
    }
    spec.update(extra_spec or {})
    return {"apiVersion": "oomcast.io/v1alpha1", "kind": "MemoryScaler",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


class Controller:
    def __init__(self, harness, binary, kubeconfig, adapter, extra=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        help_out = help_text(binary)
        argv = [binary, "--kubeconfig", kubeconfig, "--external-metrics-url", adapter.url,
                "--sync-period", "2s", "--listen-address", f"127.0.0.1:{self.port}"]
        pki = adapter.pki
        for flag, value in (("--external-metrics-ca-file", pki.ca_crt),
                            ("--external-metrics-cert-file", pki.client_crt),
                            ("--external-metrics-key-file", pki.client_key),
                            ("--watch-namespace", "e2e")):
            if flag in help_out:
                argv += [flag, value]
        argv += list(extra)
        self.proc = harness.spawn("controller", argv, resource_name="controller")

    def wait_healthy(self, timeout=30):
        wait_until(lambda: http_get(self.url + "/healthz", timeout=1)[0] == 200
                   or not self.proc.alive(), timeout, what="controller /healthz")
        if not self.proc.alive():
            raise RuntimeError(f"controller exited: {self.proc.tail()}")


# ---------------------------------------------------------------------------------------------
# Pollers: each records what one client saw, once a second, on the harness's time axis.


class Poller(threading.Thread):
    interval = 1.0

    def __init__(self, harness):
        super().__init__(daemon=True)
        self.harness = harness
        self.stop_event = threading.Event()

    def run(self):
        next_t = time.monotonic()
        while not self.stop_event.is_set():
            try:
                self.poll(self.harness.now())
            except Exception as e:  # noqa: BLE001 - a poller never dies; it records
                log(f"{type(self).__name__}: {e}")
            next_t += self.interval
            delay = next_t - time.monotonic()
            if delay < 0:
                next_t = time.monotonic()
                delay = 0
            if self.stop_event.wait(delay):
                break

    def poll(self, t):
        raise NotImplementedError


class ForecastTrack:
    """Per container: every risk seen, the first poll at or above the alarm threshold."""

    def __init__(self):
        self.first_alarm = None
        self.alarm_polls = 0
        self.polls = 0
        self.max_risk = 0.0
        self.last = None
        self.samples = []  # (t, risk, eta)

    def add(self, t, risk, eta, threshold):
        self.polls += 1
        self.samples.append((round(t, 2), risk, eta))
        self.last = (t, risk, eta)
        if risk is not None:
            self.max_risk = max(self.max_risk, risk)
            if risk >= threshold:
                self.alarm_polls += 1
                if self.first_alarm is None:
                    self.first_alarm = t


class PredictorPoller(Poller):
    """GET /metrics of a predictor: per container risk and ETA, and the self-metrics."""

    def __init__(self, harness, url, threshold, namespace):
        super().__init__(harness)
        self.url = url
        self.threshold = threshold
        self.namespace = namespace
        self.tracks = {}
        self.failures = []
        self.query_errors = []  # (t, oomcast_query_errors_total summed)
        self.self_metrics = {}
        self.ok_polls = 0
        self.timeline = []  # (t, forecasts exposed, oomcast_forecast_age_seconds, errors total)
        self.error_reasons = {}

    def poll(self, t):
        status, body, elapsed = http_get(self.url + "/metrics", timeout=2)
        if status != 200:
            self.failures.append((round(t, 2), status, body[:200].decode(errors="replace")))
            return
        self.ok_polls += 1
        risks, etas = {}, {}
        errors = 0.0
        selfm = {}
        for name, labels, value in parse_prometheus_text(body.decode(errors="replace")):
            if name in (RISK, ETA):
                if labels.get("namespace") != self.namespace:
                    continue
                key = (labels.get("namespace"), labels.get("pod"), labels.get("container"))
                (risks if name == RISK else etas)[key] = value
            elif name.startswith("oomcast_query_errors_total"):
                errors += value
                reason = labels.get("reason", "?")
                self.error_reasons[reason] = value
            elif name.startswith("oomcast_"):
                selfm[name] = value
        self.self_metrics = selfm
        self.query_errors.append((round(t, 2), errors))
        self.timeline.append((t, len(risks), selfm.get("oomcast_forecast_age_seconds"), errors))
        for key in set(risks) | set(etas):
            self.tracks.setdefault(key, ForecastTrack()).add(t, risks.get(key), etas.get(key),
                                                             self.threshold)


class KubectlPoller(Poller):
    """kubectl get --raw of the risk metric through the adapter: items or the error status."""

    def __init__(self, harness, kubectl, kubeconfig, namespace, threshold, metric=RISK):
        super().__init__(harness)
        self.argv = [kubectl, "--kubeconfig", kubeconfig, "--request-timeout", "3s", "get",
                     "--raw", f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/"
                     f"{metric}"]
        self.threshold = threshold
        self.tracks = {}  # pod -> ForecastTrack
        self.results = []  # (t, "ok" | "error", detail)
        self.zero_during_error_window = []

    def poll(self, t):
        try:
            p = run(self.argv, timeout=6)
        except subprocess.TimeoutExpired:
            self.results.append((round(t, 2), "error", "kubectl timed out"))
            return
        if p.returncode != 0:
            msg = (p.stderr or p.stdout).decode(errors="replace").strip().splitlines()
            self.results.append((round(t, 2), "error", msg[-1][:200] if msg else "?"))
            return
        try:
            doc = json.loads(p.stdout)
            items = doc["items"]
        except (ValueError, KeyError, TypeError) as e:
            self.results.append((round(t, 2), "error", f"bad body: {e}"))
            return
        values = {}
        for it in items:
            labels = it.get("metricLabels") or {}
            values[labels.get("pod", "?")] = parse_quantity(it["value"])
        self.results.append((round(t, 2), "ok", values))
        for pod, v in values.items():
            self.tracks.setdefault(pod, ForecastTrack()).add(t, v, None, self.threshold)


class StandInPoller(Poller):
    """Deployment replicas and MemoryScaler status in the stand-in."""

    def __init__(self, harness, standin, namespace):
        super().__init__(harness)
        self.standin = standin
        self.namespace = namespace
        self.replicas = {}  # name -> [(t, replicas)] on change
        self.conditions = {}  # scaler -> [(t, conditions summary)] on change
        self.failures = 0

    def poll(self, t):
        deps = self.standin.deployments(self.namespace)
        if deps is None:
            self.failures += 1
            return
        for name, r in deps.items():
            series = self.replicas.setdefault(name, [])
            if not series or series[-1][1] != r:
                series.append((round(t, 2), r))
        scalers = self.standin.memoryscalers(self.namespace) or {}
        for name, status in scalers.items():
            conds = sorted(f"{c.get('type')}={c.get('status')}({c.get('reason', '')})"
                           for c in status.get("conditions", []) or [])
            summary = ", ".join(conds)
            series = self.conditions.setdefault(name, [])
            if not series or series[-1][1] != summary:
                series.append((round(t, 2), summary))

    def first_rise(self, name):
        """Time of the first increase of the Deployment's replicas, or None."""
        series = self.replicas.get(name, [])
        for (_, prev), (t, r) in zip(series, series[1:]):
            if r > prev:
                return t
        return None

    def decreases(self, name):
        series = self.replicas.get(name, [])
        return [(t, prev, r) for (_, prev), (t, r) in zip(series, series[1:]) if r < prev]


def stop_pollers(pollers):
    for p in pollers:
        p.stop_event.set()
    for p in pollers:
        p.join(timeout=10)


def signal_name(code):
    if code is None:
        return "running"
    if code < 0:
        return signal.Signals(-code).name
    return f"exit {code}"
