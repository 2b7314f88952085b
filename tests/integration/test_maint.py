"""maint takes a node out of rotation, closes its idle sessions at once (at their safe point)
and, at the end of the maint grace, whatever is still open, an open transaction included:
the way to empty a node for sure. What the deadline cut is logged and counted; the other
nodes' sessions are untouched."""

import time
import unittest

import pymysql

from harness import Agent, LabTestCase, app_connect, node_of, wait_for


class Maint(LabTestCase):
    def test_maint_closes_idle_sessions_at_once_and_an_open_transaction_at_the_grace(self):
        with Agent(self.lab, balancer_config='maint_grace = "3s"') as agent:
            name = agent.node_status(3)["name"]
            held = [app_connect(agent.port) for _ in range(6)]
            on_node, elsewhere = [], []
            for c in held:
                (on_node if node_of(c) == name else elsewhere).append(c)
            self.assertEqual(len(on_node), 2)
            idle, in_trx = on_node
            in_trx.begin()
            with in_trx.cursor() as cur:
                cur.execute("SELECT @@wsrep_node_name")

            r = agent.galeratop("maint", name)
            put_at = time.monotonic()
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(agent.node_status(3)["admin"], "maint")
            # The idle one at its safe point, well within the grace; the transaction stays.
            wait_for(lambda: agent.node_status(3)["connections"] == 1, 10, "the idle session to be closed")
            self.assertLess(time.monotonic() - put_at, 3.0, "the idle session must close inside the grace")
            with in_trx.cursor() as cur:
                cur.execute("SELECT 1")
            with self.assertRaises(pymysql.err.OperationalError) as told:
                node_of(idle)
            self.assertIn("nothing was executed", told.exception.args[1])

            wait_for(lambda: agent.node_status(3)["connections"] == 0, 15, "the grace to end the transaction")
            cut_after = time.monotonic() - put_at
            print(f"{name}: idle session closed at once, the open transaction cut {cut_after:.1f} s after "
                  f"maint (grace 3s)")
            self.assertGreaterEqual(cut_after, 3.0)
            with self.assertRaises(pymysql.err.OperationalError) as told:
                node_of(in_trx)
            self.assertIn("the open transaction is lost", told.exception.args[1])
            self.assertTrue(any(f"node {name}: 1 session(s) closed in the middle of a statement or a transaction"
                                in t for _, _, t in agent.lines()))
            wait_for(lambda: agent.node_status(3)["sessions_cut_total"] == 1, 5, "the cut to be counted")
            self.assertEqual(agent.node_status(3)["safe_closes_total"], 1)
            # The other nodes' sessions are untouched.
            for c in elsewhere:
                with c.cursor() as cur:
                    cur.execute("SELECT 1")
                c.close()

            self.assertEqual(agent.galeratop("ready", name).returncode, 0)
            wait_for(lambda: agent.node_status(3)["eligible"], 10, "the node back in rotation")


if __name__ == "__main__":
    unittest.main()
