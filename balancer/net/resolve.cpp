#include "balancer/net/resolve.hpp"

namespace galeratop {

std::optional<asio::ip::tcp::endpoint> resolve(asio::io_context& io, const std::string& host, std::uint16_t port,
                                               std::string& error) {
  asio::ip::tcp::resolver resolver(io);
  std::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), asio::ip::tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    error = ec ? ec.message() : "no address";
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

}  // namespace galeratop
