"""examples/rolling-restart restarts all 3 nodes, one at a time, while a short-session load
(connect, write, read, close) runs through galeratopd: every node gets a new process and not
one request fails."""

import os
import subprocess
import sys
import time
import unittest
from pathlib import Path

from harness import Agent, LabTestCase, ShortSessionLoad

ROOT = Path(__file__).resolve().parents[2]


class RollingRestart(LabTestCase):
    def test_rolling_restart_fails_no_request(self):
        lab_cli = f"{sys.executable} {ROOT / 'tests' / 'lab' / 'lab'}"
        root = self.lab.root
        pids_before = {n["name"]: n["pid"] for n in self.lab.nodes}
        env = dict(os.environ, PATH=f"{Path(os.environ['GALERATOP']).parent}:{os.environ['PATH']}")
        with Agent(self.lab) as agent:
            names = [agent.node_status(i)["name"] for i in (1, 2, 3)]
            with ShortSessionLoad(agent.port, threads=4, duration=600) as load:
                started = time.monotonic()
                r = subprocess.run(
                    [str(ROOT / "examples" / "rolling-restart"), "--control", str(agent.control),
                     "--drain-timeout", "2m", "--synced-timeout", "180",
                     "--stop", f'{lab_cli} stop-node --root {root} "${{NODE#node}}"',
                     "--start", f'{lab_cli} start-node --root {root} "${{NODE#node}}"', *names],
                    capture_output=True, text=True, timeout=900, env=env)
                took = time.monotonic() - started
                ok_during = load.ok
            print(r.stdout + r.stderr)
            print(f"rolling restart of {len(names)} nodes: {took:.1f} s, {ok_during} requests, "
                  f"{len(load.failures)} failed; per node {load.by_node}")
            if load.failures:  # what galeratopd decided around each failure, for whoever reads a red run
                near = [f"{at:.3f} {level}: {text}" for at, level, text in agent.lines()
                        if any(abs(at - started) < 2 for started, _ in load.failures)]
                print("galeratopd around the failures:\n" + "\n".join(near))
            self.assertEqual(r.returncode, 0)
            self.assertEqual(load.failures, [])
            self.assertGreater(ok_during, 100)
            self.lab._reload()
            pids_after = {n["name"]: n["pid"] for n in self.lab.nodes}
            for name in pids_before:
                self.assertNotEqual(pids_before[name], pids_after[name], f"{name} was not restarted")
            self.assertTrue(all(agent.node_status(i)["admin"] == "ready" for i in (1, 2, 3)))


if __name__ == "__main__":
    unittest.main()
