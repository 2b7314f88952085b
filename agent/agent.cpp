#include "agent.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>

#include "log.hpp"
#include "version.hpp"

namespace galeratop {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

/// Resolves HOST:PORT once, at start or reload, so the data path never waits for DNS.
std::optional<asio::ip::tcp::endpoint> resolve(asio::io_context& io, const endpoint& e, std::string& error) {
  asio::ip::tcp::resolver resolver(io);
  std::error_code ec;
  auto results = resolver.resolve(e.host, std::to_string(e.port), asio::ip::tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    error = ec ? ec.message() : "no address";
    return std::nullopt;
  }
  return results.begin()->endpoint();
}
}  // namespace

std::optional<std::string> read_password_file(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = fmt::format("monitor.password_file {}: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  std::string password;
  std::getline(in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    error = fmt::format("monitor.password_file {}: the first line is empty", path);
    return std::nullopt;
  }
  return password;
}

agent::agent(config initial, config_loader reload)
    : balancer_(io_, initial.balancer), config_(std::move(initial)), loader_(std::move(reload)) {
  wsrep_monitor::init_library();
}

agent::~agent() {
  // Monitors post into io_; they must be gone before it is.
  nodes_.clear();
  retired_.clear();
  wsrep_monitor::end_library();
}

monitor_target agent::target_for(const node_config& n, const config& c, const std::string& password) const {
  return {n.address.host, n.address.port, c.monitor.user, password, c.monitor.interval, c.monitor.timeout};
}

std::unique_ptr<wsrep_monitor> agent::start_monitor(node_id id, const monitor_target& t) {
  // The one cross-thread hand-off of observations: the monitor thread posts,
  // the io thread applies. Nothing else of the balancer is touched off-thread.
  return std::make_unique<wsrep_monitor>(t, [this, id](observation obs) {
    asio::post(io_, [this, id, obs = std::move(obs)]() mutable { balancer_.observe(id, std::move(obs)); });
  });
}

void agent::apply(const config& c, const std::string& password) {
  std::vector<managed_node> next;
  for (const node_config& n : c.nodes) {
    std::string error;
    auto ep = resolve(io_, n.address, error);
    if (!ep) throw std::runtime_error(fmt::format("node {}: cannot resolve: {}", n.address.to_string(), error));
    const backend b{n.name, n.address.to_string(), *ep, n.weight};
    const monitor_target t = target_for(n, c, password);
    auto old = std::ranges::find_if(nodes_, [&](const managed_node& m) { return m.config.address == n.address; });
    managed_node m{n, 0, nullptr};
    if (old == nodes_.end()) {
      m.id = balancer_.add_node(b, c.monitor.rise);
      log_info("node {}{}: added, weight {}", n.name.empty() ? "" : n.name + " ", b.address, n.weight);
    } else {
      m.id = old->id;
      balancer_.update_node(m.id, b, c.monitor.rise);
      // A monitor keeps its connection unless how it checks has changed.
      if (target_for(old->config, config_, password_) == t) m.monitor = std::move(old->monitor);
      if (old->config.weight != n.weight) log_info("node {}: weight {} -> {}", b.address, old->config.weight, n.weight);
      nodes_.erase(old);
    }
    if (!m.monitor) m.monitor = start_monitor(m.id, t);
    next.push_back(std::move(m));
  }
  // What is left in nodes_ was removed from the configuration.
  for (managed_node& gone : nodes_) {
    log_info("node {}: removed; its open sessions continue", gone.config.address.to_string());
    balancer_.remove_node(gone.id);
    gone.monitor->request_stop();
    retired_.push_back(std::move(gone.monitor));
  }
  nodes_ = std::move(next);
  balancer_.set_settings(c.balancer);
  config_ = c;
  password_ = password;
}

void agent::reload() {
  // Monitors retired at an earlier reload ended long ago; joining them is instant.
  retired_.clear();
  config_result r = loader_();
  if (!r.value) {
    for (const auto& e : r.errors) log_error("reload refused, keeping the running configuration: {}", e.to_string());
    return;
  }
  std::string error;
  auto password = read_password_file(r.value->monitor.password_file, error);
  if (!password) {
    log_error("reload refused, keeping the running configuration: {}", error);
    return;
  }
  if (r.value->listen != config_.listen)
    log_warning("agent.listen changed to {}: it takes effect at restart; still listening on {}",
                r.value->listen.to_string(), config_.listen.to_string());
  r.value->listen = config_.listen;
  try {
    apply(*r.value, *password);
  } catch (const std::exception& e) {
    log_error("reload refused, keeping the running configuration: {}", e.what());
    return;
  }
  log_info("configuration reloaded from {}: {} node(s)", r.value->source, nodes_.size());
}

asio::awaitable<void> agent::handle_signals() {
  asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
  for (;;) {
    auto [ec, signo] = co_await signals.async_wait(use_tuple);
    if (ec) co_return;
    if (signo == SIGHUP) {
      log_info("SIGHUP: reloading the configuration");
      reload();
    } else if (!stopping_) {
      stopping_ = true;
      log_info("{}: no new clients; {} session(s) may finish within {}", signo == SIGTERM ? "SIGTERM" : "SIGINT",
               balancer_.session_count(), format_duration(config_.shutdown_grace));
      asio::co_spawn(io_, shut_down(), asio::detached);
    } else {
      log_info("second stop signal: closing {} session(s) now", balancer_.session_count());
      balancer_.close_all_sessions();
    }
  }
}

asio::awaitable<void> agent::shut_down() {
  balancer_.stop_accepting();
  asio::steady_timer poll(io_);
  const auto deadline = mono_clock::now() + config_.shutdown_grace;
  while (balancer_.session_count() > 0 && mono_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(50));
    co_await poll.async_wait(use_tuple);
  }
  if (balancer_.session_count() > 0) {
    log_info("grace over: closing {} session(s)", balancer_.session_count());
    balancer_.close_all_sessions();
    // Let the closed sessions unwind before the loop stops.
    while (balancer_.session_count() > 0) {
      poll.expires_after(std::chrono::milliseconds(10));
      co_await poll.async_wait(use_tuple);
    }
  }
  log_info("stopped");
  io_.stop();
}

int agent::run() {
  std::signal(SIGPIPE, SIG_IGN);
  std::string error;
  auto password = read_password_file(config_.monitor.password_file, error);
  if (!password) throw std::runtime_error(error);
  auto at = resolve(io_, config_.listen, error);
  if (!at) throw std::runtime_error(fmt::format("agent.listen {}: {}", config_.listen.to_string(), error));
  try {
    balancer_.listen(*at);
  } catch (const std::system_error& e) {
    throw std::runtime_error(fmt::format("agent.listen {}: {}", config_.listen.to_string(), e.code().message()));
  }
  const config initial = config_;
  apply(initial, *password);
  if (!config_.control.empty() || !config_.metrics.empty())
    log_info("agent.control and agent.metrics are accepted but not served by this version");
  log_info("galeratopd {} listening on {} for {} node(s), policy {}, donor {}", version, config_.listen.to_string(),
           nodes_.size(), config_.balancer.policy == balance_policy::leastconn ? "leastconn" : "roundrobin",
           config_.balancer.donors == donor_policy::avoid ? "avoid" : "serve");
  asio::co_spawn(io_, handle_signals(), asio::detached);
  io_.run();
  return 0;
}

}  // namespace galeratop
