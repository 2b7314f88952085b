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

namespace galeratop {

/// Why a node could not be reached for a client.
struct connect_failure {
  std::string why;
  /// This process ran out of descriptors or memory (resource_shortage): the node is not to blame,
  /// and another node would fail the same way.
  bool ours = false;
  /// No TCP connection or no greeting within the timeout: the node may only be slow (a frozen
  /// node's kernel still accepts), where a refusal, a reset or an error packet is its answer.
  bool late = false;
  std::error_code error{};  ///< the socket error, when there was one
};

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
