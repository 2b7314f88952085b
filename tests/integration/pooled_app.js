'use strict';
// The node-mysql stack of pooled_app.py (read its docstring: the request, the output and the
// failure classification are the same). Debian's node-mysql (mysqljs): mysql.createPool with
// connectionLimit = workers, N concurrent async loops over it. Usually started through
// `pooled_app.py --stack node-mysql ...`, which creates the table and execs this file.
//
//   node pooled_app.js --stack node-mysql --host H --port P --user U --password-file F --db D
//                      --workers N [--seconds S] --out result.json [--stop-on-stdin-eof]

const fs = require('fs');
const crypto = require('crypto');

let mysql;
try {
  mysql = require('mysql');
} catch (e) {
  mysql = require('/usr/share/nodejs/mysql'); // Debian's path; a Node not from Debian does not search it
}

function parseArgs(argv) {
  const a = { host: '127.0.0.1', workers: 4, seconds: 0, stopOnStdinEof: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    switch (k) {
      case '--stack': a.stack = v(); break;
      case '--host': a.host = v(); break;
      case '--port': a.port = Number(v()); break;
      case '--user': a.user = v(); break;
      case '--password-file': a.passwordFile = v(); break;
      case '--db': a.db = v(); break;
      case '--workers': a.workers = Number(v()); break;
      case '--seconds': a.seconds = Number(v()); break;
      case '--out': a.out = v(); break;
      case '--stop-on-stdin-eof': a.stopOnStdinEof = true; break;
      default: console.error(`pooled_app.js: unknown argument ${k}`); process.exit(2);
    }
  }
  if (!a.port || !a.user || !a.passwordFile || !a.db || !a.out) {
    console.error('pooled_app.js: --port --user --password-file --db --out are required');
    process.exit(2);
  }
  return a;
}

// The rule of pooled_app.py's docstring (same regexes and code sets).
const UNKNOWN = /outcome\s+(is\s+)?unknown|unknown\s+outcome|may\s+(or\s+may\s+not\s+)?have\s+(been\s+)?(executed|committed|run)/i;
const NOT_EXECUTED = /not\s+(been\s+)?executed|nothing\s+(was\s+|has\s+been\s+)?(executed|run)|was\s+not\s+(run|executed)|before\s+it\s+(ran|was\s+executed)/i;
const KILLED_CODES = new Set([1927, 1053, 1317, 3169, 4031]);
const NOT_SENT = new Set(['PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR', 'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'PROTOCOL_ENQUEUE_AFTER_DESTROY']);
const THINK_MS = [2, 8];
const FAILED_PAUSE_MS = 50;
const SAMPLES_PER_CLASS = 5;
const FAILURES_KEPT = 500;

function classify(step, err) {
  const message = err.sqlMessage || err.message || String(err);
  const server = typeof err.sqlMessage === 'string' && typeof err.errno === 'number' && err.errno > 0 &&
    err.errno < 2000;
  const code = server ? err.errno : (err.code || null);
  let klass;
  if (step === 'checkout') klass = 'not_executed';
  else if (step === 'readback') klass = 'other';
  else if (server) {
    if (UNKNOWN.test(message)) klass = 'mid_query';
    else if (NOT_EXECUTED.test(message)) klass = 'not_executed';
    else if (KILLED_CODES.has(err.errno)) klass = 'mid_query';
    else klass = 'other';
  } else if (NOT_SENT.has(err.code)) klass = 'not_executed';
  else if (err.fatal) klass = 'mid_query'; // delivered to the statement in flight: written, no answer
  else klass = 'other';
  return { klass, code, message };
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const password = fs.readFileSync(a.passwordFile, 'utf8').trim();
  const started = Date.now() / 1000;
  const rec = {
    requests: 0, ok: 0, byClass: { mid_query: 0, not_executed: 0, other: 0 }, byStep: {}, byNode: {},
    samples: [], failures: [], acked: [], inDoubt: [], connects: 0, connectionErrors: 0,
  };
  const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

  const pool = mysql.createPool({
    host: a.host, port: a.port, user: a.user, password, database: a.db,
    connectionLimit: a.workers, connectTimeout: 5000, acquireTimeout: 10000, waitForConnections: true,
  });
  pool.on('connection', (conn) => {
    rec.connects++;
    // An idle connection that ends or errors is dropped by the pool; this listener only keeps
    // such an error from being thrown as an uncaught 'error' event.
    conn.on('error', () => { rec.connectionErrors++; });
  });

  const prefix = `${a.stack}-${crypto.randomBytes(6).toString('hex')}`;
  let seq = 0;
  let stopping = false;
  let stopResolve;
  const stopped = new Promise((resolve) => { stopResolve = resolve; });
  const stop = () => { if (!stopping) { stopping = true; stopResolve(); } };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (a.stopOnStdinEof) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  if (a.seconds > 0) setTimeout(stop, a.seconds * 1000).unref();

  const getConnection = () => new Promise((resolve, reject) =>
    pool.getConnection((err, conn) => (err ? reject(err) : resolve(conn))));
  const query = (conn, sql, values) => new Promise((resolve, reject) =>
    conn.query({ sql, values, timeout: 30000 }, (err, rows) => (err ? reject(err) : resolve(rows))));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function failure(id, step, err, at) {
    const { klass, code, message } = classify(step, err);
    rec.requests++;
    rec.byClass[klass]++;
    rec.byStep[step] = (rec.byStep[step] || 0) + 1;
    if (klass === 'mid_query' && step === 'commit') rec.inDoubt.push(id);
    const entry = { at: Math.round(at * 1000) / 1000, class: klass, step, code, message: String(message).slice(0, 300) };
    if (rec.samples.filter((s) => s.class === klass).length < SAMPLES_PER_CLASS) rec.samples.push(entry);
    if (rec.failures.length < FAILURES_KEPT) rec.failures.push(entry);
  }

  async function one() {
    const id = `${prefix}-${seq++}`;
    const at = Date.now() / 1000;
    let step = 'checkout';
    let conn;
    try {
      conn = await getConnection();
    } catch (err) {
      failure(id, step, err, at);
      return false;
    }
    try {
      step = 'begin';
      await query(conn, 'START TRANSACTION');
      step = 'insert';
      await query(conn, 'INSERT INTO pooled_writes (id, stack, at) VALUES (?, ?, NOW(6))', [id, a.stack]);
      step = 'select';
      const rows = await query(conn, 'SELECT stack, @@wsrep_node_name AS node FROM pooled_writes WHERE id = ?', [id]);
      if (rows.length !== 1 || rows[0].stack !== a.stack) {
        step = 'readback';
        throw new Error(`the row just written reads back as ${JSON.stringify(rows)}`);
      }
      step = 'commit';
      await query(conn, 'COMMIT');
      rec.requests++;
      rec.ok++;
      rec.acked.push(id);
      rec.byNode[rows[0].node] = (rec.byNode[rows[0].node] || 0) + 1;
      conn.release();
      return true;
    } catch (err) {
      failure(id, step, err, at);
      if (err.fatal) {
        conn.destroy(); // already out of the pool; make sure the socket is gone
      } else {
        // What applications do: roll back, then give the connection back.
        await new Promise((resolve) => conn.query({ sql: 'ROLLBACK', timeout: 10000 }, () => resolve()));
        conn.release();
      }
      return false;
    }
  }

  let firstDone = 0;
  async function worker() {
    let first = true;
    while (!stopping) {
      const succeeded = await one();
      if (first) {
        first = false;
        if (++firstDone === a.workers) emit({ event: 'ready', pid: process.pid });
      }
      const think = THINK_MS[0] + Math.random() * (THINK_MS[1] - THINK_MS[0]) + (succeeded ? 0 : FAILED_PAUSE_MS);
      await Promise.race([sleep(think), stopped]);
    }
  }

  const progress = setInterval(() => emit({
    event: 'progress', t: Math.round(Date.now() / 100 - started * 10) / 10, requests: rec.requests, ok: rec.ok,
    failed_mid_query: rec.byClass.mid_query, failed_not_executed: rec.byClass.not_executed,
    failed_other: rec.byClass.other, connections_opened: rec.connects,
  }), 5000);

  const workers = [];
  for (let i = 0; i < a.workers; i++) workers.push(worker());
  Promise.all(workers).then(async () => {
    clearInterval(progress);
    // pool.end sends COM_QUIT on every connection; never wait on it for long.
    await Promise.race([new Promise((resolve) => pool.end(() => resolve())), sleep(5000)]);
    const ackedFile = `${a.out}.acked`;
    fs.writeFileSync(ackedFile, rec.acked.map((x) => x + '\n').join(''));
    const failed = rec.byClass.mid_query + rec.byClass.not_executed + rec.byClass.other;
    const result = {
      stack: a.stack, pid: process.pid, workers: a.workers, started_at: started,
      seconds: Math.round((Date.now() / 1000 - started) * 1000) / 1000,
      requests: rec.requests, ok: rec.ok, failed,
      failed_mid_query: rec.byClass.mid_query, failed_not_executed: rec.byClass.not_executed,
      failed_other: rec.byClass.other, failed_by_step: rec.byStep,
      error_samples: rec.samples, failures: rec.failures,
      acknowledged: rec.acked.length, acknowledged_file: ackedFile, in_doubt_ids: rec.inDoubt,
      by_node: rec.byNode, connections_opened: rec.connects, idle_connection_errors: rec.connectionErrors,
      close_errors: 0, close_error_samples: [], workers_hung: 0,
    };
    fs.writeFileSync(`${a.out}.tmp`, JSON.stringify(result, null, 1));
    fs.renameSync(`${a.out}.tmp`, a.out);
    emit({ event: 'done', requests: rec.requests, failed });
    process.exit(0);
  });
}

main();
