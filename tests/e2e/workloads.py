"""The e2e workloads: memory shapes run inside memory cgroups, and a monitor that records when
the kernel killed them (exit status and the cgroup's OOM-kill counter)."""

import json
import os
import signal
import subprocess
import threading
import time

from e2elib import log

MIB = 1 << 20


class WorkloadSpec:
    """One container: a workload.c mode with its parameters, its memory limit, and whether the
    kernel is expected to kill it (leak=True) or it must never raise an alarm (leak=False)."""

    def __init__(self, name, mode, limit_mib, leak, expected_kill_s=None, labels=None, **params):
        self.name = name
        self.mode = mode
        self.limit_mib = limit_mib
        self.leak = leak
        self.expected_kill_s = expected_kill_s
        self.params = params
        self.labels = labels or {"app": name}


# The standard set for a 60 s horizon: leaks are killed 3 to 4 minutes in, the others stay under
# their limits. expected_kill_s is what the shape gives on paper; the kernel decides.
def standard_set():
    return [
        # 16 MiB + 0.56 MiB/s reaches 128 MiB at ~200 s.
        WorkloadSpec("steady-leak", "steady", 128, True, 200, base_mib=16, rate_mib=0.56),
        # 16 + 0.15 t + 0.00207 t^2 reaches 160 MiB at ~230 s; linear extrapolation lags behind.
        WorkloadSpec("accel-leak", "accel", 160, True, 230, base_mib=16, v0_mib=0.15,
                     accel_mib=0.00207),
        # +8 MiB every 15 s from 16 MiB reaches 128 MiB at the 14th step, ~210 s.
        WorkloadSpec("stair-leak", "stair", 128, True, 210, base_mib=16, step_mib=8, step_s=15),
        # A 40 MiB heap collected every 20 s on a floor rising 0.55 MiB/s: the peak (floor + 40
        # MiB) reaches 192 MiB at ~(192-24-40)/0.55 = 233 s: killed on a peak, not on the trend.
        WorkloadSpec("sawtooth-leak", "sawtooth_leak", 192, True, 233, base_mib=24, rate_mib=0.55,
                     amp_mib=40, period_s=20),
        # The same GC sawtooth, 64 MiB heap, no leak: peaks at 96 of 160 MiB (60%), with a
        # within-cycle growth of 4 MiB/s that a naive extrapolation would read as an OOM in 16 s.
        WorkloadSpec("sawtooth-steady", "sawtooth", 160, False, None, base_mib=32, amp_mib=64,
                     period_s=20),
        # The steady leak into tmpfs (/dev/shm): shmem charged to the cgroup, which the OOM
        # killer counts and cAdvisor's working set shows, while container_memory_rss stays at
        # the process's few hundred KiB. Killed at ~200 s like steady-leak.
        WorkloadSpec("shm-leak", "steady", 128, True, 200, base_mib=16, rate_mib=0.56,
                     store="shm"),
        # Warm-up: 1.6 MiB/s at first, settling at 16 + 72 = 88 of 128 MiB (69%).
        WorkloadSpec("warmup-plateau", "plateau", 128, False, None, base_mib=16, plateau_mib=72,
                     tau_s=45),
    ]


def compile_workload(source_dir, out_dir):
    src = os.path.join(source_dir, "workload.c")
    out = os.path.join(out_dir, "workload")
    subprocess.run(["cc", "-O2", "-std=c11", "-Wall", "-o", out, src, "-lm"], check=True,
                   timeout=120)
    return out


class Workload:
    """A running workload in its own memory cgroup."""

    def __init__(self, harness, spec, binary, namespace):
        self.spec = spec
        self.namespace = namespace
        self.pod = f"{spec.name}-0"
        self.container = "app"
        driver = harness.cgroup_driver()
        self.cgroup = driver.create(spec.name, spec.limit_mib * MIB)
        procs_file = self.cgroup.procs_file()

        def enter_cgroup():
            with open(procs_file, "w") as f:
                f.write(str(os.getpid()))

        argv = [binary, spec.mode] + [f"{k}={v}" for k, v in spec.params.items()]
        self.proc = harness.spawn(f"workload-{spec.name}", argv, preexec=enter_cgroup,
                                  resource_name=f"workload-{spec.name}", sample=False)
        self.start_time = harness.now()
        self.exit_time = None
        self.exit_code = None
        self.oom_kills = 0
        self.peak_rss = 0
        self.peak_working_set = 0
        self.last_stats = None

    def target(self):
        return {"path": self.cgroup.path, "version": self.cgroup.driver.version,
                "namespace": self.namespace, "pod": self.pod, "container": self.container,
                "labels": dict(self.spec.labels)}

    def key(self):
        return (self.namespace, self.pod, self.container)

    @property
    def killed_by_oom(self):
        return self.exit_code == -signal.SIGKILL and self.oom_kills >= 1

    def summary(self):
        return {
            "name": self.spec.name, "mode": self.spec.mode, "leak": self.spec.leak,
            "limit_bytes": self.spec.limit_mib * MIB, "pod": self.pod,
            "start_s": round(self.start_time, 2),
            "exit_s": None if self.exit_time is None else round(self.exit_time, 2),
            "alive_s": None if self.exit_time is None else round(self.exit_time - self.start_time, 2),
            "exit_code": self.exit_code,
            "exit_signal": ("SIGKILL" if self.exit_code == -signal.SIGKILL else
                            None if self.exit_code is None or self.exit_code >= 0 else
                            signal.Signals(-self.exit_code).name),
            "cgroup_oom_kill_counter": self.oom_kills,
            "killed_by_kernel_oom": self.killed_by_oom,
            "peak_rss_bytes": self.peak_rss,
            "peak_working_set_bytes": self.peak_working_set,
            "expected_kill_s": self.spec.expected_kill_s,
        }


class WorkloadMonitor(threading.Thread):
    """Polls every workload 5 times a second: exit status, OOM-kill counter, RSS."""

    def __init__(self, harness, workloads, targets_path):
        super().__init__(daemon=True)
        self.harness = harness
        self.workloads = workloads
        self.targets_path = targets_path
        self.stop_event = threading.Event()
        self.events = []
        self.write_targets()

    def write_targets(self):
        tmp = self.targets_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump([w.target() for w in self.workloads], f)
        os.rename(tmp, self.targets_path)

    def run(self):
        while not self.stop_event.wait(0.2):
            for w in self.workloads:
                if w.exit_time is not None:
                    continue
                stats = w.cgroup.stats()
                w.last_stats = stats
                w.peak_rss = max(w.peak_rss, stats["rss"])
                w.peak_working_set = max(w.peak_working_set, stats["working_set"])
                w.oom_kills = max(w.oom_kills, stats["oom_kill"])
                code = w.proc.returncode()
                if code is not None:
                    w.exit_time = self.harness.now()
                    w.exit_code = code
                    time.sleep(0.05)
                    w.oom_kills = max(w.oom_kills, w.cgroup.stats()["oom_kill"])
                    self.events.append({"t": round(w.exit_time, 2), "event": "exit",
                                        "workload": w.spec.name, "code": code,
                                        "oom_kill": w.oom_kills})
                    log(f"workload {w.spec.name} exited with {code} after "
                        f"{w.exit_time - w.start_time:.1f}s, cgroup oom_kill={w.oom_kills}, "
                        f"peak rss {w.peak_rss / MIB:.1f} MiB")

    def all_done(self):
        return all(w.exit_time is not None for w in self.workloads if w.spec.leak)
