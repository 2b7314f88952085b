#include "exporters/metrics_server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <prometheus/text_serializer.h>

#include <fmt/format.h>
#include <sstream>

#include "agent/config/secret_file.hpp"
#include "balancer/net/accept_pause.hpp"
#include "balancer/core/log.hpp"
#include "exporters/http_request.hpp"
#include "exporters/metric_families.hpp"

namespace galeratop {
namespace {
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::string_view exposition_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view text_type = "text/plain; charset=utf-8";
}  // namespace

std::optional<metrics_security> metrics_security::load(const tls_files& tls, const std::string& users_file,
                                                       std::string& error) {
  metrics_security security;
  if (!tls.cert.empty()) {
    security.tls = make_server_context(tls, "agent.metrics_tls", error);
    if (!security.tls) return std::nullopt;
  }
  if (!users_file.empty()) {
    std::string why;
    // Bcrypt hashes yield to offline guessing: the file is a secret like the password file.
    const auto text = read_small_file(users_file, true, 1024 * 1024, why);
    auto users = text ? basic_auth::parse(*text, why) : std::nullopt;
    if (!users) {
      error = fmt::format("agent.metrics_basic_auth_users {}: {}", users_file, why);
      return std::nullopt;
    }
    security.users = std::make_shared<const basic_auth>(std::move(*users));
  }
  return security;
}

metrics_server::metrics_server(const tcp::endpoint& at, const snapshot_slot& slot, metrics_security security,
                               metrics_limits limits)
    : slot_(slot), limits_(limits), security_(std::move(security)), acceptor_(io_) {
  acceptor_.open(at.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(at);
  acceptor_.listen();
  asio::co_spawn(io_, accept_loop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

metrics_server::~metrics_server() {
  asio::post(io_, [this] {
    std::error_code ignored;
    acceptor_.close(ignored);
    for (client& c : clients_) c.socket->close(ignored);
  });
  thread_.join();  // run() returns once every client coroutine has ended
}

void metrics_server::set_security(metrics_security security) {
  // The hand-off of a reload (io thread) to this server's thread, which alone touches security_.
  asio::post(io_, [this, security = std::move(security)]() mutable { security_ = std::move(security); });
}

std::string metrics_server::exposition() const {
  const auto s = slot_.load();
  std::ostringstream out;
  if (s) prometheus::TextSerializer().Serialize(out, metric_families(*s));
  return std::move(out).str();
}

void metrics_server::make_room() {
  for (client& c : clients_) {
    if (c.evicted) continue;
    c.evicted = true;  // closing takes a turn of the loop; do not pick it twice
    std::error_code ignored;
    c.socket->close(ignored);
    return;
  }
}

asio::awaitable<void> metrics_server::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      co_await pause_after_failed_accept();
      continue;
    }
    if (clients_.size() >= limits_.max_clients) make_room();
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> metrics_server::serve(tcp::socket socket) {
  auto me = clients_.insert(clients_.end(), client{&socket});
  // This client keeps the certificate and users it came in with, whatever a reload brings.
  const metrics_security security = security_;
  try {
    if (security.tls) {
      asio::ssl::stream<tcp::socket&> stream(socket, *security.tls);
      asio::steady_timer timer(io_, limits_.head_timeout);  // the handshake counts against the head's deadline
      auto r = co_await (stream.async_handshake(asio::ssl::stream_base::server, use_tuple) ||
                         timer.async_wait(use_tuple));
      if (r.index() == 0 && !std::get<0>(std::get<0>(r))) {
        co_await answer(stream, security);
        // close_notify, so that a client can tell the end of the answer from a cut; bounded.
        timer.expires_after(std::chrono::seconds(1));
        co_await (stream.async_shutdown(use_tuple) || timer.async_wait(use_tuple));
      } else if (r.index() == 0) {
        log_debug("metrics: TLS handshake failed: {}", std::get<0>(std::get<0>(r)).message());
      }
    } else {
      co_await answer(socket, security);
    }
  } catch (const std::exception& e) {
    log_debug("metrics client ended by an exception: {}", e.what());
  }
  std::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
  clients_.erase(me);
}

template <class Stream>
asio::awaitable<void> metrics_server::answer(Stream& stream, const metrics_security& security) {
  asio::steady_timer timer(io_);
  std::string in;
  timer.expires_after(limits_.head_timeout);
  auto r = co_await (asio::async_read_until(stream, asio::dynamic_buffer(in, http_max_head), "\r\n\r\n", use_tuple) ||
                     timer.async_wait(use_tuple));
  std::string response;
  if (r.index() == 1) {
    response = http_response(408, text_type, "the request did not arrive in time\n", false);
  } else if (auto [ec, n] = std::get<0>(r); ec == asio::error::not_found) {
    response = http_response(431, text_type, "the request head is too large\n", false);
  } else if (!ec) {
    const http_request request = classify_http_request(std::string_view(in).substr(0, n));
    if (security.users && !security.users->allows(request.authorization)) {
      response = http_response(401, text_type, "basic auth by a user of agent.metrics_basic_auth_users\n",
                               request.head_only);
    } else {
      switch (request.route) {
        case http_route::metrics:
          response = http_response(200, exposition_type, exposition(), request.head_only);
          break;
        case http_route::not_found:
          response = http_response(404, text_type, "galeratopd serves /metrics only\n", request.head_only);
          break;
        case http_route::method_not_allowed:
          response = http_response(405, text_type, "the metrics endpoint is read-only: GET or HEAD\n", false);
          break;
        case http_route::bad_request:
          response = http_response(400, text_type, "not an HTTP/1 request\n", false);
          break;
      }
    }
  }
  if (!response.empty() && stream.lowest_layer().is_open()) {
    timer.expires_after(limits_.write_timeout);
    co_await (asio::async_write(stream, asio::buffer(response), use_tuple) || timer.async_wait(use_tuple));
  }
}

}  // namespace galeratop
