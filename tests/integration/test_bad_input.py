"""Bad input: random bytes, resets and slowloris clients on every port galeratopd serves.
Each test asserts that the agent keeps serving while they hit it (a short-session load
that sees no failure, scrapes and control requests answered) and loses nothing (every
connection it held for them is released, no sanitizer report)."""

import os
import random
import socket
import struct
import threading
import time
import unittest
import urllib.error
import urllib.request

from harness import Agent, LabTestCase, ShortSessionLoad, wait_for


def junk_clients(connect, count, reset_every=2):
    """`count` clients that send random bytes and go; every `reset_every`-th one leaves with a
    TCP reset (SO_LINGER 0) in place of a clean close."""
    rng = random.Random(8)  # repeatable: a failure names inputs a rerun sends again
    for i in range(count):
        with connect() as s:
            s.settimeout(5)
            try:
                s.sendall(rng.randbytes(rng.randint(1, 4096)))
            except OSError:
                pass  # the other side may close first: that is an answer too
            if i % reset_every == 0 and s.family != socket.AF_UNIX:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class Slowloris:
    """`count` clients that each send `prefix` one byte every `interval` seconds and never finish;
    counts the ones the server closed."""

    def __init__(self, connect, count, prefix, interval=0.5):
        self.socks = []
        for _ in range(count):
            s = connect()
            s.setblocking(False)
            self.socks.append(s)
        self.prefix, self.interval = prefix, interval
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        sent = 0
        open_socks = list(self.socks)
        while not self._stop.wait(self.interval) and open_socks:
            byte = self.prefix[sent % len(self.prefix):][:1]
            sent += 1
            still = []
            for s in open_socks:
                try:
                    try:
                        if s.recv(65536) == b"":
                            raise ConnectionError("closed")
                    except BlockingIOError:
                        pass  # nothing to read: still open
                    s.send(byte)
                    still.append(s)
                except OSError:
                    self.closed_by_server += 1
            open_socks = still

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(30)
        for s in self.socks:
            s.close()


def tcp(port):
    return lambda: socket.create_connection(("127.0.0.1", port), timeout=5)


class BadInput(LabTestCase):
    def test_client_listener_survives_random_bytes_resets_and_slowloris(self):
        with Agent(self.lab) as agent, ShortSessionLoad(agent.port, threads=2, duration=120) as load:
            wait_for(lambda: load.ok >= 20, 30, "the load to run")
            with Slowloris(tcp(agent.port), 50, b"\x00\x01\x02\x03 not a handshake") as slow:
                junk_clients(tcp(agent.port), 300)
                before = load.ok
                wait_for(lambda: load.ok >= before + 100, 60, "100 more requests served beside the junk")
                self.assertIsNone(agent.proc.poll())
            load._stop.set()
            print(f"{load.ok} requests, {len(load.failures)} failed; {slow.closed_by_server} of 50 slowloris "
                  "clients closed by the other side")
            self.assertEqual(load.failures, [])
            # Nothing held for the junk is kept: every session to a node ends.
            wait_for(lambda: agent.status()["frontend"]["current"] == 0, 60, "every session to be released")
            self.assertEqual([n["connections"] for n in agent.status()["nodes"]], [0, 0, 0])

    def test_metrics_port_survives_random_bytes_and_slowloris(self):
        with Agent(self.lab, metrics=True) as agent:
            # More slow clients than the endpoint holds (64): the oldest make room for new ones.
            with Slowloris(tcp(agent.metrics_port), 100, b"GET /metrics HTTP/1.1\r\nX-Slow: ") as slow:
                junk_clients(tcp(agent.metrics_port), 200)
                # Prometheus's own default scrape timeout is 10 s: a scrape must be answered well within it.
                slowest = 0
                for _ in range(5):
                    started = time.monotonic()
                    text = agent.scrape()
                    slowest = max(slowest, time.monotonic() - started)
                    self.assertIn("galeratop_build_info", text)
                self.assertLess(slowest, 10, "a scrape beside 100 slowloris clients")
                # None is kept past the 5 s the whole request head may take.
                wait_for(lambda: slow.closed_by_server == 100, 20, "every slowloris client to be closed")
                print(f"slowest of 5 scrapes beside 100 slowloris clients: {slowest * 1000:.0f} ms")
            self.assertIsNone(agent.proc.poll())
            self.assertIn("galeratop_build_info", agent.scrape())
            # Read-only, and a head larger than a scraper ever sends is refused.
            with self.assertRaises(urllib.error.HTTPError) as post:
                urllib.request.urlopen(f"http://127.0.0.1:{agent.metrics_port}/metrics", data=b"x=1", timeout=5)
            self.assertEqual(post.exception.code, 405)
            with self.assertRaises(urllib.error.HTTPError) as huge:
                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{agent.metrics_port}/metrics",
                                                              headers={"X-Big": "a" * 9000}), timeout=5)
            self.assertEqual(huge.exception.code, 431)

    def test_control_socket_survives_300_slowloris_and_random_bytes(self):
        def unix():
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            s.connect(str(agent.control))
            return s
        with Agent(self.lab) as agent:
            with Slowloris(unix, 300, b'{"cmd": "status", "pad": "') as slow:
                junk_clients(unix, 100)
                # Operators are never locked out: the slow ones are the longest idle and make room.
                r = agent.galeratop("status", timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("synced", r.stdout)
                self.assertTrue(agent.request({"cmd": "status"})["ok"])
                wait_for(lambda: slow.closed_by_server > 0, 30, "the agent to close slowloris clients at the limit")
            self.assertTrue(any("clients connected, the limit" in t for _, _, t in agent.lines()))
            self.assertIsNone(agent.proc.poll())
            self.assertTrue(agent.request({"cmd": "status"})["ok"])


if __name__ == "__main__":
    unittest.main()
