#pragma once

#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "balancer/core/node_record.hpp"

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
/// adopt(); from then on only this thread touches them. The only ways back are the byte
/// counters and the end handler, which runs on the io thread once both directions are over.
/// Commands (adopt, close) queue under a mutex and wake the thread through an eventfd.
class relay {
 public:
  /// Called on the io thread with the tokens of sessions that have ended and whose descriptors are closed.
  using end_handler = std::function<void(const std::vector<std::uint64_t>& tokens)>;

  /// Starts the relay thread; throws std::system_error if epoll or eventfd cannot be created.
  relay(asio::io_context& io, end_handler on_end);
  /// Stops the thread and closes whatever it still relays, without calling the end handler.
  ~relay();
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  /// Takes over a connected session: the two descriptors (now owned by the relay) and where its
  /// bytes count (its node's counters, kept alive by the session if the node is removed meanwhile).
  void adopt(std::uint64_t token, int client_fd, int server_fd, std::shared_ptr<byte_counters> bytes);
  /// Closes these sessions (each ends as usual, through the end handler).
  void close(std::vector<std::uint64_t> tokens);
  /// Closes every session.
  void close_all();
  /// A session silent both ways this long is closed; 0 = never. Checked about once a second.
  void set_idle_timeout(std::chrono::seconds limit) { idle_limit_s_.store(static_cast<std::uint32_t>(limit.count())); }

 private:
  struct pair;
  struct side;
  struct command {
    enum class kind { adopt, close, close_all, stop } what;
    std::uint64_t token = 0;
    int fds[2] = {-1, -1};
    std::shared_ptr<byte_counters> bytes{};
    std::vector<std::uint64_t> tokens{};
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

  asio::io_context& io_;
  end_handler on_end_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: commands are waiting
  int tick_fd_ = -1;  // timerfd: one more second for the idle sweep
  std::atomic<std::uint32_t> idle_limit_s_{0};

  std::mutex commands_mutex_;
  std::vector<command> commands_;  // guarded by commands_mutex_

  // Relay-thread state below.
  std::unordered_map<std::uint64_t, std::unique_ptr<pair>> pairs_;
  std::vector<std::unique_ptr<pair>> ended_;  // freed after the batch of events that ended them
  std::vector<std::uint64_t> ended_tokens_;    // handed to the io thread once per batch
  std::vector<char> scratch_;                  // every recv lands here: idle sessions hold no buffer
  std::uint32_t tick_ = 0;                     // seconds since start, from tick_fd_

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace galeratop
