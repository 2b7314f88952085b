#pragma once

#include <asio/ip/tcp.hpp>
#include <string>

namespace galeratop {

/// The PROXY protocol v2 header (haproxy.org/download/2.6/doc/proxy-protocol.txt) that tells a
/// node who the client is: a PROXY command over TCP from `client` to `to`, the address the client
/// connected to. IPv4-mapped addresses go as IPv4, so that a grant to 'app'@'10.0.0.5' matches a
/// client of a dual-stack listener. MariaDB reads it from hosts in its proxy_protocol_networks.
std::string encode_proxy_v2(const asio::ip::tcp::endpoint& client, const asio::ip::tcp::endpoint& to);

}  // namespace galeratop
