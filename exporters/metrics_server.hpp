#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "agent/cluster/snapshot_slot.hpp"
#include "agent/config/tls_files.hpp"
#include "exporters/basic_auth.hpp"

namespace galeratop {

/// How much the metrics endpoint gives any one client: bounded buffers and a timeout on every socket.
struct metrics_limits {
  std::size_t max_clients = 64;  ///< beyond it the oldest client is closed: a stalled one is always older than a scrape
  std::chrono::milliseconds head_timeout{5000};   ///< the whole request head must arrive within it (slowloris)
  std::chrono::milliseconds write_timeout{5000};  ///< the whole answer must be taken within it
};

/// What /metrics asks of a client, as Prometheus's own exporters do (exporter-toolkit's
/// tls_server_config and basic_auth_users); both optional, both replaced at reload.
struct metrics_security {
  std::shared_ptr<asio::ssl::context> tls;  ///< HTTPS only, with this certificate and key; null = plain HTTP
  std::shared_ptr<const basic_auth> users;  ///< basic auth by one of these users; null = none

  /// Reads agent.metrics_tls_cert and _key (when `tls.cert` is set) and agent.metrics_basic_auth_users
  /// (when `users_file` is); nullopt with `error` naming the key and the file when one does not load.
  static std::optional<metrics_security> load(const tls_files& tls, const std::string& users_file,
                                              std::string& error);
};

/// Serves GET /metrics on a thread and io_context of its own, so a scrape or a
/// misbehaving client never waits on, nor delays, the data path. Every scrape builds
/// the families from the current snapshot. One request per connection, then close.
class metrics_server {
 public:
  /// Binds `at` (port 0 picks one); throws std::system_error when it cannot.
  metrics_server(const asio::ip::tcp::endpoint& at, const snapshot_slot& slot, metrics_security security = {},
                 metrics_limits limits = {});
  /// Closes every client and joins the thread.
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// Serves new clients with `security` (a reload); thread-safe: handed to the server's thread.
  void set_security(metrics_security security);

 private:
  struct client {
    asio::ip::tcp::socket* socket;
    bool evicted = false;
  };

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket);
  /// Reads one request from `stream` and answers it.
  template <class Stream>
  asio::awaitable<void> answer(Stream& stream, const metrics_security& security);
  void make_room();
  /// The text exposition of the current snapshot (this server's thread).
  std::string exposition() const;

  const snapshot_slot& slot_;  // the one cross-thread hand-off (see snapshot_slot)
  const metrics_limits limits_;
  metrics_security security_;  // touched only on this server's thread once it runs
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::list<client> clients_;  // oldest first; touched only on this server's thread
  std::thread thread_;         // last: it starts once everything it uses exists
};

}  // namespace galeratop
