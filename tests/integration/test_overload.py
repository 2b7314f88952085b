"""Overload: galeratopd keeps its word when there are more clients than it may or can hold.
At max_connections the extra clients get MySQL error 1040 'galeratop: too many connections'
(not a reset, not a hang); when descriptors run out, accepting pauses, the log says so once,
and it serves again as soon as descriptors are free; 20,000 clients at once are each
answered with a greeting or error 1040, and the agent goes on."""

import json
import os
import subprocess
import sys
import unittest
from pathlib import Path

import pymysql

from harness import Agent, LabTestCase, app_connect, mariadb_cli, wait_for

MASS_CLIENTS = Path(__file__).with_name("mass_clients.py")


def listen_overflows():
    """The kernel's count of handshakes this network namespace dropped at a full accept queue.

    Each client the kernel loses before galeratopd can accept it (a SYN dropped, or the ACK of a
    SYN-cookie handshake thrown away) adds at least one."""
    with open("/proc/net/netstat") as table:
        lines = table.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split()))["ListenOverflows"])
    raise RuntimeError("no TcpExt ListenOverflows in /proc/net/netstat")


class MassClients:
    """`count` client connections held open by helper processes until the end of the `with`."""

    def __init__(self, port, count, deadline=60, per_process=None):
        per = per_process or max(1000, min(10000, self._descriptors() - 200))
        self.sizes = [min(per, count - i) for i in range(0, count, per)]
        self.port, self.deadline = port, deadline
        self.procs = []
        self.counts, self.messages = {}, set()

    @staticmethod
    def _descriptors():
        import resource
        return resource.getrlimit(resource.RLIMIT_NOFILE)[1]

    def __enter__(self):
        for n in self.sizes:
            self.procs.append(subprocess.Popen(
                [sys.executable, str(MASS_CLIENTS), str(self.port), str(n), "--deadline", str(self.deadline)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for p in self.procs:
            report = json.loads(p.stdout.readline())
            for kind, n in report["counts"].items():
                self.counts[kind] = self.counts.get(kind, 0) + n
            self.messages.update(report["messages"])
        return self

    def __exit__(self, *exc):
        for p in self.procs:  # stopped by PID: closing stdin ends each one
            try:
                p.stdin.close()
                p.wait(60)
            except (OSError, subprocess.TimeoutExpired):
                p.kill()
                p.wait()


class Overload(LabTestCase):
    def frontend(self, agent):
        return agent.status()["frontend"]

    def test_beyond_max_connections_clients_get_error_1040(self):
        with Agent(self.lab, balancer_config="max_connections = 3") as agent:
            self.assertEqual(self.frontend(agent)["max_connections"], 3)
            held = [app_connect(agent.port) for _ in range(3)]
            try:
                with self.assertRaises(pymysql.err.OperationalError) as refused:
                    app_connect(agent.port)
                self.assertEqual(refused.exception.args[0], 1040)
                self.assertIn("galeratop: too many connections", refused.exception.args[1])
                # The real client, as a DBA sees it (it wraps a pre-TLS error as 2002 unless told not to try TLS).
                r = mariadb_cli(agent.port, "SELECT 1")
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("1040", r.stderr)
                self.assertIn("galeratop: too many connections", r.stderr)
                front = wait_for(lambda: (f := self.frontend(agent))["rejected_max_connections_total"] == 2 and f,
                                 5, "two rejections in the status")  # it is published every interval
                self.assertEqual(front["rejected_no_node_total"], 0)
                self.assertEqual(front["current"], 3)
                for c in held:  # the sessions held are untouched
                    with c.cursor() as cur:
                        cur.execute("SELECT 1")
                        self.assertEqual(cur.fetchone()[0], 1)
            finally:
                held.pop().close()
            # A place frees up (once galeratopd has seen that client go): the next client is served.
            wait_for(lambda: self.frontend(agent)["current"] == 2, 10, "the closed session to be released")
            with app_connect(agent.port) as c, c.cursor() as cur:
                cur.execute("SELECT 2")
                self.assertEqual(cur.fetchone()[0], 2)
            for c in held:
                c.close()

    def test_out_of_descriptors_accept_pauses_logs_once_and_recovers(self):
        # 160 descriptors, and a max_connections that would need far more: the limit that bites is the kernel's.
        with Agent(self.lab, balancer_config="max_connections = 1000", nofile=160) as agent:
            self.assertTrue(any("needs 2128 descriptors, the limit is 160" in t for _, _, t in agent.lines()))
            with MassClients(agent.port, 150, deadline=8) as clients:
                print(f"150 clients against 160 descriptors: {clients.counts} {clients.messages}")
                greetings = clients.counts.get("greeting", 0)
                self.assertGreater(greetings, 30)  # it kept serving up to what the descriptors allow
                self.assertEqual(greetings + clients.counts.get("err_1040", 0) + clients.counts.get("silent", 0), 150)
                self.assertEqual(clients.counts.get("closed", 0), 0)  # nobody reset
                for m in clients.messages:
                    self.assertEqual(m, "galeratop: too many connections (out of file descriptors)")
                self.assertIsNone(agent.proc.poll())
                status = agent.request({"cmd": "status"})  # the control socket was open before: it still answers
                self.assertTrue(status["ok"])
            shortage = [t for _, _, t in agent.lines() if "Too many open files" in t]
            self.assertEqual(len(shortage), 1, shortage)  # logged once, however many clients it hit
            # Descriptors are free again: new clients are served, and once a second has passed without
            # a failure the log says the shortage ended.
            def served_and_logged():
                with app_connect(agent.port) as c, c.cursor() as cur:
                    cur.execute("SELECT 1")
                    self.assertEqual(cur.fetchone()[0], 1)
                return any("descriptors available again" in t for _, _, t in agent.lines())
            wait_for(served_and_logged, 10, "a client served and the end of the shortage in the log", interval=0.5)
            wait_for(lambda: self.frontend(agent)["current"] == 0, 30, "every session to end")

    def test_20000_clients_at_once_each_get_a_greeting_or_error_1040(self):
        held = 2000
        # Each node must take its share of the sessions galeratopd holds (leastconn: a third each).
        before = {n["index"]: int(self.lab.sql(n["index"], "SELECT @@max_connections")[0][0]) for n in self.lab.nodes}
        for i in before:
            self.lab.sql(i, f"SET GLOBAL max_connections = {held}")
        try:
            # 2000 node connects at once overflow the nodes' own listen queues (back_log): the connect
            # timeout must outlast the kernel's SYN retries (after 1 s and 3 s), or some clients get
            # ERR 1047 for a node that is only slow to accept.
            # Descriptors for the held sessions and a little over (connection_limit.hpp): the clients
            # galeratopd has accepted and not yet refused must fit in that, however many crowd in,
            # or a held client's dial finds none (a CI run once gave 27 of them "out of file
            # descriptors").
            agent = Agent(self.lab, balancer_config=f"max_connections = {held}", nofile=128 + 2 * held + 256)
            agent.config_path.write_text(agent.config_path.read_text().replace('connect_timeout = "1s"',
                                                                               'connect_timeout = "10s"'))
            with agent:
                overflows_before = listen_overflows()
                with MassClients(agent.port, 20000, deadline=120) as clients:
                    overflows = listen_overflows() - overflows_before
                    print(f"20000 clients at once: {clients.counts} {clients.messages}, "
                          f"{overflows} listen-queue overflows in the kernel")
                    self.assertEqual(clients.counts.get("greeting", 0), held)
                    # Every client that reached galeratopd was answered: none is left silent on a
                    # connection the server's side holds. The kernel may have lost some before
                    # galeratopd could see them: SYNs it is still retrying, or SYN-cookie handshakes
                    # it forgot because the accept queue was full (half open). How many depends on
                    # the machine's speed and load (2551 of 20,000 on one CI run), so the test does
                    # not bound it; it checks that the kernel's own counter accounts for every one.
                    self.assertEqual(clients.counts.get("silent", 0), 0)
                    lost = clients.counts.get("unconnected", 0) + clients.counts.get("half_open", 0)
                    self.assertEqual(clients.counts.get("err_1040", 0) + lost, 20000 - held)
                    self.assertLessEqual(lost, overflows)
                    self.assertEqual(clients.messages, {"galeratop: too many connections"})
                    self.assertEqual([t for _, _, t in agent.lines() if "Too many open files" in t], [])
                    front = wait_for(lambda: (f := self.frontend(agent))["rejected_max_connections_total"]
                                     >= clients.counts.get("err_1040", 0) and f, 5, "every rejection in the status")
                    self.assertEqual(front["current"], held)
                    self.assertEqual(sum(n["connections"] for n in agent.status()["nodes"]), held)
                wait_for(lambda: self.frontend(agent)["current"] == 0, 60, "every session to end")
                with app_connect(agent.port) as c, c.cursor() as cur:
                    cur.execute("SELECT 1")
                    self.assertEqual(cur.fetchone()[0], 1)
                self.assertIsNone(agent.proc.poll())
        finally:
            for i, value in before.items():
                self.lab.sql(i, f"SET GLOBAL max_connections = {value}")


if __name__ == "__main__":
    unittest.main()
