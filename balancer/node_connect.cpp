#include "balancer/node_connect.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include "balancer/net/connection_limit.hpp"
#include "balancer/mysql_packet.hpp"

namespace galeratop {
namespace {
using asio::ip::tcp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

/// The connect and the first packet; `connected` tells the caller which of the two a timeout cut.
asio::awaitable<std::error_code> dial(tcp::socket& server, const tcp::endpoint& node, std::span<char> greeting,
                                      std::string_view proxy_header, std::size_t& got, bool& connected) {
  auto [ec] = co_await server.async_connect(node, use_tuple);
  if (ec) co_return ec;
  connected = true;
  std::error_code ignored;
  server.set_option(tcp::no_delay(true), ignored);  // request/response: never wait to fill a segment
  if (!proxy_header.empty()) {
    // At most 52 bytes into an empty socket buffer: it completes at once.
    auto [wec, n] = co_await asio::async_write(server, asio::buffer(proxy_header), use_tuple);
    if (wec) co_return wec;
  }
  // The server speaks first. Waiting for its first packet is what tells a
  // live node from a frozen one whose kernel still completes the handshake.
  while (got < 5) {
    auto [rec, n] = co_await server.async_read_some(asio::buffer(greeting.data() + got, greeting.size() - got), use_tuple);
    if (rec) co_return rec;
    got += n;
  }
  co_return std::error_code{};
}
}  // namespace

asio::awaitable<connect_result> connect_to_node(tcp::socket& server, const tcp::endpoint& node,
                                                std::chrono::milliseconds timeout, std::span<char> greeting,
                                                std::string_view proxy_header) {
  using namespace asio::experimental::awaitable_operators;
  bool connected = false;
  connect_result r;
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  auto outcome = co_await (dial(server, node, greeting, proxy_header, r.greeting_bytes, connected) || timer.async_wait(use_tuple));
  if (outcome.index() == 1) {
    r.failure = connect_failure{
        .why = fmt::format("{} within {} ms", connected ? "no server greeting" : "no TCP connection", timeout.count()),
        .late = true};
  } else if (auto ec = std::get<0>(outcome)) {
    r.failure = connect_failure{.why = fmt::format("{}: {}", connected ? "closed before its greeting" : "connect",
                                                   ec.message()),
                                .ours = !connected && is_resource_shortage(ec),
                                .error = ec};
  } else if (const auto head = greeting.first(r.greeting_bytes); starts_with_err_packet(head)) {
    r.failure = connect_failure{.why = fmt::format("refused the client: {}", err_packet_message(head))};
  }
  if (r.failure) {
    std::error_code ignored;
    server.close(ignored);
  }
  co_return r;
}

}  // namespace galeratop
