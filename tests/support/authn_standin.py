#!/usr/bin/env python3
"""A local HTTPS stand-in for the parts of kube-apiserver an aggregated API server delegates to.

Speaks the real objects:
  POST /apis/authentication.k8s.io/v1/tokenreviews         (authentication.k8s.io/v1 TokenReview)
  POST /apis/authorization.k8s.io/v1/subjectaccessreviews  (authorization.k8s.io/v1 SubjectAccessReview)
  GET  /api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication  (v1 ConfigMap)
and, for tests:
  GET  /_stats      request counts and the last reviews received
  GET  /readyz      "ok"

Configuration is a JSON file (re-read on every request, so tests can change it):
  {"callerToken": "adapter-sa-token",           # the adapter must present this (401 otherwise)
   "tokens": {"good": {"username": "bob", "uid": "1", "groups": ["dev"],
                       "extra": {"scopes": ["a"]}}},
   "rules": [{"user": "bob" | "group": "dev",     # who (one of them; "*" = anyone)
              "verb": "list", "namespace": "default", "resource": "*", "group_": "external.metrics.k8s.io",
              "nonResourcePath": "/apis*"}],       # "*" wildcards; a trailing * is a prefix match
   "configMap": {"client-ca-file": "PEM", ...},   # data of the ConfigMap; absent: 404
   "tokenReviewDelaySeconds": 0}                   # a slow API server: each TokenReview waits

Usage: authn_standin.py --config FILE --cert CERT --key KEY [--port 0] [--port-file F]
Prints "PORT <n>" on stdout once listening.
"""
import argparse
import http.server
import json
import ssl
import sys
import threading
import time

STATS = {"tokenreviews": 0, "subjectaccessreviews": 0, "configmap": 0, "unauthorized": 0,
         "last_tokenreview": None, "last_sar": None}
LOCK = threading.Lock()


def matches(pattern, value):
    if pattern is None or pattern == "*":
        return True
    if pattern.endswith("*"):
        return (value or "").startswith(pattern[:-1])
    return pattern == (value or "")


def status_object(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    config_path = None

    def log_message(self, *args):
        pass

    def config(self):
        with open(self.config_path) as f:
            return json.load(f)

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized_caller(self, cfg):
        want = cfg.get("callerToken")
        if not want:
            return True
        if self.headers.get("Authorization", "") == "Bearer " + want:
            return True
        with LOCK:
            STATS["unauthorized"] += 1
        self.reply(401, status_object(401, "Unauthorized", "Unauthorized"))
        return False

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                return self.reply(200, STATS)
        if self.path == "/readyz":
            return self.reply(200, {"ok": True})
        cfg = self.config()
        if not self.authorized_caller(cfg):
            return
        if self.path == "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication":
            with LOCK:
                STATS["configmap"] += 1
            if "configMap" not in cfg:
                return self.reply(404, status_object(404, "NotFound",
                                                     'configmaps "extension-apiserver-authentication" not found'))
            return self.reply(200, {
                "kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": "extension-apiserver-authentication", "namespace": "kube-system",
                             "resourceVersion": "1"},
                "data": cfg["configMap"]})
        return self.reply(404, status_object(404, "NotFound", "the server could not find the requested resource"))

    def do_POST(self):
        cfg = self.config()
        if not self.authorized_caller(cfg):
            return
        body = self.read_body()
        if self.path == "/apis/authentication.k8s.io/v1/tokenreviews":
            if body.get("kind") != "TokenReview" or body.get("apiVersion") != "authentication.k8s.io/v1":
                return self.reply(400, status_object(400, "BadRequest", "not a TokenReview"))
            token = body.get("spec", {}).get("token", "")
            time.sleep(float(cfg.get("tokenReviewDelaySeconds", 0)))
            with LOCK:
                STATS["tokenreviews"] += 1
                STATS["last_tokenreview"] = body
            user = cfg.get("tokens", {}).get(token)
            status = {"authenticated": bool(user)}
            if user:
                status["user"] = user
                status["audiences"] = body.get("spec", {}).get("audiences", [])
            else:
                status["error"] = "invalid bearer token"
            out = dict(body)
            out["metadata"] = {"creationTimestamp": None}
            out["status"] = status
            return self.reply(201, out)
        if self.path == "/apis/authorization.k8s.io/v1/subjectaccessreviews":
            if body.get("kind") != "SubjectAccessReview" or body.get("apiVersion") != "authorization.k8s.io/v1":
                return self.reply(400, status_object(400, "BadRequest", "not a SubjectAccessReview"))
            spec = body.get("spec", {})
            with LOCK:
                STATS["subjectaccessreviews"] += 1
                STATS["last_sar"] = body
            allowed = False
            ra = spec.get("resourceAttributes")
            nra = spec.get("nonResourceAttributes")
            for rule in cfg.get("rules", []):
                who = ("user" in rule and matches(rule["user"], spec.get("user"))) or \
                      ("group" in rule and any(matches(rule["group"], g) for g in spec.get("groups", [])))
                if not who:
                    continue
                if ra is not None and "nonResourcePath" not in rule:
                    if (matches(rule.get("verb"), ra.get("verb")) and
                            matches(rule.get("namespace"), ra.get("namespace")) and
                            matches(rule.get("resource"), ra.get("resource")) and
                            matches(rule.get("group_"), ra.get("group"))):
                        allowed = True
                if nra is not None and "nonResourcePath" in rule:
                    if matches(rule["nonResourcePath"], nra.get("path")) and \
                            matches(rule.get("verb"), nra.get("verb")):
                        allowed = True
            out = dict(body)
            out["metadata"] = {"creationTimestamp": None}
            out["status"] = {"allowed": allowed}
            if not allowed:
                out["status"]["reason"] = "no RBAC policy matched"
            return self.reply(201, out)
        return self.reply(404, status_object(404, "NotFound", "the server could not find the requested resource"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    Handler.config_path = args.config
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
