#!/usr/bin/env python3
"""A cAdvisor stand-in: exposes the memory of memory cgroups in cAdvisor's metric names.

Usage: exporter.py --port PORT --targets FILE

FILE is JSON, re-read on every scrape (the harness edits it as containers come and go):
  [{"path": "/sys/fs/cgroup/memory/...", "version": 1 | 2,
    "namespace": "e2e", "pod": "steady-0", "container": "app", "labels": {"app": "steady"}}]

Per target whose cgroup exists and holds at least one process (a running container):
  container_memory_rss                 v1 memory.stat total_rss, v2 memory.stat anon (bytes)
  container_memory_working_set_bytes   usage - inactive_file (bytes), as cAdvisor computes it
  container_memory_usage_bytes         v1 memory.usage_in_bytes, v2 memory.current (bytes)
  container_spec_memory_limit_bytes    v1 memory.limit_in_bytes, v2 memory.max (bytes)
  container_oom_events_total           the cgroup's OOM-kill counter
with labels namespace, pod, container, id (the cgroup path). A container whose processes are
gone has no series, as with cAdvisor: the harness leaves a killed workload dead (no restart).
kube_pod_labels{namespace, pod, label_<k>} 1 is exported for every target (kube-state-metrics'
name), so pod labels can be joined when a consumer wants them.
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import Cgroup, CgroupDriver  # noqa: E402


def _esc(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(d):
    return "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in d.items()) + "}"


def _label_name(key):
    return "label_" + "".join(c if c.isalnum() else "_" for c in key)


class State:
    def __init__(self, targets_path):
        self.targets_path = targets_path
        self.scrapes = 0

    def render(self):
        try:
            with open(self.targets_path) as f:
                targets = json.load(f)
        except (OSError, ValueError):
            targets = []
        families = {
            "container_memory_rss": ("gauge", "Anonymous resident memory (bytes).", []),
            "container_memory_working_set_bytes": ("gauge", "Working set (bytes).", []),
            "container_memory_usage_bytes": ("gauge", "Memory usage (bytes).", []),
            "container_spec_memory_limit_bytes": ("gauge", "Memory limit (bytes).", []),
            "container_oom_events_total": ("counter", "OOM kills in the cgroup.", []),
            "kube_pod_labels": ("gauge", "Pod labels (kube-state-metrics).", []),
        }
        for t in targets:
            pod_labels = {"namespace": t["namespace"], "pod": t["pod"]}
            for k, v in sorted(t.get("labels", {}).items()):
                pod_labels[_label_name(k)] = v
            families["kube_pod_labels"][2].append((pod_labels, 1))
            path = t["path"]
            if not os.path.isdir(path):
                continue
            cg = Cgroup(CgroupDriver(t.get("version", 1), os.path.dirname(path)), path)
            if not cg.pids():
                continue  # container gone: no series (cAdvisor drops them)
            s = cg.stats()
            lab = {"namespace": t["namespace"], "pod": t["pod"], "container": t["container"],
                   "id": "/" + os.path.relpath(path, os.path.dirname(os.path.dirname(path)))}
            families["container_memory_rss"][2].append((lab, s["rss"]))
            families["container_memory_working_set_bytes"][2].append((lab, s["working_set"]))
            families["container_memory_usage_bytes"][2].append((lab, s["usage"]))
            if s["limit"] and s["limit"] < (1 << 62):
                families["container_spec_memory_limit_bytes"][2].append((lab, s["limit"]))
            families["container_oom_events_total"][2].append((lab, s["oom_kill"]))
        out = []
        for name, (kind, help_text, samples) in families.items():
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")
            for lab, value in samples:
                out.append(f"{name}{_labels(lab)} {value}")
        self.scrapes += 1
        out.append("# TYPE e2e_exporter_scrapes_total counter")
        out.append(f"e2e_exporter_scrapes_total {self.scrapes}")
        return ("\n".join(out) + "\n").encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--targets", required=True)
    args = ap.parse_args()
    state = State(args.targets)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = state.render()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"exporter listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
