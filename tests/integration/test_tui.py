"""The live screen in a real terminal (tmux): 12 sessions show as 4/4/4 on three Synced nodes;
d+y drains the selected node and the screen shows its count falling while `galeratop status
--json` agrees; the events pane shows who drained the node and when its last session closed;
u+y readmits it; a CLI drain shows on the screen (one source of truth); the agent's last-node
refusal shows on the screen; Enter shows a node's detail, whose figures (sessions in a
transaction, last committed, receive queue, failed checks, who changed its intent and when) are
those of `galeratop status --json`, and Esc goes back; a desynced node turns yellow, and is an event within a second; a
killed agent shows DISCONNECTED and the screen comes back when it restarts; 80x24 keeps every
node on one line, 200x50 adds the minute sparklines of queries and latency; q, Ctrl-C and
SIGTERM all exit 0 and leave the terminal usable. With two agents (--control twice), the screen
says whether they agree, Tab shows the other, its admin keys ask that one, and a drain one agent
keeps to itself is named as a disagreement."""

import os
import re
import shlex
import signal
import time
import unittest

import pymysql

from harness import Agent, LabTestCase, node_of, Tmux, app_connect, wait_for

# NODE [ADDRESS] STATE ADMIN ELIG CONN: the address column is dropped on narrow screens.
ROW = re.compile(r"^[> ](\S+)\s+(?:127\.0\.0\.1:\d+\s+)?(\w+)\s+(\w+)\s+(yes|no)\s+(\d+)")


def rows(text):
    """{name: (state, admin, eligible, connections)} of the node rows on the screen."""
    out = {}
    for line in text.split("\n"):
        m = ROW.match(line)
        if m:
            out[m.group(1)] = (m.group(2), m.group(3), m.group(4), int(m.group(5)))
    return out


def screen_command(agent):
    """galeratop on the agent, then its exit code and whether the terminal is back in cooked mode."""
    # The shell catches SIGINT (for itself only: a caught signal is reset in the child) so that
    # Ctrl-C ends galeratop and the shell goes on to report.
    command = (f"trap : INT; LANG=C.UTF-8 {shlex.quote(os.environ['GALERATOP'])} --control {shlex.quote(str(agent.control))} "
               f"--interval 250ms; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' "
               f"| tr '\\n' ' '; echo; sleep 600")
    return f"sh -c {shlex.quote(command)}"


class LiveScreen(LabTestCase):
    def tearDown(self):
        self.lab.desync(3, False)
        super().tearDown()

    def test_live_screen(self):
        with Agent(self.lab) as agent:
            names = [agent.node_status(i)["name"] for i in (1, 2, 3)]
            held = [app_connect(agent.port) for _ in range(12)]
            try:
                self._run(agent, names, held)
            finally:
                for c in held:
                    if c.open:
                        c.close()

    def test_signals_restore_the_terminal(self):
        with Agent(self.lab) as agent:
            for how in ("C-c", "SIGTERM"):
                with Tmux(screen_command(agent), 100, 30) as term:
                    term.wait_screen(lambda t: len(rows(t)) == 3, 15, "the nodes")
                    if how == "C-c":
                        term.send("C-c")
                    else:
                        for pid in term.children():
                            os.kill(pid, signal.SIGTERM)
                    term.wait_screen(lambda t: re.search(r"(?m)^-?icanon -?echo", t), 5, f"galeratop to end on {how}")
                    self.assertIn("EXIT=0", term.text(), how)
                    self.assertRegex(term.text(), r"(?m)^icanon echo\s*$", how)

    def test_two_agents_their_disagreement_and_tab(self):
        """galeratop --control A --control-file F (naming B): the agents line says they agree; Tab shows B, whose
        intents are kept local (shared = false), and d+y drains a node on B alone: the screen names
        the disagreement; u+y on B ends it."""
        with Agent(self.lab) as a, Agent(self.lab, intents_group=a.intents_group, intents_config="shared = false") as b:
            target = a.node_status(2)["name"]
            # A command asks one agent; a file that names none is refused.
            several = a.galeratop("--control", str(b.control), "status")
            self.assertEqual(several.returncode, 2)
            self.assertIn("status asks one agent", several.stderr)
            agents_file = a.dir / "agents"
            agents_file.write_text("# the other agent of the pair\n\n")
            empty = a.galeratop("--control-file", str(agents_file))
            self.assertEqual(empty.returncode, 2)
            self.assertIn("names no agent", empty.stderr)
            agents_file.write_text(f"# the other agent of the pair\n\n  {b.control}\n")
            command = (f"LANG=C.UTF-8 {shlex.quote(os.environ['GALERATOP'])} --control {shlex.quote(str(a.control))} "
                       f"--control-file {shlex.quote(str(agents_file))} --interval 250ms")
            with Tmux(command, 120, 35) as term:
                term.wait_screen(lambda t: "agree on intents and the writer" in t and len(rows(t)) == 3, 15, "two agents")
                self.assertIn(f"[1] {a.control}", term.text())
                term.send("Tab")
                term.wait_screen(lambda t: f"agent [2] {b.control}" in t, 5, "agent B shown")
                term.send("j", "d")
                term.wait_screen(lambda t: f"drain {target} (" in t and "[y/N]" in t, 5, "the drain question")
                term.send("y")
                disagree = term.wait_screen(lambda t: "DISAGREE (1)" in t and t, 5, "the disagreement")
                print("\n".join(term.screen()[:12]))
                self.assertIn(f"{target} (127.0.0.1:{self.lab.node(2)['port']}) admin: ready on [1], drain on [2]", disagree)
                self.assertEqual(rows(disagree)[target][1], "drain")  # B's table
                self.assertEqual((a.node_status(2)["admin"], b.node_status(2)["admin"]), ("ready", "drain"))
                term.send("Tab")
                term.wait_screen(lambda t: f"agent [1] {a.control}" in t and rows(t)[target][1] == "ready", 5,
                                 "agent A shown, node ready there")
                term.send("Tab", "u")
                term.wait_screen(lambda t: "[y/N]" in t, 5, "the ready question")
                term.send("y")
                term.wait_screen(lambda t: "agree on intents and the writer" in t, 5, "the agents agreeing again")
                self.assertEqual(b.node_status(2)["admin"], "ready")

    def _run(self, agent, names, held):
        with Tmux(screen_command(agent), 120, 35) as term:
            even = term.wait_screen(lambda t: [r[3] for r in rows(t).values()] == [4, 4, 4], 15, "4/4/4")
            print("\n".join(term.screen()[:8]))
            self.assertEqual({n: r[0] for n, r in rows(term.text()).items()}, {n: "synced" for n in names})
            self.assertTrue(even)

            # d then y on the second node: drained on the screen and in `galeratop status --json`.
            target = names[1]
            # Its four sessions are in transactions: the drain closes each after its COMMIT.
            mine = [c for c in held if node_of(c) == target]
            self.assertEqual(len(mine), 4)
            for c in mine:
                c.begin()
            term.send("j", "d")
            term.wait_screen(lambda t: f"drain {target} (" in t and "[y/N]" in t, 5, "the drain question")
            term.send("y")
            term.wait_screen(lambda t: rows(t).get(target, ("",) * 4)[1] == "drain", 5, f"{target} drained")
            self.assertEqual(agent.node_status(2)["admin"], "drain")
            # They end one by one: the screen follows the count down.
            seen = []
            for left, c in zip((3, 2, 1, 0), mine):
                c.commit()
                term.wait_screen(lambda t, left=left: rows(t)[target][3] == left, 5, f"{left} left on {target}")
                seen.append(left)
                if left == 2:
                    print("\n".join(term.screen()[:12]))
            self.assertEqual(seen, [3, 2, 1, 0])
            self.assertIn(f"drain {target}: 0 connection(s) left", term.text())
            # The events pane, in the lines the table leaves free: who drained it, and when it was done.
            term.wait_screen(lambda t: f"{target}  drain: its last session closed" in t, 5, "the drained event")
            drained = term.text()
            self.assertRegex(drained, rf"operator +{target}  admin ready -> drain; 4 connection\(s\) open \(by uid {os.getuid()} ")
            print("\n".join(l for l in term.screen() if "Events" in l or re.match(r"^ \d\d:\d\d:\d\d  ", l)))
            self.assertEqual(agent.node_status(2)["connections"], 0)

            term.send("u")
            term.wait_screen(lambda t: "[y/N]" in t, 5, "the ready question")
            term.send("y")
            term.wait_screen(lambda t: rows(t)[target][1:3] == ("ready", "yes"), 5, f"{target} back")
            self.assertEqual(agent.node_status(2)["admin"], "ready")

            # A drain from the CLI shows on the screen: one source of truth.
            self.assertEqual(agent.galeratop("drain", names[0]).returncode, 0)
            term.wait_screen(lambda t: rows(t)[names[0]][1] == "drain", 5, "the CLI's drain")
            # With two nodes drained, d+y on the third shows the agent's refusal and changes nothing.
            self.assertEqual(agent.galeratop("drain", names[1]).returncode, 0)
            term.send("G", "d")
            term.wait_screen(lambda t: f"drain {names[2]} (" in t and "[y/N]" in t, 5, "the drain question")
            term.send("y")
            refusal = term.wait_screen(lambda t: f"[last_node] refused: drain {names[2]} would leave no node" in t, 5,
                                       "the last-node refusal")
            self.assertTrue(refusal)
            self.assertEqual(agent.node_status(3)["admin"], "ready")
            for n in names[:2]:
                self.assertEqual(agent.galeratop("ready", n).returncode, 0)
            term.wait_screen(lambda t: [r[1] for r in rows(t).values()] == ["ready"] * 3, 5, "all ready")
            self._detail(agent, term, names, held)

            # A desynced node turns yellow: the STATE cell of its row is drawn in colour 33.
            desynced_at, desync_wall = time.monotonic(), time.time()
            self.lab.desync(3, True)

            def yellow_donor():
                for line in term.screen(escapes=True):
                    if names[2] in line:
                        m = re.search(r"((?:\x1b\[[0-9;]*m)+)donor", line)
                        return m and "33" in re.split(r"[\[;m\x1b]+", m.group(1))
                return False
            wait_for(yellow_donor, 10, "a yellow donor", interval=0.05)
            took = time.monotonic() - desynced_at
            print(f"desync seen on the screen in yellow after {took * 1000:.0f} ms")
            event = agent.wait_event(lambda e: e["node"] == names[2] and "synced -> donor" in e["message"], 5,
                                     "the desync's event")
            print(f"desync event {(event['at'] - desync_wall) * 1000:.0f} ms after the SET: {event['message']}")
            self.assertLess(event["at"] - desync_wall, 1.0)
            term.wait_screen(lambda t: f"{names[2]}  synced -> donor" in t, 5, "the desync in the events pane")
            self.lab.desync(3, False)
            term.wait_screen(lambda t: rows(t)[names[2]][0] == "synced", 15, "the node synced again")

            # The agent dies: the screen says so, keeps the last view, and comes back with it.
            agent.kill()
            term.wait_screen(lambda t: "DISCONNECTED — retrying" in t, 10, "DISCONNECTED")
            print("\n".join(term.screen()[:3]))
            agent.start()
            term.wait_screen(lambda t: "DISCONNECTED" not in t and len(rows(t)) == 3, 15, "the screen back")

            # 80x24: every node on one line, nothing wider than the screen, nothing wrapped.
            term.resize(80, 24)
            term.wait_screen(lambda t: "ADDRESS" not in t, 5, "the narrow layout")
            lines = term.screen()
            print("\n".join(lines))
            self.assertLessEqual(len(lines), 24)
            self.assertTrue(all(len(l) <= 80 for l in lines))
            self.assertEqual(sorted(rows("\n".join(lines))), sorted(names))
            for n in names:  # in the table once; the events pane may name it too
                self.assertEqual(sum(1 for l in lines if n in l and not l.startswith(" advisor")
                                     and not re.match(r"^ \d\d:\d\d:\d\d  ", l)), 1)

            # 200x50: every column, the minute sparklines of queries and latency too, and the
            # events pane in the lines left free.
            term.resize(200, 50)
            term.wait_screen(lambda t: "QPS 60s" in t and "P99 60s" in t, 5, "the wide layout")
            lines = term.screen()
            self.assertLessEqual(len(lines), 50)
            self.assertTrue(all(len(l) <= 200 for l in lines))
            self.assertEqual(sorted(rows("\n".join(lines))), sorted(names))
            pane = [l for l in lines if re.match(r"^ \d\d:\d\d:\d\d  ", l)]
            self.assertGreaterEqual(len(pane), 6)  # the restarted agent's start: a state and an eligibility per node

            term.send("q")
            term.wait_screen(lambda t: re.search(r"(?m)^-?icanon -?echo", t), 5, "galeratop to exit")
            text = term.text()
            self.assertIn("EXIT=0", text)
            self.assertRegex(text, r"(?m)^icanon echo\s*$")  # cooked mode and echo are back


    def _detail(self, agent, term, names, held):
        """Enter on the third node (selected by G above), then on the second: the node detail's
        figures are those of `galeratop status --json`; Esc goes back to the table."""
        def on_third(c):
            try:
                return node_of(c) == names[2]
            except pymysql.err.OperationalError:  # closed by the drains above
                return False
        third = [c for c in held if on_third(c)]
        self.assertEqual(len(third), 4)
        for c in third[:2]:
            c.begin()
        wait_for(lambda: agent.node_status(3)["in_transaction"] == 2, 5, "two sessions in a transaction")
        term.send("Enter")
        shown = term.wait_screen(lambda t: "SESSIONS 4 open: 2 in a transaction, 2 outside one, 0 opaque" in t and t, 5,
                                 "the third node's detail")
        print("\n".join(term.screen()))
        self.assertIn(f" {names[2]}  127.0.0.1:", shown)
        self.assertNotIn("ADDRESS", shown)  # the table gave way

        def matches(number_on_screen, figure):
            def check():
                n = agent.node_status(3)
                m = re.search(number_on_screen, term.text())
                return m and float(m.group(1)) == float(figure(n))  # wsrep figures arrive as doubles
            return check
        wait_for(matches(r"last committed (\d+)", lambda n: n["wsrep"]["last_committed"]), 5, "last committed as in status")
        wait_for(matches(r"recv queue +(\d+) ", lambda n: n["wsrep"]["local_recv_queue"]), 5, "the receive queue")
        wait_for(matches(r"(\d+) failed check\(s\)", lambda n: n["monitor"]["errors_total"]), 5, "failed checks")
        wait_for(matches(r"per listener: \S+ (\d+)", lambda n: n["connections"]), 5, "the listener's sessions")
        # The second node: drained from this screen, then drained and readied by the CLI; its
        # intent says who changed it last (the CLI's ready) and when, as status does.
        term.send("k")
        intent = agent.node_status(2)["intent"]
        self.assertRegex(intent["by"], rf"^uid {os.getuid()} \(pid \d+\)$")
        line = term.wait_screen(lambda t: f" {names[1]}  127.0.0.1:" in t and "intent:" in t and t, 5,
                                "the second node's detail")
        self.assertIn(f"changed {intent['changed'][11:19]} by {intent['by']}", line)
        term.send("Escape")
        term.wait_screen(lambda t: len(rows(t)) == 3, 5, "the table back")
        for c in third[:2]:
            c.commit()


if __name__ == "__main__":
    unittest.main()
