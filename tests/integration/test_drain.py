"""Drain is an operator intent: `galeratop drain NODE` sends none of the next sessions to the
node and closes each open one at its safe point (an idle one at once, one in a transaction after
its COMMIT, its next statement answered with error 1927: nothing was executed), `drain --wait`
returns exactly when the last one ends, and neither health (desync and resync), SIGHUP, a restart
nor kill -9 of galeratopd undoes it."""

import contextlib
import os
import signal
import subprocess
import time
import unittest

import pymysql

from harness import Agent, LabTestCase, node_of, app_connect, wait_for


@contextlib.contextmanager
def drain_waiter(agent, name):
    """`galeratop drain NAME --wait` running in the background; stopped by its PID if still running."""
    waiter = subprocess.Popen([os.environ["GALERATOP"], "--control", str(agent.control), "drain", name, "--wait",
                               "--timeout", "60s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield waiter
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()


class Drain(LabTestCase):
    def tearDown(self):
        self.lab.desync(2, False)
        super().tearDown()

    def new_sessions_avoid(self, agent, name, count=20):
        """Opens `count` sessions at once (held, so leastconn must spread them) and returns where they went."""
        sessions = [app_connect(agent.port) for _ in range(count)]
        try:
            where = []
            for c in sessions:
                with c.cursor() as cur:
                    cur.execute("SELECT @@wsrep_node_name")
                    where.append(cur.fetchone()[0])
            self.assertNotIn(name, where, f"a new session reached the drained {name}: {where}")
            return where
        finally:
            for c in sessions:
                c.close()

    def test_drain_wait_survives_health_reload_and_restarts(self):
        # close_idle 1 s rather than 250 ms: the idle session must still be there when the status
        # after the drain is read, which a loaded CI machine once took longer than 250 ms to do.
        with Agent(self.lab, balancer_config='close_idle = "1s"') as agent:
            name = agent.node_status(2)["name"]
            # Six held sessions, two per node: two of them are on the node to drain.
            held = [app_connect(agent.port) for _ in range(6)]
            on_node = [c for c in held if node_of(c) == name]
            self.assertEqual(len(on_node), 2)
            with on_node[0].cursor() as cur:  # one of them is in a transaction when the drain comes
                cur.execute("BEGIN")
                cur.execute("SELECT COUNT(*) FROM information_schema.tables")

            r = agent.galeratop("drain", name)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"{name} (127.0.0.1:{self.lab.node(2)['port']}): drain (was ready)", r.stdout)
            st = agent.node_status(2)
            self.assertEqual((st["admin"], st["eligible"], st["connections"]), ("drain", False, 2))
            self.assertEqual(st["drain"]["remaining"], 2)

            where = self.new_sessions_avoid(agent, name)
            print(f"20 new sessions after the drain went to: {sorted(set(where))}")
            in_trx, idle = on_node
            self.assertEqual(agent.node_status(2)["in_transaction"], 1)
            # The idle session is closed at its safe point: the node's side at once, and its next
            # statement is answered, not executed.
            wait_for(lambda: agent.node_status(2)["connections"] == 1, 10, "the idle session to be closed")
            with self.assertRaises(pymysql.err.OperationalError) as told:
                node_of(idle)
            self.assertEqual(told.exception.args[0], 1927)
            self.assertIn(f"node {name} is drained", told.exception.args[1])
            self.assertIn("nothing was executed", told.exception.args[1])

            # drain --wait with a short timeout while a session remains: exit 1, saying how many.
            short = agent.galeratop("drain", name, "--wait", "--timeout", "1s")
            self.assertEqual(short.returncode, 1)
            self.assertIn("still has 1 connection(s)", short.stderr)

            with drain_waiter(agent, name) as waiter:
                time.sleep(0.5)  # the waiter gets pushes every 250 ms: give it two to (wrongly) return
                self.assertIsNone(waiter.poll(), "drain --wait returned while a transaction was open")
                with in_trx.cursor() as cur:  # the transaction goes on on its node, untouched
                    cur.execute("SELECT @@wsrep_node_name")
                    self.assertEqual(cur.fetchone()[0], name)
                    cur.execute("SELECT SLEEP(1.5)")  # longer than close_idle: in a transaction it is no safe point
                self.assertEqual(agent.node_status(2)["connections"], 1)
                self.assertIsNone(waiter.poll())
                in_trx.commit()
                closed_at = time.monotonic()
                out, err = waiter.communicate(timeout=10)
                returned_after = time.monotonic() - closed_at
            print(f"drain --wait output:\n{out}returned {returned_after * 1000:.0f} ms after the COMMIT")
            self.assertEqual(waiter.returncode, 0, err)
            self.assertIn(f"{name} drained: no connection left", out)
            self.assertEqual(agent.node_status(2)["connections"], 0)
            for c in held:
                if c.open:
                    c.close()

            # Health never changes an admin state: desync and resync leave the node drained.
            self.lab.desync(2, True)
            wait_for(lambda: agent.node_status(2)["state"] == "donor", 15, "the node to be seen as a donor")
            self.lab.desync(2, False)
            wait_for(lambda: agent.node_status(2)["state"] == "synced", 15, "the node to be synced again")
            st = agent.node_status(2)
            self.assertEqual((st["admin"], st["eligible"]), ("drain", False))

            agent.signal(signal.SIGHUP)
            wait_for(lambda: any("configuration reloaded" in t for _, _, t in agent.lines()), 10, "the reload")
            self.assertEqual(agent.node_status(2)["admin"], "drain")
            self.new_sessions_avoid(agent, name)

            self.assertEqual(agent.stop(), 0)
            agent.start(wait_eligible=2)
            self.assertEqual(agent.node_status(2)["admin"], "drain")
            self.new_sessions_avoid(agent, name)

            agent.kill()
            agent.start(wait_eligible=2)
            st = agent.node_status(2)
            self.assertEqual((st["admin"], st["eligible"]), ("drain", False))
            self.assertTrue(any("intent kept from before the restart" in t for _, _, t in agent.lines()))

            r = agent.galeratop("undrain", name)
            self.assertEqual(r.returncode, 0, r.stderr)
            wait_for(lambda: agent.node_status(2)["eligible"], 10, "the node back in rotation")
            sessions = [app_connect(agent.port) for _ in range(6)]
            try:
                self.assertEqual(sum(node_of(c) == name for c in sessions), 2)
            finally:
                for c in sessions:
                    c.close()

    def test_drain_wait_returns_the_moment_the_last_session_ends(self):
        # A 3 s monitor interval: the status is published and pushed on it. drain --wait does not
        # wait for the next tick and push (up to two intervals): the agent pushes the moment the
        # drained node's last session ends.
        with Agent(self.lab, monitor_config='interval = "3s"') as agent:
            name = agent.node_status(2)["name"]
            held = [app_connect(agent.port) for _ in range(3)]  # leastconn: one on each node
            try:
                on_node = [c for c in held if node_of(c) == name]
                self.assertEqual(len(on_node), 1)
                last = on_node[0]
                with last.cursor() as cur:  # a transaction keeps it open through the drain
                    cur.execute("BEGIN")
                    cur.execute("SELECT 1")
                self.assertEqual(agent.galeratop("drain", name).returncode, 0)
                with drain_waiter(agent, name) as waiter:
                    # After the drain's answer, the status it subscribed with: it follows the pushes now.
                    lines = []
                    while not lines or "left" not in lines[-1]:
                        lines.append(waiter.stdout.readline().strip())
                        self.assertNotEqual(lines[-1], "", f"drain --wait ended early: {lines}")
                    self.assertRegex(lines[-1], rf"^{name}: 1 connection\(s\) left \(\d+ s\)$")
                    ended_wall = time.time()
                    ended = time.monotonic()
                    last.close()  # COM_QUIT: the node ends the session, the relay reports its end
                    out, err = waiter.communicate(timeout=10)
                    returned_after = time.monotonic() - ended
                self.assertEqual(waiter.returncode, 0, err)
                self.assertIn(f"{name} drained: no connection left", out)
                drained = agent.wait_event(lambda e: e["kind"] == "drained" and e["node"] == name, 5,
                                           "the drained event")
                # The event's time is kept to the millisecond (truncated): it may read as a hair early.
                print(f"drain --wait returned {returned_after * 1000:.0f} ms after the last session ended; the "
                      f"drained event came {max(0.0, drained['at'] - ended_wall) * 1000:.0f} ms after it "
                      f"(monitor interval 3 s)")
                # Measured in tens of milliseconds; the bound leaves room for a loaded CI machine and
                # still fails the old way (the next tick, then the next push: up to two 3 s intervals).
                self.assertLess(returned_after, 0.5)
            finally:
                for c in held:
                    if c.open:
                        c.close()

    def test_the_last_node_is_not_drained_without_force(self):
        # A short hold: the client that finds every node drained is refused after it.
        with Agent(self.lab, balancer_config='hold = "500ms"\n') as agent:
            names = [agent.node_status(i)["name"] for i in (1, 2, 3)]
            try:
                for n in names[:2]:
                    self.assertEqual(agent.galeratop("drain", n).returncode, 0)
                r = agent.galeratop("drain", names[2])
                self.assertEqual(r.returncode, 1)
                self.assertIn(f"refused: drain {names[2]} would leave no node to take new clients", r.stderr)
                self.assertIn("(last_node)", r.stderr)
                self.assertEqual(agent.node_status(3)["admin"], "ready")
                self.assertEqual(agent.galeratop("maint", names[2]).returncode, 1)
                self.assertEqual(agent.galeratop("weight", names[2], "0").returncode, 1)

                forced = agent.galeratop("drain", names[2], "--force")
                self.assertEqual(forced.returncode, 0, forced.stderr)
                refused = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{agent.port}", "-uapp",
                                          "-e", "SELECT 1"], capture_output=True, text=True, timeout=30)
                self.assertIn("3 drained", refused.stderr)
            finally:
                for n in names:
                    agent.galeratop("ready", n)
            wait_for(lambda: all(agent.node_status(i)["eligible"] for i in (1, 2, 3)), 10, "all nodes back")

    def test_weight_and_unknown_nodes(self):
        with Agent(self.lab) as agent:
            name = agent.node_status(1)["name"]
            r = agent.galeratop("weight", name, "0")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.new_sessions_avoid(agent, name, count=9)
            self.assertEqual(agent.galeratop("weight", name, "default").returncode, 0)
            self.assertEqual(agent.node_status(1)["weight"], 1)

            unknown = agent.galeratop("drain", "no-such-node")
            self.assertEqual(unknown.returncode, 1)
            for i in (1, 2, 3):
                self.assertIn(agent.node_status(i)["name"], unknown.stderr)
            by_address = agent.galeratop("drain", f"127.0.0.1:{self.lab.node(1)['port']}")
            self.assertEqual(by_address.returncode, 0, by_address.stderr)
            self.assertEqual(agent.galeratop("ready", name).returncode, 0)
            self.assertEqual(agent.galeratop("drain").returncode, 2)  # usage: NODE is required
            self.assertEqual(agent.galeratop("weight", name, "heavy").returncode, 2)


if __name__ == "__main__":
    unittest.main()
