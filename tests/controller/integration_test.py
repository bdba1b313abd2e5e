#!/usr/bin/env python3
"""Integration tests of the oomcast-controller binary against the Kubernetes API stand-in:
flags and exit codes, scaling end to end over HTTPS + token (kubeconfig), health and metrics
endpoints, leader hand-over between two processes (kill the leader: the other takes over after
the lease expires; only the leader acts), lease release on SIGTERM, and relist after 410 Gone.

Usage: integration_test.py --controller PATH [unittest args]
"""
import argparse
import signal
import subprocess
import sys
import time
import unittest

from controller_harness import MIB, Harness, wait_for

BINARY = None


class ControllerTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness(BINARY)

    def tearDown(self):
        if sys.exc_info()[0] is not None or getattr(self, "_outcome", None) and \
                any(e for _, e in getattr(self._outcome, "errors", [])):
            print(self.h.logs(), file=sys.stderr)
        self.h.close()

    def test_flags_and_exit_codes(self):
        for args, needle in ((["--bogus"], "--bogus"), (["--sync-period", "soon"], "--sync-period"),
                             (["--leader-elect=perhaps"], "--leader-elect"),
                             (["--kubeconfig", "/nonexistent"], "/nonexistent")):
            r = subprocess.run([BINARY] + args, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(needle, r.stderr, args)
        r = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--external-metrics-url", r.stdout)

    def test_scales_up_end_to_end_and_serves_health_and_metrics(self):
        self.h.deployment("shop", "web", 2)
        self.h.scaler("shop", "web", "web", maxReplicas=4)
        self.h.forecast("shop", "web", 20 * MIB)
        c = self.h.start_controller("solo", "--leader-elect=false", "--sync-period", "1s")
        wait_for(lambda: c.http("/readyz")[0] == 200, 15, "readyz")
        self.assertEqual(c.http("/healthz")[0], 200)
        wait_for(lambda: self.h.replicas("shop", "web") == 4, 20, "scale up to maxReplicas 4")
        status = wait_for(lambda: (self.h.standin.get("MemoryScaler", "shop", "web").get("status")
                                   or {}).get("currentReplicas") == 4 and
                          self.h.standin.get("MemoryScaler", "shop", "web")["status"], 20,
                          "status currentReplicas 4")
        limited = [x for x in status["conditions"] if x["type"] == "ScalingLimited"][0]
        self.assertEqual(limited["reason"], "TooManyReplicas")
        reasons = [e["reason"] for e in self.h.events("shop")]
        self.assertEqual(reasons.count("ScaledUp"), 2)
        code, metrics = c.http("/metrics")
        self.assertEqual(code, 200)
        self.assertIn('oomcast_controller_decisions_total{outcome="scale_up"} 2', metrics)
        self.assertIn("oomcast_controller_reconcile_duration_seconds_bucket", metrics)
        self.assertIn("oomcast_controller_api_errors_total", metrics)
        c.kill(signal.SIGTERM)
        self.assertEqual(c.wait(30), 0)

    def test_reads_forecasts_straight_from_the_adapter_url(self):
        import kube_standin
        adapter = kube_standin.StandIn(tls=False).start()  # Serves only the scripted forecasts.
        try:
            self.h.deployment("shop", "web", 1)
            self.h.scaler("shop", "web", "web", maxReplicas=2)
            pods = self.h.standin.list("Pod", "shop")
            labels = {"namespace": "shop", "pod": pods[0]["metadata"]["name"],
                      "container": "app", "app": "web"}
            adapter.set_metric("shop", "memory_growth_rate_bytes_per_second",
                               [{"labels": labels, "value": 30 * MIB}])
            adapter.set_metric("shop", "memory_oom_eta_seconds", [])
            adapter.set_metric("shop", "memory_oom_risk", [{"labels": labels, "value": 0.1}])
            # The API server's aggregated path has no data: only the direct URL can scale.
            self.h.start_controller("direct", "--leader-elect=false", "--sync-period", "1s",
                                    "--external-metrics-url", adapter.url)
            wait_for(lambda: self.h.replicas("shop", "web") == 2, 20, "scale up from the adapter")
            paths = [w for w in adapter.writes()]
            self.assertEqual(paths, [])  # The controller only reads from the adapter.
        finally:
            adapter.stop()

    def test_leader_hand_over_between_two_processes(self):
        self.h.deployment("shop", "web", 1)
        self.h.scaler("shop", "web", "web", maxReplicas=50)
        common = ["--leader-elect=true", "--lease-duration", "3s", "--sync-period", "1s",
                  "--leader-election-namespace", "oomcast-system"]
        a = self.h.start_controller("a", "--leader-election-identity", "a", *common)
        b = self.h.start_controller("b", "--leader-election-identity", "b", *common)
        holder = wait_for(lambda: (self.h.lease() or {}).get("spec", {}).get("holderIdentity"), 15,
                          "a lease holder")
        leader, follower = (a, b) if holder == "a" else (b, a)
        self.h.forecast("shop", "web", 20 * MIB)
        wait_for(lambda: self.h.replicas("shop", "web") >= 3, 20, "the leader to scale up")
        instances = {e["reportingInstance"] for e in self.h.events("shop")}
        self.assertEqual(instances, {holder}, "only the leader acts")
        transitions = self.h.lease()["spec"]["leaseTransitions"]

        leader.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        other = follower.name
        wait_for(lambda: self.h.lease()["spec"]["holderIdentity"] == other, 20,
                 f"{other} to take over")
        took = time.monotonic() - killed_at
        self.assertGreaterEqual(took, 1.5, "took over before the lease could expire")
        self.assertEqual(self.h.lease()["spec"]["leaseTransitions"], transitions + 1)
        before = self.h.replicas("shop", "web")
        wait_for(lambda: self.h.replicas("shop", "web") > before, 20, "the new leader to act")
        wait_for(lambda: other in {e["reportingInstance"] for e in self.h.events("shop")}, 10,
                 f"an Event reported by {other}")

    def test_sigterm_releases_the_lease(self):
        c = self.h.start_controller("a", "--leader-elect=true", "--lease-duration", "15s",
                                    "--leader-election-identity", "a")
        wait_for(lambda: (self.h.lease() or {}).get("spec", {}).get("holderIdentity") == "a", 15,
                 "a to lead")
        c.kill(signal.SIGTERM)
        self.assertEqual(c.wait(30), 0)
        self.assertEqual(self.h.lease()["spec"]["holderIdentity"], "")
        b = self.h.start_controller("b", "--leader-elect=true", "--lease-duration", "15s",
                                    "--leader-election-identity", "b")
        # A released lease is taken at once, not after 15 s.
        wait_for(lambda: self.h.lease()["spec"]["holderIdentity"] == "b", 8, "b to take over")
        del b

    def test_relists_after_410_gone(self):
        self.h.deployment("shop", "web", 2)
        c = self.h.start_controller("solo", "--leader-elect=false", "--sync-period", "30s")
        wait_for(lambda: c.http("/readyz")[0] == 200, 15, "readyz")
        # History compacted and watches closed: the controller's resourceVersion is gone.
        st = self.h.standin.store
        with st.lock:
            st._next_rv()
            st.compacted = st.rv
            st.history = []
            st.generation_closed += 1
            st.lock.notify_all()
        wait_for(lambda: "relisting" in c.read_log(), 20, "a relist after 410")
        # A scaler created afterwards is seen (through the new list + watch) and reconciled.
        self.h.scaler("shop", "web", "web", maxReplicas=3)
        self.h.forecast("shop", "web", 20 * MIB)
        wait_for(lambda: self.h.replicas("shop", "web") == 3, 20, "scale up after relist")


def main():
    global BINARY
    ap = argparse.ArgumentParser()
    ap.add_argument("--controller", required=True)
    args, rest = ap.parse_known_args()
    BINARY = args.controller
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
