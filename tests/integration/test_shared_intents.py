"""Operator intents shared through the cluster (galeratop.intents): a drain given to one agent
is applied by every agent of its group within a poll interval; concurrent changes converge
on the row the cluster committed last; a change made while the cluster cannot be written
holds on its agent and is shared once it can be, unless another change came first. A new agent
routes no client before its first read of the table (unless that read fails)."""

import socket
import threading
import time
import unittest

from harness import Agent, LabTestCase, node_name_via, wait_for


class SharedIntents(LabTestCase):
    def setUp(self):
        super().setUp()
        self.group = f"shared-{time.monotonic_ns() % 10**9}"
        self.a = Agent(self.lab, intents_group=self.group).start()
        self.addCleanup(self.a.stop)
        self.b = Agent(self.lab, intents_group=self.group).start()
        self.addCleanup(self.b.stop)

    def address(self, i):
        return f"127.0.0.1:{self.lab.node(i)['port']}"

    def row(self, i):
        """The node's row as the cluster holds it: (admin, version, changed_by), or None."""
        rows = self.lab.sql(1, "SET SESSION wsrep_sync_wait = 1; SELECT admin, version, changed_by FROM "
                               f"galeratop.intents WHERE agent_group = '{self.group}' AND node = '{self.address(i)}'")
        return (rows[0][0], int(rows[0][1]), rows[0][2]) if rows else None

    def monitor_grants(self, verb, privileges="INSERT, UPDATE"):
        for host in ("127.0.0.1", "localhost"):
            self.lab.sql(1, f"{verb} {privileges} ON galeratop.* {'FROM' if verb == 'REVOKE' else 'TO'} "
                            f"'{self.lab.monitor_user}'@'{host}'")

    def test_a_drain_given_to_one_agent_is_applied_by_the_other(self):
        r = self.a.galeratop("drain", "node1")
        given = time.monotonic()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f'shared with every agent of group "{self.group}"', r.stdout)
        wait_for(lambda: self.b.node_status(1)["admin"] == "drain", 5, "agent B to drain node1")
        took = time.monotonic() - given
        print(f"\nthe drain given to agent A was in force on agent B {took * 1000:.0f} ms later")
        admin, version, by = self.row(1)
        self.assertEqual(admin, "drain")
        self.assertIn(f"127.0.0.1:{self.a.port}", by)  # the agent that made the change is named
        intent = self.b.node_status(1)["intent"]
        self.assertEqual((intent["version"], intent["pending"]), (version, False))
        # B says who gave the drain: A's operator, through the table (the node detail shows it).
        self.assertEqual(intent["by"], f"{by} in galeratop.intents")
        self.assertIsNotNone(intent["changed"])
        event = self.b.wait_event(lambda e: e["kind"] == "operator" and e["node"] == "node1", 5, "B's operator event")
        self.assertEqual(event["message"], f"admin ready -> drain (shared intent version {version})")
        self.assertTrue(any(f"admin ready -> drain (shared intent version {version}) by {by}" in line
                            for _, _, line in self.b.lines()))
        # The agents read the table through nodes in rotation: a drained node is about to be stopped.
        for agent in (self.a, self.b):
            wait_for(lambda: agent.status()["intents"]["from"] not in ("", self.address(1)), 3,
                     "the intents to be read through a node in rotation")
        # B sends no new client to node1.
        self.assertNotIn("node1", {node_name_via(self.b.port) for _ in range(8)})
        r = self.b.galeratop("undrain", "node1")
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: self.a.node_status(1)["admin"] == "ready", 5, "agent A to take node1 back")
        self.assertEqual(self.row(1)[:2], ("ready", version + 1))

    def test_concurrent_changes_converge_on_the_row_the_cluster_committed_last(self):
        for round in range(4):
            answers = {}

            def give(agent, command):
                answers[command] = agent.galeratop(command, "node2")
            threads = [threading.Thread(target=give, args=(self.a, "drain")),
                       threading.Thread(target=give, args=(self.b, "maint"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for command, r in answers.items():
                self.assertEqual(r.returncode, 0, f"{command}: {r.stderr}")
            admin, version, _ = self.row(2)
            self.assertIn(admin, ("drain", "maint"))
            for agent in (self.a, self.b):
                wait_for(lambda: agent.node_status(2)["intent"]["version"] == version
                         and agent.node_status(2)["admin"] == admin, 5, f"round {round}: both agents on the row")
            self.assertEqual(self.a.galeratop("ready", "node2").returncode, 0)
            wait_for(lambda: self.b.node_status(2)["admin"] == "ready", 5, "node2 ready on B")

    def test_a_change_the_cluster_cannot_take_holds_locally_and_is_shared_unless_overtaken(self):
        self.addCleanup(self.monitor_grants, "GRANT")
        self.monitor_grants("REVOKE")
        r = self.a.galeratop("drain", "node3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("holds on this agent only", r.stderr)
        self.assertEqual(self.a.node_status(3)["admin"], "drain")  # applied here at once
        self.assertTrue(self.a.node_status(3)["intent"]["pending"])
        self.assertEqual(self.a.status()["intents"]["pending"], 1)
        self.assertIsNone(self.row(3))
        self.assertEqual(self.b.node_status(3)["admin"], "ready")

        self.monitor_grants("GRANT")  # the cluster can be written again: A's next read pushes it
        wait_for(lambda: self.b.node_status(3)["admin"] == "drain", 5, "agent B to drain node3")
        self.assertEqual(self.row(3)[:2], ("drain", 1))
        wait_for(lambda: not self.a.node_status(3)["intent"]["pending"], 5, "A's intent to be shared")

        # Overtaken: while A cannot write, someone else changes the row; A's pending change loses.
        self.monitor_grants("REVOKE")
        r = self.a.galeratop("maint", "node3")
        self.assertIn("holds on this agent only", r.stderr)
        self.assertEqual(self.a.node_status(3)["admin"], "maint")
        self.lab.sql(1, "UPDATE galeratop.intents SET admin = 'ready', version = version + 1, changed_by = 'dba' "
                        f"WHERE agent_group = '{self.group}' AND node = '{self.address(3)}'")
        wait_for(lambda: self.b.node_status(3)["admin"] == "ready", 5, "agent B to follow the DBA's change")
        self.monitor_grants("GRANT")
        wait_for(lambda: self.a.node_status(3)["admin"] == "ready", 5, "agent A to drop its pending maint")
        self.assertEqual(self.row(3)[:2], ("ready", 2))
        self.assertFalse(self.a.node_status(3)["intent"]["pending"])
        self.assertTrue(any("is dropped: dba changed it since" in line for _, _, line in self.a.lines()))

    def test_a_row_this_version_cannot_read_is_ignored_and_undoes_no_drain(self):
        self.assertEqual(self.a.galeratop("drain", "node1").returncode, 0)
        wait_for(lambda: self.b.node_status(1)["admin"] == "drain", 5, "agent B to drain node1")
        # Version 0 is never written by galeratopd: as a row from a newer version, it is not guessed at.
        self.lab.sql(1, "UPDATE galeratop.intents SET version = 0 "
                        f"WHERE agent_group = '{self.group}' AND node = '{self.address(1)}'")
        warning = f"is ignored, node {self.address(1)} keeps the intent held here"
        for agent in (self.a, self.b):
            wait_for(lambda: any(warning in line for _, _, line in agent.lines()), 5, "the ignored row to be logged")
        time.sleep(1.0)  # four more reads: an absence (no repeated warning, no undrain) needs a window
        for agent in (self.a, self.b):
            self.assertEqual(agent.node_status(1)["admin"], "drain")
            self.assertEqual(sum(warning in line for _, _, line in agent.lines()), 1, "the warning repeats")

    def test_a_new_agent_sends_no_client_to_a_node_drained_in_the_table(self):
        self.assertEqual(self.a.galeratop("drain", "node1").returncode, 0)
        # A new agent of the group, its state directory empty, with clients at its door from the
        # moment it listens: until it has read the table, it must not take node1 for ready.
        c = Agent(self.lab, intents_group=self.group)
        self.addCleanup(c.stop)
        answered, stop = [0], threading.Event()

        def knock():
            while not stop.is_set():
                try:
                    with socket.create_connection(("127.0.0.1", c.port), timeout=2) as s:
                        if s.recv(64):  # a greeting, or an error while no node is eligible
                            answered[0] += 1
                except OSError:
                    pass  # not listening yet
        knockers = [threading.Thread(target=knock) for _ in range(4)]
        for t in knockers:
            t.start()
        def served():
            return sum(n["connections_total"] for n in c.status()["nodes"])
        try:
            c.start(wait_eligible=2)
            wait_for(lambda: c.status()["intents"]["from"] != "", 5, "the new agent to read the table")
            read_at = served()  # clients keep coming after the read too: they too must avoid node1
            wait_for(lambda: served() >= read_at + 100, 10, "100 more clients served after the read")
        finally:
            stop.set()
            for t in knockers:
                t.join()
        nodes = {n["address"]: n for n in c.status()["nodes"]}
        print(f"\n{answered[0]} clients at the new agent's door; per node "
              f"{ {a: n['connections_total'] for a, n in nodes.items()} }")
        self.assertEqual(nodes[self.address(1)]["admin"], "drain")
        self.assertEqual(nodes[self.address(1)]["connections_total"], 0)
        self.assertGreater(nodes[self.address(2)]["connections_total"] + nodes[self.address(3)]["connections_total"], 0)

    def test_a_new_agent_that_cannot_read_the_table_routes_on_what_it_holds(self):
        self.addCleanup(self.monitor_grants, "GRANT", "SELECT")
        self.monitor_grants("REVOKE", "SELECT")
        c = Agent(self.lab, intents_group=self.group).start()  # it waits for 3 eligible nodes
        self.addCleanup(c.stop)
        self.assertTrue(any("the first read of galeratop.intents failed" in line for _, _, line in c.lines()))
        self.assertFalse(c.status()["intents"]["available"])
        self.assertEqual(node_name_via(c.port)[:4], "node")


if __name__ == "__main__":
    unittest.main()
