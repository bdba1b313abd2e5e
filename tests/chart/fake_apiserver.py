#!/usr/bin/env python3
"""The least of a kube-apiserver that `helm template --dry-run=server` needs, for testing the
chart's `lookup` of an existing Secret (the adapter's serving certificate kept across upgrades):
/version, discovery (/api, /apis and the resource lists of the kinds the chart renders) and
GET /api/v1/namespaces/{ns}/secrets/{name}, answered from the JSON files in --objects-dir named
{ns}.{name}.json, and GET of a cluster-scoped object (/apis/{group}/{version}/{plural}/{name}, e.g.
the APIService v1beta1.external.metrics.k8s.io or a CRD) from _cluster.{plural}.{name}.json (read
on every request, so a test can add one between two renders; 404 Status otherwise). Every request path is appended to --log.

Run: fake_apiserver.py --objects-dir D [--log F]; prints the port (bound on 127.0.0.1, port 0)
on the first line of stdout, then serves until killed. Python 3 standard library only.
"""
import argparse
import json
import os
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# group/version -> [(plural, kind, namespaced)]
RESOURCES = {
    "v1": [("configmaps", "ConfigMap", True), ("secrets", "Secret", True), ("services", "Service", True),
           ("serviceaccounts", "ServiceAccount", True), ("namespaces", "Namespace", False),
           ("pods", "Pod", True)],
    "apps/v1": [("deployments", "Deployment", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "rbac.authorization.k8s.io/v1": [("clusterroles", "ClusterRole", False),
                                     ("clusterrolebindings", "ClusterRoleBinding", False),
                                     ("roles", "Role", True), ("rolebindings", "RoleBinding", True)],
    "apiregistration.k8s.io/v1": [("apiservices", "APIService", False)],
    "apiextensions.k8s.io/v1": [("customresourcedefinitions", "CustomResourceDefinition", False)],
    "monitoring.coreos.com/v1": [("servicemonitors", "ServiceMonitor", True),
                                 ("prometheusrules", "PrometheusRule", True)],
    "cert-manager.io/v1": [("certificates", "Certificate", True), ("issuers", "Issuer", True)],
    "oomcast.io/v1alpha1": [("memoryscalers", "MemoryScaler", True)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True)],
    "scheduling.k8s.io/v1": [("priorityclasses", "PriorityClass", False)],
}


def resource_list(gv):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [{"name": plural, "singularName": kind.lower(), "namespaced": namespaced,
                           "kind": kind, "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
                          for plural, kind, namespaced in RESOURCES[gv]]}


def group_list():
    groups = {}
    for gv in RESOURCES:
        if "/" not in gv:
            continue
        group, version = gv.split("/")
        groups.setdefault(group, []).append(version)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
         "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}} for g, vs in groups.items()]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects-dir", required=True)
    ap.add_argument("--log")
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def not_found(self, what):
            self.reply(404, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                             "message": f"{what} not found", "reason": "NotFound", "code": 404})

        def do_GET(self):
            path = self.path.split("?")[0]
            if args.log:
                with open(args.log, "a") as f:
                    f.write(path + "\n")
            if path == "/version":
                return self.reply(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0",
                                        "platform": "linux/amd64"})
            if path == "/api":
                return self.reply(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": []})
            if path == "/apis":
                return self.reply(200, group_list())
            if path == "/api/v1":
                return self.reply(200, resource_list("v1"))
            m = re.match(r"^/apis/([^/]+)/([^/]+)$", path)
            if m and f"{m.group(1)}/{m.group(2)}" in RESOURCES:
                return self.reply(200, resource_list(f"{m.group(1)}/{m.group(2)}"))
            m = re.match(r"^/api/v1/namespaces/([^/]+)/secrets/([^/]+)$", path)
            if m:
                f = os.path.join(args.objects_dir, f"{m.group(1)}.{m.group(2)}.json")
                if os.path.exists(f):
                    with open(f) as fh:
                        return self.reply(200, json.load(fh))
                return self.not_found(f"secrets \"{m.group(2)}\"")
            m = re.match(r"^/apis/([^/]+)/([^/]+)/([^/]+)/([^/]+)$", path)
            if m:
                f = os.path.join(args.objects_dir, f"_cluster.{m.group(3)}.{m.group(4)}.json")
                if os.path.exists(f):
                    with open(f) as fh:
                        return self.reply(200, json.load(fh))
                return self.not_found(f"{m.group(3)} \"{m.group(4)}\"")
            return self.not_found(path)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
