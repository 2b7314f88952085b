#pragma once

#include <array>
#include <future>
#include <liburing.h>
#include <optional>
#include <string>
#include <unordered_map>

#include "balancer/relay.hpp"

namespace galeratop {

/// The relay on io_uring: where a syscall is what a query costs, the lever is the number of
/// kernel entries (docs/benchmarks.md). Each socket has one multishot receive armed for the
/// whole session, landing in a ring of buffers provided to the kernel and shared by every
/// session; each received buffer is sent on as it is and given back once sent. Sends prepared
/// while handling one round of completions go in with the next wait, so a loop round, however
/// many sessions it serves, costs one io_uring_enter. The ring is set up on the relay thread
/// (single issuer, task work deferred to that wait).
///
/// Back-pressure: only the bytes being sent hold a buffer of the ring. Bytes that arrive while a
/// send to the same socket is in flight are copied into the session's own memory and their
/// buffer goes back at once, so a reader that does not read holds one buffer, not a growing
/// share. A direction with 8 chunks waiting (up to 128 KiB) has its receive cancelled, and
/// re-armed once they are written. When every buffer is out the kernel ends a receive with
/// ENOBUFS; it is re-armed once buffers come back, and the bytes wait in the socket meanwhile.
///
/// It serves the front door too (uring_front_door.cpp): a few accepts in flight per listener, and
/// for each dial the io thread orders a connect and a receive of the greeting, each linked to a
/// timeout, and the send of the greeting to the client, all in the same ring; a short session
/// costs the io thread no syscall of its own but moving the client's descriptor out of Asio.
class uring_relay final : public relay {
 public:
  /// Sets up the ring and its buffers on the relay thread and starts relaying. Throws
  /// std::runtime_error saying what the kernel refused (a seccomp filter, kernel.io_uring_disabled,
  /// a kernel older than 6.1) when it cannot; make_relay then falls back to epoll.
  uring_relay(asio::io_context& io, end_handler on_end);
  ~uring_relay() override;

  std::string_view backend() const override { return "io_uring"; }
  bool serves_front_door() const override { return true; }

 private:
  /// Received bytes on their way to the other side.
  struct chunk {
    std::uint16_t buffer = 0;     ///< their buffer in the ring, unless copied out of it
    std::uint32_t length = 0;     ///< bytes received
    std::uint32_t sent = 0;       ///< of those, written so far
    std::unique_ptr<char[]> own;  ///< the bytes, copied out of the ring while they wait; null: in the ring
  };
  /// One socket of a session.
  struct side {
    std::optional<chunk> sending;  ///< being written to this socket: a send of it is in flight
    std::vector<chunk> waiting;    ///< to be written after it, oldest first; always copied out of the ring
    bool receiving = false;  ///< its multishot receive is armed (its last completion not seen yet)
    bool paused = false;     ///< not to be received from until the other side's queue is written
    bool starved = false;    ///< its receive ended for want of buffers; re-armed when some come back
    bool shut = false;       ///< the other side's EOF has been passed on to it
  };
  struct uring_session : session {
    side sides[2];
    std::uint32_t ops = 0;  ///< operations in flight whose user data names this session: it lives until they end
  };
  /// A listening socket the ring accepts on.
  struct listening {
    std::size_t index = 0;  ///< the balancer's listener
    int fd = -1;            ///< the io thread's; the ring only accepts on it
    unsigned armed = 0;     ///< its accepts in flight
    bool stopped = false;
    /// After a failed accept or with the accept backlog full, when to arm it again (ns); 0: not waiting
    std::int64_t retry_at = 0;
  };
  /// A client on its way to its node. One operation of it is in flight at any time.
  struct dialing {
    enum class step { connect, greeting, forward };
    dial_order order;
    int server_fd = -1;
    step at = step::connect;
    std::int64_t deadline = 0;  ///< the end of order.timeout (ns)
    __kernel_timespec limit{};  ///< the linked timeout of the step in flight, read at submission
    std::array<char, 1024> greeting{};  ///< a MySQL greeting is about 100 bytes
    std::uint32_t got = 0;              ///< of the greeting, received
    std::uint32_t forwarded = 0;        ///< of those, sent to the client
    bool aborted = false;
  };
  // User data: the address of a session, dialing or listening (all aligned to 16) with the
  // operation in its low bits, or one of these tags below any address.
  static constexpr std::uint64_t ignored_tag = 0;  ///< cancels, closes, linked timeouts: nothing to learn
  static constexpr std::uint64_t wake_tag = 1;     ///< the poll on the commands' eventfd
  static constexpr std::uint64_t op_mask = 7;
  enum op : std::uint64_t {
    recv_client = 0,
    recv_server = 1,
    send_client = 2,
    send_server = 3,
    dial_step = 4,  ///< the operation in flight of a dialing
    accept = 5,     ///< one of a listening's accepts
  };

  void run() override;
  std::unique_ptr<session> make_session() override { return std::make_unique<uring_session>(); }
  void start(session& s) override;
  bool queued(const session& s, int to) const override;
  void close_node_side(session& s) override;
  void resume_client(session& s) override;
  void release_descriptors(session& s) override;
  void retire(std::unique_ptr<session> s) override;
  void start_accepting(std::size_t listener, int fd) override;
  void stop_accepting(std::size_t listener) override;
  void start_dial(dial_order order) override;
  void cancel_dial(std::uint64_t token) override;

  static uring_session& as_uring(session& s) { return static_cast<uring_session&>(s); }
  std::string set_up();  // on the relay thread; the kernel's refusal, or "" when the ring is ready
  bool handle(const io_uring_cqe& cqe);  // false once told to stop
  void received(uring_session& s, int from, const io_uring_cqe& cqe);
  // The front door (uring_front_door.cpp).
  void arm_accepts(listening& l);  // up to accept_depth in flight, unless paused
  void accepted(listening& l, const io_uring_cqe& cqe);
  /// Re-arms the accepts whose pause is over (after a failure, or the backlog full and now not);
  /// the earliest pause still running (ns), or 0 for none.
  std::int64_t resume_accepts(std::int64_t now);
  void dialed(dialing& d, int result);  // the completion of its operation in flight
  void next_step(dialing& d);           // prepares the operation of d.at, linked to what is left of the timeout
  void dial_failed(dialing& d, connect_failure failure);
  void dial_done(dialing& d, bool client_gone);  // adopted, or both closed
  void close_dials();  // at the end: the descriptors of the dials still under way
  void sent(uring_session& s, int to, int result);
  void took_buffer(uring_session& s, int from, std::uint16_t buffer, std::uint32_t length);
  void arm_receive(uring_session& s, int from);
  void send_first(uring_session& s, int to);
  void cancel(uring_session& s, op which);
  void close_socket(uring_session& s, int which);  // cancels its operations and closes it, in the next submission
  void written(uring_session& s, int to);  // this side's queue has just been written
  bool finished(const uring_session& s) const;
  void give_back(std::uint16_t buffer);
  void give_back_queue(side& sd, bool keep_in_flight);
  static bool idle(const side& sd) { return !sd.sending && sd.waiting.empty(); }
  const char* bytes(const chunk& c) const { return c.own ? c.own.get() : buffer(c.buffer); }
  void end_of_round();
  void watch_commands();  // the poll on the commands' eventfd
  io_uring_sqe* next_sqe();
  char* buffer(std::uint16_t id) const;

  io_uring ring_{};
  bool ring_ready_ = false;
  io_uring_buf_ring* buffers_ = nullptr;  // the ring of provided buffers
  char* buffer_memory_ = nullptr;
  unsigned free_buffers_ = 0;    // buffers the kernel can receive into
  unsigned buffers_back_ = 0;    // given back in this round, not yet published to the kernel
  std::vector<std::unique_ptr<session>> retired_;  // ended, waiting for their operations to end
  std::vector<std::pair<std::uint64_t, int>> starved_;  // sessions and sides waiting for buffers
  std::vector<std::unique_ptr<listening>> listening_;  // never shrinks: a few per agent
  std::unordered_map<std::uint64_t, std::unique_ptr<dialing>> dials_;  // by token
  std::promise<std::string> set_up_result_;
};

}  // namespace galeratop
