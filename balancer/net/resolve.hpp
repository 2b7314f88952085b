#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace galeratop {

/// Resolves HOST and PORT once, at start or reload, so that no socket ever waits for DNS; the
/// first address the resolver gives, or nullopt with `error`.
std::optional<asio::ip::tcp::endpoint> resolve(asio::io_context& io, const std::string& host, std::uint16_t port,
                                               std::string& error);

}  // namespace galeratop
