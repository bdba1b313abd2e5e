#!/usr/bin/env python3
"""TokenReview and SubjectAccessReview, as the kube-apiserver answers them, for the adapter's
delegated authentication in the e2e tests (wrk can send a bearer token, not a client
certificate).

Usage: authn_webhook.py --port PORT --token TOKEN=USER[:GROUP,...] [--token ...]
       [--allow-user USER ...]

  POST /apis/authentication.k8s.io/v1/tokenreviews        known token: authenticated as USER
  POST /apis/authorization.k8s.io/v1/subjectaccessreviews allowed for --allow-user and
                                                          system:masters, denied otherwise
  GET  /api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication   404
  GET  /_webhook/stats                                    {"tokenreviews": n, "sars": n}
Plain HTTP on 127.0.0.1.
"""

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", action="append", default=[])
    ap.add_argument("--allow-user", action="append", default=[])
    args = ap.parse_args()
    tokens = {}
    for spec in args.token:
        token, _, who = spec.partition("=")
        user, _, groups = who.partition(":")
        tokens[token] = (user, [g for g in groups.split(",") if g])
    stats = {"tokenreviews": 0, "sars": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            if self.path.startswith("/_webhook/stats"):
                self.reply(200, stats)
                return
            self.reply(404, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                             "status": "Failure", "reason": "NotFound", "code": 404,
                             "message": f"{self.path} not found"})

        def do_POST(self):  # noqa: N802
            n = int(self.headers.get("Content-Length") or 0)
            try:
                req = json.loads(self.rfile.read(n) or b"{}")
            except ValueError:
                self.reply(400, {"kind": "Status", "code": 400, "reason": "BadRequest"})
                return
            if self.path.startswith("/apis/authentication.k8s.io/v1/tokenreviews"):
                stats["tokenreviews"] += 1
                token = req.get("spec", {}).get("token", "")
                status = {"authenticated": False}
                if token in tokens:
                    user, groups = tokens[token]
                    status = {"authenticated": True,
                              "user": {"username": user, "uid": f"uid-{user}",
                                       "groups": groups + ["system:authenticated"]}}
                req["status"] = status
                self.reply(201, req)
            elif self.path.startswith("/apis/authorization.k8s.io/v1/subjectaccessreviews"):
                stats["sars"] += 1
                spec = req.get("spec", {})
                allowed = (spec.get("user") in args.allow_user
                           or "system:masters" in (spec.get("groups") or []))
                req["status"] = {"allowed": allowed,
                                 "reason": "e2e webhook" if allowed else "not allowed"}
                self.reply(201, req)
            else:
                self.reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"authn webhook on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
