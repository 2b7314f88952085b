"""`galeratop health`, the probe keepalived's track_script runs: exit 0 only while galeratopd
answers and would send a new client to some node; exit 1 when no node is eligible or the
agent is gone."""

import unittest

from harness import Agent, LabTestCase, wait_for


class Health(LabTestCase):
    def test_healthy_only_while_the_agent_answers_and_a_node_is_eligible(self):
        with Agent(self.lab) as agent:
            r = wait_for(lambda: (r := agent.galeratop("health")).returncode == 0 and r, 5, "health to pass")
            self.assertIn("healthy: 3 of 3 node(s) eligible", r.stdout)
            for name in ("node1", "node2"):
                self.assertEqual(agent.galeratop("drain", name).returncode, 0)
            r = agent.galeratop("health")
            self.assertEqual(r.returncode, 0)
            self.assertIn("1 of 3", r.stdout)
            self.assertEqual(agent.galeratop("drain", "node3", "--force").returncode, 0)
            r = wait_for(lambda: (r := agent.galeratop("health")).returncode == 1 and r, 5, "health to fail")
            self.assertIn("unhealthy: no node is eligible (3 configured)", r.stderr)
            for name in ("node1", "node2", "node3"):
                agent.galeratop("ready", name)
            wait_for(lambda: agent.galeratop("health").returncode == 0, 5, "health to pass again")
        r = agent.galeratop("health")  # the agent is gone
        self.assertEqual(r.returncode, 1)
        self.assertIn("galeratop:", r.stderr)


if __name__ == "__main__":
    unittest.main()
