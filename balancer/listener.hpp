#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <functional>
#include <optional>
#include <system_error>

namespace galeratop {

/// The client-facing socket: accepts clients on the io thread and hands each one over, or leaves
/// the accepting to the relay's front door (relay.hpp), which takes native_handle().
class listener {
 public:
  /// Who accepts its clients.
  enum class accepts { here, elsewhere };
  /// A client was accepted: what happens to it is the receiver's business.
  using client_handler = std::function<void(asio::ip::tcp::socket)>;
  /// accept() failed (mostly EMFILE): the listener pauses a moment before it tries again.
  using failure_handler = std::function<void(const std::error_code&)>;

  listener(asio::io_context& io, client_handler on_client, failure_handler on_failure);

  /// Binds and starts accepting (unless `who` is elsewhere); throws std::system_error when the
  /// address cannot be bound.
  void listen(const asio::ip::tcp::endpoint& at, accepts who = accepts::here);
  /// The same on a socket that already listens at `at` (one systemd passed), and owns it.
  void adopt(int fd, const asio::ip::tcp::endpoint& at, accepts who = accepts::here);
  /// Closes the socket; clients already accepted go on.
  void stop();
  /// The listening descriptor, still owned here.
  int native_handle() { return acceptor_->native_handle(); }
  /// IPv4 or IPv6: what its clients' sockets are.
  asio::ip::tcp protocol() const { return protocol_; }

 private:
  void set_client_options();
  asio::awaitable<void> accept_loop();

  asio::io_context& io_;
  client_handler on_client_;
  failure_handler on_failure_;
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  asio::ip::tcp protocol_ = asio::ip::tcp::v4();
};

}  // namespace galeratop
