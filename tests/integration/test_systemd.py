"""galeratopd as a systemd Type=notify service, seen from systemd's side of the notify socket
(sd_notify(3)): READY=1 once it serves, RELOADING=1 then READY=1 around a SIGHUP reload (also
a refused one), WATCHDOG=1 at half of WatchdogSec= from the io thread, STOPPING=1 at SIGTERM.
The unit file itself is checked by `systemd-analyze verify` (tests/docs)."""

import signal
import socket
import tempfile
import time
import unittest
from pathlib import Path

from harness import Agent, LabTestCase, app_connect, wait_for


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

            # A session keeps the agent in its shutdown grace: the watchdog must go on meanwhile.
            held = app_connect(agent.port)
            self.addCleanup(lambda: held.open and held.close())
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


if __name__ == "__main__":
    unittest.main()
