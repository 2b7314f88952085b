#include "agent/sync_thread.hpp"

#include "agent/intents/intent_table.hpp"
#include "agent/writer/writer_table.hpp"
#include "balancer/core/clock.hpp"

namespace galeratop {
namespace {

// How often an agent repeats which writer it follows while that does not change (galeratop.writer_agents).
constexpr auto report_every = std::chrono::seconds(5);
// How often the rows of stopped agents are deleted from galeratop.writer_agents.
constexpr auto purge_every = std::chrono::hours(1);

}  // namespace

sync_thread::sync_thread(sync_settings settings, read_sink on_read)
    : settings_(std::move(settings)), on_read_(std::move(on_read)), thread_([this](std::stop_token st) { run(st); }) {}

sync_thread::~sync_thread() {
  thread_.request_stop();
  wake_.notify_all();
}

void sync_thread::set_nodes(std::vector<mysql_login> nodes) {
  {
    std::lock_guard lock(mutex_);
    nodes_ = std::move(nodes);
  }
  wake_.notify_all();  // the first node offered is read at once (see run)
}

std::vector<mysql_login> sync_thread::nodes() {
  std::lock_guard lock(mutex_);
  return nodes_;
}

void sync_thread::submit(intent_change change, write_done done) {
  {
    std::lock_guard lock(mutex_);
    writes_.emplace_back([this, change = std::move(change), done = std::move(done)] {
      done(session_.compare_and_set(nodes(), intent_compare_and_set(settings_.group, change, settings_.agent_id)));
    });
  }
  wake_.notify_all();
}

void sync_thread::submit(writer_change change, writer_done done) {
  {
    std::lock_guard lock(mutex_);
    writes_.emplace_back([this, change = std::move(change), done = std::move(done)] {
      done(session_.compare_and_set(nodes(), writer_compare_and_set(settings_.group, change, settings_.agent_id)));
    });
  }
  wake_.notify_all();
}

void sync_thread::follow(writer_follower f) {
  std::lock_guard lock(mutex_);
  following_ = std::move(f);
}

void sync_thread::report_following_if_due() {
  std::optional<writer_follower> f;
  {
    std::lock_guard lock(mutex_);
    f = following_;
  }
  const auto now = std::chrono::steady_clock::now();
  sql_session* s = session_.get();
  if (!f || !s || (f == reported_ && now - reported_at_ < report_every)) return;
  std::string error;
  if (report_following(*s, settings_.group, settings_.agent_id, *f, error)) {
    reported_ = f;
    reported_at_ = now;
  }  // else told again at the next read: the figure is advisory, a failure costs nothing else
  if (now - purged_at_ >= purge_every) {
    forget_stopped_agents(*s, settings_.group);
    purged_at_ = now;
  }
}

void sync_thread::read_round(const std::vector<mysql_login>& nodes) {
  intent_read r;
  std::optional<writer_read> writer;
  if (sql_session* s = session_.connect(nodes, r.error)) {
    r = read_intents(*s, settings_.group);
    r.from = session_.node();
    if (r.ok && settings_.writer) {
      writer = read_writer(*s, settings_.group);
      if (writer->ok) report_following_if_due();
    }
    if (!r.ok) session_.reset();  // the next read tries the next node
  }
  on_read_(std::move(r), std::move(writer));
}

void sync_thread::run(std::stop_token stop) {
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
      if (had_nodes_) read_round(nodes);
      next = next_tick(mono_clock::now(), settings_.interval);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, stop, next, [this] { return !writes_.empty() || (!had_nodes_ && !nodes_.empty()); });
  }
  session_.reset();
  mysql_session::thread_end();
}

}  // namespace galeratop
