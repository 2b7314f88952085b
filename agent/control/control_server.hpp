#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <sys/types.h>

#include "agent/control/control_protocol.hpp"
#include "balancer/net/descriptor_reserve.hpp"

namespace galeratop {

/// Where and how the control endpoint listens.
struct control_settings {
  std::string unix_path;  ///< "" = no unix socket
  std::string group;      ///< "" = mode 0600 for galeratopd's user only; else 0660 for this group
  std::optional<asio::ip::tcp::endpoint> tcp;
  std::string token;  ///< what every TCP request must carry
  /// TCP clients speak TLS with this context (certificate, key, TLS 1.2+); null = plain TCP.
  std::shared_ptr<asio::ssl::context> tls;
  std::chrono::seconds handshake_timeout{10};  ///< a TLS client must finish its handshake within it
  std::size_t max_clients = 256;  ///< beyond it the longest-idle client that is not subscribed is closed
  std::chrono::seconds idle_timeout{60};  ///< a client silent this long is closed (subscribers excepted)
  std::chrono::seconds write_timeout{5};  ///< a client that does not read its answers is closed
};

/// The control endpoint: JSON lines on a unix socket (and optionally TCP), served on
/// the io thread that owns the balancer, so requests act on it without locks.
class control_server {
 public:
  /// Answers one request (io thread); never throws. A coroutine: a change shared through the
  /// cluster is answered once the cluster has it, while other clients are served meanwhile.
  using request_handler = std::function<asio::awaitable<nlohmann::json>(control_request)>;
  /// The current status object, for `subscribe` pushes.
  using status_source = std::function<nlohmann::json()>;

  /// Binds; throws std::runtime_error naming the path or address when it cannot.
  control_server(asio::io_context& io, control_settings settings, request_handler handle, status_source status,
                 std::chrono::milliseconds default_interval);
  /// Closes every client and removes the socket file.
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  /// Stops accepting and closes every client (shutdown).
  void stop();
  /// Serves new TLS clients with `tls` (a reloaded certificate and key); clients already connected
  /// keep the context they started with. Io thread; ignored when TCP control is plain.
  void set_tls(std::shared_ptr<asio::ssl::context> tls);
  /// A new status has been published: the next push takes it (built once for every subscriber).
  void status_changed() { push_line_.reset(); }
  /// Pushes the current status to every subscriber now, outside its cadence: something a client
  /// waits for has happened (a drained node's last session has ended).
  void push_now();

 private:
  struct client {
    std::function<void()> close;
    std::chrono::steady_clock::time_point last_active;
    bool subscribed = false;
    bool push_due = false;  ///< push_now() asked for a push before the next one on its cadence
    /// While it waits for a request line or its next push: the timer of that wait, which push_now()
    /// cancels to push at once. Null meanwhile (a write's timeout must not be cut short).
    asio::steady_timer* waiting = nullptr;
  };
  using client_list = std::list<client>;

  void open_unix_socket();
  template <class Acceptor>
  asio::awaitable<void> accept_loop(Acceptor& acceptor, bool needs_token);
  bool admit();
  template <class Socket>
  asio::awaitable<void> serve(Socket socket, bool needs_token);
  /// Serves a TCP client: over TLS with the context in force now, unless TCP control is plain.
  asio::awaitable<void> serve_tcp(asio::ip::tcp::socket socket);
  /// Completes a client's TLS handshake within the handshake timeout; false (logged) when it did not.
  asio::awaitable<bool> handshake(asio::ssl::stream<asio::ip::tcp::socket>& stream);
  /// Whether a client of plain TCP control is to be closed before its first line: it opened a TLS
  /// handshake (peeked, logged), or it went idle or away without sending anything.
  asio::awaitable<bool> tls_on_plain_port(asio::ip::tcp::socket& socket);
  /// Logs one refused TCP client, at most one line per 10 s: a scan or a misconfigured fleet can flood.
  void log_tcp_refusal(const std::string& what);
  /// Answers `forbidden` to a client whose peer credentials are not allowed, then closes.
  asio::awaitable<void> refuse(asio::local::stream_protocol::socket socket, std::string why);
  /// `who`: the peer, as the events log names it.
  asio::awaitable<nlohmann::json> answer(const control_parse_result& parsed, bool needs_token, client& c,
                                         const std::string& who);
  /// The status push line of the status published last, built at its first push.
  std::shared_ptr<const std::string> push_line();

  asio::io_context& io_;
  control_settings settings_;
  request_handler handle_;
  status_source status_;
  std::shared_ptr<const std::string> push_line_;  // null: to be built from the status published last
  std::chrono::milliseconds default_interval_;
  std::optional<asio::local::stream_protocol::acceptor> unix_;
  std::optional<asio::ip::tcp::acceptor> tcp_;
  client_list clients_;
  std::chrono::steady_clock::time_point last_eviction_log_{};
  std::chrono::steady_clock::time_point last_refusal_log_{};
  std::chrono::steady_clock::time_point last_tcp_refusal_log_{};
  std::size_t tcp_refusals_unlogged_ = 0;  // refused since the last line about it
  std::optional<gid_t> group_;  // agent.control_group's id, whose members the peer check lets in
  descriptor_reserve reserve_;  // operators get in even when the data path has used every descriptor
  bool stopped_ = false;
};

}  // namespace galeratop
