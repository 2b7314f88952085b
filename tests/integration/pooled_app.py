"""A pooled application as a separate process: N workers share a pool of N connections that
are never closed per request, and each request writes and reads back one row in one
transaction. It measures what an application holding a pool sees while galeratopd (or a
node) ends its sessions.

Stacks:
  sqlalchemy           SQLAlchemy + PyMySQL, the default QueuePool (pool_size=N, max_overflow=0),
                       no pre-ping: a connection the pool hands out may already be dead.
  sqlalchemy-pre-ping  the same with pool_pre_ping=True: every checkout pings first and silently
                       replaces a dead connection.
  node-mysql           Node.js with Debian's node-mysql (mysqljs, mysql.createPool,
                       connectionLimit=N), pooled_app.js. Note: mysqljs pings every free
                       connection on checkout and drops connections that end while idle, so it
                       behaves like a pre-ping pool.

One request: check a connection out of the pool; in one transaction INSERT a row
pooled_writes(id, stack, at) with a new unique id, SELECT it back (with @@wsrep_node_name)
in the same transaction, COMMIT; give the connection back; think 2-8 ms (so pool
connections also sit idle), 50 ms more after a failed request. The id of every request whose COMMIT returned OK is
"acknowledged" and must be stored.

Classification of a failed request (the first error of the request decides; the same rule
is implemented in pooled_app.js):
  not_executed  the request is known not to have been run by the server:
                - the error came while getting a connection from the pool (connect refused
                  or timed out, handshake error, the pool's own liveness check), i.e. before
                  any statement of the request was sent;
                - the statement was never written: PyMySQL 2006 "MySQL server has gone away"
                  (raised only when the write fails), InterfaceError(0, '') / "already
                  closed"; mysqljs PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR / _AFTER_QUIT /
                  _AFTER_DESTROY;
                - a server ERR packet (code < 2000) whose message says the statement was not
                  executed (regex NOT_EXECUTED below), e.g. the ERR 1927 galeratopd sends when
                  it ends a pooled session at a safe point.
  mid_query     a statement of the request had been written and its outcome is unknown:
                - the connection was lost with no answer: PyMySQL 2013 "Lost connection to
                  MySQL server during query" (EOF, reset or read timeout), 2055;
                  mysqljs PROTOCOL_CONNECTION_LOST, ECONNRESET, EPIPE,
                  PROTOCOL_SEQUENCE_TIMEOUT, any other error with err.fatal delivered to a
                  statement's callback;
                - a server ERR whose message says the outcome is unknown (regex UNKNOWN);
                - a server ERR that means "your session/statement was killed while it ran"
                  (1927 ER_CONNECTION_KILLED, 1053 ER_SERVER_SHUTDOWN, 1317
                  ER_QUERY_INTERRUPTED, 3169, 4031) whose message does not say "not executed".
                Caveat: a client cannot tell a connection that was closed while idle from one
                lost mid-statement: PyMySQL writes the next statement into the socket buffer
                and then reads EOF (2013), and it also reports 2013 for an ERR packet sent
                with sequence number 0 (an unsolicited ERR, as MariaDB sends at shutdown). So
                a balancer that wants a pooled client to see "not executed" must answer the
                client's next command with the ERR (sequence 1), not close or push an ERR.
  other         anything else: any other server ERR (the server refused the statement and
                the transaction rolled back: 1047, 1213, ...), the read-back did not return
                the row, an unexpected exception.
A mid_query failure whose statement was the COMMIT leaves its id "in doubt" (listed apart:
it may or may not be stored).

failed = failed_mid_query + failed_not_executed + failed_other.

CLI:
  pooled_app.py --stack STACK --host H --port P --user U --password-file F --db D
                --workers N [--seconds S] --out result.json [--stop-on-stdin-eof]
Runs until --seconds pass, SIGTERM/SIGINT, or (with --stop-on-stdin-eof) its stdin closes;
then finishes the requests in flight, writes result.json, the acknowledged ids to
result.json.acked (one per line), and exits 0. Prints {"event": "ready"} on stdout once every
worker has finished its first request, then a progress line every 5 s. The node-mysql stack
creates the table here, then execs node on pooled_app.js (same PID).

result.json: stack, pid, workers, started_at, seconds, requests, ok, failed,
failed_mid_query, failed_not_executed, failed_other, failed_by_step {step: n},
error_samples (up to 5 per class: at = the request's start time, class, step, code, message),
failures (the first 500, same shape), acknowledged (count), acknowledged_file, in_doubt_ids,
by_node {wsrep_node_name: acknowledged requests}, connections_opened (the pool's connects),
close_errors (SQLAlchemy: Connection.close() raised, see run_sqlalchemy), workers_hung, and
pool_at_end (SQLAlchemy's pool status once every worker is done). kill -USR1 PID dumps every
Python thread's stack into the log.

From a test: PooledApp(stack, port, ...).start() ... .stop() -> the result dict;
missing_acknowledged(conn, ids) -> the ids not stored.
"""

import argparse
import faulthandler
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
STACKS = ("sqlalchemy", "sqlalchemy-pre-ping", "node-mysql")
TABLE = "pooled_writes"
CREATE_TABLE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (id VARCHAR(64) PRIMARY KEY, stack VARCHAR(32) NOT NULL, "
                "at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB")

# The two message rules (pooled_app.js has the same regexes).
UNKNOWN = re.compile(r"outcome\s+(is\s+)?unknown|unknown\s+outcome|may\s+(or\s+may\s+not\s+)?have\s+(been\s+)?"
                     r"(executed|committed|run)", re.I)
NOT_EXECUTED = re.compile(r"not\s+(been\s+)?executed|nothing\s+(was\s+|has\s+been\s+)?(executed|run)|"
                          r"was\s+not\s+(run|executed)|before\s+it\s+(ran|was\s+executed)", re.I)
KILLED_CODES = {1927, 1053, 1317, 3169, 4031}
LOST_CODES = {2013, 2055}           # written, no answer
NOT_SENT_CODES = {2006}             # PyMySQL: the write itself failed
CONNECT_CODES = {2002, 2003, 2005}  # never connected
THINK_MS = (2.0, 8.0)
FAILED_PAUSE_S = 0.05  # after a failed request, as a real caller would not retry in a tight loop
SAMPLES_PER_CLASS = 5
FAILURES_KEPT = 500


def classify(step, code, message, server, sent):
    """The rule of the docstring. step: "checkout" or the statement ("insert", "select",
    "commit", "readback"); server: an ERR packet from the server; sent: whether the statement
    was written (None when not known from the error itself)."""
    if step == "checkout":
        return "not_executed"
    if step == "readback":
        return "other"
    if server:
        if UNKNOWN.search(message or ""):
            return "mid_query"
        if NOT_EXECUTED.search(message or ""):
            return "not_executed"
        if code in KILLED_CODES:
            return "mid_query"
        return "other"
    if sent is False:
        return "not_executed"
    if sent is True:
        return "mid_query"
    return "other"


def classify_python(step, exc):
    """(class, code, message) of an exception raised by SQLAlchemy/PyMySQL at `step`."""
    import pymysql
    e = getattr(exc, "orig", None) or exc
    code, message = None, str(e)
    if isinstance(e, pymysql.err.Error) and len(e.args) >= 1 and isinstance(e.args[0], int):
        code = e.args[0]
        message = str(e.args[1]) if len(e.args) > 1 else ""
    server = code is not None and 0 < code < 2000
    sent = None
    if code in LOST_CODES:
        sent = True
    elif code in NOT_SENT_CODES or code in CONNECT_CODES:
        sent = False
    elif isinstance(e, pymysql.err.InterfaceError) and (code == 0 or "already closed" in message):
        sent = False  # PyMySQL refuses to write on a connection it already closed
    return classify(step, code, message, server, sent), code, message


class Recorder:
    """Counts and samples, shared by the worker threads."""

    def __init__(self, stack):
        self.stack = stack
        self.lock = threading.Lock()
        self.requests = self.ok = 0
        self.by_class = {"mid_query": 0, "not_executed": 0, "other": 0}
        self.by_step = {}
        self.by_node = {}
        self.samples = []
        self.failures = []
        self.acked = []
        self.in_doubt = []
        self.connects = 0
        self.close_errors = 0
        self.close_error_samples = []
        self.started = time.time()

    def success(self, rid, node):
        with self.lock:
            self.requests += 1
            self.ok += 1
            self.acked.append(rid)
            self.by_node[node] = self.by_node.get(node, 0) + 1

    def failure(self, rid, step, klass, code, message, at):
        with self.lock:
            self.requests += 1
            self.by_class[klass] += 1
            self.by_step[step] = self.by_step.get(step, 0) + 1
            if klass == "mid_query" and step == "commit":
                self.in_doubt.append(rid)
            entry = {"at": round(at, 3), "class": klass, "step": step, "code": code, "message": message[:300]}
            if sum(1 for s in self.samples if s["class"] == klass) < SAMPLES_PER_CLASS:
                self.samples.append(entry)
            if len(self.failures) < FAILURES_KEPT:
                self.failures.append(entry)

    def close_error(self, exc):
        with self.lock:
            self.close_errors += 1
            if len(self.close_error_samples) < SAMPLES_PER_CLASS:
                self.close_error_samples.append(str(getattr(exc, "orig", None) or exc)[:300])

    def result(self, out, workers, extra=None):
        with self.lock:
            acked_file = str(out) + ".acked"
            Path(acked_file).write_text("".join(i + "\n" for i in self.acked))
            failed = sum(self.by_class.values())
            r = {"stack": self.stack, "pid": os.getpid(), "workers": workers,
                 "started_at": self.started, "seconds": round(time.time() - self.started, 3),
                 "requests": self.requests, "ok": self.ok, "failed": failed,
                 "failed_mid_query": self.by_class["mid_query"],
                 "failed_not_executed": self.by_class["not_executed"],
                 "failed_other": self.by_class["other"], "failed_by_step": self.by_step,
                 "error_samples": self.samples, "failures": self.failures,
                 "acknowledged": len(self.acked), "acknowledged_file": acked_file,
                 "in_doubt_ids": self.in_doubt, "by_node": self.by_node,
                 "connections_opened": self.connects, "close_errors": self.close_errors,
                 "close_error_samples": self.close_error_samples}
            r.update(extra or {})
            return r

    def progress(self):
        with self.lock:
            return {"event": "progress", "t": round(time.time() - self.started, 1), "requests": self.requests,
                    "ok": self.ok, **{f"failed_{k}": v for k, v in self.by_class.items()},
                    "connections_opened": self.connects, "close_errors": self.close_errors}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def ensure_table(host, port, user, password, db):
    """Creates pooled_writes if missing (one short connection, retried for a few seconds)."""
    import pymysql
    deadline = time.monotonic() + 30
    while True:
        try:
            with pymysql.connect(host=host, port=port, user=user, password=password, database=db,
                                 connect_timeout=5, read_timeout=30, autocommit=True) as c, c.cursor() as cur:
                # Only when missing: in Galera even CREATE TABLE IF NOT EXISTS on an existing table
                # is replicated in TOI and aborts the transactions in flight on it (1213 at COMMIT).
                cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
                            "AND table_name = %s", (TABLE,))
                if cur.fetchone()[0] == 0:
                    cur.execute(CREATE_TABLE)
            return
        except pymysql.err.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run_sqlalchemy(a, password, stop, recorder):
    import sqlalchemy as sa
    engine = sa.create_engine(
        sa.engine.URL.create("mysql+pymysql", username=a.user, password=password, host=a.host, port=a.port,
                             database=a.db),
        pool_size=a.workers, max_overflow=0, pool_timeout=30, pool_pre_ping=(a.stack == "sqlalchemy-pre-ping"),
        connect_args={"connect_timeout": 5, "read_timeout": 30, "write_timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _connected(*_):
        with recorder.lock:
            recorder.connects += 1

    insert = sa.text(f"INSERT INTO {TABLE} (id, stack, at) VALUES (:id, :stack, NOW(6))")
    select = sa.text(f"SELECT stack, @@wsrep_node_name FROM {TABLE} WHERE id = :id")
    prefix = f"{a.stack}-{uuid.uuid4().hex[:12]}"
    counter = iter(range(1 << 62))
    counter_lock = threading.Lock()
    first_done = threading.Barrier(a.workers + 1)

    def one():
        """One request; True when it succeeded."""
        with counter_lock:
            rid = f"{prefix}-{next(counter)}"
        started = time.time()
        step = "checkout"
        try:
            conn = engine.connect()
        except Exception as e:  # every failure is the measurement
            recorder.failure(rid, step, *classify_python(step, e), started)
            return False
        try:
            trans = conn.begin()  # no statement on the wire: the INSERT opens the transaction
            step = "insert"
            conn.execute(insert, {"id": rid, "stack": a.stack})
            step = "select"
            row = conn.execute(select, {"id": rid}).fetchone()
            if row is None or row[0] != a.stack:
                step = "readback"
                raise AssertionError(f"the row just written reads back as {row!r}")
            step = "commit"
            trans.commit()
            recorder.success(rid, row[1])
            return True
        except Exception as e:
            recorder.failure(rid, step, *classify_python(step, e), started)
            return False
        finally:
            try:
                conn.close()  # back to the pool (rolled back, or invalidated after a disconnect)
            except Exception as e:
                # SQLAlchemy 1.4: when the ROLLBACK of close() fails with an error that is not a
                # disconnect (1047 from a node shutting down), close() raises and the connection
                # stays checked out until the cyclic GC finalizes it: the pool can run dry.
                recorder.close_error(e)

    def worker():
        first = True
        while not stop.is_set():
            succeeded = one()
            if first:
                first = False
                try:
                    first_done.wait()
                except threading.BrokenBarrierError:
                    pass
            stop.wait(random.uniform(*THINK_MS) / 1000 + (0 if succeeded else FAILED_PAUSE_S))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.workers)]
    for t in threads:
        t.start()
    try:
        first_done.wait(timeout=60)
        emit({"event": "ready", "pid": os.getpid()})
    except threading.BrokenBarrierError:
        emit({"event": "not-ready", "pid": os.getpid()})
    while not stop.wait(5):
        emit({**recorder.progress(), "pool": engine.pool.status()})
    deadline = time.monotonic() + 30  # one bound for all: the result is written well inside a test's grace
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    hung = sum(t.is_alive() for t in threads)
    pool_status = engine.pool.status()
    try:
        engine.dispose()
    except Exception:
        pass
    return {"workers_hung": hung, "pool_at_end": pool_status}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stack", choices=STACKS, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--seconds", type=float, default=0, help="0: until stopped")
    p.add_argument("--out", required=True)
    p.add_argument("--stop-on-stdin-eof", action="store_true")
    p.add_argument("--no-create-table", action="store_true")
    a = p.parse_args(argv)
    password = Path(a.password_file).read_text().strip()
    if not a.no_create_table:
        ensure_table(a.host, a.port, a.user, password, a.db)
    if a.stack == "node-mysql":
        node = shutil.which("node") or shutil.which("nodejs")
        if not node:
            sys.exit("pooled_app: node is not installed (scripts/install-deps)")
        os.environ.setdefault("NODE_PATH", "/usr/share/nodejs:/usr/lib/nodejs")
        args = [node, str(HERE / "pooled_app.js"), "--stack", a.stack, "--host", a.host, "--port", str(a.port),
                "--user", a.user, "--password-file", a.password_file, "--db", a.db, "--workers", str(a.workers),
                "--seconds", str(a.seconds), "--out", a.out] + (["--stop-on-stdin-eof"] if a.stop_on_stdin_eof else [])
        sys.stdout.flush()
        os.execv(node, args)

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 PID: every thread's stack to the log
    stop = threading.Event()
    # A signal handler runs on the main thread between two bytecodes, maybe inside stop.wait()
    # holding the Event's lock: setting the Event from there can deadlock on that lock (a test's
    # second SIGTERM did). The handler only notes the signal; a thread sets the Event.
    signalled = []
    signal.signal(signal.SIGTERM, lambda *_: signalled.append(True))
    signal.signal(signal.SIGINT, lambda *_: signalled.append(True))

    def pass_signals_on():
        while not stop.wait(0.1):
            if signalled:
                stop.set()
    threading.Thread(target=pass_signals_on, daemon=True).start()
    if a.stop_on_stdin_eof:
        def watch_stdin():
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()
    if a.seconds:
        timer = threading.Timer(a.seconds, stop.set)
        timer.daemon = True
        timer.start()
    recorder = Recorder(a.stack)
    extra = run_sqlalchemy(a, password, stop, recorder)
    result = recorder.result(a.out, a.workers, extra)
    tmp = a.out + ".tmp"
    Path(tmp).write_text(json.dumps(result, indent=1))
    os.replace(tmp, a.out)
    emit({"event": "done", "requests": result["requests"], "failed": result["failed"]})
    return 0


# --- the test side ---------------------------------------------------------------------

def _die_with_parent():
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class PooledApp:
    """One pooled application process, started and stopped by its PID.

        app = PooledApp("sqlalchemy", port, user, password_file, db, directory).start()
        ...
        result = app.stop()   # SIGTERM, bounded wait, then SIGKILL; the result dict
    """

    def __init__(self, stack, port, user, password_file, db, directory, workers=4, host="127.0.0.1",
                 python="/usr/bin/python3"):
        self.stack, self.port = stack, port
        self.dir = Path(tempfile.mkdtemp(prefix=f"pooled-{stack}-", dir=directory))
        self.out = self.dir / "result.json"
        self.log_path = self.dir / "app.log"
        self.cmd = [python, str(HERE / "pooled_app.py"), "--stack", stack, "--host", host, "--port", str(port),
                    "--user", user, "--password-file", str(password_file), "--db", db, "--workers", str(workers),
                    "--out", str(self.out), "--stop-on-stdin-eof"]
        self.proc = None
        self.terminated = False
        self.result = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self, ready_timeout=60):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        self.terminated = False
        deadline = time.monotonic() + ready_timeout
        while not self.events("ready"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop(grace=5)
                raise AssertionError(f"{self.stack}: not ready (exit {self.proc.returncode}):\n{self.log_text()}")
            time.sleep(0.1)
        return self

    def events(self, name):
        """The JSON lines the app printed with event `name`."""
        out = []
        for line in self.log_text().splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("event") == name:
                out.append(obj)
        return out

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self):
        """SIGTERM: the app finishes its requests in flight, writes its result and exits. stop()
        waits for it; several apps stop in parallel with terminate() on each, then stop()."""
        if self.proc is not None and self.proc.poll() is None and not self.terminated:
            self.terminated = True  # once: a second signal only races the first
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, grace=90):
        """terminate(), then SIGKILL after `grace` s. Returns the result dict, or None when the
        app wrote none."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if not self.log.closed:
            self.log.close()
        if self.out.exists():
            self.result = json.loads(self.out.read_text())
        return self.result

    def acknowledged_ids(self):
        f = Path(self.result["acknowledged_file"]) if self.result else None
        return f.read_text().split() if f and f.exists() else []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def missing_acknowledged(conn, ids, chunk=1000):
    """The ids of `ids` that are not in pooled_writes (conn: a PyMySQL connection)."""
    missing = []
    with conn.cursor() as cur:
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            cur.execute(f"SELECT id FROM {TABLE} WHERE id IN ({','.join(['%s'] * len(part))})", part)
            found = {r[0] for r in cur.fetchall()}
            missing += [x for x in part if x not in found]
    return missing


if __name__ == "__main__":
    sys.exit(main())
