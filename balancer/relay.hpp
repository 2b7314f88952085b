#pragma once

#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "balancer/core/node_record.hpp"
#include "balancer/session_tracker.hpp"

namespace galeratop {

/// Moves bytes between the client and server sockets of established sessions, on its own
/// thread with its own level-triggered epoll set, as Codership's glb does with its pool.
///
/// Why not Asio here: every Asio read starts with a speculative recv, which on a
/// request/response protocol fails with EAGAIN once per message per direction, a third of
/// the relay's syscalls on a machine where syscalls are what a query costs (docs/benchmarks.md).
/// Here a message costs one recv and one send, plus a share of one epoll_wait.
///
/// Ownership: the io thread connects a session, then hands both descriptors over with
/// adopt(); from then on only this thread touches them. The only ways back are the node's
/// counters and the end handler, which runs on the io thread once both directions are over.
/// Commands (adopt, close) queue under a mutex and wake the thread through an eventfd.
///
/// Every session's bytes also go through a session_tracker, which reads them where they lie and
/// keeps at most the first 40 bytes of a packet, so the relay knows when a command is in flight and a transaction open: it counts
/// queries and their latency, closes a session for a drain only at a safe point, and tells a
/// client in words when its node is lost under a statement.
class relay {
 public:
  /// Called on the io thread with the tokens of sessions that have ended and whose descriptors are closed.
  using end_handler = std::function<void(const std::vector<std::uint64_t>& tokens)>;

  /// Starts the relay thread; throws std::system_error if epoll, eventfd or timerfd cannot be created.
  relay(asio::io_context& io, end_handler on_end);
  /// Stops the thread and closes whatever it still relays, without calling the end handler.
  ~relay();
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  /// Takes over a connected session: the two descriptors (now owned by the relay) and where its
  /// bytes count (its node's counters, kept alive by the session if the node is removed meanwhile).
  void adopt(std::uint64_t token, int client_fd, int server_fd, std::shared_ptr<session_counters> counters);
  /// Why sessions are to be closed, and when.
  struct close_order {
    enum class when {
      safe_point,  ///< at the session's next safe point idle for close_idle (drain, maint, removal)
      now,         ///< now: the node is lost, or a hard deadline passed
    } at = when::safe_point;
    std::string node;  ///< the node's name, for the client's error and the log
    std::string why;   ///< "drained", "down: ...", ...
  };
  /// Closes these sessions as `order` says. A session's node side is closed first; its client
  /// learns it in words: an ERR packet now if a statement was in flight (its outcome is unknown),
  /// else in answer to its next command (nothing was executed). The end handler reports the end of
  /// the node side, which is when the node's count drops.
  void close(std::vector<std::uint64_t> tokens, close_order order);
  /// Takes back a close at a safe point not carried out yet (an undrain).
  void keep(std::vector<std::uint64_t> tokens);
  /// Closes every session at once, without a word to the clients (the end of the shutdown grace).
  void close_all();
  /// A session silent both ways this long is closed; 0 = never. Checked about once a second.
  void set_idle_timeout(std::chrono::seconds limit) { idle_limit_s_.store(static_cast<std::uint32_t>(limit.count())); }
  /// A close at a safe point waits for the session to stay idle this long, and after `patience`
  /// takes any safe point.
  void set_close_timing(std::chrono::milliseconds idle, std::chrono::milliseconds patience) {
    close_idle_ms_.store(static_cast<std::uint32_t>(idle.count()));
    close_patience_ms_.store(static_cast<std::uint32_t>(patience.count()));
  }

 private:
  struct pair;
  struct side;
  struct command {
    enum class kind { adopt, close, keep, close_all, stop } what;
    std::uint64_t token = 0;
    int fds[2] = {-1, -1};
    std::shared_ptr<session_counters> counters{};
    std::vector<std::uint64_t> tokens{};
    close_order order{};
  };

  void submit(command c);
  void run();
  bool run_commands();  // false once told to stop
  void on_event(side& s, std::uint32_t events);
  void pass(pair& p, int from);      // recv from one side, send to the other
  void flush(pair& p, int to);       // send what waits for this side
  void watch(pair& p, int which);    // keep this side's epoll interest in step with the pair
  static bool finished(const pair& p);  // both sides sent their EOF and nothing waits to be written
  void end(pair& p);
  void sweep_idle();
  // The session protocol: counting, safe points, telling clients in words.
  void track(pair& p, int from, std::span<const char> bytes);
  bool close_ordered(pair& p, const close_order& order);
  bool close_if_safe(pair& p, std::int64_t now);
  void release_node(pair& p, std::string reason);
  void lose_node(pair& p, std::string_view why);
  void answer_orphan(pair& p);
  void sweep_closing();
  void settle_gauges(pair& p, bool gone);  // gone: the session no longer counts for its node

  asio::io_context& io_;
  end_handler on_end_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: commands are waiting
  int tick_fd_ = -1;  // timerfd: one more second for the idle sweep
  int close_tick_fd_ = -1;  // timerfd: the safe-close sweep, armed while sessions wait for a safe point
  std::atomic<std::uint32_t> idle_limit_s_{0};
  std::atomic<std::uint32_t> close_idle_ms_{250};
  std::atomic<std::uint32_t> close_patience_ms_{5000};

  std::mutex commands_mutex_;
  std::vector<command> commands_;  // guarded by commands_mutex_

  // Relay-thread state below.
  std::unordered_map<std::uint64_t, std::unique_ptr<pair>> pairs_;
  std::vector<std::unique_ptr<pair>> ended_;  // freed after the batch of events that ended them
  std::vector<std::uint64_t> ended_tokens_;    // handed to the io thread once per batch
  std::vector<char> scratch_;                  // every recv lands here: idle sessions hold no buffer
  std::uint32_t tick_ = 0;                     // seconds since start, from tick_fd_
  std::vector<std::uint64_t> closing_;         // sessions waiting for a safe point (tokens; ended ones are skipped)

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace galeratop
