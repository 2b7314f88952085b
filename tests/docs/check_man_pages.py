#!/usr/bin/env python3
"""The man pages are the user documentation: they must render without warnings
and name every option galeratopd --help shows, every key its parser accepts,
every metric family the exporter builds, every advisory id the model raises,
every control command and error code, and every galeratop command, option and key."""

import re
import subprocess
import sys
from pathlib import Path


def main(galeratopd, source_dir, galeratop):
    source = Path(source_dir)
    problems = []
    for page in ("galeratopd.8", "galeratopd.toml.5", "galeratop.1"):
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(source / "man" / page)],
                           capture_output=True, text=True)
        if r.returncode != 0 or r.stderr.strip():
            problems.append(f"{page} does not render cleanly: {r.stderr.strip()}")

    eight = (source / "man" / "galeratopd.8").read_text().replace("\\-", "-")
    help_text = subprocess.run([galeratopd, "--help"], capture_output=True, text=True, check=True).stdout
    for flag in sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", help_text))):
        if not re.search(rf"{re.escape(flag)}(?![\w-])", eight):
            problems.append(f"galeratopd.8 does not document {flag}")

    five = (source / "man" / "galeratopd.toml.5").read_text().replace("\\-", "-")
    config_cpp = (source / "agent" / "config" / "config.cpp").read_text()
    tables = re.findall(r'\{"(agent|monitor|balancer|cluster|intents)",\s*\{(.*?)\n\s*\}\},', config_cpp, re.S)
    if len(tables) < 5:
        problems.append("could not read the key table of agent/config/config.cpp")
    for table, body in tables:
        for key in re.findall(r'\{"(\w+)",\s*(?:(?:string|endpoint|duration|integer|bool|choice|fraction)_key|\[\])',
                              body):
            section = five.split(f".SH [{table}]", 1)[-1].split(".SH ", 1)[0]
            if f".B {key}\n" not in section:
                problems.append(f"galeratopd.toml.5 [{table}] does not document {key}")
    for key in ("address", "name", "weight"):
        if f".B {key}\n" not in five.split(".SH [[node]]", 1)[-1]:
            problems.append(f"galeratopd.toml.5 [[node]] does not document {key}")

    def section_of(page, title):
        return page.split(f".SH {title}", 1)[-1].split("\n.SH ", 1)[0] if f".SH {title}" in page else ""

    metrics = section_of(eight, "METRICS")
    families = set(re.findall(r'"((?:galeratop|mysql)_[a-z_]+)"',
                              (source / "exporters" / "metric_families.cpp").read_text()))
    families.discard("mysql_global_status_")  # the prefix of the wsrep families, documented as a pattern
    if len(families) < 10:
        problems.append("could not read the metric families of exporters/metric_families.cpp")
    for family in sorted(families):
        if not re.search(rf"\b{family}\b", metrics):
            problems.append(f"galeratopd.8 METRICS does not document {family}")

    advisories = section_of(eight, "CLUSTER VIEW AND ADVISORIES")
    ids = re.findall(r'\{"(\w+)", severity::', (source / "agent" / "cluster" / "cluster_model.cpp").read_text())
    if len(ids) < 5:
        problems.append("could not read the advisory table of agent/cluster/cluster_model.cpp")
    for advisory_id in ids:
        if f".BR {advisory_id} " not in advisories:
            problems.append(f"galeratopd.8 does not document the advisory {advisory_id}")

    problems += check_control(source, eight, section_of)
    problems += check_client(source, galeratop)

    for p in problems:
        print(p)
    print(f"man pages: {len(problems)} problem(s)")
    return 1 if problems else 0


def check_control(source, eight, section_of):
    """Every protocol command and error code the code knows is in CONTROL PROTOCOL."""
    problems = []
    protocol = section_of(eight, "CONTROL PROTOCOL")
    proto_cpp = (source / "agent" / "control" / "control_protocol.cpp").read_text()
    commands = re.findall(r'\{control_command::\w+, "(\w+)"\}', proto_cpp)
    codes = set(re.findall(r'refuse\(\w+, "(\w+)"', proto_cpp))
    for path in sorted((source / "agent").rglob("*.cpp")):  # every answer the agent can give
        text = path.read_text()
        codes |= set(re.findall(r'control_fail\(\s*[^,{]+,\s*\{"(\w+)"', text))
        codes |= set(re.findall(r'error = \{"(\w+)"', text))
    if len(commands) < 5 or len(codes) < 8:
        problems.append(f"could not read the control commands ({len(commands)}) or error codes ({len(codes)})")
    for c in commands:
        if f'\\(dqcmd\\(dq:\\(dq{c}\\(dq' not in protocol:
            problems.append(f"galeratopd.8 CONTROL PROTOCOL does not document the command {c}")
    for code in sorted(codes):
        if not re.search(rf"\.BR? {code}\b", protocol):
            problems.append(f"galeratopd.8 CONTROL PROTOCOL does not document the error code {code}")
    return problems


def check_client(source, galeratop):
    """galeratop(1) names every command and option `galeratop --help` shows."""
    problems = []
    one = (source / "man" / "galeratop.1").read_text().replace("\\-", "-")
    top = subprocess.run([galeratop, "--help"], capture_output=True, text=True).stdout
    commands = re.findall(r"^  (\w+)\s{2,}", top.split("Subcommands:", 1)[-1], re.M)
    if len(commands) < 5:
        problems.append("could not read the subcommands of galeratop --help")
    texts = [top] + [subprocess.run([galeratop, c, "--help"], capture_output=True, text=True).stdout for c in commands]
    for c in commands:
        if f".B {c}" not in one and f".BI \"{c} " not in one and f".BR \"{c} " not in one:
            problems.append(f"galeratop.1 does not document the command {c}")
    keys = one.split(".SH KEYS", 1)[-1].split("\n.SH ", 1)[0]
    bindings = re.findall(r'key_binding\{"([^"]+)"', (source / "tui" / "key_map.cpp").read_text())
    if len(bindings) < 10:
        problems.append("could not read the key table of tui/key_map.cpp")
    for k in bindings:
        if not re.search(rf"(?m)^\.B .*{re.escape(k)}", keys):
            problems.append(f"galeratop.1 KEYS does not document the key {k}")
    for flag in sorted({f for t in texts for f in re.findall(r"(?<![\w-])--[a-z][a-z-]+", t)}):
        if not re.search(rf"{re.escape(flag)}(?![\w-])", one):
            problems.append(f"galeratop.1 does not document {flag}")
    return problems


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3]))
