"""Building blocks of oomcast's end-to-end tests: memory cgroups, supervised processes, a real
Prometheus, resource sampling and small HTTP helpers.

Everything here is bounded in time and cleans up after itself: a Harness owns every cgroup and
process it starts and removes them in close(), also when a test fails or is interrupted.
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request

SKIP = 77  # CTest SKIP_RETURN_CODE


class Skip(Exception):
    """The environment cannot run this test (no writable memory cgroup, missing binary)."""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    """A loopback TCP port that was free a moment ago (bind to 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2.0, headers=None, context=None):
    """GET url; returns (status, body bytes, elapsed seconds). status is None on a transport
    error (refused, timeout, reset), with the error text as body."""
    req = urllib.request.Request(url, headers=headers or {})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            body = resp.read()
            return resp.status, body, time.monotonic() - start
    except urllib.error.HTTPError as e:
        try:
            body = e.read()
        except Exception:  # noqa: BLE001 - body of an error is best effort
            body = b""
        return e.code, body, time.monotonic() - start
    except Exception as e:  # noqa: BLE001 - any transport failure is reported as None
        return None, str(e).encode(), time.monotonic() - start


def wait_until(predicate, timeout, interval=0.25, what="condition"):
    """Poll predicate() until it returns a truthy value or timeout seconds pass; returns the
    value or raises TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def parse_prometheus_text(text):
    """Parses Prometheus text exposition into a list of (name, labels dict, float value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        try:
            if "{" in line:
                name, rest = line.split("{", 1)
                labels_text, value_text = rest.rsplit("}", 1)
                labels = {}
                i = 0
                while i < len(labels_text):
                    eq = labels_text.index("=", i)
                    key = labels_text[i:eq].strip().lstrip(",").strip()
                    j = eq + 2  # skip ="
                    val = []
                    while labels_text[j] != '"':
                        if labels_text[j] == "\\":
                            j += 1
                            val.append({"n": "\n"}.get(labels_text[j], labels_text[j]))
                        else:
                            val.append(labels_text[j])
                        j += 1
                    labels[key] = "".join(val)
                    i = j + 1
                    while i < len(labels_text) and labels_text[i] in ", ":
                        i += 1
            else:
                name, value_text = line.split(None, 1)
                labels = {}
            value = float(value_text.split()[0])
            out.append((name.strip(), labels, value))
        except (ValueError, IndexError):
            continue
    return out


# ---------------------------------------------------------------------------------------------
# Memory cgroups


class CgroupDriver:
    """Creates memory cgroups under a private parent group on cgroup v1 or v2."""

    def __init__(self, version, root):
        self.version = version
        self.root = root
        self.parent = None

    @staticmethod
    def detect():
        """The first writable memory cgroup hierarchy, v1 or v2; raises Skip when none is."""
        reasons = []
        candidates = []
        mounts = []
        try:
            with open("/proc/mounts") as f:
                mounts = [line.split() for line in f]
        except OSError as e:
            reasons.append(f"/proc/mounts: {e}")
        for m in mounts:
            if len(m) >= 4 and m[2] == "cgroup" and "memory" in m[3].split(","):
                candidates.append((1, m[1]))
        for m in mounts:
            if len(m) >= 3 and m[2] == "cgroup2":
                controllers = os.path.join(m[1], "cgroup.controllers")
                try:
                    with open(controllers) as f:
                        if "memory" in f.read().split():
                            candidates.append((2, m[1]))
                        else:
                            reasons.append(f"{m[1]}: cgroup2 without the memory controller")
                except OSError as e:
                    reasons.append(f"{controllers}: {e}")
        for version, root in candidates:
            probe = os.path.join(root, f"oomcast-e2e-probe-{os.getpid()}")
            try:
                os.mkdir(probe)
                os.rmdir(probe)
                return CgroupDriver(version, root)
            except OSError as e:
                reasons.append(f"cgroup v{version} at {root} is not writable: {e}")
        if not candidates:
            reasons.append("no memory cgroup hierarchy is mounted (v1 or v2)")
        raise Skip("cannot create memory cgroups: " + "; ".join(reasons))

    def remove_stale(self):
        """Removes parent groups left by earlier runs whose harness process is gone."""
        for entry in os.listdir(self.root):
            if not entry.startswith("oomcast-e2e-") or entry.startswith("oomcast-e2e-probe"):
                continue
            try:
                pid = int(entry.rsplit("-", 1)[1])
            except ValueError:
                continue
            if os.path.exists(f"/proc/{pid}"):
                continue
            path = os.path.join(self.root, entry)
            for child in os.listdir(path):
                child_path = os.path.join(path, child)
                if os.path.isdir(child_path):
                    Cgroup(self, child_path).destroy()
            try:
                os.rmdir(path)
                log(f"removed stale cgroup {path}")
            except OSError as e:
                log(f"could not remove stale cgroup {path}: {e}")

    def create_parent(self):
        self.parent = os.path.join(self.root, f"oomcast-e2e-{os.getpid()}")
        os.makedirs(self.parent, exist_ok=True)
        if self.version == 2:
            _write(os.path.join(self.root, "cgroup.subtree_control"), "+memory", must=False)
            _write(os.path.join(self.parent, "cgroup.subtree_control"), "+memory")
        else:
            _write(os.path.join(self.parent, "memory.use_hierarchy"), "1", must=False)
        return self.parent

    def create(self, name, limit_bytes):
        """A child memory cgroup with the given limit and no swap."""
        if self.parent is None:
            self.create_parent()
        path = os.path.join(self.parent, name)
        os.makedirs(path, exist_ok=True)
        cg = Cgroup(self, path)
        if self.version == 1:
            _write(os.path.join(path, "memory.swappiness"), "0", must=False)
            _write(os.path.join(path, "memory.limit_in_bytes"), str(limit_bytes))
            # memsw (memory + swap) exists only with swap accounting; equal to the limit = no swap.
            _write(os.path.join(path, "memory.memsw.limit_in_bytes"), str(limit_bytes), must=False)
            _write(os.path.join(path, "memory.oom_control"), "0", must=False)  # OOM killer on
        else:
            _write(os.path.join(path, "memory.max"), str(limit_bytes))
            _write(os.path.join(path, "memory.swap.max"), "0", must=False)
            _write(os.path.join(path, "memory.oom.group"), "0", must=False)
        return cg

    def destroy_parent(self):
        if self.parent and os.path.isdir(self.parent):
            for child in os.listdir(self.parent):
                child_path = os.path.join(self.parent, child)
                if os.path.isdir(child_path):
                    Cgroup(self, child_path).destroy()
            try:
                os.rmdir(self.parent)
            except OSError as e:
                log(f"could not remove {self.parent}: {e}")


def _write(path, value, must=True):
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError:
        if must:
            raise


def _read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def _kv(text):
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                pass
    return out


class Cgroup:
    def __init__(self, driver, path):
        self.driver = driver
        self.path = path

    def procs_file(self):
        return os.path.join(self.path, "cgroup.procs")

    def pids(self):
        return [int(p) for p in _read(self.procs_file()).split()]

    def stats(self):
        """Memory of the group in bytes from the kernel's files: rss (anonymous), usage,
        working_set (usage - inactive_file, as cAdvisor), limit, and the OOM-kill counter."""
        stat = _kv(_read(os.path.join(self.path, "memory.stat")))
        if self.driver.version == 1:
            usage = int(_read(os.path.join(self.path, "memory.usage_in_bytes"), "0") or 0)
            limit = int(_read(os.path.join(self.path, "memory.limit_in_bytes"), "0") or 0)
            rss = stat.get("total_rss", stat.get("rss", 0))
            inactive_file = stat.get("total_inactive_file", stat.get("inactive_file", 0))
            oom_kill = _kv(_read(os.path.join(self.path, "memory.oom_control"))).get("oom_kill", 0)
        else:
            usage = int(_read(os.path.join(self.path, "memory.current"), "0") or 0)
            raw = _read(os.path.join(self.path, "memory.max"), "max").strip()
            limit = 0 if raw in ("", "max") else int(raw)
            rss = stat.get("anon", 0)
            inactive_file = stat.get("inactive_file", 0)
            oom_kill = _kv(_read(os.path.join(self.path, "memory.events"))).get("oom_kill", 0)
        return {
            "rss": rss,
            "usage": usage,
            "working_set": max(0, usage - inactive_file),
            "limit": limit,
            "oom_kill": oom_kill,
        }

    def destroy(self, timeout=10.0):
        """Kills every process in the group, waits for it to empty, removes it."""
        deadline = time.monotonic() + timeout
        if self.driver.version == 2:
            _write(os.path.join(self.path, "cgroup.kill"), "1", must=False)
        while time.monotonic() < deadline:
            pids = self.pids() if os.path.isdir(self.path) else []
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        while time.monotonic() < deadline:
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                time.sleep(0.1)
        log(f"could not remove cgroup {self.path}")
        return False


# ---------------------------------------------------------------------------------------------
# Processes


def proc_sample(pid):
    """(VmRSS bytes, VmHWM bytes, CPU seconds user+system) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    rss = hwm = 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) * 1024
    fields = stat.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return rss, hwm, cpu


class Proc:
    """A supervised child process in its own process group, with its output in a log file and
    its memory and CPU sampled by the harness."""

    def __init__(self, name, argv, log_dir, env=None, preexec=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.logfile = open(self.log_path, "ab")
        self.logfile.write(f"$ {' '.join(argv)}\n".encode())
        self.logfile.flush()
        self.popen = subprocess.Popen(
            argv,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=preexec,
        )
        self.pid = self.popen.pid
        self.started = time.monotonic()
        self.exit_time = None
        self.rss_samples = []  # (monotonic, rss bytes)
        self.peak_rss = 0
        self.cpu_seconds = 0.0

    def sample(self):
        s = proc_sample(self.pid)
        if s is None or self.popen.poll() is not None:
            return None
        rss, hwm, cpu = s
        self.rss_samples.append((time.monotonic(), rss))
        self.peak_rss = max(self.peak_rss, hwm, rss)
        self.cpu_seconds = cpu
        return s

    def alive(self):
        return self.popen.poll() is None

    def returncode(self):
        return self.popen.poll()

    def signal(self, sig):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout=5.0):
        """SIGTERM the process group, SIGKILL after timeout; returns the exit code."""
        if self.alive():
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                try:
                    self.popen.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        else:
            self.signal(signal.SIGKILL)  # anything it left behind in its group
        try:
            self.logfile.close()
        except OSError:
            pass
        return self.popen.poll()

    def tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()[-8192:]
            return "\n".join(data.decode(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Sampler(threading.Thread):
    """Samples memory and CPU of every registered process once a second."""

    def __init__(self):
        super().__init__(daemon=True)
        self.procs = []
        self.stop_event = threading.Event()
        self.lock = threading.Lock()

    def add(self, proc):
        with self.lock:
            self.procs.append(proc)

    def run(self):
        while not self.stop_event.wait(1.0):
            with self.lock:
                procs = list(self.procs)
            for p in procs:
                p.sample()


# ---------------------------------------------------------------------------------------------
# Prometheus


class Prometheus:
    """A real Prometheus on a loopback port, scraping the given targets every second; can be
    killed, restarted on the same storage, paused and resumed."""

    def __init__(self, harness, targets, binary="/usr/bin/prometheus", scrape_interval="1s"):
        self.harness = harness
        self.binary = binary
        self.port = free_port()
        self.dir = os.path.join(harness.workdir, "prometheus")
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        self.config = os.path.join(self.dir, "prometheus.yml")
        lines = [
            "global:",
            f"  scrape_interval: {scrape_interval}",
            "  scrape_timeout: 900ms",
            f"  evaluation_interval: {scrape_interval}",
            "scrape_configs:",
            "  - job_name: cadvisor-e2e",
            "    honor_labels: true",
            "    static_configs:",
            f"      - targets: [{', '.join(repr(t) for t in targets)}]",
        ]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.starts = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        self.starts += 1
        self.proc = self.harness.spawn(
            f"prometheus-{self.starts}",
            [
                self.binary,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=2h",
                "--log.level=warn",
            ],
            resource_name="prometheus",
        )
        wait_until(lambda: http_get(self.url + "/-/ready", timeout=1)[0] == 200 or self._died(),
                   timeout, what="Prometheus ready")
        if not self.proc.alive():
            raise RuntimeError(f"Prometheus exited: {self.proc.tail()}")

    def _died(self):
        return not self.proc.alive()

    def kill(self):
        self.proc.signal(signal.SIGKILL)
        try:
            self.proc.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def pause(self):
        """SIGSTOP; returns once every thread of Prometheus is stopped."""
        self.proc.signal(signal.SIGSTOP)
        pid = self.proc.pid

        def stopped():
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
                for tid in tasks:
                    with open(f"/proc/{pid}/task/{tid}/stat") as f:
                        if f.read().rsplit(")", 1)[1].split()[0] not in ("T", "t"):
                            return False
                return True
            except OSError:
                return True

        try:
            wait_until(stopped, 5, interval=0.02, what="Prometheus stopped")
        except TimeoutError:
            log("Prometheus not fully stopped after 5s")

    def resume(self):
        self.proc.signal(signal.SIGCONT)

    def query(self, expr, timeout=3):
        status, body, _ = http_get(
            self.url + "/api/v1/query?query=" + urllib.request.quote(expr), timeout=timeout)
        if status != 200:
            return None
        return json.loads(body)["data"]["result"]


# ---------------------------------------------------------------------------------------------
# The harness: owns every process and cgroup of a run


class Harness:
    def __init__(self, workdir):
        self.workdir = workdir
        self.logdir = os.path.join(workdir, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.procs = []
        self.sampler = Sampler()
        self.sampler.start()
        self.cgroups = None
        self.resources = {}  # resource name -> list of Proc (restarts accumulate)
        self.t0 = time.monotonic()
        self._closed = False

    def now(self):
        """Seconds since the harness started (the run's time axis)."""
        return time.monotonic() - self.t0

    def spawn(self, name, argv, env=None, preexec=None, resource_name=None, sample=True):
        p = Proc(name, argv, self.logdir, env=env, preexec=preexec, cwd=self.workdir)
        self.procs.append(p)
        if sample:
            self.sampler.add(p)
        self.resources.setdefault(resource_name or name, []).append(p)
        return p

    def cgroup_driver(self):
        if self.cgroups is None:
            driver = CgroupDriver.detect()
            driver.remove_stale()
            driver.create_parent()
            self.cgroups = driver
        return self.cgroups

    def resource_report(self):
        out = {}
        for name, procs in self.resources.items():
            out[name] = {
                "peak_rss_bytes": max((p.peak_rss for p in procs), default=0),
                "cpu_seconds": round(sum(p.cpu_seconds for p in procs), 2),
                "instances": len(procs),
            }
        return out

    def close(self):
        if self._closed:
            return
        self._closed = True
        self.sampler.stop_event.set()
        for p in reversed(self.procs):
            try:
                p.stop(timeout=3)
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                log(f"stopping {p.name}: {e}")
        if self.cgroups is not None:
            self.cgroups.destroy_parent()


def tls_context_no_verify():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
