#!/usr/bin/env python3
"""An HTTP proxy in front of a Prometheus that injects faults on demand.

Usage: fault_proxy.py --port PORT --upstream http://127.0.0.1:9090 [--oversized-mib 96]

Control (answered by the proxy itself, never forwarded):
  GET /__fault/mode?set=MODE   switch the mode for every following request
  GET /__fault/stats           JSON: {"mode": ..., "requests": {mode: count}, "log": [...]}

Modes (applied to every /api/ request; anything else is forwarded as is):
  pass        forward unchanged
  truncate    the upstream answer with its full Content-Length, cut off half way, then close
  malformed   200 application/json that is not JSON ('{"status":"success","data":{"resultT...')
  wrongtype   200 valid JSON of the wrong shape (data.result is a string, values are objects)
  oversized   200 valid JSON padded to --oversized-mib MiB (a response-size cap must stop it)
  trickle     200 headers, then one byte of a valid answer every 0.5 s for up to 60 s
  error500    500 with a Prometheus error body
  reset       accept and close the connection without answering
"""

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("pass", "truncate", "malformed", "wrongtype", "oversized", "trickle", "error500", "reset")


class State:
    def __init__(self, upstream, oversized_bytes):
        self.upstream = upstream.rstrip("/")
        self.oversized_bytes = oversized_bytes
        self.mode = "pass"
        self.counts = {m: 0 for m in MODES}
        self.log = []
        self.lock = threading.Lock()

    def take(self, path):
        with self.lock:
            mode = self.mode
            self.counts[mode] += 1
            if mode != "pass":
                self.log.append({"t": round(time.time(), 3), "mode": mode, "path": path[:120]})
                del self.log[:-200]
            return mode


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _reply(self, code, body, ctype="application/json", length=None):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def _control(self):
            url = urllib.parse.urlparse(self.path)
            if url.path == "/__fault/mode":
                mode = urllib.parse.parse_qs(url.query).get("set", [""])[0]
                if mode not in MODES:
                    self._reply(400, json.dumps({"error": f"unknown mode {mode}"}).encode())
                    return
                with state.lock:
                    state.mode = mode
                print(f"{time.strftime('%H:%M:%S')} mode -> {mode}", flush=True)
                self._reply(200, json.dumps({"mode": mode}).encode())
            elif url.path == "/__fault/stats":
                with state.lock:
                    body = json.dumps({"mode": state.mode, "requests": state.counts,
                                       "log": state.log}).encode()
                self._reply(200, body)
            else:
                self._reply(404, b"{}")

        def _upstream(self, body):
            req = urllib.request.Request(state.upstream + self.path, data=body,
                                         method=self.command)
            for k in ("Content-Type", "Authorization", "Accept", "X-Scope-OrgID"):
                if self.headers.get(k):
                    req.add_header(k, self.headers[k])
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return resp.status, resp.read(), resp.headers.get("Content-Type", "")
            except urllib.error.HTTPError as e:
                return e.code, e.read(), e.headers.get("Content-Type", "")
            except Exception as e:  # noqa: BLE001 - upstream down: say so like a gateway
                return 502, json.dumps({"status": "error", "errorType": "unavailable",
                                        "error": f"fault proxy: upstream: {e}"}).encode(), \
                    "application/json"

        def _handle(self):
            if self.path.startswith("/__fault/"):
                self._control()
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            mode = state.take(self.path) if self.path.startswith("/api/") else "pass"
            try:
                self._fault(mode, body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _fault(self, mode, body):
            if mode == "reset":
                self.close_connection = True
                return
            if mode == "malformed":
                self._reply(200, b'{"status":"success","data":{"resultType":"matrix","result":'
                                 b'[{"metric":{"__name__":"container_memory_rss",,,]]}}garbage')
                return
            if mode == "wrongtype":
                self._reply(200, json.dumps({"status": "success", "data": {
                    "resultType": "matrix", "result": "this is not a list",
                    "values": {"a": "b"}}}).encode())
                return
            if mode == "error500":
                self._reply(500, json.dumps({"status": "error", "errorType": "internal",
                                             "error": "fault proxy: injected 500"}).encode())
                return
            if mode == "oversized":
                head = b'{"status":"success","data":{"resultType":"matrix","result":[]},"pad":"'
                tail = b'"}'
                pad = state.oversized_bytes - len(head) - len(tail)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(head) + pad + len(tail)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(head)
                chunk = b"x" * (1 << 20)
                sent = 0
                while sent < pad:
                    n = min(len(chunk), pad - sent)
                    self.wfile.write(chunk[:n])
                    sent += n
                self.wfile.write(tail)
                self.close_connection = True
                return
            code, data, ctype = self._upstream(body)
            if mode == "truncate":
                self.send_response(code)
                self.send_header("Content-Type", ctype or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data[: max(1, len(data) // 2)])
                self.wfile.flush()
                self.close_connection = True
                return
            if mode == "trickle":
                self.send_response(code)
                self.send_header("Content-Type", ctype or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                deadline = time.monotonic() + 60
                for i in range(len(data)):
                    if time.monotonic() > deadline:
                        break
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.5)
                self.close_connection = True
                return
            self._reply(code, data, ctype or "application/json")

        do_GET = _handle  # noqa: N815
        do_POST = _handle  # noqa: N815

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--oversized-mib", type=float, default=96)
    args = ap.parse_args()
    state = State(args.upstream, int(args.oversized_mib * (1 << 20)))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True
    print(f"fault proxy on 127.0.0.1:{args.port} -> {args.upstream}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
