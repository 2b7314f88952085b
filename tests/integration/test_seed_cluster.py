"""The seed's own cluster: two nodes, no arbitrator, both configured with
wsrep_node_name="galera-db-01". galeratopd reports both mistakes; adding garbd clears the
two-node advisory (the duplicate name stays until it is fixed). This test runs its own
2-node lab beside the shared one."""

import tempfile
import unittest

from harness import Agent, galera_lab, wait_for


class SeedCluster(unittest.TestCase):
    def setUp(self):
        root = tempfile.mkdtemp(prefix="galeratop-seed-", dir="/tmp")
        self.lab = galera_lab.Lab.create(root, nodes=2, cluster_name="seed",
                                         node_names=["galera-db-01", "galera-db-01"])
        self.addCleanup(self.lab.destroy)
        self.lab.start()

    def test_two_nodes_without_arbitrator_and_a_duplicated_name_are_reported(self):
        with Agent(self.lab, metrics=True) as agent:
            addresses = {f"127.0.0.1:{n['port']}" for n in self.lab.nodes}
            advisories = wait_for(lambda: "two_node_no_arbitrator" in agent.advisories() and agent.advisories(),
                                  30, "two_node_no_arbitrator")
            self.assertEqual(advisories["duplicate_node_name"], addresses)
            self.assertEqual(agent.samples("galeratop_cluster_size"), [2.0])
            lines = [text for _, _, text in agent.lines() if text.startswith("advisory ")]
            print("\n".join(lines))

            self.lab.start_garbd()
            wait_for(lambda: agent.samples("galeratop_cluster_size") == [3.0], 10, "garbd as a third member")
            wait_for(lambda: "two_node_no_arbitrator" not in agent.advisories(), 30, "the advisory to clear")
            after = agent.advisories()
            self.assertEqual(after.get("duplicate_node_name"), addresses)
            self.assertNotIn("member_not_configured", after)  # the arbitrator takes no clients


if __name__ == "__main__":
    unittest.main()
