"""The control endpoint under bad input: random bytes, a 10 MB line and 300 idle clients do
not stop galeratopd from balancing or from answering `status`; the unix socket is 0600; plain TCP
control refuses requests without the right token (test_tls: TCP control over TLS)."""

import grp
import json
import os
import socket
import stat
import subprocess
import unittest

from harness import Agent, LabTestCase, app_connect, free_port, wait_for


def still_serving(test, agent):
    """A client session through the balancer works and `galeratop status` answers."""
    with app_connect(agent.port) as c, c.cursor() as cur:
        cur.execute("SELECT 1")
        test.assertEqual(cur.fetchone()[0], 1)
    test.assertEqual(len(agent.status()["nodes"]), 3)


class ControlEndpoint(LabTestCase):
    def test_socket_mode_and_bad_input(self):
        with Agent(self.lab) as agent:
            mode = stat.S_IMODE(os.stat(agent.control).st_mode)
            self.assertEqual(oct(mode), oct(0o600))

            # Random bytes, with and without newlines: every line gets an error, the agent goes on.
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(str(agent.control))
                s.sendall(os.urandom(4096).replace(b"\n", b"") + b"\n" + b"\x00\xff{]\n")
                self.assertEqual(json.loads(s.makefile("rb").readline())["error"]["code"], "bad_json")
            still_serving(self, agent)

            # A 10 MB line: refused as too long, the connection closed, nothing else disturbed.
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(20)
                s.connect(str(agent.control))
                sent = 0
                chunk = b"x" * 65536
                try:
                    while sent < 10 * 1024 * 1024:
                        s.sendall(chunk)
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # closed by the agent once the line passed the limit
                reply = s.makefile("rb").readline()
                print(f"sent {sent} bytes of one line before the agent closed it")
                self.assertEqual(json.loads(reply)["error"]["code"], "too_long")
                self.assertLess(sent, 10 * 1024 * 1024)
            still_serving(self, agent)

            # 300 idle clients at once, beyond the limit of 256: status and balancing go on, the
            # longest idle ones make room.
            idle = []
            try:
                for _ in range(300):
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(str(agent.control))
                    idle.append(s)
                still_serving(self, agent)
                answer = agent.request({"v": 1, "id": "x", "cmd": "status"})
                self.assertTrue(answer["ok"])
                self.assertEqual(answer["id"], "x")
                self.assertTrue(any("closing the longest idle ones" in t for _, _, t in agent.lines()))
            finally:
                for s in idle:
                    s.close()
            still_serving(self, agent)
            self.assertEqual(agent.proc.poll(), None)

    def test_control_group_and_a_second_agent(self):
        group = grp.getgrgid(os.getgid()).gr_name  # one this process may give a file to
        with Agent(self.lab, extra_config=f'control_group = "{group}"') as agent:
            st = os.stat(agent.control)
            self.assertEqual((oct(stat.S_IMODE(st.st_mode)), st.st_gid), (oct(0o660), os.getgid()))
            # A second galeratopd on the same socket refuses to start instead of stealing it.
            second = subprocess.run([os.environ["GALERATOPD"], "--listen", f"127.0.0.1:{free_port()}", "--node",
                                     f"127.0.0.1:{self.lab.node(1)['port']}", "--monitor-password-file",
                                     str(self.lab.monitor_password_file), "--metrics", "", "--control",
                                     str(agent.control), "--state-dir", str(agent.dir / "state2")],
                                    capture_output=True, text=True, timeout=30)
            self.assertEqual(second.returncode, 1)
            self.assertIn("another galeratopd is serving it", second.stderr)
            still_serving(self, agent)

    def test_plain_tcp_control_needs_the_token(self):
        """With control_tls = false (test_tls covers TLS, the default), the token is checked
        all the same and the agent warns that it crosses in clear."""
        token_file = self.lab.root / "control.token"
        token = os.urandom(16).hex()
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        tcp_port = free_port()
        extra = f'control_tcp = "127.0.0.1:{tcp_port}"\ncontrol_token_file = "{token_file}"\ncontrol_tls = false'
        with Agent(self.lab, extra_config=extra) as agent:
            self.assertTrue(any("WITHOUT TLS" in t for _, _, t in agent.lines()))
            def ask(obj):
                with socket.create_connection(("127.0.0.1", tcp_port), timeout=10) as s:
                    s.sendall((json.dumps(obj) + "\n").encode())
                    return json.loads(s.makefile().readline())

            self.assertEqual(ask({"cmd": "status"})["error"]["code"], "unauthorized")
            self.assertEqual(ask({"cmd": "status", "token": "0" * 32})["error"]["code"], "unauthorized")
            self.assertTrue(ask({"cmd": "status", "token": token})["ok"])

            target = f"127.0.0.1:{tcp_port}"
            without = agent.galeratop("--plain", "status", control=target)
            self.assertEqual(without.returncode, 1)
            self.assertIn("unauthorized", without.stderr)
            r = agent.galeratop("--plain", "--token-file", str(token_file), "status", control=target)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("NODE", r.stdout)
            self.assertNotIn(token, (agent.log_path.read_text()))


if __name__ == "__main__":
    unittest.main()
