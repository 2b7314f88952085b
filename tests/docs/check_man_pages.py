#!/usr/bin/env python3
"""The man pages are the user documentation: they must render without warnings
and name every option galeratopd --help shows and every key its parser accepts."""

import re
import subprocess
import sys
from pathlib import Path


def main(galeratopd, source_dir):
    source = Path(source_dir)
    problems = []
    for page in ("galeratopd.8", "galeratopd.toml.5"):
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
    config_cpp = (source / "agent" / "config.cpp").read_text()
    tables = re.findall(r'\{"(agent|monitor|balancer)",\s*\{(.*?)\n\s*\}\},', config_cpp, re.S)
    if not tables:
        problems.append("could not read the key table of agent/config.cpp")
    for table, body in tables:
        for key in re.findall(r'\{"(\w+)",\s*(?:string|endpoint|duration|integer|bool|choice)_key', body):
            section = five.split(f".SH [{table}]", 1)[-1].split(".SH ", 1)[0]
            if f".B {key}\n" not in section:
                problems.append(f"galeratopd.toml.5 [{table}] does not document {key}")
    for key in ("address", "name", "weight"):
        if f".B {key}\n" not in five.split(".SH [[node]]", 1)[-1]:
            problems.append(f"galeratopd.toml.5 [[node]] does not document {key}")

    for p in problems:
        print(p)
    print(f"man pages: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
