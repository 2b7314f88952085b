#include "balancer/proxy_header.hpp"

#include <array>
#include <cstdint>

#include "balancer/net/address_text.hpp"

namespace galeratop {
namespace {
constexpr std::array<unsigned char, 12> signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr unsigned char version_2_proxy = 0x21;
constexpr unsigned char tcp_over_ipv4 = 0x11;
constexpr unsigned char tcp_over_ipv6 = 0x21;

void put_16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xFF);
}

template <class Bytes>
void put_bytes(std::string& out, const Bytes& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}
}  // namespace

std::string encode_proxy_v2(const asio::ip::tcp::endpoint& client, const asio::ip::tcp::endpoint& to) {
  const asio::ip::address from = plain_address(client.address());
  const asio::ip::address at = plain_address(to.address());
  // Both ends of one socket: both IPv4, both IPv4-mapped (told as IPv4), or both IPv6.
  const bool v4 = from.is_v4() && at.is_v4();
  std::string out;
  put_bytes(out, signature);
  out += static_cast<char>(version_2_proxy);
  out += static_cast<char>(v4 ? tcp_over_ipv4 : tcp_over_ipv6);
  put_16(out, v4 ? 12 : 36);
  if (v4) {
    put_bytes(out, from.to_v4().to_bytes());
    put_bytes(out, at.to_v4().to_bytes());
  } else {
    put_bytes(out, client.address().to_v6().to_bytes());
    put_bytes(out, to.address().to_v6().to_bytes());
  }
  put_16(out, client.port());
  put_16(out, to.port());
  return out;
}

}  // namespace galeratop
