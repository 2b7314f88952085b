"""SIGTERM stops accepting, lets a statement in flight finish, closes each session at its next
safe point (a pool's connection does not hold the agent for the whole grace), then exits 0;
Connector/C ends only after the last thread that used it (the monitors and the intent sync) has
let it go."""

import signal
import threading
import time
import unittest

from harness import Agent, LabTestCase, app_connect, wait_for


class Shutdown(LabTestCase):
    def test_sigterm_lets_an_open_query_finish_and_refuses_new_clients(self):
        agent = Agent(self.lab).start()
        try:
            conn = app_connect(agent.port)
            result = {}

            def sleeper():
                with conn.cursor() as cur:
                    cur.execute("SELECT SLEEP(3)")
                    result["row"] = cur.fetchone()

            t = threading.Thread(target=sleeper)
            t.start()
            # The signal must come while the statement runs on its node: wait until a node runs it.
            sleeping = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(3)'"
            wait_for(lambda: any(self.lab.sql(n["index"], sleeping)[0][0] != "0" for n in self.lab.nodes), 2,
                     "the SLEEP running on a node")
            agent.signal(signal.SIGTERM)
            wait_for(lambda: any("SIGTERM" in l[2] for l in agent.lines()), 5, "the SIGTERM log line")
            with self.assertRaises(Exception):
                app_connect(agent.port, timeout=2)
            t.join(10)
            self.assertEqual(result.get("row"), (0,))
            # The session stays open on the client's side, idle: it is closed at its safe point and
            # the agent exits long before its 10 s grace.
            answered = time.monotonic()
            self.assertEqual(agent.proc.wait(15), 0)
            exited = time.monotonic() - answered
            print(f"the idle session closed and galeratopd exited {exited:.2f} s after the last answer")
            self.assertLess(exited, 5.0)
            self.assertTrue(any("at their next safe point because it is behind a galeratopd that is stopping" in l[2]
                                for l in agent.lines()))
            conn.close()
        finally:
            agent.stop()

    def test_connector_library_ends_after_every_thread_that_used_it(self):
        # The intent sync thread holds a Connector/C connection of its own until the agent is
        # destroyed; the library must outlive it (and every monitor), or its end frees what that
        # connection still uses. galeratopd logs the error when the order is wrong.
        agent = Agent(self.lab).start()
        try:
            wait_for(lambda: agent.status()["intents"]["available"], 10, "the first read of the shared intents")
            agent.signal(signal.SIGTERM)
            self.assertEqual(agent.proc.wait(15), 0)
            errors = [t for _, level, t in agent.lines() if level == "error"]
            self.assertEqual(errors, [], "galeratopd logged errors while it stopped")
            self.assertTrue(any(t == "stopped" for _, _, t in agent.lines()), "the last line of a clean stop")
        finally:
            agent.stop()


if __name__ == "__main__":
    unittest.main()
