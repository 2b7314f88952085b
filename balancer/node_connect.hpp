#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "balancer/connect_failure.hpp"

namespace galeratop {

/// What connecting to a node for a client came to.
struct connect_result {
  std::size_t greeting_bytes = 0;          ///< of the server's greeting, at the start of the buffer given
  std::optional<connect_failure> failure;  ///< nullopt: connected and greeted
};

/// Connects `server` to a node and reads the start of its greeting into `greeting`, all within
/// `timeout`. Connected means greeted: a frozen node's kernel still completes the TCP handshake,
/// and only its greeting tells it is alive. A node that answers with an ERR packet (too many
/// connections, host blocked) has failed too. On failure `server` is closed. A non-empty
/// `proxy_header` is sent first, before the node's greeting is read (the node reads it with the
/// client's first packet).
asio::awaitable<connect_result> connect_to_node(asio::ip::tcp::socket& server, const asio::ip::tcp::endpoint& node,
                                                std::chrono::milliseconds timeout, std::span<char> greeting,
                                                std::string_view proxy_header = {});

}  // namespace galeratop
