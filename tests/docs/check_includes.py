#!/usr/bin/env python3
"""The folders are the architecture (DESIGN.md section 3), and this check keeps the picture true.

Each product folder is one library with one concern, listed below from the ground up. A file
may include only from its own folder and from the folders listed before it, so dependencies
point one way and a reader of any folder knows what it may touch. Includes of our own headers
are written from the repository root ("balancer/core/routing_table.hpp"), so that every include
line says which folder it reaches into. The unit tests in tests/unit/<folder> mirror the folders
and follow the same rule. A few system headers belong to one file each (the only user of
Connector/C, of curses, of sd_notify), and the pure core includes no I/O at all."""

import re
import sys
from pathlib import Path

# From the ground up: a folder may include itself and the folders above it in this list.
LAYERS = [
    "balancer/core",  # pure: states, wsrep status, health, routing, the node record, clock, log
    "agent/config",   # configuration file, command line, endpoints, durations, secrets
    "balancer/net",   # socket plumbing shared by listeners, control and metrics: no session logic
    "balancer",       # the data path in rooms: listeners, placement, writer switch, node admin, relay
    "agent/monitor",  # Connector/C sessions and the wsrep monitor threads
    "agent/cluster",  # snapshot, its JSON, the cluster model, advisories, bootstrap memory
    "agent/store",    # galeratop's rows in the cluster: the one compare-and-set, its retries, the session
    "agent/intents",  # operator intents: the store, pure decisions, the shared table's rows and SQL
    "agent/writer",   # the writer election: the pure plan, the writer rows' SQL
    "agent/control",  # the control protocol and its server
    "exporters",      # snapshot -> metric families, the /metrics server
    "agent",          # galeratopd itself and its collaborators, the sync thread; the service plumbing
    "tui",            # galeratop: control client, CLI, view state, layout, key table, terminal
]
GENERATED = {"agent/version.hpp"}  # configured into the build tree from agent/version.hpp.in

# Folders above the data path that must not reach into it all the same: the control endpoint, the
# exporter and the client share only the socket plumbing (balancer/net) and the pure core with it,
# so that galeratop builds and links without the data path.
NOT_INTO = {"agent/control": {"balancer"}, "exporters": {"balancer"}, "tui": {"balancer"}}

# System headers that only one file may include (DESIGN section 3).
ONE_FILE = {
    "mysql.h": "agent/monitor/mysql_session.cpp",
    "curses.h": "tui/terminal.cpp",
    "ncurses.h": "tui/terminal.cpp",
    "systemd/sd-daemon.h": "agent/service_manager.cpp",
}
# The core takes `now` and observations as parameters: no socket, thread, database or terminal.
CORE_FORBIDDEN = re.compile(r"^(asio|sys/socket\.h|netinet/|arpa/|thread|mutex|condition_variable|mysql\.h|curses|"
                            r"ncurses|systemd/)")

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def folder_of(path):
    return str(path.parent.as_posix())


def rank(folder):
    return LAYERS.index(folder) if folder in LAYERS else None


def check_file(root, path, folder, problems):
    """`folder` is the product folder whose rule applies (for a test, the folder it mirrors)."""
    rel = path.relative_to(root).as_posix()
    mine = rank(folder)
    for quote, target in INCLUDE.findall(path.read_text()):
        if quote == "<":
            owner = ONE_FILE.get(target)
            if owner and owner != rel:
                problems.append(f"{rel}: includes <{target}>, which only {owner} may include")
            if folder == "balancer/core" and CORE_FORBIDDEN.match(target):
                problems.append(f"{rel}: includes <{target}>: the core is pure (no I/O, no threads)")
            continue
        if target.startswith("tests/unit/"):
            mirrored = str(Path(target).parent.as_posix())[len("tests/unit/"):]
            if rank(mirrored) is None or rank(mirrored) > mine:
                problems.append(f"{rel}: includes the fixtures of tests/unit/{mirrored}, above its own folder")
            elif not (root / target).is_file():
                problems.append(f"{rel}: includes {target}, which does not exist")
            continue
        if "/" not in target:
            problems.append(f'{rel}: includes "{target}": write our headers from the repository root')
            continue
        if target not in GENERATED and not (root / target).is_file():
            problems.append(f"{rel}: includes {target}, which does not exist")
            continue
        theirs = rank(folder_of(Path(target)))
        if folder_of(Path(target)) in NOT_INTO.get(folder, ()):
            problems.append(f"{rel}: includes {target}: {folder} does not reach into the data path "
                            f"({folder_of(Path(target))}); balancer/net and balancer/core are what it may share")
        if theirs is None:
            problems.append(f"{rel}: includes {target} from a folder that is not a layer")
        elif theirs > mine:
            problems.append(f"{rel}: includes {target}: {folder_of(Path(target))} is above {folder} "
                            f"(a folder may include only itself and the folders listed before it)")


def sources(root):
    """(file, the folder whose rule applies, where that folder was found) for every C++ file checked:
    the product's, and the unit tests', which follow the rule of the folder they mirror."""
    for top in ("balancer", "agent", "exporters", "tui"):
        for path in sorted((root / top).rglob("*")):
            if path.is_file() and path.name.endswith((".cpp", ".hpp", ".hpp.in")):
                yield path, folder_of(path.relative_to(root)), ""
    unit = root / "tests" / "unit"
    for path in sorted(unit.rglob("*")):
        if path.suffix in (".cpp", ".hpp") and path.parent != unit:
            yield path, folder_of(path.relative_to(unit)), "tests/unit/"


def main(source_dir):
    root = Path(source_dir).resolve()
    problems = []
    checked = 0
    for path, folder, under in sources(root):
        if rank(folder) is None:
            problems.append(f"{path.relative_to(root)}: {under}{folder} is not one of the folders of DESIGN.md section 3")
            continue
        check_file(root, path, folder, problems)
        checked += 1
    for p in problems:
        print(p)
    print(f"includes: {checked} files checked against {len(LAYERS)} layers, {len(problems)} problem(s)")
    return 1 if problems or checked < 50 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
