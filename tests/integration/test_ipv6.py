"""IPv6 end to end, on ::1: a listener, the nodes (every lab node also listens on ::1), the TCP
control endpoint (TLS, with a certificate for ::1) and the metrics port, with one agent for the
four tests. With the PROXY protocol on, a node sees the IPv6 client's own address."""

import os
import shutil
import socket
import ssl
import subprocess
import unittest
import urllib.request

import pymysql

from harness import Agent, LabTestCase, free_port, lab, parse_exposition
from pki import Pki


class IPv6(LabTestCase):
    @classmethod
    def setUpClass(cls):
        the_lab = lab()
        the_lab.wait_synced(timeout=120)
        for n in the_lab.nodes:  # galeratopd reaches them from ::1
            the_lab.sql(n["index"], "SET GLOBAL proxy_protocol_networks = '::1/128'")
            cls.addClassCleanup(the_lab.sql, n["index"], "SET GLOBAL proxy_protocol_networks = ''")
        cls.token = os.urandom(16).hex()
        cls.control_port = free_port()
        cls.token_file = the_lab.root / f"control-{cls.control_port}.token"
        cls.token_file.write_text(cls.token + "\n")
        cls.token_file.chmod(0o600)
        cls.addClassCleanup(cls.token_file.unlink)
        pki_dir = the_lab.root / f"pki-{cls.control_port}"
        pki_dir.mkdir()
        cls.addClassCleanup(shutil.rmtree, pki_dir)
        cls.ca = Pki(pki_dir, "ipv6-ca")
        cert, key = cls.ca.issue("agent", ip="::1")
        cls.agent = Agent(the_lab, ipv6=True, metrics=True, balancer_config="proxy_protocol = true\n",
                          extra_config=f'control_tcp = "[::1]:{cls.control_port}"\n'
                                       f'control_token_file = "{cls.token_file}"\n'
                                       f'control_tls_cert = "{cert}"\ncontrol_tls_key = "{key}"\n')
        cls.agent.start()
        cls.addClassCleanup(cls.agent.stop)

    def test_a_client_of_a_listener_on_ipv6_reaches_a_node_that_sees_its_address(self):
        conn = pymysql.connect(host="::1", port=self.agent.port, user=self.lab.app_user,
                               password=self.lab.app_password, database=self.lab.app_database, connect_timeout=5)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT host FROM information_schema.processlist WHERE id = CONNECTION_ID()")
            host = cur.fetchone()[0]
            client_port = conn._sock.getsockname()[1]
        print(f"client [::1]:{client_port} through [::1]:{self.agent.port}: processlist host {host}")
        self.assertEqual(host, f"::1:{client_port}")

    def test_nodes_on_ipv6_are_monitored_and_balanced_to(self):
        nodes = self.agent.status()["nodes"]
        self.assertEqual(sorted(n["address"] for n in nodes),
                         sorted(f"[::1]:{n['port']}" for n in self.lab.nodes))
        self.assertTrue(all(n["state"] == "synced" and n["eligible"] for n in nodes), nodes)

    def test_the_control_endpoint_answers_on_ipv6(self):
        r = subprocess.run([os.environ["GALERATOP"], "--control", f"[::1]:{self.control_port}",
                            "--ca-file", str(self.ca.ca_file), "--token-file", str(self.token_file),
                            "status", "--json"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)  # the certificate verified for the address ::1
        self.assertIn(f"[::1]:{self.lab.node(1)['port']}", r.stdout)
        context = ssl.create_default_context(cafile=str(self.ca.ca_file))
        with socket.create_connection(("::1", self.control_port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname="::1") as s:
            s.sendall(b'{"cmd": "status", "token": "' + b"0" * 32 + b'"}\n')
            self.assertIn(b"unauthorized", s.recv(4096))

    def test_metrics_are_served_on_ipv6(self):
        with urllib.request.urlopen(f"http://[::1]:{self.agent.metrics_port}/metrics", timeout=5) as r:
            samples = parse_exposition(r.read().decode())
        up = {labels["address"]: value for name, labels, value in samples if name == "mysql_up"}
        self.assertEqual(up, {f"[::1]:{n['port']}": 1.0 for n in self.lab.nodes})


if __name__ == "__main__":
    unittest.main()
