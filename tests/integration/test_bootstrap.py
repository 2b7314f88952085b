"""A whole-cluster outage: galeratopd names the node to bootstrap (the highest seqno of the
last Primary component), remembers it across its own restart, and starting that node with
--wsrep-new-cluster brings the cluster back with every committed row."""

import unittest

from harness import Agent, LabTestCase, app_connect, node_name_via, wait_for


class Bootstrap(LabTestCase):
    def test_the_bootstrap_candidate_brings_the_cluster_back(self):
        self.lab.sql(1, "CREATE TABLE IF NOT EXISTS app.reboot (id INT PRIMARY KEY, stopped VARCHAR(16))")
        self.lab.sql(1, "DELETE FROM app.reboot")
        with Agent(self.lab, metrics=True) as agent:
            # The seed's graceful reboot, with writes going on while nodes leave one by one:
            # the last node to leave has seen every commit.
            order = (1, 3, 2)
            survivor = self.lab.node(order[-1])
            for step, i in enumerate(order):
                self.lab.sql(i, f"INSERT INTO app.reboot VALUES ({step}, 'before {i}')")
                seqno = self.lab.status(i)["wsrep_last_committed"]
                node = self.lab.node(i)
                wait_for(lambda: agent.samples("mysql_global_status_wsrep_last_committed",
                                               address=f"127.0.0.1:{node['port']}") == [float(seqno)],
                         10, "galeratopd to see the last commit")
                self.lab.stop_node(i)
            wait_for(lambda: agent.samples("galeratop_node_state", state="down") == [1.0, 1.0, 1.0], 10,
                     "every node down")

            candidate = wait_for(lambda: agent.samples_labels("galeratop_bootstrap_candidate"), 10,
                                 "a bootstrap candidate")
            self.assertEqual(candidate[0]["address"], f"127.0.0.1:{survivor['port']}")
            # Galera agrees: the survivor's grastate.dat is the one marked safe.
            safe = [n["index"] for n in self.lab.nodes if self.lab.safe_to_bootstrap(n["index"])]
            self.assertEqual(safe, [survivor["index"]])
            self.assertIn("cluster_down", agent.advisories())
            logged = [text for _, _, text in agent.lines() if text.startswith("advisory cluster_down")]
            self.assertIn(f"bootstrap {survivor['name']}", logged[-1])
            print(logged[-1])

            # galeratopd restarts during the outage: the memory in its state directory still names the node.
            self.assertEqual(agent.stop(), 0)
            agent.start(wait_eligible=0)
            candidate = wait_for(lambda: agent.samples_labels("galeratop_bootstrap_candidate"), 10,
                                 "the candidate after a restart")
            self.assertEqual(candidate[0]["address"], f"127.0.0.1:{survivor['port']}")

            self.lab.bootstrap_node(survivor["index"])
            wait_for(lambda: survivor["port"] in agent.eligible_now(), 60, "the bootstrapped node to be eligible")
            self.assertEqual(node_name_via(agent.port), survivor["name"])
            with app_connect(agent.port) as c, c.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM reboot")
                self.assertEqual(cur.fetchone()[0], len(order))
            wait_for(lambda: not agent.samples_labels("galeratop_bootstrap_candidate"), 10, "the candidate to go")
            for i in order[:-1]:
                self.lab.start_node(i)


if __name__ == "__main__":
    unittest.main()
