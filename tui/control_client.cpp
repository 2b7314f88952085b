#include "tui/control_client.hpp"

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include "agent/config/endpoint.hpp"
#include "agent/control/control_protocol.hpp"

namespace galeratop {
namespace {
constexpr std::size_t max_answer = 16 * 1024 * 1024;  // a status of a few hundred nodes fits many times over

/// Runs the io_context until `done` or the deadline; cancels what is pending at the deadline.
template <class Socket>
bool run_until(asio::io_context& io, Socket& socket, const bool& done, std::chrono::milliseconds timeout) {
  io.restart();
  io.run_for(timeout);
  if (done) return true;
  std::error_code ignored;
  socket.cancel(ignored);
  io.restart();
  io.run();  // let the cancelled operation complete
  return false;
}
}  // namespace

control_client::control_client(const std::string& target, std::string token, std::chrono::milliseconds timeout)
    : socket_(io_), target_(target), token_(std::move(token)), timeout_(timeout) {
  std::error_code ec;
  bool done = false;
  // HOST:PORT is TCP; anything else (it has a slash, or no port) is a unix socket path.
  const auto tcp_target = target.find('/') == std::string::npos ? parse_endpoint(target) : std::nullopt;
  if (tcp_target) {
    asio::ip::tcp::resolver resolver(io_);
    auto found = resolver.resolve(tcp_target->host, std::to_string(tcp_target->port),
                                  asio::ip::tcp::resolver::numeric_service, ec);
    if (ec || found.empty()) throw control_unavailable(fmt::format("cannot resolve {}: {}", target, ec.message()));
    socket_.async_connect(asio::generic::stream_protocol::endpoint(found.begin()->endpoint()), [&](std::error_code e) {
      ec = e;
      done = true;
    });
  } else {
    socket_.async_connect(asio::generic::stream_protocol::endpoint(asio::local::stream_protocol::endpoint(target)),
                          [&](std::error_code e) {
                            ec = e;
                            done = true;
                          });
  }
  if (!run_until(io_, socket_, done, timeout_))
    throw control_unavailable(fmt::format("galeratopd at {} did not accept within {} ms", target, timeout_.count()));
  if (ec)
    throw control_unavailable(fmt::format("cannot connect to galeratopd at {}: {}{}", target, ec.message(),
                                          tcp_target ? "" : " (is galeratopd running? see --control)"));
}

std::optional<std::string> control_client::read_line(std::chrono::milliseconds timeout) {
  std::error_code ec;
  std::size_t n = 0;
  bool done = false;
  asio::async_read_until(socket_, asio::dynamic_buffer(buffer_, max_answer), '\n',
                         [&](std::error_code e, std::size_t got) {
                           ec = e;
                           n = got;
                           done = true;
                         });
  if (!run_until(io_, socket_, done, timeout)) return std::nullopt;
  if (ec == asio::error::eof) throw control_unavailable(fmt::format("galeratopd at {} closed the connection", target_));
  if (ec) throw control_unavailable(fmt::format("reading from galeratopd at {}: {}", target_, ec.message()));
  std::string line = buffer_.substr(0, n - 1);
  buffer_.erase(0, n);
  return line;
}

nlohmann::json control_client::request(nlohmann::json req, std::optional<std::chrono::milliseconds> answer_within) {
  req["v"] = control_protocol_version;
  req["id"] = next_id_++;
  if (!token_.empty()) req["token"] = token_;
  const std::string out = req.dump() + "\n";
  std::error_code ec;
  bool done = false;
  asio::async_write(socket_, asio::buffer(out), [&](std::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!run_until(io_, socket_, done, timeout_) || ec)
    throw control_unavailable(fmt::format("cannot send to galeratopd at {}: {}", target_,
                                          ec ? ec.message() : "timed out"));
  const auto wait = answer_within.value_or(timeout_);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto line = left.count() > 0 ? read_line(left) : std::nullopt;
    if (!line)
      throw control_unavailable(fmt::format("galeratopd at {} did not answer within {} ms", target_, wait.count()));
    auto answer = nlohmann::json::parse(*line, nullptr, false);
    if (answer.is_discarded() || !answer.is_object())
      throw control_unavailable(fmt::format("galeratopd at {} sent something that is not the protocol", target_));
    if (answer.contains("event")) continue;  // a push that crossed our request
    if (answer.value("id", nlohmann::json()) == req["id"] || answer["id"].is_null()) return answer;
  }
}

std::optional<nlohmann::json> control_client::next_event(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (bool first = true;; first = false) {
    // At least one attempt, however short the timeout: a push may already be waiting.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!first && left.count() <= 0) return std::nullopt;
    auto line = read_line(std::max(left, std::chrono::milliseconds(1)));
    if (!line) return std::nullopt;
    auto event = nlohmann::json::parse(*line, nullptr, false);
    if (!event.is_discarded() && event.is_object() && event.contains("event")) return event;
  }
}

}  // namespace galeratop
