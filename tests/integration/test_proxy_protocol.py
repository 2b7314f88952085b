"""The client's own address at the node: with [balancer] proxy_protocol, galeratopd opens each
session with a PROXY v2 header, and a node that trusts galeratopd's address
(proxy_protocol_networks) sees the client in SHOW PROCESSLIST and applies host-restricted
grants to it. The clients here connect from 127.0.0.2, galeratopd from 127.0.0.1."""

import secrets
import unittest

import pymysql

from harness import Agent, LabTestCase, app_connect

CLIENT_HOST = "127.0.0.2"  # a second loopback address, to tell the client from galeratopd


def host_at_node(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT host FROM information_schema.processlist WHERE id = CONNECTION_ID()")
        return cur.fetchone()[0]


class ProxyProtocol(LabTestCase):
    def setUp(self):
        super().setUp()
        # What each node must trust: the addresses galeratopd connects from. The monitor's
        # connection comes from there too, without a header: the header is optional.
        for n in self.lab.nodes:
            self.lab.sql(n["index"], "SET GLOBAL proxy_protocol_networks = '127.0.0.1/32,::1/128'")
            self.addCleanup(self.lab.sql, n["index"], "SET GLOBAL proxy_protocol_networks = ''")
        self.password = secrets.token_hex(8)
        self.lab.sql(1, f"CREATE USER 'remote'@'{CLIENT_HOST}' IDENTIFIED BY '{self.password}'")
        self.addCleanup(self.lab.sql, 1, f"DROP USER 'remote'@'{CLIENT_HOST}'")
        self.lab.sql(1, f"GRANT SELECT ON {self.lab.app_database}.* TO 'remote'@'{CLIENT_HOST}'")

    def remote(self, port, source):
        """The user granted to 127.0.0.2 only, connecting from `source`."""
        return pymysql.connect(host="127.0.0.1", port=port, user="remote", password=self.password,
                               bind_address=source, connect_timeout=5, read_timeout=10)

    def test_with_proxy_protocol_the_node_sees_the_client_and_grants_by_its_address(self):
        with Agent(self.lab, balancer_config="proxy_protocol = true\n") as agent:
            self.assertTrue(all(n["proxy_protocol"] for n in agent.status()["nodes"]))
            with self.remote(agent.port, CLIENT_HOST) as conn:
                client_port = conn._sock.getsockname()[1]
                host = host_at_node(conn)
            print(f"PROXY on: 'remote'@'{CLIENT_HOST}' from {CLIENT_HOST}:{client_port}: processlist host {host}")
            self.assertEqual(host, f"{CLIENT_HOST}:{client_port}")
            with self.assertRaises(pymysql.err.OperationalError) as refused:
                self.remote(agent.port, "127.0.0.1")
            print(f"PROXY on: 'remote'@'{CLIENT_HOST}' from 127.0.0.1: {refused.exception.args}")
            self.assertIn(refused.exception.args[0], (1045, 1698))  # access denied (1698: no such user@host)

            # The lab's app user is granted to 127.0.0.1: the node judges the client, not galeratopd.
            with app_connect(agent.port) as conn:
                client_port = conn._sock.getsockname()[1]
                self.assertEqual(host_at_node(conn), f"127.0.0.1:{client_port}")
            with self.assertRaises(pymysql.err.OperationalError) as refused:
                app_connect(agent.port, bind_address=CLIENT_HOST)
            self.assertIn(refused.exception.args[0], (1045, 1698))
            # The monitor connects directly and still checks every node.
            self.assertEqual(len(agent.eligible_now()), len(self.lab.nodes))

    def test_without_it_the_node_sees_galeratopd_and_refuses_nothing_that_worked(self):
        with Agent(self.lab) as agent:
            self.assertFalse(any(n["proxy_protocol"] for n in agent.status()["nodes"]))
            with app_connect(agent.port, bind_address=CLIENT_HOST) as conn:
                host = host_at_node(conn)
            print(f"PROXY off: processlist host {host}")
            self.assertEqual(host.split(":")[0], "127.0.0.1")
            # As behind any L4 proxy: a grant to the client's host does not match galeratopd's.
            with self.assertRaises(pymysql.err.OperationalError) as refused:
                self.remote(agent.port, CLIENT_HOST)
            self.assertIn(refused.exception.args[0], (1045, 1698))  # access denied (1698: no such user@host)
            self.assertEqual(len(agent.eligible_now()), len(self.lab.nodes))


if __name__ == "__main__":
    unittest.main()
