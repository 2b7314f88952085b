"""A session silent both ways for longer than [balancer] idle_timeout is closed; an active one is not."""

import time
import unittest

import pymysql

from harness import Agent, LabTestCase, app_connect


class Idle(LabTestCase):
    def test_idle_session_is_closed_and_busy_one_kept(self):
        with Agent(self.lab, balancer_config='idle_timeout = "2s"') as agent:
            idle = app_connect(agent.port)
            busy = app_connect(agent.port)
            started = time.monotonic()
            # The busy session speaks every half second; the sweep runs once a second.
            while time.monotonic() - started < 4.5:
                with busy.cursor() as cur:
                    cur.execute("SELECT 1")
                time.sleep(0.5)  # the pace of the busy client, not a wait for a condition
            with self.assertRaises(pymysql.err.OperationalError):
                with idle.cursor() as cur:
                    cur.execute("SELECT 1")
            with busy.cursor() as cur:
                cur.execute("SELECT 1")
                self.assertEqual(cur.fetchone(), (1,))
            busy.close()


if __name__ == "__main__":
    unittest.main()
