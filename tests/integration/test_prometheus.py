"""A real Prometheus server scrapes galeratopd every second: it sees the live connection count,
a desynced node's wsrep_local_state within two scrapes, and a live scrape passes promtool."""

import subprocess
import time
import unittest

from harness import Agent, LabTestCase, Prometheus, app_connect, wait_for


class PrometheusScrape(LabTestCase):
    def tearDown(self):
        self.lab.desync(2, False)
        super().tearDown()

    def test_prometheus_sees_connections_and_desync(self):
        with Agent(self.lab, metrics=True) as agent, Prometheus(agent.dir, agent.metrics_port) as prom:
            wait_for(lambda: prom.query("up{job='galeratopd'} == 1"), 30, "the first successful scrape")

            sessions = [app_connect(agent.port) for _ in range(6)]
            try:
                total = wait_for(lambda: prom.query("sum(galeratop_node_current_connections) == 6"), 15,
                                 "Prometheus to see 6 connections")
                self.assertEqual(total[0][1], 6.0)
                spread = {m["node"]: v for m, v in prom.query("galeratop_node_current_connections")}
                print(f"connections per node as Prometheus sees them: {spread}")
                self.assertEqual(sorted(spread.values()), [2.0, 2.0, 2.0])
            finally:
                for c in sessions:
                    c.close()
            wait_for(lambda: prom.query("sum(galeratop_node_current_connections) == 0"), 15,
                     "the connections to close")

            node = self.lab.node(2)
            selector = f'mysql_global_status_wsrep_local_state{{address="127.0.0.1:{node["port"]}"}}'
            self.lab.desync(2, True)
            desynced_at = time.time()
            wait_for(lambda: prom.query(f"{selector} == 2"), 15, "Prometheus to see local_state 2")
            # Count scrapes, not seconds: how many samples after the desync still read 4?
            samples = prom.api("query", query=f"{selector}[30s]")["result"][0]["values"]
            after = [(float(t), float(v)) for t, v in samples if float(t) > desynced_at]
            stale = [s for s in after if s[1] != 2.0]
            print(f"samples after the desync: {after[:4]}")
            self.assertLessEqual(len(stale), 1, f"still 4 after the desync in {len(stale)} scrapes: {after}")
            self.lab.desync(2, False)

            scrape = agent.scrape()
            check = subprocess.run(["promtool", "check", "metrics"], input=scrape, capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            self.assertEqual((check.stdout + check.stderr).strip(), "")
            for family in ("mysql_up", "mysql_global_status_wsrep_cluster_size", "galeratop_node_eligible",
                           "galeratop_monitor_poll_seconds_bucket", "galeratop_cluster_partitions",
                           "galeratop_build_info"):
                self.assertIn(f"\n{family}", scrape)


if __name__ == "__main__":
    unittest.main()
