#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace galeratop {

/// Error codes galeratopd sends in place of a server greeting.
namespace mysql_error {
/// ER_UNKNOWN_COM_ERROR, what a non-Primary Galera node answers: clients and
/// Galera-aware retry logic already treat it as "this node cannot serve now".
inline constexpr std::uint16_t node_unavailable = 1047;
/// ER_CON_COUNT_ERROR, "Too many connections".
inline constexpr std::uint16_t too_many_connections = 1040;
}  // namespace mysql_error

/// Encodes a MySQL ERR packet (header, 0xff, code, '#'+SQLSTATE, message) with
/// sequence id `seq`; messages are cut to keep the packet small.
std::string encode_err_packet(std::uint16_t code, std::string_view sqlstate, std::string_view message,
                              std::uint8_t seq = 0);

/// True when `bytes` hold at least a packet header and the first payload byte is 0xff (ERR).
bool starts_with_err_packet(std::span<const char> bytes);

/// The error message of an ERR packet at the start of `bytes`, empty if it is not one or is truncated.
std::string err_packet_message(std::span<const char> bytes);

}  // namespace galeratop
