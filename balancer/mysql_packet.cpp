#include "balancer/mysql_packet.hpp"

#include <algorithm>

namespace galeratop {
namespace {
constexpr std::size_t header_size = 4;
constexpr std::size_t max_message = 512;  // a greeting-sized packet; messages are one line

std::size_t payload_length(std::span<const char> b) {
  auto byte = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(b[i])); };
  return byte(0) | byte(1) << 8 | byte(2) << 16;
}
}  // namespace

std::string encode_err_packet(std::uint16_t code, std::string_view sqlstate, std::string_view message,
                              std::uint8_t seq) {
  message = message.substr(0, max_message);
  std::string payload;
  payload.reserve(9 + message.size());
  payload.push_back(static_cast<char>(0xff));
  payload.push_back(static_cast<char>(code & 0xff));
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back('#');
  std::string state(sqlstate.substr(0, 5));
  state.resize(5, '0');
  payload += state;
  payload += message;

  std::string packet;
  packet.reserve(header_size + payload.size());
  const std::size_t len = payload.size();
  packet.push_back(static_cast<char>(len & 0xff));
  packet.push_back(static_cast<char>((len >> 8) & 0xff));
  packet.push_back(static_cast<char>((len >> 16) & 0xff));
  packet.push_back(static_cast<char>(seq));
  packet += payload;
  return packet;
}

bool starts_with_err_packet(std::span<const char> bytes) {
  return bytes.size() > header_size && static_cast<unsigned char>(bytes[header_size]) == 0xff;
}

std::string err_packet_message(std::span<const char> bytes) {
  if (!starts_with_err_packet(bytes)) return {};
  const std::size_t end = std::min(bytes.size(), header_size + payload_length(bytes));
  std::size_t pos = header_size + 3;  // 0xff and the two code bytes
  if (pos < end && bytes[pos] == '#') pos += 6;
  if (pos >= end) return {};
  return std::string(bytes.begin() + static_cast<std::ptrdiff_t>(pos), bytes.begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace galeratop
