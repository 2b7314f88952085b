#!/usr/bin/env python3
"""The alert rules and the Grafana dashboard ship with galeratopd: the rules must pass
promtool's checks and their own unit tests, every query of both must parse and may
name only metric families the exporter builds, and every dashboard query must be
scoped to the chosen agent; galeratopd(8) names every alert. A renamed metric fails
here, not on a user's screen."""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

METRIC = re.compile(r"\b((?:galeratop|mysql)_[a-z0-9_]+)\b")


def exported_families(source):
    """Family names metric_families.cpp builds, with a histogram's series suffixes."""
    cpp = (source / "exporters" / "metric_families.cpp").read_text()
    names = set(re.findall(r'"((?:galeratop|mysql)_[a-z0-9_]+)"', cpp))
    wsrep = re.search(r"exported_wsrep\{(.*?)\};", cpp, re.S)
    if not wsrep:
        raise SystemExit("could not read exported_wsrep in metric_families.cpp")
    names |= {f"mysql_global_status_{v}" for v in re.findall(r'"(wsrep_\w+)"', wsrep.group(1))}
    for h in re.findall(r'out\.get\("(\w+)",[^;]*MetricType::Histogram', cpp, re.S):
        names |= {f"{h}_bucket", f"{h}_sum", f"{h}_count"}
    return names


def dashboard_queries(dashboard):
    def walk(panels):
        for p in panels:
            yield from walk(p.get("panels", []))
            for t in p.get("targets", []):
                yield p["title"], t["expr"]
    return list(walk(dashboard["panels"]))


def main(promtool, source_dir):
    source = Path(source_dir)
    alerts = source / "exporters" / "alerts"
    problems = []
    for args in (["check", "rules", "galeratop.rules.yml"], ["test", "rules", "galeratop.rules.test.yml"]):
        r = subprocess.run([promtool, *args], cwd=alerts, capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"promtool {' '.join(args)}:\n{r.stdout}{r.stderr}")

    families = exported_families(source)
    rules = (alerts / "galeratop.rules.yml").read_text()
    rule_exprs = re.findall(r"^\s+expr: (?:>-\n)?(.*?)\n\s+(?:for|labels):", rules, re.S | re.M)
    if len(rule_exprs) != rules.count("- alert:"):
        problems.append(f"read {len(rule_exprs)} expressions for {rules.count('- alert:')} alerts")

    man = (source / "man" / "galeratopd.8").read_text()
    for alert in re.findall(r"- alert: (\w+)", rules):
        if alert not in man:
            problems.append(f"galeratopd.8 does not name the alert {alert}")

    dashboard = json.loads((source / "exporters" / "grafana" / "galeratop-dashboard.json").read_text())
    queries = dashboard_queries(dashboard)
    if not queries:
        problems.append("the dashboard has no queries")
    for title, expr in queries:
        if '$instance' not in expr:
            problems.append(f"dashboard panel {title!r} is not scoped to $instance: {expr}")

    for where, expr in [("rule", e) for e in rule_exprs] + [(f"panel {t!r}", e) for t, e in queries]:
        for name in set(METRIC.findall(expr)) - families:
            problems.append(f"{where} uses {name}, which galeratopd does not export")

    # promtool parses recording rules, so every dashboard query is checked as one, with
    # Grafana's variables filled in the way Grafana would.
    with tempfile.TemporaryDirectory() as tmp:
        recorded = Path(tmp) / "dashboard.rules.yml"
        lines = ["groups:", "  - name: dashboard", "    rules:"]
        for i, (_, expr) in enumerate(queries):
            concrete = expr.replace("$instance", "127.0.0.1:9490").replace("$__rate_interval", "1m")
            lines += [f"      - record: dashboard:query{i}", f"        expr: {json.dumps(concrete)}"]
        recorded.write_text("\n".join(lines) + "\n")
        r = subprocess.run([promtool, "check", "rules", str(recorded)], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"a dashboard query does not parse:\n{r.stdout}{r.stderr}")

    for p in problems:
        print(p)
    print(f"alert rules and dashboard: {len(rule_exprs)} rules, {len(queries)} dashboard queries, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
