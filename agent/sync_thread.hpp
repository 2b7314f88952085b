#pragma once

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "agent/intents/shared_intent.hpp"
#include "agent/monitor/mysql_session.hpp"
#include "agent/store/store_session.hpp"
#include "agent/writer/shared_writer.hpp"

namespace galeratop {

/// How the agent shares its rows through the cluster.
struct sync_settings {
  std::string group;     ///< [intents] group: the rows this agent reads and writes
  std::string agent_id;  ///< written as changed_by: which agent made a change
  std::chrono::milliseconds interval{250};  ///< how often the table is read
  bool writer = false;  ///< also read galeratop.writer (the agent has writer listeners)
};

/// The sync thread (DESIGN section 3): keeps the rows galeratop keeps in the cluster's
/// `galeratop` schema and the agent in step, on a thread of its own because the client library
/// blocks (DESIGN rule 2): `galeratop.intents`, and `galeratop.writer` with
/// `galeratop.writer_agents` for an agent with writer listeners. Reads the group's rows every
/// interval (with wsrep_sync_wait, so a read sees every change committed before it), the writer's
/// in the same round and on the same session as the intents (a writer read never sees an older
/// cluster than the intents beside it), and runs changes through store_session's compare-and-set.
/// Talks to one node at a time, one the agent says can be written. The SQL is each table's own
/// (intent_table.hpp, writer_table.hpp); this is the thread, and part of galeratopd itself
/// because it serves both the intents and the writer.
class sync_thread {
 public:
  /// All are called on the sync thread: they must only hand the value over (asio::post).
  /// A read carries the writer's read of the same round when the agent has writer listeners and
  /// the intents could be read (nullopt otherwise: the intents' error says why).
  using read_sink = std::function<void(intent_read, std::optional<writer_read>)>;
  using write_done = std::function<void(intent_write)>;
  using writer_done = std::function<void(writer_write)>;

  sync_thread(sync_settings settings, read_sink on_read);
  /// Stops and joins; takes at most a few timeouts when a statement is under way.
  ~sync_thread();
  sync_thread(const sync_thread&) = delete;
  sync_thread& operator=(const sync_thread&) = delete;

  /// The nodes it may use, best first (synced and up); an empty list pauses it.
  void set_nodes(std::vector<mysql_login> nodes);
  /// Queues a change; `done` is called once with the outcome, before the next read.
  void submit(intent_change change, write_done done);
  /// Queues a compare-and-set of the writer row; `done` as for submit().
  void submit(writer_change change, writer_done done);
  /// What this agent follows, told to the other agents through galeratop.writer_agents when it
  /// changes and every few seconds while it does not.
  void follow(writer_follower f);

 private:
  void run(std::stop_token stop);
  /// The nodes last offered, taken under the lock.
  std::vector<mysql_login> nodes();
  /// One round of reads on the session: the intents, then the writer's tables.
  void read_round(const std::vector<mysql_login>& nodes);
  /// Tells galeratop.writer_agents what this agent follows, when it is due.
  void report_following_if_due();

  sync_settings settings_;
  read_sink on_read_;
  // Sync thread only:
  store_session session_;
  bool had_nodes_ = false;  // the agent has offered a node at least once
  // Guarded by mutex_:
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::vector<mysql_login> nodes_;
  std::deque<std::function<void()>> writes_;  // each runs one change and calls its done
  std::optional<writer_follower> following_;  // what to tell the other agents; nullopt: nothing yet
  // Sync thread only:
  std::optional<writer_follower> reported_;  // what they were last told
  std::chrono::steady_clock::time_point reported_at_{};
  std::chrono::steady_clock::time_point purged_at_{};  // the last deletion of stopped agents' rows
  std::jthread thread_;  // last: started after every other member exists
};

/// Hands `c` to the sync thread and resumes, on the io thread, with its outcome (intent_write
/// for an intent_change, writer_write for a writer_change). The initiation is a named local
/// holding the change by pointer: GCC 12 mishandles a temporary with non-trivial captures inside a
/// co_await expression (destroyed twice, or relocated bitwise). Give it a named change too, never
/// a temporary built in the co_await expression, for the same reason.
template <class Outcome, class Change>
asio::awaitable<Outcome> run_on_sync(asio::io_context& io, sync_thread& sync, Change c) {
  auto change = std::make_shared<const Change>(std::move(c));
  auto initiation = [&io, &sync, change](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    sync.submit(*change, [&io, h](Outcome w) {
      asio::post(io, [h, w = std::move(w)]() mutable { (*h)(std::move(w)); });
    });
  };
  Outcome outcome =
      co_await asio::async_initiate<decltype(asio::use_awaitable), void(Outcome)>(initiation, asio::use_awaitable);
  co_return outcome;
}

}  // namespace galeratop
