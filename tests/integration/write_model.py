"""Two load clients that measure Galera's write model through one TCP endpoint (a node, or a
balancer in front of several), importable by tests and runnable as a CLI that prints one JSON
object.

HotRowLoad: `threads` threads, each with its own plain PyMySQL connection in autocommit, run
  UPDATE t SET n = n + 1 WHERE id = <one of `rows` hot rows, at random> as fast as they can for
  `duration` seconds. On one node, conflicting updates wait for each other's row locks and all
  succeed. Spread over several nodes, two nodes can commit conflicting write sets concurrently
  and Galera's certification aborts one of them: the client gets ERROR 1213 (ER_LOCK_DEADLOCK).
  Note: MariaDB retries an autocommit statement that failed certification
  wsrep_retry_autocommit times (default 1) before returning 1213, so the 1213 count is a lower
  bound of the certification conflicts (wsrep_local_cert_failures on the nodes counts them all).
  Counts: ok, deadlock (1213), errors {errno: count} for everything else; a lost connection
  (CONNECTION_LOST: 2006, 2013, ..., or the server's 1927 galeratopd sends when a node dies) is
  counted and reconnected. Which node served each connection
  (SELECT @@wsrep_node_name at connect, reconnects included) is in "nodes".
  Result: {"ok", "deadlock", "errors": {errno: n}, "nodes": {name: connections},
  "duration_s", "updates_per_s", "threads", "rows", "table", "threads_hung"}.

ReadYourWrites: an application with a SQLAlchemy QueuePool (pool_size, max_overflow=0,
  pool_pre_ping=True, autocommit) shared by `workers` threads. One request: check a connection
  out, INSERT a row with a new unique id, give the connection back; check a connection out again
  (whatever the pool gives: with several workers often another connection, through a balancer
  often on another node) and read the row by id WITHOUT wsrep_sync_wait (the session sets
  wsrep_sync_wait=0 at connect). A miss is a read that does not find the row: Galera applies a
  write set on the other nodes after the writer's commit returned. The node of the write is the
  node of the connection that ran it (@@wsrep_node_name at connect, kept in the pool's record of
  the connection; the INSERT also stores it in the row's `writer` column); the read fetches
  @@wsrep_node_name in its own statement. At the end every missed id is looked up again with
  wsrep_sync_wait=1 (misses_stored_at_end: a miss is a late read, not a lost write).
  `requests` is split across the workers; a worker pauses uniform(0, 2 * think_ms) ms between
  two requests (default think_ms=2, as a web app between two hits). The pause matters: with
  think_ms=0 every other worker is inside a statement holding its connection, the queue of idle
  connections holds only the one just given back, and the read gets the write's connection
  about 98% of the time (more workers than pool_size changes nothing: the thread that gives a
  connection back takes it again before a waiting thread wakes). With the pause, idle
  connections pile up in the FIFO QueuePool and the read often gets another one.
  Result: {"requests", "misses", "misses_cross_node", "reads_cross_node", "errors": {errno: n},
  "duration_s", "reads", "reads_same_connection", "writes_by_node", "reads_by_node",
  "misses_stored_at_end", "miss_samples", "connections_opened", "workers", "pool_size",
  "think_ms", "table", "workers_hung"}. requests counts the requests started; reads, the ones
  whose write and read both ran (a failed one is counted in errors only).

Errors are keyed by the MySQL errno (an int; a JSON key is its string) or, for an exception
without one, by its class name ("TimeoutError" for a pool checkout that timed out).

Credentials: by default the lab's app user (harness.lab(), i.e. $LAB_ROOT), as
harness.app_connect does; user/password/database override them. Tables: "db.name", or a bare
name in the connection's database. The default tables live in the lab's app database
(hot_rows, ryw), the one database the lab's app user may create tables in. Setup creates the
database and table only when missing (in Galera even CREATE ... IF NOT EXISTS on an existing
object is replicated in TOI and aborts the transactions in flight on it) and goes through the
same endpoint as the load.

From a test:
    result = HotRowLoad(agent.port, threads=8, duration=10).run()
    with HotRowLoad(port, duration=None) as load:   # until the block ends
        ...
    result = load.result()
    result = ReadYourWrites(agent.port, workers=4, requests=3000).run()

CLI:
    write_model.py hot-rows --port P [--threads N --rows N --duration S]
    write_model.py read-your-writes --port P [--workers N --pool-size N --requests N --think-ms MS]
  both with [--host H --table T --lab-root DIR | --user U --password-file F --database D].
"""

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path

import pymysql

HERE = Path(__file__).resolve().parent
DEADLOCK = 1213
# The session is gone (or never was): reconnect. PyMySQL raises InterfaceError(0, '') on a
# connection it already closed.
CONNECTION_LOST = {0, 2002, 2003, 2005, 2006, 2013, 2055, 1053, 1927, 4031}
ERROR_PAUSE_S = 0.01       # after any error but 1213: a refused node must not make a busy loop
RECONNECT_PAUSE_S = 0.1    # between failed connects
MISS_SAMPLES = 20


def credentials(user=None, password=None, database=None):
    """(user, password, database): the given ones, the rest from the lab's app user."""
    if user is None or password is None or database is None:
        sys.path.insert(0, str(HERE))
        import harness
        the_lab = harness.lab()
        user = the_lab.app_user if user is None else user
        password = the_lab.app_password if password is None else password
        database = the_lab.app_database if database is None else database
    return user, password, database


def errno_of(exc):
    """The MySQL errno of an exception (SQLAlchemy's wrapper or PyMySQL's), else its class name."""
    e = getattr(exc, "orig", None) or exc
    if isinstance(e, pymysql.err.Error) and e.args and isinstance(e.args[0], int):
        return e.args[0]
    return type(e).__name__


def split_table(table):
    """("schema" or None, "name") of "schema.name" or "name"."""
    schema, _, name = table.rpartition(".")
    return (schema or None), name


def quoted(table):
    schema, name = split_table(table)
    return (f"`{schema}`." if schema else "") + f"`{name}`"


def ensure_table(conn, table, create_sql):
    """Creates the table's database and the table (create_sql: its columns) only when missing."""
    schema, name = split_table(table)
    with conn.cursor() as cur:
        if schema:
            cur.execute("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,))
            if cur.fetchone()[0] == 0:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS `{schema}`")
        cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = COALESCE(%s, DATABASE()) "
                    "AND table_name = %s", (schema, name))
        if cur.fetchone()[0] == 0:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {quoted(table)} ({create_sql}) ENGINE=InnoDB")


class _Client:
    """What both loads share: the endpoint, credentials, plain connections."""

    def __init__(self, port, host, user, password, database, timeout):
        self.port, self.host, self.timeout = port, host, timeout
        self.user, self.password, self.database = credentials(user, password, database)

    def connect(self):
        """A plain PyMySQL connection in autocommit, as harness.app_connect makes them."""
        return pymysql.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                               database=self.database, connect_timeout=min(self.timeout, 5),
                               read_timeout=self.timeout, write_timeout=self.timeout, autocommit=True)

    def setup_connection(self, deadline_s=30):
        """A connection for the setup, retried for a few seconds (a balancer just started)."""
        deadline = time.monotonic() + deadline_s
        while True:
            try:
                return self.connect()
            except pymysql.err.Error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


class HotRowLoad(_Client):
    """Concurrent autocommit UPDATEs of a few hot rows; see the module docstring.

    run() -> result; or start() ... stop() -> result; or `with HotRowLoad(...) as load:` (the
    load runs from the block's start until `duration` passes or the block ends; load.result()
    after it). duration=None: until stop()."""

    def __init__(self, port, threads=8, rows=4, duration=15, host="127.0.0.1", table=None, user=None,
                 password=None, database=None, timeout=10):
        super().__init__(port, host, user, password, database, timeout)
        self.threads, self.rows, self.duration = threads, rows, duration
        self.table = table or f"{self.database}.hot_rows"
        self._update = f"UPDATE {quoted(self.table)} SET n = n + 1 WHERE id = %s"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers = []
        self._started = self._ended = None
        self.ok = self.deadlock = 0
        self.errors = {}
        self.nodes = {}
        self.threads_hung = 0

    def setup(self):
        with self.setup_connection() as c:
            ensure_table(c, self.table, "id INT PRIMARY KEY, n BIGINT NOT NULL DEFAULT 0")
            with c.cursor() as cur:
                cur.execute(f"SELECT COUNT(*) FROM {quoted(self.table)} WHERE id BETWEEN 1 AND %s", (self.rows,))
                if cur.fetchone()[0] < self.rows:
                    cur.execute(f"INSERT IGNORE INTO {quoted(self.table)} (id, n) VALUES "
                                + ",".join(f"({i}, 0)" for i in range(1, self.rows + 1)))
        return self

    def _error(self, code):
        with self._lock:
            self.errors[code] = self.errors.get(code, 0) + 1

    def _open(self):
        """A connection and its node; the first read waits for the node to have applied the
        setup (a balancer may put this session on another node than the setup's)."""
        c = self.connect()
        try:
            with c.cursor() as cur:
                cur.execute("SET SESSION wsrep_sync_wait = 1")
                cur.execute(f"SELECT @@wsrep_node_name, COUNT(*) FROM {quoted(self.table)}")
                name = cur.fetchone()[0]
                cur.execute("SET SESSION wsrep_sync_wait = 0")
        except BaseException:
            c.close()
            raise
        with self._lock:
            self.nodes[name] = self.nodes.get(name, 0) + 1
        return c

    def _run(self, deadline):
        conn = None
        rng = random.Random()
        try:
            while not self._stop.is_set() and (deadline is None or time.monotonic() < deadline):
                if conn is None:
                    try:
                        conn = self._open()
                    except Exception as e:  # every failure is the measurement
                        self._error(errno_of(e))
                        self._stop.wait(RECONNECT_PAUSE_S)
                        continue
                try:
                    with conn.cursor() as cur:
                        cur.execute(self._update, (rng.randint(1, self.rows),))
                    with self._lock:
                        self.ok += 1
                except Exception as e:
                    code = errno_of(e)
                    if code == DEADLOCK:
                        with self._lock:
                            self.deadlock += 1
                        continue
                    self._error(code)
                    if code in CONNECTION_LOST or not isinstance(code, int) or not conn.open:
                        try:
                            conn.close()
                        except Exception:
                            pass
                        conn = None
                    self._stop.wait(ERROR_PAUSE_S)
        finally:
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass

    def start(self):
        self.setup()
        self._stop.clear()
        self._started = time.monotonic()
        deadline = self._started + self.duration if self.duration else None
        self._workers = [threading.Thread(target=self._run, args=(deadline,), daemon=True, name=f"hot-row-{i}")
                         for i in range(self.threads)]
        for t in self._workers:
            t.start()
        return self

    def _join(self):
        bound = time.monotonic() + self.timeout + 10  # a statement in flight ends by its read timeout
        for t in self._workers:
            t.join(max(0.0, bound - time.monotonic()))
        self.threads_hung = sum(t.is_alive() for t in self._workers)
        if self._ended is None:
            self._ended = time.monotonic()
        return self.result()

    def wait(self):
        """Waits for `duration` to pass (the threads end by themselves); the result."""
        if self.duration is None:
            raise ValueError("duration=None runs until stop()")
        for t in self._workers:
            t.join(max(0.0, self._started + self.duration + self.timeout + 10 - time.monotonic()))
        return self._join()

    def stop(self):
        """Stops the threads now (each ends its statement in flight and closes its connection)."""
        self._stop.set()
        return self._join()

    def run(self):
        return self.start().wait()

    def result(self):
        with self._lock:
            end = self._ended if self._ended is not None else time.monotonic()
            seconds = max(end - self._started, 1e-9) if self._started is not None else 0.0
            return {"ok": self.ok, "deadlock": self.deadlock, "errors": dict(self.errors), "nodes": dict(self.nodes),
                    "duration_s": round(seconds, 3), "updates_per_s": round(self.ok / seconds, 1) if seconds else 0.0,
                    "threads": self.threads, "rows": self.rows, "table": self.table,
                    "threads_hung": self.threads_hung}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class ReadYourWrites(_Client):
    """A pooled application writing a row and reading it back on whatever connection the pool
    gives next; see the module docstring. run() -> result; or start() ... wait()/stop(); or a
    context manager."""

    def __init__(self, port, workers=4, pool_size=4, requests=3000, host="127.0.0.1", table=None, user=None,
                 password=None, database=None, timeout=10, think_ms=2.0):
        super().__init__(port, host, user, password, database, timeout)
        self.workers, self.pool_size, self.requests = workers, pool_size, requests
        self.think_ms = think_ms
        self.table = table or f"{self.database}.ryw"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers = []
        self._started = self._ended = None
        self._engine = None
        self.attempted = self.reads = self.same_connection = 0
        self.misses = self.misses_cross_node = self.reads_cross_node = 0
        self.errors = {}
        self.writes_by_node = {}
        self.reads_by_node = {}
        self.missed = []  # (id, write node, read node)
        self.connections_opened = 0
        self.misses_stored_at_end = None
        self.workers_hung = 0

    def setup(self):
        with self.setup_connection() as c:
            ensure_table(c, self.table, "id VARCHAR(40) PRIMARY KEY, writer VARCHAR(64) NOT NULL, "
                                        "at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)")
        return self

    def _make_engine(self):
        import sqlalchemy as sa
        engine = sa.create_engine(
            sa.engine.URL.create("mysql+pymysql", username=self.user, password=self.password, host=self.host,
                                 port=self.port, database=self.database),
            pool_size=self.pool_size, max_overflow=0, pool_pre_ping=True, pool_timeout=30,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": min(self.timeout, 5), "read_timeout": self.timeout,
                          "write_timeout": self.timeout})

        @sa.event.listens_for(engine, "connect")
        def _connected(dbapi_conn, record):
            # The node this connection is on, once; no causality wait on its reads. The COMMIT
            # ends the snapshot these statements would open were autocommit not yet on: a
            # REPEATABLE READ snapshot held by a pooled connection would hide later rows.
            with dbapi_conn.cursor() as cur:
                cur.execute("SET SESSION wsrep_sync_wait = 0")
                cur.execute("SELECT @@wsrep_node_name")
                record.info["node"] = cur.fetchone()[0]
            dbapi_conn.commit()
            with self._lock:
                self.connections_opened += 1
        return engine

    def _count(self, table, key):
        table[key] = table.get(key, 0) + 1

    def _run(self, n, prefix):
        import sqlalchemy as sa
        insert = sa.text(f"INSERT INTO {quoted(self.table)} (id, writer) VALUES (:id, @@wsrep_node_name)")
        select = sa.text(f"SELECT @@wsrep_node_name, EXISTS(SELECT 1 FROM {quoted(self.table)} WHERE id = :id)")
        rng = random.Random()
        for i in range(n):
            if self._stop.is_set():
                return
            if self.think_ms and i:
                self._stop.wait(rng.uniform(0, 2 * self.think_ms) / 1000)
            rid = f"{prefix}-{i}"
            with self._lock:
                self.attempted += 1
            try:
                with self._engine.connect() as c:
                    c.execute(insert, {"id": rid})
                    writer = c.connection.info.get("node")
                    write_record = id(c.connection.dbapi_connection)
                with self._engine.connect() as c:
                    reader, found = c.execute(select, {"id": rid}).fetchone()
                    read_record = id(c.connection.dbapi_connection)
            except Exception as e:  # every failure is the measurement
                with self._lock:
                    self._count(self.errors, errno_of(e))
                self._stop.wait(ERROR_PAUSE_S)
                continue
            cross = writer != reader
            with self._lock:
                self.reads += 1
                self._count(self.writes_by_node, writer)
                self._count(self.reads_by_node, reader)
                self.same_connection += write_record == read_record
                self.reads_cross_node += cross
                if not found:
                    self.misses += 1
                    self.misses_cross_node += cross
                    self.missed.append((rid, writer, reader))

    def start(self):
        self.setup()
        self._engine = self._make_engine()
        self._stop.clear()
        self._started = time.monotonic()
        run = uuid.uuid4().hex[:12]
        share, extra = divmod(self.requests, self.workers)
        self._workers = [threading.Thread(target=self._run, args=(share + (i < extra), f"{run}-{i}"), daemon=True,
                                          name=f"ryw-{i}")
                         for i in range(self.workers)]
        for t in self._workers:
            t.start()
        return self

    def _finish(self, bound_s):
        bound = time.monotonic() + bound_s
        for t in self._workers:
            t.join(max(0.0, bound - time.monotonic()))
        self.workers_hung = sum(t.is_alive() for t in self._workers)
        if self._ended is None:
            self._ended = time.monotonic()
        if self._engine is not None:
            try:
                self._engine.dispose()
            except Exception:
                pass
        self._check_missed()
        return self.result()

    def _check_missed(self):
        """Looks every missed id up again, waiting for causality: were they stored after all?"""
        if not self.missed or self.misses_stored_at_end is not None:
            self.misses_stored_at_end = self.misses_stored_at_end or 0
            return
        ids = [m[0] for m in self.missed]
        try:
            with self.setup_connection(deadline_s=10) as c, c.cursor() as cur:
                cur.execute("SET SESSION wsrep_sync_wait = 1")
                cur.execute(f"SELECT id FROM {quoted(self.table)} WHERE id IN ({','.join(['%s'] * len(ids))})", ids)
                self.misses_stored_at_end = len(cur.fetchall())
        except Exception as e:
            self.misses_stored_at_end = f"not checked: {errno_of(e)}"

    def wait(self, timeout=None):
        """Waits for every request to be done (at most `timeout` s, default unbounded); the result."""
        return self._finish(timeout if timeout is not None else 1e9)

    def stop(self):
        self._stop.set()
        return self._finish(self.timeout * 3 + 40)  # a checkout waits up to 30 s for the pool

    def run(self):
        return self.start().wait()

    def result(self):
        with self._lock:
            end = self._ended if self._ended is not None else time.monotonic()
            seconds = end - self._started if self._started is not None else 0.0
            return {"requests": self.attempted, "misses": self.misses, "misses_cross_node": self.misses_cross_node,
                    "reads_cross_node": self.reads_cross_node, "errors": dict(self.errors),
                    "duration_s": round(seconds, 3), "reads": self.reads, "reads_same_connection": self.same_connection,
                    "writes_by_node": dict(self.writes_by_node), "reads_by_node": dict(self.reads_by_node),
                    "misses_stored_at_end": self.misses_stored_at_end,
                    "miss_samples": [{"id": i, "write_node": w, "read_node": r}
                                     for i, w, r in self.missed[:MISS_SAMPLES]],
                    "connections_opened": self.connections_opened, "workers": self.workers,
                    "pool_size": self.pool_size, "think_ms": self.think_ms, "table": self.table,
                    "workers_hung": self.workers_hung}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    hot = sub.add_parser("hot-rows", help="concurrent UPDATEs of a few hot rows (HotRowLoad)")
    hot.add_argument("--threads", type=int, default=8)
    hot.add_argument("--rows", type=int, default=4)
    hot.add_argument("--duration", type=float, default=15)
    ryw = sub.add_parser("read-your-writes", help="a pooled app reading back its own writes (ReadYourWrites)")
    ryw.add_argument("--workers", type=int, default=4)
    ryw.add_argument("--pool-size", type=int, default=4)
    ryw.add_argument("--requests", type=int, default=3000)
    ryw.add_argument("--think-ms", type=float, default=2.0, help="mean pause between a worker's requests")
    for s in (hot, ryw):
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--host", default="127.0.0.1")
        s.add_argument("--table", help="db.name or name (default: hot_rows / ryw in the app database)")
        s.add_argument("--lab-root", help="the lab whose app user to use (default: $LAB_ROOT)")
        s.add_argument("--user")
        s.add_argument("--password-file")
        s.add_argument("--database")
    a = p.parse_args(argv)
    if a.lab_root:
        os.environ["LAB_ROOT"] = a.lab_root
    password = Path(a.password_file).read_text().strip() if a.password_file else None
    common = {"host": a.host, "table": a.table, "user": a.user, "password": password, "database": a.database}
    if a.cmd == "hot-rows":
        result = HotRowLoad(a.port, threads=a.threads, rows=a.rows, duration=a.duration, **common).run()
    else:
        result = ReadYourWrites(a.port, workers=a.workers, pool_size=a.pool_size, requests=a.requests,
                                think_ms=a.think_ms, **common).run()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
