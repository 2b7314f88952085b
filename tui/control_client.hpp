#pragma once

#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace galeratop {

/// The agent could not be reached or did not answer in time; the message says which and where.
struct control_unavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A client of galeratopd's control endpoint (galeratopd(8), CONTROL PROTOCOL). Every
/// operation has a deadline: a hung agent never hangs a script.
class control_client {
 public:
  /// Connects to a unix socket PATH or to HOST:PORT (TCP, with `token`).
  control_client(const std::string& target, std::string token, std::chrono::milliseconds timeout);

  /// Sends one request ({"cmd": ...} and its fields) and returns the answer to it,
  /// skipping pushed events; throws control_unavailable. `answer_within` overrides the
  /// connection's timeout for this answer.
  nlohmann::json request(nlohmann::json req, std::optional<std::chrono::milliseconds> answer_within = {});

  /// The next pushed status after `subscribe`, or nullopt when none came in `timeout`.
  std::optional<nlohmann::json> next_event(std::chrono::milliseconds timeout);

 private:
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);

  asio::io_context io_;
  asio::generic::stream_protocol::socket socket_;
  std::string target_;
  std::string token_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  std::int64_t next_id_ = 1;
};

}  // namespace galeratop
