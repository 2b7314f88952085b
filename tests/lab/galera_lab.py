"""A real MariaDB 10.11 + Galera 4 cluster on 127.0.0.1 for tests and demos.

Each lab has its own root directory and its own block of free ports, so two
labs run side by side without colliding. Its state (ports, PIDs, passwords)
lives in ROOT/lab.json, so separate processes can share one running lab.
Processes are only ever stopped by the PIDs recorded here, never by name.
Facts behind the choices below: DESIGN.md section 5.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

PROVIDER = "/usr/lib/galera/libgalera_smm.so"
# SHOW GLOBAL STATUS and SELECT @@wsrep_node_name need no privilege in
# MariaDB: USAGE (the right to connect) is all the monitor gets.
# Shared operator intents (galeratopd.toml(5), [intents]): the monitor creates the galeratop
# schema on first use and reads and writes its one table.
MONITOR_GRANTS = ["GRANT USAGE ON *.* TO '{user}'@'{host}'",
                  "GRANT SELECT, INSERT, UPDATE, CREATE ON `galeratop`.* TO '{user}'@'{host}'"]
APP_GRANTS = ["GRANT ALL ON `{db}`.* TO '{user}'@'{host}'"]
# ::1: every node of a loopback lab also listens there (`_args`), for the IPv6 tests.
USER_HOSTS = ("127.0.0.1", "localhost", "::1")
PORTS_PER_NODE = 4  # mysql, gcomm, ist, sst


def _port_block_free(base, count):
    for port in range(base, base + count):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _below_ephemeral_ports(count):
    """Where a block may start: below the kernel's ephemeral range. Under a short-session load
    thousands of outgoing connections (and their TIME_WAIT) hold ports inside that range, and a
    joiner's rsync daemon that cannot bind its SST port fails the rejoin ("rsync daemon terminated
    unexpectedly"), which we saw in CI."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return (10000, low - count) if low - count > 12000 else (20000, 60000 - count)


def _free_port_block(count):
    rng = secrets.SystemRandom()
    lowest, highest = _below_ephemeral_ports(count)
    for _ in range(200):
        base = rng.randrange(lowest, highest)
        if _port_block_free(base, count):
            return base
    raise RuntimeError("no free block of ports on 127.0.0.1")


def _pid_alive(pid):
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


class Lab:
    def __init__(self, state):
        self.state = state
        self.root = Path(state["root"])
        self._children = {}  # index -> Popen, for reaping our own children

    # ---- creation and persistence -------------------------------------------------
    @classmethod
    def create(cls, root, nodes=3, cluster_name="galeratop-lab", node_names=None, server_options=(), host="127.0.0.1",
               netns=None, client_hosts=USER_HOSTS):
        """server_options: extra mariadbd options for every node (the benchmark raises connection limits).
        host, netns: every node binds `host` inside network namespace `netns` (None: this one), for
        tests that build a virtual network; client_hosts: where the monitor and app users may log in from."""
        root = Path(root).resolve()
        if (root / "lab.json").exists():
            cls.load(root).stop()  # a lab an interrupted run left here: stopped by its recorded PIDs
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)  # mysqld runs as user mysql and must reach its datadir
        for parent in root.parents:
            if not os.stat(parent).st_mode & 0o001:
                raise RuntimeError(f"{root}: user mysql cannot reach it, {parent} is not searchable by others "
                                   "(choose a root under /tmp)")
        base = _free_port_block(nodes * PORTS_PER_NODE)
        names = node_names or [f"node{i}" for i in range(1, nodes + 1)]
        state = {"root": str(root), "cluster_name": cluster_name, "nodes": [],
                 "monitor_user": "monitor", "monitor_password_file": str(root / "monitor.pass"),
                 "app_user": "app", "app_password": secrets.token_hex(8), "app_database": "app",
                 "server_options": list(server_options), "netns": netns, "client_hosts": list(client_hosts)}
        for i in range(1, nodes + 1):
            p = base + (i - 1) * PORTS_PER_NODE
            d = root / f"node{i}"
            state["nodes"].append({"index": i, "name": names[i - 1], "host": host, "port": p,
                                   "gcomm_port": p + 1, "ist_port": p + 2, "sst_port": p + 3,
                                   "socket": str(d / "mysqld.sock"), "datadir": str(d / "data"),
                                   "log": str(d / "error.log"), "pid": None, "crashed": False})
        lab = cls(state)
        lab.save()
        return lab

    @classmethod
    def load(cls, root):
        with open(Path(root) / "lab.json") as f:
            return cls(json.load(f))

    def save(self):
        tmp = self.root / "lab.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=2))
        os.replace(tmp, self.root / "lab.json")

    def _reload(self):
        """Another process may have restarted a node: PIDs come from the file."""
        with open(self.root / "lab.json") as f:
            self.state = json.load(f)

    @property
    def nodes(self):
        return self.state["nodes"]

    def node(self, i):
        return self.nodes[i - 1]

    def __getattr__(self, name):
        if name in ("monitor_user", "monitor_password_file", "app_user", "app_password", "app_database",
                    "cluster_name"):
            return self.state[name]
        raise AttributeError(name)

    # ---- processes --------------------------------------------------------------------
    @staticmethod
    def _bind_addresses(host):
        """A loopback lab's node also listens on ::1 (MariaDB 10.11 takes a list): a client or an
        agent may reach it over IPv6; gcomm, IST and SST stay on IPv4."""
        return f"{host},::1" if host == "127.0.0.1" else host

    def _args(self, n, extra=()):
        h = n["host"]
        others = ",".join(f"{m['host']}:{m['gcomm_port']}" for m in self.nodes)
        return ["mariadbd", "--no-defaults",  # never read /etc/mysql: stray option files change results
                "--user=mysql", f"--datadir={n['datadir']}", f"--socket={n['socket']}", f"--port={n['port']}",
                f"--bind-address={self._bind_addresses(h)}", f"--pid-file={Path(n['datadir']).parent / 'mysqld.pid'}",
                f"--log-error={n['log']}", "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=32M",
                "--innodb-flush-log-at-trx-commit=2", "--binlog-format=ROW", "--default-storage-engine=InnoDB",
                "--innodb-autoinc-lock-mode=2", "--max-connections=1000", "--skip-name-resolve",
                "--performance-schema=OFF", "--wsrep-on=ON", f"--wsrep-provider={PROVIDER}",
                f"--wsrep-cluster-name={self.cluster_name}", f"--wsrep-cluster-address=gcomm://{others}",
                f"--wsrep-node-name={n['name']}", f"--wsrep-node-address={h}:{n['gcomm_port']}",
                f"--wsrep-node-incoming-address={h}:{n['port']}",
                "--wsrep-provider-options=" + ";".join([f"gmcast.listen_addr=tcp://{h}:{n['gcomm_port']}",
                                                        f"ist.recv_addr={h}:{n['ist_port']}",
                                                        "gcache.size=32M"]),
                "--wsrep-sst-method=rsync", f"--wsrep-sst-receive-address={h}:{n['sst_port']}",
                *self.state.get("server_options", []), *extra]

    def _spawn(self, i, extra=()):
        n = self.node(i)
        log = open(n["log"], "ab")
        # `ip netns exec` execs mariadbd in place: the PID recorded is the server's own.
        netns = ["ip", "netns", "exec", self.state["netns"]] if self.state.get("netns") else []
        proc = subprocess.Popen(netns + self._args(n, extra), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._children[i] = proc
        self._reload()
        self.node(i)["pid"] = proc.pid
        self.node(i)["crashed"] = False
        self.save()  # at once, so that `lab stop` can clean up after a crashed test

    def _init_datadir(self, n):
        d = Path(n["datadir"])
        if d.parent.exists():
            shutil.rmtree(d.parent)
        d.parent.mkdir(parents=True)
        r = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={d}", "--user=mysql",
                            "--auth-root-authentication-method=socket", "--skip-test-db"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb-install-db {d} failed: {(r.stderr or r.stdout).strip()[-500:]}")
        # rsync SST runs as mysql: everything it writes to must be mysql's.
        subprocess.run(["chown", "-R", "mysql:mysql", str(d.parent)], check=True)

    def start(self, timeout=180):
        for n in self.nodes:
            self._init_datadir(n)
        self._spawn(1, ["--wsrep-new-cluster"])
        self.wait(lambda: self._local_state(1) == "4", timeout, "node 1 to bootstrap")
        for n in self.nodes[1:]:
            self._spawn(n["index"])  # joiners in parallel: the cluster forms in ~15-20 s
        self.wait_synced(timeout=timeout)
        self._create_users()
        return self

    def _create_users(self):
        password = secrets.token_hex(12)
        pw_file = Path(self.monitor_password_file)
        pw_file.write_text(password)
        os.chmod(pw_file, 0o600)
        statements = [f"CREATE DATABASE IF NOT EXISTS `{self.app_database}`"]
        for host in self.state.get("client_hosts", USER_HOSTS):
            statements.append(f"CREATE USER '{self.monitor_user}'@'{host}' IDENTIFIED BY '{password}'")
            statements += [g.format(user=self.monitor_user, host=host) for g in MONITOR_GRANTS]
            statements.append(f"CREATE USER '{self.app_user}'@'{host}' IDENTIFIED BY '{self.app_password}'")
            statements += [g.format(user=self.app_user, host=host, db=self.app_database) for g in APP_GRANTS]
        self.sql(1, "; ".join(statements))
        self.wait(lambda: all(self.sql(n["index"], f"SELECT COUNT(*) FROM mysql.user WHERE user='{self.app_user}'")
                              == [(str(len(self.state.get("client_hosts", USER_HOSTS))),)] for n in self.nodes),
                  30, "the users to replicate")

    def is_running(self, i):
        self._reload()
        return _pid_alive(self.node(i)["pid"])

    def pid(self, i):
        self._reload()
        return self.node(i)["pid"]

    def _wait_gone(self, i, timeout):
        pid = self.node(i)["pid"]
        child = self._children.get(i)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child is not None and child.poll() is not None:
                return True
            if not _pid_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def _signal(self, i, signo):
        pid = self.pid(i)
        if _pid_alive(pid):
            os.kill(pid, signo)

    def kill(self, i):
        """kill -9: the cluster notices in ~6 s; the node needs --wsrep-recover to rejoin by IST."""
        self._signal(i, signal.SIGKILL)
        self._wait_gone(i, 10)
        self._reload()
        self.node(i)["crashed"] = True
        self.save()

    def stop_node(self, i, timeout=60):
        self._signal(i, signal.SIGCONT)  # a frozen node cannot handle SIGTERM
        self._signal(i, signal.SIGTERM)
        if not self._wait_gone(i, timeout):
            self._signal(i, signal.SIGKILL)
            self._wait_gone(i, 10)
            self._reload()
            self.node(i)["crashed"] = True
            self.save()

    def _recovered_position(self, i):
        """After a crash the datadir does not say where it stopped: ask InnoDB."""
        n = self.node(i)
        log = Path(n["datadir"]).parent / "recover.log"
        subprocess.run(self._args(n, [f"--log-error={log}", "--wsrep-recover"]), capture_output=True, timeout=120)
        m = re.search(r"Recovered position:\s*(\S+:-?\d+)", log.read_text(errors="replace"))
        return m.group(1) if m else None

    def start_node(self, i, wait=True, timeout=120, options=()):
        """Starts a stopped node as a joiner of the others; after a crash, from its recovered position.
        options: extra mariadbd options for this start only (a test's TLS certificates); the node's
        next start goes without them."""
        self._reload()
        extra = list(options)
        if self.node(i).get("crashed"):
            position = self._recovered_position(i)
            if position:
                extra.append(f"--wsrep-start-position={position}")
        self._spawn(i, extra)
        if wait:
            self.wait_synced([i], timeout=timeout)

    def safe_to_bootstrap(self, i):
        """What the node's grastate.dat says: was it the last to leave the Primary component?"""
        grastate = Path(self.node(i)["datadir"]) / "grastate.dat"
        return grastate.exists() and re.search(r"safe_to_bootstrap:\s*1", grastate.read_text()) is not None

    def bootstrap_node(self, i, force=False, wait=True, timeout=120):
        """Starts node i as a new Primary component (after every node is down)."""
        grastate = Path(self.node(i)["datadir"]) / "grastate.dat"
        if force and grastate.exists():
            grastate.write_text(re.sub(r"safe_to_bootstrap:\s*0", "safe_to_bootstrap: 1", grastate.read_text()))
        self._spawn(i, ["--wsrep-new-cluster"])
        if wait:
            self.wait(lambda: self._local_state(i) == "4", timeout, f"node {i} to bootstrap")

    def freeze(self, i):
        self._signal(i, signal.SIGSTOP)

    def thaw(self, i):
        self._signal(i, signal.SIGCONT)

    def desync(self, i, on=True):
        self.sql(i, f"SET GLOBAL wsrep_desync={'ON' if on else 'OFF'}")

    def isolate(self, i, on=True):
        self.sql(i, f"SET GLOBAL wsrep_provider_options='gmcast.isolate={1 if on else 0}'")

    def start_garbd(self, timeout=60):
        """Adds a Galera arbitrator (garbd): a member that votes in quorum but stores no data."""
        self._reload()
        running = [n["index"] for n in self.nodes if _pid_alive(n["pid"])]
        port = _free_port_block(1)
        peers = ",".join(f"127.0.0.1:{n['gcomm_port']}" for n in self.nodes)
        log = self.root / "garbd.log"
        proc = subprocess.Popen(["garbd", "--address", f"gcomm://{peers}", "--group", self.cluster_name,
                                 "--name", "garbd", "--options", f"gmcast.listen_addr=tcp://127.0.0.1:{port}",
                                 "--log", str(log)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self._garbd = proc
        self.state["garbd"] = {"pid": proc.pid, "port": port, "log": str(log)}
        self.save()
        expected = str(len(running) + 1)
        self.wait(lambda: (self.status(running[0]) or {}).get("wsrep_cluster_size") == expected, timeout,
                  f"garbd to join ({expected} members)")

    def stop_garbd(self, timeout=30):
        self._reload()
        g = self.state.get("garbd")
        if not g or not _pid_alive(g["pid"]):
            return
        os.kill(g["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(g["pid"]) and time.monotonic() < deadline:
            if getattr(self, "_garbd", None) is not None:
                self._garbd.poll()
            time.sleep(0.05)
        if _pid_alive(g["pid"]):
            os.kill(g["pid"], signal.SIGKILL)

    def stop(self):
        self.stop_garbd()
        self._reload()
        for n in self.nodes:
            self._signal(n["index"], signal.SIGCONT)
            self._signal(n["index"], signal.SIGTERM)
        for n in self.nodes:
            if not self._wait_gone(n["index"], 30):
                self._signal(n["index"], signal.SIGKILL)
                self._wait_gone(n["index"], 10)

    def destroy(self):
        """Ends every process of the lab, by PID, and removes it. Its data goes with it, so the
        nodes are killed, not stopped: a clean stop of every node at once waits about 5 s on
        Galera's leave protocol, at every test run's end."""
        self.stop_garbd()
        self._reload()
        for n in self.nodes:
            self._signal(n["index"], signal.SIGKILL)
        for n in self.nodes:
            self._wait_gone(n["index"], 10)
        shutil.rmtree(self.root, ignore_errors=True)

    # ---- queries ----------------------------------------------------------------------
    def sql(self, i, query, timeout=10):
        n = self.node(i)
        r = subprocess.run(["mariadb", "--no-defaults", "-S", n["socket"], "-u", "root", "--batch",
                            "--skip-column-names", "-e", query], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"node {i}: {query[:80]}: {r.stderr.strip()}")
        return [tuple(line.split("\t")) for line in r.stdout.splitlines()]

    def status(self, i):
        """SHOW GLOBAL STATUS LIKE 'wsrep%' as a dict, or None when the node does not answer."""
        try:
            return dict(self.sql(i, "SHOW GLOBAL STATUS LIKE 'wsrep%'", timeout=3))
        except (RuntimeError, subprocess.TimeoutExpired, ValueError):
            return None

    def _local_state(self, i):
        st = self.status(i)
        return st.get("wsrep_local_state") if st else None

    def wait(self, predicate, timeout, what, interval=0.1):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"lab {self.root}: timed out after {timeout} s waiting for {what}")
            time.sleep(interval)

    def wait_synced(self, indexes=None, timeout=120):
        indexes = indexes or [n["index"] for n in self.nodes]

        def synced():
            running = [n["index"] for n in self.nodes if self.is_running(n["index"])]
            for i in indexes:
                st = self.status(i)
                if not st or st.get("wsrep_local_state") != "4" or st.get("wsrep_cluster_status") != "Primary" \
                        or st.get("wsrep_ready") != "ON" or st.get("wsrep_cluster_size") != str(len(running)):
                    return False
            return True
        self.wait(synced, timeout, f"nodes {indexes} to be Synced")

    def env(self):
        return {"LAB_ROOT": str(self.root),
                "LAB_NODES": ",".join(f"{n['host']}:{n['port']}" for n in self.nodes),
                "LAB_MONITOR_USER": self.monitor_user, "LAB_MONITOR_PASSWORD_FILE": self.monitor_password_file,
                "LAB_APP_USER": self.app_user, "LAB_APP_PASSWORD": self.app_password,
                "LAB_APP_DATABASE": self.app_database}
