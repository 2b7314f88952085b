#include "tui/control_client.hpp"

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/error.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <unistd.h>

#include "agent/config/endpoint.hpp"
#include "agent/control/control_protocol.hpp"
#include "agent/control/tls_failure.hpp"

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

control_client::control_client(const std::string& target, std::string token, std::chrono::milliseconds timeout,
                               const control_tls_options& tls)
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
  if (tcp_target && tls.security != control_security::plain) start_tls(tcp_target->host, tls);
  plain_tcp_ = tcp_target && !tls_;
}

void control_client::start_tls(const std::string& host, const control_tls_options& tls) {
  tls_context_.emplace(asio::ssl::context::tls_client);
  SSL_CTX* ctx = tls_context_->native_handle();
  ::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  ::SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
  std::error_code ec;
  if (tls.security == control_security::verified) {
    // OpenSSL says "system lib" for a file it cannot open: errno says which problem it is.
    if (!tls.ca_file.empty() && ::access(tls.ca_file.c_str(), R_OK) != 0)
      throw control_unavailable(fmt::format("--ca-file {}: {}", tls.ca_file, std::strerror(errno)));
    if (tls.ca_file.empty())
      tls_context_->set_default_verify_paths(ec);
    else
      tls_context_->load_verify_file(tls.ca_file, ec);
    if (ec) {
      ::ERR_clear_error();
      throw control_unavailable(
          tls.ca_file.empty() ? fmt::format("the system's CA certificates cannot be loaded: {}", ec.message())
                              : fmt::format("--ca-file {}: no PEM certificate in it: {}", tls.ca_file, ec.message()));
    }
    tls_context_->set_verify_mode(asio::ssl::verify_peer);
  } else {
    tls_context_->set_verify_mode(asio::ssl::verify_none);
  }
  tls_.emplace(socket_, *tls_context_);
  SSL* ssl = tls_->native_handle();
  asio::error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  const bool by_address = !not_an_address;
  // The certificate must name what the operator connected to: an IP address as an IP SAN, a
  // host name as a DNS SAN (wildcards as RFC 6125 has them). OpenSSL checks it in the chain's verification.
  // SNI for a name (SSL_set_tlsext_host_name, a macro with a C cast): a server with several certificates picks.
  if (!by_address)
    ::SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
  if (tls.security == control_security::verified) {
    X509_VERIFY_PARAM* param = ::SSL_get0_param(ssl);
    const int set = by_address ? ::X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                               : ::X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (set != 1) throw control_unavailable(fmt::format("{}: cannot check a certificate for \"{}\"", target_, host));
  }
  bool done = false;
  tls_->async_handshake(asio::ssl::stream_base::client, [&](std::error_code e) {
    ec = e;
    done = true;
  });
  if (!run_until(io_, socket_, done, timeout_))
    throw control_unavailable(fmt::format("{}: no TLS handshake within {} ms (a plain control endpoint, or a "
                                          "hung agent?)", target_, timeout_.count()));
  if (!ec) return;
  const long verify = ::SSL_get_verify_result(ssl);
  const bool from_openssl = ec.category() == asio::error::get_ssl_category();
  const int reason = from_openssl ? ERR_GET_REASON(static_cast<unsigned long>(ec.value())) : 0;
  const bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
                      ec == asio::error::connection_reset;
  const auto kind = classify_tls_failure(reason, verify, closed);
  const std::string detail = verify != X509_V_OK ? ::X509_verify_cert_error_string(verify) : ec.message();
  ::ERR_clear_error();
  throw control_unavailable(tls_failure_message(target_, kind, detail, !tls.ca_file.empty()));
}

std::optional<std::string> control_client::read_line(std::chrono::milliseconds timeout) {
  std::error_code ec;
  std::size_t n = 0;
  bool done = false;
  with_stream([&](auto& stream) {
    asio::async_read_until(stream, asio::dynamic_buffer(buffer_, max_answer), '\n',
                           [&](std::error_code e, std::size_t got) {
                             ec = e;
                             n = got;
                             done = true;
                           });
  });
  if (!run_until(io_, socket_, done, timeout)) return std::nullopt;
  // A TLS record (an alert 0x15, a handshake 0x16) where a JSON line was expected: --plain was
  // given for an agent that speaks TLS, and it dropped the connection at the first byte.
  if (!tls_ && !buffer_.empty() && (buffer_[0] == '\x15' || buffer_[0] == '\x16'))
    throw control_unavailable(fmt::format("{}: the agent speaks TLS on this port: drop --plain (and give --ca-file "
                                          "with the CA that signed its certificate)", target_));
  // An agent that ends a TLS connection without close_notify (it closes after a refusal) is a close too.
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset)
    throw control_unavailable(fmt::format("galeratopd at {} closed the connection{}", target_,
                                          plain_tcp_ && !answered_ ? " (does it speak TLS? then drop --plain)" : ""));
  if (ec) throw control_unavailable(fmt::format("reading from galeratopd at {}: {}", target_, ec.message()));
  std::string line = buffer_.substr(0, n - 1);
  buffer_.erase(0, n);
  answered_ = true;
  return line;
}

nlohmann::json control_client::request(nlohmann::json req, std::optional<std::chrono::milliseconds> answer_within) {
  req["v"] = control_protocol_version;
  req["id"] = next_id_++;
  if (!token_.empty()) req["token"] = token_;
  const std::string out = req.dump() + "\n";
  std::error_code ec;
  bool done = false;
  with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(out), [&](std::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
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
