"""examples/rolling-restart drains, stops, starts and readies every node in turn while pooled
applications (SQLAlchemy's QueuePool without and with pre-ping, Node's mysqljs pool) and a
short-session load (connect, write, read, close) run through galeratopd: every node gets a new
process, and not one short-session request fails. Their sessions never end by themselves, so every `drain --wait`
returns only if galeratopd ends pooled sessions itself, and it must do so only at safe points:
no request may fail with its statement in flight (mid_query), the pre-ping pool must not see
one failure, and every acknowledged write must be stored. The load generators and the failure
classification: pooled_app.py."""

import os
import signal
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

import pymysql

from harness import Agent, LabTestCase, ShortSessionLoad
from pooled_app import CREATE_TABLE, PooledApp, missing_acknowledged

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("sqlalchemy", "sqlalchemy-pre-ping", "node-mysql")
WORKERS = 4
# galeratop drain --wait exits 1 after it; POOLED_DRAIN_TIMEOUT=10s makes a red run quicker.
DRAIN_TIMEOUT = os.environ.get("POOLED_DRAIN_TIMEOUT", "2m")
SYNCED_TIMEOUT = 180
ROLLING_RESTART_BOUND = 420  # s; the whole script, then its process group is killed
SETTLE = 2.0                 # s of load before the restart and after it


class RollingRestartRun:
    """examples/rolling-restart as a process group of its own, its output stamped line by line
    (the script prints whole seconds; a drain is timed from its "draining" to its "stopping")."""

    def __init__(self, agent, names, lab_root):
        lab_cli = f"{sys.executable} {ROOT / 'tests' / 'lab' / 'lab'}"
        env = dict(os.environ, PATH=f"{Path(os.environ['GALERATOP']).parent}:{os.environ['PATH']}")
        self.names = names
        self.lines = []  # (monotonic time, text)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(ROOT / "examples" / "rolling-restart"), "--control", str(agent.control),
             "--drain-timeout", DRAIN_TIMEOUT, "--synced-timeout", str(SYNCED_TIMEOUT),
             "--stop", f'{lab_cli} stop-node --root {lab_root} "${{NODE#node}}"',
             "--start", f'{lab_cli} start-node --root {lab_root} "${{NODE#node}}"', *names],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
            env=env, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait(self, bound):
        """The exit code; None when it ran past `bound` s (then its whole group is killed)."""
        try:
            code = self.proc.wait(bound)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the script, galeratop, lab
            self.proc.wait()
            code = None
        self.reader.join(10)
        self.took = time.monotonic() - self.started
        return code

    def output(self):
        return "\n".join(text for _, text in self.lines)

    def _stamp(self, name, what):
        return next((at for at, text in self.lines if text.endswith(f"rolling-restart: {name}: {what}")), None)

    def drains(self):
        """{node: seconds its `drain --wait` took, or None when it never returned OK}."""
        out = {}
        for name in self.names:
            began, ended = self._stamp(name, "draining"), self._stamp(name, "stopping")
            if began is not None:
                out[name] = round(ended - began, 2) if ended is not None else None
        return out

    def drain_gave_up_after(self, name):
        """Seconds from a node's "draining" to the end of the script, when its drain never returned OK."""
        began = self._stamp(name, "draining")
        return round(self.started + self.took - began, 1) if began is not None else None


class PooledRollingRestart(LabTestCase):
    def test_pooled_apps_survive_a_rolling_restart(self):
        the_lab = self.lab
        the_lab.sql(1, f"CREATE DATABASE IF NOT EXISTS `{the_lab.app_database}`; "
                       f"USE `{the_lab.app_database}`; {CREATE_TABLE}")  # once, before any load: DDL is TOI
        pids_before = {n["name"]: n["pid"] for n in the_lab.nodes}
        # A busy pool's connections are seldom idle for close_idle, so a drain ends on close_patience
        # (5 s by default, three times per run): 1 s keeps the same safe points and the suite shorter.
        with Agent(the_lab, balancer_config='close_patience = "1s"') as agent:
            names = [agent.node_status(i)["name"] for i in (1, 2, 3)]
            password_file = agent.dir / "app.pass"
            password_file.write_text(the_lab.app_password)
            password_file.chmod(0o600)
            apps = [PooledApp(stack, agent.port, the_lab.app_user, password_file, the_lab.app_database, agent.dir,
                              workers=WORKERS, python=sys.executable) for stack in STACKS]
            run = None
            try:
                for app in apps:
                    app.start()
                time.sleep(SETTLE)
                spread = {n["name"]: n["connections"] for n in agent.status()["nodes"]}
                with ShortSessionLoad(agent.port, threads=2, duration=ROLLING_RESTART_BOUND) as short:
                    run = RollingRestartRun(agent, names, the_lab.root)
                    code = run.wait(ROLLING_RESTART_BOUND)
                    time.sleep(SETTLE)  # the pools keep working on the restarted nodes
                    short_ok = short.ok
                alive = {app.stack: app.running() for app in apps}
                admins = [agent.node_status(i)["admin"] for i in (1, 2, 3)]
            finally:
                for app in apps:
                    app.terminate()
                results = {app.stack: app.stop(grace=60) for app in apps}

            missing, in_doubt_stored = self.check_ids(apps, results)

        print(run.output())
        print(f"\nsessions per node before the restart: {spread}")
        state = "exit 0" if code == 0 else ("killed after %d s" % ROLLING_RESTART_BOUND if code is None
                                             else f"exit {code}")
        print(f"rolling restart of {len(names)} nodes: {state}, {run.took:.1f} s")
        drains = run.drains()
        for name in names:
            if name not in drains:
                print(f"  drain {name}: not reached")
            elif drains[name] is None:
                print(f"  drain {name}: never returned OK (gave up after {run.drain_gave_up_after(name)} s)")
            else:
                print(f"  drain {name}: {drains[name]:.2f} s")
        print(f"{'stack':20} {'requests':>8} {'failed':>6} {'mid-query':>9} {'not-exec':>8} {'other':>5} "
              f"{'conns':>5} {'acked':>6} {'missing':>7} {'in-doubt':>8} {'close-err':>9}")
        for stack in STACKS:
            r = results[stack]
            if r is None:
                print(f"{stack:20} wrote no result")
                continue
            doubt = f"{len(r['in_doubt_ids'])}/{in_doubt_stored[stack]}"  # lost at COMMIT / of those, stored
            print(f"{stack:20} {r['requests']:8} {r['failed']:6} {r['failed_mid_query']:9} "
                  f"{r['failed_not_executed']:8} {r['failed_other']:5} {r['connections_opened']:5} "
                  f"{r['acknowledged']:6} {len(missing[stack]):7} "
                  f"{doubt:>8} {r.get('close_errors', 0):9}")
            for sample in r["error_samples"]:
                print(f"    {sample}")

        print(f"short sessions: {short_ok} requests, {len(short.failures)} failed; per node {short.by_node}")
        problems = []
        if code != 0:
            problems.append(f"rolling-restart did not finish: {state}")
        if short.failures or short_ok < 100:
            problems.append(f"short sessions: {len(short.failures)} failed, {short_ok} ok: {short.failures[:3]}")
        the_lab._reload()
        for name, pid in pids_before.items():
            if the_lab.node(int(name.removeprefix("node")))["pid"] == pid:
                problems.append(f"{name} was not restarted")
        if admins != ["ready"] * 3:
            problems.append(f"admin states after the restart: {admins}")
        for stack in STACKS:
            r = results[stack]
            if r is None:
                problems.append(f"{stack}: no result (log: {next(a for a in apps if a.stack == stack).log_path})")
                continue
            if not alive[stack]:
                problems.append(f"{stack}: the app had exited before it was stopped")
            if r.get("workers_hung"):
                problems.append(f"{stack}: {r['workers_hung']} worker(s) hung")
            if r["failed_mid_query"]:
                problems.append(f"{stack}: {r['failed_mid_query']} request(s) failed mid-query")
            if stack == "sqlalchemy-pre-ping" and r["failed"]:
                problems.append(f"{stack}: {r['failed']} request(s) failed")
            elif r["failed_other"]:  # a server ERR (1047 from a node stopped under live sessions, ...)
                problems.append(f"{stack}: {r['failed_other']} request(s) failed with a server error")
            if missing[stack]:
                problems.append(f"{stack}: {len(missing[stack])} acknowledged write(s) not stored, "
                                f"e.g. {missing[stack][:3]}")
            if r["ok"] < 100:
                problems.append(f"{stack}: only {r['ok']} request(s) succeeded")
        self.assertEqual(problems, [])

    def check_ids(self, apps, results):
        """({stack: acknowledged ids not stored}, {stack: in-doubt ids stored}), read on a node that
        is up with wsrep_sync_wait, so that a write set not yet applied there is waited for."""
        port = next(n["port"] for n in self.lab.nodes if self.lab.is_running(n["index"]))
        conn = pymysql.connect(host="127.0.0.1", port=port, user=self.lab.app_user, password=self.lab.app_password,
                               database=self.lab.app_database, connect_timeout=5, read_timeout=60, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION wsrep_sync_wait = 1")
            missing, in_doubt_stored = {}, {}
            for app in apps:
                r = results[app.stack]
                if r is None:
                    missing[app.stack], in_doubt_stored[app.stack] = [], 0
                    continue
                missing[app.stack] = missing_acknowledged(conn, app.acknowledged_ids())
                doubt = r["in_doubt_ids"]
                in_doubt_stored[app.stack] = len(doubt) - len(missing_acknowledged(conn, doubt))
            return missing, in_doubt_stored
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
