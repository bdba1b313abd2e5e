#!/usr/bin/env python3
"""A Kubernetes API stand-in for tests: the part of the API that oomcast's controller uses,
with the real wire format and semantics (there is no kube-apiserver on these machines).

Served (JSON only; lists and watches also as metadata-only PartialObjectMetadataList /
PartialObjectMetadata when the Accept header asks, as client-go's metadata informer does):
  apps/v1 deployments (+ /scale as autoscaling/v1 Scale), autoscaling/v2 horizontalpodautoscalers,
  coordination.k8s.io/v1 leases, core/v1 events and pods (+ pods/{name}/eviction, policy/v1),
  policy/v1 poddisruptionbudgets, oomcast.io/v1alpha1 memoryscalers (+ /status),
  external.metrics.k8s.io/v1beta1 values from a scripted table (or proxied to a real adapter).
Semantics: metadata.resourceVersion from one global counter bumped on every write, 409 Conflict
on a stale resourceVersion, 404/409 AlreadyExists, list + chunked watch streams (one JSON event
per line, BOOKMARK events with allowWatchBookmarks=true, timeoutSeconds), 410 Gone (an ERROR
event with a Status of code 410 reason Expired) for a resourceVersion older than the compaction
point, 429 + Retry-After for evictions a PodDisruptionBudget forbids. A tiny "deployment
controller" keeps one Ready pod per replica.

Test control endpoints (not part of the Kubernetes API), under /_standin/:
  POST /_standin/objects        create any served object (seed state); body: the object
  POST /_standin/metrics        {"namespace","metric","items":[{"labels":{},"value":n,
                                 "timestamp"?:unix_s}]} or {"namespace","metric","error":
                                 {"code":503,"reason":"ServiceUnavailable","message":"..."}}
  POST /_standin/race           {"path": p, "count": n}: before the next n writes to p another
                                 writer bumps the object (the writer's resourceVersion goes stale)
  POST /_standin/compact        forget history (older resourceVersions are Gone) and close watches
  POST /_standin/pod            {"namespace","name","ready":bool}
  GET  /_standin/writes         every write request: [{"method","path","code","body"}]
  GET  /_standin/healthz

Run: kube_standin.py [--http] [--port 0] [--token T] [--port-file F] [--kubeconfig-out F]
       [--bookmark-interval S] [--metrics-proxy URL] [--metrics-proxy-ca F]
Prints "PORT <n>" on stdout once listening. Python 3 standard library only.
"""

import argparse
import copy
import datetime
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (group, version, plural) -> (kind, namespaced, has_status_subresource, list_kind)
RESOURCES = {
    ("apps", "v1", "deployments"): ("Deployment", True, True),
    ("autoscaling", "v2", "horizontalpodautoscalers"): ("HorizontalPodAutoscaler", True, True),
    ("coordination.k8s.io", "v1", "leases"): ("Lease", True, False),
    ("", "v1", "events"): ("Event", True, False),
    ("", "v1", "pods"): ("Pod", True, True),
    ("policy", "v1", "poddisruptionbudgets"): ("PodDisruptionBudget", True, True),
    ("oomcast.io", "v1alpha1", "memoryscalers"): ("MemoryScaler", True, True),
}
KIND_TO_RESOURCE = {v[0]: k for k, v in RESOURCES.items()}
CUSTOM_GROUPS = {"oomcast.io"}


def now_rfc3339(t=None):
    t = time.time() if t is None else t
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def as_partial(obj):
    """The PartialObjectMetadata the API server sends for `obj` (metadata only)."""
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": copy.deepcopy(obj.get("metadata", {}))}


def as_partial_list(listing):
    return {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
            "metadata": listing["metadata"], "items": [as_partial(o) for o in listing["items"]]}


def api_version(group, version):
    return f"{group}/{version}" if group else version


def status_obj(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
         "status": "Failure" if code >= 300 else "Success", "message": message,
         "reason": reason, "code": code}
    if details:
        s["details"] = details
    return s


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.status = status_obj(code, reason, message, details)
        self.code = code
        self.headers = headers or {}


# ---- label selectors (apimachinery grammar) ----

def split_top(text):
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_selector(text):
    """Returns a list of (key, op, values). Raises ValueError on bad input."""
    reqs = []
    for part in split_top(text or ""):
        m = re.match(r"^([A-Za-z0-9./_-]+)\s+(in|notin)\s+\((.*)\)$", part)
        if m:
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            reqs.append((m.group(1), m.group(2), vals))
            continue
        m = re.match(r"^!\s*([A-Za-z0-9./_-]+)$", part)
        if m:
            reqs.append((m.group(1), "!", []))
            continue
        m = re.match(r"^([A-Za-z0-9./_-]+)\s*(==|!=|=|<|>)\s*([A-Za-z0-9._-]*)$", part)
        if m:
            op = "=" if m.group(2) == "==" else m.group(2)
            reqs.append((m.group(1), op, [m.group(3)]))
            continue
        m = re.match(r"^([A-Za-z0-9./_-]+)$", part)
        if m:
            reqs.append((m.group(1), "exists", []))
            continue
        raise ValueError(f"unable to parse requirement: {part!r}")
    return reqs


def selector_matches(reqs, labels):
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and not (has and v == vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and not (has and v in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
        if op in ("<", ">"):
            try:
                a, b = float(v), float(vals[0])
            except (TypeError, ValueError):
                return False
            if (op == "<" and not a < b) or (op == ">" and not a > b):
                return False
    return True


def match_labels_selector(sel, labels):
    """metav1.LabelSelector (matchLabels + matchExpressions)."""
    for k, v in (sel or {}).get("matchLabels", {}).items():
        if labels.get(k) != v:
            return False
    for e in (sel or {}).get("matchExpressions", []):
        op = e.get("operator")
        key, vals = e.get("key"), e.get("values", [])
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and key in labels and labels[key] in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_string(sel):
    parts = [f"{k}={v}" for k, v in sorted((sel or {}).get("matchLabels", {}).items())]
    for e in (sel or {}).get("matchExpressions", []):
        op = e.get("operator")
        if op in ("In", "NotIn"):
            parts.append(f"{e['key']} {op.lower()} ({','.join(sorted(e.get('values', [])))})")
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append("!" + e["key"])
    return ",".join(parts)


def format_quantity(v):
    """Canonical-enough Kubernetes quantity for the scripted metrics table."""
    if v == int(v) and abs(v) < 2 ** 62:
        iv = int(v)
        for suffix, mult in (("Ei", 2 ** 60), ("Pi", 2 ** 50), ("Ti", 2 ** 40), ("Gi", 2 ** 30),
                             ("Mi", 2 ** 20), ("Ki", 2 ** 10)):
            if iv != 0 and iv % mult == 0:
                return f"{iv // mult}{suffix}"
        return str(iv)
    milli = v * 1000
    if abs(milli - round(milli)) < 1e-9:
        return f"{int(round(milli))}m"
    return f"{int(round(v * 1e9))}n"


class Store:
    def __init__(self, bookmark_interval=1.0):
        self.lock = threading.Condition()
        self.rv = 100
        self.compacted = 0
        self.objects = {}  # (resource, ns, name) -> obj
        self.history = []  # (rv, resource, ns, type, obj)
        self.writes = []
        self.metrics = {}  # (ns, metric) -> entry
        self.races = {}  # path -> count
        self.generation_closed = 0  # bumped to close open watches
        self.bookmark_interval = bookmark_interval
        self.pod_counter = 0

    # ---- primitives (hold self.lock) ----
    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def _emit(self, resource, ns, typ, obj):
        self.history.append((int(obj["metadata"]["resourceVersion"]), resource, ns, typ,
                             copy.deepcopy(obj)))
        self.lock.notify_all()

    def _put(self, resource, obj, typ):
        md = obj["metadata"]
        md["resourceVersion"] = self._next_rv()
        self.objects[(resource, md.get("namespace", ""), md["name"])] = obj
        self._emit(resource, md.get("namespace", ""), typ, obj)

    def create(self, resource, ns, obj, internal=False):
        kind, namespaced, _ = RESOURCES[resource]
        obj = copy.deepcopy(obj)
        obj["apiVersion"] = api_version(resource[0], resource[1])
        obj["kind"] = kind
        md = obj.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
        if not md.get("name"):
            raise ApiError(422, "Invalid", f"{kind} is invalid: metadata.name: Required value")
        md["namespace"] = ns
        if (resource, ns, md["name"]) in self.objects:
            raise ApiError(409, "AlreadyExists",
                           f'{resource[2]}{"." + resource[0] if resource[0] else ""} '
                           f'"{md["name"]}" already exists',
                           {"name": md["name"], "group": resource[0], "kind": resource[2]})
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = now_rfc3339()
        if resource[2] in ("deployments", "memoryscalers", "horizontalpodautoscalers",
                           "poddisruptionbudgets"):
            md["generation"] = 1
        md.pop("resourceVersion", None)
        self.validate(resource, obj)
        self._put(resource, obj, "ADDED")
        if resource[2] == "deployments":
            self._sync_deployment(ns, md["name"])
        return obj

    def get(self, resource, ns, name):
        obj = self.objects.get((resource, ns, name))
        if obj is None:
            group = resource[0]
            raise ApiError(404, "NotFound",
                           f'{resource[2]}{"." + group if group else ""} "{name}" not found',
                           {"name": name, "group": group, "kind": resource[2]})
        return obj

    def conflict(self, resource, name):
        group = resource[0]
        return ApiError(409, "Conflict",
                        f'Operation cannot be fulfilled on {resource[2]}'
                        f'{"." + group if group else ""} "{name}": the object has been modified; '
                        f'please apply your changes to the latest version and try again',
                        {"name": name, "group": group, "kind": resource[2]})

    def check_rv(self, resource, current, body):
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if rv and rv != current["metadata"]["resourceVersion"]:
            raise self.conflict(resource, current["metadata"]["name"])

    def apply_race(self, path, resource, ns, name):
        """Another writer touches the object first when a race is scripted for `path`."""
        n = self.races.get(path, 0)
        if n <= 0:
            return
        self.races[path] = n - 1
        obj = self.objects.get((resource, ns, name))
        if obj is not None:
            obj = copy.deepcopy(obj)
            obj["metadata"].setdefault("annotations", {})["standin/concurrent-writer"] = \
                obj["metadata"]["resourceVersion"]
            self._put(resource, obj, "MODIFIED")

    def update(self, resource, ns, name, body, subresource=None):
        current = self.get(resource, ns, name)
        if subresource == "scale":
            if body.get("kind") != "Scale":
                raise ApiError(400, "BadRequest", "the body of the request was not a Scale")
            self.check_rv(resource, current, body)
            replicas = (body.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiError(422, "Invalid",
                               f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid '
                               f'value: {replicas!r}: must be greater than or equal to 0')
            new = copy.deepcopy(current)
            if new["spec"].get("replicas") != replicas:
                new["spec"]["replicas"] = replicas
                new["metadata"]["generation"] = new["metadata"].get("generation", 1) + 1
            self._put(resource, new, "MODIFIED")
            self._sync_deployment(ns, name)
            return self.scale_of(self.objects[(resource, ns, name)])
        self.check_rv(resource, current, body)
        new = copy.deepcopy(body)
        new["apiVersion"] = current["apiVersion"]
        new["kind"] = current["kind"]
        md = new.setdefault("metadata", {})
        for k in ("uid", "creationTimestamp", "namespace", "name", "generation"):
            if k in current["metadata"]:
                md[k] = current["metadata"][k]
        has_status = RESOURCES[resource][2]
        if subresource == "status":
            keep = copy.deepcopy(current)
            keep["status"] = new.get("status", {})
            new = keep
        elif has_status:
            if "status" in current:
                new["status"] = copy.deepcopy(current["status"])
            else:
                new.pop("status", None)
            if new.get("spec") != current.get("spec"):
                md["generation"] = current["metadata"].get("generation", 1) + 1
        self.validate(resource, new)
        self._put(resource, new, "MODIFIED")
        if resource[2] == "deployments":
            self._sync_deployment(ns, name)
        return new

    def delete(self, resource, ns, name):
        obj = self.get(resource, ns, name)
        del self.objects[(resource, ns, name)]
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = self._next_rv()
        self._emit(resource, ns, "DELETED", obj)
        return obj

    def validate(self, resource, obj):
        if resource[2] == "horizontalpodautoscalers":
            spec = obj.get("spec", {})
            mn, mx = spec.get("minReplicas", 1), spec.get("maxReplicas")
            if not isinstance(mx, int) or not isinstance(mn, int) or mn < 1 or mn > mx:
                raise ApiError(422, "Invalid",
                               f'HorizontalPodAutoscaler.autoscaling "{obj["metadata"]["name"]}" '
                               f'is invalid: spec.minReplicas: Invalid value: {mn!r}: must be '
                               f'between 1 and maxReplicas ({mx!r})')
        if resource[2] == "leases":
            d = obj.get("spec", {}).get("leaseDurationSeconds")
            if d is not None and (not isinstance(d, int) or d <= 0):
                raise ApiError(422, "Invalid", "spec.leaseDurationSeconds: must be > 0")
        if resource[2] == "events":
            if not obj.get("involvedObject"):
                raise ApiError(422, "Invalid", "involvedObject: Required value")

    def scale_of(self, dep):
        md = dep["metadata"]
        return {
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": md["name"], "namespace": md["namespace"], "uid": md["uid"],
                         "resourceVersion": md["resourceVersion"],
                         "creationTimestamp": md["creationTimestamp"]},
            "spec": {"replicas": dep["spec"].get("replicas", 1)},
            "status": {"replicas": dep.get("status", {}).get("replicas", 0),
                       "selector": selector_string(dep["spec"].get("selector"))},
        }

    def _pods_of(self, ns, dep):
        sel = dep["spec"].get("selector")
        return [o for (r, n, _), o in sorted(self.objects.items())
                if r == ("", "v1", "pods") and n == ns and
                match_labels_selector(sel, o["metadata"].get("labels", {}))
                and not o["metadata"].get("deletionTimestamp")]

    def _sync_deployment(self, ns, name):
        """The deployment controller and kubelet: one Ready pod per replica, at once."""
        dep = self.objects.get((("apps", "v1", "deployments"), ns, name))
        if dep is None:
            return
        want = dep["spec"].get("replicas", 1)
        pods = self._pods_of(ns, dep)
        labels = (dep["spec"].get("template", {}).get("metadata") or {}).get("labels", {})
        while len(pods) < want:
            self.pod_counter += 1
            pod = {"metadata": {"name": f"{name}-{self.pod_counter:05d}",
                                "labels": copy.deepcopy(labels),
                                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                     "name": f"{name}-rs", "uid": dep["metadata"]["uid"],
                                                     "controller": True}]},
                   "spec": copy.deepcopy(dep["spec"].get("template", {}).get("spec",
                                                                          {"containers": []})),
                   "status": {"phase": "Running",
                              "conditions": [{"type": "Ready", "status": "True"}]}}
            self.create(("", "v1", "pods"), ns, pod)
            pods = self._pods_of(ns, dep)
        while len(pods) > want:
            victim = pods[-1]
            self.delete(("", "v1", "pods"), ns, victim["metadata"]["name"])
            pods = self._pods_of(ns, dep)
        ready = sum(1 for p in pods if pod_ready(p))
        new = copy.deepcopy(dep)
        new["status"] = {"observedGeneration": dep["metadata"].get("generation", 1),
                         "replicas": len(pods), "updatedReplicas": len(pods),
                         "readyReplicas": ready, "availableReplicas": ready}
        if new["status"] != dep.get("status"):
            self._put(("apps", "v1", "deployments"), new, "MODIFIED")

    def evict(self, ns, name, body):
        pod = self.get(("", "v1", "pods"), ns, name)
        if body.get("kind") != "Eviction" or body.get("apiVersion") != "policy/v1":
            raise ApiError(400, "BadRequest", "the body of the request was not a policy/v1 Eviction")
        labels = pod["metadata"].get("labels", {})
        for (r, n, _), pdb in list(self.objects.items()):
            if r != ("policy", "v1", "poddisruptionbudgets") or n != ns:
                continue
            sel = pdb["spec"].get("selector")
            if not match_labels_selector(sel, labels):
                continue
            covered = [o for (rr, nn, _), o in self.objects.items()
                       if rr == ("", "v1", "pods") and nn == ns and
                       match_labels_selector(sel, o["metadata"].get("labels", {}))]
            healthy = sum(1 for p in covered if pod_ready(p))
            if "minAvailable" in pdb["spec"]:
                allowed = healthy - int(pdb["spec"]["minAvailable"])
            else:
                allowed = int(pdb["spec"].get("maxUnavailable", 1)) - (len(covered) - healthy)
            if allowed <= 0:
                raise ApiError(
                    429, "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    {"causes": [{"reason": "DisruptionBudget",
                                 "message": f"The disruption budget {pdb['metadata']['name']} "
                                            f"needs {healthy - allowed} healthy pods and has "
                                            f"{healthy} currently"}]},
                    headers={"Retry-After": "10"})
        self.delete(("", "v1", "pods"), ns, name)
        for (r, n, dn), dep in list(self.objects.items()):
            if r == ("apps", "v1", "deployments") and n == ns:
                self._sync_deployment(ns, dn)
        return status_obj(201, "", "", None) | {"status": "Success"}


def pod_ready(p):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in p.get("status", {}).get("conditions", []))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-standin/1"

    def log_message(self, fmt, *args):
        if os.environ.get("STANDIN_VERBOSE"):
            sys.stderr.write("standin: " + (fmt % args) + "\n")

    @property
    def store(self):
        return self.server.store

    def send_json(self, code, obj, headers=None):
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "BadRequest", "the request body is not valid JSON")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        body = None
        try:
            if path.startswith("/_standin/"):
                return self.control(method, path)
            token = self.server.token
            if token and self.headers.get("Authorization") != f"Bearer {token}":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if method in ("POST", "PUT", "PATCH"):
                body = self.read_body()
            if path.startswith("/apis/external.metrics.k8s.io/"):
                return self.external_metrics(path, url.query, query)
            code, obj, headers = self.api(method, path, query, body)
            if code is None:
                return  # streamed
            if method != "GET":
                self.record(method, path, code, body)
            self.send_json(code, obj, headers)
        except ApiError as e:
            if method != "GET":
                self.record(method, path, e.code, body)
            self.send_json(e.code, e.status, e.headers)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def record(self, method, path, code, body):
        with self.store.lock:
            self.store.writes.append({"method": method, "path": path, "code": code,
                                      "body": body, "time": time.time()})

    def control(self, method, path):
        st = self.store
        if path == "/_standin/healthz":
            return self.send_json(200, {"ok": True})
        if path == "/_standin/writes":
            with st.lock:
                return self.send_json(200, st.writes)
        body = self.read_body()
        with st.lock:
            if path == "/_standin/objects":
                api = body.get("apiVersion", "")
                group, _, version = api.rpartition("/")
                res = (group, version, KIND_TO_RESOURCE.get(body.get("kind"), (0, 0, ""))[2])
                if res not in RESOURCES:
                    raise ApiError(400, "BadRequest", f"standin does not serve {api} {body.get('kind')}")
                obj = st.create(res, body["metadata"].get("namespace", "default"), body)
                # Status given at seed time is kept (e.g. an HPA's currentReplicas).
                if body.get("status") and res[2] != "deployments":
                    obj = copy.deepcopy(obj)
                    obj["status"] = body["status"]
                    st._put(res, obj, "MODIFIED")
                return self.send_json(201, st.objects[(res, obj["metadata"]["namespace"],
                                                       obj["metadata"]["name"])])
            if path == "/_standin/metrics":
                st.metrics[(body["namespace"], body["metric"])] = body
                return self.send_json(200, {"ok": True})
            if path == "/_standin/race":
                st.races[body["path"]] = int(body.get("count", 1))
                return self.send_json(200, {"ok": True})
            if path == "/_standin/compact":
                st._next_rv()
                st.compacted = st.rv
                st.history = []
                st.generation_closed += 1
                st.lock.notify_all()
                return self.send_json(200, {"compacted": st.compacted})
            if path == "/_standin/pod":
                pod = copy.deepcopy(st.get(("", "v1", "pods"), body["namespace"], body["name"]))
                pod["status"]["conditions"] = [{"type": "Ready",
                                                "status": "True" if body["ready"] else "False"}]
                st._put(("", "v1", "pods"), pod, "MODIFIED")
                for (r, n, dn) in list(st.objects):
                    if r == ("apps", "v1", "deployments") and n == body["namespace"]:
                        st._sync_deployment(n, dn)
                return self.send_json(200, pod)
        raise ApiError(404, "NotFound", f"no control endpoint {path}")

    def api(self, method, path, query, body):
        st = self.store
        m = re.match(r"^/api/(v1)(/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?(?:/([^/]+))?$", path)
        if m:
            group, version, ns, plural, name, sub = "", m.group(1), m.group(3), m.group(4), \
                m.group(5), m.group(6)
        else:
            m = re.match(r"^/apis/([^/]+)/([^/]+)(/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?"
                         r"(?:/([^/]+))?$", path)
            if not m:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            group, version, ns, plural, name, sub = m.group(1), m.group(2), m.group(4), \
                m.group(5), m.group(6), m.group(7)
        res = (group, version, plural)
        if res not in RESOURCES:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if name is None:
            if method == "GET":
                if query.get("watch", ["false"])[0] in ("true", "1"):
                    self.watch(res, ns, query, self.negotiate("PartialObjectMetadata"))
                    return None, None, None
                listing = self.list(res, ns, query)
                if self.negotiate("PartialObjectMetadataList"):
                    listing = as_partial_list(listing)
                return 200, listing, None
            if method == "POST":
                if ns is None:
                    raise ApiError(405, "MethodNotAllowed", "create needs a namespace")
                with st.lock:
                    return 201, st.create(res, ns, body), None
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on a collection")
        with st.lock:
            if sub == "scale" and plural != "deployments":
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            if sub == "eviction":
                if plural != "pods" or method != "POST":
                    raise ApiError(405, "MethodNotAllowed", "eviction is POST on pods")
                return 201, st.evict(ns, name, body), None
            if sub not in (None, "scale", "status"):
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            if sub == "status" and not RESOURCES[res][2]:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            if method == "GET":
                obj = st.get(res, ns, name)
                return 200, (st.scale_of(obj) if sub == "scale" else obj), None
            if method == "PUT":
                st.apply_race(path, res, ns, name)
                obj = st.update(res, ns, name, body, sub)
                return 200, obj, None
            if method == "DELETE":
                st.delete(res, ns, name)
                return 200, status_obj(200, "", "deleted") | {"status": "Success"}, None
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported by the stand-in")

    def list(self, res, ns, query):
        st = self.store
        try:
            reqs = parse_selector(query.get("labelSelector", [""])[0])
        except ValueError as e:
            raise ApiError(400, "BadRequest", str(e))
        with st.lock:
            items = []
            for (r, n, _), o in sorted(st.objects.items()):
                if r != res or (ns is not None and n != ns):
                    continue
                if not selector_matches(reqs, o["metadata"].get("labels", {})):
                    continue
                item = copy.deepcopy(o)
                if res[0] not in CUSTOM_GROUPS:  # Built-in list items carry no kind/apiVersion.
                    item.pop("kind", None)
                    item.pop("apiVersion", None)
                items.append(item)
            return {"kind": RESOURCES[res][0] + "List", "apiVersion": api_version(res[0], res[1]),
                    "metadata": {"resourceVersion": str(st.rv)}, "items": items}

    def negotiate(self, partial_kind):
        """Content negotiation on Accept as the API server does it for JSON: the first clause
        the endpoint can serve wins. True for `application/json;as=<partial_kind>;
        g=meta.k8s.io;v=v1` (client-go's metadata client), False for plain JSON; 406 when no
        clause fits (e.g. as=PartialObjectMetadata on a list)."""
        accept = self.headers.get("Accept") or "application/json"
        for clause in accept.split(","):
            parts = [p.strip() for p in clause.split(";")]
            params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
            if parts[0] not in ("application/json", "*/*", "application/*"):
                continue
            if "as" not in params:
                return False
            if (params.get("as") == partial_kind and params.get("g") == "meta.k8s.io"
                    and params.get("v") in ("v1", "v1beta1")):
                return True
        raise ApiError(406, "NotAcceptable", f"only the following media types are accepted: "
                       f"application/json, application/json;as={partial_kind};g=meta.k8s.io;v=v1")

    def watch(self, res, ns, query, partial=False):
        st = self.store
        rv_text = query.get("resourceVersion", [""])[0]
        bookmarks = query.get("allowWatchBookmarks", ["false"])[0] == "true"
        timeout = float(query.get("timeoutSeconds", ["1800"])[0])
        deadline = time.monotonic() + timeout
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(obj):
            data = (json.dumps(obj) + "\n").encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        try:
            with st.lock:
                closed_gen = st.generation_closed
                if rv_text in ("", "0"):
                    # "Any": synthetic ADDED events for the current state, then changes.
                    start = st.rv
                    pending = [("ADDED", o) for (r, n, _), o in sorted(st.objects.items())
                               if r == res and (ns is None or n == ns)]
                else:
                    start = int(rv_text)
                    if start < st.compacted:
                        pending = None
                    else:
                        pending = []
            if pending is None:
                chunk({"type": "ERROR", "object": status_obj(
                    410, "Expired", f"too old resource version: {start} ({st.compacted})")})
                return self.end_chunks()
            def shown(o):
                return as_partial(o) if partial else o

            for typ, o in pending:
                chunk({"type": typ, "object": shown(o)})
            last = start
            last_bookmark = time.monotonic()
            while True:
                with st.lock:
                    events = [(rv, t, o) for rv, r, n, t, o in st.history
                              if rv > last and r == res and (ns is None or n == ns)]
                    if not events:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0 or st.generation_closed != closed_gen:
                            break
                        st.lock.wait(min(remaining, st.bookmark_interval, 0.5))
                        if st.generation_closed != closed_gen:
                            break
                        events = [(rv, t, o) for rv, r, n, t, o in st.history
                                  if rv > last and r == res and (ns is None or n == ns)]
                    current_rv = st.rv
                for rv, t, o in events:
                    chunk({"type": t, "object": shown(o)})
                    last = rv
                if bookmarks and time.monotonic() - last_bookmark >= st.bookmark_interval:
                    last = max(last, current_rv)
                    kind = RESOURCES[res][0]
                    chunk({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": api_version(res[0], res[1]),
                        "metadata": {"resourceVersion": str(last),
                                     "annotations": {"k8s.io/initial-events-end": "true"}}}})
                    last_bookmark = time.monotonic()
                if time.monotonic() >= deadline:
                    break
            self.end_chunks()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def external_metrics(self, path, raw_query, query):
        st = self.store
        if self.server.metrics_proxy:
            return self.proxy_metrics(path, raw_query)
        m = re.match(r"^/apis/external.metrics.k8s.io/v1beta1/namespaces/([^/]+)/([^/]+)$", path)
        if not m:
            if path.rstrip("/") == "/apis/external.metrics.k8s.io/v1beta1":
                names = sorted({metric for (_, metric) in st.metrics} | {
                    "memory_growth_rate_bytes_per_second", "memory_oom_eta_seconds",
                    "memory_oom_risk", "memory_growth_acceleration_bytes_per_second2"})
                return self.send_json(200, {
                    "kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": "external.metrics.k8s.io/v1beta1",
                    "resources": [{"name": n, "singularName": "", "namespaced": True,
                                   "kind": "ExternalMetricValueList", "verbs": ["get"]}
                                  for n in names]})
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        ns, metric = m.group(1), m.group(2)
        try:
            reqs = parse_selector(query.get("labelSelector", [""])[0])
        except ValueError as e:
            raise ApiError(400, "BadRequest", f"invalid labelSelector: {e}")
        with st.lock:
            entry = copy.deepcopy(st.metrics.get((ns, metric)))
        if entry is None:
            raise ApiError(503, "ServiceUnavailable",
                           f"no forecast for {metric} in namespace {ns} yet")
        if entry.get("error"):
            err = entry["error"]
            raise ApiError(err.get("code", 503), err.get("reason", "ServiceUnavailable"),
                           err.get("message", "forecast unavailable"))
        agg = None
        rest = []
        for r in reqs:
            if r[0] == "oomcast.io/aggregate":
                agg = r[2][0] if r[2] else None
            else:
                rest.append(r)
        items = []
        for it in entry.get("items", []):
            labels = dict(it.get("labels", {}))
            labels.setdefault("namespace", ns)
            if not selector_matches(rest, labels):
                continue
            items.append((labels, float(it["value"]), it.get("timestamp", time.time())))
        if agg and items:
            vals = [v for _, v, _ in items]
            v = {"max": max, "min": min, "sum": sum,
                 "avg": lambda x: sum(x) / len(x)}[agg](vals)
            items = [({"namespace": ns, "oomcast.io/aggregate": agg}, v,
                      min(t for _, _, t in items))]
        out = {"kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1",
               "metadata": {}, "items": [
                   {"metricName": metric, "metricLabels": labels, "timestamp": now_rfc3339(t),
                    "window": 60, "value": format_quantity(v)} for labels, v, t in items]}
        self.send_json(200, out)

    def proxy_metrics(self, path, raw_query):
        url = self.server.metrics_proxy.rstrip("/") + path + ("?" + raw_query if raw_query else "")
        ctx = ssl.create_default_context(cafile=self.server.metrics_proxy_ca) \
            if self.server.metrics_proxy_ca else ssl._create_unverified_context()
        req = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
                self.send_json(r.status, json.loads(r.read()))
        except urllib.error.HTTPError as e:
            self.send_json(e.code, json.loads(e.read() or b"{}"))
        except OSError as e:
            raise ApiError(503, "ServiceUnavailable", f"metrics backend unreachable: {e}")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that hang up mid-request (killed controllers, TLS probes) are normal here.
        if os.environ.get("STANDIN_VERBOSE"):
            super().handle_error(request, client_address)


class StandIn:
    """In-process API stand-in. start() binds 127.0.0.1 on a free port; stop() shuts it down."""

    def __init__(self, tls=True, token=None, bookmark_interval=1.0, metrics_proxy=None,
                 metrics_proxy_ca=None):
        self.tls = tls
        self.token = token
        self.store = Store(bookmark_interval)
        self.metrics_proxy = metrics_proxy
        self.metrics_proxy_ca = metrics_proxy_ca
        self.dir = tempfile.mkdtemp(prefix="kube-standin-")
        self.httpd = None
        self.thread = None

    def start(self):
        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.store = self.store
        self.httpd.token = self.token
        self.httpd.metrics_proxy = self.metrics_proxy
        self.httpd.metrics_proxy_ca = self.metrics_proxy_ca
        if self.tls:
            self.cert, self.key = os.path.join(self.dir, "tls.crt"), os.path.join(self.dir, "tls.key")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                            self.key, "-out", self.cert, "-days", "2", "-subj", "/CN=kube-standin",
                            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                            "-addext", "basicConstraints=critical,CA:TRUE"],
                           check=True, capture_output=True, timeout=60)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cert, self.key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def write_kubeconfig(self, path, namespace="default"):
        user = {"token": self.token} if self.token else {}
        cluster = {"server": self.url}
        if self.tls:
            cluster["certificate-authority"] = self.cert
        lines = [
            "apiVersion: v1", "kind: Config", "current-context: standin",
            "clusters:", "- name: standin", "  cluster:",
        ] + [f"    {k}: {json.dumps(v)}" for k, v in cluster.items()] + [
            "users:", "- name: standin", "  user:" + ("" if user else " {}"),
        ] + [f"    {k}: {json.dumps(v)}" for k, v in user.items()] + [
            "contexts:", "- name: standin", "  context:", "    cluster: standin",
            "    user: standin", f"    namespace: {namespace}",
        ]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def stop(self):
        if self.httpd:
            with self.store.lock:
                self.store.generation_closed += 1
                self.store.lock.notify_all()
            self.httpd.shutdown()
            self.httpd.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- direct helpers for Python tests ----
    def seed(self, obj):
        with self.store.lock:
            res = KIND_TO_RESOURCE[obj["kind"]]
            created = self.store.create(res, obj["metadata"].get("namespace", "default"), obj)
            if obj.get("status") and res[2] != "deployments":
                created = copy.deepcopy(created)
                created["status"] = obj["status"]
                self.store._put(res, created, "MODIFIED")
            return copy.deepcopy(created)

    def get(self, kind, ns, name):
        with self.store.lock:
            return copy.deepcopy(self.store.objects.get((KIND_TO_RESOURCE[kind], ns, name)))

    def list(self, kind, ns=None):
        with self.store.lock:
            return [copy.deepcopy(o) for (r, n, _), o in sorted(self.store.objects.items())
                    if r == KIND_TO_RESOURCE[kind] and (ns is None or n == ns)]

    def set_metric(self, ns, metric, items=None, error=None):
        with self.store.lock:
            self.store.metrics[(ns, metric)] = {"namespace": ns, "metric": metric,
                                                "items": items or [], "error": error}

    def writes(self):
        with self.store.lock:
            return copy.deepcopy(self.store.writes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    ap.add_argument("--token", default=None, help="require this bearer token")
    ap.add_argument("--port-file", default=None)
    ap.add_argument("--kubeconfig-out", default=None)
    ap.add_argument("--ca-out", default=None, help="copy the serving certificate (the CA) here")
    ap.add_argument("--bookmark-interval", type=float, default=1.0)
    ap.add_argument("--metrics-proxy", default=None)
    ap.add_argument("--metrics-proxy-ca", default=None)
    args = ap.parse_args()
    s = StandIn(tls=not args.http, token=args.token, bookmark_interval=args.bookmark_interval,
                metrics_proxy=args.metrics_proxy, metrics_proxy_ca=args.metrics_proxy_ca).start()
    if args.kubeconfig_out:
        s.write_kubeconfig(args.kubeconfig_out)
    if args.ca_out and s.tls:
        shutil.copy(s.cert, args.ca_out)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(s.port))
        os.rename(args.port_file + ".tmp", args.port_file)
    print(f"PORT {s.port}", flush=True)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        s.stop()


if __name__ == "__main__":
    main()
