#pragma once

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

/// How the agent shares intents through the cluster.
struct intent_sync_settings {
  std::string group;     ///< [intents] group: the rows this agent reads and writes
  std::string agent_id;  ///< written as changed_by: which agent made a change
  std::chrono::milliseconds interval{250};  ///< how often the table is read
  bool writer = false;  ///< also read galeratop.writer (the agent has writer listeners)
};

/// The sync thread (DESIGN section 3): keeps `galeratop.intents` (and `galeratop.writer`, for
/// writer listeners) and the agent in step, on a thread of its own because the client library
/// blocks (DESIGN rule 2). Reads the group's rows every interval (with wsrep_sync_wait, so a read
/// sees every change committed before it) and runs changes through store_session's
/// compare-and-set. Talks to one node at a time, one the agent says can be written.
///
/// It lives in agent/writer, not agent/intents, because it serves both: the writer row is read in
/// the same round and on the same session as the intents (a writer read never sees an older
/// cluster than the intents beside it), and agent/writer is the lowest folder that sees both
/// tables. The SQL is each table's own (intent_table.hpp, writer_table.hpp); this is the thread.
class intent_sync {
 public:
  /// All are called on the sync thread: they must only hand the value over (asio::post).
  /// A read carries the writer's read of the same round when the agent has writer listeners and
  /// the intents could be read (nullopt otherwise: the intents' error says why).
  using read_sink = std::function<void(intent_read, std::optional<writer_read>)>;
  using write_done = std::function<void(intent_write)>;
  using writer_done = std::function<void(writer_write)>;

  intent_sync(intent_sync_settings settings, read_sink on_read);
  /// Stops and joins; takes at most a few timeouts when a statement is under way.
  ~intent_sync();
  intent_sync(const intent_sync&) = delete;
  intent_sync& operator=(const intent_sync&) = delete;

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

  intent_sync_settings settings_;
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

}  // namespace galeratop
