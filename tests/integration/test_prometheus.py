"""A real Prometheus server scrapes galeratopd every second: it sees the live connection count,
a desynced node's wsrep_local_state within two scrapes, and a live scrape passes promtool. The
shipped alert rules load and evaluate on the live series (a desynced node makes
GaleratopNodeExcluded pending), and every query of the shipped dashboard runs."""

import json
import subprocess
import time
import unittest
from pathlib import Path

from harness import Agent, LabTestCase, Prometheus, app_connect, wait_for

EXPORTERS = Path(__file__).resolve().parents[2] / "exporters"
RULES = EXPORTERS / "alerts" / "galeratop.rules.yml"
DASHBOARD = EXPORTERS / "grafana" / "galeratop-dashboard.json"


def dashboard_queries():
    def walk(panels):
        for p in panels:
            yield from walk(p.get("panels", []))
            for t in p.get("targets", []):
                yield p["title"], t["expr"]
    return list(walk(json.loads(DASHBOARD.read_text())["panels"]))


class PrometheusScrape(LabTestCase):
    def tearDown(self):
        self.lab.desync(2, False)
        super().tearDown()

    def test_prometheus_sees_connections_and_desync(self):
        with Agent(self.lab, metrics=True) as agent, \
                Prometheus(agent.dir, agent.metrics_port, rule_files=[RULES]) as prom:
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

            # The shipped rule joins eligibility and admin state on the live labels: node 2 is
            # ready by intent but kept out by health, so its alert is pending (it fires after 2m).
            def excluded_alerts():
                return [a for a in prom.api("alerts")["alerts"] if a["labels"]["alertname"] == "GaleratopNodeExcluded"]
            pending = wait_for(excluded_alerts, 15, "GaleratopNodeExcluded to be pending")
            self.assertEqual([(a["state"], a["labels"]["address"]) for a in pending],
                             [("pending", f"127.0.0.1:{node['port']}")])
            self.lab.desync(2, False)
            wait_for(lambda: not excluded_alerts(), 15, "GaleratopNodeExcluded to clear after the desync")

            groups = prom.api("rules")["groups"]
            rules = [r for g in groups for r in g["rules"]]
            self.assertEqual(len(rules), RULES.read_text().count("- alert:"))
            unhealthy = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
            self.assertEqual(unhealthy, [])

            # Every dashboard query runs on the live series as Grafana would send it; the
            # panels that describe healthy nodes return one series per node.
            target = f"127.0.0.1:{agent.metrics_port}"
            results = {}
            for title, expr in dashboard_queries():
                concrete = expr.replace("$instance", target).replace("$__rate_interval", "1m")
                results.setdefault(title, []).extend(prom.query(concrete))
            per_node = {"Galera state": 3, "Connection spread": 3, "Monitor poll latency": 6,
                        "Last committed lag": 3, "Receive and send queues": 6}
            self.assertEqual({t: len(results[t]) for t in per_node}, per_node)
            self.assertEqual([v for _, v in results["Galera state"]], [1.0, 1.0, 1.0])  # 1 = synced
            self.assertEqual([v for _, v in results["Cluster size"]], [3.0])

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
