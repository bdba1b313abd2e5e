"""The faults scenario: the whole system while things break.

Time axis: seconds since the workloads started.
  10 .. 150  fault proxy between the predictor and Prometheus: 4 cycles of 7 modes (truncate,
             malformed, wrongtype, oversized, trickle, error500, reset), 3 s each with 2 s of
             clean answers after each; the predictor's RSS is sampled at the end of every cycle.
             Cycle 1 warms the allocator up; a leak is growth from cycle 2 to cycle 4.
  0, 70      MemoryScalers steady-leak (from the start) and steady-leak-hold (once the leak's
             growth is known), on Deployments of 5 replicas, that shrink on growth < 1 KiB/s.
  75 .. 100  Prometheus paused (SIGSTOP): queries hang past the clients' timeouts.
  115 .. 140 Prometheus killed (SIGKILL), restarted on the same storage at 140.
  145 .. 175 wrk against the adapter's metric endpoint (TLS keep-alive, bearer token).
  ~187       the steady leak is killed by the kernel.
Checks: the adapter answers errors (503), never values, while its data is stale; the predictor
drops its forecasts (never reports "safe") while stale; the controller never scales down and
holds; everything recovers; the proxy's faults are counted in oomcast_query_errors_total and
logged; no binary crashes; the predictor's memory is flat from cycle to cycle; wrk's p99 is
within the adapter's latency target; the leak is still forecast before its kill.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import system
from e2elib import free_port, http_get, log, wait_until
from workloads import MIB, WorkloadSpec

HERE = os.path.dirname(os.path.abspath(__file__))

PROXY_MODES = ["truncate", "malformed", "wrongtype", "oversized", "trickle", "error500", "reset"]
PROXY_START = 10
PROXY_FAULT_S = 3
PROXY_PASS_S = 2
PROXY_CYCLES = 4
HOLD_SCALER_AT = 70  # after the model's first fit (~65 s with 30 s buckets)
PAUSE = (75, 100)
KILL = (115, 140)
WRK = (145, 30)
HOLD = "steady-leak-hold"
STALE_AFTER = 10
MAX_RESPONSE_BYTES = 32 << 20


def fault_specs():
    return [
        # 16 MiB + 0.6 MiB/s reaches 128 MiB at ~187 s.
        WorkloadSpec("steady-leak", "steady", 128, True, 187, base_mib=16, rate_mib=0.6),
        WorkloadSpec("sawtooth-steady", "sawtooth", 160, False, None, base_mib=32, amp_mib=64,
                     period_s=20),
        WorkloadSpec("warmup-plateau", "plateau", 128, False, None, base_mib=16, plateau_mib=72,
                     tau_s=45),
    ]


class Schedule(threading.Thread):
    """Runs (time, name, action) entries at their times on the workloads' time axis."""

    def __init__(self, env, report, entries):
        super().__init__(daemon=True)
        self.env = env
        self.report = report
        self.entries = sorted(entries, key=lambda e: e[0])
        self.stop_event = threading.Event()
        self.errors = []

    def run(self):
        h = self.env.harness
        for at, name, action in self.entries:
            while not self.stop_event.is_set() and h.now() - self.env.t_start < at:
                self.stop_event.wait(0.05)
            if self.stop_event.is_set():
                return
            try:
                detail = action()
                self.report.event(h, name, **(detail or {}))
            except Exception as e:  # noqa: BLE001 - recorded and reported as a failed check
                self.errors.append(f"{name}: {e}")
                log(f"schedule {name} failed: {e}")


def run_wrk(adapter, seconds, out_path, headers=(), connections=2):
    """wrk with TLS keep-alive on the adapter's risk endpoint; returns the parsed summary."""
    wrk = shutil.which("wrk")
    if not wrk:
        return {"skipped": "wrk not installed"}
    lua = out_path + ".lua"
    with open(lua, "w") as f:
        f.write("done = function(summary, latency, requests)\n"
                "  io.write(string.format('JSON {\"requests\":%d,\"errors_status\":%d,"
                "\"errors_connect\":%d,\"errors_read\":%d,\"errors_timeout\":%d,"
                "\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"duration_us\":%d}\\n',"
                " summary.requests, summary.errors.status, summary.errors.connect,"
                " summary.errors.read, summary.errors.timeout, latency:percentile(50),"
                " latency:percentile(99), latency.max, summary.duration))\n"
                "end\n")
    url = (adapter.url + "/apis/external.metrics.k8s.io/v1beta1/namespaces/e2e/memory_oom_risk"
           "?labelSelector=app%3Dsteady-leak")
    argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua]
    for h in headers:
        argv += ["-H", h]
    argv.append(url)
    p = subprocess.run(argv, capture_output=True, timeout=seconds + 30)
    text = p.stdout.decode(errors="replace")
    with open(out_path, "w") as f:
        f.write(text + p.stderr.decode(errors="replace"))
    m = re.search(r"^JSON (\{.*\})$", text, re.M)
    if not m:
        return {"error": f"wrk exit {p.returncode}: {text[-300:]} {p.stderr[-300:]!r}"}
    out = json.loads(m.group(1))
    out["rps"] = round(out["requests"] / max(1e-9, out["duration_us"] / 1e6), 1)
    out["p99_ms"] = round(out["p99_us"] / 1000, 3)
    out["p50_ms"] = round(out["p50_us"] / 1000, 3)
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    return out


def run(harness, args, report, checks, Env, System, namespace, evaluate_workloads):  # noqa: N803
    env = Env(harness, report)
    prom = env.prometheus

    # The fault proxy in front of Prometheus, for the predictor only.
    proxy_port = free_port()
    proxy = harness.spawn("fault-proxy", [sys.executable, os.path.join(HERE, "fault_proxy.py"),
                                          "--port", str(proxy_port), "--upstream", prom.url,
                                          "--oversized-mib", str(MAX_RESPONSE_BYTES * 1.5 / MIB)])
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    wait_until(lambda: http_get(proxy_url + "/__fault/stats", timeout=1)[0] == 200, 20,
               what="fault proxy")
    predictor_config = os.path.join(harness.workdir, "predictor.yaml")
    with open(predictor_config, "w") as f:
        f.write(f"prometheus:\n  maxResponseBytes: {MAX_RESPONSE_BYTES}\n")
    args.predictor_extra = ["--config", predictor_config]
    sysm = System(env, args, checks, prometheus_url_for_predictor=proxy_url)
    specs = fault_specs()
    # Two scalers watch the leak, each on its own Deployment of 5 replicas, and scale down at once
    # on any growth below 1 KiB/s (the leak grows 0.6 MiB/s), so a controller that read missing
    # forecasts as zero growth would scale down:
    #   steady-leak       from the start: before the model's first fit the forecast is unknown;
    #   steady-leak-hold  created at HOLD_SCALER_AT, once the growth is known: the outages.
    shrink_on_any_stall = {"scaleDown": {"growthRateBelow": "1Ki"},
                           "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}}}
    sysm.start_controller(specs, replicas={"steady-leak": 5}, deferred=("steady-leak",))
    if sysm.standin:
        sysm.add_scaler(specs[0], shrink_on_any_stall)
        sysm.standin.seed(system.deployment(namespace, HOLD, 5, {"app": HOLD}))
    report.event(harness, "system up", predictor=bool(sysm.predictor),
                 adapter=bool(sysm.adapter), controller=bool(sysm.controller))

    def set_mode(mode):
        return lambda: (http_get(proxy_url + f"/__fault/mode?set={mode}", timeout=2), None)[1]

    rss_marks = []

    def mark_rss(cycle):
        def act():
            if sysm.predictor and sysm.predictor.proc.alive():
                s = sysm.predictor.proc.sample()
                if s:
                    rss_marks.append((cycle, s[0]))
                    return {"predictor_rss_mib": round(s[0] / MIB, 1)}
            return None
        return act

    entries = []
    t = PROXY_START
    for cycle in range(PROXY_CYCLES):
        for mode in PROXY_MODES:
            entries.append((t, f"proxy {mode}", set_mode(mode)))
            entries.append((t + PROXY_FAULT_S, "proxy pass", set_mode("pass")))
            t += PROXY_FAULT_S + PROXY_PASS_S
        entries.append((t - 0.5, f"predictor RSS after proxy cycle {cycle + 1}", mark_rss(cycle)))
    proxy_end = t
    def add_hold_scaler():
        if sysm.standin:
            sysm.standin.seed(system.memory_scaler(namespace, HOLD, HOLD, 1, 10, args.horizon,
                                                   specs[0].labels, shrink_on_any_stall))
            return {"selector": specs[0].labels, "scaleDown.growthRateBelow": "1Ki",
                    "replicas": 5}
        return None

    entries += [
        (HOLD_SCALER_AT, f"MemoryScaler {HOLD} created", add_hold_scaler),
        (PAUSE[0], "Prometheus paused (SIGSTOP)", lambda: prom.pause()),
        (PAUSE[1], "Prometheus resumed (SIGCONT)", lambda: prom.resume()),
        (KILL[0], "Prometheus killed (SIGKILL)", lambda: prom.kill()),
        (KILL[1], "Prometheus restarted", lambda: (prom.start(), None)[1]),
    ]
    wrk_result = {}

    def start_wrk():
        if not sysm.adapter:
            wrk_result["skipped"] = "metrics-adapter not built"
            return None

        def go():
            wrk_result.update(run_wrk(sysm.adapter, WRK[1],
                                      os.path.join(harness.workdir, "wrk.txt"),
                                      headers=getattr(sysm, "wrk_headers", ())))
        threading.Thread(target=go, daemon=True).start()
        return {"seconds": WRK[1]}

    entries.append((WRK[0], "wrk started on the adapter", start_wrk))

    env.start_workloads(specs)
    sysm.start_pollers()
    schedule = Schedule(env, report, entries)
    schedule.start()
    leak_kill = max(s.expected_kill_s for s in specs if s.leak)
    from run_e2e import run_until_kills  # noqa: PLC0415 - shared helper, avoids a cycle at import
    run_until_kills(env, sysm, deadline_s=max(leak_kill + 60, proxy_end + 10))
    schedule.stop_event.set()
    schedule.join(timeout=5)
    wait_until(lambda: wrk_result or not sysm.adapter, 40, what="wrk to finish")
    sysm.stop_pollers()
    env.stop_monitor()
    for e in env.monitor.events:
        report.event(harness, f"{e['workload']} exited", t=e["t"], code=e["code"],
                     oom_kill=e["oom_kill"])
    checks.check("fault schedule ran", not schedule.errors, "; ".join(schedule.errors) or "ok")
    dead = sysm.processes_alive()
    checks.check("no oomcast binary crashed under faults", not dead, ", ".join(dead) or "all up")

    rel = env.rel
    outages = [("paused", PAUSE[0], PAUSE[1]), ("killed", KILL[0], KILL[1])]
    report.data["outages"] = [{"kind": k, "from_s": a, "to_s": b} for k, a, b in outages]
    # A client sees stale data after stale-after + one cycle + one query timeout.
    settle = STALE_AFTER + 2 + 3 + 3

    if sysm.adapter and sysm.kubectl:
        for kind, a, b in outages:
            window = [(rel(t), st, d) for t, st, d in sysm.kpoll.results
                      if a + settle <= rel(t) <= b]
            oks = [w for w in window if w[1] == "ok"]
            errs = [w for w in window if w[1] == "error"]
            unavailable = [w for w in errs if "ServiceUnavailable" in str(w[2])
                           or "503" in str(w[2])]
            checks.check(f"adapter answers errors, not values, while Prometheus is {kind}",
                         window and not oks and len(unavailable) == len(errs),
                         f"{len(window)} kubectl polls in [{a + settle}, {b}]s: {len(oks)} with "
                         f"values, {len(unavailable)} ServiceUnavailable of {len(errs)} errors; "
                         f"e.g. {errs[0][2] if errs else oks[:1]}")
            after = [rel(t) for t, st, _ in sysm.kpoll.results if st == "ok" and rel(t) > b]
            checks.check(f"adapter recovers after Prometheus was {kind}",
                         bool(after) and after[0] - b <= 30,
                         f"first value {None if not after else round(after[0] - b, 1)}s after")
        report.data["kubectl_errors"] = [(rel(t), d) for t, st, d in sysm.kpoll.results
                                         if st == "error"][:40]

    if sysm.predictor:
        tl = sysm.ppoll.timeline
        for kind, a, b in outages:
            window = [(rel(t), n, age) for t, n, age, _ in tl if a + settle <= rel(t) <= b]
            stale_ok = window and all(n == 0 and (age is None or age > STALE_AFTER)
                                      for _, n, age in window)
            checks.check(f"predictor drops its forecasts while Prometheus is {kind}",
                         stale_ok, f"{len(window)} polls in [{a + settle}, {b}]s; forecasts "
                         f"exposed per poll: {sorted({n for _, n, _ in window})}, max age "
                         f"{max((age or 0) for _, _, age in window) if window else None}")
        back = [rel(t) for t, n, _, _ in tl if n > 0 and rel(t) > proxy_end]
        checks.check("predictor forecasts again after the faults", bool(back),
                     f"first fresh forecast {back[0] if back else None}s")
        errors = [(rel(t), e) for t, _, _, e in tl]
        in_proxy = [e for t, e in errors if PROXY_START <= t <= proxy_end + 5]
        before = [e for t, e in errors if t < PROXY_START]
        inc = (in_proxy[-1] - (before[-1] if before else 0)) if in_proxy else 0
        stats = json.loads(http_get(proxy_url + "/__fault/stats", timeout=3)[1] or b"{}")
        faulted = sum(n for m, n in stats.get("requests", {}).items() if m != "pass")
        report.data["faults"] = {"proxy_requests": stats.get("requests"),
                                 "query_errors_total_increase": inc,
                                 "query_errors_by_reason": sysm.ppoll.error_reasons}
        checks.check("proxy faults counted in oomcast_query_errors_total",
                     faulted > 0 and inc >= 0.5 * faulted,
                     f"{faulted} faulted responses, counter +{inc:.0f} "
                     f"(reasons {sysm.ppoll.error_reasons})")
        logged = 0
        try:
            with open(sysm.predictor.proc.log_path, errors="replace") as f:
                logged = sum(1 for line in f if re.search(r"error|warn", line, re.I))
        except OSError:
            pass
        checks.check("query errors logged by the predictor", logged > 0,
                     f"{logged} warn/error lines in {os.path.basename(sysm.predictor.proc.log_path)}")
        samples = sysm.predictor.proc.rss_samples
        report.data["predictor_rss"] = {
            "after_cycle_mib": [round(r / MIB, 2) for _, r in rss_marks],
            "every_5s_mib": [(rel(t - harness.t0), round(r / MIB, 2)) for t, r in samples[::5]],
            "min_mib": round(min((r for _, r in samples), default=0) / MIB, 2),
            "max_mib": round(max((r for _, r in samples), default=0) / MIB, 2),
            "final_mib": round(samples[-1][1] / MIB, 2) if samples else None,
        }
        if len(rss_marks) >= 3:
            first, last = rss_marks[1][1], rss_marks[-1][1]
            growth = last - first
            checks.check("predictor memory flat across fault cycles",
                         growth <= max(4 * MIB, 0.10 * first),
                         f"RSS after each cycle {[round(r / MIB, 1) for _, r in rss_marks]} MiB: "
                         f"+{growth / MIB:.1f} MiB from cycle 2 to cycle {len(rss_marks)} "
                         f"(allowed max(4 MiB, 10%)), peak {sysm.predictor.proc.peak_rss / MIB:.1f}")
        else:
            checks.check("predictor memory flat across fault cycles", False,
                         f"only {len(rss_marks)} RSS marks")

    if sysm.standin and sysm.controller:
        replicas = {n: [(rel(t), r) for t, r in v] for n, v in sysm.spoll.replicas.items()}
        report.data["replicas"] = replicas
        leak_series = replicas.get(HOLD, [])
        early = sysm.spoll.decreases("steady-leak")
        checks.check("controller does not scale down on a forecast that does not exist yet",
                     not early, f"steady-leak replicas {replicas.get('steady-leak')}: decreases "
                     f"{[(rel(t), a, b) for t, a, b in early]} (its scaler shrinks on growth "
                     f"< 1 KiB/s; the leak grows 0.6 MiB/s)")

        def replicas_at(t):
            return next((r for ts, r in reversed(leak_series) if ts <= t), None)
        for kind, a, b in outages:
            downs = {n: [(rel(t), x, y) for t, x, y in sysm.spoll.decreases(n)
                         if a <= rel(t) <= b + 5] for n in sysm.spoll.replicas}
            downs = {n: d for n, d in downs.items() if d}
            at_start = replicas_at(a)
            checks.check(f"controller holds (no scale-down) while Prometheus is {kind}",
                         not downs and at_start is not None and at_start > 1,
                         (json.dumps(downs) if downs else "no decrease") +
                         f"; {HOLD} had {at_start} replicas (min 1) when the outage began, "
                         f"its scaler scales down on growth < 1 KiB/s")
        conds = {k: [(rel(t), c) for t, c in v] for k, v in sysm.spoll.conditions.items()}
        series = conds.get(HOLD, [])

        def state_at(t):
            return next((c for ts, c in reversed(series) if ts <= t), None)
        held = [(kind, state_at(b - 1)) for kind, _, b in outages]
        checks.check("controller reports the missing forecasts in its status",
                     all(c and ("False" in c or "Stale" in c) for _, c in held),
                     f"{HOLD} conditions 1 s before each outage ends: {held}")
        report.data["scaler_conditions"] = {k: [(rel(t), c) for t, c in v]
                                            for k, v in sysm.spoll.conditions.items()}

    if sysm.adapter:
        report.data["wrk"] = wrk_result
        if "skipped" in wrk_result:
            checks.skip("adapter latency under wrk", wrk_result["skipped"])
        elif "error" in wrk_result:
            checks.check("adapter latency under wrk", False, wrk_result["error"])
        else:
            errors = (wrk_result["errors_status"] + wrk_result["errors_connect"] +
                      wrk_result["errors_read"] + wrk_result["errors_timeout"])
            checks.check("adapter answers wrk without errors", errors == 0
                         and wrk_result["requests"] > 0,
                         f"{wrk_result['requests']} requests, {errors} errors "
                         f"(non-2xx {wrk_result['errors_status']})")
            # A stall bound, not a speed target: speed is a benchmark's (tests/bench/adapter_wrk.sh),
            # and on a shared 2-core CI machine a millisecond target would only measure the load.
            checks.check("adapter never stalls under wrk (p99 within the stall bound)",
                         wrk_result["p99_ms"] <= args.adapter_p99_ms,
                         f"measured p50 {wrk_result['p50_ms']} ms, p99 {wrk_result['p99_ms']} ms "
                         f"(stall bound {args.adapter_p99_ms} ms), {wrk_result['rps']} req/s, "
                         f"machine load average {wrk_result['load_average_1m']} on "
                         f"{os.cpu_count()} CPUs")

    evaluate_workloads(env, sysm, checks, report, args.horizon)
