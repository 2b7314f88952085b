"""A frozen node (SIGSTOP: TCP still accepted, no greeting ever) costs no client more than the
connect timeout; after SIGCONT its stale Synced view does not readmit it before it is truly Synced."""

import time
import unittest

from harness import Agent, LabTestCase, ShortSessionLoad, app_connect, wait_for

CONNECT_TIMEOUT = 1.0


class Freeze(LabTestCase):
    def test_frozen_node_costs_at_most_the_connect_timeout_and_thaw_waits_for_a_real_sync(self):
        target = self.lab.node(2)
        with Agent(self.lab) as agent:
            frozen_at = time.time()
            self.lab.freeze(2)
            waits = []
            # Long enough for the peers to evict it (~6 s), so the thawed node's view is stale.
            while time.time() - frozen_at < 12:
                started = time.monotonic()
                with app_connect(agent.port, timeout=10) as c, c.cursor() as cur:
                    cur.execute("SELECT @@wsrep_node_name")
                    self.assertNotEqual(cur.fetchone()[0], target["name"])
                waits.append(time.monotonic() - started)
            print(f"{len(waits)} clients during the freeze, longest wait {max(waits) * 1000:.0f} ms")
            self.assertLess(max(waits), CONNECT_TIMEOUT + 0.5)
            wait_for(lambda: self.lab.status(1)["wsrep_cluster_size"] == "2", 20, "the peers to evict the frozen node")
            peers_conf = int(self.lab.status(1)["wsrep_cluster_conf_id"])

            with ShortSessionLoad(agent.port, threads=2, duration=60) as load:
                thawed_at = time.time()
                self.lab.thaw(2)
                readmitted = agent.wait_transition(target["port"], lambda t: t[2] == "eligible", 60,
                                                   "readmission", after=thawed_at)
                status = self.lab.status(2)
                # Readmitted only through a real rejoin: it passed through non-Primary or a newer configuration.
                between = [t for t in agent.transitions(target["port"]) if thawed_at <= t[0] < readmitted[0]]
                print("after thaw:", *[f"{t[0] - thawed_at:.2f}s {t[1]} {t[2]}" for t in between],
                      f"{readmitted[0] - thawed_at:.2f}s readmitted", sep="\n  ")
                self.assertTrue(any(t[1] in ("non_primary", "joined", "joining", "down") for t in between)
                                or int(status["wsrep_cluster_conf_id"]) > peers_conf, between)
                self.assertEqual(status["wsrep_local_state_comment"], "Synced")
                self.assertEqual(status["wsrep_cluster_size"], "3")
                served = load.by_node.get(target["name"], 0)
                wait_for(lambda: load.by_node.get(target["name"], 0) > served + 5, 20, "the thawed node to serve")
            self.assertEqual(load.failures_after(thawed_at), [])


if __name__ == "__main__":
    unittest.main()
