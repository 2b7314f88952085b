"""A node cut off into a non-Primary partition (gmcast.isolate=1) is excluded, its open sessions
are closed, the cluster model reports the split (advisory `partitioned`, two partitions), and the
node is readmitted and the advisory cleared after it rejoins."""

import threading
import time
import unittest

from harness import Agent, LabTestCase, app_connect, wait_for


class Isolate(LabTestCase):
    def tearDown(self):
        self.lab.isolate(3, False)
        super().tearDown()

    def test_isolated_node_is_excluded_and_its_sessions_closed(self):
        target = self.lab.node(3)
        with Agent(self.lab, metrics=True) as agent:
            # Open sessions until one lands on the node to be isolated.
            held = [app_connect(agent.port) for _ in range(3)]
            on_target = []
            for c in held:
                with c.cursor() as cur:
                    cur.execute("SELECT @@wsrep_node_name")
                    if cur.fetchone()[0] == target["name"]:
                        on_target.append(c)
            self.assertEqual(len(on_target), 1)
            outcome = {}

            def sleeper():
                try:
                    with on_target[0].cursor() as cur:
                        cur.execute("SELECT SLEEP(60)")
                    outcome["error"] = None
                except Exception as e:
                    outcome["error"] = repr(e)
                outcome["at"] = time.time()

            t = threading.Thread(target=sleeper)
            t.start()
            isolated_at = time.time()
            self.lab.isolate(3, True)
            excluded = agent.wait_transition(target["port"], lambda x: x[1] == "non_primary", 30,
                                             "non_primary exclusion", after=isolated_at)
            t.join(10)
            self.assertFalse(t.is_alive(), "the session on the isolated node was not closed")
            self.assertIsNotNone(outcome["error"], "the session on the isolated node ended without an error")
            self.assertLess(outcome["at"] - excluded[0], 1.0)
            print(f"non-Primary seen {excluded[0] - isolated_at:.1f} s after isolation; session closed "
                  f"{(outcome['at'] - excluded[0]) * 1000:.0f} ms after exclusion")
            for c in held:
                if c is not on_target[0]:
                    with c.cursor() as cur:  # the other nodes' sessions are untouched
                        cur.execute("SELECT 1")
                c.close()

            wait_for(lambda: agent.samples("galeratop_cluster_partitions") == [2.0], 10, "two partitions")
            advisories = wait_for(lambda: "partitioned" in agent.advisories() and agent.advisories(), 10,
                                  "the partitioned advisory")
            self.assertEqual(advisories["partitioned"], {target["name"]})

            self.lab.isolate(3, False)
            readmitted = agent.wait_transition(target["port"], lambda x: x[2] == "eligible", 60, "readmission",
                                               after=excluded[0])
            status = self.lab.status(3)
            self.assertEqual(status["wsrep_cluster_status"], "Primary")
            print(f"readmitted {readmitted[0] - excluded[0]:.1f} s after exclusion")
            wait_for(lambda: "partitioned" not in agent.advisories(), 30, "the partitioned advisory to clear")
            self.assertEqual(agent.samples("galeratop_cluster_partitions"), [1.0])


if __name__ == "__main__":
    unittest.main()
