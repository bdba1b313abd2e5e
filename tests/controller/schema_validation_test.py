#!/usr/bin/env python3
"""Schema validation of everything oomcast-controller writes, and of the CRD's examples.

Runs the controller binary against the API stand-in through a scenario that makes it write
every kind of object it ever writes (autoscaling/v1 Scale, autoscaling/v2 HorizontalPodAutoscaler,
coordination.k8s.io/v1 Lease, core/v1 Event, policy/v1 Eviction, MemoryScaler status), then
validates each recorded write with tests/support/kube_standin/validate.mjs (npm
kubernetes-models for built-in kinds; the CRD's openAPIV3Schema for MemoryScalers), and
validates controller/examples/*.yaml against the CRD schema and kubernetes-models.

Prints "SKIPPED: <why>" and exits 77 when the npm packages are not installed.
Usage: schema_validation_test.py --controller PATH
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

from controller_harness import MIB, SOURCE_DIR, Harness, wait_for

STANDIN_DIR = os.path.join(SOURCE_DIR, "tests", "support", "kube_standin")
CRD = os.path.join(SOURCE_DIR, "charts", "oomcast", "files", "crds", "memoryscaler.yaml")
VALIDATE = os.path.join(STANDIN_DIR, "validate.mjs")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--controller", required=True)
    args = ap.parse_args()
    if shutil.which("node") is None:
        print("SKIPPED: node is not installed")
        return 77
    if not os.path.isdir(os.path.join(STANDIN_DIR, "node_modules", "kubernetes-models")):
        print("SKIPPED: kubernetes-models is not installed (run scripts/setup.d/30-standin-node.sh)")
        return 77

    failures = 0
    examples = sorted(glob.glob(os.path.join(SOURCE_DIR, "controller", "examples", "*.yaml")))
    r = subprocess.run(["node", VALIDATE, "--crd", CRD] + examples, capture_output=True, text=True,
                       timeout=120)
    print("CRD examples:", r.stdout.strip())
    if r.returncode != 0 or not examples:
        failures += 1
        print(r.stderr)

    h = Harness(args.controller)
    try:
        h.deployment("shop", "web", 2)
        h.scaler("shop", "web", "web", maxReplicas=3,
                 restartBeforeOOM={"enabled": True, "etaBelow": "5m", "cooldown": "10m"})
        h.deployment("web", "api", 2)
        h.standin.seed({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "api", "namespace": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": "api"},
                     "minReplicas": 2, "maxReplicas": 6,
                     "metrics": [{"type": "External", "external": {
                         "metric": {"name": "memory_growth_rate_bytes_per_second",
                                    "selector": {"matchLabels": {"app": "api"}}},
                         "target": {"type": "AverageValue", "averageValue": "8Mi"}}}]}})
        h.scaler("web", "api", "api", maxReplicas=6)
        h.forecast("shop", "web", 20 * MIB)
        h.forecast("web", "api", 20 * MIB)
        h.start_controller("validate", "--leader-elect=true", "--lease-duration", "3s",
                           "--sync-period", "1s", "--leader-election-identity", "validate")
        wait_for(lambda: h.replicas("shop", "web") == 3, 30, "scale up to 3")
        wait_for(lambda: h.standin.get("HorizontalPodAutoscaler", "web", "api")["spec"]
                 ["minReplicas"] > 2, 30, "the HPA floor")
        pods = [p for p in h.standin.list("Pod", "shop")]
        h.forecast("shop", "web", 0, 0.1, {pods[0]["metadata"]["name"]: 60})
        wait_for(lambda: any(w["path"].endswith("/eviction") for w in h.standin.writes()), 30,
                 "an eviction")
        wait_for(lambda: (h.standin.get("MemoryScaler", "shop", "web").get("status") or {})
                 .get("lastEviction"), 30, "lastEviction in status")
        writes = h.standin.writes()
        kinds = sorted({(w["body"] or {}).get("kind", "?") for w in writes if w["body"]})
        print("written kinds:", ", ".join(kinds))
        expected = {"Scale", "HorizontalPodAutoscaler", "Lease", "Event", "Eviction", "MemoryScaler"}
        missing = expected - set(kinds)
        if missing:
            print("FAIL: the scenario did not write", sorted(missing))
            failures += 1
        path = os.path.join(h.workdir, "writes.json")
        with open(path, "w") as f:
            json.dump(writes, f)
        r = subprocess.run(["node", VALIDATE, "--crd", CRD, "--writes", path],
                           capture_output=True, text=True, timeout=120)
        print("controller writes:", r.stdout.strip())
        if r.returncode != 0:
            failures += 1
            print(r.stderr)
    except AssertionError as e:
        print("FAIL:", e)
        print(h.logs())
        failures += 1
    finally:
        h.close()
    print(f"{2 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
