#pragma once

#include <cerrno>
#include <cstddef>
#include <system_error>

namespace galeratop {

/// Descriptors kept back from client sessions: monitor connections, control and metrics
/// clients, the log, epoll and timer descriptors, the state files.
inline constexpr std::size_t reserved_descriptors = 128;

/// How many sessions the balancer holds at once. A session costs two descriptors (client
/// and node), so `configured` = 0 (automatic) means what the descriptor limit allows; an
/// explicit value is kept even above that, and then accept() pauses when descriptors run out.
constexpr std::size_t effective_max_connections(std::size_t configured, std::size_t descriptor_limit) {
  if (configured != 0) return configured;
  if (descriptor_limit <= reserved_descriptors + 2) return 1;
  return (descriptor_limit - reserved_descriptors) / 2;
}

/// True when `configured` sessions cannot all have their descriptors.
constexpr bool exceeds_descriptor_limit(std::size_t configured, std::size_t descriptor_limit) {
  return configured != 0 && descriptor_limit < reserved_descriptors + 2 * configured;
}

/// True when a socket error `ec` says this process is short of descriptors or memory (EMFILE,
/// ENFILE, ENOBUFS, ENOMEM), not that a peer failed. By value alone: Asio reports socket errors
/// as errno values (its own error enums do not reach these numbers), and comparing with
/// std::errc is a virtual call that UBSan cannot check with no descriptor left.
inline bool is_resource_shortage(const std::error_code& ec) {
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

}  // namespace galeratop
