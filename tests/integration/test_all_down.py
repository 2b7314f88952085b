"""With every node down a client gets the `galeratop: ` error at once, not a reset or a hang;
service resumes as soon as a node is back."""

import time
import unittest

from harness import Agent, LabTestCase, mariadb_cli, node_name_via, wait_for


class AllDown(LabTestCase):
    def test_all_nodes_down_gives_a_clear_error_then_service_resumes(self):
        with Agent(self.lab) as agent:
            # Stopped in this order, node 1 is the last and so the safe one to bootstrap from.
            for i in (3, 2, 1):
                self.lab.stop_node(i)
            wait_for(lambda: agent.eligible_now() == [], 5, "every node to be excluded")

            started = time.monotonic()
            r = mariadb_cli(agent.port, "SELECT 1", timeout=10)
            elapsed = time.monotonic() - started
            print(f"client answered in {elapsed * 1000:.0f} ms: {r.stderr.strip()}")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("galeratop: no Galera node is available (3 configured: 3 down)", r.stderr)
            self.assertIn("1047", r.stderr)
            self.assertLess(elapsed, 1.0)

            self.lab.bootstrap_node(1)
            first = self.lab.node(1)
            wait_for(lambda: first["port"] in agent.eligible_now(), 60, "the bootstrapped node to be eligible")
            self.assertEqual(node_name_via(agent.port), first["name"])
            self.lab.start_node(2)
            self.lab.start_node(3)


if __name__ == "__main__":
    unittest.main()
