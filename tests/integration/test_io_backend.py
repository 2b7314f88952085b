"""Which backend relays the sessions: io_uring where the kernel allows it, epoll where io_uring
is refused (here by a seccomp filter, as container runtimes install one), and the one
[balancer] io_backend forces. The log, status and /metrics say which runs and why, sessions are
relayed either way, and a reload does not change it."""

import os
import re
import signal
import subprocess
import sys
import unittest
from pathlib import Path

import pymysql.cursors

from harness import Agent, LabTestCase, app_connect, node_of, wait_for

WITHOUT_IO_URING = [sys.executable, str(Path(__file__).with_name("without_io_uring.py"))]
REFUSED = "io_uring_setup: Operation not permitted"
ROWS, WIDTH = 2000, 1000  # 2 MB: more than the io_uring relay's buffers, so they are reused under way


class IoBackend(LabTestCase):
    def assert_relays(self, agent):
        """A whole result larger than every buffer the relay has, in order, and the query counted."""
        conn = app_connect(agent.port, cursorclass=pymysql.cursors.SSCursor)
        node = node_of(conn)
        queries = lambda: next(n for n in agent.status()["nodes"] if n["name"] == node)["queries_total"]
        before = queries()
        with conn.cursor() as cur:
            cur.execute(f"SELECT seq, REPEAT(CHAR(65 + seq % 26), {WIDTH}) FROM seq_1_to_{ROWS}")
            rows = list(cur)
        self.assertEqual([seq for seq, _ in rows], list(range(1, ROWS + 1)))
        self.assertTrue(all(text == chr(65 + seq % 26).encode() * WIDTH for seq, text in rows))
        conn.close()
        wait_for(lambda: queries() > before, 5, "the query to be counted")

    def front_door_syscalls(self, agent, sessions=20):
        """The accept, connect and socket calls galeratopd makes (all its threads, strace -f) while
        `sessions` clients each connect, run a query and quit."""
        trace = agent.dir / "front-door.strace"
        tracer = subprocess.Popen(["strace", "-f", "-e", "trace=accept,accept4,connect,socket", "-o", str(trace),
                                   "-p", str(agent.proc.pid)], stderr=subprocess.PIPE, text=True)
        try:
            self.assertIn("attached", tracer.stderr.readline())  # every thread is traced from here on
            for _ in range(sessions):
                conn = app_connect(agent.port)
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                conn.close()
        finally:
            tracer.send_signal(signal.SIGINT)  # detaches and leaves galeratopd running
            tracer.communicate(timeout=20)
        calls = {}
        for line in trace.read_text().splitlines():
            if m := re.match(r"\d+\s+(\w+)\(", line):
                calls[m.group(1)] = calls.get(m.group(1), 0) + 1
        return calls

    def backend(self, agent):
        front = agent.status()["frontend"]
        return front["io_backend"], front["io_backend_why"]

    def test_io_uring_relays_where_the_kernel_allows_it(self):
        with Agent(self.lab, metrics=True, balancer_config='io_backend = "auto"') as agent:
            self.assertEqual(self.backend(agent), ("io_uring", ""))
            self.assertIn("info: sessions are relayed with io_uring", agent.log_path.read_text())
            self.assertEqual(agent.samples("galeratop_relay_backend_info", backend="io_uring"), [1])
            self.assert_relays(agent)
            # The front door is on the ring too: no thread calls accept or connect; the one call
            # of its own a session costs is the node socket's socket().
            calls = self.front_door_syscalls(agent)
            print(f"\nio_uring, 20 sessions: {calls}")
            self.assertEqual(calls.get("accept4", 0) + calls.get("accept", 0) + calls.get("connect", 0), 0, calls)
            self.assertGreaterEqual(calls.get("socket", 0), 20, calls)

    def test_io_uring_refused_by_a_seccomp_filter_falls_back_to_epoll_and_says_why(self):
        with Agent(self.lab, metrics=True, balancer_config='io_backend = "auto"',
                   command_prefix=WITHOUT_IO_URING) as agent:
            running, why = self.backend(agent)
            print(f"\nunder the seccomp filter: {running}: {why}")
            self.assertEqual(running, "epoll")
            self.assertIn(REFUSED, why)
            self.assertIn(f"warning: sessions are relayed with epoll, the fallback: io_uring refused: {REFUSED}",
                          agent.log_path.read_text())
            self.assertEqual(agent.samples("galeratop_relay_backend_info", backend="epoll"), [1])
            self.assert_relays(agent)

    def test_a_forced_io_uring_that_is_refused_stops_the_start_with_the_reason(self):
        agent = Agent(self.lab, balancer_config='io_backend = "io_uring"')  # only its configuration
        run = subprocess.run([*WITHOUT_IO_URING, os.environ["GALERATOPD"], "--config", str(agent.config_path)],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertIn(f'[balancer] io_backend = "io_uring", but {REFUSED}', run.stderr)

    def test_a_forced_epoll_relays_with_epoll_and_a_reload_keeps_it(self):
        with Agent(self.lab, balancer_config='io_backend = "epoll"') as agent:
            self.assertEqual(self.backend(agent), ("epoll", '[balancer] io_backend = "epoll"'))
            self.assertIn('info: sessions are relayed with epoll ([balancer] io_backend = "epoll")',
                          agent.log_path.read_text())
            agent.write_config(balancer='io_backend = "io_uring"')
            agent.signal(signal.SIGHUP)
            wait_for(lambda: "balancer.io_backend changed to \"io_uring\": it takes effect at restart; still \"epoll\""
                     in agent.log_path.read_text(), 10, "the reload's warning")
            self.assertEqual(self.backend(agent)[0], "epoll")
            self.assert_relays(agent)
            calls = self.front_door_syscalls(agent)  # on epoll the io thread accepts and connects (Asio)
            print(f"\nepoll, 20 sessions: {calls}")
            self.assertGreaterEqual(calls.get("accept4", 0) + calls.get("accept", 0), 20, calls)
            self.assertGreaterEqual(calls.get("connect", 0), 20, calls)


if __name__ == "__main__":
    unittest.main()
