"""Shared pieces of the integration tests: the lab every test shares (a CTest
fixture starts it once per run), a galeratopd per test on its own port, and
real MySQL clients. Every process a test starts is stopped by its PID."""

import ctypes
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))
import galera_lab  # noqa: E402

import pymysql  # noqa: E402


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                     "runtime error: ")


def wait_for(predicate, timeout, what, interval=0.05):
    """Polls `predicate` until it returns a truthy value; raises naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def terminate(proc, grace):
    """Stops a process we started, by its PID: SIGTERM, then SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab():
    return galera_lab.Lab.load(os.environ["LAB_ROOT"])


def _die_with_parent():
    """In the child before exec: SIGTERM it if the test process dies, even by SIGKILL
    (a CTest timeout), so that no galeratopd outlives its test."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


# The relay backend every Agent runs ([balancer] io_backend), for a suite run on each one
# (tests/integration/CMakeLists.txt); unset: galeratopd's default.
IO_BACKEND = os.environ.get("GALERATOP_IO_BACKEND")

LOG_LINE = re.compile(r"^(\S+Z) (\w+): (.*)$")


class Agent:
    """One galeratopd on a free loopback port, over the lab's nodes."""

    def __init__(self, the_lab, nodes=None, extra_config="", balancer_config="", monitor_config="", metrics=False,
                 nofile=None, env=None, intents_group=None, intents_config="", listen=None, command_prefix=(),
                 listeners=None, node_config=None, pass_fds=(), ipv6=False):
        """nofile: the descriptor limit (soft and hard) galeratopd starts with; default: this process's.
        env: variables added to galeratopd's environment.
        intents_group: the [intents] group; by default one of its own, so that the drains of one
        test never reach the agents of another (they share the lab's galeratop.intents table).
        listen: HOST:PORT instead of a free loopback port; command_prefix: what galeratopd runs
        under (`ip netns exec NS` in the failover test).
        listeners: [(name, role), ...] as [[listener]] entries, each on a free loopback port
        (self.ports[name]; self.port is the first); node_config: {lab index: "key = value\n..."}
        added to that node's [[node]] table; pass_fds: descriptors galeratopd inherits (a
        listening socket handed over as systemd does, with command_prefix placing it); ipv6: the
        listener, the metrics port and the nodes on [::1] (every lab node listens there too)."""
        self.lab = the_lab
        self.intents_config = intents_config
        self.listen = listen
        self.command_prefix = list(command_prefix)
        self.pass_fds = tuple(pass_fds)
        self.host = "[::1]" if ipv6 else "127.0.0.1"  # of the listener and the metrics port
        self.node_host = "[::1]" if ipv6 else None     # None: the lab's own
        self.nofile = nofile
        self.env = env
        self.dir = Path(tempfile.mkdtemp(prefix="agent-", dir=the_lab.root))
        self.listeners = listeners or []
        self.ports = {name: free_port() for name, _ in self.listeners}
        self.port = next(iter(self.ports.values())) if self.ports else free_port()
        self.node_config = node_config or {}
        self.metrics_port = free_port() if metrics else None
        self.control = self.dir / "control.sock"
        self.config_path = self.dir / "galeratopd.toml"
        self.log_path = self.dir / "galeratopd.log"
        self.proc = None
        self.intents_group = intents_group or self.dir.name
        self.write_config(nodes, extra_config, balancer_config, monitor_config)

    def node_addresses(self):
        return [f"{self.node_host or self.lab.node(i)['host']}:{self.lab.node(i)['port']}" for i in self.nodes]

    def write_config(self, nodes=None, extra="", balancer="", monitor=""):
        """Writes the configuration file; `nodes` are lab indexes (default: all)."""
        self.nodes = nodes or [n["index"] for n in self.lab.nodes]
        if IO_BACKEND and "io_backend" not in balancer:
            balancer += f'\nio_backend = "{IO_BACKEND}"\n'
        metrics = f"{self.host}:{self.metrics_port}" if self.metrics_port else ""
        default_interval = "" if "interval" in monitor else 'interval = "250ms"\n'
        listen = "" if self.listeners else f'listen = "{self.listen or f"{self.host}:{self.port}"}"\n'
        text = (
            f'[agent]\n{listen}control = "{self.control}"\nmetrics = "{metrics}"\n'
            f'state_dir = "{self.dir / "state"}"\nshutdown_grace = "10s"\n{extra}\n'
            f'[monitor]\nuser = "{self.lab.monitor_user}"\npassword_file = "{self.lab.monitor_password_file}"\n'
            f'{default_interval}timeout = "1s"\n{monitor}\n'
            f'[balancer]\nconnect_timeout = "1s"\n{balancer}\n'
            f'[intents]\ngroup = "{self.intents_group}"\n{self.intents_config}\n'
        )
        for name, role in self.listeners:
            text += f'[[listener]]\nname = "{name}"\nrole = "{role}"\naddress = "127.0.0.1:{self.ports[name]}"\n\n'
        for index, address in zip(self.nodes, self.node_addresses()):
            text += f'[[node]]\naddress = "{address}"\n{self.node_config.get(index, "")}\n'
        self.config_path.write_text(text)

    def start(self, wait_eligible=None):
        galeratopd = os.environ["GALERATOPD"]
        self.log = open(self.log_path, "ab")
        self.started_at = time.time()  # the log is appended to: a restart must not read the last run's lines
        nofile = self.nofile

        def before_exec():
            _die_with_parent()
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen([*self.command_prefix, galeratopd, "--config", str(self.config_path)],
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=before_exec,
                                     pass_fds=self.pass_fds,
                                     env={**os.environ, **(self.env or {})})
        expected = len(self.node_addresses()) if wait_eligible is None else wait_eligible
        try:
            wait_for(lambda: len(self.eligible_now()) >= expected, 15, f"{expected} eligible nodes")
            if self.metrics_port:
                wait_for(self._metrics_ready, 15, "the metrics endpoint")
            if IO_BACKEND and IO_BACKEND != "auto":  # a run meant for one backend tests that one
                running = self.status()["frontend"]["io_backend"]
                if running != IO_BACKEND:
                    raise AssertionError(f"galeratopd relays with {running}, not {IO_BACKEND} as the run asks")
        except BaseException:
            self.stop()  # __exit__ does not run when __enter__ fails: never leak the process
            raise
        return self

    def signal(self, signo):
        self.proc.send_signal(signo)

    def stop(self):
        if self.proc:
            terminate(self.proc, 20)
            self.log.close()
            self.assert_no_sanitizer_report()
        return self.proc.returncode if self.proc else None

    def assert_no_sanitizer_report(self):
        """In a sanitizer build (cmake --preset asan or tsan) a report in the log fails the test
        that caused it, even when the behaviour it checked looked right."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        for marker in SANITIZER_MARKERS:
            at = text.find(marker)
            if at >= 0:
                raise AssertionError(f"galeratopd's log ({self.log_path}) has a sanitizer report:\n"
                                     + text[max(0, at - 200):at + 4000])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def kill(self):
        """kill -9, as a crash would; the next start() is a new process."""
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.assert_no_sanitizer_report()

    # --- the control endpoint, through the real `galeratop` client ---
    def galeratop(self, *args, timeout=60, control=None):
        """Runs `galeratop --control SOCKET ARGS...`; returns the CompletedProcess."""
        return subprocess.run([os.environ["GALERATOP"], "--control", str(control or self.control), *args],
                              capture_output=True, text=True, timeout=timeout)

    def status(self):
        """`galeratop status --json`, parsed."""
        r = self.galeratop("status", "--json")
        if r.returncode != 0:
            raise AssertionError(f"galeratop status failed ({r.returncode}): {r.stderr}")
        return json.loads(r.stdout)

    def node_status(self, lab_index):
        """The status object of one lab node, found by its address."""
        address = f"127.0.0.1:{self.lab.node(lab_index)['port']}"
        return next(n for n in self.status()["nodes"] if n["address"] == address)

    def events(self):
        """`galeratop events --json`, parsed, each with "at": its time as a Unix timestamp."""
        r = self.galeratop("events", "--json")
        if r.returncode != 0:
            raise AssertionError(f"galeratop events failed ({r.returncode}): {r.stderr}")
        out = [json.loads(line) for line in r.stdout.splitlines()]
        for e in out:
            e["at"] = datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        return out

    def wait_event(self, predicate, timeout, what):
        """The first event `predicate` accepts, once `galeratop events` has one."""
        found = []
        wait_for(lambda: found.extend(e for e in self.events() if predicate(e)) or found, timeout, what, interval=0.1)
        return found[0]

    def request(self, obj, timeout=10):
        """One raw protocol request on the unix socket; the parsed answer."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(str(self.control))
            s.sendall((json.dumps(obj) + "\n").encode())
            return json.loads(s.makefile().readline())

    # --- the log is how these tests see decisions ---
    def lines(self):
        out = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            m = LOG_LINE.match(raw)
            if m:
                at = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
                out.append((at.timestamp(), m.group(2), m.group(3)))
        return out

    def transitions(self, node_port, host="127.0.0.1"):
        """(time, to_state, eligibility, text) for every state-change line of a node."""
        pattern = re.compile(rf"^node \S+ \({re.escape(host)}:{node_port}\): (\S+ \S+) -> (\S+) (\S+): (.*)$")
        result = []
        for at, _, text in self.lines():
            m = pattern.match(text)
            if m:
                result.append((at, m.group(2), m.group(3), text))
        return result

    def eligible_now(self):
        """Ports of the configured nodes whose latest transition made them eligible."""
        ports = []
        for address in self.node_addresses():
            host, port = address.rsplit(":", 1)
            port = int(port)
            t = [x for x in self.transitions(port, host) if x[0] >= self.started_at - 0.001]
            if t and t[-1][2] == "eligible":
                ports.append(port)
        return ports

    # --- the metrics endpoint ---
    def _metrics_ready(self):
        try:
            return "galeratop_build_info" in self.scrape()
        except OSError:
            return False

    def scrape(self):
        with urllib.request.urlopen(f"http://{self.host}:{self.metrics_port}/metrics", timeout=5) as r:
            return r.read().decode()

    def samples(self, name, **labels):
        """Values of the series of family `name` whose labels include `labels`."""
        return [value for n, l, value in parse_exposition(self.scrape()) if n == name and labels.items() <= l.items()]

    def samples_labels(self, name):
        """Label sets of the series of family `name` whose value is 1."""
        return [l for n, l, value in parse_exposition(self.scrape()) if n == name and value == 1]

    def advisories(self):
        """{id: set of nodes} of the advisories in force."""
        out = {}
        for n, l, value in parse_exposition(self.scrape()):
            if n == "galeratop_advisory" and value == 1:
                out.setdefault(l["id"], set()).add(l["node"])
        return out

    def wait_transition(self, node_port, predicate, timeout, what, after=0.0):
        def find():
            for t in self.transitions(node_port):
                if t[0] >= after and predicate(t):
                    return t
            return None
        return wait_for(find, timeout, what)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """(name, labels, value) for every sample of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and not line.startswith("#"):
            out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


class Prometheus:
    """A real Prometheus server (Debian's) scraping one galeratopd every second,
    with its own port and data directory, stopped by its PID."""

    def __init__(self, directory, target_port, rule_files=(), job_config=""):
        """job_config: YAML lines added to the scrape job (scheme, tls_config, basic_auth), indented by 4."""
        self.dir = Path(directory) / "prometheus"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = self.dir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"rule_files: {json.dumps([str(r) for r in rule_files])}\n"
            "scrape_configs:\n  - job_name: galeratopd\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n{job_config}")
        self.log = open(self.dir / "prometheus.log", "ab")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)
        try:
            wait_for(self._ready, 60, "Prometheus to be ready", interval=0.2)
        except BaseException:
            self.stop()
            raise

    def _ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise AssertionError(f"Prometheus {path} {params}: {body}")
        return body["data"]

    def query(self, expr):
        """An instant query's vector as [(labels, value)]."""
        return [(r["metric"], float(r["value"][1])) for r in self.api("query", query=expr)["result"]]

    def stop(self):
        terminate(self.proc, 30)
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Tmux:
    """A real terminal: a private tmux server (its own socket name) running one command in a
    window of the given size; read with capture-pane, typed into with send-keys. Stopped with
    kill-server on its own socket and, should that fail, by the server's PID."""

    def __init__(self, command, width=120, height=35):
        self.name = f"galeratop-test-{os.getpid()}-{free_port()}"
        self._tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), command)
        self.pid = int(self._tmux("display-message", "-p", "#{pid}").strip())

    def _tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.name, "-f", "/dev/null", *args], check=True, capture_output=True,
                              text=True, timeout=10).stdout

    def send(self, *keys):
        self._tmux("send-keys", "-t", "t", *keys)

    def children(self):
        """PIDs of the processes the window's shell started."""
        shell = int(self._tmux("display-message", "-p", "-t", "t", "#{pane_pid}").strip())
        text = Path(f"/proc/{shell}/task/{shell}/children").read_text()
        return [int(p) for p in text.split()]

    def resize(self, width, height):
        self._tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def screen(self, escapes=False):
        """The visible screen as lines (with the SGR colour codes when `escapes`)."""
        out = self._tmux("capture-pane", "-p", "-t", "t", *(["-e"] if escapes else []))
        return out.removesuffix("\n").split("\n")

    def text(self):
        return "\n".join(self.screen())

    def wait_screen(self, predicate, timeout, what):
        return wait_for(lambda: predicate(self.text()), timeout, f"the screen to show {what}", interval=0.1)

    def stop(self):
        subprocess.run(["tmux", "-L", self.name, "kill-server"], capture_output=True, timeout=10)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def app_connect(port, timeout=5, **kw):
    the_lab = lab()
    return pymysql.connect(host="127.0.0.1", port=port, user=the_lab.app_user, password=the_lab.app_password,
                           database=the_lab.app_database, connect_timeout=timeout, read_timeout=30,
                           write_timeout=30, autocommit=True, **kw)


def node_of(conn):
    """The wsrep_node_name of the node an open session is on."""
    with conn.cursor() as cur:
        cur.execute("SELECT @@wsrep_node_name")
        return cur.fetchone()[0]


def node_name_via(port):
    with app_connect(port) as c, c.cursor() as cur:
        cur.execute("SELECT @@wsrep_node_name")
        return cur.fetchone()[0]


def mariadb_cli(port, query, timeout=30):
    """The real `mariadb` client, as a DBA runs it; returns the CompletedProcess."""
    the_lab = lab()
    return subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{port}", f"-u{the_lab.app_user}",
                           f"-p{the_lab.app_password}", "--batch", "--skip-column-names", the_lab.app_database,
                           "-e", query], capture_output=True, text=True, timeout=timeout)


class LoadThreads:
    """A load of `threads` threads, each running `_run` until the `with` block ends (or `_run`
    returns); `_lock` guards what they record. Subclasses prepare in `setup`, before any starts."""

    def __init__(self, threads):
        self.threads = threads
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = []

    def setup(self):
        pass

    def _run(self):
        raise NotImplementedError

    def __enter__(self):
        self.setup()
        for _ in range(self.threads):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._workers:
            t.join(30)


class ShortSessionLoad(LoadThreads):
    """Connect, write, read, close, in a loop on a few threads, bounded in time;
    records every failure with the time its request started."""

    def __init__(self, port, threads=4, duration=60):
        super().__init__(threads)
        self.port, self.duration = port, duration
        self.ok = 0
        self.failures = []
        self.by_node = {}

    def _one(self):
        with app_connect(self.port, timeout=5) as c, c.cursor() as cur:
            cur.execute("INSERT INTO load_probe (v) VALUES (1)")
            cur.execute("SELECT @@wsrep_node_name, COUNT(*) FROM load_probe WHERE id = LAST_INSERT_ID()")
            name, count = cur.fetchone()
            if count != 1:
                raise AssertionError("the row just written is not readable")
            return name

    def _run(self):
        deadline = time.monotonic() + self.duration
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.time()
            try:
                name = self._one()
                with self._lock:
                    self.ok += 1
                    self.by_node[name] = self.by_node.get(name, 0) + 1
            except Exception as e:  # every failure is the measurement
                with self._lock:
                    self.failures.append((started, repr(e)))

    def setup(self):
        lab().sql(1, "CREATE TABLE IF NOT EXISTS app.load_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")

    def failures_after(self, t):
        """Failed requests that started after `t` (one in flight on a node that dies may fail)."""
        with self._lock:
            return [f for f in self.failures if f[0] > t]


class LabTestCase(unittest.TestCase):
    """Leaves the shared lab as it found it: every node running and Synced."""

    def setUp(self):
        self.lab = lab()
        self.lab.wait_synced(timeout=120)

    def tearDown(self):
        if not any(self.lab.is_running(n["index"]) for n in self.lab.nodes):
            # A test that stopped the whole cluster: it comes back from the node Galera marks safe.
            safe = [n["index"] for n in self.lab.nodes if self.lab.safe_to_bootstrap(n["index"])]
            self.lab.bootstrap_node(safe[0] if safe else 1, force=not safe)
        for n in self.lab.nodes:
            i = n["index"]
            if not self.lab.is_running(i):
                self.lab.start_node(i)
            else:
                try:
                    self.lab.thaw(i)
                except Exception:
                    pass
        self.lab.wait_synced(timeout=180)
