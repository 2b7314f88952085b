#pragma once

#include <memory>
#include <string>

#include "balancer/core/balancer_settings.hpp"
#include "balancer/relay.hpp"

namespace galeratop {

/// The relay galeratopd runs, and why that one.
struct chosen_relay {
  std::unique_ptr<relay> running;  ///< never null
  /// Why this backend: "[balancer] io_backend = \"epoll\"", or what the kernel refused when
  /// io_uring was wanted and epoll runs instead; empty when io_uring runs as wanted.
  std::string why;
};

/// Starts the relay `wanted` asks for: io_uring when the kernel allows it and epoll otherwise
/// (automatic), or the one forced. Throws std::runtime_error when io_uring is forced and cannot be
/// set up: a forced backend that silently is not the one running would mislead.
chosen_relay make_relay(io_backend wanted, asio::io_context& io, relay::end_handler on_end);

}  // namespace galeratop
