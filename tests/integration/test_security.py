"""Security defaults, as galeratopd(8) SECURITY states them: a password file others can read
is refused; the control socket serves only its own user (peer credentials), even when its
mode was loosened; started as root with agent.user, galeratopd drops to that user for good;
the monitor password never shows on argv, in the log, in status or in metrics."""

import os
import pwd
import shutil
import signal
import stat
import subprocess
import unittest
from pathlib import Path

from harness import Agent, LabTestCase, wait_for


def as_nobody(*argv):
    """Runs argv as user nobody (no supplementary groups), as another local user would."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv],
                          capture_output=True, text=True, timeout=30)


@unittest.skipUnless(os.geteuid() == 0, "needs root: it checks other users and the privilege drop")
class Security(LabTestCase):
    def open_to_everyone(self, agent):
        """Lets user nobody reach the agent's directory and run the client from it."""
        agent.dir.chmod(0o755)
        client = agent.dir / "galeratop"
        shutil.copy(os.environ["GALERATOP"], client)
        client.chmod(0o755)
        return client

    def test_a_password_file_others_can_read_is_refused_at_start_and_at_reload(self):
        agent = Agent(self.lab)
        loose = agent.dir / "monitor.pass"
        shutil.copy(self.lab.monitor_password_file, loose)
        loose.chmod(0o644)
        text = agent.config_path.read_text()
        agent.config_path.write_text(text.replace(self.lab.monitor_password_file, str(loose)))
        r = subprocess.run([os.environ["GALERATOPD"], "--config", str(agent.config_path)], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{loose}", r.stderr)
        self.assertIn("other users can read it (mode 0644)", r.stderr)
        # --check-config says so before a start does; the file's own validity is unchanged.
        r = subprocess.run([os.environ["GALERATOPD"], "--check-config", str(agent.config_path)], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertIn("is valid", r.stdout)
        self.assertIn("warning: monitor.password_file", r.stderr)
        self.assertIn("other users can read it (mode 0644); chmod o-rwx it", r.stderr)
        self.assertIn("galeratopd will not start until that is fixed", r.stderr)
        # Running with a good file, a reload onto the loose one is refused and the running configuration kept.
        agent.config_path.write_text(text)
        with agent:
            agent.config_path.write_text(text.replace(self.lab.monitor_password_file, str(loose)))
            agent.signal(signal.SIGHUP)
            wait_for(lambda: any("other users can read it" in t for _, _, t in agent.lines()), 10,
                     "the reload to be refused")
            self.assertTrue(all(n["eligible"] for n in agent.status()["nodes"]))
            self.assertIsNone(agent.proc.poll())

    def test_control_socket_serves_only_its_user_even_when_its_mode_is_loosened(self):
        with Agent(self.lab) as agent:
            mode = stat.S_IMODE(agent.control.stat().st_mode)
            self.assertEqual(mode, 0o600)
            client = self.open_to_everyone(agent)
            agent.control.chmod(0o666)  # a mistake an operator could make
            r = as_nobody(str(client), "--control", str(agent.control), "status")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("forbidden", r.stderr)
            r = as_nobody(str(client), "--control", str(agent.control), "drain", "node1")
            self.assertEqual(r.returncode, 1)
            self.assertEqual({n["admin"] for n in agent.status()["nodes"]}, {"ready"})  # root is still served
            self.assertTrue(any("control: refused a client" in t and "uid 65534" in t for _, _, t in agent.lines()))

    def test_started_as_root_with_agent_user_it_drops_to_that_user_for_good(self):
        nobody = pwd.getpwnam("nobody")
        agent = Agent(self.lab, extra_config='user = "nobody"')
        client = self.open_to_everyone(agent)
        with agent:
            status = Path(f"/proc/{agent.proc.pid}/status").read_text()
            uids = next(l for l in status.splitlines() if l.startswith("Uid:")).split()[1:]
            gids = next(l for l in status.splitlines() if l.startswith("Gid:")).split()[1:]
            groups = next(l for l in status.splitlines() if l.startswith("Groups:")).split()[1:]
            self.assertEqual(uids, [str(nobody.pw_uid)] * 4)  # real, effective, saved, filesystem
            self.assertEqual(gids, [str(nobody.pw_gid)] * 4)
            self.assertNotIn("0", groups)
            st = agent.control.stat()
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (nobody.pw_uid, 0o600))
            # It serves: clients through it, and a drain from root and from its own user.
            r = agent.galeratop("drain", "node1")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = as_nobody(str(client), "--control", str(agent.control), "undrain", "node1")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual({n["admin"] for n in agent.status()["nodes"]}, {"ready"})
            intents = agent.dir / "state" / "intents.json"
            self.assertEqual(intents.stat().st_uid, nobody.pw_uid)  # it could write its state as nobody
            self.assertTrue(any("running as user nobody" in t for _, _, t in agent.lines()))

    def test_the_monitor_password_is_on_no_argv_log_status_or_metrics(self):
        password = Path(self.lab.monitor_password_file).read_text().splitlines()[0]
        self.assertGreaterEqual(len(password), 8)
        with Agent(self.lab, metrics=True) as agent:
            agent.galeratop("drain", "node2")
            agent.galeratop("undrain", "node2")
            agent.signal(signal.SIGHUP)
            wait_for(lambda: any("reload" in t for _, _, t in agent.lines()), 10, "the reload")
            places = {
                "argv": Path(f"/proc/{agent.proc.pid}/cmdline").read_bytes().decode(errors="replace"),
                "environment": Path(f"/proc/{agent.proc.pid}/environ").read_bytes().decode(errors="replace"),
                "status": agent.galeratop("status", "--json").stdout + agent.galeratop("status").stdout,
                "metrics": agent.scrape(),
            }
            agent.stop()
            places["log"] = agent.log_path.read_text(errors="replace")
            for where, text in places.items():
                self.assertNotIn(password, text, f"the monitor password is in the {where}")
            self.assertIn("galeratop_build_info", places["metrics"])  # each place was really read
            self.assertIn('"nodes"', places["status"])


if __name__ == "__main__":
    unittest.main()
