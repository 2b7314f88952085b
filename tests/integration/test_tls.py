"""TLS on the TCP control endpoint and on /metrics.

Control: galeratop trusts the agent only through the CA given to
--ca-file and the address it connected to; a wrong CA, an expired certificate, a plain client and
a plain galeratop are each refused with a clear message; a reload reads the certificate again and
a bad pair keeps the running one; the token never crosses the loopback in clear (a capture of the
traffic of a real drain and undrain does not contain it, while the same capture of --plain does).

Metrics: with a certificate and a users file, /metrics is HTTPS only and asks for basic auth (401
without, or with a wrong password); a real Prometheus scrapes it with scheme https, tls_config's
ca_file and basic_auth; a reload takes a new users file."""

import base64
import datetime
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import unittest
import urllib.error
import urllib.request
import warnings

from harness import Agent, LabTestCase, Prometheus, free_port, terminate, wait_for
from pki import Pki

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libxcrypt's bcrypt, as htpasswd -B writes it


class Capture:
    """tcpdump of one loopback port into a file, stopped by its PID."""

    def __init__(self, path, port):
        self.path = path
        # --immediate-mode: each packet is written as it comes, not in blocks a stop could lose.
        self.proc = subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-n", "-w", str(path),
                                      f"tcp port {port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # tcpdump says "listening on lo" once it captures; what is sent before that would be missed.
        line = self.proc.stderr.readline()
        if "listening on" not in line:
            terminate(self.proc, 5)
            raise AssertionError(f"tcpdump did not start: {line}")

    def stop(self, at_least=0):
        """Stops tcpdump once the file holds `at_least` bytes (what was sent has been written)."""
        try:
            wait_for(lambda: self.path.exists() and self.path.stat().st_size >= at_least, 10,
                     f"{at_least} bytes captured")
        finally:
            terminate(self.proc, 10)
        self.proc.stderr.close()
        return self.path.read_bytes()


class ControlTls(LabTestCase):
    def setUp(self):
        super().setUp()
        self.tcp_port = free_port()
        self.target = f"127.0.0.1:{self.tcp_port}"

    def agent_with(self, cert, key, token_file, extra=""):
        return Agent(self.lab, extra_config=(
            f'control_tcp = "{self.target}"\ncontrol_token_file = "{token_file}"\n'
            f'control_tls_cert = "{cert}"\ncontrol_tls_key = "{key}"\n{extra}'))

    def token_file(self, agent_dir_parent):
        token = os.urandom(16).hex()
        path = agent_dir_parent / "control.token"
        path.write_text(token + "\n")
        path.chmod(0o600)
        return token, path

    def test_the_agent_is_verified_and_plain_or_unverified_peers_are_refused(self):
        pki_dir = self.lab.root / f"pki-{self.tcp_port}"
        pki_dir.mkdir()
        ca, other_ca = Pki(pki_dir, "galeratop-test-ca"), Pki(pki_dir, "unrelated-ca")
        cert, key = ca.issue("agent")
        token, token_file = self.token_file(pki_dir)
        with self.agent_with(cert, key, token_file) as agent:
            def galeratop(*args):
                return agent.galeratop("--token-file", str(token_file), *args, control=self.target)

            # A plain-text client sending the token line gets no answer: the connection is closed,
            # nothing but (at most) a TLS alert comes back, and the agent logs why.
            with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=10) as s:
                s.sendall((json.dumps({"v": 1, "cmd": "status", "token": token}) + "\n").encode())
                received = b""
                try:
                    while chunk := s.recv(4096):
                        received += chunk
                except ConnectionResetError:
                    pass  # closed with the request unread: a reset instead of a FIN
            self.assertNotIn(token.encode(), received)
            self.assertNotIn(b'"ok"', received)
            self.assertTrue(received == b"" or received[0] == 0x15, received)  # 0x15: a TLS alert record
            wait_for(lambda: any("not TLS" in t and "plain-text client" in t for _, _, t in agent.lines()), 10,
                     "the log line about the plain client")

            r = galeratop("--ca-file", str(ca.ca_file), "status")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("NODE", r.stdout)

            r = galeratop("--ca-file", str(other_ca.ca_file), "status")
            self.assertEqual(r.returncode, 1)
            self.assertIn(f"galeratop: {self.target}: certificate verify failed: unable to get local issuer "
                          "certificate (is --ca-file the CA that signed the agent's certificate?)", r.stderr)

            r = galeratop("status")  # the system's CAs know nothing of the test's CA
            self.assertEqual(r.returncode, 1)
            self.assertIn("certificate verify failed", r.stderr)
            self.assertIn("give --ca-file", r.stderr)

            r = galeratop("--insecure", "status")
            self.assertEqual(r.returncode, 0, r.stderr)

            # Over TLS the token is still required.
            context = ssl.create_default_context(cafile=str(ca.ca_file))
            with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=10) as raw, \
                    context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b'{"v": 1, "cmd": "status"}\n')
                self.assertEqual(json.loads(s.makefile().readline())["error"]["code"], "unauthorized")

            # Subscribed over TLS: pushes interrupt the agent's pending read again and again, and a
            # request after them is still read and answered.
            with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=10) as raw, \
                    context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                lines = s.makefile("rb")
                s.sendall((json.dumps({"v": 1, "id": 1, "cmd": "subscribe", "interval_ms": 100, "token": token})
                           + "\n").encode())
                self.assertTrue(json.loads(lines.readline())["ok"])
                for _ in range(3):
                    self.assertEqual(json.loads(lines.readline())["event"], "status")
                s.sendall((json.dumps({"v": 1, "id": 2, "cmd": "status", "token": token}) + "\n").encode())
                # Pushes may come first; each read is bounded by the socket's timeout.
                answer = next(a for a in map(json.loads, iter(lines.readline, b"")) if a.get("id") == 2)
                self.assertEqual(len(answer["status"]["nodes"]), 3)

            # A real drain and undrain over TLS: the capture has their packets, not the token.
            node = f"127.0.0.1:{self.lab.node(2)['port']}"
            capture = Capture(pki_dir / "tls.pcap", self.tcp_port)
            try:
                for command in ("drain", "undrain"):
                    r = galeratop("--ca-file", str(ca.ca_file), command, node)
                    self.assertEqual(r.returncode, 0, r.stderr)
            finally:
                captured = capture.stop(at_least=2000)  # two handshakes and their requests
            self.assertIn(b"\x16\x03", captured)  # TLS handshake records
            self.assertNotIn(token.encode(), captured)
            self.assertEqual(agent.node_status(2)["admin"], "ready")

            # The same capture of --plain against this agent does see the token: the check above can fail.
            capture = Capture(pki_dir / "plain.pcap", self.tcp_port)
            try:
                r = galeratop("--plain", "status")
            finally:
                captured = capture.stop(at_least=24 + len(token))
            self.assertEqual(r.returncode, 1)
            self.assertIn("drop --plain", r.stderr)
            self.assertIn(token.encode(), captured)

            # A reload reads the files again: a key that does not match is refused, the running pair kept.
            _, other_key = ca.issue("other")
            agent.write_config(extra=(f'control_tcp = "{self.target}"\ncontrol_token_file = "{token_file}"\n'
                                      f'control_tls_cert = "{cert}"\ncontrol_tls_key = "{other_key}"\n'))
            agent.signal(signal.SIGHUP)
            wait_for(lambda: any(f"agent.control_tls_key {other_key}: does not match the certificate in {cert}" in t
                                 for _, _, t in agent.lines()), 10, "the refused reload")
            r = galeratop("--ca-file", str(ca.ca_file), "status")
            self.assertEqual(r.returncode, 0, r.stderr)

            # A renewed pair is taken; this one names another address, which galeratop refuses.
            wrong_cert, wrong_key = ca.issue("elsewhere", ip="127.0.0.2")
            agent.write_config(extra=(f'control_tcp = "{self.target}"\ncontrol_token_file = "{token_file}"\n'
                                      f'control_tls_cert = "{wrong_cert}"\ncontrol_tls_key = "{wrong_key}"\n'))
            agent.signal(signal.SIGHUP)
            wait_for(lambda: any(f"new TLS clients get the certificate in {wrong_cert}" in t
                                 for _, _, t in agent.lines()), 10, "the reloaded certificate")
            r = galeratop("--ca-file", str(ca.ca_file), "status")
            self.assertEqual(r.returncode, 1)
            self.assertIn("certificate verify failed: IP address mismatch", r.stderr)
            self.assertNotIn(token, agent.log_path.read_text())

    def test_an_expired_certificate_a_plain_agent_and_a_bad_key_are_refused_clearly(self):
        pki_dir = self.lab.root / f"pki-{self.tcp_port}"
        pki_dir.mkdir()
        ca = Pki(pki_dir, "galeratop-test-ca")
        cert, key = ca.issue("expired", not_before=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
                             not_after=datetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc))
        token, token_file = self.token_file(pki_dir)
        with self.agent_with(cert, key, token_file) as agent:
            r = agent.galeratop("--token-file", str(token_file), "--ca-file", str(ca.ca_file), "status",
                                control=self.target)
            self.assertEqual(r.returncode, 1)
            self.assertIn(f"galeratop: {self.target}: certificate verify failed: certificate has expired", r.stderr)

        # An agent told to serve plain TCP: galeratop (TLS by default) says so instead of timing out.
        with Agent(self.lab, extra_config=(f'control_tcp = "{self.target}"\ncontrol_token_file = "{token_file}"\n'
                                           'control_tls = false\n')) as agent:
            self.assertTrue(any("WITHOUT TLS" in t for _, _, t in agent.lines()))
            r = agent.galeratop("--token-file", str(token_file), "--ca-file", str(ca.ca_file), "status",
                                control=self.target)
            self.assertEqual(r.returncode, 1)
            self.assertIn(f"galeratop: {self.target}: ", r.stderr)
            self.assertIn("plain control endpoint? galeratop --plain talks to one", r.stderr)
            wait_for(lambda: any("agent.control_tls = false" in t and "TLS handshake" in t
                                 for _, _, t in agent.lines()), 10, "the log line about the TLS client")
            r = agent.galeratop("--token-file", str(token_file), "--plain", "status", control=self.target)
            self.assertEqual(r.returncode, 0, r.stderr)

        # A key that does not belong to the certificate stops the start, naming both files.
        good_cert, _ = ca.issue("agent")
        agent = self.agent_with(good_cert, key, token_file)
        r = subprocess.run([os.environ["GALERATOPD"], "--config", str(agent.config_path)], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"agent.control_tls_key {key}: does not match the certificate in {good_cert}", r.stderr)
        # Without a certificate, TCP control is refused at start unless control_tls = false says plain.
        no_cert = pki_dir / "no-cert.toml"
        no_cert.write_text(f'[agent]\ncontrol_tcp = "{self.target}"\ncontrol_token_file = "{token_file}"\n'
                           '[[node]]\naddress = "127.0.0.1:1"\n')
        r = subprocess.run([os.environ["GALERATOPD"], "--check-config", str(no_cert)], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("agent.control_tls_cert: TCP control speaks TLS", r.stderr)


def bcrypt_line(user, password):
    """USER:HASH as `htpasswd -nbB -C 4` writes it (cost 4: a fast test)."""
    return f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))}\n"


class SecureMetricsAgent(Agent):
    """An agent whose /metrics is HTTPS with basic auth; scrape() uses the test's CA and credentials."""

    def __init__(self, the_lab, ca_file, credentials, **kw):
        self.ca_file, self.credentials = ca_file, credentials
        super().__init__(the_lab, metrics=True, **kw)

    def get(self, credentials=None, scheme="https"):
        """(status, headers, body) of GET /metrics."""
        request = urllib.request.Request(f"{scheme}://127.0.0.1:{self.metrics_port}/metrics")
        if credentials:
            request.add_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
        context = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            with urllib.request.urlopen(request, timeout=5, context=context if scheme == "https" else None) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def scrape(self):
        status, _, body = self.get(self.credentials)
        return body if status == 200 else ""


class MetricsTls(LabTestCase):
    def test_metrics_over_https_with_basic_auth_scraped_by_prometheus(self):
        metrics_dir = self.lab.root / f"metrics-pki-{free_port()}"
        metrics_dir.mkdir()
        ca = Pki(metrics_dir, "galeratop-metrics-ca")
        cert, key = ca.issue("metrics")
        users = metrics_dir / "metrics.users"
        users.write_text("# scrapers\n" + bcrypt_line("prometheus", "scrape me") + bcrypt_line("grafana", "other"))
        users.chmod(0o600)
        extra = (f'metrics_tls_cert = "{cert}"\nmetrics_tls_key = "{key}"\n'
                 f'metrics_basic_auth_users = "{users}"\n')
        with SecureMetricsAgent(self.lab, ca.ca_file, "prometheus:scrape me", extra_config=extra) as agent:
            self.assertTrue(any(f"metrics on https://127.0.0.1:{agent.metrics_port}/metrics (basic auth, 2 user(s))"
                                in t for _, _, t in agent.lines()))
            status, headers, _ = agent.get()
            self.assertEqual(status, 401)
            self.assertEqual(headers["WWW-Authenticate"], 'Basic realm="galeratop"')
            self.assertEqual(agent.get("prometheus:wrong")[0], 401)
            self.assertEqual(agent.get("nobody:scrape me")[0], 401)
            status, _, body = agent.get("prometheus:scrape me")
            self.assertEqual(status, 200)
            self.assertIn("galeratop_node_up", body)
            # Plain HTTP on the HTTPS port gets no metrics.
            with self.assertRaises((OSError, http.client.HTTPException)):
                agent.get("prometheus:scrape me", scheme="http")

            password_file = metrics_dir / "prometheus.pass"
            password_file.write_text("scrape me")
            job = (f"    scheme: https\n    tls_config:\n      ca_file: {ca.ca_file}\n"
                   f"    basic_auth:\n      username: prometheus\n      password_file: {password_file}\n")
            with Prometheus(metrics_dir, agent.metrics_port, job_config=job) as prometheus:
                wait_for(lambda: [v for _, v in prometheus.query('up{job="galeratopd"}')] == [1.0]
                         and len(prometheus.query("galeratop_node_up == 1")) == 3,
                         30, "Prometheus scraping /metrics over HTTPS with basic auth")

            # A reload reads the users file again: the old password no longer works, the new one does.
            users.write_text(bcrypt_line("prometheus", "rotated"))
            agent.signal(signal.SIGHUP)
            wait_for(lambda: any("metrics: new clients are served as https://" in t and "1 user(s)" in t
                                 for _, _, t in agent.lines()), 10, "the reloaded users file")
            wait_for(lambda: agent.get("prometheus:rotated")[0] == 200, 5, "the new password")
            self.assertEqual(agent.get("prometheus:scrape me")[0], 401)


if __name__ == "__main__":
    unittest.main()
