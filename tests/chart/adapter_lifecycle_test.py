#!/usr/bin/env python3
"""What the chart's TLS and pass-through settings rely on, checked on the real
oomcast-metrics-adapter binary (loopback only):

  * a serving certificate that expires during the test: the adapter reports its notAfter
    (oomcast_serving_certificate_expiry_timestamp_seconds), a verifying client is refused once
    it has expired, and after the files are replaced (as the kubelet swaps a Secret volume)
    new connections get the renewed certificate and the metric follows it;
  * pass-through while oomcast's own forecasts are missing (TSDB down): /readyz says not
    ready, /livez (the chart's readiness path with upstream.url) is OK, the upstream's metrics
    are forwarded and listed, and oomcast's own metrics answer 503 (never a zero).

Run: adapter_lifecycle_test.py --adapter PATH (CTest passes the built binary). Needs openssl.
"""
import argparse
import datetime
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
TMP = None


def sh(*cmd, cwd=None):
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Pki:
    """A CA (openssl ca, so that notAfter can be set to the second) and certificates it signs."""

    def __init__(self, d):
        self.d = d
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-keyout", self.p("ca.key"), "-out", self.p("ca.crt"), "-days", "2",
           "-subj", "/CN=lifecycle-test-ca")
        open(self.p("index.txt"), "w").close()
        with open(self.p("serial"), "w") as f:
            f.write("1000\n")
        with open(self.p("ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca=d\n[d]\ndatabase=%s\nnew_certs_dir=%s\nserial=%s\n"
                    "default_md=sha256\npolicy=p\ncopy_extensions=copy\nunique_subject=no\n"
                    "[p]\ncommonName=supplied\n" % (self.p("index.txt"), self.d, self.p("serial")))

    def p(self, name):
        return os.path.join(self.d, name)

    def issue(self, name, cn, not_after, server=True):
        """Signs name.crt/name.key for `cn`, valid until the datetime `not_after` (UTC)."""
        san = "subjectAltName=DNS:localhost,IP:127.0.0.1" if server else "basicConstraints=CA:FALSE"
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", self.p(name + ".key"), "-out", self.p(name + ".csr"), "-subj", "/CN=" + cn,
           "-addext", san)
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        sh("openssl", "ca", "-config", self.p("ca.cnf"), "-batch", "-notext", "-keyfile",
           self.p("ca.key"), "-cert", self.p("ca.crt"), "-in", self.p(name + ".csr"), "-out",
           self.p(name + ".crt"), "-startdate", start.strftime("%Y%m%d%H%M%SZ"), "-enddate",
           not_after.strftime("%Y%m%d%H%M%SZ"))
        return self.p(name + ".crt"), self.p(name + ".key")


def wait_for(pred, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


class Adapter:
    def __init__(self, args):
        self.proc = subprocess.Popen([ARGS.adapter, "--secure-port", "0", "--bind-address",
                                      "127.0.0.1", "--authorization-mode", "AlwaysAllow",
                                      "--log-level", "info"] + args,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = ""
        deadline = time.monotonic() + 30
        while "serving external.metrics" not in line:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("adapter did not start: " + line)
            line = self.proc.stderr.readline()
        self.port = int(line.split("port=")[1].split()[0].strip('"'))
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def get(port, path, ca, cert=None):
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(*cert)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def expiry_metric(body):
    for line in body.splitlines():
        if line.startswith("oomcast_serving_certificate_expiry_timestamp_seconds "):
            return float(line.split()[1])
    return None


def unix(dt):
    return int(dt.timestamp())


class CertificateExpiryTest(unittest.TestCase):
    def test_expiring_certificate_is_reported_refused_and_renewed(self):
        pki = Pki(tempfile.mkdtemp(dir=TMP))
        live = os.path.join(pki.d, "live")
        os.makedirs(live)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        short = now + datetime.timedelta(seconds=8)
        crt, key = pki.issue("short", "oomcast-metrics-adapter", short)
        shutil.copy(crt, os.path.join(live, "tls.crt"))
        shutil.copy(key, os.path.join(live, "tls.key"))
        s = socket.socket()
        s.bind(("127.0.0.1", 0))  # A TSDB that refuses connections: the engine runs, idle.
        # /metrics is behind the API's authentication: Prometheus scrapes with a credential.
        scraper = pki.issue("scraper", "prometheus", now + datetime.timedelta(days=1), server=False)
        a = Adapter(["--tls-cert-file", os.path.join(live, "tls.crt"), "--tls-private-key-file",
                     os.path.join(live, "tls.key"), "--client-ca-file", pki.p("ca.crt"),
                     "--prometheus", "http://127.0.0.1:%d" % s.getsockname()[1]])
        try:
            code, body = get(a.port, "/metrics", pki.p("ca.crt"), scraper)
            self.assertEqual(code, 200)
            self.assertEqual(expiry_metric(body), unix(short))
            # Past notAfter: a verifying client (the aggregator) refuses the adapter.
            wait_for(lambda: datetime.datetime.now(datetime.timezone.utc) > short + datetime.timedelta(seconds=1),
                     "the certificate to expire")
            with self.assertRaises(ssl.SSLCertVerificationError) as e:
                get(a.port, "/healthz", pki.p("ca.crt"))
            self.assertIn("expired", str(e.exception))
            # Renewed files, swapped in by rename (as the kubelet updates a Secret volume).
            renewed_until = now + datetime.timedelta(days=1)
            crt2, key2 = pki.issue("renewed", "oomcast-metrics-adapter", renewed_until)
            for src, dst in ((crt2, "tls.crt"), (key2, "tls.key")):
                shutil.copy(src, os.path.join(live, dst + ".new"))
                os.replace(os.path.join(live, dst + ".new"), os.path.join(live, dst))

            def renewed():
                try:
                    code, body = get(a.port, "/metrics", pki.p("ca.crt"), scraper)
                except ssl.SSLError:
                    return None
                return body if code == 200 else None

            body = wait_for(renewed, "the adapter to serve the renewed certificate")
            self.assertEqual(expiry_metric(body), unix(renewed_until))
        finally:
            a.stop()
            s.close()


class FakeUpstream:
    """KEDA's metrics server, as far as pass-through needs it: discovery and one metric."""

    def __init__(self, cert, key):
        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                if path.rstrip("/") == "/apis/external.metrics.k8s.io/v1beta1":
                    body = {"kind": "APIResourceList", "apiVersion": "v1",
                            "groupVersion": "external.metrics.k8s.io/v1beta1",
                            "resources": [{"name": "s0-prometheus", "singularName": "",
                                           "namespaced": True, "kind": "ExternalMetricValueList",
                                           "verbs": ["get"]}]}
                elif path == "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/s0-prometheus":
                    body = {"kind": "ExternalMetricValueList",
                            "apiVersion": "external.metrics.k8s.io/v1beta1", "metadata": {},
                            "items": [{"metricName": "s0-prometheus", "metricLabels": {},
                                       "timestamp": "2026-01-01T00:00:00Z", "value": "42"}]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class PassThroughWhileStaleTest(unittest.TestCase):
    def test_upstream_metrics_served_while_forecasts_are_missing(self):
        pki = Pki(tempfile.mkdtemp(dir=TMP))
        later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        srv = pki.issue("serving", "oomcast-metrics-adapter", later)
        up = pki.issue("upstream", "keda-operator-metrics-apiserver", later)
        client = pki.issue("client", "hpa-controller", later, server=False)
        upstream = FakeUpstream(*up)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        dead_tsdb = s.getsockname()[1]  # Bound, never listening: connections are refused.
        a = Adapter(["--tls-cert-file", srv[0], "--tls-private-key-file", srv[1],
                     "--client-ca-file", pki.p("ca.crt"),
                     "--prometheus", "http://127.0.0.1:%d" % dead_tsdb, "--interval", "1s",
                     "--upstream-external-metrics", "https://127.0.0.1:%d" % upstream.port,
                     "--upstream-ca-file", pki.p("ca.crt")])
        try:
            ca = pki.p("ca.crt")
            self.assertEqual(get(a.port, "/readyz", ca)[0], 503)  # No forecast cycle succeeded.
            self.assertEqual(get(a.port, "/livez", ca)[0], 200)   # The chart's pass-through probe.
            code, body = get(a.port, "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/s0-prometheus", ca, client)
            self.assertEqual(code, 200, body)
            self.assertEqual(json.loads(body)["items"][0]["value"], "42")
            code, body = wait_for(lambda: (lambda r: r if "s0-prometheus" in r[1] else None)(
                get(a.port, "/apis/external.metrics.k8s.io/v1beta1", ca, client)), "merged discovery")
            self.assertIn("memory_oom_risk", body)
            code, body = get(a.port, "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/memory_oom_risk", ca, client)
            self.assertEqual(code, 503, body)
        finally:
            a.stop()
            s.close()


def main():
    global ARGS, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", required=True)
    ARGS, rest = ap.parse_known_args()
    if not os.path.exists(ARGS.adapter) or not shutil.which("openssl"):
        print("SKIPPED: adapter binary or openssl missing")
        sys.exit(77)
    TMP = tempfile.mkdtemp(prefix="oomcast-lifecycle-")
    ARGS.forecasts = os.path.join(TMP, "forecasts.json")
    with open(ARGS.forecasts, "w") as f:
        json.dump({"ageSeconds": 5, "staleAfterSeconds": 120, "forecasts": []}, f)
    try:
        r = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2).result
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(0 if r.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
