#!/usr/bin/env python3
"""Integration tests of oomcast-metrics-adapter: the real binary (with --fake-forecasts, TEST
ONLY), the real kubectl, a TokenReview/SubjectAccessReview stand-in, and a tiny upstream
provider. Everything listens on 127.0.0.1 on ports picked at run time; every wait is bounded.

Usage: adapter_integration_test.py --adapter BIN [--kubectl /usr/bin/kubectl] [-k PATTERN]
"""
import argparse
import hashlib
import http.client
import http.server
import json
import os
import queue
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "..", "support", "authn_standin.py")
ARGS = None
ENV = None  # The shared environment (certificates, stand-in, adapters).

GROUP = "/apis/external.metrics.k8s.io/v1beta1"
METRICS = ["memory_growth_rate_bytes_per_second", "memory_growth_acceleration_bytes_per_second2",
           "memory_oom_eta_seconds", "memory_oom_risk"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60, **kw)


class Pki:
    """CAs and certificates made with the openssl CLI."""

    def __init__(self, d):
        self.d = d

    def path(self, name):
        return os.path.join(self.d, name)

    def ca(self, name):
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", self.path(name + ".key"), "-out", self.path(name + ".crt"),
             "-days", "2", "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        return self.path(name + ".crt")

    def cert(self, name, ca, cn, orgs=(), server=False):
        subj = "/CN=" + cn + "".join("/O=" + o for o in orgs)
        run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", self.path(name + ".key"), "-out", self.path(name + ".csr"), "-subj", subj])
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            if server:
                f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
            else:
                f.write("extendedKeyUsage=clientAuth\n")
        run(["openssl", "x509", "-req", "-in", self.path(name + ".csr"), "-CA", self.path(ca + ".crt"),
             "-CAkey", self.path(ca + ".key"), "-CAcreateserial", "-out", self.path(name + ".crt"),
             "-days", "2", "-extfile", ext])
        return self.path(name + ".crt"), self.path(name + ".key")


def wait_for_line(proc, prefix, timeout=30):
    """Returns the first stderr line of proc containing prefix; fails after `timeout` seconds.
    Lines are read by a helper thread (which keeps draining the stream afterwards), so a silent
    process cannot block the test."""
    lines = queue.Queue()

    def pump():
        for line in iter(proc.stderr.readline, ""):
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.time()))
        except queue.Empty:
            break
        if line is None:
            raise RuntimeError("process exited: %s" % "".join(seen))
        seen.append(line)
        if prefix in line:
            # Keep draining in the background so the process never blocks on a full pipe.
            threading.Thread(target=lambda: [lines.get() for _ in iter(int, 1)], daemon=True).start()
            return line
    raise RuntimeError("timed out waiting for %r: %s" % (prefix, "".join(seen)))


def drain(stream):
    """Kept for call sites; wait_for_line already drains the stream."""


def forecasts_doc(age=5, n_extra=0):
    fs = [
        {"namespace": "default", "pod": "backend-1", "container": "app",
         "labels": {"app": "backend", "tier": "web", "replicas": "3"},
         "growthRate": 12582912, "acceleration": 0.5, "etaSeconds": 600, "risk": 0.75},
        {"namespace": "default", "pod": "backend-2", "container": "app",
         "labels": {"app": "backend", "tier": "web", "replicas": "7"},
         "growthRate": -1.5, "acceleration": -0.001, "etaSeconds": None, "risk": 0},
        {"namespace": "default", "pod": "frontend-1", "container": "nginx",
         "labels": {"app": "frontend"},
         "growthRate": 1024, "acceleration": 0, "etaSeconds": 3600, "risk": 0.1},
        {"namespace": "default", "pod": "batch-1", "container": "job",
         "labels": {},
         "growthRate": 0, "acceleration": 0, "etaSeconds": 1e12, "risk": 1},
        {"namespace": "secret", "pod": "vault-0", "container": "vault",
         "labels": {"app": "vault"},
         "growthRate": 100, "acceleration": 0, "etaSeconds": 90, "risk": 0.5},
    ]
    return {"ageSeconds": age, "staleAfterSeconds": 120, "forecasts": fs}


class Env:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="oomcast-adapter-it-")
        self.procs = []
        self.pki = Pki(self.tmp)
        p = self.pki
        self.serving_ca = p.ca("serving-ca")
        self.serving_cert, self.serving_key = p.cert("serving", "serving-ca", "127.0.0.1", server=True)
        self.client_ca = p.ca("client-ca")
        self.alice = p.cert("alice", "client-ca", "alice", ["team-a"])
        self.admin = p.cert("admin", "client-ca", "admin", ["system:masters"])
        self.rh_ca = p.ca("requestheader-ca")
        self.front_proxy = p.cert("front-proxy", "requestheader-ca", "front-proxy-client")
        self.evil_proxy = p.cert("evil-proxy", "requestheader-ca", "evil-proxy")
        self.stranger_ca = p.ca("stranger-ca")
        self.stranger = p.cert("stranger", "stranger-ca", "alice", ["system:masters"])
        self.standin_cert = p.cert("standin", "serving-ca", "standin", server=True)
        self.upstream_client = p.cert("upstream-client", "requestheader-ca", "front-proxy-client")

        self.standin_config = os.path.join(self.tmp, "standin.json")
        self.write_standin_config()
        self.standin_port = self.start_standin()
        self.adapter_kubeconfig = self.kubeconfig(
            "adapter.kubeconfig", "https://127.0.0.1:%d" % self.standin_port, token="adapter-sa-token")

        self.forecasts = os.path.join(self.tmp, "forecasts.json")
        self.write_forecasts(forecasts_doc())

        self.upstream = FakeUpstream(self)
        self.token_file = os.path.join(self.tmp, "upstream-token")
        with open(self.token_file, "w") as f:
            f.write("upstream-secret\n")
        self.main_port = self.start_adapter("main", [
            "--upstream-external-metrics", "https://127.0.0.1:%d" % self.upstream.port,
            "--upstream-ca-file", self.serving_ca, "--upstream-token-file", self.token_file,
            "--upstream-discovery-refresh", "1s"])

    def write_standin_config(self, extra_rules=()):
        cfg = {
            "callerToken": "adapter-sa-token",
            "tokens": {
                "good-token": {"username": "bob", "uid": "u-bob", "groups": ["dev"]},
                "admin-token": {"username": "root", "groups": ["system:masters"]},
                "denied-token": {"username": "mallory", "groups": ["guests"]},
            },
            "rules": [
                {"group": "system:authenticated", "verb": "get", "nonResourcePath": "/api*"},
                {"group": "system:authenticated", "verb": "get", "nonResourcePath": "/openapi*"},
                {"user": "bob", "verb": "list", "namespace": "default", "resource": "*",
                 "group_": "external.metrics.k8s.io"},
                {"user": "alice", "verb": "list", "namespace": "default", "resource": "*",
                 "group_": "external.metrics.k8s.io"},
                {"user": "carol", "verb": "list", "namespace": "secret", "resource": "*",
                 "group_": "external.metrics.k8s.io"},
            ] + list(extra_rules),
            "configMap": {
                "client-ca-file": open(self.client_ca).read(),
                "requestheader-client-ca-file": open(self.rh_ca).read(),
                "requestheader-allowed-names": json.dumps(["front-proxy-client"]),
                "requestheader-username-headers": json.dumps(["X-Remote-User"]),
                "requestheader-group-headers": json.dumps(["X-Remote-Group"]),
                "requestheader-extra-headers-prefix": json.dumps(["X-Remote-Extra-"]),
            },
        }
        tmp = self.standin_config + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f)
        os.replace(tmp, self.standin_config)

    def write_forecasts(self, doc, path=None):
        path = path or self.forecasts
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, path)

    def start_standin(self):
        proc = subprocess.Popen(
            [sys.executable, STANDIN, "--config", self.standin_config,
             "--cert", self.standin_cert[0], "--key", self.standin_cert[1]],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(proc)
        line = proc.stdout.readline()
        if not line.startswith("PORT"):
            raise RuntimeError("stand-in did not start: %r" % line)
        return int(line.split()[1])

    def start_adapter(self, name, extra, forecasts=None, kubeconfig=True):
        cmd = [ARGS.adapter, "--secure-port", "0", "--bind-address", "127.0.0.1",
               "--tls-cert-file", self.serving_cert, "--tls-private-key-file", self.serving_key,
               "--fake-forecasts", forecasts or self.forecasts, "--log-level", "info",
               "--window", "30m"]
        if kubeconfig:
            cmd += ["--kubeconfig", self.adapter_kubeconfig]
        proc = subprocess.Popen(cmd + list(extra), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        line = wait_for_line(proc, "serving external.metrics")
        drain(proc.stderr)
        port = int(line.split("port=")[1].split()[0].strip('"'))
        return port

    def kubeconfig(self, name, server, token=None, cert=None, ca=None):
        user = {}
        if token:
            user["token"] = token
        if cert:
            user["client-certificate"] = cert[0]
            user["client-key"] = cert[1]
        cfg = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "c", "cluster": {
                "server": server,
                "certificate-authority-data": __import__("base64").b64encode(
                    open(ca or self.serving_ca, "rb").read()).decode()}}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "ctx",
        }
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def stats(self):
        ctx = ssl.create_default_context(cafile=self.serving_ca)
        c = http.client.HTTPSConnection("127.0.0.1", self.standin_port, context=ctx, timeout=10)
        c.request("GET", "/_stats")
        return json.loads(c.getresponse().read())

    def close(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        self.upstream.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class FakeUpstream:
    """Another external metrics provider serving queue_depth; records what it receives."""

    def __init__(self, env):
        self.requests = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                       "remote_user": self.headers.get_all("X-Remote-User"),
                                       "groups": self.headers.get_all("X-Remote-Group")})
                if self.headers.get("Authorization") != "Bearer upstream-secret":
                    return self.send(401, {"kind": "Status", "apiVersion": "v1", "code": 401})
                if self.path == GROUP:
                    return self.send(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                           "groupVersion": "external.metrics.k8s.io/v1beta1",
                                           "resources": [
                                               {"name": "queue_depth", "singularName": "", "namespaced": True,
                                                "kind": "ExternalMetricValueList", "verbs": ["get"]},
                                               {"name": "memory_oom_risk", "singularName": "", "namespaced": True,
                                                "kind": "ExternalMetricValueList", "verbs": ["get"]}]})
                if self.path.startswith(GROUP + "/namespaces/default/queue_depth"):
                    return self.send(200, {"kind": "ExternalMetricValueList",
                                           "apiVersion": "external.metrics.k8s.io/v1beta1", "metadata": {},
                                           "items": [{"metricName": "queue_depth", "metricLabels": {"q": "x"},
                                                      "timestamp": "2026-01-01T00:00:00Z", "value": "42"}]})
                return self.send(404, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                       "status": "Failure", "reason": "NotFound", "code": 404})

            def send(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(env.standin_cert[0], env.standin_cert[1])
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def request(port, path, cert=None, token=None, headers=None, ca=None, method="GET"):
    ctx = ssl.create_default_context(cafile=ca or ENV.serving_ca)
    if cert:
        ctx.load_cert_chain(cert[0], cert[1])
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=15)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), body


def get_json(port, path, expect=200, **kw):
    code, ctype, body = request(port, path, **kw)
    assert code == expect, "%s -> %d (want %d): %s" % (path, code, expect, body[:500])
    assert ctype == "application/json", ctype
    return json.loads(body)


def kubectl(args, kubeconfig, check=True):
    env = dict(os.environ, HOME=ENV.tmp, KUBECACHEDIR=os.path.join(ENV.tmp, "kcache"))
    r = subprocess.run([ARGS.kubectl, "--kubeconfig", kubeconfig] + args, capture_output=True,
                       text=True, timeout=60, env=env)
    if check and r.returncode != 0:
        raise AssertionError("kubectl %s failed: %s" % (" ".join(args), r.stderr))
    return r


def parse_quantity(q):
    """Kubernetes quantity -> float (the suffixes FormatQuantity emits)."""
    suffixes = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
                "P": 1e15, "E": 1e18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
                "Pi": 2**50, "Ei": 2**60}
    for suffix in sorted(suffixes, key=len, reverse=True):
        if q.endswith(suffix):
            return float(q[:-len(suffix)]) * suffixes[suffix]
    return float(q)


def sel(s):
    return "?labelSelector=" + urllib.parse.quote_plus(s)


class KubectlTest(unittest.TestCase):
    def setUp(self):
        if not os.access(ARGS.kubectl, os.X_OK):
            self.skipTest("kubectl not installed")
        server = "https://127.0.0.1:%d" % ENV.main_port
        self.cert_kc = ENV.kubeconfig("alice.kubeconfig", server, cert=ENV.alice)
        self.token_kc = ENV.kubeconfig("bob.kubeconfig", server, token="good-token")

    def test_discovery_with_client_certificate_and_token(self):
        for kc in (self.cert_kc, self.token_kc):
            out = json.loads(kubectl(["get", "--raw", GROUP], kc).stdout)
            self.assertEqual(out["kind"], "APIResourceList")
            self.assertEqual(out["apiVersion"], "v1")
            self.assertEqual(out["groupVersion"], "external.metrics.k8s.io/v1beta1")
            names = [r["name"] for r in out["resources"]]
            for m in METRICS:
                self.assertIn(m, names)
            for r in out["resources"][:4]:
                self.assertEqual(r, {"name": r["name"], "singularName": "", "namespaced": True,
                                     "kind": "ExternalMetricValueList", "verbs": ["get"]})
            apis = json.loads(kubectl(["get", "--raw", "/apis"], kc).stdout)
            self.assertEqual(apis["groups"][0]["name"], "external.metrics.k8s.io")

    def test_each_metric_with_selectors(self):
        for kc in (self.cert_kc, self.token_kc):
            for m in METRICS:
                out = json.loads(kubectl(["get", "--raw", GROUP + "/namespaces/default/" + m +
                                          sel("app=backend")], kc).stdout)
                self.assertEqual(out["kind"], "ExternalMetricValueList")
                self.assertEqual(out["apiVersion"], "external.metrics.k8s.io/v1beta1")
                self.assertEqual([i["metricLabels"]["pod"] for i in out["items"]],
                                 ["backend-1", "backend-2"])
                for i in out["items"]:
                    self.assertEqual(i["metricName"], m)
                    self.assertEqual(i["window"], 1800)
                    self.assertRegex(i["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        out = json.loads(kubectl(["get", "--raw", GROUP + "/namespaces/default/memory_growth_rate_bytes_per_second" +
                                  sel("app in (backend),tier=web")], self.token_kc).stdout)
        self.assertEqual([i["value"] for i in out["items"]], ["12Mi", "-1500m"])

    def test_api_resources(self):
        out = kubectl(["api-resources", "--api-group=external.metrics.k8s.io"], self.token_kc).stdout
        for m in METRICS:
            self.assertIn(m, out)
        self.assertIn("queue_depth", out)  # Merged from the upstream provider.

    def test_kubectl_sees_errors(self):
        r = kubectl(["get", "--raw", GROUP + "/namespaces/default/nope_metric_x"], self.cert_kc, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("NotFound", r.stderr + r.stdout)
        r = kubectl(["get", "--raw", GROUP + "/namespaces/secret/memory_oom_risk"], self.cert_kc, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Forbidden", r.stderr + r.stdout)


class SelectorTest(unittest.TestCase):
    def items(self, selector, metric="memory_oom_risk", ns="default", raw=False):
        q = ("?labelSelector=" + selector) if raw else sel(selector)
        out = get_json(ENV.main_port, GROUP + "/namespaces/%s/%s%s" % (ns, metric, q), token="good-token")
        return [(i["metricLabels"]["pod"], i["value"]) for i in out["items"]]

    def test_every_operator(self):
        pods = lambda s: [p for p, _ in self.items(s)]
        self.assertEqual(pods("app=backend"), ["backend-1", "backend-2"])
        self.assertEqual(pods("app==frontend"), ["frontend-1"])
        self.assertEqual(pods("app!=backend"), ["batch-1", "frontend-1"])
        self.assertEqual(pods("app in (frontend,backend)"), ["backend-1", "backend-2", "frontend-1"])
        self.assertEqual(pods("app notin (backend)"), ["batch-1", "frontend-1"])
        self.assertEqual(pods("tier"), ["backend-1", "backend-2"])
        self.assertEqual(pods("!app"), ["batch-1"])
        self.assertEqual(pods("replicas>4"), ["backend-2"])
        self.assertEqual(pods("replicas<4"), ["backend-1"])
        self.assertEqual(pods("container=nginx"), ["frontend-1"])
        self.assertEqual(pods("pod=batch-1,namespace=default"), ["batch-1"])
        self.assertEqual(pods(""), ["backend-1", "backend-2", "batch-1", "frontend-1"])

    def test_form_encoding_as_the_aggregator_sends_it(self):
        # '+' for spaces and %XX escapes, as url.Values.Encode produces them.
        self.assertEqual([p for p, _ in self.items("app+in+%28backend%29%2Capp%21%3Dx", raw=True)],
                         ["backend-1", "backend-2"])
        self.assertEqual([p for p, _ in self.items("app%20in%20(frontend)", raw=True)], ["frontend-1"])

    def test_values_are_canonical_quantities(self):
        self.assertEqual(self.items("", metric="memory_oom_risk"),
                         [("backend-1", "750m"), ("backend-2", "0"), ("batch-1", "1"), ("frontend-1", "100m")])
        self.assertEqual(self.items("", metric="memory_growth_rate_bytes_per_second"),
                         [("backend-1", "12Mi"), ("backend-2", "-1500m"), ("batch-1", "0"), ("frontend-1", "1Ki")])
        self.assertEqual(self.items("", metric="memory_growth_acceleration_bytes_per_second2"),
                         [("backend-1", "500m"), ("backend-2", "-1m"), ("batch-1", "0"), ("frontend-1", "0")])
        # +Inf (no forecast crossing) and absurdly far ETAs are capped at 365 days.
        self.assertEqual(self.items("", metric="memory_oom_eta_seconds"),
                         [("backend-1", "600"), ("backend-2", "31536k"), ("batch-1", "31536k"),
                          ("frontend-1", "3600")])

    def test_aggregate(self):
        out = get_json(ENV.main_port, GROUP + "/namespaces/default/memory_oom_risk" +
                       sel("app in (backend,frontend),oomcast.io/aggregate in (max)"), token="good-token")
        self.assertEqual(len(out["items"]), 1)
        item = out["items"][0]
        self.assertEqual(item["value"], "750m")
        self.assertEqual(item["metricLabels"]["pod"], "backend-1")
        self.assertEqual(item["metricLabels"]["oomcast.io/aggregate"], "max")
        for agg, want in (("min", "0"), ("sum", "750m"), ("avg", "375m"), ("max", "750m")):
            out = get_json(ENV.main_port, GROUP + "/namespaces/default/memory_oom_risk" +
                           sel("app=backend,oomcast.io/aggregate=" + agg), token="good-token")
            self.assertEqual(out["items"][0]["value"], want, agg)
        out = get_json(ENV.main_port, GROUP + "/namespaces/default/memory_oom_eta_seconds" +
                       sel("oomcast.io/aggregate=min"), token="good-token")
        self.assertEqual(out["items"][0]["value"], "600")

    def test_empty_match_is_an_empty_list(self):
        out = get_json(ENV.main_port, GROUP + "/namespaces/default/memory_oom_risk" + sel("app=none"),
                       token="good-token")
        self.assertEqual(out["items"], [])
        out = get_json(ENV.main_port, GROUP + "/namespaces/default/memory_oom_risk" +
                       sel("app=none,oomcast.io/aggregate=max"), token="good-token")
        self.assertEqual(out["items"], [])

    def test_bad_selectors_are_400(self):
        for s in ("app in (", "app=-x", "-bad=1", "replicas>x", "oomcast.io/aggregate=median",
                  "oomcast.io/aggregate in (max,min)"):
            st = get_json(ENV.main_port, GROUP + "/namespaces/default/memory_oom_risk" + sel(s),
                          expect=400, token="good-token")
            self.assertEqual((st["kind"], st["apiVersion"], st["status"], st["reason"], st["code"]),
                             ("Status", "v1", "Failure", "BadRequest", 400), s)
            self.assertEqual(st["metadata"], {})
        st = get_json(ENV.main_port, GROUP + "/namespaces/default/memory_oom_risk?labelSelector=%zz",
                      expect=400, token="good-token")
        self.assertEqual(st["reason"], "BadRequest")


class ProtocolTest(unittest.TestCase):
    def test_protobuf_accept_gets_json(self):
        for accept in ("application/vnd.kubernetes.protobuf, */*", "application/vnd.kubernetes.protobuf",
                       "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"):
            code, ctype, body = request(ENV.main_port, GROUP + "/namespaces/default/memory_oom_risk",
                                        token="good-token", headers={"Accept": accept})
            self.assertEqual((code, ctype), (200, "application/json"), accept)
            json.loads(body)

    def test_not_found(self):
        for path in ("/openapi/v2", "/openapi/v3", "/api", GROUP + "/namespaces/default",
                     GROUP + "/namespaces/default/memory_oom_risk/extra"):
            st = get_json(ENV.main_port, path, expect=404, token="admin-token")
            self.assertEqual((st["reason"], st["code"]), ("NotFound", 404))

    def test_health_needs_no_credentials_and_metrics_does(self):
        for path in ("/healthz", "/livez", "/readyz"):
            code, _, body = request(ENV.main_port, path)
            self.assertEqual((code, body), (200, b"ok"), path)
        request(ENV.main_port, GROUP + "/namespaces/default/memory_oom_risk", token="good-token")
        st = get_json(ENV.main_port, "/metrics", expect=401)
        self.assertEqual(st["reason"], "Unauthorized")
        code, ctype, body = request(ENV.main_port, "/metrics", token="admin-token")
        self.assertEqual(code, 200)
        text = body.decode()
        self.assertIn('oomcast_adapter_requests_total{code="200",path="/apis/external.metrics.k8s.io/v1beta1/'
                      'namespaces/{namespace}/{metric}"}', text)
        self.assertIn("oomcast_adapter_request_duration_seconds_bucket", text)
        self.assertIn("oomcast_forecast_age_seconds", text)

    def test_method_not_allowed(self):
        code, _, body = request(ENV.main_port, GROUP, token="admin-token", method="POST")
        self.assertEqual(code, 405)
        self.assertEqual(json.loads(body)["reason"], "MethodNotAllowed")


class AuthTest(unittest.TestCase):
    path = GROUP + "/namespaces/default/memory_oom_risk"

    def test_no_credentials_401(self):
        st = get_json(ENV.main_port, self.path, expect=401)
        self.assertEqual((st["kind"], st["reason"], st["code"]), ("Status", "Unauthorized", 401))

    def test_bad_token_401_and_denied_403(self):
        get_json(ENV.main_port, self.path, expect=401, token="no-such-token")
        st = get_json(ENV.main_port, self.path, expect=403, token="denied-token")
        self.assertEqual(st["reason"], "Forbidden")
        self.assertIn("mallory", st["message"])
        get_json(ENV.main_port, GROUP + "/namespaces/secret/memory_oom_risk", expect=403, token="good-token")

    def test_system_masters_always_allowed(self):
        get_json(ENV.main_port, GROUP + "/namespaces/secret/memory_oom_risk", token="admin-token")
        get_json(ENV.main_port, GROUP + "/namespaces/secret/memory_oom_risk", cert=ENV.admin)

    def test_client_certificates(self):
        get_json(ENV.main_port, self.path, cert=ENV.alice)
        get_json(ENV.main_port, GROUP + "/namespaces/secret/memory_oom_risk", expect=403, cert=ENV.alice)
        # A certificate from an unknown CA claiming system:masters is not trusted.
        get_json(ENV.main_port, self.path, expect=401, cert=ENV.stranger)
        # ...but a valid token on the same connection still authenticates.
        get_json(ENV.main_port, self.path, cert=ENV.stranger, token="good-token")

    def test_front_proxy(self):
        carol = {"X-Remote-User": "carol", "X-Remote-Group": "ops", "X-Remote-Extra-Scopes": "x"}
        secret = GROUP + "/namespaces/secret/memory_oom_risk"
        out = get_json(ENV.main_port, secret, cert=ENV.front_proxy, headers=carol)
        self.assertEqual(out["items"][0]["metricLabels"]["pod"], "vault-0")
        sar = ENV.stats()["last_sar"]["spec"]
        self.assertEqual(sar["user"], "carol")
        self.assertEqual(sorted(sar["groups"]), ["ops", "system:authenticated"])
        self.assertEqual(sar["extra"], {"scopes": ["x"]})
        self.assertEqual(sar["resourceAttributes"], {"verb": "list", "group": "external.metrics.k8s.io",
                                                     "version": "v1beta1", "resource": "memory_oom_risk",
                                                     "namespace": "secret"})
        # Headers with masters from the front proxy are honoured.
        get_json(ENV.main_port, secret, cert=ENV.front_proxy,
                 headers={"X-Remote-User": "x", "X-Remote-Group": "system:masters"})
        # A requestheader-CA certificate whose CN is not allowed: headers ignored, no identity.
        get_json(ENV.main_port, secret, expect=401, cert=ENV.evil_proxy, headers=carol)
        # A client-CA certificate sending the headers: the headers are ignored, alice is used.
        get_json(ENV.main_port, secret, expect=403, cert=ENV.alice,
                 headers={"X-Remote-User": "carol", "X-Remote-Group": "system:masters"})
        # Headers without any certificate are ignored.
        get_json(ENV.main_port, secret, expect=401, headers=carol)
        # Front-proxy certificate without a user header: not authenticated.
        get_json(ENV.main_port, secret, expect=401, cert=ENV.front_proxy)

    def test_token_reviews_are_cached(self):
        token = "good-token"
        get_json(ENV.main_port, self.path, token=token)
        before = ENV.stats()["tokenreviews"]
        for _ in range(5):
            get_json(ENV.main_port, self.path, token=token)
        self.assertEqual(ENV.stats()["tokenreviews"], before)
        review = ENV.stats()["last_tokenreview"]
        self.assertEqual((review["apiVersion"], review["kind"]), ("authentication.k8s.io/v1", "TokenReview"))

    def test_discovery_is_a_non_resource_request(self):
        get_json(ENV.main_port, GROUP, token="good-token")
        sar = ENV.stats()["last_sar"]["spec"]
        if "nonResourceAttributes" in sar:  # Cached decisions make no new review.
            self.assertEqual(sar["nonResourceAttributes"]["verb"], "get")


class ConfigMapRefreshTest(unittest.TestCase):
    def test_requestheader_ca_added_to_the_configmap_is_picked_up(self):
        # A second stand-in whose ConfigMap first has no requestheader CA.
        cfg_path = os.path.join(ENV.tmp, "standin2.json")
        with open(ENV.standin_config) as f:
            cfg = json.load(f)
        full_cm = dict(cfg["configMap"])
        del cfg["configMap"]["requestheader-client-ca-file"]
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        proc = subprocess.Popen([sys.executable, STANDIN, "--config", cfg_path, "--cert", ENV.standin_cert[0],
                                 "--key", ENV.standin_cert[1]], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        ENV.procs.append(proc)
        port2 = int(proc.stdout.readline().split()[1])
        kc = ENV.kubeconfig("adapter2.kubeconfig", "https://127.0.0.1:%d" % port2, token="adapter-sa-token")
        port = ENV.start_adapter("refresh", ["--kubeconfig", kc, "--authentication-config-refresh", "1s"],
                                 kubeconfig=False)
        secret = GROUP + "/namespaces/secret/memory_oom_risk"
        carol = {"X-Remote-User": "carol"}
        get_json(port, secret, expect=401, cert=ENV.front_proxy, headers=carol)
        cfg["configMap"] = full_cm
        tmp = cfg_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f)
        os.replace(tmp, cfg_path)
        deadline = time.time() + 15
        code = None
        while time.time() < deadline:
            code, _, _ = request(port, secret, cert=ENV.front_proxy, headers=carol)
            if code == 200:
                break
            time.sleep(0.3)
        self.assertEqual(code, 200)


class FreshnessTest(unittest.TestCase):
    """Separate adapters whose forecast files the tests rewrite."""

    def wait_code(self, port, path, want, timeout=10):
        deadline = time.time() + timeout
        code = None
        while time.time() < deadline:
            code, _, body = request(port, path, token="admin-token")
            if code == want:
                return json.loads(body) if body.startswith(b"{") else body
            time.sleep(0.2)
        self.fail("%s: want %d, last %s" % (path, want, code))

    def test_stale_and_missing_data_are_503(self):
        f = os.path.join(ENV.tmp, "fresh.json")
        ENV.write_forecasts(forecasts_doc(age=None), f)
        port = ENV.start_adapter("fresh", [], forecasts=f)
        path = GROUP + "/namespaces/default/memory_oom_risk"
        st = self.wait_code(port, path, 503)
        self.assertEqual((st["reason"], st["code"]), ("ServiceUnavailable", 503))
        self.assertIn("no forecasts yet", st["message"])
        code, _, _ = request(port, "/readyz")
        self.assertEqual(code, 503)
        ENV.write_forecasts(forecasts_doc(age=1), f)
        self.wait_code(port, path, 200)
        code, _, _ = request(port, "/readyz")
        self.assertEqual(code, 200)
        ENV.write_forecasts(forecasts_doc(age=100000), f)
        st = self.wait_code(port, path, 503)
        self.assertIn("stale", st["message"])
        # Aggregates are refused the same way.
        code, _, _ = request(port, path + sel("oomcast.io/aggregate=max"), token="admin-token")
        self.assertEqual(code, 503)


def last_metric_forward():
    """The newest request the upstream got for a metric value: the adapter also polls the
    upstream's discovery document in the background, so the newest request of all may be that."""
    values = [r for r in ENV.upstream.requests if "/namespaces/" in r["path"]]
    assert values, "the upstream got no metric request"
    return values[-1]


class UpstreamTest(unittest.TestCase):
    def test_pass_through_and_merged_discovery(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            names = [r["name"] for r in get_json(ENV.main_port, GROUP, token="good-token")["resources"]]
            if "queue_depth" in names:
                break
            time.sleep(0.2)
        self.assertEqual(names[:4], METRICS)
        self.assertIn("queue_depth", names)
        self.assertEqual(names.count("memory_oom_risk"), 1)
        out = get_json(ENV.main_port, GROUP + "/namespaces/default/queue_depth" + sel("q=x"), token="good-token")
        self.assertEqual(out["items"][0]["value"], "42")
        fwd = last_metric_forward()
        self.assertEqual(fwd["path"], GROUP + "/namespaces/default/queue_depth?labelSelector=q%3Dx")
        self.assertEqual(fwd["headers"]["authorization"], "Bearer upstream-secret")
        # Unknown upstream metrics: the upstream's 404 comes back.
        st = get_json(ENV.main_port, GROUP + "/namespaces/default/other_metric", expect=404, token="good-token")
        self.assertEqual(st["reason"], "NotFound")
        # Authorization happens before forwarding.
        get_json(ENV.main_port, GROUP + "/namespaces/secret/queue_depth", expect=403, token="good-token")

    def test_front_proxy_identity_is_forwarded(self):
        port = ENV.start_adapter("fp-upstream", [
            "--upstream-external-metrics", "https://127.0.0.1:%d" % ENV.upstream.port,
            "--upstream-ca-file", ENV.serving_ca, "--upstream-token-file", ENV.token_file,
            "--upstream-client-cert-file", ENV.upstream_client[0],
            "--upstream-client-key-file", ENV.upstream_client[1]])
        get_json(port, GROUP + "/namespaces/default/queue_depth", cert=ENV.front_proxy,
                 headers={"X-Remote-User": "bob", "X-Remote-Group": "dev"})
        fwd = last_metric_forward()
        self.assertEqual(fwd["remote_user"], ["bob"])
        self.assertEqual(sorted(fwd["groups"]), ["dev", "system:authenticated"])

    def test_upstream_down_keeps_our_discovery(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
        s.close()
        port = ENV.start_adapter("dead-upstream", [
            "--upstream-external-metrics", "https://127.0.0.1:%d" % dead,
            "--upstream-ca-file", ENV.serving_ca, "--upstream-timeout", "2s"])
        names = [r["name"] for r in get_json(port, GROUP, token="good-token")["resources"]]
        self.assertEqual(names, METRICS)
        st = get_json(port, GROUP + "/namespaces/default/queue_depth", expect=503, token="good-token")
        self.assertEqual(st["reason"], "ServiceUnavailable")
        # Our own metrics are unaffected.
        get_json(port, GROUP + "/namespaces/default/memory_oom_risk", token="good-token")


class TlsTest(unittest.TestCase):
    def fingerprint(self, port):
        ctx = ssl.create_default_context(cafile=ENV.serving_ca)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()

    def test_certificate_reload(self):
        d = os.path.join(ENV.tmp, "reload")
        os.makedirs(d, exist_ok=True)
        cert, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
        shutil.copy(ENV.serving_cert, cert)
        shutil.copy(ENV.serving_key, key)
        port = ENV.start_adapter("reload", ["--tls-cert-file", cert, "--tls-private-key-file", key])
        first = self.fingerprint(port)
        new_cert, new_key = ENV.pki.cert("serving2", "serving-ca", "127.0.0.1", server=True)
        shutil.copy(new_key, key + ".tmp")
        shutil.copy(new_cert, cert + ".tmp")
        os.replace(key + ".tmp", key)
        os.replace(cert + ".tmp", cert)
        deadline = time.time() + 10
        while time.time() < deadline and self.fingerprint(port) == first:
            time.sleep(0.2)
        self.assertNotEqual(self.fingerprint(port), first)
        with open(new_cert, "rb") as f:
            pem = f.read().decode()
        self.assertEqual(self.fingerprint(port),
                         hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest())

    def test_generate_self_signed(self):
        d = os.path.join(ENV.tmp, "selfsigned")
        proc = subprocess.Popen([ARGS.adapter, "--secure-port", "0", "--bind-address", "127.0.0.1",
                                 "--generate-self-signed-cert", "--cert-dir", d,
                                 "--fake-forecasts", ENV.forecasts, "--authorization-mode", "AlwaysAllow"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ENV.procs.append(proc)
        line = wait_for_line(proc, "serving external.metrics")
        drain(proc.stderr)
        port = int(line.split("port=")[1].split()[0].strip('"'))
        code, _, _ = request(port, "/healthz", ca=os.path.join(d, "apiserver.crt"))
        self.assertEqual(code, 200)


class EngineTest(unittest.TestCase):
    """The binary with its embedded engine against a real Prometheus (no --fake-forecasts):
    container memory, limits and kube-state-metrics pod labels loaded with promtool."""

    def test_engine_forecasts_served_with_pod_labels(self):
        prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
        if not prometheus or not promtool:
            self.skipTest("prometheus/promtool not installed")
        d = os.path.join(ENV.tmp, "prom")
        os.makedirs(d, exist_ok=True)
        now = int(time.time())
        series = {
            ("leaky-1", "app"): lambda k: 100 * 2**20 + k * 2**20,  # +1 MiB per 15 s.
            ("steady-1", "app"): lambda k: 200 * 2**20,
        }
        lines = []
        for family, fn in (("container_memory_rss", None), ("container_memory_working_set_bytes", None),
                           ("container_spec_memory_limit_bytes", 2**30),
                           ("kube_pod_labels", 1)):
            lines.append("# TYPE %s gauge" % family)
            for (pod, container), value in series.items():
                if family == "kube_pod_labels":
                    labels = 'namespace="default",pod="%s",label_app="%s",label_tier="web"' % (
                        pod, pod.split("-")[0])
                else:
                    labels = 'namespace="default",pod="%s",container="%s"' % (pod, container)
                for k, t in enumerate(range(now - 3600, now + 1, 15)):
                    v = value(k) if fn is None else fn
                    lines.append("%s{%s} %d %d" % (family, labels, v, t))
        lines.append("# EOF")
        with open(os.path.join(d, "data.om"), "w") as f:
            f.write("\n".join(lines) + "\n")
        run([promtool, "tsdb", "create-blocks-from", "openmetrics", os.path.join(d, "data.om"),
             os.path.join(d, "tsdb")])
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write("global: {scrape_interval: 1m}\n")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        pport = s.getsockname()[1]
        s.close()
        proc = subprocess.Popen([prometheus, "--config.file", os.path.join(d, "prometheus.yml"),
                                 "--storage.tsdb.path", os.path.join(d, "tsdb"),
                                 "--storage.tsdb.retention.time", "10y",
                                 "--web.listen-address", "127.0.0.1:%d" % pport, "--log.level", "warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ENV.procs.append(proc)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", pport, timeout=2)
                c.request("GET", "/-/ready")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        cmd = [ARGS.adapter, "--secure-port", "0", "--bind-address", "127.0.0.1",
               "--tls-cert-file", ENV.serving_cert, "--tls-private-key-file", ENV.serving_key,
               "--kubeconfig", ENV.adapter_kubeconfig, "--prometheus", "http://127.0.0.1:%d" % pport,
               "--interval", "2s", "--stale-after", "10m"]
        adapter = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ENV.procs.append(adapter)
        line = wait_for_line(adapter, "serving external.metrics")
        drain(adapter.stderr)
        port = int(line.split("port=")[1].split()[0].strip('"'))
        deadline = time.time() + 60
        while time.time() < deadline and request(port, "/readyz")[0] != 200:
            time.sleep(0.3)
        self.assertEqual(request(port, "/readyz")[0], 200)
        out = get_json(port, GROUP + "/namespaces/default/memory_growth_rate_bytes_per_second" +
                       sel("app=leaky"), token="good-token")
        self.assertEqual(len(out["items"]), 1, out)
        item = out["items"][0]
        rate = parse_quantity(item["value"])
        self.assertAlmostEqual(rate, 2**20 / 15, delta=0.1 * 2**20 / 15)  # 1 MiB per 15 s.
        self.assertEqual(item["metricLabels"], {"namespace": "default", "pod": "leaky-1", "container": "app",
                                                "app": "leaky", "tier": "web"})
        out = get_json(port, GROUP + "/namespaces/default/memory_oom_eta_seconds" + sel("tier=web"),
                       token="good-token")
        etas = {i["metricLabels"]["pod"]: i["value"] for i in out["items"]}
        self.assertEqual(set(etas), {"leaky-1", "steady-1"})
        self.assertEqual(etas["steady-1"], "31536k")  # No crossing forecast: capped.
        self.assertNotEqual(etas["leaky-1"], "31536k")
        code, _, body = request(port, "/metrics", token="admin-token")
        self.assertIn("oomcast_adapter_requests_total", body.decode())
        self.assertIn("oomcast_cycle", body.decode())


class FlagsTest(unittest.TestCase):
    def test_bad_flags_exit_2_naming_the_flag(self):
        for args, needle in ((["--no-such-flag"], "--no-such-flag"),
                             (["--secure-port", "abc"], "--secure-port"),
                             (["--authorization-mode", "RBAC"], "--authorization-mode"),
                             (["--horizon", "soon"], "horizon"),
                             (["--tls-cert-file", "/nonexistent", "--tls-private-key-file", "/nonexistent",
                               "--fake-forecasts", ENV.forecasts], "/nonexistent")):
            r = subprocess.run([ARGS.adapter] + args, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(needle, r.stderr)

    def test_help_marks_test_only_flag(self):
        r = subprocess.run([ARGS.adapter, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertIn("TEST ONLY", r.stdout)
        self.assertIn("--fake-forecasts", r.stdout)


def main():
    global ARGS, ENV
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--kubectl", default="/usr/bin/kubectl")
    ap.add_argument("-k", dest="pattern", default=None)
    ARGS, rest = ap.parse_known_args()
    ENV = Env()
    try:
        loader = unittest.TestLoader()
        if ARGS.pattern:
            loader.testNamePatterns = ["*%s*" % ARGS.pattern]
        suite = loader.loadTestsFromModule(sys.modules[__name__])
        result = unittest.TextTestRunner(verbosity=2).run(suite)
        return 0 if result.wasSuccessful() else 1
    finally:
        ENV.close()


if __name__ == "__main__":
    sys.exit(main())
