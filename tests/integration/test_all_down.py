"""With every node down a client is held for [balancer] hold, then gets the `galeratop: ` error,
not a reset or a hang; past hold_limit it gets the error at once; a client held when a node
comes back is served by it."""

import signal
import socket
import threading
import time
import unittest

from harness import Agent, LabTestCase, mariadb_cli, node_name_via, wait_for

HOLD = 1.5


class AllDown(LabTestCase):
    def test_all_nodes_down_holds_then_refuses_clearly_and_a_held_client_is_served_when_one_is_back(self):
        with Agent(self.lab, balancer_config=f'hold = "{int(HOLD * 1000)}ms"\nhold_limit = 2\n') as agent:
            # Stopped in this order, node 1 is the last and so the safe one to bootstrap from.
            for i in (3, 2, 1):
                self.lab.stop_node(i)
            wait_for(lambda: agent.eligible_now() == [], 5, "every node to be excluded")

            started = time.monotonic()
            r = mariadb_cli(agent.port, "SELECT 1", timeout=10)
            elapsed = time.monotonic() - started
            print(f"held, then answered after {elapsed * 1000:.0f} ms (hold {HOLD * 1000:.0f} ms): {r.stderr.strip()}")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("galeratop: no Galera node is available (3 configured: 3 down)", r.stderr)
            self.assertIn("1047", r.stderr)
            self.assertGreaterEqual(elapsed, HOLD)  # the error comes at the hold's end, not before
            self.assertLess(elapsed, HOLD + 1.0)

            # Two clients fill hold_limit; the third is refused at once, saying why.
            waiting = [socket.create_connection(("127.0.0.1", agent.port), timeout=10) for _ in range(2)]
            for s in waiting:
                self.addCleanup(s.close)
            wait_for(lambda: agent.status()["frontend"]["waiting"] == 2, 5, "two clients held")
            started = time.monotonic()
            r = mariadb_cli(agent.port, "SELECT 1", timeout=10)
            at_once = time.monotonic() - started
            print(f"past hold_limit: answered after {at_once * 1000:.0f} ms: {r.stderr.strip()}")
            self.assertIn("and 2 client(s) are held already (hold_limit)", r.stderr)
            self.assertLess(at_once, HOLD)
            for s in waiting:  # each gets its ERR packet at its hold's end
                self.assertEqual(s.recv(4096)[4], 0xFF)
            # The status is the snapshot published every interval: it may lag a moment.
            wait_for(lambda: agent.status()["frontend"]["waits_refused_total"] == 4, 5, "four refused holds counted")
            frontend = agent.status()["frontend"]
            self.assertEqual(frontend["waits_served_total"], 0)
            self.assertGreaterEqual(frontend["longest_wait_seconds"], HOLD)
            # The events log tells refusals a burst at a time: the first at once (the rest of a
            # burst once per 5 s, unit-tested), with the error they got.
            refused = agent.wait_event(lambda e: e["kind"] == "rejected", 5, "the refusals' event")
            print(f"event: {refused['message']}")
            self.assertRegex(refused["message"], r"^[1-4] client\(s\) refused: [1-4] with ERR 1047 \(no node could take them\)$")

            # A long hold, by a reload: a client that arrives now is served once node 1 is back.
            agent.write_config(balancer='hold = "60s"\n')
            agent.signal(signal.SIGHUP)
            wait_for(lambda: agent.status()["frontend"]["hold_seconds"] == 60, 10, "the reload")
            served = {}
            client = threading.Thread(target=lambda: served.update(node=node_name_via(agent.port)), daemon=True)
            client.start()
            wait_for(lambda: agent.status()["frontend"]["waiting"] == 1, 5, "the client held")
            self.lab.bootstrap_node(1)
            client.join(60)
            first = self.lab.node(1)
            self.assertEqual(served.get("node"), first["name"])
            wait_for(lambda: agent.status()["frontend"]["waits_served_total"] == 1, 5, "the served hold counted")
            print(f"held while node 1 bootstrapped: served by {served['node']} after "
                  f"{agent.status()['frontend']['longest_wait_seconds']:.1f} s")
            self.lab.start_node(2)
            self.lab.start_node(3)


if __name__ == "__main__":
    unittest.main()
