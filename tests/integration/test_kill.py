"""kill -9 of a node under load. Under a short-session load: excluded within 1 s and down (its
sessions closed) within 1 s, never merely suspect; no request fails after that, and the node is
readmitted once it has rejoined. Under sessions of its own (a second agent in front of that node
alone): the client of a running statement is told at once, in galeratop's words, that its
outcome is unknown, the idle ones at their next statement, pymysql and the mariadb CLI alike.
One kill for both: a node's rejoin is what this test costs, and it runs on each relay backend."""

import time
import unittest

from harness import Agent, LabTestCase, ShortSessionLoad, wait_for
from test_session_aware import SessionsUnderAKill

VICTIM = 2


class Kill(LabTestCase):
    def test_killed_node_is_excluded_at_once_requests_keep_succeeding_and_its_clients_are_told(self):
        victim = self.lab.node(VICTIM)
        with Agent(self.lab) as agent, Agent(self.lab, nodes=[VICTIM]) as alone, \
                ShortSessionLoad(agent.port, threads=4, duration=90) as load:
            wait_for(lambda: load.ok >= 50, 30, "the load to run")
            sessions = SessionsUnderAKill(self.lab, alone, VICTIM)
            killed_at, killed_at_monotonic = time.time(), time.monotonic()
            self.lab.kill(VICTIM)
            excluded = agent.wait_transition(victim["port"], lambda t: t[2] != "eligible", 5, "exclusion",
                                             after=killed_at - 0.01)
            exclusion = excluded[0] - killed_at
            print(f"excluded {exclusion * 1000:.0f} ms after kill -9 ({excluded[3]})")
            self.assertLess(exclusion, 1.0)
            # A dead node's side resets the monitor's connection and refuses the next: that is proof,
            # not a late answer, so it is down (its sessions closed) at once, never only suspect.
            down = agent.wait_transition(victim["port"], lambda t: t[1] == "down", 5, "down", after=killed_at - 0.01)
            print(f"down {(down[0] - killed_at) * 1000:.0f} ms after kill -9 ({down[3]})")
            self.assertLess(down[0] - killed_at, 1.0)
            self.assertFalse([t for t in agent.transitions(victim["port"]) if t[0] >= killed_at and t[2] == "suspect"])
            # The events log says it too, within a second, with the cause.
            event = agent.wait_event(lambda e: e["node"] == victim["name"] and "-> down" in e["message"]
                                     and e["at"] >= killed_at - 0.01, 5, "the kill's event")
            print(f"event {(event['at'] - killed_at) * 1000:.0f} ms after kill -9: {event['node']}: {event['message']}")
            self.assertLess(event["at"] - killed_at, 1.0)
            sessions.check(self, killed_at_monotonic)

            ok_before = load.ok
            wait_for(lambda: load.ok >= ok_before + 200, 60, "200 more requests after the exclusion")
            self.assertEqual(load.failures_after(excluded[0] + 0.001), [])

            self.lab.start_node(VICTIM)
            agent.wait_transition(victim["port"], lambda t: t[2] == "eligible", 60, "readmission",
                                  after=excluded[0])
            served = load.by_node.get(victim["name"], 0)
            wait_for(lambda: load.by_node.get(victim["name"], 0) > served, 10, "the rejoined node to serve again")
        print(f"requests ok {load.ok}, failed {len(load.failures)}, all started before the exclusion: {load.failures}")


if __name__ == "__main__":
    unittest.main()
