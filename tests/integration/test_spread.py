"""30 concurrent sleeping sessions over 3 equal Synced nodes spread 10/10/10 (leastconn)."""

import collections
import subprocess
import unittest

from harness import Agent, LabTestCase, lab


class Spread(LabTestCase):
    def test_thirty_sleeping_sessions_spread_ten_per_node(self):
        with Agent(self.lab) as agent:
            the_lab = lab()
            clients = [
                subprocess.Popen(["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{agent.port}",
                                  f"-u{the_lab.app_user}", f"-p{the_lab.app_password}", "--batch",
                                  "--skip-column-names", "-e", "SELECT @@wsrep_node_name, SLEEP(3)"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(30)
            ]
            names = []
            for c in clients:
                out, err = c.communicate(timeout=30)
                self.assertEqual(c.returncode, 0, err)
                names.append(out.split()[0])
        counts = collections.Counter(names)
        self.assertEqual(sorted(counts.values()), [10, 10, 10], counts)
        self.assertEqual(set(counts), {n["name"] for n in self.lab.nodes})


if __name__ == "__main__":
    unittest.main()
