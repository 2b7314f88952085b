"""A desynced (Donor/Desynced) node is avoided within 1 s and served again after it resyncs."""

import time
import unittest

from harness import Agent, LabTestCase, node_name_via, wait_for


class Desync(LabTestCase):
    def tearDown(self):
        self.lab.desync(3, False)
        super().tearDown()

    def test_desynced_node_gets_no_new_sessions_then_returns(self):
        target = self.lab.node(3)
        with Agent(self.lab) as agent:
            self.lab.desync(3, True)
            time.sleep(1.0)  # the bound: within 1 s of the desync no new session may land on it
            names = [node_name_via(agent.port) for _ in range(20)]
            self.assertNotIn(target["name"], names)
            self.assertEqual(len(names), 20)
            t = agent.transitions(target["port"])[-1]
            self.assertEqual((t[1], t[2]), ("donor", "avoided"), t[3])

            self.lab.desync(3, False)
            wait_for(lambda: target["port"] in agent.eligible_now(), 5, "the resynced node to be eligible again")
            names = [node_name_via(agent.port) for _ in range(9)]
            self.assertIn(target["name"], names)


if __name__ == "__main__":
    unittest.main()
