#pragma once

#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <unordered_map>
#include <vector>

#include "balancer/connect_failure.hpp"
#include "balancer/core/node_record.hpp"
#include "balancer/session_tracker.hpp"

namespace galeratop {

/// Moves bytes between the client and server sockets of established sessions, on a thread of
/// its own, as Codership's glb does with its pool. Two backends do the moving, one per derived
/// class: uring_relay (io_uring: multishot receives into a provided buffer ring, every send of a
/// loop round in one submission) and epoll_relay (level-triggered epoll, one recv and one send
/// per message), the fallback where io_uring cannot be set up. make_relay (relay_backend.hpp)
/// picks one at start.
///
/// This class holds what both share: the commands the io thread sends, the sessions, and the
/// session protocol on top of the bytes. Every session's bytes go through a session_tracker,
/// which reads them where they lie and keeps at most the first 40 bytes of a packet, so the
/// relay knows when a command is in flight and a transaction open: it counts queries and their
/// latency, closes a session for a drain only at a safe point, and tells a client in words when
/// its node is lost under a statement.
///
/// Ownership: the io thread connects a session, then hands both descriptors over with adopt();
/// from then on only the relay thread touches them. The only ways back are the node's counters
/// and the end handler, which runs on the io thread once both directions are over. Commands
/// (adopt, close) queue under a mutex and wake the thread through an eventfd.
///
/// The front door: a backend that serves it (io_uring) also accepts the clients and does the
/// mechanics of connecting each to the node the io thread chose, so that a short session's
/// accept, connect, greeting and relay share the relay's kernel entries. The decisions stay on
/// the io thread: an accepted client is handed to it, it picks the node and orders a dial, and
/// the dial's outcome comes back to it (a failed one with the client's descriptor, for the next
/// node or the client's error). Every report of a loop round goes to the io thread in one post.
class relay {
 public:
  /// Called on the io thread with the tokens of sessions that have ended and whose descriptors are closed.
  using end_handler = std::function<void(const std::vector<std::uint64_t>& tokens)>;

  /// The derived class stops the thread and closes whatever it still relays, without calling the end handler.
  virtual ~relay();
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  /// "io_uring" or "epoll": what moves the bytes.
  virtual std::string_view backend() const = 0;
  /// Whether this backend accepts the clients and connects them to their node (the front door);
  /// where it does not, the io thread does both.
  virtual bool serves_front_door() const { return false; }

  /// A connect to a node the io thread ordered for a client, up to the node's greeting passed on.
  struct dial_order {
    std::uint64_t token = 0;  ///< the session's token, once relayed
    int client_fd = -1;       ///< the relay's while the dial runs
    sockaddr_storage node{};  ///< where to connect
    socklen_t node_length = 0;
    std::chrono::milliseconds timeout{};  ///< for the TCP connect and the greeting together
    std::string proxy_header;             ///< sent first when not empty
    std::shared_ptr<session_counters> counters;
  };
  /// What a dial came to.
  struct dial_outcome {
    std::uint64_t token = 0;
    /// The node was not reached (the same words as the io thread's own connect); the client's
    /// descriptor is the io thread's again.
    std::optional<connect_failure> failure;
    int client_fd = -1;
    /// The dial was aborted, or the client's socket failed as the greeting was written: the
    /// relay closed both sockets.
    bool client_gone = false;
  };
  /// Where the front door's reports go, on the io thread.
  struct front_door_handlers {
    std::function<void(dial_outcome)> dialed;  ///< a success is a session the relay holds from now on
    /// The descriptor is the io thread's, which places the client (a session, counted against
    /// max_connections) or refuses it and closes the descriptor, before it returns.
    std::function<void(std::size_t listener, int fd)> accepted;
    std::function<void(std::size_t listener, std::error_code)> accept_failed;  ///< retried after accept_pause
  };
  /// Sets the handlers, before the first accept or dial.
  void set_front_door(front_door_handlers handlers) { front_door_ = std::move(handlers); }
  /// Accepts the clients of this listening socket until stop_accepting_on, while the io thread's
  /// backlog is not full; the io thread keeps owning the descriptor. Only where serves_front_door().
  void accept_on(std::size_t listener, int fd);
  void stop_accepting_on(std::size_t listener);
  /// Whether the front door may still hand the io thread a client: accepts are armed (a stopped
  /// listener's until their cancels complete: one the kernel completed first is a client taken
  /// off the listen queue, served rather than lost), or clients it reported are not handled yet.
  /// A stop waits for this to end (io thread).
  bool accepting() const { return front_door_pending_.load(std::memory_order_relaxed) > 0; }
  /// Connects a client to a node, as the order says. Only where serves_front_door().
  void dial(dial_order order);
  /// Ends a dial under way: the outcome says client_gone. A token that no longer dials is ignored.
  void abort_dial(std::uint64_t token);

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

 protected:
  static constexpr int client = 0;
  static constexpr int server = 1;
  /// How often sessions waiting for a safe point are looked at.
  static constexpr std::chrono::milliseconds close_sweep_period{50};

  /// One relayed session, as both backends see it; each derives its own with its I/O state.
  struct session {
    virtual ~session() = default;
    std::uint64_t token = 0;
    int fd[2] = {-1, -1};           ///< client, server; -1 once closed (the node side of an orphan)
    bool read_done[2] = {};         ///< that socket has sent its EOF (or is closed)
    std::shared_ptr<session_counters> counters;
    std::uint32_t last_active = 0;  // relay tick at the last byte either way
    bool ended = false;
    session_tracker tracker;
    std::int64_t command_at = 0;  // when the oldest command in flight began (ns)
    std::int64_t quiet_at = 0;    // when the session last became idle, or (opaque) last moved (ns)
    bool counted_in_transaction = false;  // in counters->in_transaction now
    bool counted_opaque = false;          // in counters->opaque now
    // A close waiting for a safe point, and since when (ns).
    std::optional<close_order> closing;
    std::int64_t closing_at = 0;
    int last_from = client;  // who sent the last bytes (the opaque fallback)
    // The node side is closed; the client side waits to be told, in answer to its next command.
    bool orphan = false;
    std::string orphan_reason;
    bool reported = false;  // the end of its node side has been handed to the io thread
  };

  /// Creates the eventfd commands knock on; throws std::system_error if it cannot.
  relay(asio::io_context& io, end_handler on_end);
  /// The derived constructor's last step: starts the thread, which runs run().
  void start_thread();
  /// The derived destructor's first step: stops the thread and closes the descriptors of every
  /// session and of every adopt not taken yet.
  void stop_thread();

  // What each backend does with descriptors.
  virtual void run() = 0;                                        // the thread's loop
  virtual std::unique_ptr<session> make_session() = 0;           // a session with the backend's state
  virtual void start(session& s) = 0;                            // begin relaying an adopted session
  virtual bool queued(const session& s, int to) const = 0;       // bytes wait to be written to this side
  virtual void close_node_side(session& s) = 0;                  // forget the node side's I/O and close it
  virtual void resume_client(session& s) = 0;                    // read the client side again (an orphan)
  virtual void release_descriptors(session& s) = 0;              // close both sides for good (end)
  virtual void retire(std::unique_ptr<session> s) = 0;           // keep an ended session until no I/O refers to it
  virtual void closing_started() {}                              // the first session waits for a safe point
  // The front door, for a backend that serves it.
  virtual void start_accepting(std::size_t /*listener*/, int /*fd*/) {}
  virtual void stop_accepting(std::size_t /*listener*/) {}
  virtual void start_dial(dial_order /*order*/) {}
  virtual void cancel_dial(std::uint64_t /*token*/) {}

  // The session protocol, run by the backend's thread.
  bool run_commands();  // false once told to stop; the backend resets the eventfd as it needs
  /// Bytes `from` sent: counts and tracks them, or for an orphan answers its client (and ends it).
  void took(session& s, int from, std::span<const char> bytes);
  /// `from` sent its EOF (eof) or failed. Returns true for an EOF the backend passes on as a
  /// half-close (read_done[from] is set), false when the session ended or lost its node instead.
  bool lost_side(session& s, int from, bool eof);
  void end(session& s);
  void sweep_closing();
  bool close_if_safe(session& s, std::int64_t now);
  /// Begins relaying a connected session: what adopt() does, for a session the front door connected.
  void begin(std::uint64_t token, int client_fd, int server_fd, std::shared_ptr<session_counters> counters);
  // What the front door has to tell the io thread, reported at the end of the loop round.
  /// A client an armed accept took: it stays pending (accepting()) until the io thread has handled it.
  void report_accepted(std::size_t listener, int fd) {
    accepted_.emplace_back(listener, fd);
    unplaced_.fetch_add(1, std::memory_order_relaxed);
  }
  /// An accept was armed (+1), or ended without a client (-1): accepting() counts both kinds at once,
  /// so that the io thread never sees a client in neither of them.
  void count_armed(int delta) { front_door_pending_.fetch_add(delta, std::memory_order_relaxed); }
  /// Accepted clients the io thread has not placed or refused yet. The backend stops accepting
  /// while there are accept_backlog_limit of them: a storm beyond max_connections is then left in
  /// the kernel's listen queue instead of taking the descriptors that the held clients' dials need
  /// (within reserved_descriptors, connection_limit.hpp).
  bool accept_backlog_full() const { return unplaced_.load(std::memory_order_relaxed) >= accept_backlog_limit; }
  static constexpr std::size_t accept_backlog_limit = 64;
  void report_accept_failure(std::size_t listener, int error) { accept_failures_.emplace_back(listener, error); }
  void report_dialed(dial_outcome outcome) { dialed_.push_back(std::move(outcome)); }
  /// Hands this loop round's reports to the io thread in one post: the dials' outcomes first, so
  /// that a session is known there before its end is, then the ended sessions, then the accepts.
  void report();
  /// Advances the one-second tick of the idle sweep and runs it.
  void tick(std::uint32_t seconds);
  bool anyone_closing() const { return !closing_.empty(); }
  static std::int64_t now_ns();
  std::unordered_map<std::uint64_t, std::unique_ptr<session>>& sessions() { return sessions_; }
  std::uint32_t now_tick() const { return tick_; }
  int wake_fd() const { return wake_fd_; }

 private:
  struct command {
    enum class kind { adopt, close, keep, close_all, accept_on, stop_accepting, dial, abort_dial, stop } what;
    std::uint64_t token = 0;
    int fds[2] = {-1, -1};
    std::shared_ptr<session_counters> counters{};
    std::vector<std::uint64_t> tokens{};
    close_order order{};
    std::size_t listener = 0;
    std::optional<dial_order> dial{};
  };

  void submit(command c);
  void sweep_idle();  // on tick()
  void track(session& s, int from, std::span<const char> bytes);
  bool close_ordered(session& s, const close_order& order);
  void release_node(session& s, std::string reason);
  void lose_node(session& s, std::string_view why);
  void answer_orphan(session& s, std::span<const char> bytes);
  void settle_gauges(session& s, bool gone);  // gone: the session no longer counts for its node

  asio::io_context& io_;
  end_handler on_end_;
  front_door_handlers front_door_;
  int wake_fd_ = -1;  // eventfd: commands are waiting
  std::atomic<std::uint32_t> idle_limit_s_{0};
  std::atomic<std::uint32_t> close_idle_ms_{250};
  std::atomic<std::uint32_t> close_patience_ms_{5000};
  std::atomic<std::size_t> unplaced_{0};  // accepted, reported and not yet handled by the io thread
  std::atomic<int> front_door_pending_{0};  // armed accepts plus unplaced clients (accepting())

  std::mutex commands_mutex_;
  std::vector<command> commands_;  // guarded by commands_mutex_

  // Relay-thread state below.
  std::unordered_map<std::uint64_t, std::unique_ptr<session>> sessions_;
  std::vector<std::uint64_t> ended_tokens_;  // handed to the io thread once per loop round, as are these:
  std::vector<dial_outcome> dialed_;
  std::vector<std::pair<std::size_t, int>> accepted_;         // listener, descriptor
  std::vector<std::pair<std::size_t, int>> accept_failures_;  // listener, errno
  std::uint32_t tick_ = 0;                   // seconds since start
  std::vector<std::uint64_t> closing_;       // sessions waiting for a safe point (tokens; ended ones are skipped)

  std::thread thread_;
};

}  // namespace galeratop
