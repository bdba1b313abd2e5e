#!/usr/bin/env python3
"""Hostile-client suite of oomcast-metrics-adapter (CTest label `security`).

The real binary (with --fake-forecasts, TEST ONLY) behind the TokenReview/SubjectAccessReview
stand-in, everything on 127.0.0.1 with ports picked at run time, every wait bounded. Each test
attacks the adapter as a stranger on the pod network would, then asserts that the process is
alive, that the answer is the documented one (README "Security model"), and that a legitimate
request is still served.

Usage: hostile_client_test.py --adapter BIN [-k PATTERN]
"""
import argparse
import json
import os
import random
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "metrics-adapter"))
from adapter_integration_test import Pki, forecasts_doc, wait_for_line  # noqa: E402

STANDIN = os.path.join(HERE, "..", "support", "authn_standin.py")
GROUP = "/apis/external.metrics.k8s.io/v1beta1"
METRIC = GROUP + "/namespaces/default/memory_oom_risk"
SECRET = GROUP + "/namespaces/secret/memory_oom_risk"
ARGS = None
ENV = None
# Generous bound for "served in bounded time": not a benchmark.
BOUND_SECONDS = 5.0

BAD_VALUES = [
    (b"\xff\xfe", "invalid UTF-8"),
    (b"\xc0\xaf", "overlong UTF-8"),
    (b"\xed\xa0\x80", "UTF-16 surrogate"),
    (b"a\x01b", "C0 control"),
    (b"a\x7fb", "DEL"),
    (b"a\x1bb", "escape"),
]


class Env:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="oomcast-security-")
        self.procs = []
        p = Pki(self.tmp)
        self.serving_ca = p.ca("serving-ca")
        self.serving = p.cert("serving", "serving-ca", "127.0.0.1", server=True)
        self.client_ca = p.ca("client-ca")
        self.alice = p.cert("alice", "client-ca", "alice", ["team-a"])
        self.rh_ca = p.ca("requestheader-ca")
        self.front_proxy = p.cert("front-proxy", "requestheader-ca", "front-proxy-client")
        self.standin_cert = p.cert("standin", "serving-ca", "standin", server=True)
        self.standin_config = os.path.join(self.tmp, "standin.json")
        self.write_standin()
        self.standin_port = self.start_standin()
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        import base64
        with open(self.kubeconfig, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config",
                       "clusters": [{"name": "c", "cluster": {
                           "server": "https://127.0.0.1:%d" % self.standin_port,
                           "certificate-authority-data": base64.b64encode(
                               open(self.serving_ca, "rb").read()).decode()}}],
                       "users": [{"name": "u", "user": {"token": "adapter-sa-token"}}],
                       "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                       "current-context": "x"}, f)
        self.forecasts = os.path.join(self.tmp, "forecasts.json")
        with open(self.forecasts, "w") as f:
            json.dump(forecasts_doc(), f)
        self.main = self.start_adapter(["--authentication-token-webhook-cache-ttl", "1s"])

    def write_standin(self, tokens=None, delay=0):
        cfg = {
            "callerToken": "adapter-sa-token",
            "tokenReviewDelaySeconds": delay,
            "tokens": tokens if tokens is not None else {
                "good-token": {"username": "bob", "groups": ["dev"]},
                "metrics-token": {"username": "prometheus", "groups": ["monitoring"]},
                "temp-token": {"username": "bob", "groups": ["dev"]},
            },
            "rules": [
                {"group": "system:authenticated", "verb": "get", "nonResourcePath": "/apis*"},
                {"user": "prometheus", "verb": "get", "nonResourcePath": "/metrics"},
                {"user": "bob", "verb": "list", "namespace": "default", "resource": "*",
                 "group_": "external.metrics.k8s.io"},
                {"user": "alice", "verb": "list", "namespace": "default", "resource": "*",
                 "group_": "external.metrics.k8s.io"},
                {"user": "carol", "verb": "list", "namespace": "secret", "resource": "*",
                 "group_": "external.metrics.k8s.io"},
            ],
            "configMap": {
                "client-ca-file": open(self.client_ca).read(),
                "requestheader-client-ca-file": open(self.rh_ca).read(),
                "requestheader-allowed-names": json.dumps(["front-proxy-client"]),
            },
        }
        tmp = self.standin_config + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f)
        os.replace(tmp, self.standin_config)

    def start_standin(self):
        proc = subprocess.Popen([sys.executable, STANDIN, "--config", self.standin_config,
                                 "--cert", self.standin_cert[0], "--key", self.standin_cert[1]],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(proc)
        line = proc.stdout.readline()
        if not line.startswith("PORT"):
            raise RuntimeError("stand-in did not start: %r" % line)
        return int(line.split()[1])

    def start_adapter(self, extra, nofile=None):
        cmd = [ARGS.adapter, "--secure-port", "0", "--bind-address", "127.0.0.1",
               "--tls-cert-file", self.serving[0], "--tls-private-key-file", self.serving[1],
               "--fake-forecasts", self.forecasts, "--log-level", "warn", "--window", "30m",
               "--kubeconfig", self.kubeconfig, "--log-level", "info"] + list(extra)

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                preexec_fn=limit)
        self.procs.append(proc)
        line = wait_for_line(proc, "serving external.metrics")
        return Adapter(proc, int(line.split("port=")[1].split()[0].strip('"')))

    def close(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Adapter:
    def __init__(self, proc, port):
        self.proc = proc
        self.port = port

    def alive(self):
        return self.proc.poll() is None

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tls_context(cert=None, **kw):
    ctx = ssl.create_default_context(cafile=ENV.serving_ca)
    if cert:
        ctx.load_cert_chain(cert[0], cert[1])
    return ctx


def raw_request(port, raw, cert=None, timeout=10):
    """Sends `raw` bytes over TLS; returns (status code or None, headers dict, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = tls_context(cert).wrap_socket(s, server_hostname="127.0.0.1")
    try:
        s.sendall(raw)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                headers = {}
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    headers[k.strip().lower().decode()] = v.strip().decode()
                n = int(headers.get("content-length", "0"))
                if len(body) >= n:
                    return int(head.split()[1]), headers, body[:n]
        return None, {}, data
    finally:
        s.close()


def get(port, path, token=None, cert=None, headers=None, timeout=10):
    lines = [b"GET " + (path if isinstance(path, bytes) else path.encode()) + b" HTTP/1.1",
             b"Host: 127.0.0.1"]
    if token:
        lines.append(b"Authorization: Bearer " + (token if isinstance(token, bytes) else token.encode()))
    for k, v in (headers or {}).items():
        lines.append(k.encode() + b": " + (v if isinstance(v, bytes) else v.encode()))
    return raw_request(port, b"\r\n".join(lines) + b"\r\n\r\n", cert=cert, timeout=timeout)


def status_of(body):
    st = json.loads(body)
    assert st["kind"] == "Status" and st["apiVersion"] == "v1", st
    return st


class Base(unittest.TestCase):
    def assertServes(self, adapter, cert=None, token="good-token"):
        """The process is alive and a legitimate request gets its 200 within the bound."""
        self.assertTrue(adapter.alive(), "adapter died")
        t = time.monotonic()
        code, _, body = get(adapter.port, METRIC, token=None if cert else token, cert=cert)
        self.assertEqual(code, 200, body[:300])
        self.assertEqual(json.loads(body)["kind"], "ExternalMetricValueList")
        self.assertLess(time.monotonic() - t, BOUND_SECONDS)


class MalformedInputTest(Base):
    """Invalid UTF-8 and control characters in every header and in the path."""

    HEADERS = ["Authorization", "X-Remote-User", "X-Remote-Group", "X-Remote-Extra-Scopes",
               "Accept", "User-Agent", "Content-Type", "X-Anything"]

    def check_rejected(self, code, headers, body, what):
        self.assertEqual(code, 400, "%s: %r" % (what, body[:200]))
        st = status_of(body)
        self.assertEqual((st["reason"], st["code"]), ("BadRequest", 400), what)
        self.assertEqual(headers.get("connection"), "close", what)

    def test_bearer_token_with_invalid_utf8_unauthenticated(self):
        # The request that used to abort the process (nlohmann::json::dump on the TokenReview).
        for value, what in BAD_VALUES:
            code, headers, body = get(ENV.main.port, METRIC, token=b"tok" + value)
            self.check_rejected(code, headers, body, "token " + what)
        self.assertServes(ENV.main)

    def test_every_header_unauthenticated_and_authenticated(self):
        for name in self.HEADERS:
            for value, what in BAD_VALUES:
                label = "%s %s" % (name, what)
                # Unauthenticated.
                code, headers, body = get(ENV.main.port, METRIC, headers={name: b"v" + value})
                self.check_rejected(code, headers, body, label + " (no credentials)")
                # Authenticated by certificate, and (other headers) by token.
                code, headers, body = get(ENV.main.port, METRIC, cert=ENV.alice,
                                          headers={name: b"v" + value})
                self.check_rejected(code, headers, body, label + " (certificate)")
                if name != "Authorization":
                    code, headers, body = get(ENV.main.port, METRIC, token="good-token",
                                              headers={name: b"v" + value})
                    self.check_rejected(code, headers, body, label + " (token)")
        self.assertServes(ENV.main)
        self.assertServes(ENV.main, cert=ENV.alice)

    def test_path_raw_and_percent_encoded(self):
        for value, what in BAD_VALUES:
            pct = "".join("%%%02X" % b for b in value).encode()
            for path in (GROUP.encode() + b"/namespaces/default/" + pct,
                         GROUP.encode() + b"/namespaces/" + pct + b"/memory_oom_risk",
                         b"/" + pct):
                for kw in ({}, {"token": "good-token"}, {"cert": ENV.alice}):
                    code, headers, body = get(ENV.main.port, path, **kw)
                    self.check_rejected(code, headers, body, "path %r %s %s" % (path, what, kw))
            # Raw bytes: the HTTP parser refuses control bytes itself; every answer is a 400.
            code, headers, body = get(ENV.main.port, GROUP.encode() + b"/namespaces/" + value,
                                      token="good-token")
            self.assertIn(code, (400, None), what)
            if code == 400:
                status_of(body)
        # Malformed escapes.
        for path in (b"/apis/%zz", b"/apis/%4", b"/apis%"):
            code, headers, body = get(ENV.main.port, path, token="good-token")
            self.check_rejected(code, headers, body, path)
        self.assertServes(ENV.main)

    def test_garbage_and_non_http(self):
        for raw in (b"\x00\x01\x02\x03\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                    b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"):
            code, _, body = raw_request(ENV.main.port, raw)
            self.assertEqual(code, 400, raw)
            status_of(body)
        self.assertServes(ENV.main)


class IdentityTest(Base):
    def test_forged_remote_headers_without_front_proxy_certificate(self):
        forged = {"X-Remote-User": "carol", "X-Remote-Group": "system:masters"}
        # No credentials: the headers prove nothing.
        code, _, body = get(ENV.main.port, SECRET, headers=forged)
        self.assertEqual((code, status_of(body)["reason"]), (401, "Unauthorized"))
        # A token user sending them stays that user (bob may not read "secret").
        code, _, body = get(ENV.main.port, SECRET, token="good-token", headers=forged)
        self.assertEqual(code, 403)
        self.assertIn('"bob"', status_of(body)["message"])
        # A client certificate sending them stays alice.
        code, _, body = get(ENV.main.port, SECRET, cert=ENV.alice, headers=forged)
        self.assertEqual(code, 403)
        self.assertIn('"alice"', status_of(body)["message"])
        # Only the front proxy's certificate makes them count.
        code, _, _ = get(ENV.main.port, SECRET, cert=ENV.front_proxy,
                         headers={"X-Remote-User": "carol"})
        self.assertEqual(code, 200)
        self.assertServes(ENV.main)

    def test_revoked_token(self):
        code, _, _ = get(ENV.main.port, METRIC, token="temp-token")
        self.assertEqual(code, 200)
        tokens = {"good-token": {"username": "bob", "groups": ["dev"]},
                  "metrics-token": {"username": "prometheus", "groups": ["monitoring"]}}
        ENV.write_standin(tokens=tokens)
        try:
            # The adapter caches reviews for --authentication-token-webhook-cache-ttl (1 s here).
            deadline = time.monotonic() + BOUND_SECONDS
            code = None
            while time.monotonic() < deadline:
                code, _, body = get(ENV.main.port, METRIC, token="temp-token")
                if code == 401:
                    break
                time.sleep(0.2)
            self.assertEqual(code, 401)
            self.assertEqual(status_of(body)["reason"], "Unauthorized")
        finally:
            ENV.write_standin()
        self.assertServes(ENV.main)

    def test_metrics_needs_authentication_and_authorization(self):
        code, _, body = get(ENV.main.port, "/metrics")
        self.assertEqual((code, status_of(body)["reason"]), (401, "Unauthorized"))
        code, _, body = get(ENV.main.port, "/metrics", token="good-token")
        self.assertEqual((code, status_of(body)["reason"]), (403, "Forbidden"))
        code, headers, body = get(ENV.main.port, "/metrics", token="metrics-token")
        self.assertEqual(code, 200)
        self.assertIn(b"oomcast_adapter_requests_total", body)
        for path in ("/healthz", "/livez", "/readyz"):
            code, _, _ = get(ENV.main.port, path)
            self.assertEqual(code, 200, path)


class FloodTest(Base):
    def test_bad_token_flood_against_slow_token_review(self):
        adapter = ENV.start_adapter(["--token-review-workers", "2", "--token-review-queue", "4"])
        ENV.write_standin(delay=2)
        stop = threading.Event()
        codes = []
        retry_after = []

        def flood():
            while not stop.is_set():
                try:
                    code, headers, _ = get(adapter.port, METRIC,
                                           token="random-%d" % random.getrandbits(64), timeout=15)
                except OSError:
                    continue
                codes.append(code)
                if code == 429:
                    retry_after.append(headers.get("retry-after"))

        threads = [threading.Thread(target=flood, daemon=True) for _ in range(24)]
        try:
            for t in threads:
                t.start()
            time.sleep(1)
            # Certificate-authenticated requests are timed beside the flood.
            for _ in range(5):
                self.assertServes(adapter, cert=ENV.alice)
                time.sleep(0.2)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=20)
            ENV.write_standin()
        self.assertTrue(codes)
        self.assertTrue(set(codes) <= {401, 429}, set(codes))
        self.assertIn(429, codes, "the bounded token-review queue never filled")
        self.assertTrue(all(r == "1" for r in retry_after), retry_after[:5])
        self.assertServes(adapter)

    def test_idle_connection_flood_under_low_fd_limit(self):
        # 64 descriptors and a connection limit above it: accept fails with EMFILE and must
        # back off instead of spinning.
        adapter = ENV.start_adapter(["--max-connections", "10000", "--idle-timeout", "30s"],
                                    nofile=64)
        self.run_flood(adapter, 150)

    def test_idle_connection_flood_over_connection_limit(self):
        adapter = ENV.start_adapter(["--max-connections", "20", "--idle-timeout", "30s"])
        self.run_flood(adapter, 60)

    def run_flood(self, adapter, n):
        socks = []
        try:
            for _ in range(n):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", adapter.port), timeout=2))
                except OSError:
                    break
            time.sleep(0.5)
            cpu0, t0 = adapter.cpu_seconds(), time.monotonic()
            time.sleep(3)
            cpu = adapter.cpu_seconds() - cpu0
            wall = time.monotonic() - t0
            # A spinning accept loop burns a whole core (cpu close to wall).
            self.assertLess(cpu, 0.25 * wall, "adapter used %.2f s CPU in %.2f s" % (cpu, wall))
            self.assertTrue(adapter.alive())
        finally:
            for s in socks:
                s.close()
        # Once the idle connections are gone, legitimate requests are served again.
        deadline = time.monotonic() + BOUND_SECONDS
        while True:
            try:
                code, _, _ = get(adapter.port, METRIC, token="good-token", timeout=2)
                if code == 200:
                    break
            except OSError:
                pass
            self.assertLess(time.monotonic(), deadline, "not served after the flood")
            time.sleep(0.2)
        self.assertServes(adapter)


class SizeAndSlownessTest(Base):
    def test_oversized_headers_and_bodies(self):
        code, _, body = get(ENV.main.port, METRIC, token="good-token",
                            headers={"X-Big": "a" * 40000})
        self.assertEqual(code, 431)
        status_of(body)
        code, _, body = get(ENV.main.port, METRIC + "?labelSelector=" + "a" * 40000,
                            token="good-token")
        self.assertEqual(code, 431)
        many = {"X-H%d" % i: "v" for i in range(3000)}
        code, _, _ = get(ENV.main.port, METRIC, token="good-token", headers=many)
        self.assertEqual(code, 431)
        # The declared length is refused before the body is read.
        raw = (b"POST " + METRIC.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
               b"Authorization: Bearer good-token\r\n\r\n" + b"x" * 1000)
        code, _, body = raw_request(ENV.main.port, raw)
        self.assertEqual(code, 413)
        status_of(body)
        self.assertServes(ENV.main)

    def test_slow_requests_are_cut_off(self):
        adapter = ENV.start_adapter(["--idle-timeout", "2s"])
        slow = []
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", adapter.port), timeout=10)
            s = tls_context().wrap_socket(s, server_hostname="127.0.0.1")
            s.sendall(b"GET " + METRIC.encode() + b" HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        # Legitimate requests are served while the slow ones trickle.
        self.assertServes(adapter)
        t = time.monotonic()
        closed = 0
        for s in slow:
            try:
                while True:
                    s.sendall(b"X-Slow: 1\r\n")
                    time.sleep(0.3)
                    if time.monotonic() - t > 10:
                        break
            except OSError:
                closed += 1
            finally:
                s.close()
        self.assertEqual(closed, len(slow), "slow senders were not disconnected")
        self.assertLess(time.monotonic() - t, 8)
        self.assertServes(adapter)


class TlsTest(Base):
    def s_client(self, port, *args):
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                            "-CAfile", ENV.serving_ca] + list(args),
                           input=b"", capture_output=True, timeout=20)
        out = r.stdout.decode(errors="replace")
        return "Cipher is (NONE)" not in out and r.returncode == 0 and "Cipher is" in out, out

    def test_versions_and_ciphers(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl not found")
        port = ENV.main.port
        ok, out = self.s_client(port, "-tls1_3")
        self.assertTrue(ok, out[-500:])
        ok, _ = self.s_client(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertTrue(ok)
        ok, _ = self.s_client(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")
        self.assertTrue(ok)
        for weak in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "AES128-SHA",
                     "AES128-GCM-SHA256"):
            ok, _ = self.s_client(port, "-tls1_2", "-cipher", weak)
            self.assertFalse(ok, weak)
        for old in ("-tls1", "-tls1_1"):
            ok, _ = self.s_client(port, old, "-cipher", "DEFAULT@SECLEVEL=0")
            self.assertFalse(ok, old)
        # --tls-min-version VersionTLS13 refuses TLS 1.2; --tls-cipher-suites narrows 1.2.
        a13 = ENV.start_adapter(["--tls-min-version", "VersionTLS13"])
        self.assertFalse(self.s_client(a13.port, "-tls1_2")[0])
        self.assertTrue(self.s_client(a13.port, "-tls1_3")[0])
        one = ENV.start_adapter(["--tls-cipher-suites", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"])
        self.assertTrue(self.s_client(one.port, "-tls1_2", "-cipher",
                                      "ECDHE-ECDSA-AES256-GCM-SHA384")[0])
        self.assertFalse(self.s_client(one.port, "-tls1_2", "-cipher",
                                       "ECDHE-ECDSA-AES128-GCM-SHA256")[0])
        for a in (ENV.main, a13, one):
            self.assertServes(a)

    def test_bad_tls_flags_are_start_up_errors(self):
        for flags in (["--tls-min-version", "VersionTLS10"], ["--tls-min-version", "tls9"],
                      ["--tls-cipher-suites", "TLS_NO_SUCH_SUITE"]):
            r = subprocess.run([ARGS.adapter] + flags, capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, flags)
            self.assertIn(flags[0], r.stderr)


def main():
    global ARGS, ENV
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", required=True)
    ap.add_argument("-k", dest="pattern", default=None)
    ARGS, _ = ap.parse_known_args()
    if not shutil.which("openssl"):
        print("SKIPPED: openssl (CLI) is needed for the certificates")
        return 77
    ENV = Env()
    try:
        loader = unittest.TestLoader()
        if ARGS.pattern:
            loader.testNamePatterns = ["*%s*" % ARGS.pattern]
        suite = loader.loadTestsFromModule(sys.modules[__name__])
        result = unittest.TextTestRunner(verbosity=2).run(suite)
        alive = ENV.main.alive()
        if not alive:
            print("FAIL: the main adapter died during the suite")
        return 0 if result.wasSuccessful() and alive else 1
    finally:
        ENV.close()


if __name__ == "__main__":
    sys.exit(main())
