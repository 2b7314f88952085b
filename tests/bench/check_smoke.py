#!/usr/bin/env python3
"""Runs `bench --smoke` and checks that its result is well formed: every workload measured
against every target, without errors, with rates, ratios, the observed run, the idle
connections held through both proxies and the idle CPU figure. Speed is
not judged here (rule 4): only that the harness still produces what docs/benchmarks.md needs.

The run has a baseline too: the same binary relaying with epoll (`--baseline-io-backend`),
unless a fourth argument names another binary. It costs two short measurements more and keeps
both relay backends and `--baseline` from rotting. With LAB_ROOT set (the suite's lab) it runs
on that lab instead of starting its own.
`check_smoke.py --check OUT` checks an existing smoke result without running it."""

import json
import os
import subprocess
import sys
from pathlib import Path


BASELINE = "galeratopd baseline"


def main(bench, galeratopd, out, baseline=None):
    r = subprocess.run([sys.executable, bench, "--smoke", "--galeratopd", galeratopd, "--out", out,
                        *(["--baseline", baseline] if baseline else ["--baseline-io-backend", "epoll"]),
                        *(["--lab-root", os.environ["LAB_ROOT"]] if os.environ.get("LAB_ROOT") else [])],
                       timeout=540)
    if r.returncode != 0:
        print(f"bench --smoke exited {r.returncode}")
        return 1
    return check(out)


def check(out):
    result = json.loads((Path(out) / "benchmarks-smoke.json").read_text())
    problems = []
    workloads = {row["workload"] for row in result["table"]}
    if workloads != {"oltp_point_select 8 threads", "short sessions 8 clients", "oltp_point_select 8 threads, observed"}:
        problems.append(f"workloads: {sorted(workloads)}")
    for row in result["table"]:
        if row["workload"].endswith(", observed"):
            g = row.get("galeratopd", {})
            if not row.get("ratio_vs_unobserved") or g.get("errors"):
                problems.append(f"{row['workload']}: no ratio to the unobserved run, or errors")
            runs = [r for r in result["runs"] if r["workload"] == row["workload"]]
            if not all(r["scrapes"] > 0 and r["status_requests"] > 0 for r in runs):
                problems.append(f"{row['workload']}: it was not scraped and asked for status")
            continue
        for target in ("no proxy", "haproxy", "galeratopd") + ((BASELINE,) if result["settings"]["baseline"] else ()):
            t = row.get(target)
            if not t or not t["rate_median"] > 0:
                problems.append(f"{row['workload']}: no rate for {target}")
            elif t["errors"]:
                problems.append(f"{row['workload']}: {t['errors']} error(s) via {target}")
        if not row["ratio_vs_haproxy"] or not row["ratio_vs_no_proxy"]:
            problems.append(f"{row['workload']}: ratios missing")
        if not row["galeratopd"]["cpu_us_per_query"] or not row["haproxy"]["cpu_us_per_query"]:
            problems.append(f"{row['workload']}: proxy CPU per query missing")
        if result["settings"]["baseline"] and not (
                row["ratio_vs_baseline"] and row["cpu_ratio_vs_baseline"]
                and len(row["ratios_vs_baseline"]) == result["settings"]["rounds"]):
            problems.append(f"{row['workload']}: ratios to the baseline missing")
    held = {h["target"]: h for h in result.get("idle_connections", [])}
    for target in ("haproxy", "galeratopd"):
        h = held.get(target)
        if not h or h["held"] != h["wanted"] or h["errors"] or h["sample_alive"] != h["sample_size"]:
            problems.append(f"idle connections via {target}: {h}")
    if not 0 <= result["idle_cpu_percent"] < 100:
        problems.append(f"idle CPU {result['idle_cpu_percent']}")
    table = (Path(out) / "benchmarks-smoke-table.md").read_text()
    if "| workload |" not in table:
        problems.append("the Markdown table is missing")
    if result["settings"]["baseline"] and "| workload | baseline /s |" not in table:
        problems.append("the Markdown table against the baseline is missing")
    for p in problems:
        print(p)
    print(f"bench smoke: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[2]) if sys.argv[1] == "--check" else main(*sys.argv[1:5]))
