"""Writer listeners: every session on one writer that all agents of a group agree on, through the
cluster's galeratop.writer row. Against the shared lab:

- the hot-row load through the writer listener and through a balance listener of the same agent:
  no certification deadlock (1213) through the writer, the balance listener's count beside it;
  and a pooled client that reads back each row it wrote: no miss through the writer; Prometheus
  sees the writer and the sessions per listener and node; the live screen marks the writer, and
  its W key moves the role;
- two agents started at the same moment on an empty row choose the same writer; kill -9 of the
  writer under a write load: a new writer within a second of the exclusion, both agents agree,
  writes resume, and the old writer, back and Synced with the highest priority, does not take the
  role back (no failback by default) until [writer] failback is set by a reload;
- a drain of the writer under a pooled write load moves the role first, and `galeratop writer
  --wait` moves it back by hand: not one request fails;
- the writer cut off into a non-Primary partition: its side gets no write; and what any node cut
  off goes through: excluded, its sessions closed, the split reported, readmitted after;
- an agent that cannot read galeratop.writer (here a row this version cannot read, as a hand edit or
  a newer version would leave) keeps its writer while that node can write, and chooses no other:
  once the writer is drained, writer-listener clients are refused until the row is readable again.

Load clients: write_model.py (hot rows, read-your-writes) and pooled_app.py (the pool)."""

import re
import subprocess
import threading
import time
import unittest
import uuid

import pymysql

from harness import (Agent, LabTestCase, LoadThreads, Tmux, app_connect, node_name_via, node_of, parse_exposition,
                     wait_for)
from pooled_app import PooledApp
from test_tui import screen_command
from write_model import HotRowLoad, ReadYourWrites

LISTENERS = [("app", "balance"), ("rw", "writer")]


def writer_agent(the_lab, **kw):
    return Agent(the_lab, listeners=LISTENERS, **kw)


def writer_of(agent):
    w = agent.status()["writer"]
    return (w["node"], w["row"]["epoch"]) if w and w["node"] else (None, w["row"]["epoch"] if w else 0)


def sessions_by_listener(scrape, listener):
    """{node: sessions} of one listener in a /metrics scrape, nodes without a session left out."""
    return {l["node"]: v for n, l, v in parse_exposition(scrape)
            if n == "galeratop_listener_current_connections" and l["listener"] == listener and v > 0}


def lab_index(agent, name):
    """The lab index of the node `name` (wsrep_node_name) as the agent shows it."""
    address = next(n["address"] for n in agent.status()["nodes"] if n["name"] == name)
    return next(n["index"] for n in agent.lab.nodes if f"127.0.0.1:{n['port']}" == address)


class WriteProbe(LoadThreads):
    """Threads writing one row per request through `port`, each row naming the node that took it;
    reconnects after an error. Records every acknowledged write (node, time) and every failure."""

    def __init__(self, port, threads=2):
        super().__init__(threads)
        self.port = port
        self.acked = []
        self.failures = []

    def _run(self):
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = app_connect(self.port, timeout=5)
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO writer_probe (node) VALUES (@@wsrep_node_name)")
                    cur.execute("SELECT @@wsrep_node_name")
                    node = cur.fetchone()[0]
                with self._lock:
                    self.acked.append((node, time.time()))
            except Exception as e:  # every failure is the measurement
                with self._lock:
                    self.failures.append((time.time(), repr(e)))
                if conn is not None:
                    conn.close()
                conn = None
                self._stop.wait(0.1)
        if conn is not None:
            conn.close()

    def setup(self):
        with app_connect(self.port) as c, c.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS writer_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                        "node VARCHAR(64) NOT NULL, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))")

    def acked_since(self, t):
        with self._lock:
            return [a for a in self.acked if a[1] > t]


class WriterListenerTest(LabTestCase):
    def test_hot_rows_and_read_your_writes_through_the_writer_and_the_balance_listener(self):
        with writer_agent(self.lab, metrics=True) as agent:
            wait_for(lambda: writer_of(agent)[0], 15, "a writer")
            with HotRowLoad(agent.ports["rw"], threads=8, rows=4, duration=4) as load:
                # While it runs: its sessions per listener and node, and the writer, as Prometheus reads them.
                wait_for(lambda: load.result()["ok"] > 100, 30, "hot-row updates through the writer listener")
                # Published every monitor interval: the scrape that shows the 8 sessions.
                scrape = wait_for(lambda: (lambda t: t if sum(sessions_by_listener(t, "rw").values()) == 8 else None)(
                    agent.scrape()), 10, "the writer listener's 8 sessions in a scrape")
                check = subprocess.run(["promtool", "check", "metrics"], input=scrape, capture_output=True, text=True)
                writer = load.wait()  # the whole 4 s, as the balance listener's run below
            balance = HotRowLoad(agent.ports["app"], threads=8, rows=4, duration=4).run()
            ryw_writer = ReadYourWrites(agent.ports["rw"], workers=4, pool_size=4, requests=1000).run()
            ryw_balance = ReadYourWrites(agent.ports["app"], workers=4, pool_size=4, requests=1000).run()

            # The live screen marks the writer, and W on another node moves the role there.
            first = writer_of(agent)
            names = sorted(n["name"] for n in agent.status()["nodes"])
            target = next(n for n in names if n != first[0])
            with Tmux(screen_command(agent), 120, 35) as term:
                term.wait_screen(lambda t: re.search(rf"(?m)^[ >]{first[0]} +W ", t), 15, f"the W marker on {first[0]}")
                term.wait_screen(lambda t: f"writer {first[0]} epoch {first[1]}" in t, 5, "the writer line")
                term.send(*["j"] * names.index(target), "W")
                term.wait_screen(lambda t: f"{target}" in t and "[y/N]" in t, 5, "the writer question")
                term.send("y")
                wait_for(lambda: writer_of(agent) == (target, first[1] + 1), 15, f"{target} the writer")
                term.wait_screen(lambda t: re.search(rf"(?m)^[ >]{target} +W ", t), 5, f"the W marker on {target}")
        print(f"hot rows (8 threads, 4 rows, 4 s): writer listener {writer['ok']} ok, {writer['deadlock']} x 1213, "
              f"{writer['updates_per_s']:.0f}/s on {writer['nodes']}; balance listener {balance['ok']} ok, "
              f"{balance['deadlock']} x 1213, {balance['updates_per_s']:.0f}/s on {balance['nodes']}")
        print(f"read-your-writes (pool of 4, 1000 requests): writer listener {ryw_writer['misses']} missed, "
              f"{ryw_writer['reads_cross_node']} reads on another node; balance listener {ryw_balance['misses']} "
              f"missed, {ryw_balance['reads_cross_node']} reads on another node")
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        samples = parse_exposition(scrape)
        writer_node = next(iter(writer["nodes"]))
        marked = {l["node"] for n, l, v in samples if n == "galeratop_node_writer" and v == 1}
        self.assertEqual(marked, {writer_node})
        self.assertEqual(sessions_by_listener(scrape, "rw"), {writer_node: 8.0},
                         "the writer listener's sessions per node, as scraped")
        self.assertGreater(writer["ok"], 100)
        self.assertEqual(writer["deadlock"], 0, writer)
        self.assertEqual(len(writer["nodes"]), 1, f"the writer listener's sessions were spread: {writer['nodes']}")
        self.assertGreater(len(balance["nodes"]), 1, f"the balance listener did not spread: {balance['nodes']}")
        self.assertEqual(ryw_writer["errors"], {}, ryw_writer)
        self.assertEqual(ryw_writer["misses"], 0, ryw_writer)
        self.assertEqual(ryw_writer["reads_cross_node"], 0, ryw_writer)
        self.assertGreater(ryw_writer["reads"], 950, ryw_writer)

    def test_two_agents_agree_and_a_killed_writer_is_replaced_without_failback(self):
        group = f"writer-{uuid.uuid4().hex[:8]}"  # an empty row: the two agents choose at once
        priority = {1: "writer_priority = 5\n"}  # node1 is the rule's choice, and would be again
        agents = [writer_agent(self.lab, intents_group=group, node_config=priority) for _ in range(2)]
        try:
            for a in agents:  # both processes at once: neither waits for anything before the other starts
                a.start(wait_eligible=0)
            wait_for(lambda: all(a.control.exists() for a in agents), 15, "both control sockets")
            wait_for(lambda: all(writer_of(a)[0] for a in agents), 15, "a writer on both agents")
            first = [writer_of(a) for a in agents]
            self.assertEqual(first[0], first[1], "the two agents chose different writers")
            self.assertEqual(first[0][1], 1, "the row was changed more than once by two agents choosing at once")
            old = first[0][0]
            old_index = lab_index(agents[0], old)
            self.assertEqual(old_index, 1)

            survivor = next(n["index"] for n in self.lab.nodes if n["index"] != old_index)
            with HotRowLoad(agents[0].ports["rw"], threads=4, rows=4, duration=None) as load:
                wait_for(lambda: load.result()["ok"] > 100, 30, "writes through the writer listener")
                killed_at = time.time()
                self.lab.kill(old_index)
                # The cluster's exclusion of the killed writer: the view its survivors move to without it.
                # Until then nothing commits anywhere (Galera waits for the member: evs.suspect_timeout),
                # the writer row included.
                evicted = wait_for(lambda: time.time() if (self.lab.status(survivor) or {}).get(
                    "wsrep_cluster_size") == "2" else None, 30, "the cluster without the killed writer", interval=0.02)
                wait_for(lambda: all(writer_of(a)[0] not in (None, old) for a in agents), 60,
                         "a new writer on both agents")
                after = [writer_of(a) for a in agents]
                ok_at_switch = load.result()["ok"]
                wait_for(lambda: load.result()["ok"] > ok_at_switch + 100, 30, "writes on the new writer")
            result = load.result()
            self.assertEqual(after[0], after[1], "the agents disagree on the new writer")
            new = after[0][0]

            # The agent's exclusion of the old writer, and the moment writer listeners had the new one.
            port = self.lab.node(old_index)["port"]
            excluded = agents[0].wait_transition(port, lambda t: t[2] != "eligible", 10, "the writer excluded",
                                                 after=killed_at)[0]
            switched = wait_for(lambda: next((t for t, _, m in agents[0].lines()
                                              if t >= killed_at and m.startswith(f"writer listeners -> {new} ")),
                                             None), 10, "the switch in the log")
            print(f"kill -9 {old}: excluded by the agent {excluded - killed_at:.2f} s after the kill, by the cluster "
                  f"{evicted - killed_at:.2f} s after it; writer listeners on {new} {switched - evicted:.2f} s after "
                  f"the cluster's exclusion (epoch {after[0][1]}); both agents agree; load {result['ok']} ok, "
                  f"{result['deadlock']} x 1213, errors {result['errors']}")
            self.assertLess(switched - evicted, 1.0, "no new writer within a second of the cluster's exclusion")
            self.assertEqual(result["deadlock"], 0, result)

            self.lab.start_node(old_index)
            wait_for(lambda: agents[0].node_status(old_index)["eligible"]
                     and agents[1].node_status(old_index)["eligible"], 60, f"{old} back in rotation")
            back_at = time.time()
            # The rule would choose it again (it has the highest priority): a few reads of the row later,
            # the role has not moved back.
            wait_for(lambda: time.time() - back_at > 2.0, 5, "two seconds of the recovered node in rotation")
            final = [writer_of(a) for a in agents]
            print(f"{old} back and eligible: the writer is {final[0][0]} (epoch {final[0][1]}) on both agents")
            # It may have moved on (the writer is never a donor, and may have donated the IST): never back.
            self.assertEqual(final[0], final[1], "the agents disagree after the old writer came back")
            self.assertNotIn(final[0][0], (None, old), f"{old} took the role back without failback")

            # [writer] failback, set by a reload: the node the rule prefers takes the role back.
            for a in agents:
                a.write_config(extra='\n[writer]\nfailback = true\n')
                self.assertEqual(a.galeratop("reload").returncode, 0)
            wait_for(lambda: all(writer_of(a)[0] == old for a in agents), 15, f"{old} back as the writer (failback)")
            print(f"failback set by a reload: {old} is the writer again, epoch {writer_of(agents[0])[1]}")
        finally:
            for a in agents:
                a.stop()

    def test_a_drain_of_the_writer_moves_the_role_first_under_a_pooled_load(self):
        with writer_agent(self.lab) as agent:
            wait_for(lambda: writer_of(agent)[0], 15, "a writer")
            old, epoch = writer_of(agent)
            app = PooledApp("sqlalchemy-pre-ping", agent.ports["rw"], self.lab.app_user,
                            self._app_password_file(agent), self.lab.app_database, agent.dir)
            app.start()
            try:
                wait_for(lambda: (app.events("progress") or [{}])[-1].get("ok", 0) > 50, 30, "pooled requests")
                r = agent.galeratop("drain", old, "--wait", "--timeout", "60s")
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                new, new_epoch = writer_of(agent)
                at_drain = (app.events("progress") or [{}])[-1].get("ok", 0)
                wait_for(lambda: (app.events("progress") or [{}])[-1].get("ok", 0) > at_drain + 50, 30,
                         "pooled requests on the new writer")
                # The role moved back by hand, under the same load: `writer --wait` returns once it is settled.
                self.assertEqual(agent.galeratop("ready", old).returncode, 0)
                moved = agent.galeratop("writer", old, "--wait", "--timeout", "60s")
                self.assertEqual(moved.returncode, 0, moved.stdout + moved.stderr)
                back = writer_of(agent)
                at_move = (app.events("progress") or [{}])[-1].get("ok", 0)
                wait_for(lambda: (app.events("progress") or [{}])[-1].get("ok", 0) > at_move + 50, 30,
                         "pooled requests on the writer moved back")
            finally:
                result = app.stop(grace=60)
                agent.galeratop("ready", old)
        print(f"drain of the writer {old}: role moved to {new} (epoch {epoch} -> {new_epoch}); `galeratop writer "
              f"{old} --wait`: {moved.stdout.strip().splitlines()[-1]}; pooled app {result['requests']} requests, "
              f"{result['failed']} failed, by node {result['by_node']}")
        self.assertEqual(back, (old, new_epoch + 1))
        self.assertNotEqual(new, old)
        self.assertIsNotNone(new)
        self.assertEqual(result["failed"], 0, result["error_samples"])
        self.assertEqual(set(result["by_node"]), {old, new}, "the pool did not move from the old writer to the new")

    def _app_password_file(self, agent):
        f = agent.dir / "app.pass"
        f.write_text(self.lab.app_password + "\n")
        f.chmod(0o600)
        return f

    def test_a_writer_cut_off_into_a_non_primary_partition_gets_no_write(self):
        # Also what any node cut off goes through (this folds the former test_isolate): it is
        # excluded, its open sessions are closed with an error, the others' are untouched, the
        # split is reported (advisory `partitioned`, two partitions), and it is readmitted after.
        with writer_agent(self.lab, metrics=True) as agent:
            wait_for(lambda: writer_of(agent)[0], 15, "a writer")
            old, _ = writer_of(agent)
            index = lab_index(agent, old)
            # One balance-listener session per node (leastconn, before any other session exists).
            held = [app_connect(agent.ports["app"]) for _ in range(3)]
            on_old = [c for c in held if node_of(c) == old]
            self.assertEqual(len(on_old), 1)
            outcome = {}

            def sleeper():
                try:
                    with on_old[0].cursor() as cur:
                        cur.execute("SELECT SLEEP(60)")
                    outcome["error"] = None
                except Exception as e:  # the expected end: the session is closed under it
                    outcome["error"] = repr(e)
                outcome["at"] = time.time()

            try:
                with WriteProbe(agent.ports["rw"]) as probe:
                    wait_for(lambda: len(probe.acked) > 50, 30, "writes through the writer listener")
                    t = threading.Thread(target=sleeper)
                    t.start()
                    isolated_at = time.time()
                    self.lab.isolate(index, True)
                    # Writes acknowledged before the node left the Primary component are legitimate:
                    # from its exclusion (the agent sees it non-Primary) on, it must take none.
                    excluded = agent.wait_transition(self.lab.node(index)["port"], lambda t: t[1] == "non_primary",
                                                     30, "the writer non-Primary", after=isolated_at)[0]
                    wait_for(lambda: writer_of(agent)[0] not in (None, old), 60, "a writer in the Primary side")
                    switched_at = time.time()
                    new, _ = writer_of(agent)
                    wait_for(lambda: len(probe.acked_since(switched_at)) > 50, 30, "writes on the new writer")
                t.join(10)
                self.assertFalse(t.is_alive(), "the session on the isolated node was not closed")
                self.assertIsNotNone(outcome["error"], "the session on the isolated node ended without an error")
                self.assertLess(outcome["at"] - excluded, 1.0)
                for c in held:
                    if c is not on_old[0]:
                        with c.cursor() as cur:  # the other nodes' sessions are untouched
                            cur.execute("SELECT 1")
                    c.close()
                wait_for(lambda: agent.samples("galeratop_cluster_partitions") == [2.0], 10, "two partitions")
                advisories = wait_for(lambda: "partitioned" in agent.advisories() and agent.advisories(), 10,
                                      "the partitioned advisory")
                self.assertEqual(advisories["partitioned"], {old})
            finally:
                self.lab.isolate(index, False)
            on_isolated = [a for a in probe.acked_since(excluded) if a[0] == old]
            after_switch = {a[0] for a in probe.acked_since(switched_at)}
            print(f"{old} isolated: non-Primary {excluded - isolated_at:.1f} s later, its balance session closed "
                  f"{(outcome['at'] - excluded) * 1000:.0f} ms after that, writer listeners on {new} "
                  f"{switched_at - excluded:.2f} s after it; {len(probe.acked_since(excluded))} writes acknowledged "
                  f"since, {len(on_isolated)} by {old}; {len(probe.failures)} failed requests")
            self.assertEqual(on_isolated, [], f"the isolated {old} acknowledged writes")
            self.assertEqual(after_switch, {new})
            readmitted = agent.wait_transition(self.lab.node(index)["port"], lambda x: x[2] == "eligible", 60,
                                               "readmission", after=excluded)[0]
            self.assertEqual(self.lab.status(index)["wsrep_cluster_status"], "Primary")
            print(f"{old} readmitted {readmitted - excluded:.1f} s after its exclusion")
            # The isolated side stored nothing of what was written meanwhile under its name.
            stored = self.lab.sql(1, f"SELECT COUNT(*) FROM {self.lab.app_database}.writer_probe "
                                     f"WHERE node = '{old}' AND at > FROM_UNIXTIME({excluded})")
            self.assertEqual(stored[0][0], "0")
            wait_for(lambda: "partitioned" not in agent.advisories(), 30, "the partitioned advisory to clear")
            self.assertEqual(agent.samples("galeratop_cluster_partitions"), [1.0])

    def test_an_agent_that_cannot_read_the_writer_row_keeps_its_writer_and_chooses_no_other(self):
        with writer_agent(self.lab, node_config={1: "writer_priority = 5\n"},
                          balancer_config='hold = "2s"\n') as agent:
            wait_for(lambda: writer_of(agent)[0], 15, "a writer")
            self.assertEqual(writer_of(agent), ("node1", 1))
            group = f"agent_group = '{agent.intents_group}'"
            self.lab.sql(1, f"UPDATE galeratop.writer SET epoch = 0 WHERE {group}")
            try:
                wait_for(lambda: not agent.status()["writer"]["row"]["readable"], 10, "the row unreadable")
                # Availability: nothing says the writer moved, and it can write.
                self.assertEqual(node_name_via(agent.ports["rw"]), "node1")
                r = agent.galeratop("drain", "node1")
                self.assertEqual(r.returncode, 0, r.stderr)
                # Safety: no other writer is chosen by an agent that cannot see the row.
                started = time.monotonic()
                with self.assertRaises(pymysql.err.OperationalError) as refused:
                    node_name_via(agent.ports["rw"])
                waited = time.monotonic() - started
                code, message = refused.exception.args
                print(f"row unreadable, writer drained: a writer-listener client refused after {waited:.1f} s: "
                      f"{code} {message}")
                self.assertEqual(code, 1047)
                self.assertGreaterEqual(waited, 2.0)  # held for [balancer] hold first
                self.assertIn("cannot be read, so no other writer is chosen", message)
                self.assertEqual(self.lab.sql(1, f"SELECT epoch FROM galeratop.writer WHERE {group}"), [("0",)])
            finally:
                self.lab.sql(1, f"UPDATE galeratop.writer SET epoch = 1 WHERE {group}")
            wait_for(lambda: writer_of(agent) == ("node2", 2), 15, "node2 chosen once the row is readable")
            self.assertEqual(node_name_via(agent.ports["rw"]), "node2")
            agent.galeratop("ready", "node1")


if __name__ == "__main__":
    unittest.main()
