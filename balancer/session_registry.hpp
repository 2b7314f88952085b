#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "balancer/core/routing_table.hpp"

namespace galeratop {

/// A session's number from accept to end. It is also its key at the relay thread, for each dial
/// the front door makes for it and once it is relayed: the relay takes its commands in order, so
/// an abort for one dial can never reach the next dial of the same session.
using session_id = std::uint64_t;

/// Where a session is between accept and end. Each phase says who holds its descriptors; the
/// session changes hands between the io thread and the relay thread only at these steps.
enum class session_phase {
  /// No node yet (held, or between two attempts). Its client socket is the io thread's.
  placing,
  /// Connecting to `node`, up to the node's greeting passed on to the client. On the io thread
  /// (epoll: both sockets are its own), or by the relay's front door (io_uring), which holds the
  /// client's descriptor from the dial order until it posts the outcome back: a failed dial
  /// returns the descriptor to the io thread for the next node or the client's error.
  dialing,
  /// Greeted: both descriptors are the relay thread's, which posts back the end of the node
  /// side (the session then leaves the registry, its client side may linger to be told why).
  relayed,
};

struct session_io;  // the placing coroutine's sockets and timers (session_io.hpp)

/// One session, as the io thread knows it from accept to end.
struct session_record {
  session_id id = 0;
  std::size_t listener = 0;      ///< the index of the listener it came in through
  bool writer_listener = false;  ///< that listener is a writer listener
  session_phase phase = session_phase::placing;
  node_id node = 0;   ///< dialing or relayed: the node it is counted on; 0 while placing
  bool held = false;  ///< placing, and waiting in the hold queue for a node its listener may use
  /// Placing or dialing: its coroutine's I/O, through which a close order reaches it. Null once relayed.
  session_io* io = nullptr;
};

/// Every session the io thread holds, one record each from accept to end (DESIGN rule 2), and the
/// counts derived from them: each node's `connections` (leastconn reads it, in the routing table)
/// and each listener's sessions per node. Only the methods below change a record's phase or node,
/// so that a count cannot drift from the records. Pure: no socket, no clock.
class session_registry {
 public:
  /// `table`: where each node's `connections` is counted.
  explicit session_registry(routing_table& table) : table_(table) {}

  /// A client accepted through `listener`: placing from now on.
  session_record& open(std::size_t listener, bool writer_listener);
  /// It dials `node` now, and counts there from now (so that leastconn sees it at once); it must
  /// not be counted on another node (detach() first).
  void attach(session_record& s, node_id node);
  /// Its dial failed: placing again, counted nowhere. The node it left.
  node_id detach(session_record& s);
  /// The relay holds it from now on (still counted on its node).
  void relayed(session_record& s) { s.phase = session_phase::relayed; }
  /// It has ended (closed before it was relayed, or the relay reported the end of its node side).
  /// The node it was counted on; 0 for none, or for an id no longer here.
  node_id close(session_id id);
  /// Puts it in the hold queue, or takes it out.
  void set_held(session_record& s, bool held);

  /// The session, or nullptr once it has ended.
  session_record* find(session_id id);
  const session_record* find(session_id id) const;
  /// Every session: placing, dialing and relayed.
  std::size_t size() const { return sessions_.size(); }
  /// Those in the hold queue.
  std::size_t held() const { return held_; }
  /// Calls `visit` with every session, in arrival order.
  template <class Visitor>
  void each(Visitor visit) const {
    for (const auto& [id, s] : sessions_) visit(s);
  }
  /// The sessions that `keep` says yes to, in arrival order.
  template <class Predicate>
  std::vector<session_id> select(Predicate keep) const {
    std::vector<session_id> ids;
    each([&](const session_record& s) {
      if (keep(s)) ids.push_back(s.id);
    });
    return ids;
  }
  /// How many sessions `keep` says yes to.
  template <class Predicate>
  std::size_t count(Predicate keep) const {
    std::size_t n = 0;
    each([&](const session_record& s) { n += keep(s) ? 1 : 0; });
    return n;
  }
  /// The sessions listener `listener` holds to each node now (dialing or relayed); empty for none.
  const std::map<node_id, std::uint32_t>& on_listener(std::size_t listener) const;

 private:
  void uncount(const session_record& s);

  routing_table& table_;
  std::map<session_id, session_record> sessions_;  // by id, which is arrival order: the hold queue wakes oldest first
  std::vector<std::map<node_id, std::uint32_t>> per_listener_;  // [listener][node]: sessions counted there
  std::size_t held_ = 0;
  session_id next_id_ = 1;
};

}  // namespace galeratop
