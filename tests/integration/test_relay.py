"""The relay thread carries whole messages both ways: a result far larger than the socket
buffers, read slowly (the relay must hold what the client cannot take yet and stop reading
the node meanwhile), a large upload, and thousands of short sessions ending while others begin
on the descriptors they leave. Nothing is lost, reordered or left counted."""

import hashlib
import random
import subprocess
import time
import unittest

import pymysql.cursors

from harness import Agent, LabTestCase, app_connect, node_of, wait_for

ROWS = 20000
WIDTH = 2000  # 40 MB in all: many times what loopback socket buffers hold


class Relay(LabTestCase):
    def test_large_result_reaches_a_slow_reader_whole(self):
        with Agent(self.lab) as agent:
            conn = app_connect(agent.port, cursorclass=pymysql.cursors.SSCursor)
            node = node_of(conn)
            before = next(n for n in agent.status()["nodes"] if n["name"] == node)["bytes_out"]
            seen = 0
            with conn.cursor() as cur:
                cur.execute(f"SELECT seq, REPEAT(CHAR(65 + seq % 26), {WIDTH}) FROM seq_1_to_{ROWS}")
                for seq, text in cur:
                    seen += 1
                    self.assertEqual(seq, seen)
                    self.assertEqual(text, chr(65 + seq % 26).encode() * WIDTH)  # CHAR() is binary
                    if seq % 2000 == 0:
                        time.sleep(0.2)  # the slow reader's pace: the relay's queue toward it fills
            self.assertEqual(seen, ROWS)
            with conn.cursor() as cur:  # the session still works after the back-pressure
                cur.execute("SELECT 1")
                self.assertEqual(cur.fetchone(), (1,))
            after = next(n for n in agent.status()["nodes"] if n["name"] == node)["bytes_out"]
            self.assertGreater(after - before, ROWS * WIDTH)
            conn.close()
            wait_for(lambda: sum(n["connections"] for n in agent.status()["nodes"]) == 0, 10,
                     "the ended session to be uncounted")
            print(f"{ROWS} rows, {(after - before) / 1e6:.1f} MB relayed to a slow reader, in order")

    def test_large_upload_arrives_whole(self):
        with Agent(self.lab) as agent, app_connect(agent.port) as conn:
            blob = random.Random(7).randbytes(2 * 1024 * 1024).hex()  # 4 MB of text, twice in one 8 MB statement (max_allowed_packet is 16 MB)
            with conn.cursor() as cur:
                cur.execute("SELECT LENGTH(%s), MD5(%s)", (blob, blob))
                length, md5 = cur.fetchone()
            self.assertEqual(length, len(blob))
            self.assertEqual(md5, hashlib.md5(blob.encode()).hexdigest())

    def test_short_sessions_at_full_speed_never_touch_each_others_sockets(self):
        """mariadb-slap, 8 clients that each connect, SELECT 1 and quit, as fast as they can: a
        session's end must never reach the session that gets its descriptor numbers next. The
        io_uring relay once shut down a closed session's socket by number after the number was
        another session's: 'Lost connection to server during query' within a few hundred sessions."""
        sessions = 2400
        with Agent(self.lab) as agent:
            run = subprocess.run(
                ["mariadb-slap", "--no-defaults", "-h127.0.0.1", f"-P{agent.port}", f"-u{self.lab.app_user}",
                 f"-p{self.lab.app_password}", f"--create-schema={self.lab.app_database}", "--query=SELECT 1",
                 "--concurrency=8", f"--number-of-queries={sessions}", "--detach=1", "--iterations=1"],
                capture_output=True, text=True, timeout=300)
            # mariadb-slap exits 0 after an error: its report is the proof that every session ran.
            self.assertNotIn("ERROR", run.stderr)
            self.assertIn("Benchmark", run.stdout, run.stderr)
            wait_for(lambda: sum(n["connections"] for n in agent.status()["nodes"]) == 0, 10,
                     "every session to be uncounted")
            front = agent.status()["frontend"]
            self.assertGreaterEqual(front["accepted_total"], sessions)
            self.assertEqual(front["rejected_total"], 0)
            print(f"\n{front['accepted_total']} short sessions on {front['io_backend']}, none failed")


if __name__ == "__main__":
    unittest.main()
