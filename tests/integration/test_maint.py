"""maint takes a node out of rotation and closes its sessions after the maint grace (not
before): the way to empty a node that long-lived pools would otherwise hold for ever."""

import time
import unittest

from harness import Agent, LabTestCase, app_connect, node_of, wait_for


class Maint(LabTestCase):
    def test_maint_closes_the_nodes_sessions_after_the_grace(self):
        with Agent(self.lab, balancer_config='maint_grace = "3s"') as agent:
            name = agent.node_status(3)["name"]
            held = [app_connect(agent.port) for _ in range(6)]
            on_node, elsewhere = [], []
            for c in held:
                (on_node if node_of(c) == name else elsewhere).append(c)
            self.assertEqual(len(on_node), 2)

            r = agent.galeratop("maint", name)
            put_at = time.monotonic()
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(agent.node_status(3)["admin"], "maint")
            # Within the grace the sessions still work.
            for c in on_node:
                with c.cursor() as cur:
                    cur.execute("SELECT 1")
            self.assertLess(time.monotonic() - put_at, 3.0, "the check above must run inside the grace")

            wait_for(lambda: agent.node_status(3)["connections"] == 0, 15, "the sessions to be closed")
            closed_after = time.monotonic() - put_at
            print(f"{name}'s 2 sessions closed {closed_after:.1f} s after maint (grace 3s)")
            self.assertGreaterEqual(closed_after, 3.0)
            for c in on_node:
                with self.assertRaises(Exception), c.cursor() as cur:
                    cur.execute("SELECT 1")
            # The other nodes' sessions are untouched.
            for c in elsewhere:
                with c.cursor() as cur:
                    cur.execute("SELECT 1")
                c.close()
            self.assertTrue(any(f"node {name}: closing 2 client session(s) because it is in maintenance" in t
                                for _, _, t in agent.lines()))

            self.assertEqual(agent.galeratop("ready", name).returncode, 0)
            wait_for(lambda: agent.node_status(3)["eligible"], 10, "the node back in rotation")


if __name__ == "__main__":
    unittest.main()
