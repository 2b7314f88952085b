#pragma once

#include "balancer/relay.hpp"

namespace galeratop {

/// The relay on a level-triggered epoll set: the fallback where io_uring cannot be set up.
///
/// Why not Asio here: every Asio read starts with a speculative recv, which on a
/// request/response protocol fails with EAGAIN once per message per direction, a third of
/// the relay's syscalls on a machine where syscalls are what a query costs (docs/benchmarks.md).
/// Here a message costs one recv and one send, plus a share of one epoll_wait.
class epoll_relay final : public relay {
 public:
  /// Starts the relay thread; throws std::system_error if epoll, eventfd or timerfd cannot be created.
  epoll_relay(asio::io_context& io, end_handler on_end);
  ~epoll_relay() override;

  std::string_view backend() const override { return "epoll"; }

 private:
  struct epoll_session;
  /// One socket of a session, as the epoll set knows it (its data pointer).
  struct side {
    epoll_session* owner = nullptr;
    int index = client;
    bool registered = false;     // the fd is in the epoll set
    std::uint32_t interest = 0;  // the epoll events registered for it now
    std::vector<char> pending;   // bytes for this socket that it has not taken yet (it was full)
    std::size_t pending_from = 0;
  };
  /// Invariant: while bytes wait for one side, the other side is not read (back-pressure: at
  /// most one partial message is buffered per session).
  struct epoll_session : session {
    side sides[2];
  };

  void run() override;
  std::unique_ptr<session> make_session() override;
  void start(session& s) override;
  bool queued(const session& s, int to) const override;
  void close_node_side(session& s) override;
  void resume_client(session& s) override { watch(as_epoll(s), client); }
  void release_descriptors(session& s) override;
  void retire(std::unique_ptr<session> s) override { ended_.push_back(std::move(s)); }
  void closing_started() override;

  static epoll_session& as_epoll(session& s) { return static_cast<epoll_session&>(s); }
  void on_event(side& sd, std::uint32_t events);
  void pass(epoll_session& s, int from);  // recv from one side, send to the other
  void flush(epoll_session& s, int to);   // send what waits for this side
  void watch(epoll_session& s, int which);  // keep this side's epoll interest in step with the session
  bool finished(const epoll_session& s) const;  // both sides sent their EOF and nothing waits to be written

  int epoll_fd_ = -1;
  int tick_fd_ = -1;        // timerfd: one more second for the idle sweep
  int close_tick_fd_ = -1;  // timerfd: the safe-close sweep, armed while sessions wait for a safe point
  std::vector<std::unique_ptr<session>> ended_;  // freed after the batch of events that ended them
  std::vector<char> scratch_;                    // every recv lands here: idle sessions hold no buffer
};

}  // namespace galeratop
