#pragma once

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <string>

namespace galeratop {

/// The address a person would write: an IPv4-mapped IPv6 address (a client of a dual-stack
/// listener) becomes the IPv4 address it stands for; anything else is returned as it is.
asio::ip::address plain_address(const asio::ip::address& a);

/// HOST:PORT with the plain address, IPv6 bracketed: "127.0.0.2:41234", "[::1]:3306".
std::string endpoint_text(const asio::ip::tcp::endpoint& e);

}  // namespace galeratop
