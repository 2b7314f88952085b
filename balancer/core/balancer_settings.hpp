#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace galeratop {

/// How a new client is assigned among eligible nodes.
enum class balance_policy { leastconn, roundrobin };

/// What to do with a Donor/Desynced node.
enum class donor_policy {
  avoid,  ///< no new connections while another node can serve; served if it is the last one
  serve,  ///< treated like Synced
};

/// What a listener does with its clients.
enum class listener_role {
  balance,  ///< leastconn or roundrobin over every eligible node (`policy`)
  writer,   ///< every session on the one writer the agents of the group agree on
};

/// What moves the bytes of established sessions (chosen at start; a reload keeps it).
enum class io_backend {
  automatic,  ///< io_uring where the kernel allows it, epoll otherwise
  io_uring,   ///< io_uring or no start
  epoll,      ///< epoll even where io_uring would work
};

/// Each policy with its name in the configuration, on the command line and in the log.
inline constexpr std::array<std::pair<balance_policy, std::string_view>, 2> balance_policy_names{
    {{balance_policy::leastconn, "leastconn"}, {balance_policy::roundrobin, "roundrobin"}}};
/// Each donor policy with its name in the configuration, on the command line and in the log.
inline constexpr std::array<std::pair<donor_policy, std::string_view>, 2> donor_policy_names{
    {{donor_policy::avoid, "avoid"}, {donor_policy::serve, "serve"}}};

/// Each listener role with its name in the configuration, status and metrics.
inline constexpr std::array<std::pair<listener_role, std::string_view>, 2> listener_role_names{
    {{listener_role::balance, "balance"}, {listener_role::writer, "writer"}}};

/// Each I/O backend setting with its name in the configuration and on the command line.
inline constexpr std::array<std::pair<io_backend, std::string_view>, 3> io_backend_names{
    {{io_backend::automatic, "auto"}, {io_backend::io_uring, "io_uring"}, {io_backend::epoll, "epoll"}}};

/// "leastconn" or "roundrobin".
std::string_view to_string(balance_policy p);
/// "avoid" or "serve".
std::string_view to_string(donor_policy p);
/// "balance" or "writer".
std::string_view to_string(listener_role r);
/// "auto", "io_uring" or "epoll".
std::string_view to_string(io_backend b);

/// The value a name in `names` stands for; nullopt for another name.
template <class Enum, std::size_t N>
constexpr std::optional<Enum> from_name(const std::array<std::pair<Enum, std::string_view>, N>& names,
                                        std::string_view name) {
  for (const auto& [value, n] : names)
    if (n == name) return value;
  return std::nullopt;
}

/// What a refusal says when a name is not in `names`: expected "leastconn" or "roundrobin".
template <class Enum, std::size_t N>
std::string expected_one_of(const std::array<std::pair<Enum, std::string_view>, N>& names) {
  std::string out = "expected ";
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) out += " or ";
    out += '"';
    out += names[i].second;
    out += '"';
  }
  return out;
}

/// Data-path tunables; all but `io` can change at reload.
struct balancer_settings {
  balance_policy policy = balance_policy::leastconn;
  donor_policy donors = donor_policy::avoid;
  std::chrono::milliseconds connect_timeout{1000};  ///< TCP connect plus the server's greeting
  int connect_attempts = 3;                          ///< nodes tried for one client before it gets an error
  bool close_on_failure = true;  ///< close the sessions of a node that goes down or non-Primary
  std::chrono::seconds idle_timeout{8 * 3600};  ///< 0 = never; a session silent both ways this long is closed
  /// Drain, maint and removal close a session at a safe point (no statement in flight, no
  /// transaction open) once it has been idle this long: a client between two statements of one
  /// piece of work is not cut, a pooled connection waiting in its pool is.
  std::chrono::milliseconds close_idle{250};
  /// A session never idle that long is closed at any safe point after this: a busy pool's.
  std::chrono::milliseconds close_patience{5000};
  /// A writer switch waits this long for the old writer's sessions on writer listeners to reach a
  /// safe point, then cuts the rest.
  std::chrono::milliseconds writer_barrier{10000};
  /// A client no node can take now (none eligible, a writer switch under way) waits this long,
  /// accepted but not greeted, before it gets ERR 1047: an agent restart, a switch and a node's
  /// exclusion before the next one's admission pass unseen. 0 = refused at once.
  std::chrono::milliseconds hold{10000};
  /// Clients held at once; one more gets ERR 1047 at once. Bounds what an outage can pile up.
  std::size_t hold_limit = 1024;
  /// Every node's default for sending the client's address in a PROXY v2 header ([[node]] overrides).
  bool proxy_protocol = false;
  std::chrono::milliseconds maint_grace{10000};  ///< maint's hard deadline: then what is left is closed, cut or not
  /// Sessions held at once; a client beyond it gets ERR 1040 and is closed. 0 = automatic: what the
  /// descriptor limit allows (two descriptors a session), decided at start by effective_max_connections().
  std::size_t max_connections = 0;
  /// What relays the bytes; only read at start (make_relay).
  io_backend io = io_backend::automatic;
};

}  // namespace galeratop
