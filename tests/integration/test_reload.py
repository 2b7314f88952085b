"""SIGHUP adds and removes nodes without dropping an open session; a bad configuration at SIGHUP
is refused, logged with file, line and key, and service continues."""

import json
import os
import signal
import subprocess
import threading
import time
import unittest

from harness import Agent, LabTestCase, app_connect, node_name_via, wait_for


class Reload(LabTestCase):
    def test_a_follower_of_the_events_sees_each_reload_with_who_asked_and_ends_with_the_agent(self):
        with Agent(self.lab) as agent:
            follower = subprocess.Popen([os.environ["GALERATOP"], "--control", str(agent.control), "events", "--follow",
                                         "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.addCleanup(lambda: follower.poll() is None and follower.kill())
            seen = []
            reader = threading.Thread(target=lambda: seen.extend(json.loads(l) for l in follower.stdout), daemon=True)
            reader.start()
            wait_for(lambda: any(e["kind"] == "eligibility" for e in seen), 10, "the start's events")
            agent.signal(signal.SIGHUP)
            self.assertEqual(agent.galeratop("reload").returncode, 0)
            reloads = wait_for(lambda: [e for e in seen if e["kind"] == "reload"][1:] and
                               [e for e in seen if e["kind"] == "reload"], 10, "both reloads followed")
            self.assertEqual([(e["message"], e["who"].split(" (pid")[0]) for e in reloads],
                             [("configuration reloaded: 3 node(s)", "SIGHUP"),
                              ("configuration reloaded: 3 node(s)", f"uid {os.getuid()}")])
            seqs = [e["seq"] for e in seen]
            self.assertEqual(seqs, list(range(1, len(seqs) + 1)))  # each once, in order, none missed
        # The agent stopped: the follower says so and exits 1.
        self.assertEqual(follower.wait(15), 1)
        reader.join(5)
        self.assertIn("galeratop:", follower.stderr.read())

    def test_reload_adds_and_removes_nodes_without_dropping_a_session(self):
        n1, n2, n3 = (self.lab.node(i) for i in (1, 2, 3))
        agent = Agent(self.lab, nodes=[1, 2])
        with agent:
            conn = app_connect(agent.port)
            with conn.cursor() as cur:
                cur.execute("SELECT @@wsrep_node_name")
                sleeping_on = cur.fetchone()[0]
            result = {}

            def sleeper():
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT SLEEP(5), @@wsrep_node_name")
                        result["row"] = cur.fetchone()
                except Exception as e:
                    result["error"] = repr(e)

            t = threading.Thread(target=sleeper)
            t.start()
            # Remove the node the session is on, and add node 3.
            kept = n2 if sleeping_on == n1["name"] else n1
            agent.write_config(nodes=[kept["index"], 3])
            reload_at = time.time()
            agent.signal(signal.SIGHUP)
            wait_for(lambda: any("configuration reloaded" in l[2] for l in agent.lines() if l[0] >= reload_at - 1), 5,
                     "the reload")
            wait_for(lambda: n3["port"] in agent.eligible_now(), 10, "the added node to be eligible")
            names = {node_name_via(agent.port) for _ in range(6)}
            self.assertEqual(names, {kept["name"], n3["name"]})
            t.join(15)
            self.assertNotIn("error", result)
            self.assertEqual(result["row"], (0, sleeping_on))
            conn.close()

            # A broken file is refused whole; the running configuration stays.
            agent.config_path.write_text(agent.config_path.read_text().replace('interval = "250ms"', 'interval = "fast"'))
            bad_at = time.time()
            agent.signal(signal.SIGHUP)
            refusal = wait_for(lambda: [l for l in agent.lines() if l[0] >= bad_at - 1 and "reload refused" in l[2]], 5,
                               "the refusal")
            print(refusal[0][2])
            self.assertIn(str(agent.config_path), refusal[0][2])
            self.assertRegex(refusal[0][2], r"galeratopd\.toml:\d+: monitor\.interval: expected a duration")
            self.assertEqual({node_name_via(agent.port) for _ in range(6)}, {kept["name"], n3["name"]})
            self.assertIsNone(agent.proc.poll())


if __name__ == "__main__":
    unittest.main()
