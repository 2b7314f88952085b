#include "balancer/listener.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include "balancer/net/accept_pause.hpp"

namespace galeratop {
using asio::ip::tcp;

listener::listener(asio::io_context& io, client_handler on_client, failure_handler on_failure)
    : io_(io), on_client_(std::move(on_client)), on_failure_(std::move(on_failure)) {}

void listener::listen(const tcp::endpoint& at, accepts who) {
  protocol_ = at.protocol();
  acceptor_.emplace(io_);
  acceptor_->open(at.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  set_client_options();
  acceptor_->bind(at);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  if (who == accepts::here) asio::co_spawn(io_, accept_loop(), asio::detached);
}

void listener::adopt(int fd, const tcp::endpoint& at, accepts who) {
  protocol_ = at.protocol();
  acceptor_.emplace(io_, at.protocol(), fd);
  set_client_options();
  if (who == accepts::here) asio::co_spawn(io_, accept_loop(), asio::detached);
}

void listener::set_client_options() {
  // Accepted sockets inherit both from the listener, which saves two syscalls per client.
  // No delay: MySQL is request/response, never wait to fill a segment. Keep-alive: a client
  // host that vanishes does not hold a node's connection until the idle timeout.
  acceptor_->set_option(tcp::no_delay(true));
  acceptor_->set_option(asio::socket_base::keep_alive(true));
}

void listener::stop() {
  if (!acceptor_) return;
  std::error_code ignored;
  acceptor_->close(ignored);
}

asio::awaitable<void> listener::accept_loop() {
  while (acceptor_ && acceptor_->is_open()) {
    auto [ec, socket] = co_await acceptor_->async_accept(asio::experimental::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) {
      on_failure_(ec);
      co_await pause_after_failed_accept();
      continue;
    }
    on_client_(std::move(socket));
  }
}

}  // namespace galeratop
