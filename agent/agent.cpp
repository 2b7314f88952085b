#include "agent/agent.hpp"

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
#include <filesystem>
#include <fmt/ranges.h>
#include <unistd.h>

#include "agent/cluster/snapshot_json.hpp"
#include "agent/config/secret_file.hpp"
#include "agent/config/tls_files.hpp"
#include "agent/control/control_server.hpp"
#include "agent/control/node_reference.hpp"
#include "agent/descriptor_limit.hpp"
#include "agent/service_manager.hpp"
#include "agent/version.hpp"
#include "balancer/net/address_text.hpp"
#include "balancer/net/resolve.hpp"
#include "balancer/core/clock.hpp"
#include "balancer/core/log.hpp"
#include "exporters/metrics_server.hpp"

namespace galeratop {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::string_view memory_file_name = "bootstrap.json";
using json = nlohmann::json;
constexpr auto memory_write_pace = std::chrono::seconds(1);  // seqnos move all the time; a second behind is enough

/// The TLS files of the TCP control endpoint.
tls_files control_tls_files(const config& c) { return {c.control_tls_cert, c.control_tls_key}; }

/// What /metrics asks of its clients, read from the files the configuration names.
std::optional<metrics_security> load_metrics_security(const config& c, std::string& error) {
  return metrics_security::load({c.metrics_tls_cert, c.metrics_tls_key}, c.metrics_basic_auth_users, error);
}

/// "https://127.0.0.1:9490/metrics (basic auth, 2 user(s))", for the log.
std::string metrics_text(const config& c, const metrics_security& security) {
  return fmt::format("{}://{}/metrics{}", security.tls ? "https" : "http", c.metrics,
                     security.users ? fmt::format(" (basic auth, {} user(s))", security.users->size()) : "");
}

}  // namespace

agent::agent(config initial, config_loader reload)
    : balancer_(io_, initial.balancer, [this](node_id) { on_drained(); }),
      reloader_(io_, balancer_, std::move(initial), std::move(reload), [this] { refresh(); }),
      publisher_(reloader_.current().cluster),
      writer_(io_, balancer_, reloader_.current(), publisher_, [this] { refresh(); }),
      intents_(io_, balancer_, reloader_.current(), publisher_, writer_, [this] { refresh(); }),
      publish_timer_(io_),
      watchdog_timer_(io_) {}

// The sync thread stops when the members go, the monitors with the reloader, both before io_;
// Connector/C (connector_, the first member) ends after them.
agent::~agent() = default;

void agent::refresh() {
  writer_.steer();  // on every change of a node's health or intent, and on the clock
  const bool memory_moved =
      publisher_.publish(balancer_, {listeners_text(), intents_.view(), writer_.view()});
  save_memory(memory_moved);
  if (control_) control_->status_changed();
  offer_sync_nodes();
}

void agent::on_drained() {
  // `drain --wait` and the screen learn it now, not at the next tick and push: the event, the
  // status and the push follow the relay's report of the last session's end within milliseconds.
  refresh();
  if (control_) control_->push_now();
}

void agent::save_memory(bool moved) {
  const auto now = mono_clock::now();
  bootstrap_memory& memory = publisher_.memory();
  if (memory_file_ && (moved || (memory.dirty() && now - memory_written_ >= memory_write_pace))) {
    memory_file_->store(memory.serialize());
    memory_written_ = now;
  }
}

void agent::offer_sync_nodes() {
  if (!sync_) return;
  std::vector<mysql_login> usable = reloader_.logins(intent_sync_nodes(balancer_.table().records()));
  if (usable == sync_nodes_) return;
  sync_nodes_ = usable;
  sync_->set_nodes(std::move(usable));
}

std::optional<std::string> agent::reload() {
  std::string error;
  auto next = reloader_.read(error);  // a refusal is logged there
  if (!next) return error;
  const config& c = next->value;
  // Certificates are renewed in place (certbot, an internal CA): the files (and the metrics users)
  // are read again at every reload, and one that does not load refuses the reload, the running
  // ones staying in use.
  std::shared_ptr<asio::ssl::context> control_tls;
  if (control_ && !c.control_tcp.empty() && c.control_tls) {
    control_tls = make_server_context(control_tls_files(c), "agent.control_tls", error);
    if (!control_tls) {
      log_error("reload refused, keeping the running configuration and certificate: {}", error);
      return error;
    }
  }
  std::optional<metrics_security> metrics_reloaded;
  if (metrics_) {
    metrics_reloaded = load_metrics_security(c, error);
    if (!metrics_reloaded) {
      log_error("reload refused, keeping the running configuration, certificate and users: {}", error);
      return error;
    }
  }
  try {
    reloader_.apply(c, next->password, intents_.store());
  } catch (const std::exception& e) {
    log_error("reload refused, keeping the running configuration: {}", e.what());
    return std::string(e.what());
  }
  publisher_.set_settings(c.cluster);
  if (metrics_reloaded) {
    log_info("metrics: new clients are served as {}", metrics_text(c, *metrics_reloaded));
    metrics_->set_security(std::move(*metrics_reloaded));
  }
  if (control_tls) {
    control_->set_tls(std::move(control_tls));
    log_info("control: new TLS clients get the certificate in {}", c.control_tls_cert);
  }
  log_info("configuration reloaded from {}: {} node(s)", c.source, balancer_.table().records().size());
  refresh();
  return std::nullopt;
}

std::optional<std::string> agent::reload_for(const std::string& who) {
  const auto refused = reload();  // logged there
  if (refused)
    publisher_.tell(event_kind::reload, {}, fmt::format("reload refused, the running configuration kept: {}", *refused),
                    who);
  else
    publisher_.tell(event_kind::reload, {},
                    fmt::format("configuration reloaded: {} node(s)", balancer_.table().records().size()), who);
  refresh();
  return refused;
}

asio::awaitable<void> agent::handle_signals() {
  asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
  for (;;) {
    auto [ec, signo] = co_await signals.async_wait(use_tuple);
    if (ec) co_return;
    if (signo == SIGHUP) {
      log_info("SIGHUP: reloading the configuration");
      service_manager::reloading();
      const auto refused = reload_for("SIGHUP");  // a refusal is logged
      service_manager::ready(refused ? fmt::format("reload refused, the running configuration kept: {}", *refused)
                                     : serving_status());
    } else if (!stopping_) {
      stopping_ = true;
      log_info("{}: no new clients; {} session(s) may finish within {}", signo == SIGTERM ? "SIGTERM" : "SIGINT",
               balancer_.session_count(), format_duration(reloader_.current().shutdown_grace));
      service_manager::stopping(fmt::format("stopping: {} session(s) may finish within {}", balancer_.session_count(),
                                            format_duration(reloader_.current().shutdown_grace)));
      asio::co_spawn(io_, shut_down(), asio::detached);
    } else {
      log_info("second stop signal: closing {} session(s) now", balancer_.session_count());
      balancer_.close_all_sessions();
    }
  }
}

asio::awaitable<void> agent::shut_down() {
  balancer_.stop_accepting();
  // A pool's sessions never end by themselves: each is closed at its next safe point, where a
  // validating pool replaces it without an error (from the next galeratopd, with socket
  // activation), rather than cut at the end of the grace. The grace still bounds the rest.
  balancer_.close_all_when_safe("behind a galeratopd that is stopping");
  asio::steady_timer poll(io_);
  const auto deadline = mono_clock::now() + reloader_.current().shutdown_grace;
  // A client the front door took off the listen queue as it closed is placed and served too.
  while ((balancer_.session_count() > 0 || balancer_.accepting()) && mono_clock::now() < deadline) {
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
  publish_timer_.cancel();
  watchdog_timer_.cancel();
  refresh();  // the last seqnos seen go to the state file before it closes
  if (control_) control_->stop();
  log_info("stopped");
  io_.stop();
}

int agent::run() {
  std::signal(SIGPIPE, SIG_IGN);
  const config& cfg = reloader_.current();
  std::string error;
  std::optional<run_as> user;
  if (!cfg.user.empty() && !(user = find_run_as(cfg.user, error))) throw std::runtime_error(error);
  auto password = read_secret_file(cfg.monitor.password_file, "monitor.password_file", error);
  if (!password) throw std::runtime_error(error);
  reloader_.set_descriptor_limit(raise_descriptor_limit());
  open_listeners();
  open_state_and_exporter();
  const config initial = cfg;
  reloader_.apply(initial, *password, intents_.store());
  start_sync();
  refresh();  // the control endpoint answers from the first moment it accepts
  open_control();
  if (user) become(*user);
  log_info("galeratopd {} listening on {} for {} node(s), policy {}, donor {}, max_connections {}{}", version,
           listeners_text(), balancer_.table().records().size(), to_string(cfg.balancer.policy),
           to_string(cfg.balancer.donors), balancer_.settings().max_connections,
           cfg.balancer.max_connections == 0 ? fmt::format(" (what {} descriptors allow)", reloader_.descriptor_limit())
                                             : "");
  if (const std::string& why = balancer_.io_backend_why(); why.empty())
    log_info("sessions are relayed with {}", balancer_.io_backend());
  else if (cfg.balancer.io == io_backend::epoll)
    log_info("sessions are relayed with {} ({})", balancer_.io_backend(), why);
  else
    log_warning("sessions are relayed with {}, the fallback: {}", balancer_.io_backend(), why);
  asio::co_spawn(io_, handle_signals(), asio::detached);
  asio::co_spawn(io_, publish_loop(), asio::detached);
  if (const auto every = service_manager::watchdog_interval()) asio::co_spawn(io_, watchdog_loop(*every), asio::detached);
  service_manager::ready(serving_status());
  io_.run();
  return 0;
}

void agent::open_listeners() {
  // Socket activation: a socket systemd holds (galeratopd.socket) keeps queueing clients while
  // galeratopd restarts, and the new one accepts them. A listener takes the passed socket bound
  // to its own address, or binds one.
  std::vector<service_manager::passed_socket> passed = service_manager::passed_sockets();
  std::string error;
  for (const listener_config& l : reloader_.current().effective_listeners()) {
    const std::string where = reloader_.current().listeners.empty() ? "agent.listen" : fmt::format("listener {}", l.name);
    auto at = resolve(io_, l.address.host, l.address.port, error);
    if (!at) throw std::runtime_error(fmt::format("{} {}: {}", where, l.address.to_string(), error));
    auto from_systemd = std::ranges::find(passed, at, &service_manager::passed_socket::listening_at);
    try {
      if (from_systemd == passed.end()) {
        balancer_.listen(l.name, l.role, l.address.to_string(), *at);
        continue;
      }
      balancer_.adopt(l.name, l.role, l.address.to_string(), from_systemd->fd, *at);
      log_info("{} {}: the listening socket systemd passed (socket activation)", where, l.address.to_string());
      passed.erase(from_systemd);
    } catch (const std::system_error& e) {
      throw std::runtime_error(fmt::format("{} {}: {}", where, l.address.to_string(), e.code().message()));
    }
  }
  for (const service_manager::passed_socket& p : passed) {
    log_warning("a socket systemd passed ({}) matches no listener of the configuration: closed",
                p.listening_at ? endpoint_text(*p.listening_at) : std::string("not a listening TCP socket"));
    ::close(p.fd);
  }
}

std::string agent::serving_status() const {
  return fmt::format("serving {} for {} node(s)", listeners_text(), balancer_.table().records().size());
}

std::string agent::listeners_text() const {
  const config& cfg = reloader_.current();
  const auto all = cfg.effective_listeners();
  if (cfg.listeners.empty()) return all.front().address.to_string();
  std::vector<std::string> parts;
  for (const listener_config& l : all)
    parts.push_back(fmt::format("{} ({} {})", l.address.to_string(), l.name, to_string(l.role)));
  return fmt::format("{}", fmt::join(parts, ", "));
}

asio::awaitable<void> agent::watchdog_loop(std::chrono::microseconds every) {
  // Also while sessions finish after SIGTERM: a graceful stop must not look like a hang.
  for (;;) {
    service_manager::watchdog();
    watchdog_timer_.expires_after(every);
    auto [ec] = co_await watchdog_timer_.async_wait(use_tuple);
    if (ec) co_return;  // cancelled at the end of shut_down
  }
}

void agent::become(const run_as& who) {
  // What galeratopd writes or owns after the drop is handed over first: the state files
  // (intents, bootstrap memory) and the control socket, which stays 0600 (or 0660 for its group).
  namespace fs = std::filesystem;
  std::vector<std::string> owned{reloader_.current().state_dir};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(reloader_.current().state_dir, ec)) owned.push_back(entry.path().string());
  if (!reloader_.current().control.empty()) owned.push_back(reloader_.current().control);
  for (const std::string& path : owned)
    if (::chown(path.c_str(), who.uid, static_cast<gid_t>(-1)) != 0)
      throw std::runtime_error(fmt::format("agent.user {}: cannot give {} to it: {}", who.name, path,
                                           std::strerror(errno)));
  std::string error;
  if (!drop_privileges(who, error)) throw std::runtime_error(error);
  log_info("running as user {} (uid {}, gid {}) from now on", who.name, who.uid, who.gid);
}

void agent::open_state_and_exporter() {
  const config& cfg = reloader_.current();
  std::string error;
  if (!state_file::prepare_directory(cfg.state_dir, error)) throw std::runtime_error(error);
  const std::string path = (std::filesystem::path(cfg.state_dir) / memory_file_name).string();
  if (auto text = state_file::read(path, error)) {
    if (publisher_.memory().restore(*text, error))
      log_info("bootstrap memory: {} node(s) remembered from {}", publisher_.memory().records().size(), path);
    else
      log_warning("bootstrap memory {} is not valid, starting without it: {}", path, error);
  } else if (!error.empty()) {
    log_warning("bootstrap memory: {}", error);
  }
  memory_file_ = std::make_unique<state_file>(path);
  intents_.restore(cfg.state_dir);
  if (!cfg.metrics.empty()) {
    error.clear();
    const endpoint where_to = *parse_endpoint(cfg.metrics);  // checked with the configuration
    const auto at = resolve(io_, where_to.host, where_to.port, error);
    if (!at) throw std::runtime_error(fmt::format("agent.metrics {}: {}", cfg.metrics, error));
    auto security = load_metrics_security(cfg, error);
    if (!security) throw std::runtime_error(error);
    const std::string where = metrics_text(cfg, *security);
    try {
      metrics_ = std::make_unique<metrics_server>(*at, publisher_.slot(), std::move(*security));
    } catch (const std::system_error& e) {
      throw std::runtime_error(fmt::format("agent.metrics {}: cannot listen: {}", cfg.metrics, e.code().message()));
    }
    log_info("metrics on {}", where);
  }
}

void agent::start_sync() {
  const config& cfg = reloader_.current();
  if (!cfg.intents.shared) return;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string agent_id =
      fmt::format("{} {} pid {}", host, cfg.effective_listeners().front().address.to_string(), ::getpid());
  // The thread only hands its reads over: the io thread applies them, the writer's first.
  sync_ = std::make_unique<sync_thread>(
      sync_settings{cfg.intents.group, agent_id, cfg.monitor.interval, cfg.has_writer_listener()},
      [this](intent_read r, std::optional<writer_read> w) {
        asio::post(io_, [this, r = std::move(r), w = std::move(w)] {
          if (balancer_.has_writer_listener()) writer_.on_read(w, r.error, r.from);
          intents_.on_read(r);
        });
      });
  writer_.start(*sync_, std::move(agent_id));
  intents_.start_sharing(*sync_);
}

json agent::status_json() const {
  const auto s = publisher_.current();
  return s ? to_json(*s) : json(nullptr);
}

asio::awaitable<void> agent::publish_loop() {
  // A fixed cadence, not one publish per observation: the cost stays flat however many nodes report.
  // On the monitors' grid (next_tick, balancer/core/clock.hpp), so that an idle agent wakes once per tick.
  for (;;) {
    const auto now = mono_clock::now();
    balancer_.expire_suspects(now);  // on the clock: a hung node's checks end a timeout apart
    balancer_.sample_queries(now);   // each node's recent query figures
    refresh();
    publish_timer_.expires_at(next_tick(mono_clock::now(), reloader_.current().monitor.interval));
    auto [ec] = co_await publish_timer_.async_wait(use_tuple);
    if (ec) co_return;  // cancelled at the end of shut_down
  }
}

void agent::open_control() {
  const config& cfg = reloader_.current();
  control_settings cs;
  cs.unix_path = cfg.control;
  cs.group = cfg.control_group;
  if (!cfg.control_tcp.empty()) {
    std::string error;
    const endpoint where_to = *parse_endpoint(cfg.control_tcp);  // checked with the configuration
    auto ep = resolve(io_, where_to.host, where_to.port, error);
    if (!ep) throw std::runtime_error(fmt::format("agent.control_tcp {}: {}", cfg.control_tcp, error));
    if (!ep->address().is_loopback())
      log_warning("agent.control_tcp {} is not a loopback address: anyone who can reach it and has the token "
                  "can drain nodes", cfg.control_tcp);
    auto token = read_secret_file(cfg.control_token_file, "agent.control_token_file", error);
    if (!token) throw std::runtime_error(error);
    if (token->size() < 16)
      throw std::runtime_error(fmt::format("agent.control_token_file {}: the token (first line) must be at least "
                                           "16 characters", cfg.control_token_file));
    cs.token = std::move(*token);
    cs.tcp = *ep;
    if (cfg.control_tls) {
      cs.tls = make_server_context(control_tls_files(cfg), "agent.control_tls", error);
      if (!cs.tls) throw std::runtime_error(error);
    }
  }
  if (cs.unix_path.empty() && !cs.tcp) return;
  control_ = std::make_unique<control_server>(
      io_, std::move(cs), [this](control_request r) { return handle_control(std::move(r)); },
      [this] { return status_json(); }, cfg.monitor.interval);
  if (!cfg.control.empty())
    log_info("control on {} (mode {})", cfg.control, cfg.control_group.empty() ? "0600" : "0660");
  if (!cfg.control_tcp.empty() && cfg.control_tls)
    log_info("control on tcp {} (TLS 1.2+, certificate {}, token required)", cfg.control_tcp,
             cfg.control_tls_cert);
  else if (!cfg.control_tcp.empty())
    log_warning("control on tcp {} WITHOUT TLS (agent.control_tls = false): the token and every request cross the "
                "network in clear; anyone who can read the traffic can drain nodes", cfg.control_tcp);
}

asio::awaitable<json> agent::handle_control(control_request r) {
  try {
    switch (r.command) {
      case control_command::status:
        co_return control_ok(r.id, {{"status", status_json()}});
      case control_command::events: {
        json events = json::array();
        for (const event& e : publisher_.events().since(r.since)) events.push_back(to_json(e));
        co_return control_ok(r.id, {{"events", std::move(events)}, {"newest", publisher_.events().newest()}});
      }
      case control_command::reload:
        if (auto error = reload_for(r.who)) co_return control_fail(r.id, {"reload_refused", *error});
        co_return control_ok(r.id, {{"nodes", balancer_.table().records().size()}});
      case control_command::writer: {
        control_error error;
        const node_record* n = find_node(balancer_.table().records(), r.node, error);
        if (!n) co_return control_fail(r.id, error);
        co_return co_await writer_.move(r, n->id);
      }
      default: {
        control_error error;
        const node_record* n = find_node(balancer_.table().records(), r.node, error);
        if (!n) co_return control_fail(r.id, error);
        co_return co_await intents_.change(r, n->id);
      }
    }
  } catch (const std::exception& e) {  // a bug must not take the endpoint down
    log_error("control {}: {}", to_string(r.command), e.what());
    co_return control_fail(r.id, {"internal", e.what()});
  }
}

}  // namespace galeratop
