#pragma once

#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
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

/// How a TCP control connection is secured (a unix socket needs none: its mode and peer check do).
enum class control_security {
  verified,    ///< TLS; the agent's certificate must chain to a trusted CA and name the host or address
  unverified,  ///< TLS, any certificate: encrypted, but open to whoever can sit in the middle (--insecure)
  plain,       ///< no TLS: the token in clear, for an agent with agent.control_tls = false (--plain)
};

/// How galeratop reaches a TCP control endpoint.
struct control_tls_options {
  control_security security = control_security::verified;  ///< what --insecure and --plain change
  std::string ca_file;  ///< PEM of the CA(s) to trust; "" = the system's trust store
};

/// A client of galeratopd's control endpoint (galeratopd(8), CONTROL PROTOCOL). Every
/// operation has a deadline: a hung agent never hangs a script.
class control_client {
 public:
  /// Connects to a unix socket PATH or to HOST:PORT (TCP, with `token`, over TLS as `tls` says).
  control_client(const std::string& target, std::string token, std::chrono::milliseconds timeout,
                 const control_tls_options& tls = {});

  /// Sends one request ({"cmd": ...} and its fields) and returns the answer to it,
  /// skipping pushed events; throws control_unavailable. `answer_within` overrides the
  /// connection's timeout for this answer.
  nlohmann::json request(nlohmann::json req, std::optional<std::chrono::milliseconds> answer_within = {});

  /// The next pushed status after `subscribe`, or nullopt when none came in `timeout`.
  std::optional<nlohmann::json> next_event(std::chrono::milliseconds timeout);

 private:
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Starts TLS on the connected socket and checks the agent's certificate; throws control_unavailable.
  void start_tls(const std::string& host, const control_tls_options& tls);
  /// Calls `f` with the stream requests go through: the TLS stream, else the socket.
  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(socket_);
  }

  asio::io_context io_;
  asio::generic::stream_protocol::socket socket_;
  std::optional<asio::ssl::context> tls_context_;  // before tls_, which uses it
  std::optional<asio::ssl::stream<asio::generic::stream_protocol::socket&>> tls_;  // over socket_ on TCP
  std::string target_;
  std::string token_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  std::int64_t next_id_ = 1;
  bool plain_tcp_ = false;  // TCP without TLS (--plain)
  bool answered_ = false;   // a line came: the agent speaks the protocol, not TLS
};

}  // namespace galeratop
