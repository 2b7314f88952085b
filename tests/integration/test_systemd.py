"""galeratopd as a systemd Type=notify service, seen from systemd's side of the notify socket
(sd_notify(3)): READY=1 once it serves, RELOADING=1 then READY=1 around a SIGHUP reload (also
a refused one), WATCHDOG=1 at half of WatchdogSec= from the io thread, STOPPING=1 at SIGTERM;
and socket activation, seen from systemd's side of a galeratopd.socket unit: the listening socket
outlives galeratopd, so a restart under load loses no client. The unit files themselves are
checked by `systemd-analyze verify` (tests/docs)."""

import signal
import socket
import tempfile
import threading
import time
import unittest
from pathlib import Path

from harness import Agent, LabTestCase, ShortSessionLoad, app_connect, wait_for


class NotifySocket:
    """The datagram socket systemd would listen on; keeps every message galeratopd sends."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="notify-")
        self.path = str(Path(self.dir.name) / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.messages = []  # (time, {key: value})

    def drain(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return self.messages
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append((time.monotonic(), fields))

    def with_key(self, key, after=0.0):
        return [m for t, m in self.drain() if key in m and t >= after]

    def close(self):
        self.sock.close()
        self.dir.cleanup()


class Systemd(LabTestCase):
    def test_type_notify_ready_reloading_watchdog_and_stopping(self):
        notify = NotifySocket()
        self.addCleanup(notify.close)
        agent = Agent(self.lab, env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"})
        with agent:
            ready = wait_for(lambda: notify.with_key("READY"), 10, "READY=1")
            self.assertEqual(ready[0]["READY"], "1")
            self.assertIn(f"serving 127.0.0.1:{agent.port} for 3 node(s)", ready[0]["STATUS"])
            # Watchdog pings every 200 ms (half of 400 ms): several within a second.
            since = time.monotonic()
            wait_for(lambda: len(notify.with_key("WATCHDOG", after=since)) >= 4, 5, "four watchdog pings")

            since = time.monotonic()
            agent.signal(signal.SIGHUP)
            wait_for(lambda: notify.with_key("READY", after=since), 10, "READY=1 after the reload")
            keys = [k for t, m in notify.drain() if t >= since for k in m if k in ("RELOADING", "READY")]
            self.assertEqual(keys[:2], ["RELOADING", "READY"])  # in that order
            self.assertTrue(any("MONOTONIC_USEC" in m for m in notify.with_key("RELOADING")))

            # A refused reload still ends with READY=1 (the old configuration serves), and says why.
            good = agent.config_path.read_text()
            agent.config_path.write_text(good.replace('connect_timeout = "1s"', 'connect_timeout = "soon"'))
            since = time.monotonic()
            agent.signal(signal.SIGHUP)
            refused = wait_for(lambda: notify.with_key("READY", after=since), 10, "READY=1 after a refused reload")
            self.assertIn("reload refused", refused[0]["STATUS"])
            agent.config_path.write_text(good)

            # An open transaction keeps the agent in its shutdown grace (it is no safe point to
            # close the session at): the watchdog must go on meanwhile.
            held = app_connect(agent.port)
            self.addCleanup(lambda: held.open and held.close())
            with held.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("SELECT 1")
            since = time.monotonic()
            agent.signal(signal.SIGTERM)
            stopping = wait_for(lambda: notify.with_key("STOPPING", after=since), 10, "STOPPING=1")
            self.assertIn("stopping: 1 session(s) may finish within 10s", stopping[0]["STATUS"])
            after_stop = time.monotonic()
            wait_for(lambda: len(notify.with_key("WATCHDOG", after=after_stop)) >= 3, 5,
                     "watchdog pings during the grace")
            held.close()
            self.assertEqual(agent.proc.wait(30), 0)

    def test_without_notify_socket_nothing_changes(self):
        # Started by anything else (a shell, another supervisor), it serves as before.
        with Agent(self.lab) as agent:
            self.assertTrue(agent.request({"cmd": "status"})["ok"])


class SystemdSocket:
    """A listening socket held the way systemd holds a galeratopd.socket unit's: the test owns
    it, and each galeratopd it starts gets it as descriptor 3 with LISTEN_FDS=1 and its own PID
    in LISTEN_PID (sd_listen_fds(3)). Clients queue in its backlog while no galeratopd runs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        fd = self.sock.fileno()
        # bash keeps its PID through exec (LISTEN_PID=$$ is galeratopd's own) and, unlike dash,
        # redirects descriptors above 9.
        move = "" if fd == 3 else f"exec 3<&{fd} {fd}<&-; "
        self.agent_options = {
            "listen": f"127.0.0.1:{self.port}", "pass_fds": (fd,),
            "command_prefix": ("/bin/bash", "-c", move + 'export LISTEN_FDS=1 LISTEN_PID=$$; exec "$0" "$@"')}

    def close(self):
        self.sock.close()


def greeting_connection_id(sock):
    """The connection id in a MariaDB server greeting (protocol 10): after the 4-byte packet
    header, the protocol byte and the NUL-terminated server version."""
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:3], "little"):
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"closed before a whole greeting: {data!r}")
        data += chunk
    if data[4] != 10:
        raise AssertionError(f"not a greeting: {data[:80]!r}")
    version_end = data.index(b"\0", 5)
    return int.from_bytes(data[version_end + 1:version_end + 5], "little")


class SocketActivation(LabTestCase):
    def test_a_restart_under_load_with_the_socket_systemd_holds_fails_no_request(self):
        held = SystemdSocket()
        self.addCleanup(held.close)
        # The stop closes each session at a safe point idle for close_idle: a short session whose
        # client stalls that long between two statements is closed there and fails. A loaded CI
        # machine has stalled a client thread 250 ms (the default) for 1 request in 281; 1 s
        # keeps to what the test is about, a restart under load.
        agent = Agent(self.lab, balancer_config='close_idle = "1s"', **held.agent_options)
        with agent:
            self.assertIn("the listening socket systemd passed (socket activation)", agent.log_path.read_text())
            with ShortSessionLoad(held.port, threads=4, duration=60) as load:
                wait_for(lambda: load.ok >= 50, 30, "the load under way")
                before = load.ok
                started = time.monotonic()
                agent.stop()  # SIGTERM: it stops accepting, its sessions finish, it exits
                agent.start()
                restarted = time.monotonic() - started
                wait_for(lambda: load.ok >= before + 200, 30, "requests served by the new galeratopd")
            wait_for(lambda: agent.status()["frontend"]["waits_served_total"] > 0, 5, "the held clients counted")
            frontend = agent.status()["frontend"]
            print(f"restart under load: {load.ok} requests, {len(load.failures)} failed; galeratopd replaced in "
                  f"{restarted:.2f} s; the new one held {frontend['waits_served_total']} client(s) until its "
                  f"first checks, the longest {frontend['longest_wait_seconds'] * 1000:.0f} ms")
            self.assertEqual(load.failures, [])
            self.assertEqual(frontend["waits_refused_total"], 0)

    def test_a_client_taken_off_the_queue_as_galeratopd_stops_is_greeted_not_reset(self):
        # On io_uring a few accepts are always armed: one the kernel completes just before the
        # stop's cancel has taken a client off the listen queue, and closing it reset a client
        # that had only waited its turn. A storm of bare connects through restarts finds that
        # window: the build before the fix reset 7 clients in 30 restarts here, about one in four.
        restarts = 12
        held = SystemdSocket()
        self.addCleanup(held.close)
        agent = Agent(self.lab, **held.agent_options)
        greeted, failed = [0], []
        stop = threading.Event()
        lock = threading.Lock()

        def storm():
            while not stop.is_set():
                try:
                    with socket.create_connection(("127.0.0.1", held.port), timeout=20) as s:
                        greeting_connection_id(s)
                    with lock:
                        greeted[0] += 1
                except Exception as e:  # every failure is the measurement
                    with lock:
                        failed.append(repr(e))

        with agent:
            threads = [threading.Thread(target=storm) for _ in range(6)]
            for t in threads:
                t.start()
            try:
                for _ in range(restarts):
                    before = greeted[0]
                    wait_for(lambda: greeted[0] >= before + 100, 30, "clients greeted by this galeratopd")
                    agent.stop()
                    agent.start()
            finally:
                stop.set()
                for t in threads:
                    t.join(30)
        print(f"{restarts} restarts under a storm of bare connects: {greeted[0]} greeted, {len(failed)} not")
        self.assertEqual(failed, [])

    def test_clients_that_queue_while_galeratopd_restarts_are_served_in_arrival_order(self):
        held = SystemdSocket()
        self.addCleanup(held.close)
        # One node: its connection ids, in its greetings, count up in the order it was reached.
        agent = Agent(self.lab, nodes=[1], **held.agent_options)
        with agent:
            pass
        queued = []
        for _ in range(6):  # connected by the kernel into the held socket's backlog, nobody accepts them
            s = socket.create_connection(("127.0.0.1", held.port), timeout=20)
            self.addCleanup(s.close)
            queued.append(s)
        agent.start()
        ids = [greeting_connection_id(s) for s in queued]
        wait_for(lambda: agent.status()["frontend"]["waits_served_total"] >= len(queued), 5, "the holds counted")
        frontend = agent.status()["frontend"]
        agent.stop()
        print(f"queued while stopped, greeted by connection ids {ids}; held {frontend['waits_served_total']}, "
              f"the longest {frontend['longest_wait_seconds'] * 1000:.0f} ms")
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), len(ids))


if __name__ == "__main__":
    unittest.main()
