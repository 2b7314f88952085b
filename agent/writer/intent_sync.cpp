#include "agent/intents/intent_sync.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "agent/intents/server_errors.hpp"
#include "agent/intents/writer_table.hpp"
#include "balancer/core/clock.hpp"

namespace galeratop {
namespace {

constexpr int write_attempts = 3;
// How often an agent repeats which writer it follows while that does not change (galeratop.writer_agents).
constexpr auto report_every = std::chrono::seconds(5);
// How often the rows of stopped agents are deleted from galeratop.writer_agents.
constexpr auto purge_every = std::chrono::hours(1);
// A change is answered within this (galeratop waits 5 s for an answer); past it, it is held locally.
constexpr auto write_budget = std::chrono::seconds(3);

// The table is the whole shared state; its comments are what a DBA finds with SHOW CREATE TABLE.
constexpr const char* create_schema_sql = "CREATE DATABASE IF NOT EXISTS galeratop";
constexpr const char* create_table_sql =
    "CREATE TABLE IF NOT EXISTS galeratop.intents ("
    " agent_group VARCHAR(64) NOT NULL COMMENT 'the [intents] group of the galeratopd agents sharing the row',"
    " node VARCHAR(255) NOT NULL COMMENT 'the node''s configured address, HOST:PORT',"
    " admin ENUM('ready','drain','maint') NOT NULL,"
    " weight SMALLINT UNSIGNED NULL COMMENT 'NULL: the configured weight',"
    " since_ms BIGINT NOT NULL COMMENT 'when admin last changed, milliseconds since 1970',"
    " version BIGINT UNSIGNED NOT NULL COMMENT '+1 at every change; agents apply a row whose version they lack',"
    " changed_by VARCHAR(255) NOT NULL COMMENT 'the agent that made the change',"
    " changed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),"
    " PRIMARY KEY (agent_group, node)"
    ") ENGINE=InnoDB COMMENT='galeratopd operator intents (drain, maint, weight), see galeratopd(8)'";
constexpr const char* row_columns = "node, admin, weight, since_ms, version, changed_by";

}  // namespace

intent_sync::intent_sync(intent_sync_settings settings, read_sink on_read)
    : settings_(std::move(settings)), on_read_(std::move(on_read)), thread_([this](std::stop_token st) { run(st); }) {}

intent_sync::~intent_sync() {
  thread_.request_stop();
  wake_.notify_all();
}

void intent_sync::set_nodes(std::vector<mysql_login> nodes) {
  {
    std::lock_guard lock(mutex_);
    nodes_ = std::move(nodes);
  }
  wake_.notify_all();  // the first node offered is read at once (see run)
}

void intent_sync::submit(intent_change change, write_done done) {
  {
    std::lock_guard lock(mutex_);
    writes_.emplace_back([this, change = std::move(change), done = std::move(done)] {
      done(with_retries<intent_write>([&](bool& created) { return try_write(change, created); }));
    });
  }
  wake_.notify_all();
}

void intent_sync::submit(writer_change change, writer_done done) {
  {
    std::lock_guard lock(mutex_);
    writes_.emplace_back([this, change = std::move(change), done = std::move(done)] {
      done(with_retries<writer_write>([&](bool& created) {
        return try_write_writer(*session_, settings_.group, change, settings_.agent_id, created);
      }));
    });
  }
  wake_.notify_all();
}

void intent_sync::follow(writer_follower f) {
  std::lock_guard lock(mutex_);
  following_ = std::move(f);
}

std::string intent_sync::where_group() const {
  return fmt::format("agent_group = {}", session_->quote(settings_.group));
}

mysql_session* intent_sync::connect(const std::vector<mysql_login>& nodes, std::string& error) {
  if (session_ && std::ranges::find(nodes, session_login_) != nodes.end()) return session_.get();
  session_.reset();
  if (nodes.empty()) {
    error = "no node is synced and up";
    return nullptr;
  }
  // Round the list from where the last failure left off, so that one bad node is not retried first forever.
  for (std::size_t tried = 0; tried < nodes.size() && tried < 2; ++tried) {
    const mysql_login& l = nodes[next_node_++ % nodes.size()];
    std::string why;
    auto s = mysql_session::open(l, why);
    // Reads wait until the node has applied every change committed before them (causal reads),
    // so that a row written through another node is never read back older.
    if (s && s->execute("SET SESSION wsrep_sync_wait = 1, innodb_lock_wait_timeout = 2", why)) {
      session_ = std::move(s);
      session_login_ = l;
      return session_.get();
    }
    error = fmt::format("{}: {}", l.address.to_string(), why);
  }
  return nullptr;
}

bool intent_sync::create_table(std::string& error) {
  return session_->execute(create_schema_sql, error) && session_->execute(create_table_sql, error);
}

intent_read intent_sync::read() {
  intent_read r;
  r.from = session_login_.address.to_string();
  auto rows =
      session_->query(fmt::format("SELECT {} FROM galeratop.intents WHERE {}", row_columns, where_group()), r.error);
  if (!rows) {
    if (!table_missing(session_->last_errno())) return r;
    r.error.clear();  // no table yet: nobody has shared an intent, which is an empty table
    rows.emplace();
  }
  r.ok = true;
  r.table_exists = !table_missing(session_->last_errno());
  for (const mysql_row& row : *rows) {
    std::string why;
    if (auto i = parse_shared_intent(row, why))
      r.rows.push_back(std::move(*i));
    else
      r.unreadable.push_back({row.empty() ? "" : row[0].value_or(""), std::move(why)});
  }
  return r;
}

std::optional<intent_write> intent_sync::try_write(const intent_change& change, bool& created) {
  mysql_session& s = *session_;
  std::string error;
  auto failed = [&](std::string why) -> std::optional<intent_write> {
    if (lost_a_race(s.last_errno())) {
      roll_back(s);
      return std::nullopt;  // another node's transaction won certification: read again and retry
    }
    return intent_write{intent_write::kind::failed, std::nullopt, std::move(why), ""};
  };
  if (!s.execute("START TRANSACTION", error)) return failed(error);
  auto rows = s.query(fmt::format("SELECT {} FROM galeratop.intents WHERE {} AND node = {} FOR UPDATE", row_columns,
                                  where_group(), s.quote(change.node)),
                      error);
  if (!rows && table_missing(s.last_errno()) && !created) {
    roll_back(s);
    created = true;  // first use: create it, then the change runs again
    if (!create_table(error)) return failed(fmt::format("cannot create galeratop.intents: {}", error));
    return std::nullopt;
  }
  if (!rows) return failed(error);
  std::optional<shared_intent> current;
  if (!rows->empty()) {
    current = parse_shared_intent(rows->front(), error);
    if (!current) {
      roll_back(s);
      return intent_write{intent_write::kind::failed, std::nullopt,
                          fmt::format("the row in galeratop.intents cannot be read: {}", error), ""};
    }
  }
  const change_outcome o = apply_change(current, change, settings_.agent_id);
  if (o.result != change_outcome::kind::written) {
    roll_back(s);
    return intent_write{o.result == change_outcome::kind::conflict ? intent_write::kind::conflict
                                                                    : intent_write::kind::unchanged,
                        o.row, "", ""};
  }
  const shared_intent& n = *o.row;
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(n.value.since.time_since_epoch()).count();
  const std::string upsert = fmt::format(
      "INSERT INTO galeratop.intents (agent_group, node, admin, weight, since_ms, version, changed_by) "
      "VALUES ({}, {}, '{}', {}, {}, {}, {}) ON DUPLICATE KEY UPDATE admin = VALUES(admin), weight = VALUES(weight), "
      "since_ms = VALUES(since_ms), version = VALUES(version), changed_by = VALUES(changed_by)",
      s.quote(settings_.group), s.quote(n.node), to_string(n.value.admin),
      n.value.weight ? std::to_string(*n.value.weight) : "NULL", since, n.version, s.quote(n.changed_by));
  if (!s.execute(upsert, error) || !s.execute("COMMIT", error)) return failed(error);
  return intent_write{intent_write::kind::written, o.row, "", ""};
}

template <class Write, class Attempt>
Write intent_sync::with_retries(Attempt attempt) {
  std::vector<mysql_login> nodes;
  {
    std::lock_guard lock(mutex_);
    nodes = nodes_;
  }
  bool created = false;
  std::string error;
  const auto give_up = mono_clock::now() + write_budget;
  for (int attempt_no = 0; attempt_no < write_attempts && mono_clock::now() < give_up; ++attempt_no) {
    if (!connect(nodes, error)) return {Write::kind::failed, std::nullopt, error, ""};
    if (std::optional<Write> done = attempt(created)) {
      done->on = session_login_.address.to_string();
      if (done->result == Write::kind::failed) session_.reset();  // the next attempt starts on a fresh connection
      if (done->result != Write::kind::failed || attempt_no + 1 == write_attempts) return *done;
      error = done->error;  // the connection is gone: the next attempt tries another node
    }
  }
  return {Write::kind::failed, std::nullopt,
          error.empty() ? "another agent kept changing the row; try again" : error, ""};
}

void intent_sync::report_following_if_due() {
  std::optional<writer_follower> f;
  {
    std::lock_guard lock(mutex_);
    f = following_;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!f || !session_ || (f == reported_ && now - reported_at_ < report_every)) return;
  std::string error;
  if (report_following(*session_, settings_.group, settings_.agent_id, *f, error)) {
    reported_ = f;
    reported_at_ = now;
  }  // else told again at the next read: the figure is advisory, a failure costs nothing else
  if (now - purged_at_ >= purge_every) {
    forget_stopped_agents(*session_, settings_.group);
    purged_at_ = now;
  }
}

void intent_sync::run(std::stop_token stop) {
  mysql_session::thread_init();
  auto next = mono_clock::now();
  while (!stop.stop_requested()) {
    std::deque<std::function<void()>> writes;
    std::vector<mysql_login> nodes;
    {
      std::lock_guard lock(mutex_);
      writes.swap(writes_);
      nodes = nodes_;
    }
    for (auto& write : writes) write();
    // Until the agent has seen a synced node there is nothing to read from, and nothing worth a warning.
    // The first one is read from at once: a new agent (no state file) must learn the drains others
    // gave before it sends many clients anywhere.
    if (!had_nodes_ && !nodes.empty()) {
      had_nodes_ = true;
      next = mono_clock::now();
    }
    if (mono_clock::now() >= next) {
      if (had_nodes_) {
        intent_read r;
        if (connect(nodes, r.error)) {
          r = read();
          if (r.ok && settings_.writer) {
            r.writer = read_writer(*session_, settings_.group);
            if (r.writer->ok) report_following_if_due();
          }
          if (!r.ok) session_.reset();  // the next read tries the next node
        }
        on_read_(std::move(r));
      }
      next = next_tick(mono_clock::now(), settings_.interval);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, stop, next, [this] { return !writes_.empty() || (!had_nodes_ && !nodes_.empty()); });
  }
  session_.reset();
  mysql_session::thread_end();
}

}  // namespace galeratop
