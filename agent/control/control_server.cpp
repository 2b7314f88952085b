#include "agent/control/control_server.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <stdexcept>
#include <utility>

#include "agent/control/push_cadence.hpp"
#include "agent/control/tls_failure.hpp"
#include "balancer/net/accept_pause.hpp"
#include "balancer/net/address_text.hpp"
#include "balancer/net/connection_limit.hpp"
#include "balancer/core/log.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;
using local = asio::local::stream_protocol;
using asio::ip::tcp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

/// Compares without an early exit, so the time taken says nothing about how much of a token was right.
bool same_token(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % std::max<std::size_t>(expected.size(), 1)]);
  return diff == 0 && !expected.empty();
}
/// One line of the protocol; a string that is not UTF-8 cannot stop an answer.
std::string wire_line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

bool member_of(const ::ucred& peer, gid_t group) {
  if (peer.gid == group) return true;
  const ::passwd* pw = ::getpwuid(peer.uid);
  if (!pw) return false;
  std::vector<gid_t> groups(64);
  int n = static_cast<int>(groups.size());
  if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<std::size_t>(n));  // n now says how many there are
    if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) return false;
  }
  return std::find(groups.begin(), groups.begin() + n, group) != groups.begin() + n;
}

/// "127.0.0.1:40000", "[::1]:40000": a TCP client in the log, IPv4-mapped addresses as IPv4.
std::string peer_text(const tcp::socket& socket) {
  std::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  return ec ? "a client" : endpoint_text(peer);
}

/// The unix peer's uid, gid and pid (SO_PEERCRED); nullopt, errno set, when the kernel gives none.
std::optional<::ucred> peer_credentials(local::socket& socket) {
  ::ucred peer{};
  ::socklen_t len = sizeof peer;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) return std::nullopt;
  return peer;
}

/// Who is at the other end, for the events an operator's request causes.
std::string who_is(local::socket& socket) {
  const auto peer = peer_credentials(socket);
  return peer ? fmt::format("uid {} (pid {})", peer->uid, peer->pid) : "a local client";
}
std::string who_is(tcp::socket& socket) { return "tcp " + peer_text(socket); }
std::string who_is(asio::ssl::stream<tcp::socket>& stream) { return "tcp " + peer_text(stream.next_layer()); }

/// Why the peer of a unix control connection is turned away, or nullopt. The socket's mode
/// already keeps others out; this holds even when the mode or the directory was loosened by
/// mistake: only root, galeratopd's own user and agent.control_group's members get in.
std::optional<std::string> peer_refusal(local::socket& socket, std::optional<gid_t> group) {
  const auto peer = peer_credentials(socket);
  if (!peer) return fmt::format("no peer credentials: {}", std::strerror(errno));
  if (peer->uid == 0 || peer->uid == ::geteuid() || (group && member_of(*peer, *group))) return std::nullopt;
  return fmt::format("uid {} (pid {}) is not root, galeratopd's user or in agent.control_group", peer->uid, peer->pid);
}
}  // namespace

control_server::control_server(asio::io_context& io, control_settings settings, request_handler handle,
                               status_source status, std::chrono::milliseconds default_interval)
    : io_(io),
      settings_(std::move(settings)),
      handle_(std::move(handle)),
      status_(std::move(status)),
      default_interval_(default_interval) {
  if (!settings_.unix_path.empty()) {
    open_unix_socket();
    asio::co_spawn(io_, accept_loop(*unix_, false), asio::detached);
  }
  if (settings_.tcp) {
    tcp_.emplace(io_);
    std::error_code ec;
    tcp_->open(settings_.tcp->protocol(), ec);
    if (!ec) tcp_->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) tcp_->bind(*settings_.tcp, ec);
    if (!ec) tcp_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error(fmt::format("agent.control_tcp {}:{}: {}", settings_.tcp->address().to_string(),
                                                 settings_.tcp->port(), ec.message()));
    asio::co_spawn(io_, accept_loop(*tcp_, true), asio::detached);
  }
}

control_server::~control_server() {
  stop();
  if (!settings_.unix_path.empty()) {
    std::error_code ignored;
    std::filesystem::remove(settings_.unix_path, ignored);
  }
}

void control_server::stop() {
  if (stopped_) return;
  stopped_ = true;
  std::error_code ignored;
  if (unix_) unix_->close(ignored);
  if (tcp_) tcp_->close(ignored);
  for (client& c : clients_) c.close();
}

void control_server::open_unix_socket() {
  namespace fs = std::filesystem;
  const std::string& path = settings_.unix_path;
  auto fail = [&](std::string why) { return std::runtime_error(fmt::format("agent.control {}: {}", path, why)); };
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) throw fail("the path is too long for a unix socket");
  std::error_code ec;
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path(), ec);
  const auto st = fs::symlink_status(path, ec);
  if (!ec && fs::exists(st)) {
    if (!fs::is_socket(st)) throw fail("exists and is not a socket");
    // A live agent answers on it; the file a crashed one left behind does not.
    local::socket probe(io_);
    std::error_code refused;
    probe.connect(local::endpoint(path), refused);
    if (!refused) throw fail("another galeratopd is serving it");
    fs::remove(path, ec);
  }
  unix_.emplace(io_);
  unix_->open(local(), ec);
  // Created 0600 from the start: there is no moment at which another user could connect.
  const mode_t previous = ::umask(0177);
  if (!ec) unix_->bind(local::endpoint(path), ec);
  ::umask(previous);
  if (ec) throw fail(ec.message());
  if (!settings_.group.empty()) {
    const ::group* g = ::getgrnam(settings_.group.c_str());
    if (!g) throw fail(fmt::format("agent.control_group {}: no such group", settings_.group));
    group_ = g->gr_gid;
    if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0 || ::chmod(path.c_str(), 0660) != 0)
      throw fail(fmt::format("cannot give it to group {}: {}", settings_.group, std::strerror(errno)));
  }
  unix_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw fail(ec.message());
}

bool control_server::admit() {
  if (clients_.size() < settings_.max_clients) return true;
  // Idle clients must not lock operators out: the longest-idle one that is not subscribed makes room.
  client* oldest = nullptr;
  for (client& c : clients_)
    if (!c.subscribed && (!oldest || c.last_active < oldest->last_active)) oldest = &c;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_eviction_log_ > std::chrono::seconds(10)) {
    log_warning("control: {} clients connected, the limit; {}", clients_.size(),
                oldest ? "closing the longest idle ones to make room" : "refusing new ones (all are subscribed)");
    last_eviction_log_ = now;
  }
  if (!oldest) return false;
  oldest->close();
  oldest->last_active = now;  // closing takes a turn of the loop; do not pick it twice
  return true;
}

template <class Acceptor>
asio::awaitable<void> control_server::accept_loop(Acceptor& acceptor, bool needs_token) {
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || stopped_) co_return;
    if (ec) {
      // Out of descriptors (EMFILE): the reserved one lets this operator in. Without it the
      // accept fails at once, again and again: wait instead of spinning.
      if (is_resource_shortage(ec) && reserve_.release()) continue;
      co_await pause_after_failed_accept();
      reserve_.restore();
      continue;
    }
    reserve_.restore();  // for the next shortage, once a descriptor is free
    if constexpr (std::is_same_v<Acceptor, local::acceptor>) {
      if (auto why = peer_refusal(socket, group_)) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_refusal_log_ > std::chrono::seconds(10)) {
          log_warning("control: refused a client on {}: {}", settings_.unix_path, *why);
          last_refusal_log_ = now;
        }
        asio::co_spawn(io_, refuse(std::move(socket), std::move(*why)), asio::detached);
        continue;
      }
    }
    if constexpr (std::is_same_v<Acceptor, tcp::acceptor>)
      asio::co_spawn(io_, serve_tcp(std::move(socket)), asio::detached);
    else
      asio::co_spawn(io_, serve(std::move(socket), needs_token), asio::detached);
  }
}

void control_server::set_tls(std::shared_ptr<asio::ssl::context> tls) {
  if (settings_.tls && tls) settings_.tls = std::move(tls);
}

void control_server::log_tcp_refusal(const std::string& what) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_tcp_refusal_log_ < std::chrono::seconds(10)) {
    ++tcp_refusals_unlogged_;
    return;
  }
  log_warning("control: refused {}{}", what,
              tcp_refusals_unlogged_ == 0
                  ? std::string()
                  : fmt::format(" ({} more TCP client(s) refused since the last such line)", tcp_refusals_unlogged_));
  last_tcp_refusal_log_ = now;
  tcp_refusals_unlogged_ = 0;
}

asio::awaitable<bool> control_server::tls_on_plain_port(tcp::socket& socket) {
  using namespace asio::experimental::awaitable_operators;
  // A TLS client would wait for a line that never comes and time out with a puzzling message:
  // its ClientHello (a handshake record, 0x16) is recognised at once and the connection closed.
  std::array<unsigned char, 1> first{};
  asio::steady_timer timer(io_, settings_.idle_timeout);
  auto r = co_await (socket.async_receive(asio::buffer(first), tcp::socket::message_peek, use_tuple) ||
                     timer.async_wait(use_tuple));
  if (r.index() == 1 || std::get<0>(std::get<0>(r))) co_return true;  // idle or gone: nothing to serve
  if (first[0] != 0x16) co_return false;
  log_tcp_refusal(fmt::format("{} on tcp {}: it opened a TLS handshake, but agent.control_tls = false (this port "
                              "speaks plain TCP)", peer_text(socket), settings_.tcp->port()));
  co_return true;
}

asio::awaitable<bool> control_server::handshake(asio::ssl::stream<tcp::socket>& stream) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(io_, settings_.handshake_timeout);
  auto r = co_await (stream.async_handshake(asio::ssl::stream_base::server, use_tuple) || timer.async_wait(use_tuple));
  std::string why;
  if (r.index() == 1) {
    why = fmt::format("no TLS handshake within {} s", settings_.handshake_timeout.count());
  } else if (const auto [ec] = std::get<0>(r); ec) {
    const bool from_openssl = ec.category() == asio::error::get_ssl_category();
    const int reason = from_openssl ? ERR_GET_REASON(static_cast<unsigned long>(ec.value())) : 0;
    const bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    why = classify_tls_failure(reason, X509_V_OK, closed) == tls_failure::not_tls
              ? fmt::format("not TLS ({}): a plain-text client on the TLS control port?", ec.message())
              : fmt::format("TLS handshake failed: {}", ec.message());
  } else {
    co_return true;
  }
  log_tcp_refusal(fmt::format("{} on tcp {}: {}", peer_text(stream.next_layer()), settings_.tcp->port(), why));
  co_return false;
}

asio::awaitable<void> control_server::serve_tcp(tcp::socket socket) {
  if (!settings_.tls) {
    co_await serve(std::move(socket), true);
    co_return;
  }
  // The client keeps this context (and its certificate) to the end, whatever a reload brings.
  const std::shared_ptr<asio::ssl::context> tls = settings_.tls;
  co_await serve(asio::ssl::stream<tcp::socket>(std::move(socket), *tls), true);
}

asio::awaitable<void> control_server::refuse(local::socket socket, std::string why) {
  using namespace asio::experimental::awaitable_operators;
  // The answer goes first; the client's request is then read (at most one line, for at most a
  // second) before closing, so that a client still sending sees the answer, not a broken pipe.
  const std::string line = wire_line(control_fail(nullptr, {"forbidden", std::move(why)}));
  asio::steady_timer timer(io_, std::chrono::seconds(1));
  std::string in;
  co_await (asio::async_write(socket, asio::buffer(line), use_tuple) || timer.async_wait(use_tuple));
  co_await (asio::async_read_until(socket, asio::dynamic_buffer(in, control_max_line + 1), '\n', use_tuple) ||
            timer.async_wait(use_tuple));
  std::error_code ignored;
  socket.close(ignored);
}

std::shared_ptr<const std::string> control_server::push_line() {
  if (!push_line_)
    push_line_ = std::make_shared<const std::string>(
        wire_line({{"v", control_protocol_version}, {"event", "status"}, {"status", status_()}}));
  return push_line_;
}

void control_server::push_now() {
  for (client& c : clients_) {
    if (!c.subscribed) continue;
    c.push_due = true;
    if (c.waiting) c.waiting->cancel();  // its wait ends at once; the push follows
  }
}

asio::awaitable<json> control_server::answer(const control_parse_result& parsed, bool needs_token, client& c,
                                             const std::string& who) {
  if (!parsed.request) co_return control_fail(parsed.id, parsed.error);
  control_request r = *parsed.request;
  r.who = who;
  if (needs_token && !same_token(r.token, settings_.token))
    co_return control_fail(r.id, {"unauthorized", "a TCP request needs the token from agent.control_token_file"});
  if (r.command == control_command::subscribe) {
    c.subscribed = true;
    co_return control_ok(r.id, {{"status", status_()}});
  }
  if (r.command == control_command::unsubscribe) {
    c.subscribed = false;
    co_return control_ok(r.id);
  }
  co_return co_await handle_(r);
}

template <class Socket>
asio::awaitable<void> control_server::serve(Socket socket, bool needs_token) {
  using namespace asio::experimental::awaitable_operators;
  if (!admit()) {
    const std::string busy = wire_line(control_fail(nullptr, {"too_many_clients", "too many control clients"}));
    co_await asio::async_write(socket, asio::buffer(busy), use_tuple);
    co_return;
  }
  auto me = clients_.insert(clients_.end(), client{[&socket] {
                                                     std::error_code ignored;
                                                     socket.lowest_layer().close(ignored);
                                                   },
                                                   std::chrono::steady_clock::now(), false});
  const std::string who = who_is(socket);
  std::chrono::milliseconds interval = default_interval_;
  auto push_at = std::chrono::steady_clock::now();  // pushes keep their cadence however often the client asks
  asio::steady_timer timer(io_);
  std::string in;
  std::string out;
  std::shared_ptr<const std::string> pushing;  // the push being written, shared by every subscriber
  // Before the first line: a TLS client's handshake, or on plain TCP a TLS client turned away. The
  // client is in clients_ already, so that a shutdown or the client limit can close it meanwhile.
  bool refused = false;
  if constexpr (std::is_same_v<Socket, asio::ssl::stream<tcp::socket>>)
    refused = !co_await handshake(socket);
  else if constexpr (std::is_same_v<Socket, tcp::socket>)
    refused = co_await tls_on_plain_port(socket);
  try {
    while (!refused) {
      bool close_after = false;
      std::size_t eol = in.find('\n');
      if (eol == std::string::npos) {
        if (me->subscribed)
          timer.expires_at(me->push_due ? std::chrono::steady_clock::now() : push_at);
        else
          timer.expires_after(settings_.idle_timeout);
        me->waiting = &timer;
        auto r = co_await (asio::async_read_until(socket, asio::dynamic_buffer(in, control_max_line + 1), '\n',
                                                  use_tuple) ||
                           timer.async_wait(use_tuple));
        me->waiting = nullptr;
        if (r.index() == 1) {
          if (!me->subscribed) break;  // idle too long
          push_at = next_push(push_at, interval, std::chrono::steady_clock::now(), std::exchange(me->push_due, false));
          pushing = push_line();
        } else {
          auto [ec, n] = std::get<0>(r);
          if (ec == asio::error::not_found) {
            out = wire_line(control_fail(
                nullptr, {"too_long", fmt::format("a request line is at most {} bytes; closing", control_max_line)}));
            close_after = true;
          } else if (ec) {
            break;
          } else {
            eol = n - 1;
          }
        }
      }
      if (eol != std::string::npos) {
        std::string_view line(in.data(), eol);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        me->last_active = std::chrono::steady_clock::now();
        const auto parsed = parse_control_request(line);
        if (parsed.request && parsed.request->command == control_command::subscribe) {
          interval = parsed.request->interval.count() > 0 ? parsed.request->interval : default_interval_;
          push_at = std::chrono::steady_clock::now() + interval;
        }
        const json reply = co_await answer(parsed, needs_token, *me, who);
        close_after = reply.contains("error") && reply["error"]["code"] == "unauthorized";
        in.erase(0, eol + 1);
        out = wire_line(reply);
      }
      // A client that does not read its answers (or pushes) is closed, not buffered for.
      timer.expires_after(settings_.write_timeout);
      const std::string& line = pushing ? *pushing : out;
      auto w = co_await (asio::async_write(socket, asio::buffer(line), use_tuple) || timer.async_wait(use_tuple));
      pushing.reset();
      if (w.index() == 1 || std::get<0>(std::get<0>(w)) || close_after) break;
    }
  } catch (const std::exception& e) {
    log_debug("control client ended by an exception: {}", e.what());
  }
  std::error_code ignored;
  socket.lowest_layer().close(ignored);
  clients_.erase(me);
}

}  // namespace galeratop
