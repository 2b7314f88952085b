#include "balancer/net/address_text.hpp"

#include <fmt/format.h>

namespace galeratop {

asio::ip::address plain_address(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

std::string endpoint_text(const asio::ip::tcp::endpoint& e) {
  const asio::ip::address a = plain_address(e.address());
  return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), e.port()) : fmt::format("{}:{}", a.to_string(), e.port());
}

}  // namespace galeratop
